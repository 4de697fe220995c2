//! Sessions: one agent's unit of work each.

use crate::error::Result;
use crate::model::{Session, SessionId, SessionStatus};
use crate::time::Timestamp;

/// Which sessions to list. Results are newest `updated_at` first, ties by id, highest first. Filters combine.
#[derive(Debug, Clone, Default)]
pub struct SessionQuery {
    /// The session with this id (with `unlocked`, a read of it that locks nothing).
    pub id: Option<SessionId>,
    pub project: Option<String>,
    pub agent: Option<String>,
    /// Empty means any status.
    pub statuses: Vec<SessionStatus>,
    /// Only sessions whose `last_seen` is before this time.
    pub last_seen_before: Option<Timestamp>,
    pub exclude_id: Option<SessionId>,
    pub limit: Option<u32>,
    /// Only to know who is there: in a write transaction, the rows read are not locked (a store that locks
    /// what a write transaction reads otherwise locks them until commit).
    pub unlocked: bool,
}

/// Sessions, and the projects that have them. Part of [`super::Tx`].
pub trait SessionTx {
    fn insert_session(&mut self, session: &Session) -> Result<()>;
    /// Overwrites the mutable fields of the session with this id (all but project, agent and `created_at`).
    /// When there is none, [`crate::Error::NotFound`].
    fn update_session(&mut self, session: &Session) -> Result<()>;
    /// The session with this id; in a write transaction it stays locked until commit.
    fn session(&mut self, id: &str) -> Result<Option<Session>>;
    /// In a write transaction the sessions read stay locked until commit, unless the query is `unlocked`.
    fn sessions(&mut self, query: &SessionQuery) -> Result<Vec<Session>>;
    /// Up to `limit` keys of projects that have a session, nearest `key` first: those after it in key order,
    /// or with `before` those before it, backwards; never `key` itself, each key once. One index seek per
    /// key, however many sessions each has.
    fn project_keys(&mut self, key: &str, before: bool, limit: u32) -> Result<Vec<String>>;
}
