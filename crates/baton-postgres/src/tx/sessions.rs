//! Sessions on PostgreSQL.

use super::*;

use baton_sql::{SESSION_COLS, one_of};

/// The query behind `sessions`, without its lock clause.
pub(super) fn sessions_sql(q: &SessionQuery) -> (String, Params) {
    let mut p = Params::default();
    let mut w = Where::default();
    if let Some(v) = &q.project {
        w.and(format!("project = {}", p.push(v.clone())));
    }
    if let Some(v) = &q.agent {
        w.and(format!("agent = {}", p.push(v.clone())));
    }
    if !q.statuses.is_empty() {
        w.and(one_of("status", q.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(t) = q.last_seen_before {
        w.and(format!("last_seen < {}", p.push(t.micros())));
    }
    if let Some(v) = &q.exclude_id {
        w.and(format!("id <> {}", p.push(v.to_string())));
    }
    let mut sql = format!(
        "SELECT {SESSION_COLS} FROM sessions{} ORDER BY updated_at DESC, id DESC",
        w.sql()
    );
    if let Some(l) = q.limit {
        sql.push_str(&format!(" LIMIT {}", p.push(i64::from(l))));
    }
    (sql, p)
}

pub(super) fn session_from_row(row: &Row) -> Result<Session> {
    Ok(Session {
        id: col::<String>(row, 0)?.into(),
        project: col(row, 1)?,
        agent: col(row, 2)?,
        name: col(row, 3)?,
        role: col(row, 4)?,
        context: col(row, 5)?,
        task_ids: json_col(row, 6, |t| serde_json::from_str::<Vec<String>>(t))?.unwrap_or_default(),
        status: parse_col(row, 7)?,
        stale: false,
        git_branch: col(row, 8)?,
        git_commit: col(row, 9)?,
        worktree: col(row, 10)?,
        created_at: Timestamp(col(row, 11)?),
        updated_at: Timestamp(col(row, 12)?),
        last_seen: Timestamp(col(row, 13)?),
        ended_at: col::<Option<i64>>(row, 14)?.map(Timestamp),
        compaction_count: col(row, 15)?,
        summary: col(row, 16)?,
        handoff: json_col(row, 17, |t| serde_json::from_str::<Handoff>(t))?,
    })
}

impl SessionTx for PgTx<'_> {
    fn insert_session(&mut self, s: &Session) -> Result<()> {
        let task_ids = serde_json::to_string(&s.task_ids).map_err(encode_error)?;
        let handoff = s
            .handoff
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(encode_error)?;
        let ended_at = s.ended_at.map(Timestamp::micros);
        self.execute(
            "record a session",
            "INSERT INTO sessions (id, project, agent, name, role, context, task_ids, status, git_branch, git_commit,
                 worktree, created_at, updated_at, last_seen, ended_at, compaction_count, summary, handoff)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            &[
                &s.id.as_str(),
                &s.project,
                &s.agent,
                &s.name,
                &s.role,
                &s.context,
                &task_ids,
                &s.status.as_str(),
                &s.git_branch,
                &s.git_commit,
                &s.worktree,
                &s.created_at.0,
                &s.updated_at.0,
                &s.last_seen.0,
                &ended_at,
                &s.compaction_count,
                &s.summary,
                &handoff,
            ],
        )?;
        Ok(())
    }

    fn update_session(&mut self, s: &Session) -> Result<()> {
        let task_ids = serde_json::to_string(&s.task_ids).map_err(encode_error)?;
        let handoff = s
            .handoff
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(encode_error)?;
        let ended_at = s.ended_at.map(Timestamp::micros);
        let n = self.execute(
            "update a session",
            "UPDATE sessions SET name = $2, role = $3, context = $4, task_ids = $5, status = $6, git_branch = $7,
                 git_commit = $8, worktree = $9, updated_at = $10, last_seen = $11, ended_at = $12,
                 compaction_count = $13, summary = $14, handoff = $15
             WHERE id = $1",
            &[
                &s.id.as_str(),
                &s.name,
                &s.role,
                &s.context,
                &task_ids,
                &s.status.as_str(),
                &s.git_branch,
                &s.git_commit,
                &s.worktree,
                &s.updated_at.0,
                &s.last_seen.0,
                &ended_at,
                &s.compaction_count,
                &s.summary,
                &handoff,
            ],
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
        rows.first().map(session_from_row).transpose()
    }

    fn sessions(&mut self, q: &SessionQuery) -> Result<Vec<Session>> {
        let (mut sql, p) = sessions_sql(q);
        sql.push_str(self.lock_clause());
        self.query("list sessions", &sql, &p.refs())?
            .iter()
            .map(session_from_row)
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
