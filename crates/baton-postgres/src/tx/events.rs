//! Events on PostgreSQL: buffered until commit, read up to the horizon.

use super::*;

use baton_sql::EVENT_COLS;

/// The WHERE clause shared by `events` and `count_events`; nothing past the horizon, when there is one.
pub(super) fn event_filter(q: &EventQuery, horizon: Option<i64>, p: &mut Params) -> Where {
    let mut w = Where::default();
    if let Some(v) = &q.project {
        w.and(format!("project = {}", p.push(v.clone())));
    }
    w.and(format!("seq > {}", p.push(q.after_seq)));
    if let Some(h) = horizon {
        w.and(format!("seq <= {}", p.push(h)));
    }
    if let Some(v) = &q.agent {
        w.and(format!("agent = {}", p.push(v.clone())));
    }
    if let Some(k) = &q.kind {
        w.and(baton_sql::kind_condition(k, |v| p.push(v)));
    }
    if !q.exclude_kinds.is_empty() {
        w.and(format!("kind <> ALL({})", p.push(q.exclude_kinds.clone())));
    }
    if let Some(v) = &q.exclude_session {
        w.and(format!("session_id IS DISTINCT FROM {}", p.push(v.to_string())));
    }
    w
}

pub(super) fn event_from_row(row: &Row) -> Result<Event> {
    Ok(Event {
        seq: col(row, 0)?,
        time: Timestamp(col(row, 1)?),
        project: col(row, 2)?,
        agent: col(row, 3)?,
        session_id: col::<Option<String>>(row, 4)?.map(Into::into),
        kind: col(row, 5)?,
        target: col(row, 6)?,
        data: json_col(row, 7, |t| serde_json::from_str::<serde_json::Value>(t))?.unwrap_or(serde_json::Value::Null),
    })
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
        let mut p = Params::default();
        let w = event_filter(q, horizon, &mut p);
        let order = if q.newest_first { "DESC" } else { "ASC" };
        let limit = p.push(i64::from(q.limit));
        let sql = format!(
            "SELECT {EVENT_COLS} FROM events{} ORDER BY seq {order} LIMIT {limit}",
            w.sql()
        );
        self.query("list events", &sql, &p.refs())?
            .iter()
            .map(event_from_row)
            .collect()
    }

    fn count_events(&mut self, q: &EventQuery, cap: u32) -> Result<u64> {
        let horizon = self.event_horizon()?;
        if horizon.is_some_and(|h| q.after_seq >= h) {
            return Ok(0);
        }
        let mut p = Params::default();
        let w = event_filter(q, horizon, &mut p);
        let cap = p.push(i64::from(cap));
        let sql = format!(
            "SELECT count(*) FROM (SELECT 1 FROM events{} LIMIT {cap}) capped",
            w.sql()
        );
        let rows = self.query("count events", &sql, &p.refs())?;
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
