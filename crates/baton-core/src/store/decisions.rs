//! Decisions: the project's decision entries, and which decision replaced which.

use crate::error::Result;
use crate::model::{EntryId, JournalEntry};
use crate::time::Timestamp;

/// Which decisions to list. Results are newest `created_at` first, ties by id, highest first.
#[derive(Debug, Clone, Default)]
pub struct DecisionQuery {
    /// Decisions of sessions in this project.
    pub project: String,
    /// Only decisions made at or after this time.
    pub since: Option<Timestamp>,
    /// Only decisions whose text or rationale holds every one of these words (as [`super::SearchQuery`]
    /// matches them). Empty means any.
    pub words: Vec<String>,
    /// Decisions another decision replaced, too.
    pub include_superseded: bool,
    pub limit: u32,
}

/// A decision as listed: the entry, who made it, and what replaced it.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRow {
    pub entry: JournalEntry,
    /// The agent of the entry's session.
    pub agent: String,
    /// The decision that replaced this one, if one did.
    pub superseded_by: Option<EntryId>,
}

/// The project's decisions. Part of [`super::Tx`].
pub trait DecisionTx {
    /// The journal entry with this id, of any kind, and the project of its session.
    fn entry_with_project(&mut self, id: &str) -> Result<Option<(JournalEntry, String)>>;
    /// The entry whose `supersedes` is `id`, if any. At most one can be: a second entry superseding the same
    /// one is refused by the database itself as [`crate::Error::Conflict`] (on insert, or at the latest when
    /// the transaction commits).
    fn superseded_by(&mut self, id: &str) -> Result<Option<EntryId>>;
    fn decisions(&mut self, query: &DecisionQuery) -> Result<Vec<DecisionRow>>;
}
