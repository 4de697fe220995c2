//! Sessions on PostgreSQL.

use super::*;

use baton_sql::{Filter, Placeholder, SESSION_COLS, insert_sql, one_of};

/// The query behind `sessions`, without its lock clause.
pub(super) fn sessions_sql(q: &SessionQuery) -> (String, Filter) {
    let mut f = Filter::new(Placeholder::Dollar);
    if let Some(v) = &q.id {
        f.eq("id", v.as_str());
    }
    if let Some(v) = &q.project {
        f.eq("project", v.as_str());
    }
    if let Some(v) = &q.agent {
        f.eq("agent", v.as_str());
    }
    if !q.statuses.is_empty() {
        f.and(one_of("status", q.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(t) = q.last_seen_before {
        let p = f.param(t);
        f.and(format!("last_seen < {p}"));
    }
    if let Some(v) = &q.exclude_id {
        let p = f.param(v.as_str());
        f.and(format!("id <> {p}"));
    }
    let mut sql = format!(
        "SELECT {SESSION_COLS} FROM sessions{} ORDER BY updated_at DESC, id DESC",
        f.sql()
    );
    sql.push_str(&f.limit(q.limit));
    (sql, f)
}

impl SessionTx for PgTx<'_> {
    fn insert_session(&mut self, s: &Session) -> Result<()> {
        let values = params(&baton_sql::session_values(s)?);
        self.execute(
            "record a session",
            &insert_sql(Placeholder::Dollar, "sessions", SESSION_COLS),
            &refs(&values),
        )?;
        Ok(())
    }

    fn update_session(&mut self, s: &Session) -> Result<()> {
        let values = params(&baton_sql::update_session_values(s)?);
        let n = self.execute(
            "update a session",
            &baton_sql::update_session_sql(Placeholder::Dollar),
            &refs(&values),
        )?;
        if n == 0 {
            return Err(baton_sql::no_session_to_update(&s.id));
        }
        Ok(())
    }

    fn session(&mut self, id: &str) -> Result<Option<Session>> {
        let sql = format!(
            "SELECT {SESSION_COLS} FROM sessions WHERE id = $1{}",
            self.lock_clause()
        );
        let rows = self.query("read a session", &sql, &[&id])?;
        rows.first().map(|r| baton_sql::session(&PgRow(r))).transpose()
    }

    fn sessions(&mut self, q: &SessionQuery) -> Result<Vec<Session>> {
        let (mut sql, f) = sessions_sql(q);
        if !q.unlocked {
            sql.push_str(self.lock_clause());
        }
        self.query("list sessions", &sql, &refs(&params(&f.params)))?
            .iter()
            .map(|r| baton_sql::session(&PgRow(r)))
            .collect()
    }

    fn project_keys(&mut self, key: &str, before: bool, limit: u32) -> Result<Vec<String>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // A loose index scan (PostgreSQL has no skip scan): each step seeks the next key past the last one,
        // so the sessions of a project are never walked.
        let (next, past) = if before { ("max", "<") } else { ("min", ">") };
        self.query(
            "list the known projects",
            &format!(
                "WITH RECURSIVE keys(k, n) AS (
                     SELECT {next}(project), 1::bigint FROM sessions WHERE project {past} $1
                     UNION ALL
                     SELECT (SELECT {next}(project) FROM sessions WHERE project {past} keys.k), n + 1 FROM keys
                     WHERE keys.k IS NOT NULL AND n < $2
                 )
                 SELECT k FROM keys WHERE k IS NOT NULL"
            ),
            &[&key, &i64::from(limit)],
        )?
        .iter()
        .map(|row| col(row, 0))
        .collect()
    }
}
