//! `baton mcp`: JSON-RPC spoken directly over stdio and HTTP, and the official Python SDK driving both.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Backend, Env, baton_bin};

const TOOLS: [&str; 19] = [
    "session_start",
    "session_end",
    "session_log",
    "session_checkpoint",
    "session_pause",
    "session_resume",
    "session_close",
    "session_view",
    "session_list",
    "claim_work",
    "release_work",
    "heartbeat",
    "list_claims",
    "what_changed",
    "digest",
    "message",
    "request",
    "search",
    "team",
];

/// The most `tools/list` may take: agents pay for every byte of it in their context.
const TOOLS_LIST_MAX_BYTES: usize = 12 * 1024;
const WAIT: Duration = Duration::from_secs(30);

/// One `baton mcp` process spoken to over stdio, one request at a time.
struct Stdio_ {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    next_id: u64,
    /// Output schemas by tool, to check every structured result against.
    schemas: Vec<(String, Value)>,
    /// The raw `tools/list` response line.
    tools_list: String,
}

impl Stdio_ {
    fn start(env: &Env, args: &[&str]) -> Stdio_ {
        let mut all = vec!["mcp"];
        all.extend_from_slice(args);
        Stdio_::spawn(env.cmd(&all))
    }

    fn spawn(mut cmd: Command) -> Stdio_ {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn baton mcp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut s = Stdio_ {
            child,
            stdin,
            lines,
            next_id: 0,
            schemas: vec![],
            tools_list: String::new(),
        };
        let init = s.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "baton-tests", "version": "0"}}),
        );
        assert_eq!(init["result"]["serverInfo"]["name"], "baton", "{init}");
        s.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        let list = s.request("tools/list", json!({}));
        s.tools_list = list.to_string();
        for t in list["result"]["tools"].as_array().expect("tools") {
            s.schemas.push((
                t["name"].as_str().unwrap_or_default().to_string(),
                t["outputSchema"].clone(),
            ));
        }
        s
    }

    fn send(&mut self, msg: &Value) {
        writeln!(self.stdin, "{msg}").expect("write to baton mcp");
        self.stdin.flush().expect("flush");
    }

    /// Sends a request and returns the whole response (skipping notifications).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no answer to {method} within {WAIT:?}"));
            let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            if v["id"] == json!(id) {
                return v;
            }
        }
    }

    /// Calls a tool; the answer must be a result (tool errors included), never a protocol error.
    fn call(&mut self, name: &str, args: Value) -> ToolResult {
        let v = self.request("tools/call", json!({"name": name, "arguments": args}));
        assert!(v.get("error").is_none(), "{name} gave a protocol error: {v}");
        let r = ToolResult(v["result"].clone());
        if !r.is_error() {
            let schema = self
                .schemas
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, s)| s.clone())
                .unwrap_or(Value::Null);
            check_schema(name, &schema, r.data());
        }
        r
    }

    /// Calls a tool that must succeed; returns its structured content.
    fn ok(&mut self, name: &str, args: Value) -> Value {
        let r = self.call(name, args.clone());
        assert!(!r.is_error(), "{name}({args}) failed: {}", r.text());
        r.data().clone()
    }
}

impl Drop for Stdio_ {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct ToolResult(Value);

impl ToolResult {
    fn is_error(&self) -> bool {
        self.0["isError"] == json!(true)
    }
    fn data(&self) -> &Value {
        &self.0["structuredContent"]
    }
    fn text(&self) -> String {
        self.0["content"][0]["text"].as_str().unwrap_or_default().to_string()
    }
}

/// Checks structured content against an output schema: required keys present, and each declared
/// property of the declared type (the schemas only type the top level, and only the keys every
/// result has: others may appear when they apply, as JSON Schema allows).
fn check_schema(tool: &str, schema: &Value, data: &Value) {
    assert_eq!(schema["type"], "object", "{tool} has no object output schema: {schema}");
    let obj = data
        .as_object()
        .unwrap_or_else(|| panic!("{tool} returned no structured object: {data}"));
    for key in schema["required"].as_array().into_iter().flatten() {
        let key = key.as_str().unwrap_or_default();
        assert!(obj.contains_key(key), "{tool}: required {key} missing from {data}");
    }
    let props = schema["properties"].as_object().expect("properties");
    for (key, value) in obj {
        let Some(declared) = props.get(key) else {
            continue;
        };
        let types: Vec<&str> = match &declared["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            other => panic!("{tool}: {key} has type {other}"),
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        assert!(
            types.contains(&actual),
            "{tool}: {key} is {actual}, schema says {types:?}"
        );
    }
}

#[test]
fn tools_list_names_every_operation_within_12_kb() {
    let env = Env::new();
    let s = Stdio_::start(&env, &["--agent", "alice"]);
    let size = s.tools_list.len();
    eprintln!("tools/list response: {size} bytes");
    assert!(
        size <= TOOLS_LIST_MAX_BYTES,
        "tools/list is {size} bytes, more than {TOOLS_LIST_MAX_BYTES}"
    );
    let list: Value = serde_json::from_str(&s.tools_list).expect("json");
    let tools = list["result"]["tools"].as_array().expect("tools");
    let names: BTreeSet<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, TOOLS.iter().copied().collect::<BTreeSet<_>>());
    for t in tools {
        let d = t["description"].as_str().unwrap_or_default();
        assert!(
            !d.is_empty() && d.len() <= 300,
            "{}: description of {} bytes",
            t["name"],
            d.len()
        );
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        assert_eq!(t["outputSchema"]["type"], "object", "{t}");
    }
    let claim = tools.iter().find(|t| t["name"] == "claim_work").expect("claim_work");
    assert_eq!(claim["inputSchema"]["required"], json!(["work_type", "work_id"]));
}

/// Start, claim, conflict, log, release, what_changed, end with handoff: two agents, two processes.
fn full_session(env: &Env) {
    let mut alice = Stdio_::start(env, &["--agent", "alice"]);
    let mut bob = Stdio_::start(env, &["--agent", "bob"]);

    let started = alice.ok("session_start", json!({"context": "auth refactor", "task_ids": ["15"]}));
    let a_sid = started["session_id"].as_str().expect("session_id").to_string();
    assert_eq!(started["session"]["agent"], "alice");
    // A second session becomes the default; closing it and resuming the first switches back.
    let a_sid2 = alice.ok("session_start", json!({"context": "side quest"}))["session_id"]
        .as_str()
        .expect("sid")
        .to_string();
    alice.ok("session_close", json!({"session_id": a_sid2}));
    let resumed = alice.ok("session_resume", json!({"session_id": a_sid}));
    assert_eq!(resumed["session_id"], a_sid.as_str());

    // No session_id: the connection's session.
    let claimed = alice.ok(
        "claim_work",
        json!({"work_type": "issue", "work_id": 15, "repo": "org/app"}),
    );
    assert_eq!(claimed["claimed"], true);
    assert_eq!(claimed["claim"]["session_id"], a_sid.as_str());
    assert_eq!(claimed["claim"]["item_id"], "15");

    let b_sid = bob.ok("session_start", json!({"context": "billing"}))["session_id"]
        .as_str()
        .expect("sid")
        .to_string();
    let conflict = bob.call(
        "claim_work",
        json!({"work_type": "issue", "work_id": "15", "repo": "org/app"}),
    );
    assert!(
        !conflict.is_error(),
        "a held item is a normal result: {}",
        conflict.text()
    );
    assert_eq!(conflict.data()["claimed"], false);
    assert_eq!(conflict.data()["claimed_by"]["agent"], "alice");
    assert_eq!(conflict.data()["claimed_by"]["session"], a_sid.as_str());
    assert!(conflict.text().contains("held by agent 'alice'"), "{}", conflict.text());

    let logged = alice.ok(
        "session_log",
        json!({"kind": "decision", "text": "JWT for tokens", "rationale": "stateless"}),
    );
    assert_eq!(logged["session_id"], a_sid.as_str());
    assert_eq!(logged["entry"]["rationale"], "stateless");
    alice.ok("heartbeat", json!({}));
    let mine = alice.ok("list_claims", json!({"mine": true}));
    assert_eq!(mine["claims"].as_array().map(Vec::len), Some(1));

    let released = alice.ok(
        "release_work",
        json!({"work_type": "issue", "work_id": "15", "repo": "org/app", "status": "completed", "notes": "PR #16"}),
    );
    assert_eq!(released["released"], true);
    assert_eq!(released["claim"]["release_status"], "completed");

    let changes = alice.ok(
        "what_changed",
        json!({"since": "0", "kind": "claim", "agent_id": "alice"}),
    );
    let kinds: Vec<&str> = changes["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["claim.granted", "claim.released"]);
    assert!(changes["next_cursor"].as_i64().is_some_and(|c| c > 0));

    let ended = alice.ok(
        "session_end",
        json!({"summary": "login done", "handoff_notes": "refresh tokens next", "next": ["write refresh tests"]}),
    );
    assert_eq!(ended["session"]["id"], a_sid.as_str());
    assert_eq!(ended["session"]["status"], "completed");

    // The other agent sees the handoff; its own session is untouched.
    let digest = bob.ok("digest", json!({}));
    assert_eq!(digest["last_handoff"]["agent"], "alice");
    assert_eq!(digest["last_handoff"]["handoff"]["notes"], "refresh tokens next");
    let view = bob.ok("session_view", json!({}));
    assert_eq!(view["session"]["id"], b_sid.as_str());
    // Now free, the item goes to bob.
    assert_eq!(
        bob.ok(
            "claim_work",
            json!({"work_type": "issue", "work_id": 15, "repo": "org/app"})
        )["claimed"],
        true
    );
    // After its session ended, alice's connection says so instead of guessing another session.
    let after = alice.call("session_log", json!({"kind": "progress", "text": "more"}));
    assert!(
        after.is_error() && after.text().contains("completed"),
        "{}",
        after.text()
    );
}

#[test]
fn a_full_session_and_a_conflict_over_stdio() {
    full_session(&Env::new());
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn a_full_session_and_a_conflict_over_stdio_on_postgres() {
    full_session(&Env::with_backend(Backend::postgres()));
}

#[test]
fn an_explicit_session_id_wins_over_the_connections_session() {
    let env = Env::new();
    let mut s = Stdio_::start(&env, &["--agent", "alice"]);
    let first = s.ok("session_start", json!({"context": "one"}))["session_id"]
        .as_str()
        .expect("sid")
        .to_string();
    let started = s.ok("session_start", json!({"context": "two"}));
    let second = started["session_id"].as_str().expect("sid").to_string();
    // The second active session is worth a warning, worded in the tools' terms: a sentence, no flags.
    let warning = started["warnings"][0]
        .as_str()
        .expect("a warning as a sentence")
        .to_string();
    assert!(
        warning.contains(&first) && warning.contains("pass session_id"),
        "{warning}"
    );
    assert!(
        !warning.contains("--session") && !warning.contains("`baton"),
        "{warning}"
    );
    let logged = s.ok(
        "session_log",
        json!({"kind": "progress", "text": "x", "session_id": first}),
    );
    assert_eq!(logged["session_id"], first.as_str());
    let logged = s.ok("session_log", json!({"kind": "progress", "text": "y"}));
    assert_eq!(logged["session_id"], second.as_str());

    // agent_id on session_start names who works, for that session and this connection from then on.
    let carol = s.ok("session_start", json!({"context": "three", "agent_id": "carol"}));
    assert_eq!(carol["session"]["agent"], "carol");
    let claimed = s.ok("claim_work", json!({"work_type": "task", "work_id": "t1"}));
    assert_eq!(claimed["claim"]["agent"], "carol");
    let changes = s.ok("what_changed", json!({"since": "0", "agent_id": "carol"}));
    assert!(!changes["events"].as_array().expect("events").is_empty());
}

/// One client window: a process that runs baton's SessionStart hook for `conversation` and then serves MCP,
/// as a coding client runs both as its children. Returns the MCP server and the session the hook started.
fn client_window(env: &Env, conversation: &str) -> (Stdio_, String) {
    let dir = env.home.path();
    let input = dir.join(format!("{conversation}.json"));
    let output = dir.join(format!("{conversation}.out"));
    let payload = json!({
        "session_id": conversation, "cwd": env.repo, "hook_event_name": "SessionStart", "source": "startup",
    });
    std::fs::write(&input, payload.to_string()).expect("payload");
    let bin = baton_bin();
    // `; exit` keeps the shell alive above `baton mcp`, the way a client stays the parent of both.
    let script = format!(
        "'{b}' hook claude < '{i}' > '{o}' && '{b}' mcp --agent claude-code; exit $?",
        b = bin.display(),
        i = input.display(),
        o = output.display()
    );
    let base = env.cmd(&[]);
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(script).current_dir(&env.repo).env_clear();
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let server = Stdio_::spawn(cmd);
    let answer: Value = serde_json::from_str(&std::fs::read_to_string(&output).expect("hook output")).expect("json");
    let ctx = answer["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .expect("context");
    let at = ctx.find("baton session ").expect("names its session") + "baton session ".len();
    (server, ctx[at..at + 36].to_string())
}

#[test]
#[cfg(target_os = "linux")]
fn the_mcp_server_uses_the_session_the_hooks_started_for_its_conversation() {
    let env = Env::new();
    let (mut a, sa) = client_window(&env, "window-a");
    let (mut b, sb) = client_window(&env, "window-b");
    assert_ne!(sa, sb, "two windows, two sessions");
    // Each window's calls go to its own conversation's session: never "ambiguous session".
    for (s, id, text) in [(&mut a, &sa, "from a"), (&mut b, &sb, "from b")] {
        let logged = s.ok("session_log", json!({"kind": "progress", "text": text}));
        assert_eq!(logged["session_id"], id.as_str(), "{text}");
        let claimed = s.ok(
            "claim_work",
            json!({"work_type": "task", "work_id": text.replace(' ', "-")}),
        );
        assert_eq!(claimed["claim"]["session_id"], id.as_str(), "{text}");
    }
    // session_start continues the hook's session instead of opening a second beside it, and says so.
    let r = a.call("session_start", json!({"context": "parser work"}));
    assert!(!r.is_error(), "{}", r.text());
    assert_eq!(r.data()["session_id"], sa.as_str());
    assert!(r.text().contains("no second session"), "{}", r.text());
    let list = env.run(&["session", "list", "--json"]).json();
    assert_eq!(list["sessions"].as_array().map(Vec::len), Some(2), "{list}");
    // An explicit session_id still wins.
    let logged = a.ok(
        "session_log",
        json!({"kind": "progress", "text": "x", "session_id": sb}),
    );
    assert_eq!(logged["session_id"], sb.as_str());
    // The goal given to session_start became the hook session's goal, which had none.
    let list = env.run(&["session", "list", "--json"]).json();
    let goal = list["sessions"]
        .as_array()
        .and_then(|l| l.iter().find(|s| s["id"] == sa.as_str()))
        .map(|s| s["context"].clone());
    assert_eq!(
        goal,
        Some(json!("parser work")),
        "the goal given to session_start was set: {list}"
    );
}

#[test]
fn bad_input_is_a_tool_error_that_names_the_value() {
    let env = Env::new();
    let mut s = Stdio_::start(&env, &["--agent", "alice"]);
    s.ok("session_start", json!({"context": "errors"}));
    let cases: [(&str, Value, &[&str]); 13] = [
        (
            "claim_work",
            json!({"work_type": "epic", "work_id": "1"}),
            &["'epic'", "new_type"],
        ),
        (
            "release_work",
            json!({"work_type": "issue", "work_id": "1", "status": "deferred", "force": true}),
            &["force needs a reason"],
        ),
        (
            "session_resume",
            json!({"session_id": "01900000-0000-7000-8000-0000000000aa"}),
            &["session_list"],
        ),
        (
            "claim_work",
            json!({"work_type": "Bad Type", "work_id": "1"}),
            &["'Bad Type'", "lowercase"],
        ),
        (
            "claim_work",
            json!({"work_type": "issue", "work_id": "1", "ttl": "forever"}),
            &["'forever'", "30m"],
        ),
        ("claim_work", json!({"work_type": "issue"}), &["work_id"]),
        (
            "claim_work",
            json!({"work_type": "issue", "work_id": "1", "sesion": "x"}),
            &["sesion"],
        ),
        (
            "release_work",
            json!({"work_type": "issue", "work_id": "1", "status": "finished"}),
            &["'finished'", "completed"],
        ),
        (
            "session_log",
            json!({"kind": "musing", "text": "x"}),
            &["'musing'", "progress"],
        ),
        (
            "session_log",
            json!({"kind": "progress", "text": "x", "rationale": "why"}),
            &["rationale", "decision"],
        ),
        (
            "what_changed",
            json!({"since": "yesterday"}),
            &["'yesterday'", "RFC 3339"],
        ),
        ("session_view", json!({"session_id": "nope"}), &["'nope'", "UUID"]),
        ("session_list", json!({"status": "done"}), &["'done'", "paused"]),
    ];
    for (tool, args, needles) in cases {
        let r = s.call(tool, args.clone());
        assert!(r.is_error(), "{tool}({args}) should fail: {}", r.0);
        let text = r.text();
        for n in needles {
            assert!(text.contains(n), "{tool}({args}): {text:?} lacks {n:?}");
        }
        // Advice names tool arguments, not CLI flags.
        assert!(!text.contains(" --"), "{tool}({args}): {text:?} names a CLI flag");
        assert!(!text.contains("`baton"), "{tool}({args}): {text:?} names a CLI command");
    }
    // Bad input changed nothing.
    let claims = s.ok("list_claims", json!({}));
    assert_eq!(claims["claims"], json!([]));
}

// ---- HTTP ----

/// A `baton mcp --http` process and the port it listens on.
struct HttpServer {
    child: Child,
    port: u16,
}

impl HttpServer {
    fn start(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> HttpServer {
        let mut all = vec!["mcp", "--http"];
        all.extend_from_slice(args);
        let mut cmd = env.cmd(&all);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn baton mcp --http");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let line = rx.recv_timeout(WAIT).expect("baton mcp --http says where it listens");
        let port = line
            .rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches("/mcp").parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        HttpServer { child, port }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct HttpReply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl HttpReply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The JSON-RPC message in the body, whether sent as JSON or as server-sent events.
    fn message(&self) -> Value {
        if let Ok(v) = serde_json::from_str::<Value>(self.body.trim()) {
            return v;
        }
        self.body
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
            .find(|v| v.get("id").is_some())
            .unwrap_or_else(|| panic!("no JSON-RPC message in: {}", self.body))
    }
}

/// One POST to `/mcp` over a fresh connection, read to the end.
fn post(port: u16, headers: &[(&str, &str)], body: &Value) -> HttpReply {
    post_to(port, "/mcp", headers, body)
}

fn post_to(port: u16, path: &str, headers: &[(&str, &str)], body: &Value) -> HttpReply {
    let body = body.to_string();
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    stream.write_all(req.as_bytes()).expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked { dechunk(rest) } else { rest.to_string() };
    HttpReply { status, headers, body }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn initialize_msg() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "baton-tests", "version": "0"}}})
}

fn tool_call(id: u64, name: &str, args: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": args}})
}

#[test]
fn http_beyond_loopback_needs_a_bearer_token() {
    let env = Env::new();
    let refused = env.run(&["mcp", "--http", "0.0.0.0:0"]);
    refused.code(2).stderr_has("--token").stderr_has("0.0.0.0:0");

    let server = HttpServer::start(&env, &["0.0.0.0:0", "--token", "s3cret-token"], &[]);
    let none = post(server.port, &[], &initialize_msg());
    assert_eq!(none.status, 401, "{}", none.body);
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
    let wrong = post(
        server.port,
        &[("Authorization", "Bearer s3cret-tokem")],
        &initialize_msg(),
    );
    assert_eq!(wrong.status, 401);
    let call = post(
        server.port,
        &[("Authorization", "Bearer s3cret-token")],
        &tool_call(2, "list_claims", json!({})),
    );
    assert_eq!(call.status, 200, "{}", call.body);
    assert_eq!(call.message()["result"]["isError"], false, "{}", call.body);

    // BATON_TOKEN does the same as --token.
    let server = HttpServer::start(&env, &["0.0.0.0:0"], &[("BATON_TOKEN", "from-env")]);
    assert_eq!(post(server.port, &[], &initialize_msg()).status, 401);
    let ok = post(server.port, &[("Authorization", "Bearer from-env")], &initialize_msg());
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[test]
fn http_clients_with_and_without_mcp_session_ids() {
    let env = Env::new();
    let server = HttpServer::start(&env, &["127.0.0.1:0", "--agent", "alice"], &[]);
    let port = server.port;

    // A client that keeps its Mcp-Session-Id: the session it starts is its default.
    let init = post(port, &[], &initialize_msg());
    assert_eq!(init.status, 200, "{}", init.body);
    let mcp_session = init.header("mcp-session-id").expect("Mcp-Session-Id").to_string();
    let with_id = [
        ("Mcp-Session-Id", mcp_session.as_str()),
        ("MCP-Protocol-Version", "2025-06-18"),
    ];
    let note = post(
        port,
        &with_id,
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    assert_eq!(note.status, 202, "{}", note.body);
    let started = post(
        port,
        &with_id,
        &tool_call(2, "session_start", json!({"context": "kept id"})),
    )
    .message();
    let kept = started["result"]["structuredContent"]["session_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{started}"))
        .to_string();

    // A client that drops it: served statelessly, with the session from session_id or the core's rule.
    let started = post(
        port,
        &[],
        &tool_call(3, "session_start", json!({"context": "dropped id"})),
    )
    .message();
    let dropped = started["result"]["structuredContent"]["session_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{started}"))
        .to_string();
    assert_ne!(kept, dropped);
    let claim = post(
        port,
        &[],
        &tool_call(
            4,
            "claim_work",
            json!({"work_type": "issue", "work_id": 2, "session_id": dropped}),
        ),
    )
    .message();
    assert_eq!(claim["result"]["structuredContent"]["claimed"], true, "{claim}");
    assert_eq!(
        claim["result"]["structuredContent"]["claim"]["session_id"],
        dropped.as_str()
    );

    // With its id, the first client needs no session_id although alice now has two active sessions.
    let claim = post(
        port,
        &with_id,
        &tool_call(5, "claim_work", json!({"work_type": "issue", "work_id": 1})),
    )
    .message();
    assert_eq!(
        claim["result"]["structuredContent"]["claim"]["session_id"],
        kept.as_str(),
        "{claim}"
    );
    // Without an id or a session_id, the core cannot choose, and says how to fix it.
    let ambiguous = post(port, &[], &tool_call(6, "heartbeat", json!({}))).message();
    assert_eq!(ambiguous["result"]["isError"], true, "{ambiguous}");
    let text = ambiguous["result"]["content"][0]["text"].as_str().unwrap_or_default();
    assert!(
        text.contains(&kept) && text.contains(&dropped) && text.contains("session_id"),
        "{text}"
    );

    // Stateless with one active session: the core's rule finds it.
    post(port, &with_id, &tool_call(7, "session_close", json!({}))).message();
    let beat = post(port, &[], &tool_call(8, "heartbeat", json!({}))).message();
    assert_eq!(
        beat["result"]["structuredContent"]["session_id"],
        dropped.as_str(),
        "{beat}"
    );

    let elsewhere = post_to(port, "/", &[], &initialize_msg());
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.body);
    assert!(elsewhere.body.contains("/mcp"), "{}", elsewhere.body);
}

// ---- an independent client: the official Python SDK ----

/// Ignored unless `python3` imported the SDK when the tests were built (build.rs), or CI=true.
#[test]
#[cfg_attr(
    not(baton_test_python_mcp),
    ignore = "needs the Python MCP SDK: python3 -m pip install mcp==2.3.0, then touch crates/baton/build.rs"
)]
fn the_python_sdk_drives_stdio_and_http() {
    let has_sdk = Command::new("python3")
        .args(["-c", "import mcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        has_sdk,
        "the Python MCP SDK is missing (in CI, .ci/run installs it): python3 -m pip install mcp==2.3.0"
    );
    let env = Env::new();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_client/drive.py");
    // Python keeps this process's environment (interpreter setup); the script gives each baton
    // process only the test's home and store.
    let mut cmd = Command::new("python3");
    for k in [
        "BATON_AGENT",
        "BATON_SESSION",
        "BATON_PROJECT",
        "BATON_DATABASE_URL",
        "BATON_TOKEN",
    ] {
        cmd.env_remove(k);
    }
    let out = cmd
        .arg(&script)
        .arg(baton_bin())
        .current_dir(&env.repo)
        .env("BATON_HOME", env.baton_home())
        .env("BATON_TEST_HOME", env.home.path())
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "drive.py failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
}

// ---- figures ----

/// Prints the stdio round trip (p50, p99) and the `tools/list` size. Run on a release build:
/// `cargo test --release -p baton --test runner -- --ignored --nocapture mcp_figures`
#[test]
#[ignore = "a benchmark that prints figures: cargo test --release -p baton --test runner -- --ignored --nocapture mcp_figures"]
fn mcp_figures() {
    let env = Env::new();
    let mut s = Stdio_::start(&env, &["--agent", "bench"]);
    s.ok("session_start", json!({"context": "figures"}));
    let n = 3000;
    let mut measure = |name: &str, args: Value| {
        let mut ms = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            let r = s.call(name, args.clone());
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(!r.is_error(), "{}", r.text());
        }
        ms.sort_by(f64::total_cmp);
        let p = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
        println!(
            "stdio round trip, {name}: p50 {:.3} ms, p99 {:.3} ms ({n} calls)",
            p(0.5),
            p(0.99)
        );
    };
    measure("list_claims", json!({"mine": true}));
    measure("claim_work", json!({"work_type": "task", "work_id": "1"}));
    measure("heartbeat", json!({}));
    println!("tools/list response: {} bytes", s.tools_list.len());
}

/// With `docs.auto`, changes made through tools re-render their session's document; reads write nothing.
#[test]
fn tools_keep_session_documents_up_to_date_when_auto_is_on() {
    let env = Env::new();
    env.auto_docs();
    let doc = || env.only_agents_document().1;
    let mut s = Stdio_::start(&env, &["--agent", "alice"]);
    let id = s.ok("session_start", json!({"context": "auto docs"}))["session_id"]
        .as_str()
        .expect("sid")
        .to_string();
    assert!(doc().contains(&format!("  id: {id}\n")), "{}", doc());

    s.ok("claim_work", json!({"work_type": "issue", "work_id": "7"}));
    assert!(doc().contains("current_task: issue org/app#7"), "{}", doc());
    s.ok("session_log", json!({"kind": "progress", "text": "step one"}));
    assert!(doc().contains("Latest progress ("), "{}", doc());

    // Reading tools write nothing.
    let (path, _) = env.only_agents_document();
    std::fs::remove_file(&path).unwrap();
    s.ok("list_claims", json!({}));
    s.ok("what_changed", json!({"since": "0"}));
    assert!(!path.exists(), "a read wrote the document again");

    s.ok(
        "release_work",
        json!({"work_type": "issue", "work_id": "7", "status": "completed"}),
    );
    assert!(doc().contains("current_task: null"), "{}", doc());
}

/// `session_log` takes `supersedes`, and `search` finds entries and handoffs, narrowed by `kind`; a bad kind
/// or an empty text is a tool error naming the value.
#[test]
fn decisions_supersede_and_search_over_stdio() {
    let env = Env::new();
    let mut s = Stdio_::start(&env, &["--agent", "alice"]);
    s.ok("session_start", json!({"context": "auth"}));
    let old = s.ok(
        "session_log",
        json!({"kind": "decision", "text": "sessions in cookies", "rationale": "simple"}),
    );
    let old_id = old["entry"]["id"].as_str().expect("entry id").to_string();
    let new = s.ok(
        "session_log",
        json!({"kind": "decision", "text": "JWT for tokens", "rationale": "stateless", "supersedes": old_id}),
    );
    assert_eq!(new["entry"]["supersedes"], old_id.as_str());
    let again = s.call(
        "session_log",
        json!({"kind": "decision", "text": "other", "supersedes": old_id}),
    );
    assert!(again.is_error());
    assert!(again.text().starts_with("conflict: decision"), "{}", again.text());
    s.ok(
        "session_log",
        json!({"kind": "progress", "text": "tokens issued at login"}),
    );

    let all = s.ok("search", json!({"text": "tokens"}));
    let kinds: Vec<&str> = all["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["kind"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(kinds.len(), 2, "{all}");
    assert!(kinds.contains(&"decision") && kinds.contains(&"journal"), "{all}");
    let decisions = s.call("search", json!({"text": "tokens", "kind": "decision"}));
    assert_eq!(decisions.data()["hits"].as_array().map(Vec::len), Some(1));
    assert!(decisions.text().contains("[tokens]"), "{}", decisions.text());
    let bad = s.call("search", json!({"text": "tokens", "kind": "decisions"}));
    assert!(bad.is_error());
    assert_eq!(
        bad.text(),
        "bad_input: unknown search kind 'decisions': expected one of decision, journal, handoff"
    );
    let empty = s.call("search", json!({"text": " "}));
    assert!(
        empty.text().starts_with("bad_input: search text is empty"),
        "{}",
        empty.text()
    );
}
