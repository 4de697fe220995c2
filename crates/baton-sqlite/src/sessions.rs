//! Sessions on SQLite.

use super::*;

use baton_sql::SESSION_COLS;

/// Whether `statuses` asks for open sessions only (none, for any status, is not).
pub(crate) fn only_open(statuses: &[SessionStatus]) -> bool {
    !statuses.is_empty() && statuses.iter().all(|s| !s.is_ended())
}

pub(crate) fn sessions_query(q: &SessionQuery) -> (String, Vec<Value>) {
    let mut f = filter();
    if let Some(id) = &q.id {
        f.eq("id", id.as_str());
    }
    if let Some(p) = &q.project {
        f.eq("project", p.as_str());
    }
    if let Some(a) = &q.agent {
        f.eq("agent", a.as_str());
    }
    let statuses: Vec<&str> = q.statuses.iter().map(|s| s.as_str()).collect();
    f.within("status", &statuses);
    if let Some(t) = q.last_seen_before {
        let p = f.param(t);
        f.and(format!("last_seen < {p}"));
    }
    if let Some(x) = &q.exclude_id {
        let p = f.param(x.as_str());
        f.and(format!("id <> {p}"));
    }
    // Open sessions are few and ended ones pile up: a query for open sessions goes through the status index,
    // which the planner would otherwise pass over for one that spares a sort but walks every session the
    // project or agent ever had.
    let index = if q.project.is_some() && only_open(&q.statuses) {
        " INDEXED BY sessions_by_project_status"
    } else {
        ""
    };
    let mut sql = format!(
        "SELECT {SESSION_COLS} FROM sessions{index}{} ORDER BY updated_at DESC, id DESC",
        f.sql()
    );
    sql.push_str(&f.limit(q.limit));
    (sql, f.params)
}

impl SessionTx for SqliteTx<'_> {
    fn insert_session(&mut self, s: &Session) -> Result<()> {
        self.exec(
            &insert_sql(Placeholder::Question, "sessions", SESSION_COLS),
            bind(&baton_sql::session_values(s)?),
        )?;
        Ok(())
    }

    fn update_session(&mut self, s: &Session) -> Result<()> {
        let n = self.exec(
            &baton_sql::update_session_sql(Placeholder::Question),
            bind(&baton_sql::update_session_values(s)?),
        )?;
        if n == 0 {
            return Err(baton_sql::no_session_to_update(&s.id));
        }
        Ok(())
    }

    fn session(&mut self, id: &str) -> Result<Option<Session>> {
        let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE id = ?1");
        Ok(self
            .query(&sql, &[Value::from(id)], baton_sql::session)?
            .into_iter()
            .next())
    }

    fn sessions(&mut self, q: &SessionQuery) -> Result<Vec<Session>> {
        let (sql, params) = sessions_query(q);
        self.query(&sql, &params, baton_sql::session)
    }

    fn project_keys(&mut self, key: &str, before: bool, limit: u32) -> Result<Vec<String>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // A loose index scan: each step seeks the next key past the last one, so the sessions of a project
        // are never walked.
        let (next, past) = if before { ("max", "<") } else { ("min", ">") };
        self.query(
            &format!(
                "WITH RECURSIVE keys(k, n) AS (
                     SELECT {next}(project), 1 FROM sessions WHERE project {past} ?1
                     UNION ALL
                     SELECT (SELECT {next}(project) FROM sessions WHERE project {past} keys.k), n + 1 FROM keys
                     WHERE keys.k IS NOT NULL AND n < ?2
                 )
                 SELECT k FROM keys WHERE k IS NOT NULL"
            ),
            &[Value::from(key), Value::Int(i64::from(limit))],
            |r| match r.value(0)? {
                Value::Text(t) => Ok(t),
                other => Err(Error::internal(format!("a project key is not text: {other:?}"))),
            },
        )
    }
}
