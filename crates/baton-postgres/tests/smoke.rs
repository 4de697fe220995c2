//! Smoke tests of the PostgreSQL store. Most need a server: set `BATON_TEST_DATABASE_URL`
//! (for example `postgres://postgres@127.0.0.1:5432/test`); each works in a fresh schema. Without it
//! `cargo test` lists them as ignored, with the reason, except in CI (`CI=true`), where they fail.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::Duration;

use baton_core::config::Policy;
use baton_core::model::*;
use baton_core::store::{self, ClaimQuery, EntryQuery, EventQuery, SessionQuery, Store};
use baton_core::{
    Baton, Caller, ChangesRequest, ClaimRequest, Error, Project, ReleaseRequest, StartRequest, Timestamp,
};
use baton_postgres::PgStore;
use serde_json::json;

/// A fresh schema in the test database, dropped at the end of the test.
struct TestDb {
    url: String,
    schema: String,
}

impl TestDb {
    fn new() -> TestDb {
        let url = std::env::var("BATON_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .expect(
                "BATON_TEST_DATABASE_URL is not set, yet these tests were built to run on PostgreSQL \
                 (the variable was set at build time, or CI=true, where they must not be skipped)",
            );
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let schema = format!(
            "baton_test_{}_{}_{}",
            std::process::id(),
            nanos,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        TestDb { url, schema }
    }

    fn open(&self) -> PgStore {
        PgStore::open_in_schema(&self.url, &self.schema).expect("open the test schema")
    }

    /// A plain connection working in the test schema, to hold transactions open where the store cannot.
    fn client(&self) -> postgres::Client {
        let mut client = postgres::Client::connect(&self.url, postgres::NoTls).expect("connect");
        client
            .batch_execute(&format!("SET search_path TO \"{}\"", self.schema))
            .expect("search path");
        client
    }
}

/// Records an event the way the store does (a seq from `baton_next_event_seq`) in an open transaction.
fn raw_event(tx: &mut postgres::Transaction<'_>, agent: &str) -> i64 {
    tx.query_one(
        "INSERT INTO events (seq, time, project, agent, session_id, kind, target, data)
         VALUES (baton_next_event_seq(), 1, 'A', $1, NULL, 'journal.note', 'issue app#1', '{}') RETURNING seq",
        &[&agent],
    )
    .expect("record an event")
    .get(0)
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.schema));
        }
    }
}

fn session(id: &str, project: &str, agent: &str, status: SessionStatus, at: i64) -> Session {
    Session {
        id: id.into(),
        project: project.to_string(),
        agent: agent.to_string(),
        name: Some(format!("{id}-name")),
        role: None,
        context: Some("fix the login bug".to_string()),
        task_ids: vec!["T-1".to_string()],
        status,
        stale: false,
        git_branch: Some("main".to_string()),
        git_commit: None,
        worktree: Some("/src/app".to_string()),
        created_at: Timestamp(at),
        updated_at: Timestamp(at),
        last_seen: Timestamp(at),
        ended_at: None,
        compaction_count: 0,
        summary: None,
        handoff: None,
    }
}

fn new_event(project: &str, agent: &str, session: Option<&str>, kind: &'static str, time: i64) -> NewEvent {
    NewEvent {
        time: Timestamp(time),
        project: project.to_string(),
        agent: agent.to_string(),
        session_id: session.map(Into::into),
        kind,
        target: "issue app#1".to_string(),
        data: json!({"n": time, "text": "ünïcode ✓"}),
    }
}

fn caller(agent: &str) -> Caller {
    Caller {
        project: Project::detect(&std::env::temp_dir(), Some("test/proj")),
        agent: agent.to_string(),
        session: None,
    }
}

fn claim_req(item_type: &str, id: &str) -> ClaimRequest {
    ClaimRequest {
        item_type: item_type.to_string(),
        item_id: id.to_string(),
        repo: None,
        ttl: None,
        idempotency_key: None,
        new_type: false,
    }
}

fn release_req(item_type: &str, id: &str) -> ReleaseRequest {
    ReleaseRequest {
        item_type: item_type.to_string(),
        item_id: id.to_string(),
        repo: None,
        status: ReleaseStatus::Completed.into(),
        notes: Some("done".to_string()),
        force: false,
        reason: None,
        token: None,
        idempotency_key: None,
    }
}

#[test]
fn connection_errors_name_the_server_but_not_the_password() {
    let err = PgStore::open("postgres://baton:hunter2@127.0.0.1:1/baton").expect_err("nothing listens on port 1");
    let message = err.to_string();
    assert_eq!(err.kind(), "internal", "{message}");
    assert!(message.contains("postgres://baton@127.0.0.1:1/baton"), "{message}");
    assert!(message.contains("BATON_DATABASE_URL"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");

    let err = PgStore::open("postgres://baton:hunter2@127.0.0.1:notaport/baton").expect_err("bad port");
    assert_eq!(err.kind(), "bad_input", "{err}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn location_hides_the_password() {
    let db = TestDb::new();
    let store = db.open();
    assert_eq!(store.backend(), "postgres");
    let location = store.location();
    assert!(location.contains(&db.schema), "{location}");
    if let Some((_, rest)) = db.url.split_once("://")
        && let Some((userinfo, _)) = rest.rsplit_once('@')
        && let Some((_, password)) = userinfo.split_once(':')
    {
        assert!(!location.contains(password), "{location}");
    }
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn migrations_are_idempotent_and_safe_to_race() {
    let db = TestDb::new();
    let url = Arc::new(db.url.clone());
    let schema = Arc::new(db.schema.clone());
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (url, schema) = (url.clone(), schema.clone());
            thread::spawn(move || PgStore::open_in_schema(&url, &schema).map(|_| ()))
        })
        .collect();
    for h in handles {
        h.join().expect("thread").expect("concurrent open");
    }
    let store = db.open();
    assert_eq!(
        baton_core::integrity::problems(&store).expect("check"),
        Vec::<String>::new()
    );
    assert_eq!(store::read(&store, |tx| tx.last_seq()).expect("last seq"), 0);
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn sessions_round_trip_and_filter() {
    let db = TestDb::new();
    let store = db.open();
    let mut s1 = session("s1", "proj", "alice", SessionStatus::Active, 1_000);
    store::write(&store, |tx| tx.insert_session(&s1)).expect("insert");
    assert_eq!(
        store::read(&store, |tx| tx.session("s1")).expect("read"),
        Some(s1.clone())
    );
    assert_eq!(store::read(&store, |tx| tx.session("missing")).expect("read"), None);

    s1.status = SessionStatus::Completed;
    s1.summary = Some("fixed it".to_string());
    s1.handoff = Some(Handoff {
        notes: Some("watch the cache".to_string()),
        done: vec!["login".to_string()],
        next: vec!["logout".to_string()],
        blockers: vec![],
    });
    s1.task_ids = vec!["T-1".to_string(), "T-2".to_string()];
    s1.compaction_count = 3;
    s1.updated_at = Timestamp(2_000);
    s1.last_seen = Timestamp(2_000);
    s1.ended_at = Some(Timestamp(2_000));
    s1.git_commit = Some("abc123".to_string());
    store::write(&store, |tx| tx.update_session(&s1)).expect("update");
    assert_eq!(
        store::read(&store, |tx| tx.session("s1")).expect("read"),
        Some(s1.clone())
    );

    let missing = session("nope", "proj", "alice", SessionStatus::Active, 1);
    let err = store::write(&store, |tx| tx.update_session(&missing)).expect_err("no such session");
    assert_eq!(err.kind(), "not_found");

    let s2 = session("s2", "proj", "bob", SessionStatus::Active, 1_500);
    let s3 = session("s3", "proj", "alice", SessionStatus::Paused, 1_200);
    let s4 = session("s4", "other", "alice", SessionStatus::Active, 3_000);
    store::write(&store, |tx| {
        tx.insert_session(&s2)?;
        tx.insert_session(&s3)?;
        tx.insert_session(&s4)
    })
    .expect("insert more");

    let ids = |q: SessionQuery| -> Vec<String> {
        store::read(&store, |tx| tx.sessions(&q))
            .expect("query")
            .into_iter()
            .map(|s| s.id.into_string())
            .collect()
    };
    let proj = || Some("proj".to_string());
    assert_eq!(
        ids(SessionQuery {
            project: proj(),
            ..Default::default()
        }),
        ["s1", "s2", "s3"]
    );
    assert_eq!(ids(SessionQuery::default()), ["s4", "s1", "s2", "s3"]);
    assert_eq!(
        ids(SessionQuery {
            project: proj(),
            agent: Some("alice".into()),
            ..Default::default()
        }),
        ["s1", "s3"]
    );
    assert_eq!(
        ids(SessionQuery {
            project: proj(),
            statuses: vec![SessionStatus::Active, SessionStatus::Paused],
            ..Default::default()
        }),
        ["s2", "s3"]
    );
    assert_eq!(
        ids(SessionQuery {
            last_seen_before: Some(Timestamp(1_500)),
            ..Default::default()
        }),
        ["s3"],
        "strictly before"
    );
    assert_eq!(
        ids(SessionQuery {
            project: proj(),
            exclude_id: Some("s1".into()),
            ..Default::default()
        }),
        ["s2", "s3"]
    );
    assert_eq!(
        ids(SessionQuery {
            project: proj(),
            limit: Some(2),
            ..Default::default()
        }),
        ["s1", "s2"]
    );
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn journal_entries_newest_first_with_session_filters() {
    let db = TestDb::new();
    let store = db.open();
    let active = session("a", "proj", "alice", SessionStatus::Active, 1);
    let done = session("d", "proj", "bob", SessionStatus::Completed, 1);
    let elsewhere = session("x", "other", "carol", SessionStatus::Active, 1);
    let entry = |id: &str, sid: &str, kind: EntryKind, at: i64| JournalEntry {
        id: id.into(),
        session_id: sid.into(),
        kind,
        text: format!("{kind} {id}"),
        rationale: (kind == EntryKind::Decision).then(|| "because".to_string()),
        supersedes: None,
        created_at: Timestamp(at),
    };
    let entries = [
        entry("e1", "a", EntryKind::Progress, 10),
        entry("e2", "a", EntryKind::Blocker, 20),
        entry("e3", "d", EntryKind::Blocker, 30),
        entry("e4", "x", EntryKind::Blocker, 40),
        entry("e5", "a", EntryKind::Decision, 50),
    ];
    store::write(&store, |tx| {
        for s in [&active, &done, &elsewhere] {
            tx.insert_session(s)?;
        }
        for e in &entries {
            tx.insert_entry(e)?;
        }
        Ok(())
    })
    .expect("insert");

    let list = |q: EntryQuery| store::read(&store, |tx| tx.entries(&q)).expect("query");
    let of_a = list(EntryQuery {
        session_id: Some("a".into()),
        ..Default::default()
    });
    assert_eq!(
        of_a.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["e5", "e2", "e1"]
    );
    assert_eq!(of_a[0], entries[4]);
    let blockers = list(EntryQuery {
        project: Some("proj".into()),
        session_statuses: vec![SessionStatus::Active, SessionStatus::Paused],
        kinds: vec![EntryKind::Blocker],
        ..Default::default()
    });
    assert_eq!(blockers.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["e2"]);
    let limited = list(EntryQuery {
        project: Some("proj".into()),
        limit: Some(2),
        ..Default::default()
    });
    assert_eq!(limited.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["e5", "e3"]);
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn events_page_filter_and_count() {
    let db = TestDb::new();
    let store = db.open();
    store::write(&store, |tx| {
        tx.append_event(&new_event("A", "alice", Some("s1"), "session.started", 100))?;
        tx.append_event(&new_event("A", "alice", Some("s1"), "claim.granted", 110))?;
        tx.append_event(&new_event("B", "alice", Some("s9"), "claim.granted", 120))
    })
    .expect("first batch");
    store::write(&store, |tx| {
        tx.append_event(&new_event("A", "bob", Some("s2"), "session.heartbeat", 130))?;
        tx.append_event(&new_event("A", "bob", None, "claim.released", 140))?;
        tx.append_event(&new_event("A", "bob", Some("s2"), "claimant.odd", 150))?;
        tx.append_event(&new_event("A", "bob", Some("s2"), "journal.note", 160))
    })
    .expect("second batch");

    let events = |q: EventQuery| store::read(&store, |tx| tx.events(&q)).expect("events");
    let a = |limit: u32| EventQuery {
        project: Some("A".into()),
        limit,
        ..Default::default()
    };

    let all = events(a(100));
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 4, 5, 6, 7]);
    assert_eq!(all[0].data, json!({"n": 100, "text": "ünïcode ✓"}));
    assert_eq!(all[3].session_id, None);
    assert_eq!(store::read(&store, |tx| tx.last_seq()).expect("last seq"), 7);

    // Paging by cursor visits every event once, in order.
    let mut seen = Vec::new();
    let mut cursor = 0;
    loop {
        let page = events(EventQuery {
            after_seq: cursor,
            ..a(2)
        });
        if page.is_empty() {
            break;
        }
        cursor = page.last().map(|e| e.seq).unwrap_or(cursor);
        seen.extend(page.into_iter().map(|e| e.seq));
    }
    assert_eq!(seen, [1, 2, 4, 5, 6, 7]);

    let kinds = |q: EventQuery| events(q).into_iter().map(|e| e.kind).collect::<Vec<_>>();
    assert_eq!(
        kinds(EventQuery {
            kind: Some("claim".into()),
            ..a(100)
        }),
        ["claim.granted", "claim.released"]
    );
    assert_eq!(
        kinds(EventQuery {
            kind: Some("claim.granted".into()),
            ..a(100)
        }),
        ["claim.granted"]
    );
    assert_eq!(
        kinds(EventQuery {
            kind: Some("clai".into()),
            ..a(100)
        }),
        Vec::<String>::new()
    );
    assert_eq!(
        kinds(EventQuery {
            agent: Some("bob".into()),
            newest_first: true,
            ..a(2)
        }),
        ["journal.note", "claimant.odd"]
    );
    assert_eq!(
        kinds(EventQuery {
            exclude_kinds: vec!["session.heartbeat".into(), "journal.note".into()],
            exclude_session: Some("s2".into()),
            ..a(100)
        }),
        ["session.started", "claim.granted", "claim.released"],
        "events without a session are kept when excluding a session"
    );

    let count = |q: EventQuery, cap: u32| store::read(&store, |tx| tx.count_events(&q, cap)).expect("count");
    assert_eq!(count(a(0), 100), 6);
    assert_eq!(count(a(0), 4), 4);
    assert_eq!(count(EventQuery { after_seq: 5, ..a(0) }, 100), 2);

    let first = |p: &str, t: i64| store::read(&store, |tx| tx.first_seq_since(p, Timestamp(t))).expect("first");
    assert_eq!(first("A", 0), Some(1));
    assert_eq!(first("A", 115), Some(4));
    assert_eq!(first("B", 121), None);

    let err = store::read(&store, |tx| {
        tx.append_event(&new_event("A", "x", None, "journal.note", 1))
    })
    .expect_err("read transactions take no events");
    assert_eq!(err.kind(), "internal");
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn failed_write_rolls_back_and_returns_the_error_unchanged() {
    let db = TestDb::new();
    let store = db.open();
    let s = session("s1", "proj", "alice", SessionStatus::Active, 1);
    let mut runs = 0;
    let err = store::write(&store, |tx| -> baton_core::Result<()> {
        runs += 1;
        tx.insert_session(&s)?;
        tx.append_event(&new_event("proj", "alice", Some("s1"), "session.started", 1))?;
        Err(Error::bad_input("no thanks"))
    })
    .expect_err("closure fails");
    assert_eq!(runs, 1, "a rule's error is not retried");
    assert!(
        matches!(&err, Error::BadInput { message, .. } if message == "no thanks"),
        "{err:?}"
    );
    assert_eq!(store::read(&store, |tx| tx.session("s1")).expect("read"), None);
    assert_eq!(store::read(&store, |tx| tx.last_seq()).expect("last seq"), 0);
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn an_event_committed_after_a_page_comes_after_its_cursor() {
    let db = TestDb::new();
    let slow_store = db.open();
    let store = db.open();
    let (appended, wait_appended) = mpsc::channel();
    let slow = thread::spawn(move || {
        store::write(&slow_store, |tx| {
            tx.append_event(&new_event("A", "slow", None, "journal.note", 1))?;
            let _ = appended.send(());
            thread::sleep(Duration::from_millis(400));
            Ok(())
        })
    });
    wait_appended.recv().expect("slow transaction started");
    store::write(&store, |tx| {
        tx.append_event(&new_event("A", "fast", None, "journal.note", 2))
    })
    .expect("fast");

    // A reader pages now, while the slow transaction is still open...
    let page = store::read(&store, |tx| {
        tx.events(&EventQuery {
            limit: 100,
            ..Default::default()
        })
    })
    .expect("page");
    assert_eq!(page.iter().map(|e| e.agent.as_str()).collect::<Vec<_>>(), ["fast"]);
    let cursor = page[0].seq;
    slow.join().expect("thread").expect("slow write");

    // ...and the event committed later still comes after its cursor.
    let next = store::read(&store, |tx| {
        tx.events(&EventQuery {
            after_seq: cursor,
            limit: 100,
            ..Default::default()
        })
    })
    .expect("next page");
    assert_eq!(next.iter().map(|e| e.agent.as_str()).collect::<Vec<_>>(), ["slow"]);
}

/// The ways a reader reads events: `events` first, `events` after another read, `last_seq` alone.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Way {
    EventsFirst,
    EventsLater,
    LastSeq,
}

/// What a reader saw, by seq and agent (for `LastSeq`, one pair with the seq), and how often its closure ran.
fn read_one_way(store: &PgStore, way: Way) -> (Vec<(i64, String)>, u32) {
    let all = EventQuery {
        limit: 100,
        ..Default::default()
    };
    let mut runs = 0;
    let seen = store::read(store, |tx| {
        runs += 1;
        let events = match way {
            Way::EventsFirst => tx.events(&all)?,
            Way::EventsLater => {
                tx.sessions(&SessionQuery::default())?;
                tx.events(&all)?
            }
            Way::LastSeq => return Ok(vec![(tx.last_seq()?, String::new())]),
        };
        Ok(events.into_iter().map(|e| (e.seq, e.agent)).collect())
    })
    .expect("read");
    (seen, runs)
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn readers_never_pass_a_seq_that_can_still_commit() {
    let db = TestDb::new();
    let store = db.open();
    let mut slow = db.client();
    const WAYS: [Way; 3] = [Way::EventsFirst, Way::EventsLater, Way::LastSeq];

    for outcome in ["commit", "roll back"] {
        // A writer takes a seq and does not commit yet; a later one takes a higher seq and commits.
        let mut tx = slow.transaction().expect("begin");
        let low = raw_event(&mut tx, "slow");
        store::write(&store, |tx| {
            tx.append_event(&new_event("A", "fast", None, "journal.note", 2))
        })
        .expect("write");
        let readers: Vec<_> = WAYS
            .iter()
            .map(|&way| {
                let (send, recv) = mpsc::channel();
                let reader_store = db.open();
                thread::spawn(move || {
                    let _ = send.send(read_one_way(&reader_store, way));
                });
                recv
            })
            .collect();
        thread::sleep(Duration::from_millis(500));
        // A reader may wait, or answer with nothing from `low` on: never with the higher seq alone.
        let mut waiting = Vec::new();
        for (way, recv) in WAYS.iter().zip(readers) {
            match recv.try_recv() {
                Ok((seen, _)) => assert!(
                    seen.iter().all(|(seq, _)| *seq < low),
                    "{outcome}, {way:?}: saw {seen:?} while seq {low} can still commit"
                ),
                Err(_) => waiting.push((way, recv)),
            }
        }
        eprintln!(
            "{outcome}: {} of 3 readers waited while seq {low} was open",
            waiting.len()
        );
        if outcome == "commit" {
            tx.commit().expect("commit");
        } else {
            tx.rollback().expect("roll back");
        }
        // Those that waited answer now; with the later event only if they also have the earlier one.
        for (way, recv) in waiting {
            let (seen, _) = recv
                .recv_timeout(Duration::from_secs(30))
                .expect("a waiting reader answers once the writer is done");
            if *way != Way::LastSeq && outcome == "commit" && seen.iter().any(|(seq, _)| *seq > low) {
                assert!(
                    seen.iter().any(|(seq, _)| *seq == low),
                    "{outcome}, {way:?}: saw {seen:?} without seq {low}"
                );
            }
        }
        // Once the writer is done, nothing is held back any more.
        let expected: Vec<&str> = match outcome {
            "commit" => vec!["slow", "fast"],
            _ => vec!["fast"],
        };
        let mut newest = 0;
        for way in [Way::EventsFirst, Way::EventsLater] {
            let (seen, runs) = read_one_way(&store, way);
            let tail: Vec<&str> = seen
                .iter()
                .filter(|(seq, _)| *seq >= low)
                .map(|(_, a)| a.as_str())
                .collect();
            assert_eq!(tail, expected, "{outcome}, {way:?}: {seen:?}");
            newest = seen.last().map(|e| e.0).unwrap_or(0);
            // Events read after another statement: the read runs again with the horizon first.
            let expected_runs = if way == Way::EventsLater { 2 } else { 1 };
            assert_eq!(runs, expected_runs, "{outcome}, {way:?}");
        }
        assert_eq!(read_one_way(&store, Way::LastSeq).0[0].0, newest, "{outcome}");
    }
    assert_eq!(
        baton_core::integrity::problems(&store).expect("check"),
        Vec::<String>::new()
    );
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn paging_readers_see_every_event_once_while_writers_race() {
    let db = TestDb::new();
    const STORE_WRITERS: usize = 4;
    const SLOW_WRITERS: usize = 3;
    const ROUNDS: usize = 150;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..STORE_WRITERS {
        let store = db.open();
        writers.push(thread::spawn(move || {
            for i in 0..ROUNDS {
                store::write(&store, |tx| {
                    for _ in 0..=(i + w) % 3 {
                        tx.append_event(&new_event("A", "store", None, "journal.note", i as i64))?;
                    }
                    Ok(())
                })
                .expect("store write");
                thread::sleep(Duration::from_micros(((i * 5 + w) % 4 * 250) as u64));
            }
        }));
    }
    for w in 0..SLOW_WRITERS {
        let mut client = db.client();
        writers.push(thread::spawn(move || {
            for i in 0..ROUNDS {
                // Takes a seq, then is slow to commit (or rolls back), while others take higher seqs.
                let mut tx = client.transaction().expect("begin");
                raw_event(&mut tx, "slow");
                thread::sleep(Duration::from_micros(((i * 7 + w * 3) % 10 * 300) as u64));
                if (i + w) % 5 == 0 {
                    tx.rollback().expect("roll back");
                } else {
                    tx.commit().expect("commit");
                }
            }
        }));
    }
    // Readers page by cursor; an empty page moves the cursor to `last_seq`, as `changes` does. Small pages
    // keep a reader busy with settled events; large ones keep it at the newest events, where writers race.
    let readers: Vec<_> = [(false, 5), (true, 5), (false, 100), (true, 100)]
        .into_iter()
        .map(|(read_something_first, limit)| {
            let store = db.open();
            let done = done.clone();
            let label = format!(
                "the reader of pages of {limit}{}",
                if read_something_first {
                    " that lists claims first"
                } else {
                    ""
                }
            );
            let handle = thread::spawn(move || {
                let mut seen: Vec<i64> = Vec::new();
                let mut cursor = 0;
                loop {
                    let finished = done.load(Ordering::SeqCst);
                    let (page, next) = store::read(&store, |tx| {
                        if read_something_first {
                            tx.claims(&ClaimQuery::default())?;
                        }
                        let page = tx.events(&EventQuery {
                            project: Some("A".into()),
                            after_seq: cursor,
                            limit,
                            ..Default::default()
                        })?;
                        let next = match page.last() {
                            Some(e) => e.seq,
                            None => tx.last_seq()?.max(cursor),
                        };
                        Ok((page, next))
                    })
                    .expect("page");
                    let empty = page.is_empty();
                    seen.extend(page.into_iter().map(|e| e.seq));
                    cursor = next;
                    if empty && finished {
                        return seen;
                    }
                }
            });
            (label, handle)
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
    done.store(true, Ordering::SeqCst);
    let store = db.open();
    let everything: Vec<i64> = store::read(&store, |tx| {
        tx.events(&EventQuery {
            limit: 1_000_000,
            ..Default::default()
        })
    })
    .expect("all events")
    .into_iter()
    .map(|e| e.seq)
    .collect();
    let expected_events = STORE_WRITERS * ROUNDS * 2 + SLOW_WRITERS * ROUNDS * 4 / 5;
    assert_eq!(everything.len(), expected_events);
    for (label, r) in readers {
        let seen = r.join().expect("reader");
        if seen != everything {
            let missed: Vec<i64> = everything.iter().filter(|s| !seen.contains(s)).copied().collect();
            let mut repeated = seen.clone();
            repeated.sort_unstable();
            let repeated: Vec<i64> = repeated.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
            panic!(
                "{label} saw {} of {} events; missed {missed:?}; repeated {repeated:?}",
                seen.len(),
                everything.len()
            );
        }
    }
    assert_eq!(
        baton_core::integrity::problems(&store).expect("check"),
        Vec::<String>::new()
    );
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn a_database_made_by_the_first_schema_keeps_working() {
    let db = TestDb::new();
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    client
        .batch_execute(&format!(
            "CREATE SCHEMA \"{0}\"; SET search_path TO \"{0}\";
             CREATE TABLE baton_schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL);
             INSERT INTO baton_schema_version VALUES (1, 0);",
            db.schema
        ))
        .expect("schema");
    client
        .batch_execute(include_str!("../migrations/0001_init.sql"))
        .expect("first migration");
    // Seqs 4 and 5 were taken by transactions that rolled back.
    client
        .batch_execute(
            "INSERT INTO events (seq, time, project, agent, session_id, kind, target, data) VALUES
                 (1, 10, 'A', 'old', NULL, 'journal.note', 't', '{}'),
                 (2, 20, 'A', 'old', NULL, 'journal.note', 't', '{}'),
                 (3, 30, 'A', 'old', NULL, 'journal.note', 't', '{}');
             UPDATE baton_event_seq SET value = 5;",
        )
        .expect("old events");
    // Grants of every state, made before the open-claim indexes existed.
    client
        .batch_execute(
            "INSERT INTO claims (id, project, item_type, repo, item_id, token, session_id, agent, state, ttl_secs,
                 granted_at, renewed_at, expires_at) VALUES
                 ('c1', 'A', 'task', 'r', 'run-out', 1, 's', 'old', 'held', 60, 10, 10, 70),
                 ('c2', 'A', 'task', 'r', 'live', 1, 's', 'old', 'held', 60, 20, 20, 9000000000000000),
                 ('c3', 'A', 'task', 'r', 'lapsed', 1, 's', 'old', 'expired', 60, 30, 30, 90),
                 ('c4', 'A', 'task', 'r', 'done', 1, 's', 'old', 'released', 60, 40, 40, 100);",
        )
        .expect("old claims");
    drop(client);

    let store = db.open();
    assert_eq!(
        baton_core::integrity::problems(&store).expect("check"),
        Vec::<String>::new()
    );
    assert_eq!(store::read(&store, |tx| tx.last_seq()).expect("last seq"), 3);
    store::write(&store, |tx| {
        tx.append_event(&new_event("A", "new", None, "journal.note", 40))?;
        tx.append_event(&new_event("A", "new", None, "journal.note", 41))
    })
    .expect("new events");
    let seqs: Vec<(i64, String)> = store::read(&store, |tx| {
        tx.events(&EventQuery {
            after_seq: 2,
            limit: 100,
            ..Default::default()
        })
    })
    .expect("events")
    .into_iter()
    .map(|e| (e.seq, e.agent))
    .collect();
    assert_eq!(
        seqs,
        [(3, "old".to_string()), (6, "new".to_string()), (7, "new".to_string())]
    );
    assert_eq!(store::read(&store, |tx| tx.last_seq()).expect("last seq"), 7);
    let items = |q: ClaimQuery| -> Vec<String> {
        store::read(&store, |tx| tx.claims(&q))
            .expect("claims")
            .into_iter()
            .map(|c| c.item_id)
            .collect()
    };
    let open = ClaimQuery {
        project: Some("A".into()),
        states: vec![ClaimState::Held, ClaimState::Expired],
        ..Default::default()
    };
    assert_eq!(items(open), ["run-out", "live", "lapsed"]);
    let run_out = ClaimQuery {
        project: Some("A".into()),
        states: vec![ClaimState::Held],
        expires_before: Some(Timestamp(1_000)),
        ..Default::default()
    };
    assert_eq!(items(run_out), ["run-out"]);
    let all = ClaimQuery {
        project: Some("A".into()),
        ..Default::default()
    };
    assert_eq!(items(all), ["run-out", "live", "lapsed", "done"]);
    assert_eq!(
        baton_core::integrity::problems(&store).expect("check"),
        Vec::<String>::new()
    );
}

/// An item's newest grant is read on every claim and release. Only the item's own index may fit that read:
/// a full index on the project's grants once let the planner walk the project's whole history when its
/// statistics were stale, so indexes that lead with the project and are not the item's cover open grants only.
#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn only_the_items_own_index_fits_the_read_of_its_newest_grant() {
    let db = TestDb::new();
    drop(db.open());
    let rows = db
        .client()
        .query(
            "SELECT i.relname::text, pg_get_indexdef(x.indexrelid), x.indpred IS NOT NULL
             FROM pg_index x
             JOIN pg_class i ON i.oid = x.indexrelid
             JOIN pg_class t ON t.oid = x.indrelid
             JOIN pg_namespace n ON n.oid = t.relnamespace
             WHERE t.relname = 'claims' AND n.nspname = current_schema()",
            &[],
        )
        .expect("indexes");
    let indexes: Vec<(String, String, bool)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    let full_on_project: Vec<&str> = indexes
        .iter()
        .filter(|(_, def, partial)| def.contains("(project") && !partial)
        .map(|(name, _, _)| name.as_str())
        .collect();
    assert_eq!(full_on_project, ["claims_item_token"], "indexes: {indexes:#?}");
    assert!(indexes.len() >= 5, "the claims table lost indexes: {indexes:#?}");
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn claims_through_the_rules() {
    let db = TestDb::new();
    let baton = Baton::new(Box::new(db.open()), Policy::default());
    let (mut alice, mut bob) = (caller("alice"), caller("bob"));
    alice.session = Some(
        baton
            .start_session(&alice, StartRequest::default())
            .expect("alice starts")
            .session_id,
    );
    let bob_started = baton.start_session(&bob, StartRequest::default()).expect("bob starts");
    bob.session = Some(bob_started.session_id.clone());
    assert!(
        !bob_started.digest.active_sessions.is_empty(),
        "bob's digest shows alice"
    );

    let won = baton.claim(&alice, claim_req("issue", "15")).expect("alice claims");
    assert!(won.claimed);
    let claim = won.claim.expect("claim");
    assert_eq!(claim.token, 1);
    assert_eq!(claim.state, ClaimState::Held);

    let lost = baton.claim(&bob, claim_req("issue", "15")).expect("bob asks");
    assert!(!lost.claimed);
    let holder = lost.claimed_by.expect("holder");
    assert_eq!((holder.agent.as_str(), holder.token), ("alice", 1));

    let again = baton.claim(&alice, claim_req("issue", "15")).expect("alice again");
    assert!(again.claimed && again.renewed);

    let err = baton
        .release(&bob, release_req("issue", "15"))
        .expect_err("bob does not hold it");
    assert_eq!(err.kind(), "conflict");
    let released = baton
        .release(&alice, release_req("issue", "15"))
        .expect("alice releases");
    assert_eq!(released.claim.release_status, Some(ReleaseStatus::Completed));

    let second = baton.claim(&bob, claim_req("issue", "15")).expect("bob claims");
    assert!(second.claimed);
    assert_eq!(second.claim.expect("claim").token, 2);

    let held = store::read(baton.store(), |tx| {
        tx.claims(&ClaimQuery {
            states: vec![ClaimState::Held],
            ..Default::default()
        })
    })
    .expect("held");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].agent, "bob");

    // Idempotent retries get the first answer back.
    let mut keyed = claim_req("pr", "7");
    keyed.idempotency_key = Some("k-1".to_string());
    let first = baton.claim(&alice, keyed.clone()).expect("keyed claim");
    let replay = baton.claim(&alice, keyed).expect("replay");
    assert_eq!(first, replay);

    // The activity log pages without gaps or repeats.
    let mut kinds = Vec::new();
    let mut seqs = Vec::new();
    let mut since = None;
    loop {
        let page = baton
            .changes(
                &alice,
                &ChangesRequest {
                    since: since.clone(),
                    limit: Some(2),
                    ..Default::default()
                },
            )
            .expect("changes");
        seqs.extend(page.events.iter().map(|e| e.seq));
        kinds.extend(page.events.iter().map(|e| e.kind.clone()));
        since = Some(page.next_cursor.to_string());
        if !page.more {
            break;
        }
    }
    let last = store::read(baton.store(), |tx| tx.last_seq()).expect("last seq");
    assert_eq!(seqs, (1..=last).collect::<Vec<_>>());
    for k in ["session.started", "claim.granted", "claim.renewed", "claim.released"] {
        assert!(kinds.iter().any(|x| x == k), "{k} missing from {kinds:?}");
    }
    let claim_family = baton
        .changes(
            &alice,
            &ChangesRequest {
                kind: Some("claim".into()),
                limit: Some(100),
                ..Default::default()
            },
        )
        .expect("claim events");
    assert!(claim_family.events.iter().all(|e| e.kind.starts_with("claim.")));
    assert_eq!(
        baton_core::integrity::problems(baton.store()).expect("check"),
        Vec::<String>::new()
    );
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn sixteen_clients_race_for_the_same_fifty_items() {
    let db = TestDb::new();
    const CLIENTS: usize = 16;
    const ITEMS: usize = 50;
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let db_url = Arc::new((db.url.clone(), db.schema.clone()));
    let handles: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let barrier = barrier.clone();
            let db_url = db_url.clone();
            thread::spawn(move || -> baton_core::Result<Vec<(usize, u32, i64, String)>> {
                let store = PgStore::open_in_schema(&db_url.0, &db_url.1)?;
                let baton = Baton::new(Box::new(store), Policy::default());
                let mut me = caller(&format!("agent-{i}"));
                let started = baton.start_session(&me, StartRequest::default())?;
                me.session = Some(started.session_id.clone());
                let mut wins = Vec::new();
                for round in 0..2u32 {
                    barrier.wait();
                    for k in 0..ITEMS {
                        let item = (k + i * 7) % ITEMS; // each client walks the items from a different place
                        let out = baton.claim(&me, claim_req("task", &format!("item-{item}")))?;
                        if out.claimed {
                            let c = out.claim.expect("granted claim");
                            wins.push((item, round, c.token, started.session_id.to_string()));
                        } else {
                            let h = out.claimed_by.expect("holder");
                            assert_ne!(h.session, started.session_id);
                        }
                    }
                    barrier.wait();
                    // Round two starts after every winner released its items.
                    for (item, r, _, _) in &wins {
                        if *r == round {
                            baton.release(&me, release_req("task", &format!("item-{item}")))?;
                        }
                    }
                }
                Ok(wins)
            })
        })
        .collect();
    let mut winners: HashMap<(usize, u32), Vec<(i64, String)>> = HashMap::new();
    for h in handles {
        for (item, round, token, session) in h.join().expect("client thread").expect("client ran") {
            winners.entry((item, round)).or_default().push((token, session));
        }
    }
    for round in 0..2u32 {
        for item in 0..ITEMS {
            let w = winners.get(&(item, round)).map(Vec::as_slice).unwrap_or_default();
            assert_eq!(w.len(), 1, "item-{item} round {round}: winners {w:?}");
            assert_eq!(w[0].0, i64::from(round) + 1, "item-{item} round {round}: fencing token");
        }
    }
    let store = db.open();
    let grants = store::read(&store, |tx| tx.claims(&ClaimQuery::default())).expect("claims");
    assert_eq!(grants.len(), 2 * ITEMS);
    assert!(grants.iter().all(|c| c.state == ClaimState::Released));
    assert_eq!(
        baton_core::integrity::problems(&store).expect("check"),
        Vec::<String>::new()
    );
}

fn held_claim(item_id: &str, token: i64, session_id: &str) -> Claim {
    Claim {
        id: format!("claim-{item_id}-{token}").into(),
        project: "proj".into(),
        item_type: "task".into(),
        repo: "org/app".into(),
        item_id: item_id.into(),
        token,
        session_id: session_id.into(),
        agent: "alice".into(),
        state: ClaimState::Held,
        ttl_secs: 60,
        granted_at: Timestamp(1),
        renewed_at: Timestamp(1),
        expires_at: Timestamp(61_000_000),
        ended_at: None,
        release_status: None,
        notes: None,
        loss_reported: false,
        forced_by: None,
    }
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn queued_writes_are_seen_by_later_reads_of_the_same_transaction() {
    let db = TestDb::new();
    let store = db.open();
    let s = session("s1", "proj", "alice", SessionStatus::Active, 1);
    let c = held_claim("7", 1, "s1");
    let key = c.key();
    let seen = store::write(&store, |tx| {
        tx.insert_session(&s)?;
        tx.lock_item(&key)?;
        tx.insert_claim(&c)?;
        let mut released = c.clone();
        released.state = ClaimState::Released;
        tx.update_claim(&released)?;
        tx.latest_claim(&key)
    })
    .expect("write");
    let seen = seen.expect("the claim inserted earlier in the transaction");
    assert_eq!((seen.token, seen.state), (1, ClaimState::Released));
    let stored = store::read(&store, |tx| tx.latest_claim(&key)).expect("read");
    assert_eq!(stored.map(|c| c.state), Some(ClaimState::Released));
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn a_queued_write_refused_at_commit_keeps_nothing_of_its_transaction() {
    let db = TestDb::new();
    let store = db.open();
    let s = session("s1", "proj", "alice", SessionStatus::Active, 1);
    let first = held_claim("7", 1, "s1");
    let mut second = held_claim("7", 1, "s1");
    second.id = "another-id".into();
    let err = store::write(&store, |tx| {
        tx.insert_session(&s)?;
        tx.append_event(&new_event("proj", "alice", Some("s1"), "claim.granted", 1))?;
        tx.insert_claim(&first)?;
        // Same item and token: the database refuses it when the queue is sent, at commit.
        tx.insert_claim(&second)
    })
    .expect_err("a duplicate grant is refused");
    assert_eq!(err.kind(), "conflict", "{err:?}");
    assert!(
        err.to_string()
            .contains("task org/app#7 already has a grant with token 1"),
        "the message names the item: {err}"
    );
    assert_eq!(store::read(&store, |tx| tx.session("s1")).expect("read"), None);
    assert_eq!(
        store::read(&store, |tx| tx.latest_claim(&first.key())).expect("read"),
        None
    );
    assert_eq!(store::read(&store, |tx| tx.last_seq()).expect("last seq"), 0);
    // The connection is usable afterwards.
    store::write(&store, |tx| tx.insert_session(&s)).expect("the next write works");
    assert!(store::read(&store, |tx| tx.session("s1")).expect("read").is_some());
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn a_panic_inside_a_transaction_keeps_nothing_and_the_store_keeps_working() {
    let db = TestDb::new();
    let store = db.open();
    let s = session("s1", "proj", "alice", SessionStatus::Active, 1);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = store::write(&store, |tx| -> baton_core::Result<()> {
            tx.insert_session(&s)?;
            tx.lock_item(&held_claim("7", 1, "s1").key())?;
            panic!("a bug in a rule");
        });
    }));
    assert!(panicked.is_err());
    // Had the transaction stayed open, this read would run inside it and see the session.
    assert_eq!(store::read(&store, |tx| tx.session("s1")).expect("read"), None);
    store::write(&store, |tx| tx.insert_session(&s)).expect("the next write works");
}

/// A schema of version 3 migrates its idempotency records to the caller scopes their results name.
#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn idempotency_records_of_version_three_get_their_callers() {
    let db = TestDb::new();
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    client
        .batch_execute(&format!(
            "CREATE SCHEMA \"{0}\"; SET search_path TO \"{0}\";
             CREATE TABLE baton_schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL);",
            db.schema
        ))
        .expect("an empty schema");
    for (version, sql) in [
        (1, include_str!("../migrations/0001_init.sql")),
        (2, include_str!("../migrations/0002_event_seq_sequence.sql")),
        (3, include_str!("../migrations/0003_indexes_of_open_rows.sql")),
    ] {
        client.batch_execute(sql).expect("an older migration");
        client
            .execute("INSERT INTO baton_schema_version VALUES ($1, 0)", &[&version])
            .expect("record its version");
    }
    client
        .batch_execute(
            r#"INSERT INTO idempotency (project, key, command, request, result, created_at) VALUES
               ('p', 'conversation-1', 'session start', '{}', '{"session_id":"s1","session":{"id":"s1","agent":"alice"}}', 1),
               ('p', 'log-1', 'session log', '{}', '{"session_id":"s1","entry":{}}', 2),
               ('p', 'end-1', 'session end', '{}', '{"session":{"id":"s2","agent":"bob"},"released":[]}', 3),
               ('p', 'import:00ff', 'session import', '{}', '{"session_id":"s3"}', 4),
               ('p', 'forced-1', 'release', '{"force":true}', '{"released":true,"claim":{"session_id":"victim"}}', 5),
               ('p', 'torn-1', 'claim', '{}', 'not json', 6)"#,
        )
        .expect("records of an older baton");
    let store = db.open();
    let found = store::read(&store, |tx| {
        [
            ("agent:alice", "conversation-1"),
            ("session:s1", "log-1"),
            ("session:s2", "end-1"),
            ("import", "import:00ff"),
            ("legacy", "forced-1"),
            ("legacy", "torn-1"),
        ]
        .iter()
        .map(|(scope, key)| Ok(tx.idempotency("p", scope, key)?.map(|r| r.command)))
        .collect::<baton_core::Result<Vec<_>>>()
    })
    .expect("read the records");
    assert_eq!(
        found,
        [
            Some("session start".to_string()),
            Some("session log".to_string()),
            Some("session end".to_string()),
            Some("session import".to_string()),
            Some("release".to_string()),
            Some("claim".to_string()),
        ]
    );
    assert_eq!(
        baton_core::integrity::problems(&store).expect("check"),
        Vec::<String>::new()
    );
}

/// The test schema opened through the test URL with `params` added, waiting at most `lock_timeout`.
fn open_with_params(db: &TestDb, params: &str, lock_timeout: &str) -> PgStore {
    let sep = if db.url.contains('?') { '&' } else { '?' };
    let options = baton_core::config::store_options(Some(lock_timeout), "the test").expect("a lock timeout");
    PgStore::open_in_schema_with(&format!("{}{sep}{params}", db.url), &db.schema, &options)
        .expect("open the test schema")
}

/// How many connections to the server name themselves `application`.
fn connections_named(db: &TestDb, application: &str) -> i64 {
    db.client()
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            &[&application],
        )
        .expect("count connections")
        .get(0)
}

/// One store serves two callers at once: while one thread holds a transaction open (it has read a
/// session, so the server has begun it), another thread's write and read on the same store complete on a
/// second connection. Calls made one at a time keep to one connection.
#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn a_second_caller_of_one_store_is_served_while_a_first_holds_its_transaction_open() {
    let db = TestDb::new();
    let app = format!("{}_two", db.schema);
    // Long enough that the held transaction is not ended for sitting idle (half the lock timeout).
    let store = open_with_params(&db, &format!("application_name={app}"), "60s");
    for id in ["s1", "s2", "s3"] {
        store::write(&store, |tx| {
            tx.insert_session(&session(id, "proj", "alice", SessionStatus::Active, 1))
        })
        .expect("write");
    }
    assert_eq!(
        connections_named(&db, &app),
        1,
        "calls one at a time share one connection"
    );

    let (began, began_rx) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    let store = &store;
    thread::scope(|scope| {
        let first = scope.spawn(move || {
            store::write(store, |tx| {
                tx.session("s1")?.expect("s1 exists");
                tx.insert_session(&session("held", "proj", "alice", SessionStatus::Active, 2))?;
                let _ = began.send(());
                // Held until the second caller is done (or gave up); a run again after that does not wait.
                let _ = go_rx.recv();
                Ok(())
            })
        });
        began_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the first transaction began");
        let (done, done_rx) = mpsc::channel();
        scope.spawn(move || {
            let outcome = store::write(store, |tx| {
                tx.insert_session(&session("second", "proj", "bob", SessionStatus::Active, 3))
            })
            .and_then(|()| store::read(store, |tx| tx.session("second")));
            let _ = done.send(outcome);
        });
        let second = done_rx.recv_timeout(Duration::from_secs(60));
        // Whatever happened, let the first transaction end so the threads finish.
        drop(go);
        let second = second.expect("the second caller finished while the first held its transaction open");
        assert_eq!(
            second.expect("the second caller's calls").map(|s| s.agent).as_deref(),
            Some("bob")
        );
        first
            .join()
            .expect("the first caller")
            .expect("the first transaction commits");
    });
    let all = store::read(store, |tx| tx.sessions(&SessionQuery::default())).expect("sessions");
    let mut ids: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["held", "s1", "s2", "s3", "second"]);
    assert_eq!(
        connections_named(&db, &app),
        2,
        "the second connection stays for the next caller"
    );
}

/// A caller that finds every connection of the pool in use waits no longer than the lock timeout, then
/// gives up as busy, changing nothing; once the connection is free again, calls go through.
#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn a_caller_that_finds_every_connection_in_use_gives_up_as_busy() {
    let db = TestDb::new();
    let store = open_with_params(&db, "pool_size=1", "1s");
    let (began, began_rx) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    let store = &store;
    thread::scope(|scope| {
        let first = scope.spawn(move || {
            // Sends nothing to the server, so nothing there ends it while it waits.
            store::read(store, |_| {
                let _ = began.send(());
                let _ = go_rx.recv();
                Ok(())
            })
        });
        began_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the first transaction began");
        let refused = store::write(store, |tx| {
            tx.insert_session(&session("s1", "proj", "bob", SessionStatus::Active, 1))
        });
        drop(go);
        let err = refused.expect_err("the only connection is in use");
        let message = err.to_string();
        assert_eq!(err.kind(), "busy", "{message}");
        assert!(
            message.contains("waited 1s for one of this process's 1 connection"),
            "{message}"
        );
        assert!(message.contains("nothing was changed"), "{message}");
        assert!(message.contains("pool_size"), "{message}");
        assert!(message.contains("lock_timeout"), "{message}");
        let details = err.details().expect("busy details");
        assert_eq!(details["waited_for"], "connection", "{details}");
        assert_eq!(details["pool_size"], 1, "{details}");
        first.join().expect("the first caller").expect("the first transaction");
    });
    assert_eq!(store::read(store, |tx| tx.session("s1")).expect("read"), None);
    store::write(store, |tx| {
        tx.insert_session(&session("s1", "proj", "bob", SessionStatus::Active, 1))
    })
    .expect("the connection is free again");
}

/// Connections the server ended while they sat in the pool are replaced: the next calls work, and the
/// pool opens no more connections than it may.
#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn connections_the_server_ended_are_replaced() {
    let db = TestDb::new();
    let app = format!("{}_ended", db.schema);
    let store = open_with_params(&db, &format!("application_name={app}&pool_size=2"), "10s");
    store::write(&store, |tx| {
        tx.insert_session(&session("s1", "proj", "alice", SessionStatus::Active, 1))
    })
    .expect("write");
    let mut admin = db.client();
    let ended: i64 = admin
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) t",
            &[&app],
        )
        .expect("end the store's connections")
        .get(0);
    assert_eq!(ended, 1);
    for i in 0..3 {
        let id = format!("t{i}");
        store::write(&store, |tx| {
            tx.insert_session(&session(&id, "proj", "alice", SessionStatus::Active, 2))
        })
        .expect("a write after the connection was ended");
    }
    assert_eq!(
        store::read(&store, |tx| tx.sessions(&SessionQuery::default()))
            .expect("read")
            .len(),
        4
    );
    assert!(connections_named(&db, &app) <= 2);
    assert_eq!(
        baton_core::integrity::problems(&store).expect("doctor's check"),
        Vec::<String>::new()
    );
}

/// A transaction whose connection the server ends before its COMMIT was sent kept nothing: it runs again,
/// on a new connection, and the caller sees only its outcome.
#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn a_transaction_whose_connection_the_server_ends_runs_again_on_a_new_one() {
    let db = TestDb::new();
    let app = format!("{}_mid", db.schema);
    let store = open_with_params(&db, &format!("application_name={app}"), "10s");
    store::write(&store, |tx| {
        tx.insert_session(&session("s1", "proj", "alice", SessionStatus::Active, 1))
    })
    .expect("write");
    let mut admin = db.client();
    let mut runs = 0;
    let found = store::read(&store, |tx| {
        runs += 1;
        if runs == 1 {
            // The transaction has its connection and has sent nothing yet: end that connection now.
            admin
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                    &[&app],
                )
                .expect("end the store's connection");
            while connections_named(&db, &app) > 0 {
                thread::sleep(Duration::from_millis(10));
            }
        }
        tx.session("s1")
    })
    .expect("the read runs again on a new connection");
    assert_eq!(found.map(|s| s.id).as_deref(), Some("s1"));
    assert_eq!(runs, 2);
}
