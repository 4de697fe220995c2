//! Messages and requests through the real binary: the commands, their JSON and exit codes, and real
//! processes sending and reading at once, every message new exactly once for each recipient.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{Backend, Env};

const SENDERS: usize = 16;
const READERS: usize = 16;
/// Each inbox is read by two processes at once.
const INBOXES: usize = READERS / 2;
const PER_SENDER: usize = 5;

fn ids(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Sixteen processes send to everyone while sixteen read eight inboxes, two readers each: every message
/// reaches every inbox and is new in exactly one read of it.
fn race(env: Env) {
    let env = Arc::new(env);
    let inboxes: Vec<String> = (0..INBOXES)
        .map(|i| env.start(&format!("reader-{i}"), "reads"))
        .collect();
    let senders: Vec<String> = (0..SENDERS)
        .map(|i| env.start(&format!("sender-{i}"), "sends"))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut sending = Vec::new();
    for (i, sid) in senders.iter().cloned().enumerate() {
        let env = Arc::clone(&env);
        sending.push(std::thread::spawn(move || {
            let mut sent = Vec::new();
            for n in 0..PER_SENDER {
                let text = format!("m {i} {n}");
                let r = env.run(&["send", "--session", &sid, "--to", "all", &text, "--json"]);
                r.ok();
                sent.push(r.json()["message"]["id"].as_str().expect("id").to_string());
            }
            sent
        }));
    }
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut reading = Vec::new();
    for r in 0..READERS {
        let env = Arc::clone(&env);
        let sid = inboxes[r % INBOXES].clone();
        let done = Arc::clone(&done);
        reading.push(std::thread::spawn(move || {
            let mut new = Vec::new();
            // Reads until the senders are done and a read after that finds nothing new; bounded in count and time.
            for _ in 0..2000 {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let page = env.run(&["inbox", "--session", &sid, "--unread", "--limit", "50", "--json"]);
                page.ok();
                let j = page.json();
                let items = j["messages"].as_array().cloned().unwrap_or_default();
                for m in &items {
                    assert_eq!(m["new"], true, "--unread shows only new messages: {m}");
                    new.push(m["id"].as_str().expect("id").to_string());
                }
                if finished && items.is_empty() {
                    break;
                }
                assert!(Instant::now() < deadline, "readers did not finish in time");
            }
            (sid, new)
        }));
    }
    let mut all_sent = HashSet::new();
    for h in sending {
        all_sent.extend(h.join().expect("sender"));
    }
    assert_eq!(all_sent.len(), SENDERS * PER_SENDER);
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut seen: HashMap<String, Vec<String>> = HashMap::new();
    for h in reading {
        let (sid, new) = h.join().expect("reader");
        seen.entry(sid).or_default().extend(new);
    }
    for sid in &inboxes {
        let got = &seen[sid];
        let unique: HashSet<&String> = got.iter().collect();
        assert_eq!(unique.len(), got.len(), "inbox {sid}: a message was new twice");
        let unique: HashSet<String> = got.iter().cloned().collect();
        assert_eq!(unique, all_sent, "inbox {sid}: every message, once");
        // And the inbox agrees: nothing unread is left.
        let left = env.run(&["inbox", "--session", sid, "--unread", "--json"]);
        assert_eq!(left.json()["messages"].as_array().map(Vec::len), Some(0));
    }
}

#[test]
fn sixteen_senders_and_sixteen_readers_each_message_new_once_sqlite() {
    race(Env::new());
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn sixteen_senders_and_sixteen_readers_each_message_new_once_postgres() {
    race(Env::with_backend(Backend::postgres()));
}

/// Recipients of the broadcasts that ack them all at once.
const ACKERS: usize = 16;
/// Broadcasts each of them acks, in one `baton ack`, each process in an order of its own.
const BROADCASTS: usize = 4;

/// Sixteen processes, released together, each acknowledge their copies of the same four broadcasts in one
/// call and in orders that differ: every call succeeds, every copy ends acknowledged once, and each
/// broadcast, acknowledged by everyone it reached, is closed to sessions that start later.
fn ack_race(env: Env) {
    let sender = env.start("sender", "announces");
    let ackers: Vec<String> = (0..ACKERS).map(|i| env.start(&format!("acker-{i}"), "acks")).collect();
    let messages: Vec<String> = (0..BROADCASTS)
        .map(|n| {
            let r = env.run(&["send", "--session", &sender, "--to", "all", &format!("b {n}"), "--json"]);
            r.ok();
            assert_eq!(r.json()["delivered_to"].as_array().map(Vec::len), Some(ACKERS));
            r.json()["message"]["id"].as_str().expect("id").to_string()
        })
        .collect();
    let gate = env.home.path().join("go");
    let mut children = Vec::new();
    for (i, sid) in ackers.iter().enumerate() {
        let mut order = messages.clone();
        order.rotate_left(i % BROADCASTS);
        if i % 2 == 1 {
            order.reverse();
        }
        let mut args = vec!["ack", "--session", sid.as_str(), "--json"];
        args.extend(order.iter().map(String::as_str));
        let child = crate::common::behind_gate(&env.cmd(&args), &gate)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn baton ack");
        children.push(child);
    }
    std::fs::write(&gate, "").expect("open the gate");
    let deadline = Instant::now() + Duration::from_secs(180);
    for (i, mut child) in children.into_iter().enumerate() {
        while child.try_wait().expect("wait for baton ack").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("baton ack of acker {i} did not finish in time");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let r = crate::common::Run::from(child.wait_with_output().expect("baton ack output"));
        r.ok();
        let acked: HashSet<String> = ids(&r.json(), "acked").into_iter().collect();
        assert_eq!(
            acked,
            messages.iter().cloned().collect(),
            "acker {i} acked each broadcast"
        );
        assert!(
            ids(&r.json(), "already").is_empty(),
            "acker {i}: nothing was acked before"
        );
    }
    for sid in &ackers {
        let inbox = env.run(&["inbox", "--session", sid, "--all", "--json"]);
        inbox.ok();
        let items = inbox.json()["messages"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), BROADCASTS, "inbox {sid}: {items:?}");
        for m in &items {
            assert!(m["acked_at"].is_string(), "inbox {sid}: acknowledged: {m}");
        }
    }
    let events = env.all_events();
    for id in &messages {
        let acks: Vec<&Value> = events
            .iter()
            .filter(|e| e["kind"] == "message.acked" && e["target"] == id.as_str())
            .collect();
        let by: HashSet<&str> = acks.iter().filter_map(|e| e["session_id"].as_str()).collect();
        assert_eq!(acks.len(), ACKERS, "one message.acked per copy of {id}");
        assert_eq!(by.len(), ACKERS, "each acker acked {id} once");
        let thread = env.run(&["thread", "--session", &sender, id, "--json"]);
        thread.ok();
        assert_eq!(thread.json()["messages"][0]["open"], false, "{id} is closed");
    }
    // Closed: a session that starts now is given none of them.
    let late = env.start("late", "arrives after");
    let inbox = env.run(&["inbox", "--session", &late, "--all", "--json"]);
    assert_eq!(inbox.json()["messages"].as_array().map(Vec::len), Some(0));
}

#[test]
fn sixteen_recipients_ack_the_same_broadcasts_at_once_sqlite() {
    ack_race(Env::new());
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn sixteen_recipients_ack_the_same_broadcasts_at_once_postgres() {
    ack_race(Env::with_backend(Backend::postgres()));
}

/// The commands end to end: send, inbox, ack, thread, sent, and a request from asked to completed.
#[test]
fn messages_and_requests_from_the_command_line() {
    let env = Env::new();
    let alice = env.start("alice", "auth");
    let bob = env.start("bob", "review");
    let sent = env.run_as(
        "alice",
        &[
            "send",
            "--to",
            "bob",
            "--type",
            "interface_ready",
            "AuthContext is ready",
            "--json",
        ],
    );
    sent.ok();
    let msg = sent.json()["message"]["id"].as_str().expect("id").to_string();
    assert_eq!(sent.json()["delivered_to"], serde_json::json!(["agent:bob"]));
    let inbox = env.run_as("bob", &["inbox"]);
    inbox
        .ok()
        .stdout_has("* ")
        .stdout_has("AuthContext is ready")
        .stdout_has("[interface_ready]");
    let again = env.run_as("bob", &["inbox", "--json"]);
    assert_eq!(again.json()["messages"][0]["new"], false);
    let reply = env.run_as("bob", &["send", "--to", &alice, "--reply-to", &msg, "thanks", "--json"]);
    reply.ok();
    let thread = env.run_as("alice", &["thread", &msg, "--json"]);
    let texts: Vec<String> = thread.json()["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(texts, ["AuthContext is ready", "thanks"]);
    let ack = env.run_as("bob", &["ack", &msg, "--json"]);
    assert_eq!(ids(&ack.json(), "acked"), vec![msg.clone()]);
    let twice = env.run_as("bob", &["ack", &msg, "--json"]);
    twice.ok();
    assert_eq!(ids(&twice.json(), "already"), vec![msg.clone()]);
    env.run_as("alice", &["sent"])
        .ok()
        .stdout_has("agent:bob: acknowledged");
    // Bad input: exit 2 or 4 naming the value.
    env.run_as("alice", &["send", "--to", "team:x", "hi"])
        .code(2)
        .stderr_has("team:x");
    env.run_as("alice", &["send", "--to", "nobody", "hi"])
        .code(4)
        .stderr_has("nobody");
    env.run_as("alice", &["send", "--to", "bob", ""])
        .code(2)
        .stderr_has("empty");
    env.run_as("carol", &["session", "start", "--json"]).ok();
    env.run_as("carol", &["ack", &msg]).code(4);
    // A request, answered by its addressee only.
    let req = env.run_as(
        "alice",
        &["request", "--to", &bob, "--type", "review", "review PR #16", "--json"],
    );
    req.ok();
    let rid = req.json()["request"]["id"].as_str().expect("id").to_string();
    env.run_as("alice", &["request", "--to", &bob, "--type", "approve", "x"])
        .code(2)
        .stderr_has("approve")
        .stderr_has("review, help, implement");
    env.run_as("carol", &["request", "accept", &rid])
        .code(3)
        .stderr_has(&bob);
    env.run_as("bob", &["request", "accept", &rid, "--response", "on it"])
        .ok();
    env.run_as("bob", &["request", "decline", &rid])
        .code(2)
        .stderr_has("accepted");
    env.run_as("bob", &["request", "complete", &rid, "--response", "LGTM"])
        .ok();
    let mine = env.run_as("alice", &["requests", "--mine", "--status", "completed", "--json"]);
    assert_eq!(mine.json()["requests"][0]["response"], "LGTM");
    env.run_as("alice", &["requests", "--status", "done"])
        .code(2)
        .stderr_has("done");
    env.run_as("alice", &["inbox"])
        .ok()
        .stdout_has("[response]")
        .stdout_has("completed: LGTM");
    let kinds = crate::common::kinds(&env.all_events());
    for k in [
        "message.sent",
        "message.acked",
        "request.created",
        "request.accepted",
        "request.completed",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
}

/// Interfaces from the command line: a need, a declaration that tells it, the list, and refusals.
#[test]
fn interfaces_from_the_command_line() {
    let env = Env::new();
    let alice = env.start("alice", "auth");
    env.start("bob", "login page");
    let need = env.run_as("bob", &["needs", "AuthContext", "--from", "alice", "--json"]);
    need.ok();
    assert_eq!(need.json()["dependency"]["from"], "agent:alice");
    assert_eq!(need.json()["available"], Value::Null);
    let export = env.run_as(
        "alice",
        &[
            "export",
            "AuthContext",
            "--file",
            "src/auth/context.py",
            "--description",
            "who is calling",
            "--json",
        ],
    );
    export.ok();
    assert_eq!(export.json()["updated"], false);
    assert_eq!(export.json()["told"].as_array().map(Vec::len), Some(1));
    env.run_as("bob", &["inbox", "--unread"])
        .ok()
        .stdout_has("[interface_ready]")
        .stdout_has("AuthContext is ready in src/auth/context.py: who is calling");
    env.run_as("bob", &["interfaces"])
        .ok()
        .stdout_has("AuthContext in src/auth/context.py");
    let mine = env.run_as("bob", &["interfaces", "--session", &alice, "--json"]);
    assert_eq!(mine.json()["interfaces"].as_array().map(Vec::len), Some(1));
    env.run_as("alice", &["export", "AuthContext", "--description", "and scopes"])
        .ok()
        .stdout_has("Updated AuthContext");
    env.run_as("bob", &["needs", "AuthContext", "--from", "all"])
        .code(2)
        .stderr_has("all");
    env.run_as("bob", &["needs", "AuthContext", "--from", "nobody"])
        .code(4)
        .stderr_has("nobody");
    env.run_as("bob", &["export", "Auth Context"])
        .code(2)
        .stderr_has("interface name");
    let kinds = crate::common::kinds(&env.all_events());
    for k in ["interface.needed", "interface.declared", "interface.updated"] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
}

/// `.baton/context.yaml`: written by `context render`, the same bytes for the same state, and kept current with
/// `[docs] auto` as interfaces, decisions and requests change.
#[test]
fn the_shared_context_file_is_rendered_and_follows_changes() {
    let env = Env::new();
    env.start("alice", "auth");
    env.start("bob", "login");
    let file = env.repo.join(".baton/context.yaml");
    env.run_as("alice", &["export", "AuthContext", "--file", "src/auth/context.py"])
        .ok();
    env.run_as("alice", &["context", "render"]).ok().stdout_has("Wrote");
    let first = std::fs::read_to_string(&file).expect("context.yaml");
    assert!(
        first.contains("auth:") && first.contains("name: AuthContext"),
        "{first}"
    );
    env.run_as("alice", &["context", "render"]).ok().stdout_has("Unchanged");
    assert_eq!(std::fs::read_to_string(&file).expect("context.yaml"), first);
    // With [docs] auto, a decision and a request show without rendering by hand.
    env.auto_docs();
    env.run_as(
        "alice",
        &[
            "session",
            "log",
            "--decision",
            "JWT for tokens",
            "--rationale",
            "stateless",
        ],
    )
    .ok();
    env.run_as(
        "alice",
        &["request", "--to", "bob", "--type", "review", "review the token code"],
    )
    .ok();
    let now = std::fs::read_to_string(&file).expect("context.yaml");
    for needle in [
        "decision: JWT for tokens",
        "rationale: stateless",
        "message: review the token code",
        "status: pending",
    ] {
        assert!(now.contains(needle), "{needle} in:\n{now}");
    }
    let parsed: Value =
        serde_json::to_value(env.run_as("alice", &["context", "render", "--json"]).json()["context"].clone())
            .expect("json");
    assert_eq!(parsed["todos"][0]["to"], "agent:bob");
}

/// A hand-written context file comes into the store: its sessions (found, or imported with their decisions)
/// and interfaces; importing it again changes nothing, and what baton writes reads back.
#[test]
fn a_context_file_is_imported_once() {
    let env = Env::new();
    let alice = env.start("alice", "auth");
    std::fs::create_dir_all(env.repo.join("docs")).expect("dir");
    let hand = env.repo.join("docs/team.yaml");
    std::fs::write(
        &hand,
        format!(
            "interfaces:\n  - name: AuthContext\n    file: src/auth/context.py\n    description: who is calling\n    session: {alice}\n  - name: BillingClient\n    file: src/billing/client.py\n    session: billing-work\n    agent: codex\ndecisions:\n  - date: 2026-11-20\n    session: billing-work\n    agent: codex\n    text: invoices in cents\n    rationale: no rounding\ntodos:\n  - from: codex\n    to: alice\n    message: review the billing API\n"
        ),
    )
    .expect("write");
    let first = env.run_as("alice", &["context", "import", hand.to_str().unwrap(), "--json"]);
    first.ok();
    let j = first.json();
    assert_eq!(
        (j["interfaces"].as_u64(), j["decisions"].as_u64()),
        (Some(2), Some(1)),
        "{j}"
    );
    assert!(j["skipped"][0].as_str().unwrap_or_default().contains("1 todos"), "{j}");
    let before = env.all_events().len();
    let again = env.run_as("alice", &["context", "import", hand.to_str().unwrap(), "--json"]);
    assert_eq!(
        (again.json()["interfaces"].as_u64(), again.json()["decisions"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(env.all_events().len(), before, "a second import writes nothing");
    env.run_as("alice", &["interfaces"])
        .ok()
        .stdout_has("AuthContext in src/auth/context.py")
        .stdout_has("BillingClient in src/billing/client.py — codex");
    let listed = env.run(&["session", "list", "--json"]);
    let names: Vec<String> = listed.json()["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .filter_map(|s| s["name"].as_str().map(str::to_string))
        .collect();
    assert_eq!(names, ["billing-work"]);
    // What baton renders reads back, and imports as nothing new.
    env.run_as("alice", &["context", "render"]).ok();
    let round = env.run_as("alice", &["context", "import", "--json"]);
    round.ok();
    assert_eq!(round.json()["interfaces"].as_u64(), Some(0), "{}", round.stdout);
    env.run_as("alice", &["context", "import", "docs/none.yaml"]).code(4);
    std::fs::write(&hand, "interfaces: 7\n").expect("write");
    env.run_as("alice", &["context", "import", hand.to_str().unwrap()])
        .code(2)
        .stderr_has("docs/team.yaml");
}
