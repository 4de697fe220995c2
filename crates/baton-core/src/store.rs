//! The storage trait. Backends implement primitive reads and writes inside a transaction;
//! every rule lives in [`crate::Baton`], which composes them.

use crate::error::{Error, Result};
use crate::model::{
    Claim, ClaimState, EntryKind, Event, IdempotencyRecord, ItemKey, JournalEntry, NewEvent, ReleaseStatus, Session,
    SessionStatus,
};
use crate::time::Timestamp;
use serde_json::Value;

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

/// Which sessions to list. Results are newest `updated_at` first, ties by id, highest first. Filters combine.
#[derive(Debug, Clone, Default)]
pub struct SessionQuery {
    pub project: Option<String>,
    pub agent: Option<String>,
    /// Empty means any status.
    pub statuses: Vec<SessionStatus>,
    /// Only sessions whose `last_seen` is before this time.
    pub last_seen_before: Option<Timestamp>,
    pub exclude_id: Option<String>,
    pub limit: Option<u32>,
}

/// Which claims to list. Results are ordered by `granted_at`, oldest first, ties by id. Filters combine.
#[derive(Debug, Clone, Default)]
pub struct ClaimQuery {
    pub project: Option<String>,
    pub session_id: Option<String>,
    pub item_type: Option<String>,
    /// Empty means any state.
    pub states: Vec<ClaimState>,
    /// Only claims whose lease ran out before this time.
    pub expires_before: Option<Timestamp>,
    /// Only grants their holder lost, taken over (`taken_over`) or released by someone else (`forced_by`
    /// set), whose loss the holder has not been told yet (`loss_reported` false). Combines with `states`.
    pub loss_unreported: bool,
    pub limit: Option<u32>,
}

/// Which journal entries to list. Results are newest `created_at` first, ties by id, highest first.
#[derive(Debug, Clone, Default)]
pub struct EntryQuery {
    pub session_id: Option<String>,
    /// Entries of sessions in this project.
    pub project: Option<String>,
    /// Entries of sessions whose status is one of these, with or without `project`. Empty means any.
    pub session_statuses: Vec<SessionStatus>,
    /// Empty means any kind.
    pub kinds: Vec<EntryKind>,
    pub limit: Option<u32>,
}

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
    pub exclude_session: Option<String>,
    pub newest_first: bool,
    pub limit: u32,
}

/// A stored column that holds one of a closed set of names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnumColumn {
    SessionStatus,
    ClaimState,
    ReleaseStatus,
    EntryKind,
}

impl EnumColumn {
    /// Every such column.
    pub const ALL: &'static [EnumColumn] = &[
        EnumColumn::SessionStatus,
        EnumColumn::ClaimState,
        EnumColumn::ReleaseStatus,
        EnumColumn::EntryKind,
    ];

    /// The names the column may hold.
    pub fn accepted(self) -> Vec<&'static str> {
        match self {
            EnumColumn::SessionStatus => SessionStatus::ALL.iter().map(|s| s.as_str()).collect(),
            EnumColumn::ClaimState => ClaimState::ALL.iter().map(|s| s.as_str()).collect(),
            EnumColumn::ReleaseStatus => ReleaseStatus::ALL.iter().map(|s| s.as_str()).collect(),
            EnumColumn::EntryKind => EntryKind::ALL.iter().map(|s| s.as_str()).collect(),
        }
    }

    /// What holds the column, in words: `sessions`, `claims`, `journal entries`.
    pub fn holder(self) -> &'static str {
        match self {
            EnumColumn::SessionStatus => "sessions",
            EnumColumn::ClaimState => "claims",
            EnumColumn::ReleaseStatus => "claims' release statuses",
            EnumColumn::EntryKind => "journal entries",
        }
    }
}

/// A transaction. Reads inside a write transaction see the transaction's own writes, except events: an
/// event may stay invisible to the transaction that appends it (it may get its `seq` at commit).
///
/// A write a store refuses may fail the call itself or, at the latest, the transaction's commit (a store
/// may send writes ahead in one batch); either way the transaction keeps nothing. The storage contract suite
/// (`baton-conformance`, the `store_` cases) checks every primitive against this documentation.
pub trait Tx {
    /// Serialises claim decisions on one item for the rest of the transaction: `latest_claim` of the item,
    /// called after this, sees every decision on it committed before. A store may take the lock as late as
    /// just before that read (PostgreSQL sends both with the transaction's next read).
    fn lock_item(&mut self, key: &ItemKey) -> Result<()>;
    /// The grant with the highest token for this item.
    fn latest_claim(&mut self, key: &ItemKey) -> Result<Option<Claim>>;
    /// The newest grant of this item to this session.
    fn session_claim_on(&mut self, key: &ItemKey, session_id: &str) -> Result<Option<Claim>>;
    /// Records a grant. A second held grant of one item, or a second grant of an item with the same token,
    /// is refused by the database itself as [`Error::Conflict`].
    fn insert_claim(&mut self, claim: &Claim) -> Result<()>;
    /// Overwrites the mutable fields (state, lease, end, release status, notes, `loss_reported`,
    /// `forced_by`) of the claim with this id. Its item and token never change and must be those it was
    /// inserted with; when no claim has this id with them, [`Error::NotFound`].
    fn update_claim(&mut self, claim: &Claim) -> Result<()>;
    fn claims(&mut self, query: &ClaimQuery) -> Result<Vec<Claim>>;

    fn insert_session(&mut self, session: &Session) -> Result<()>;
    /// Overwrites the mutable fields of the session with this id (all but project, agent and `created_at`);
    /// when there is none, [`Error::NotFound`].
    fn update_session(&mut self, session: &Session) -> Result<()>;
    /// The session with this id; in a write transaction it stays locked until commit.
    fn session(&mut self, id: &str) -> Result<Option<Session>>;
    fn sessions(&mut self, query: &SessionQuery) -> Result<Vec<Session>>;
    /// Up to `limit` keys of projects that have a session, nearest `key` first: those after it in key order,
    /// or with `before` those before it, backwards; never `key` itself, each key once. One index seek per
    /// key, however many sessions each has.
    fn project_keys(&mut self, key: &str, before: bool, limit: u32) -> Result<Vec<String>>;

    /// Records the fields an imported session's document carried that baton has no column for, replacing
    /// what was recorded for that session before. Written in the import's own transaction.
    fn put_session_document(&mut self, session_id: &str, document: &Value) -> Result<()>;
    /// What [`Tx::put_session_document`] recorded for this session, if anything: one lookup by its key,
    /// whatever the size of the event log.
    fn session_document(&mut self, session_id: &str) -> Result<Option<Value>>;

    fn insert_entry(&mut self, entry: &JournalEntry) -> Result<()>;
    fn entries(&mut self, query: &EntryQuery) -> Result<Vec<JournalEntry>>;

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

    /// The record of the call that `scope` made with `key` in `project`, if any.
    fn idempotency(&mut self, project: &str, scope: &str, key: &str) -> Result<Option<IdempotencyRecord>>;
    /// Stores a record; a second one for the same project, scope and key is refused as [`Error::Conflict`]
    /// (which the transaction may retry to replay the first).
    fn put_idempotency(&mut self, record: &IdempotencyRecord) -> Result<()>;

    /// Up to `limit` distinct values stored in `column` that are not among [`EnumColumn::accepted`]
    /// (a missing release status is no value). Rows holding them cannot be read back as the model's types.
    fn unknown_values(&mut self, column: EnumColumn, limit: u32) -> Result<Vec<String>>;
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
