//! The storage contract: every [`baton_core::store::Tx`] primitive, driven directly on a fresh store, does
//! what the trait's documentation says, on every backend alike.
//!
//! The rest of the suite goes through [`baton_core::Baton`], which leans on only the parts of a primitive it
//! happens to use. These cases pin the whole contract down, so a rule can rely on any of it and a new backend
//! knows exactly what to provide.

mod claims;
mod events;
mod integrity;
mod records;
mod search;
mod sessions;

pub use claims::*;
pub use events::*;
pub use integrity::*;
pub use records::*;
pub use search::*;
pub use sessions::*;

use std::fmt::Debug;

use baton_core::store::{self, Store, Tx};
use baton_core::{Claim, ClaimState, ItemKey, Result, Session, SessionStatus, Timestamp};

use crate::harness::{EPOCH, MakeStore, PROJECT, REPO, ok};

/// A fresh store, opened by the backend's factory.
fn open(make: &MakeStore) -> Box<dyn Store> {
    make()
}

/// `EPOCH` plus `secs` seconds.
fn at(secs: i64) -> Timestamp {
    EPOCH.plus_secs(secs)
}

/// Runs `f` in a write transaction that must commit.
#[track_caller]
fn write<T>(store: &dyn Store, f: impl FnMut(&mut dyn Tx) -> Result<T>) -> T {
    ok(store::write(store, f))
}

/// Runs `f` in a read transaction that must succeed.
#[track_caller]
fn read<T>(store: &dyn Store, f: impl FnMut(&mut dyn Tx) -> Result<T>) -> T {
    ok(store::read(store, f))
}

/// Runs `f` in a write transaction that must fail, at the latest when it commits, with exit code `code`.
#[track_caller]
fn refused<T: Debug>(store: &dyn Store, what: &str, code: i32, f: impl FnMut(&mut dyn Tx) -> Result<T>) {
    match store::write(store, f) {
        Ok(v) => panic!("{what}: expected exit {code}, but the transaction committed with {v:?}"),
        Err(e) => assert_eq!(
            e.exit_code(),
            code,
            "{what}: expected exit {code}, got {} error: {e}",
            e.kind()
        ),
    }
}

/// An item of the default project.
fn item(item_type: &str, item_id: &str) -> ItemKey {
    ItemKey {
        project: PROJECT.into(),
        item_type: item_type.into(),
        repo: REPO.into(),
        item_id: item_id.into(),
    }
}

/// An active session of `agent` in `project`, every optional field set, last touched at `secs`.
fn session(id: &str, project: &str, agent: &str, secs: i64) -> Session {
    Session {
        id: id.into(),
        project: project.into(),
        agent: agent.into(),
        name: Some(format!("{id}-name")),
        role: Some("reviewer".into()),
        context: Some("make login work".into()),
        task_ids: vec!["APP-1".into(), "APP-2".into()],
        status: SessionStatus::Active,
        stale: false,
        git_branch: Some("feature/login".into()),
        git_commit: Some("0123abcd".into()),
        worktree: Some("/src/app".into()),
        created_at: at(secs),
        updated_at: at(secs),
        last_seen: at(secs),
        ended_at: None,
        compaction_count: 0,
        summary: None,
        handoff: None,
    }
}

/// A held grant of `key` with this token to `session_id`, granted at `secs` for 30 minutes.
fn grant(id: &str, key: &ItemKey, token: i64, session_id: &str, secs: i64) -> Claim {
    Claim {
        id: id.into(),
        project: key.project.clone(),
        item_type: key.item_type.clone(),
        repo: key.repo.clone(),
        item_id: key.item_id.clone(),
        token,
        session_id: session_id.into(),
        agent: "claude-code".into(),
        state: ClaimState::Held,
        ttl_secs: 1800,
        granted_at: at(secs),
        renewed_at: at(secs),
        expires_at: at(secs + 1800),
        ended_at: None,
        release_status: None,
        notes: None,
        loss_reported: false,
        forced_by: None,
    }
}

/// The ids of `rows`, in order.
fn ids<'a, T: 'a>(rows: impl IntoIterator<Item = &'a T>, id: impl Fn(&T) -> &str) -> Vec<String> {
    rows.into_iter().map(|r| id(r).to_string()).collect()
}
