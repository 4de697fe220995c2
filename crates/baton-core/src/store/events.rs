//! Events: the append-only activity log, numbered by `seq`.

use crate::error::Result;
use crate::model::{Event, NewEvent, SessionId};
use crate::time::Timestamp;

/// Which events to list. Results are in `seq` order, oldest first, unless `newest_first`.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub project: Option<String>,
    /// Only events with `seq > after_seq`.
    pub after_seq: i64,
    pub agent: Option<String>,
    /// An exact kind when it has a dot (`claim.granted`); else a family: `claim` matches `claim` and every
    /// `claim.*`. Compared as written: case counts, and no character is a wildcard.
    pub kind: Option<String>,
    /// Leave out events of these kinds.
    pub exclude_kinds: Vec<String>,
    /// Leave out events of this session (events of no session stay).
    pub exclude_session: Option<SessionId>,
    pub newest_first: bool,
    pub limit: u32,
}

/// The activity log. Part of [`super::Tx`].
pub trait EventTx {
    /// Appends an event; it commits with the transaction. Readers must never see an event while one with a
    /// lower `seq` can still commit, so that paging by `seq > cursor` never skips one.
    fn append_event(&mut self, event: &NewEvent) -> Result<()>;
    fn events(&mut self, query: &EventQuery) -> Result<Vec<Event>>;
    /// Counts matching events, stopping at `cap` (the query's `limit` plays no part).
    fn count_events(&mut self, query: &EventQuery, cap: u32) -> Result<u64>;
    /// The `seq` of this project's first event at or after `time` (an indexed lookup, not a scan), if any.
    fn first_seq_since(&mut self, project: &str, time: Timestamp) -> Result<Option<i64>>;
    /// The highest committed `seq` in the store (0 when empty).
    fn last_seq(&mut self) -> Result<i64>;
}
