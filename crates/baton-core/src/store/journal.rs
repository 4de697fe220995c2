//! Journal entries: what sessions logged.

use crate::error::Result;
use crate::model::{EntryKind, JournalEntry, SessionId, SessionStatus};

/// Which journal entries to list. Results are newest `created_at` first, ties by id, highest first.
#[derive(Debug, Clone, Default)]
pub struct EntryQuery {
    pub session_id: Option<SessionId>,
    /// Entries of sessions in this project.
    pub project: Option<String>,
    /// Entries of sessions whose status is one of these, with or without `project`. Empty means any.
    pub session_statuses: Vec<SessionStatus>,
    /// Empty means any kind.
    pub kinds: Vec<EntryKind>,
    pub limit: Option<u32>,
}

/// The journal entries of sessions. Part of [`super::Tx`].
pub trait JournalTx {
    fn insert_entry(&mut self, entry: &JournalEntry) -> Result<()>;
    fn entries(&mut self, query: &EntryQuery) -> Result<Vec<JournalEntry>>;
}
