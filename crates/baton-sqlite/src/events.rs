//! Events on SQLite: `seq` is the rowid, so the single writer numbers them in commit order.

use super::*;

use baton_sql::EVENT_COLS;

pub(crate) fn event_filter(q: &EventQuery) -> Filter {
    let mut f = filter();
    if let Some(p) = &q.project {
        f.eq("project", p.as_str());
    }
    let p = f.param(q.after_seq);
    f.and(format!("seq > {p}"));
    if let Some(a) = &q.agent {
        f.eq("agent", a.as_str());
    }
    if let Some(k) = &q.kind {
        let condition = baton_sql::kind_condition(k, |v| f.param(v));
        f.and(condition);
    }
    for k in &q.exclude_kinds {
        let p = f.param(k.as_str());
        f.and(format!("kind <> {p}"));
    }
    if let Some(s) = &q.exclude_session {
        let p = f.param(s.as_str());
        f.and(format!("(session_id IS NULL OR session_id <> {p})"));
    }
    f
}

impl EventTx for SqliteTx<'_> {
    fn append_event(&mut self, e: &NewEvent) -> Result<()> {
        self.exec(
            &insert_sql(Placeholder::Question, "events", baton_sql::NEW_EVENT_COLS),
            bind(&baton_sql::new_event_values(e)?),
        )?;
        Ok(())
    }

    fn events(&mut self, q: &EventQuery) -> Result<Vec<Event>> {
        let mut f = event_filter(q);
        let order = if q.newest_first { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {EVENT_COLS} FROM events{} ORDER BY seq {order}{}",
            f.sql(),
            f.limit(Some(q.limit))
        );
        self.query(&sql, &f.params, baton_sql::event)
    }

    fn count_events(&mut self, q: &EventQuery, cap: u32) -> Result<u64> {
        let mut f = event_filter(q);
        let sql = format!(
            "SELECT count(*) FROM (SELECT 1 FROM events{}{})",
            f.sql(),
            f.limit(Some(cap))
        );
        let mut stmt = self.tx.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let n: i64 = stmt.query_row(bind(&f.params), |r| r.get(0)).map_err(|e| self.err(e))?;
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
