//! The storage trait. Backends implement primitive reads and writes inside a transaction;
//! every rule lives in [`crate::Baton`], which composes them.
//!
//! One small trait per concept, each in its own file ([`SessionTx`], [`ClaimTx`], [`JournalTx`],
//! [`DecisionTx`], [`SearchTx`], [`EventTx`], [`IdempotencyTx`], [`DocumentTx`], [`IntegrityTx`], [`MessageTx`],
//! [`RequestTx`], [`InterfaceTx`]); [`Tx`] is all of them. A new concept
//! adds its trait here, as a supertrait of `Tx`, and one file in each store implementing it. Call sites
//! bring every concept's methods into scope with `use baton_core::store::prelude::*`.

mod claims;
mod decisions;
mod documents;
mod events;
mod idempotency;
mod integrity;
mod interfaces;
mod journal;
mod messages;
mod search;
mod sessions;

pub use claims::{ClaimQuery, ClaimTx};
pub use decisions::{DecisionQuery, DecisionRow, DecisionTx};
pub use documents::DocumentTx;
pub use events::{EventQuery, EventTx};
pub use idempotency::IdempotencyTx;
pub use integrity::{EnumColumn, IntegrityTx};
pub use interfaces::{DependencyQuery, InterfaceQuery, InterfaceTx};
pub use journal::{EntryQuery, JournalTx};
pub use messages::{DeliveryQuery, MessageQuery, MessageTx, RequestQuery, RequestTx};
pub use search::{SEARCH_WINDOW, SearchHit, SearchQuery, SearchTx};
pub use sessions::{SessionQuery, SessionTx};

use crate::error::{Error, Result};

/// Every concept's trait, for calling [`Tx`]'s methods.
pub mod prelude {
    pub use super::{
        ClaimTx, DecisionTx, DocumentTx, EventTx, IdempotencyTx, IntegrityTx, InterfaceTx, JournalTx, MessageTx,
        RequestTx, SearchTx, SessionTx, Tx,
    };
}

/// How a store waits for what others hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// The longest one call waits for a lock another process or transaction holds (SQLite's write lock,
    /// PostgreSQL's row, table and advisory locks) before it gives up with [`Error::Busy`], changing nothing.
    pub lock_timeout: std::time::Duration,
}

impl StoreOptions {
    /// `lock_timeout` when nothing says otherwise.
    pub const DEFAULT_LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            lock_timeout: StoreOptions::DEFAULT_LOCK_TIMEOUT,
        }
    }
}

/// A transaction. Reads inside a write transaction see the transaction's own writes, except events: an
/// event may stay invisible to the transaction that appends it (it may get its `seq` at commit).
///
/// A write a store refuses may fail the call itself or, at the latest, the transaction's commit (a store
/// may send writes ahead in one batch); either way the transaction keeps nothing. The storage contract suite
/// (`baton-conformance`, the `store_` cases) checks every primitive against this documentation.
pub trait Tx:
    SessionTx
    + ClaimTx
    + JournalTx
    + DecisionTx
    + SearchTx
    + EventTx
    + IdempotencyTx
    + DocumentTx
    + IntegrityTx
    + MessageTx
    + RequestTx
    + InterfaceTx
{
}

impl<T> Tx for T where
    T: SessionTx
        + ClaimTx
        + JournalTx
        + DecisionTx
        + SearchTx
        + EventTx
        + IdempotencyTx
        + DocumentTx
        + IntegrityTx
        + MessageTx
        + RequestTx
        + InterfaceTx
{
}

/// A backend: runs closures inside read-only or read-write transactions.
///
/// `write` may run the closure more than once when the backend retries a transaction that lost a
/// race (for example a PostgreSQL deadlock); the closure must therefore re-read what it decides on.
pub trait Store: Send + Sync {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Where the data lives, without secrets.
    fn location(&self) -> String;
    fn read(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()>;
    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()>;
    /// Checks the database's own integrity (its files, schema version and the like; the rules' integrity is
    /// [`crate::integrity::problems`]); returns problems found (empty when healthy).
    fn integrity_check(&self) -> Result<Vec<String>>;
}

/// Runs `f` in a read transaction and returns its value.
pub fn read<T>(store: &dyn Store, mut f: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T> {
    let mut out = None;
    store.read(&mut |tx| {
        out = Some(f(tx)?);
        Ok(())
    })?;
    out.ok_or_else(|| Error::internal("read transaction finished without a result"))
}

/// Runs `f` in a write transaction and returns its value.
pub fn write<T>(store: &dyn Store, mut f: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T> {
    let mut out = None;
    store.write(&mut |tx| {
        out = Some(f(tx)?);
        Ok(())
    })?;
    out.ok_or_else(|| Error::internal("write transaction finished without a result"))
}
