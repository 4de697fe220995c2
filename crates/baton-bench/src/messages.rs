//! Messages between sessions: send and fetch in-process and as processes, next to `baton --version`; the inbox,
//! the hooks' unread check and the tool hook at 10k, 100k and 1M messages.

use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use baton_core::config::Policy;
use baton_core::{Baton, InboxRequest, SendRequest, StartRequest, Timestamp};
use serde_json::{Value, json};

use super::{Opts, PROJECT, Row, baton_cmd, caller, must, run_hook, seed, start_cli_session, time_runs};

/// Sends to the other session and fetches what is unread, alternately.
pub fn messages(opts: &Opts) -> Vec<Row> {
    let mut rows = Vec::new();
    rows.extend(in_process(opts));
    rows.extend(processes(opts));
    rows.extend(at_scale(opts));
    rows
}

fn send_req(to: &str, text: String) -> SendRequest {
    SendRequest {
        to: to.to_string(),
        text,
        ..Default::default()
    }
}

fn unread() -> InboxRequest {
    InboxRequest {
        unread_only: true,
        limit: Some(10),
        ..Default::default()
    }
}

fn in_process(opts: &Opts) -> Vec<Row> {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = must(baton_sqlite::SqliteStore::open(&dir.path().join("baton.db")), "open");
    let baton = Baton::new(Box::new(store), Policy::default());
    let a = must(
        baton.start_session(&caller("alice", None), StartRequest::default()),
        "start",
    )
    .session_id;
    let b = must(
        baton.start_session(&caller("bob", None), StartRequest::default()),
        "start",
    )
    .session_id;
    let alice = caller("alice", Some(a.to_string()));
    let bob = caller("bob", Some(b.to_string()));
    let n = if opts.quick { 1_000 } else { 5_000 };
    let mut send_ms = Vec::with_capacity(n);
    let mut fetch_ms = Vec::with_capacity(n);
    let t = Instant::now();
    for i in 0..n {
        let s = Instant::now();
        must(baton.send(&alice, send_req(b.as_str(), format!("message {i}"))), "send");
        send_ms.push(s.elapsed().as_secs_f64() * 1000.0);
        let s = Instant::now();
        let got = must(baton.inbox(&bob, unread()), "inbox");
        fetch_ms.push(s.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(got.messages.len(), 1, "each message is fetched once");
    }
    let rate = n as f64 / t.elapsed().as_secs_f64();
    let (send_p50, send_p99) = super::stats(send_ms);
    let (fetch_p50, fetch_p99) = super::stats(fetch_ms);
    vec![Row {
        what: "send + fetch unread, in-process, SQLite".into(),
        target: "(no target; for the comparison below)".into(),
        measured: format!(
            "{rate:.0} pairs/s; send p50 {send_p50:.3} ms (p99 {send_p99:.3}), fetch p50 {fetch_p50:.3} ms (p99 {fetch_p99:.3})"
        ),
        ok: None,
        data: json!({
            "pairs": n, "pairs_per_sec": rate, "send_p50_ms": send_p50, "send_p99_ms": send_p99,
            "fetch_p50_ms": fetch_p50, "fetch_p99_ms": fetch_p99,
        }),
    }]
}

fn processes(opts: &Opts) -> Vec<Row> {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let a = start_cli_session(opts, home, "alice");
    let b = start_cli_session(opts, home, "bob");
    let n = if opts.quick { 100 } else { 400 };
    let mut send_ms = Vec::with_capacity(n);
    let mut inbox_ms = Vec::with_capacity(n);
    let mut version_ms = Vec::with_capacity(n);
    // Interleaved, so the three see the same machine.
    for i in 0..n {
        let text = format!("message {i}");
        let t = Instant::now();
        let st = baton_cmd(opts, home, &["send", "--session", &a, "--to", &b, &text])
            .status()
            .expect("spawn");
        send_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(st.success(), "baton send failed");
        let t = Instant::now();
        let st = baton_cmd(opts, home, &["inbox", "--session", &b, "--unread"])
            .status()
            .expect("spawn");
        inbox_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(st.success(), "baton inbox failed");
        let t = Instant::now();
        let st = baton_cmd(opts, home, &["--version"]).status().expect("spawn");
        version_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(st.success());
    }
    let (send_p50, send_p99) = super::stats(send_ms);
    let (inbox_p50, inbox_p99) = super::stats(inbox_ms);
    let (version_p50, _) = super::stats(version_ms);
    let row = |what: &str, p50: f64, p99: f64, key: &str| Row {
        what: what.to_string(),
        target: "p50 ≤ 2× `baton --version` in the same run".into(),
        measured: format!(
            "p50 {p50:.2} ms ({:.2}× `--version` at {version_p50:.2} ms), p99 {p99:.2} ms",
            p50 / version_p50
        ),
        ok: Some(p50 <= 2.0 * version_p50),
        data: json!({key: {"runs": n, "p50_ms": p50, "p99_ms": p99, "version_p50_ms": version_p50}}),
    };
    vec![
        row("`baton send` as a fresh process", send_p50, send_p99, "send"),
        row(
            "`baton inbox --unread` as a fresh process",
            inbox_p50,
            inbox_p99,
            "inbox",
        ),
    ]
}

/// Adds `n` messages to the project, each delivered to `inbox` and to nobody else, all read and acknowledged
/// but the newest `unread`; straight through SQL, like `seed`.
fn seed_messages(path: &Path, inbox: &str, from: &str, n: usize, unread: usize) {
    let mut conn = rusqlite::Connection::open(path).expect("open for seeding");
    let tx = conn.transaction().expect("begin");
    let base = Timestamp::now().0 - (n as i64 + 10) * 1_000_000;
    {
        let mut m = tx
            .prepare(
                "INSERT INTO messages (id, project, from_session, from_agent, to_addr, kind, text, thread, created_at, open)
                 VALUES (?1, ?2, ?3, 'agent-1', ?4, 'fyi', ?5, ?1, ?6, 0)",
            )
            .expect("prepare");
        let mut d = tx
            .prepare(
                "INSERT INTO deliveries (message_id, recipient, read_at, acked_at, notified_at) VALUES (?1, ?2, ?3, ?3, ?3)",
            )
            .expect("prepare");
        for i in 0..n {
            let id = format!("00000000-0000-7000-9000-{i:012}");
            let t = base + i as i64 * 1_000_000;
            m.execute(rusqlite::params![
                id,
                PROJECT,
                from,
                inbox,
                format!("seeded message {i}"),
                t
            ])
            .expect("insert message");
            let done = if i + unread >= n { None } else { Some(t) };
            d.execute(rusqlite::params![id, inbox, done]).expect("insert delivery");
        }
    }
    tx.commit().expect("commit");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        .expect("checkpoint");
}

fn at_scale(opts: &Opts) -> Vec<Row> {
    let sizes: &[usize] = if opts.quick {
        &[10_000, 100_000]
    } else {
        &[10_000, 100_000, 1_000_000]
    };
    let mut per_size = Vec::new();
    for &messages in sizes {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path();
        let db = home.join("baton.db");
        let t = Instant::now();
        // 1M events under every size, as the hook's target asks.
        let events = if opts.quick { 100_000 } else { 1_000_000 };
        seed(&db, 1_000, events);
        // The conversation's session, started by its hook, is the inbox.
        let start = r#"{"session_id":"bench-conversation","hook_event_name":"SessionStart","source":"startup"}"#;
        run_hook(opts, home, start);
        let listed = baton_cmd(
            opts,
            home,
            &["session", "list", "--json", "--agent", "claude-code", "--limit", "1"],
        )
        .stdout(Stdio::piped())
        .output()
        .expect("spawn");
        let sid = session_of(&listed.stdout, "claude-code");
        seed_messages(
            &db,
            &format!("session:{sid}"),
            "00000000-0000-7000-8000-000000000001",
            messages,
            0,
        );
        eprintln!(
            "seeded {events} events and {messages} messages in {:.1}s",
            t.elapsed().as_secs_f64()
        );
        let n = if opts.quick { 20 } else { 60 };
        let (inbox_p50, inbox_p99) = time_runs(n, |_| {
            let st = baton_cmd(opts, home, &["inbox", "--session", &sid])
                .status()
                .expect("spawn");
            assert!(st.success(), "baton inbox failed");
        });
        let tool = r#"{"session_id":"bench-conversation","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"ls"},"tool_response":"","tool_use_id":"t"}"#;
        let (tool_p50, tool_p99) = time_runs(n, |_| run_hook(opts, home, tool));
        let prompt = r#"{"session_id":"bench-conversation","hook_event_name":"UserPromptSubmit","prompt":"make the login test pass"}"#;
        let (prompt_p50, _) = time_runs(n, |_| run_hook(opts, home, prompt));
        let (version_p50, _) = time_runs(n, |_| {
            let st = baton_cmd(opts, home, &["--version"]).status().expect("spawn");
            assert!(st.success());
        });
        let store = must(baton_sqlite::SqliteStore::open(&db), "open");
        let baton = Baton::new(Box::new(store), Policy::default());
        let me = caller("bench", Some(sid.clone()));
        let (check_p50, check_p99) = time_runs(n * 10, |_| {
            let (_, told, _) = must(baton.notifications(&me, 3), "notifications");
            assert!(told.is_empty());
        });
        per_size.push(json!({
            "messages": messages, "events": events,
            "inbox_p50_ms": inbox_p50, "inbox_p99_ms": inbox_p99,
            "tool_hook_p50_ms": tool_p50, "tool_hook_p99_ms": tool_p99, "prompt_hook_p50_ms": prompt_p50,
            "version_p50_ms": version_p50, "unread_check_p50_ms": check_p50, "unread_check_p99_ms": check_p99,
        }));
    }
    let f = |i: usize, k: &str| per_size.get(i).and_then(|s| s[k].as_f64()).unwrap_or(f64::NAN);
    let last = per_size.len() - 1;
    let series = |k: &str| {
        per_size
            .iter()
            .map(|s| format!("{:.2}", s[k].as_f64().unwrap_or(f64::NAN)))
            .collect::<Vec<_>>()
            .join(" → ")
    };
    // Flat: the biggest store costs at most half again what the smallest does (runs vary by about that).
    let flat = |k: &str| f(last, k) <= 1.5 * f(0, k);
    // The hook's target is at 100k messages (and 1M events).
    let at_100k = per_size.iter().position(|s| s["messages"] == 100_000).unwrap_or(last);
    vec![
        Row {
            what: "`baton inbox` as a fresh process, 10k → 100k → 1M messages in the inbox".into(),
            target: "flat from 10k to 1M messages".into(),
            measured: format!(
                "p50 {} ms (p99 at the largest {:.2} ms)",
                series("inbox_p50_ms"),
                f(last, "inbox_p99_ms")
            ),
            ok: Some(flat("inbox_p50_ms")),
            data: json!(per_size),
        },
        Row {
            what: "the hooks' unread check, in-process, 10k → 100k → 1M messages".into(),
            target: "flat from 10k to 1M messages".into(),
            measured: format!(
                "p50 {} ms (p99 at the largest {:.3} ms)",
                per_size
                    .iter()
                    .map(|s| format!("{:.3}", s["unread_check_p50_ms"].as_f64().unwrap_or(f64::NAN)))
                    .collect::<Vec<_>>()
                    .join(" → "),
                f(last, "unread_check_p99_ms")
            ),
            ok: Some(flat("unread_check_p50_ms")),
            data: Value::Null,
        },
        Row {
            what: "tool hook (`baton hook claude` PostToolUse), 1M events and 100k messages".into(),
            target: "p50 ≤ 2× `baton --version` in the same run".into(),
            measured: format!(
                "p50 {:.2} ms ({:.2}× `--version` at {:.2} ms), p99 {:.2} ms; prompt hook {:.2} ms (10k → 100k → 1M messages: {} ms)",
                f(at_100k, "tool_hook_p50_ms"),
                f(at_100k, "tool_hook_p50_ms") / f(at_100k, "version_p50_ms"),
                f(at_100k, "version_p50_ms"),
                f(at_100k, "tool_hook_p99_ms"),
                f(at_100k, "prompt_hook_p50_ms"),
                series("tool_hook_p50_ms")
            ),
            ok: Some(f(at_100k, "tool_hook_p50_ms") <= 2.0 * f(at_100k, "version_p50_ms")),
            data: Value::Null,
        },
    ]
}

fn session_of(list_json: &[u8], agent: &str) -> String {
    let v: Value = serde_json::from_slice(list_json).expect("session list --json");
    v["sessions"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["agent"] == agent))
        .and_then(|s| s["id"].as_str())
        .expect("the hook's session")
        .to_string()
}
