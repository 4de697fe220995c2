//! Events on SQLite: `seq` is the rowid, so the single writer numbers them in commit order.

use super::*;

use baton_sql::EVENT_COLS;

pub(crate) fn event_row(r: &Row) -> rusqlite::Result<Event> {
    Ok(Event {
        seq: r.get(0)?,
        time: Timestamp(r.get(1)?),
        project: r.get(2)?,
        agent: r.get(3)?,
        session_id: r.get::<_, Option<String>>(4)?.map(Into::into),
        kind: r.get(5)?,
        target: r.get(6)?,
        data: json_col(7, r.get(7)?)?,
    })
}

pub(crate) fn event_filter(q: &EventQuery) -> Filter {
    let mut f = Filter::default();
    if let Some(p) = &q.project {
        f.eq("project", p.clone());
    }
    let p = f.param(q.after_seq);
    f.raw(format!("seq > {p}"));
    if let Some(a) = &q.agent {
        f.eq("agent", a.clone());
    }
    if let Some(k) = &q.kind {
        let condition = baton_sql::kind_condition(k, |v| f.param(v));
        f.raw(condition);
    }
    for k in &q.exclude_kinds {
        let p = f.param(k.clone());
        f.raw(format!("kind <> {p}"));
    }
    if let Some(s) = &q.exclude_session {
        let p = f.param(s.to_string());
        f.raw(format!("(session_id IS NULL OR session_id <> {p})"));
    }
    f
}

impl EventTx for SqliteTx<'_> {
    fn append_event(&mut self, e: &NewEvent) -> Result<()> {
        self.exec(
            "INSERT INTO events (time, project, agent, session_id, kind, target, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![e.time.0, e.project, e.agent, e.session_id.as_deref(), e.kind, e.target, to_json(&e.data)?],
        )?;
        Ok(())
    }

    fn events(&mut self, q: &EventQuery) -> Result<Vec<Event>> {
        let f = event_filter(q);
        let order = if q.newest_first { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {EVENT_COLS} FROM events{} ORDER BY seq {order} LIMIT {}",
            f.sql(),
            q.limit
        );
        self.query(&sql, &f.params, event_row)
    }

    fn count_events(&mut self, q: &EventQuery, cap: u32) -> Result<u64> {
        let f = event_filter(q);
        let sql = format!("SELECT count(*) FROM (SELECT 1 FROM events{} LIMIT {cap})", f.sql());
        let mut stmt = self.tx.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let n: i64 = stmt
            .query_row(rusqlite::params_from_iter(f.params.iter()), |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(n as u64)
    }

    fn first_seq_since(&mut self, project: &str, time: Timestamp) -> Result<Option<i64>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT seq FROM events WHERE project = ?1 AND time >= ?2 ORDER BY time, seq LIMIT 1")
            .map_err(|e| self.err(e))?;
        stmt.query_row(params![project, time.0], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    fn last_seq(&mut self) -> Result<i64> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM events")
            .map_err(|e| self.err(e))?;
        stmt.query_row([], |r| r.get(0)).map_err(|e| self.err(e))
    }
}
