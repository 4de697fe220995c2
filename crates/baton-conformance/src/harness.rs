//! What every case needs: a fresh store behind a [`Baton`] with a clock the case moves by hand,
//! callers, and a view of everything stored so a case can prove that a failed call changed nothing.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use baton_core::config::Policy;
use baton_core::store::{
    self, ClaimQuery, DeliveryQuery, EntryQuery, EventQuery, MessageQuery, RequestQuery, SessionQuery, Store,
};
use baton_core::{
    Baton, Caller, Claim, ClaimOutcome, ClaimRequest, EntryKind, Error, Event, JournalEntry, LogRequest, Logged,
    Project, ReleaseRequest, ReleaseStatus, Result, Session, SessionStarted, StartRequest, Timestamp,
};

/// Builds a fresh, empty store; it panics when it cannot (a case that cannot run is ignored, not passed).
pub type MakeStore = dyn Fn() -> Box<dyn Store>;

/// 2026-01-01T00:00:00Z, where every case's clock starts.
pub const EPOCH: Timestamp = Timestamp(1_767_225_600_000_000);
/// Every read of the clock moves it on by one millisecond, so no two operations share a time.
const TICK_MICROS: i64 = 1_000;

/// The default project's key.
pub const PROJECT: &str = "github.com/org/app";
/// The default project's repo.
pub const REPO: &str = "org/app";
/// A well-formed session id that no store holds.
pub const UNKNOWN_SESSION: &str = "019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b";

/// One case's world: a [`Baton`] over a fresh store and the clock it reads.
pub struct Harness {
    pub baton: Baton,
    clock: Arc<AtomicI64>,
}

impl Harness {
    /// A harness with the default policy.
    pub fn open(make: &MakeStore) -> Harness {
        Harness::with_policy(make, Policy::default())
    }

    /// A harness whose rules follow `policy`.
    pub fn with_policy(make: &MakeStore, policy: Policy) -> Harness {
        Harness::over(make(), policy)
    }

    /// A harness over `store`, whose rules follow `policy`.
    pub fn over(store: Box<dyn Store>, policy: Policy) -> Harness {
        let clock = Arc::new(AtomicI64::new(EPOCH.micros()));
        let read = Arc::clone(&clock);
        let baton = Baton::new(store, policy).with_clock(Arc::new(move || {
            Timestamp(read.fetch_add(TICK_MICROS, Ordering::SeqCst))
        }));
        Harness { baton, clock }
    }

    /// Moves the clock forward.
    pub fn advance(&self, secs: i64) {
        self.clock.fetch_add(secs * 1_000_000, Ordering::SeqCst);
    }

    /// The time the next operation will see, without moving the clock.
    pub fn peek(&self) -> Timestamp {
        Timestamp(self.clock.load(Ordering::SeqCst))
    }

    // ---- shortcuts for steps that must succeed ----

    #[track_caller]
    pub fn start(&self, caller: &Caller) -> SessionStarted {
        ok(self.baton.start_session(caller, StartRequest::default()))
    }

    #[track_caller]
    pub fn start_with(&self, caller: &Caller, context: &str) -> SessionStarted {
        ok(self.baton.start_session(
            caller,
            StartRequest {
                context: Some(context.into()),
                ..Default::default()
            },
        ))
    }

    #[track_caller]
    pub fn log(&self, caller: &Caller, kind: EntryKind, text: &str) -> Logged {
        ok(self.baton.log(caller, log_req(kind, text)))
    }

    #[track_caller]
    pub fn claim(&self, caller: &Caller, item_type: &str, item_id: &str) -> ClaimOutcome {
        ok(self.baton.claim(caller, claim_req(item_type, item_id)))
    }

    /// Claims an item that must be granted and returns the grant.
    #[track_caller]
    pub fn grant(&self, caller: &Caller, item_type: &str, item_id: &str) -> Claim {
        let out = self.claim(caller, item_type, item_id);
        assert!(out.claimed, "expected {item_type} {item_id} to be granted, got {out:?}");
        out.claim.expect("a granted claim carries the grant")
    }

    // ---- what is stored ----

    /// Every event in the store, every project, in `seq` order.
    #[track_caller]
    pub fn events(&self) -> Vec<Event> {
        ok(store::read(self.baton.store(), |tx| {
            tx.events(&EventQuery {
                after_seq: 0,
                limit: 1_000_000,
                ..Default::default()
            })
        }))
    }

    /// The kinds of the events after `seq`, in order.
    #[track_caller]
    pub fn kinds_after(&self, seq: i64) -> Vec<String> {
        self.events()
            .into_iter()
            .filter(|e| e.seq > seq)
            .map(|e| e.kind)
            .collect()
    }

    /// The highest `seq` stored (0 when there are no events).
    #[track_caller]
    pub fn last_seq(&self) -> i64 {
        self.events().last().map(|e| e.seq).unwrap_or(0)
    }

    /// Every session, claim, journal entry and event, in a stable order.
    #[track_caller]
    pub fn snapshot(&self) -> Snapshot {
        ok(store::read(self.baton.store(), |tx| {
            let mut sessions = tx.sessions(&SessionQuery::default())?;
            sessions.sort_by(|a, b| a.id.cmp(&b.id));
            let mut claims = tx.claims(&ClaimQuery::default())?;
            claims.sort_by(|a, b| a.id.cmp(&b.id));
            let mut entries = tx.entries(&EntryQuery::default())?;
            entries.sort_by(|a, b| a.id.cmp(&b.id));
            let events = tx.events(&EventQuery {
                after_seq: 0,
                limit: 1_000_000,
                ..Default::default()
            })?;
            let messages = tx.messages(&MessageQuery::default())?;
            let deliveries = tx.deliveries(&DeliveryQuery::default())?;
            let requests = tx.requests(&RequestQuery::default())?;
            let interfaces = tx.interfaces(&baton_core::store::InterfaceQuery::default())?;
            let dependencies = tx.dependencies(&baton_core::store::DependencyQuery::default())?;
            Ok(Snapshot {
                sessions,
                claims,
                entries,
                events,
                messages,
                deliveries,
                requests,
                interfaces,
                dependencies,
            })
        }))
    }

    /// Asserts that nothing stored differs from `before`.
    #[track_caller]
    pub fn assert_unchanged(&self, before: &Snapshot, what: &str) {
        let after = self.snapshot();
        assert_eq!(before.sessions, after.sessions, "{what}: sessions changed");
        assert_eq!(before.claims, after.claims, "{what}: claims changed");
        assert_eq!(before.entries, after.entries, "{what}: journal changed");
        assert_eq!(before.events, after.events, "{what}: events were written");
        assert_eq!(before.messages, after.messages, "{what}: messages changed");
        assert_eq!(before.deliveries, after.deliveries, "{what}: deliveries changed");
        assert_eq!(before.requests, after.requests, "{what}: requests changed");
        assert_eq!(before.interfaces, after.interfaces, "{what}: interfaces changed");
        assert_eq!(before.dependencies, after.dependencies, "{what}: dependencies changed");
    }

    /// Runs `f`, which must fail with `code`, and asserts it changed nothing stored.
    #[track_caller]
    pub fn refused<T: Debug>(&self, what: &str, code: i32, needles: &[&str], f: impl FnOnce() -> Result<T>) -> Error {
        let before = self.snapshot();
        let err = expect_err(f(), code, needles, what);
        self.assert_unchanged(&before, what);
        err
    }
}

/// Everything a store holds that a case can see.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub sessions: Vec<Session>,
    pub claims: Vec<Claim>,
    pub entries: Vec<JournalEntry>,
    pub events: Vec<Event>,
    pub messages: Vec<baton_core::Message>,
    pub deliveries: Vec<baton_core::Delivery>,
    pub requests: Vec<baton_core::Request>,
    pub interfaces: Vec<baton_core::Interface>,
    pub dependencies: Vec<baton_core::Dependency>,
}

/// A caller in the default project with no explicit session.
pub fn caller(agent: &str) -> Caller {
    Caller {
        project: Project {
            key: PROJECT.into(),
            repo: REPO.into(),
            git: None,
        },
        agent: agent.into(),
        session: None,
    }
}

/// A caller in the default project naming its session explicitly.
pub fn in_session(agent: &str, session: &str) -> Caller {
    Caller {
        session: Some(session.into()),
        ..caller(agent)
    }
}

/// A caller in a second project.
pub fn other_project(agent: &str) -> Caller {
    Caller {
        project: Project {
            key: "github.com/org/other".into(),
            repo: "org/other".into(),
            git: None,
        },
        agent: agent.into(),
        session: None,
    }
}

pub fn log_req(kind: EntryKind, text: &str) -> LogRequest {
    LogRequest {
        kind: kind.into(),
        text: text.into(),
        rationale: None,
        supersedes: None,
        idempotency_key: None,
    }
}

pub fn claim_req(item_type: &str, item_id: &str) -> ClaimRequest {
    ClaimRequest {
        item_type: item_type.into(),
        item_id: item_id.into(),
        repo: None,
        ttl: None,
        idempotency_key: None,
        new_type: false,
    }
}

pub fn release_req(item_type: &str, item_id: &str, status: ReleaseStatus) -> ReleaseRequest {
    ReleaseRequest {
        item_type: item_type.into(),
        item_id: item_id.into(),
        repo: None,
        status: status.into(),
        notes: None,
        force: false,
        reason: None,
        token: None,
        idempotency_key: None,
    }
}

/// Unwraps a result that must succeed, showing the error's kind when it does not.
#[track_caller]
pub fn ok<T>(r: Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("unexpected {} error (exit {}): {e}", e.kind(), e.exit_code()))
}

/// Asserts `r` failed with exit code `code` and a message containing every needle.
#[track_caller]
pub fn expect_err<T: Debug>(r: Result<T>, code: i32, needles: &[&str], what: &str) -> Error {
    let err = match r {
        Ok(v) => panic!("{what}: expected exit {code}, but it succeeded with {v:?}"),
        Err(e) => e,
    };
    assert_eq!(err.exit_code(), code, "{what}: wrong exit code for error: {err}");
    // As the command line words it, advice included.
    let message = baton_core::words::Words::error(&baton_core::words::CommandLine, &err);
    for n in needles {
        assert!(
            message.contains(n),
            "{what}: error message should contain {n:?}: {message}"
        );
    }
    err
}
