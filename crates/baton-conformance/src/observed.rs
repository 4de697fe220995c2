//! The after-commit seam: observers hear of each committed write once, with exactly the events it committed,
//! and of nothing that did not commit; what goes wrong in an observer does not fail the call.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use baton_core::config::Policy;
use baton_core::store::{Store, Tx};
use baton_core::{
    Baton, ChangesRequest, ClaimsRequest, Commit, CommitObserver, EndRequest, EntryKind, Error, Event, NewEvent,
    ReleaseStatus, Result,
};

use crate::harness::*;

/// One commit as an observer heard it: the caller's agent, and the events.
#[derive(Debug, Clone, PartialEq)]
struct Heard {
    agent: Option<String>,
    events: Vec<NewEvent>,
}

/// Keeps every commit it hears.
#[derive(Default)]
struct Recorder {
    heard: Mutex<Vec<Heard>>,
}

impl Recorder {
    /// The commits heard since the last call.
    fn take(&self) -> Vec<Heard> {
        std::mem::take(&mut *self.heard.lock().expect("recorder"))
    }
}

impl CommitObserver for Recorder {
    fn committed(&self, _baton: &Baton, commit: &Commit<'_>) -> Result<()> {
        self.heard.lock().expect("recorder").push(Heard {
            agent: commit.caller.map(|c| c.agent.clone()),
            events: commit.events.to_vec(),
        });
        Ok(())
    }
}

fn observed(store: Box<dyn Store>) -> (Harness, Arc<Recorder>) {
    let mut h = Harness::over(store, Policy::default());
    let recorder = Arc::new(Recorder::default());
    h.baton.observe(recorder.clone());
    (h, recorder)
}

/// A stored event as it was appended, to compare with what an observer heard.
fn as_appended(e: &Event) -> (i64, &str, &str, Option<&str>, &str, &str, &serde_json::Value) {
    (
        e.time.micros(),
        &e.project,
        &e.agent,
        e.session_id.as_deref(),
        &e.kind,
        &e.target,
        &e.data,
    )
}

fn heard_as_appended(e: &NewEvent) -> (i64, &str, &str, Option<&str>, &str, &str, &serde_json::Value) {
    (
        e.time.micros(),
        &e.project,
        &e.agent,
        e.session_id.as_deref(),
        e.kind,
        &e.target,
        &e.data,
    )
}

/// Runs `f`, which must succeed, and asserts the observer heard exactly one commit, by `agent`, whose events
/// are the ones `f` stored. Returns how many events that was.
#[track_caller]
fn one_commit<T>(
    h: &Harness,
    recorder: &Recorder,
    what: &str,
    agent: Option<&str>,
    f: impl FnOnce() -> Result<T>,
) -> usize {
    let before = h.last_seq();
    ok(f());
    let stored: Vec<Event> = h.events().into_iter().filter(|e| e.seq > before).collect();
    let heard = recorder.take();
    assert_eq!(heard.len(), 1, "{what}: heard {heard:?}");
    assert_eq!(heard[0].agent.as_deref(), agent, "{what}: the caller");
    let want: Vec<_> = stored.iter().map(as_appended).collect();
    let got: Vec<_> = heard[0].events.iter().map(heard_as_appended).collect();
    assert_eq!(got, want, "{what}: the events heard are the events committed, in order");
    stored.len()
}

/// Each write is heard once, after it committed, with its caller and the events it appended, in order:
/// one event or several, and a sweep, which has no caller.
pub fn observers_hear_each_commit_once_with_its_events(make: &MakeStore) {
    let (h, recorder) = observed(make());
    let a = caller("claude-code");
    let b = caller("codex");
    let n = one_commit(&h, &recorder, "start", Some("claude-code"), || {
        h.baton.start_session(&a, Default::default())
    });
    assert_eq!(n, 1);
    one_commit(&h, &recorder, "log", Some("claude-code"), || {
        h.baton.log(&a, log_req(EntryKind::Progress, "one"))
    });
    one_commit(&h, &recorder, "claim", Some("claude-code"), || {
        h.baton.claim(&a, claim_req("issue", "1"))
    });
    one_commit(&h, &recorder, "claim", Some("claude-code"), || {
        h.baton.claim(&a, claim_req("issue", "2"))
    });
    let n = one_commit(&h, &recorder, "end with two claims held", Some("claude-code"), || {
        h.baton.end_session(&a, EndRequest::default())
    });
    assert!(
        n >= 3,
        "ending releases both claims and ends the session in one transaction: {n} events"
    );

    one_commit(&h, &recorder, "start another", Some("codex"), || {
        h.baton.start_session(&b, Default::default())
    });
    let codex = ok(h.baton.view(&b, None)).session.id;
    one_commit(&h, &recorder, "start elsewhere", Some("codex"), || {
        h.baton.start_session(&other_project("codex"), Default::default())
    });
    one_commit(&h, &recorder, "claim", Some("codex"), || {
        h.baton.claim(&b, claim_req("pr", "3"))
    });
    h.advance(3 * 3600);
    let n = one_commit(&h, &recorder, "sweep of every project", None, || h.baton.sweep(None));
    assert_eq!(n, 3, "two stale sessions paused and one claim expired");
    // A write that changed nothing new (an idempotent replay) is a commit without events.
    let again = || {
        h.baton.log(
            &in_session("codex", &codex),
            baton_core::LogRequest {
                idempotency_key: Some("k1".into()),
                ..log_req(EntryKind::Note, "once")
            },
        )
    };
    one_commit(&h, &recorder, "keyed log", Some("codex"), again);
    assert_eq!(one_commit(&h, &recorder, "keyed log replayed", Some("codex"), again), 0);
}

/// Reads are not commits, and a write the rules refuse rolls back: observers hear of neither.
pub fn observers_hear_nothing_of_reads_and_refused_writes(make: &MakeStore) {
    let (h, recorder) = observed(make());
    let a = caller("claude-code");
    let b = caller("codex");
    h.start(&a);
    h.grant(&a, "issue", "1");
    let ended = h.start(&b).session_id;
    recorder.take();

    ok(h.baton.view(&a, None));
    ok(h.baton.changes(&a, &ChangesRequest::default()));
    ok(h.baton.digest(&a));
    ok(h.baton.claims(&a, ClaimsRequest::default()));
    ok(h.baton.list_sessions(&a, None, false, None));
    assert_eq!(recorder.take(), vec![], "reads");

    h.refused("release by another", 3, &[], || {
        h.baton.release(&b, release_req("issue", "1", ReleaseStatus::Completed))
    });
    ok(h.baton.end_session(&b, EndRequest::default()));
    recorder.take();
    h.refused("log to an ended session", 2, &["cannot log to"], || {
        h.baton
            .log(&in_session("codex", &ended), log_req(EntryKind::Progress, "late"))
    });
    assert_eq!(recorder.take(), vec![], "refused writes");
}

const LOST_RACE: &str = "this attempt lost a race";

/// A store that runs every write twice, as a store does when the first attempt loses a race: the first
/// attempt runs to its end and is rolled back, the second commits.
struct RunsTwice {
    inner: Box<dyn Store>,
    attempts: Arc<AtomicUsize>,
}

impl Store for RunsTwice {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    fn location(&self) -> String {
        self.inner.location()
    }
    fn read(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.inner.read(f)
    }
    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        let first = self.inner.write(&mut |tx| {
            self.attempts.fetch_add(1, Ordering::SeqCst);
            f(tx)?;
            Err(Error::internal(LOST_RACE))
        });
        match first {
            Err(Error::Internal { message }) if message == LOST_RACE => {}
            other => return other,
        }
        self.attempts.fetch_add(1, Ordering::SeqCst);
        self.inner.write(f)
    }
    fn integrity_check(&self) -> Result<Vec<String>> {
        self.inner.integrity_check()
    }
}

/// A write the store ran twice is heard once, with the events of the attempt that committed.
pub fn a_write_run_twice_is_heard_once_with_what_committed(make: &MakeStore) {
    let attempts = Arc::new(AtomicUsize::new(0));
    let (h, recorder) = observed(Box::new(RunsTwice {
        inner: make(),
        attempts: attempts.clone(),
    }));
    let a = caller("claude-code");
    one_commit(&h, &recorder, "start", Some("claude-code"), || {
        h.baton.start_session(&a, Default::default())
    });
    assert_eq!(attempts.load(Ordering::SeqCst), 2, "the store ran the start twice");
    one_commit(&h, &recorder, "log", Some("claude-code"), || {
        h.baton.log(&a, log_req(EntryKind::Decision, "two attempts"))
    });
    h.grant(&a, "issue", "1");
    h.grant(&a, "issue", "2");
    recorder.take();
    h.advance(3 * 3600);
    let n = one_commit(&h, &recorder, "sweep", None, || h.baton.sweep(None));
    assert_eq!(n, 3, "one session paused and two claims expired, each once");
}

/// A store whose every commit fails after the transaction ran to its end.
struct CommitFails {
    inner: Box<dyn Store>,
}

impl Store for CommitFails {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    fn location(&self) -> String {
        self.inner.location()
    }
    fn read(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.inner.read(f)
    }
    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.inner.write(&mut |tx| {
            f(tx)?;
            Err(Error::internal("the commit failed"))
        })
    }
    fn integrity_check(&self) -> Result<Vec<String>> {
        self.inner.integrity_check()
    }
}

/// A transaction that ran to its end but did not commit is not heard of.
pub fn a_write_that_does_not_commit_is_not_heard(make: &MakeStore) {
    let (h, recorder) = observed(Box::new(CommitFails { inner: make() }));
    h.refused("start", 1, &["the commit failed"], || {
        h.baton.start_session(&caller("claude-code"), Default::default())
    });
    assert_eq!(recorder.take(), vec![]);
}

struct Fails;

impl CommitObserver for Fails {
    fn committed(&self, _baton: &Baton, _commit: &Commit<'_>) -> Result<()> {
        Err(Error::internal("the observer could not keep up"))
    }
}

struct Panics;

impl CommitObserver for Panics {
    fn committed(&self, _baton: &Baton, _commit: &Commit<'_>) -> Result<()> {
        panic!("an observer's bug")
    }
}

/// An observer that fails or panics makes a warning, not a failed call, and the others still hear the commit.
pub fn an_observer_that_fails_makes_a_warning(make: &MakeStore) {
    let mut h = Harness::open(make);
    let warnings = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = warnings.clone();
    h.baton.on_warning(Arc::new(move |w: &str| {
        sink.lock().expect("warnings").push(w.to_string())
    }));
    let recorder = Arc::new(Recorder::default());
    h.baton.observe(Arc::new(Fails));
    h.baton.observe(Arc::new(Panics));
    h.baton.observe(recorder.clone());

    let a = caller("claude-code");
    let started = ok(h.baton.start_session(&a, Default::default()));
    assert_eq!(
        ok(h.baton.view(&a, None)).session.id,
        started.session_id,
        "the start committed"
    );
    assert_eq!(
        recorder.take().len(),
        1,
        "the observer after the failing ones heard the commit"
    );
    let warnings = warnings.lock().expect("warnings").clone();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert_eq!(warnings[0], "the observer could not keep up");
    assert!(warnings[1].contains("stopped unexpectedly"), "{warnings:?}");
}
