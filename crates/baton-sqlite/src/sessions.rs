//! Sessions on SQLite.

use super::*;

use baton_sql::SESSION_COLS;

pub(crate) fn session_row(r: &Row) -> rusqlite::Result<Session> {
    Ok(Session {
        id: r.get::<_, String>(0)?.into(),
        project: r.get(1)?,
        agent: r.get(2)?,
        name: r.get(3)?,
        role: r.get(4)?,
        context: r.get(5)?,
        task_ids: json_col(6, r.get(6)?)?,
        status: parse_col::<SessionStatus>(7, r.get(7)?)?,
        stale: false,
        git_branch: r.get(8)?,
        git_commit: r.get(9)?,
        worktree: r.get(10)?,
        created_at: Timestamp(r.get(11)?),
        updated_at: Timestamp(r.get(12)?),
        last_seen: Timestamp(r.get(13)?),
        ended_at: r.get::<_, Option<i64>>(14)?.map(Timestamp),
        compaction_count: r.get(15)?,
        summary: r.get(16)?,
        handoff: r.get::<_, Option<String>>(17)?.map(|h| json_col(17, h)).transpose()?,
    })
}

/// Whether `statuses` asks for open sessions only (none, for any status, is not).
pub(crate) fn only_open(statuses: &[SessionStatus]) -> bool {
    !statuses.is_empty() && statuses.iter().all(|s| !s.is_ended())
}

pub(crate) fn sessions_query(q: &SessionQuery) -> (String, Vec<SqlValue>) {
    let mut f = Filter::default();
    if let Some(p) = &q.project {
        f.eq("project", p.clone());
    }
    if let Some(a) = &q.agent {
        f.eq("agent", a.clone());
    }
    let statuses: Vec<&str> = q.statuses.iter().map(|s| s.as_str()).collect();
    f.within("status", &statuses);
    if let Some(t) = q.last_seen_before {
        let p = f.param(t.0);
        f.raw(format!("last_seen < {p}"));
    }
    if let Some(x) = &q.exclude_id {
        let p = f.param(x.to_string());
        f.raw(format!("id <> {p}"));
    }
    // Open sessions are few and ended ones pile up: a query for open sessions goes through the status index,
    // which the planner would otherwise pass over for one that spares a sort but walks every session the
    // project or agent ever had.
    let index = if q.project.is_some() && only_open(&q.statuses) {
        " INDEXED BY sessions_by_project_status"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {SESSION_COLS} FROM sessions{index}{} ORDER BY updated_at DESC, id DESC{}",
        f.sql(),
        limit_sql(q.limit)
    );
    (sql, f.params)
}

impl SessionTx for SqliteTx<'_> {
    fn insert_session(&mut self, s: &Session) -> Result<()> {
        self.exec(
            &format!("INSERT INTO sessions ({SESSION_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"),
            params![
                s.id.as_str(), s.project, s.agent, s.name, s.role, s.context, to_json(&s.task_ids)?, s.status.as_str(),
                s.git_branch, s.git_commit, s.worktree, s.created_at.0, s.updated_at.0, s.last_seen.0,
                s.ended_at.map(|t| t.0), s.compaction_count, s.summary,
                s.handoff.as_ref().map(to_json).transpose()?
            ],
        )?;
        Ok(())
    }

    fn update_session(&mut self, s: &Session) -> Result<()> {
        let n = self.exec(
            "UPDATE sessions SET name = ?2, role = ?3, context = ?4, task_ids = ?5, status = ?6, git_branch = ?7, git_commit = ?8, worktree = ?9, updated_at = ?10, last_seen = ?11, ended_at = ?12, compaction_count = ?13, summary = ?14, handoff = ?15 WHERE id = ?1",
            params![
                s.id.as_str(), s.name, s.role, s.context, to_json(&s.task_ids)?, s.status.as_str(), s.git_branch,
                s.git_commit, s.worktree, s.updated_at.0, s.last_seen.0, s.ended_at.map(|t| t.0),
                s.compaction_count, s.summary, s.handoff.as_ref().map(to_json).transpose()?
            ],
        )?;
        if n == 0 {
            return Err(baton_sql::no_session_to_update(&s.id));
        }
        Ok(())
    }

    fn session(&mut self, id: &str) -> Result<Option<Session>> {
        let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE id = ?1");
        let mut stmt = self.tx.prepare_cached(&sql).map_err(|e| self.err(e))?;
        stmt.query_row([id], session_row).optional().map_err(|e| self.err(e))
    }

    fn sessions(&mut self, q: &SessionQuery) -> Result<Vec<Session>> {
        let (sql, params) = sessions_query(q);
        self.query(&sql, &params, session_row)
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
            &[SqlValue::Text(key.to_string()), SqlValue::Integer(i64::from(limit))],
            |r| r.get(0),
        )
    }
}
