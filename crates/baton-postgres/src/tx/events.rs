//! Events on PostgreSQL: buffered until commit, read up to the horizon.

use super::*;

use baton_sql::{EVENT_COLS, Filter, Placeholder};

/// The WHERE clause shared by `events` and `count_events`; nothing past the horizon, when there is one.
pub(super) fn event_filter(q: &EventQuery, horizon: Option<i64>) -> Filter {
    let mut f = Filter::new(Placeholder::Dollar);
    if let Some(v) = &q.project {
        f.eq("project", v.as_str());
    }
    let p = f.param(q.after_seq);
    f.and(format!("seq > {p}"));
    if let Some(h) = horizon {
        let p = f.param(h);
        f.and(format!("seq <= {p}"));
    }
    if let Some(v) = &q.agent {
        f.eq("agent", v.as_str());
    }
    if let Some(k) = &q.kind {
        let condition = baton_sql::kind_condition(k, |v| f.param(v));
        f.and(condition);
    }
    for k in &q.exclude_kinds {
        let p = f.param(k.as_str());
        f.and(format!("kind <> {p}"));
    }
    if let Some(v) = &q.exclude_session {
        let p = f.param(v.as_str());
        f.and(format!("session_id IS DISTINCT FROM {p}"));
    }
    f
}

impl EventTx for PgTx<'_> {
    /// Buffers the event; it is numbered and inserted at commit (see `flush_events`).
    ///
    /// So `events`, `count_events` and `last_seq` in the same transaction do not see it. The rules read
    /// events in a write transaction only for the digest at session start and resume, which leaves out the
    /// caller's own session's events anyway; other events that transaction appends (sweeps) are counted
    /// by the next reader.
    fn append_event(&mut self, event: &NewEvent) -> Result<()> {
        if !self.write {
            return Err(Error::internal("cannot record an event in a read-only transaction"));
        }
        self.pending.push(event.clone());
        Ok(())
    }

    fn events(&mut self, q: &EventQuery) -> Result<Vec<Event>> {
        let horizon = self.event_horizon()?;
        if horizon.is_some_and(|h| q.after_seq >= h) {
            return Ok(Vec::new());
        }
        let mut f = event_filter(q, horizon);
        let order = if q.newest_first { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {EVENT_COLS} FROM events{} ORDER BY seq {order}{}",
            f.sql(),
            f.limit(Some(q.limit))
        );
        self.query("list events", &sql, &refs(&params(&f.params)))?
            .iter()
            .map(|r| baton_sql::event(&PgRow(r)))
            .collect()
    }

    fn count_events(&mut self, q: &EventQuery, cap: u32) -> Result<u64> {
        let horizon = self.event_horizon()?;
        if horizon.is_some_and(|h| q.after_seq >= h) {
            return Ok(0);
        }
        let mut f = event_filter(q, horizon);
        let sql = format!(
            "SELECT count(*) FROM (SELECT 1 FROM events{}{}) capped",
            f.sql(),
            f.limit(Some(cap))
        );
        let rows = self.query("count events", &sql, &refs(&params(&f.params)))?;
        let n: i64 = match rows.first() {
            Some(row) => col(row, 0)?,
            None => 0,
        };
        Ok(n.max(0) as u64)
    }

    fn first_seq_since(&mut self, project: &str, time: Timestamp) -> Result<Option<i64>> {
        let rows = match self.event_horizon()? {
            Some(h) => self.query(
                "find the first event since a time",
                "SELECT seq FROM events WHERE project = $1 AND time >= $2 AND seq <= $3 ORDER BY time, seq LIMIT 1",
                &[&project, &time.0, &h],
            )?,
            None => self.query(
                "find the first event since a time",
                "SELECT seq FROM events WHERE project = $1 AND time >= $2 ORDER BY time, seq LIMIT 1",
                &[&project, &time.0],
            )?,
        };
        match rows.first() {
            Some(row) => col(row, 0),
            None => Ok(None),
        }
    }

    /// In a read transaction, the horizon: the highest committed seq, and no lower one can commit later.
    fn last_seq(&mut self) -> Result<i64> {
        if let Some(h) = self.event_horizon()? {
            return Ok(h);
        }
        let rows = self.query(
            "read the last event seq",
            "SELECT coalesce(max(seq), 0) FROM events",
            &[],
        )?;
        match rows.first() {
            Some(row) => col(row, 0),
            None => Ok(0),
        }
    }
}
