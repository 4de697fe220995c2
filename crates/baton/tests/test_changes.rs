//! `baton changes`: time, duration and cursor starts, kind and agent filters, paging, concurrent writers, --follow.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::common::{Backend, Env, kinds, micros};

fn seqs(events: &[Value]) -> Vec<i64> {
    events.iter().map(|e| e["seq"].as_i64().expect("seq")).collect()
}

fn page(env: &Env, args: &[&str]) -> Value {
    let mut all = vec!["changes", "--json"];
    all.extend_from_slice(args);
    let r = env.run(&all);
    r.ok();
    r.json()
}

fn events(v: &Value) -> Vec<Value> {
    v["events"].as_array().cloned().expect("events")
}

/// Two agents doing a little of everything.
fn busy_env() -> Env {
    let env = Env::new();
    env.start("alice", "a");
    env.start("bob", "b");
    env.run_as("alice", &["claim", "issue", "1"]).ok();
    env.run_as("bob", &["claim", "issue", "2"]).ok();
    env.run_as("alice", &["session", "log", "--progress", "p1"]).ok();
    env.run_as("bob", &["session", "log", "--decision", "d1", "--rationale", "r"])
        .ok();
    env.run_as("alice", &["release", "issue", "1", "--status", "completed"])
        .ok();
    env.run_as("bob", &["claim", "pr", "3"]).ok();
    env.run_as("alice", &["session", "log", "--progress", "p2"]).ok();
    env
}

#[test]
fn since_duration_time_and_cursor() {
    let env = busy_env();
    let all = env.all_events();
    assert_eq!(all.len(), 9, "{:?}", kinds(&all));
    let s = seqs(&all);
    assert!(s.windows(2).all(|w| w[0] < w[1]), "{s:?}");

    // A duration reaching back before everything: all of it, in order.
    assert_eq!(events(&page(&env, &["--since", "2h"])), all);
    assert_eq!(events(&page(&env, &["--since", "1d"])), all);
    // No --since: from the beginning.
    assert_eq!(events(&page(&env, &[])), all);

    // An RFC 3339 time: events at or after it.
    for k in [0, 3, 8] {
        let t = all[k]["time"].as_str().unwrap();
        let got = events(&page(&env, &["--since", t]));
        let first = all
            .iter()
            .position(|e| micros(e["time"].as_str().unwrap()) >= micros(t))
            .unwrap();
        assert_eq!(got, all[first..].to_vec(), "--since {t}");
    }
    let got = events(&page(&env, &["--since", "2000-01-01T00:00:00Z"]));
    assert_eq!(got, all);
    let later = page(&env, &["--since", "2999-01-01T00:00:00+02:00"]);
    assert_eq!(events(&later), Vec::<Value>::new());
    assert_eq!(later["more"], false);

    // A cursor: events after that seq.
    for k in [0, 4, 8] {
        let c = s[k].to_string();
        let p = page(&env, &["--since", &c]);
        assert_eq!(events(&p), all[k + 1..].to_vec(), "--since {c}");
        assert_eq!(p["next_cursor"], s[8]);
    }
    assert_eq!(events(&page(&env, &["--since", "0"])), all);

    // Text mode: one row per event and the cursor.
    let r = env.run(&["changes", "--since", &s[6].to_string()]);
    r.ok()
        .stdout_has("claim.granted")
        .stdout_has("journal.progress")
        .stdout_has(&format!("next_cursor: {}", s[8]));
    assert_eq!(r.stdout.lines().count(), 3, "{}", r.stdout);
}

#[test]
fn kind_and_agent_filters() {
    let env = busy_env();
    let all = env.all_events();

    let fam = events(&page(&env, &["--kind", "claim"]));
    let want: Vec<Value> = all
        .iter()
        .filter(|e| e["kind"].as_str().unwrap().starts_with("claim."))
        .cloned()
        .collect();
    assert_eq!(fam, want);
    assert_eq!(
        kinds(&fam),
        ["claim.granted", "claim.granted", "claim.released", "claim.granted"]
    );

    let granted = events(&page(&env, &["--kind", "claim.granted"]));
    assert_eq!(kinds(&granted), ["claim.granted"; 3]);
    assert_eq!(
        granted
            .iter()
            .map(|e| e["target"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["issue org/app#1", "issue org/app#2", "pr org/app#3"]
    );

    let journal = events(&page(&env, &["--kind", "journal"]));
    assert_eq!(
        kinds(&journal),
        ["journal.progress", "journal.decision", "journal.progress"]
    );

    let bob = events(&page(&env, &["--agent", "bob"]));
    let want: Vec<Value> = all.iter().filter(|e| e["agent"] == "bob").cloned().collect();
    assert_eq!(bob, want);
    assert_eq!(bob.len(), 4);
    let bob_claims = events(&page(&env, &["--agent", "bob", "--kind", "claim.granted"]));
    assert_eq!(bob_claims.len(), 2);
    assert!(bob_claims.iter().all(|e| e["agent"] == "bob"));
    assert_eq!(events(&page(&env, &["--agent", "nobody"])), Vec::<Value>::new());
}

#[test]
fn paging_visits_every_event_once_in_order() {
    let env = busy_env();
    let all = env.all_events();
    for limit in [1, 2, 4, 9, 10] {
        let mut seen = Vec::new();
        let mut cursor = "0".to_string();
        let mut pages = 0;
        loop {
            let p = page(&env, &["--since", &cursor, "--limit", &limit.to_string()]);
            let ev = events(&p);
            assert!(ev.len() <= limit, "page larger than --limit {limit}");
            seen.extend(ev);
            cursor = p["next_cursor"].as_i64().unwrap().to_string();
            pages += 1;
            if p["more"] == false {
                break;
            }
            assert!(pages < 100, "paging does not end");
        }
        assert_eq!(seen, all, "--limit {limit}");
        assert_eq!(pages, all.len().div_ceil(limit).max(1), "--limit {limit}");
    }
    // Filtered paging too.
    let mut seen = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let p = page(&env, &["--since", &cursor, "--limit", "1", "--kind", "claim"]);
        seen.extend(events(&p));
        cursor = p["next_cursor"].as_i64().unwrap().to_string();
        if p["more"] == false {
            break;
        }
    }
    assert_eq!(
        kinds(&seen),
        ["claim.granted", "claim.granted", "claim.released", "claim.granted"]
    );
}

#[test]
fn reader_paging_during_concurrent_writers_misses_nothing_sqlite() {
    reader_during_writers(Env::new());
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn reader_paging_during_concurrent_writers_misses_nothing_postgres() {
    reader_during_writers(Env::with_backend(Backend::postgres()));
}

/// Four writer processes log while a reader pages with next_cursor; the reader must see every event once, in order.
fn reader_during_writers(env: Env) {
    const WRITERS: usize = 4;
    const LOGS: usize = 25;
    let env = Arc::new(env);
    let sessions: Vec<String> = (0..WRITERS)
        .map(|w| env.start(&format!("writer-{w}"), "write"))
        .collect();
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut handles = Vec::new();
    for (w, sid) in sessions.into_iter().enumerate() {
        let env = Arc::clone(&env);
        let done = Arc::clone(&done);
        handles.push(std::thread::spawn(move || {
            for i in 0..LOGS {
                env.run(&["session", "log", "--progress", &format!("w{w} #{i}"), "--session", &sid])
                    .ok();
            }
            done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }));
    }

    let mut seen: Vec<Value> = Vec::new();
    let mut cursor = 0i64;
    let mut pages = 0;
    loop {
        let finished = done.load(std::sync::atomic::Ordering::SeqCst) == WRITERS;
        let p = page(&env, &["--since", &cursor.to_string(), "--limit", "7"]);
        pages += 1;
        let ev = events(&p);
        let next = p["next_cursor"].as_i64().unwrap();
        assert!(next >= cursor, "the cursor went back: {cursor} -> {next}");
        if let Some(last) = ev.last() {
            assert_eq!(last["seq"].as_i64(), Some(next));
        }
        seen.extend(ev);
        cursor = next;
        // Stop only on an empty "no more" page read after every writer had finished.
        if finished && p["more"] == false && p["events"].as_array().is_some_and(|a| a.is_empty()) {
            break;
        }
        assert!(pages < 10_000, "the reader never caught up");
    }
    for h in handles {
        h.join().expect("writer");
    }

    let all = env.all_events();
    assert_eq!(all.len(), WRITERS + WRITERS * LOGS);
    let s = seqs(&seen);
    assert!(s.windows(2).all(|w| w[0] < w[1]), "seq not strictly increasing: {s:?}");
    assert_eq!(s, seqs(&all), "the reader missed or repeated events");
    assert_eq!(seen, all);
    // Each writer's own entries appear in the order it wrote them.
    for w in 0..WRITERS {
        let texts: Vec<String> = all
            .iter()
            .filter(|e| e["agent"] == format!("writer-{w}").as_str() && e["kind"] == "journal.progress")
            .map(|e| e["data"]["text"].as_str().unwrap().to_string())
            .collect();
        let want: Vec<String> = (0..LOGS).map(|i| format!("w{w} #{i}")).collect();
        assert_eq!(texts, want);
    }
    assert!(pages > 1);
}

#[test]
fn follow_prints_new_events_as_json_lines() {
    let env = Env::new();
    let sid = env.start("alice", "follow me");
    let mut child = env
        .cmd(&["changes", "--follow", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next_line = |what: &str| -> Value {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("no line for {what}: {e}"));
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not one JSON event per line ({e}): {line}"))
    };

    // What was there before it started comes first.
    let first = next_line("session.started");
    assert_eq!(first["kind"], "session.started");
    assert_eq!(first["session_id"], sid.as_str());

    for i in 0..3 {
        env.run_as("alice", &["session", "log", "--progress", &format!("step {i}")])
            .ok();
    }
    let mut got = Vec::new();
    for i in 0..3 {
        got.push(next_line(&format!("step {i}")));
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();

    assert_eq!(kinds(&got), ["journal.progress"; 3]);
    let texts: Vec<&str> = got.iter().map(|e| e["data"]["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["step 0", "step 1", "step 2"]);
    let s = seqs(&got);
    assert!(
        first["seq"].as_i64().unwrap() < s[0] && s.windows(2).all(|w| w[0] < w[1]),
        "{s:?}"
    );
    assert_eq!(env.all_events()[1..].to_vec(), got);
}
