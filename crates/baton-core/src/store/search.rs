//! Full-text search over what sessions wrote: journal entries and handoffs, and later whatever else a
//! concept adds a [`SearchKind`] for.

use crate::error::Result;
use crate::model::{SearchKind, SessionId};
use crate::time::Timestamp;

/// How many of the newest matches of each kind a search ranks. A word found in more entries than this (a
/// common one) ranks only the newest of them: the cost of a search stays bounded, whatever the history.
pub const SEARCH_WINDOW: u32 = 2_000;

/// What to search for. Results are best first (highest `rank`), ties newest first, then by id, highest first;
/// of each kind, only the [`SEARCH_WINDOW`] newest matches are ranked.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// Only what sessions of this project wrote.
    pub project: String,
    /// Every word must match: lowercase letters and digits only, as [`crate::parse::search_words`] makes them.
    /// A word of four characters or more also matches the words it begins (`token` finds `tokens`) when the
    /// words as they are match fewer rows of a kind than `limit`.
    pub words: Vec<String>,
    /// What to look through; empty means every kind the store knows. `journal` includes decisions.
    pub kinds: Vec<SearchKind>,
    pub limit: u32,
}

/// One thing found.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchHit {
    /// The most specific kind of what was found: `decision` for a decision entry, `journal` for any other
    /// entry, `handoff` for a session's summary and handoff.
    pub kind: SearchKind,
    /// The id of what was found: an entry id, or for a handoff its session's id.
    pub id: String,
    /// For a journal entry, its kind (`progress`, `decision`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_kind: Option<crate::model::EntryKind>,
    pub session_id: SessionId,
    pub agent: String,
    /// When it was written (an entry), or when its session ended (a handoff; else last updated).
    pub time: Timestamp,
    /// A short piece of the text around what matched, matches marked `[like this]`.
    pub snippet: String,
    /// How well it matched: higher is better; comparable only within one answer.
    pub rank: f64,
}

/// Full-text search. Part of [`super::Tx`]. The index is kept in step with the rows it covers by the
/// database, in the transaction that writes them.
pub trait SearchTx {
    fn search(&mut self, query: &SearchQuery) -> Result<Vec<SearchHit>>;
}
