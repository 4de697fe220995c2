//! Session documents: what an imported document carried beyond baton's columns.

use serde_json::Value;

use crate::error::Result;

/// The fields of imported documents that baton has no column for, by session. Part of [`super::Tx`].
pub trait DocumentTx {
    /// Records the fields an imported session's document carried that baton has no column for, replacing
    /// what was recorded for that session before. Written in the import's own transaction.
    fn put_session_document(&mut self, session_id: &str, document: &Value) -> Result<()>;
    /// What [`DocumentTx::put_session_document`] recorded for this session, if anything: one lookup by its key,
    /// whatever the size of the event log.
    fn session_document(&mut self, session_id: &str) -> Result<Option<Value>>;
}
