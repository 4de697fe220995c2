//! Idempotency records: the stored results of calls made with an idempotency key.

use crate::error::Result;
use crate::model::IdempotencyRecord;

/// Stored results of idempotent calls, by caller and key. Part of [`super::Tx`].
pub trait IdempotencyTx {
    /// The record of the call that `scope` made with `key` in `project`, if any.
    fn idempotency(&mut self, project: &str, scope: &str, key: &str) -> Result<Option<IdempotencyRecord>>;
    /// Stores a record; a second one for the same project, scope and key is refused as [`crate::Error::Conflict`]
    /// (which the transaction may retry to replay the first).
    fn put_idempotency(&mut self, record: &IdempotencyRecord) -> Result<()>;
}
