//! The real Claude Code CLI (`claude -p`) running baton's hooks, with a scripted stand-in for the
//! Anthropic Messages API on 127.0.0.1.
//!
//! The stand-in speaks real HTTP and streams server-sent events the way the API does; it records
//! every request body, so a test reads exactly what the client sent to the model: where a hook's
//! answer ended up, and what the tools that the scripted replies asked for printed.
//!
//! The client comes from `BATON_TEST_CLAUDE`, else from `target/clients/node_modules/.bin/claude`
//! (what `.ci/run` installs). Without either when the tests are built, `cargo test` lists them as
//! ignored, with the reason (see build.rs); in CI (`CI=true`) they run, and a missing client fails them.
//!
//! What Claude Code 2.1.332 does, as seen through these tests (print mode, `-p`):
//! - Hook answers that reach the model: SessionStart and UserPromptSubmit `additionalContext`, as a
//!   `{"role":"system"}` entry of `messages` whose text begins "SessionStart hook additional
//!   context: " (after the prompt); after a compaction it is appended to the system text instead.
//!   `systemMessage` (Stop, PreCompact) is shown to the user only.
//! - `CLAUDE_ENV_FILE` is set for SessionStart only; what SessionStart appends to it is sourced
//!   before every Bash command of that conversation.
//! - Every `claude -p` run ends with SessionEnd, reason "other".
//! - `--resume <id>` and `--continue` keep the conversation's session id; SessionStart says
//!   source "resume".
//! - The project's `.mcp.json` servers load only once approved (`enableAllProjectMcpServers` in
//!   `.claude/settings.local.json` stands for the user's one-time approval); their tools are offered behind
//!   the client's tool search (`ToolSearch`) unless `ENABLE_TOOL_SEARCH=false`. The stdio server is a child
//!   of the client, as the hooks are, and works on the hooks' session.
//! - Running as root, `--permission-mode bypassPermissions` is refused unless `IS_SANDBOX=1` is
//!   set; an allow rule like `Bash(baton:*)` is not enough for a command that expands a variable
//!   ("A variable in this command can't be checked before it runs").

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Backend, Env, baton_bin};

/// The Claude Code release `.ci/run` installs and these tests were written against.
const CLAUDE_VERSION: &str = "2.1.332";
/// The longest one `claude` run may take before it is killed.
const CLAUDE_DEADLINE: Duration = Duration::from_secs(120);
/// The longest the stand-in serves; it outlives every client run it answers.
const STAND_IN_LIFETIME: Duration = Duration::from_secs(180);
const MAX_CONNECTIONS: usize = 64;
const MAX_REQUESTS_PER_CONNECTION: usize = 500;
const MAX_HEADER_BYTES: usize = 64 * 1024;
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Numbers the messages and tool calls of every stand-in.
static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

/// What precedes a SessionStart hook's `additionalContext` in the request the client sends.
const SESSION_START_CONTEXT: &str = "SessionStart hook additional context";

/// The Claude Code executable; a panic when it is missing, since the test was built to run (build.rs).
fn claude_client() -> PathBuf {
    let install =
        format!("npm install --prefix target/clients --no-audit --no-fund @anthropic-ai/claude-code@{CLAUDE_VERSION}");
    let default = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/clients/node_modules/.bin/claude");
    let (path, missing) = match std::env::var_os("BATON_TEST_CLAUDE").filter(|v| !v.is_empty()) {
        Some(p) => {
            let p = PathBuf::from(p);
            let why = format!("BATON_TEST_CLAUDE={} does not exist", p.display());
            (p, why)
        }
        None => {
            let why = format!("BATON_TEST_CLAUDE is not set and {} does not exist", default.display());
            (default, why)
        }
    };
    if path.is_file() {
        return path;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("Claude Code is missing in CI ({missing}): .ci/run installs it with `{install}`");
    }
    panic!("Claude Code is missing ({missing}), yet the tests were built to use it; install it with `{install}`");
}

// ---------------------------------------------------------------------------------------------
// The stand-in for the Messages API

/// One scripted model turn.
#[derive(Debug, Clone)]
enum Reply {
    Text(String),
    ToolUse { name: String, input: Value },
}

fn bash(command: &str) -> Reply {
    Reply::ToolUse {
        name: "Bash".to_string(),
        input: json!({"command": command, "description": "Record the work in baton"}),
    }
}

/// A reply, computed from the request it answers.
type Step = Box<dyn FnOnce(&Value) -> Reply + Send>;

fn fixed(r: Reply) -> Step {
    Box::new(move |_| r)
}

/// A Bash turn whose command names the baton session that the SessionStart hook reported.
fn bash_in_session(command: impl FnOnce(&str) -> String + Send + 'static) -> Step {
    Box::new(move |req: &Value| {
        let id = hook_session_id(req).unwrap_or_else(|| {
            panic!(
                "no baton session id in the SessionStart hook context of the request:\n{}",
                clip(&texts(req).join("\n---\n"), 6000)
            )
        });
        bash(&command(&id))
    })
}

/// One request the stand-in received.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    /// The JSON body (Null when there was none or it was not JSON).
    body: Value,
}

impl Recorded {
    /// A turn of the conversation (not a side request such as a token count or a probe).
    fn is_turn(&self) -> bool {
        self.method == "POST"
            && self.path.split('?').next() == Some("/v1/messages")
            && self.body["tools"].as_array().is_some_and(|t| !t.is_empty())
    }
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Step>,
    requests: Vec<Recorded>,
    /// Turns that came after the script ran out (answered with a plain text reply).
    unscripted: usize,
    /// A panic message from a step, reported by the test rather than lost in a server thread.
    step_failure: Option<String>,
}

struct Shared {
    stop: AtomicBool,
    deadline: Instant,
    inner: Mutex<Inner>,
}

/// A scripted Messages API on 127.0.0.1: answers turns in order, records everything.
struct StandIn {
    port: u16,
    shared: Arc<Shared>,
    server: Option<JoinHandle<()>>,
}

impl StandIn {
    fn start(script: Vec<Step>) -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the stand-in");
        listener.set_nonblocking(true).expect("nonblocking listener");
        let port = listener.local_addr().expect("stand-in address").port();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            deadline: Instant::now() + STAND_IN_LIFETIME,
            inner: Mutex::new(Inner {
                script: script.into(),
                ..Default::default()
            }),
        });
        let s = shared.clone();
        let server = std::thread::spawn(move || accept_loop(listener, s));
        StandIn {
            port,
            shared,
            server: Some(server),
        }
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops serving and returns every request received, in order.
    fn finish(mut self) -> Served {
        self.stop();
        let mut inner = self.shared.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = inner.step_failure.take() {
            panic!("a scripted reply failed: {f}");
        }
        Served {
            requests: std::mem::take(&mut inner.requests),
            unscripted: inner.unscripted,
            left: inner.script.len(),
        }
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.server.take() {
            let _ = t.join();
        }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What a stand-in saw.
struct Served {
    requests: Vec<Recorded>,
    unscripted: usize,
    /// Scripted replies never asked for.
    left: usize,
}

impl Served {
    fn turns(&self) -> Vec<&Value> {
        self.requests.iter().filter(|r| r.is_turn()).map(|r| &r.body).collect()
    }

    /// Every request body as text, for failure messages.
    fn dump(&self) -> String {
        let mut out = String::new();
        for (i, r) in self.requests.iter().enumerate() {
            out.push_str(&format!("== request {i}: {} {}\n", r.method, r.path));
            for t in texts(&r.body["system"]) {
                out.push_str(&format!("[system] {}\n", clip(&t, 400)));
            }
            for m in r.body["messages"].as_array().into_iter().flatten() {
                let role = m["role"].as_str().unwrap_or("?");
                match &m["content"] {
                    Value::Array(blocks) => {
                        for b in blocks {
                            let kind = b["type"].as_str().unwrap_or("?");
                            let text = texts(b).join(" | ");
                            out.push_str(&format!("[{role} {kind}] {}\n", clip(&text, 1500)));
                        }
                    }
                    other => out.push_str(&format!("[{role}] {}\n", clip(&texts(other).join(" | "), 1500))),
                }
            }
        }
        out
    }
}

fn finished(shared: &Shared) -> bool {
    shared.stop.load(Ordering::SeqCst) || Instant::now() >= shared.deadline
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = Vec::new();
    while !finished(&shared) && connections.len() < MAX_CONNECTIONS {
        match listener.accept() {
            Ok((stream, _)) => {
                let s = shared.clone();
                connections.push(std::thread::spawn(move || serve_connection(stream, &s)));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    for c in connections {
        let _ = c.join();
    }
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

/// Serves one keep-alive connection until the client closes it or the stand-in stops.
fn serve_connection(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    for _ in 0..MAX_REQUESTS_PER_CONNECTION {
        let Some(req) = read_request(&mut stream, &mut buf, shared) else {
            return;
        };
        let (status, content_type, body) = respond(&req, shared);
        let head = format!(
            "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\ncache-control: no-cache\r\nrequest-id: req_stand_in\r\nconnection: keep-alive\r\n\r\n",
            body.len()
        );
        let mut out = head.into_bytes();
        if req.method != "HEAD" {
            out.extend_from_slice(&body);
        }
        if stream.write_all(&out).and_then(|_| stream.flush()).is_err() {
            return;
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads more into `buf`; None when the connection is over (closed, failed, or the stand-in stopped).
fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>, shared: &Shared) -> Option<()> {
    let mut chunk = [0u8; 64 * 1024];
    loop {
        if finished(shared) {
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Some(());
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) => return None,
        }
    }
}

/// One HTTP/1.1 request (Content-Length or chunked body); leaves what follows it in `buf`.
fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>, shared: &Shared) -> Option<Request> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEADER_BYTES {
            return None;
        }
        fill(stream, buf, shared)?;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split_whitespace();
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let mut length = 0usize;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        if name == "content-length" {
            length = value.parse().ok()?;
        } else if name == "transfer-encoding" && value.to_ascii_lowercase().contains("chunked") {
            chunked = true;
        }
    }
    let body = if chunked {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(buf, b"\r\n") {
                    break i;
                }
                if buf.len() > MAX_HEADER_BYTES {
                    return None;
                }
                fill(stream, buf, shared)?;
            };
            let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            buf.drain(..line_end + 2);
            if body.len() + size > MAX_BODY_BYTES {
                return None;
            }
            while buf.len() < size + 2 {
                fill(stream, buf, shared)?;
            }
            body.extend_from_slice(&buf[..size]);
            buf.drain(..size + 2);
            if size == 0 {
                break body;
            }
        }
    } else {
        if length > MAX_BODY_BYTES {
            return None;
        }
        while buf.len() < length {
            fill(stream, buf, shared)?;
        }
        buf.drain(..length).collect()
    };
    Some(Request { method, path, body })
}

/// The answer to one request: status line, content type and body.
fn respond(req: &Request, shared: &Shared) -> (&'static str, &'static str, Vec<u8>) {
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let recorded = Recorded {
        method: req.method.clone(),
        path: req.path.clone(),
        body: body.clone(),
    };
    let route = req.path.split('?').next().unwrap_or("");
    let is_turn = recorded.is_turn();
    let is_messages = req.method == "POST" && route == "/v1/messages";
    let step = {
        let mut inner = shared.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.requests.push(recorded);
        if is_turn {
            let next = inner.script.pop_front();
            if next.is_none() {
                inner.unscripted += 1;
            }
            next
        } else {
            None
        }
    };
    if req.method == "POST" && route == "/v1/messages/count_tokens" {
        return ("200 OK", "application/json", br#"{"input_tokens":100}"#.to_vec());
    }
    if !is_messages {
        // Probes (HEAD /, GET ...) and anything else: an empty success.
        return ("200 OK", "application/json", b"{}".to_vec());
    }
    let reply = match step {
        Some(step) => match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| step(&body))) {
            Ok(r) => r,
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a step panicked".to_string());
                let mut inner = shared.inner.lock().unwrap_or_else(|e| e.into_inner());
                inner.step_failure.get_or_insert(msg);
                Reply::Text("The scripted reply failed.".to_string())
            }
        },
        // After the script, and for side requests (titles, summaries): plain text.
        None => Reply::Text("Done.".to_string()),
    };
    // Unique across stand-ins: a resumed conversation holds the ids of earlier runs, and the
    // client treats a repeated tool_use id as a turn that is already over ("[Tool use interrupted]").
    let n = format!("{}_{}", std::process::id(), NEXT_ID.fetch_add(1, Ordering::SeqCst));
    let model = body["model"].as_str().unwrap_or("claude-stand-in").to_string();
    let (block, stop_reason) = match &reply {
        Reply::Text(t) => (json!({"type": "text", "text": t}), "end_turn"),
        Reply::ToolUse { name, input } => (
            json!({"type": "tool_use", "id": format!("toolu_stand_in_{n}"), "name": name, "input": input}),
            "tool_use",
        ),
    };
    let usage = json!({"input_tokens": 100, "output_tokens": 10, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0});
    if body["stream"].as_bool() != Some(true) {
        let message = json!({
            "id": format!("msg_stand_in_{n}"), "type": "message", "role": "assistant", "model": model,
            "content": [block], "stop_reason": stop_reason, "stop_sequence": null, "usage": usage,
        });
        return ("200 OK", "application/json", message.to_string().into_bytes());
    }
    let (start_block, delta) = match &reply {
        Reply::Text(t) => (
            json!({"type": "text", "text": ""}),
            json!({"type": "text_delta", "text": t}),
        ),
        Reply::ToolUse { name, input } => (
            json!({"type": "tool_use", "id": format!("toolu_stand_in_{n}"), "name": name, "input": {}}),
            json!({"type": "input_json_delta", "partial_json": input.to_string()}),
        ),
    };
    let events = [
        json!({"type": "message_start", "message": {
            "id": format!("msg_stand_in_{n}"), "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 100, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
        }}),
        json!({"type": "content_block_start", "index": 0, "content_block": start_block}),
        json!({"type": "content_block_delta", "index": 0, "delta": delta}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null}, "usage": {"output_tokens": 10}}),
        json!({"type": "message_stop"}),
    ];
    let mut sse = String::new();
    for e in events {
        sse.push_str(&format!("event: {}\ndata: {}\n\n", e["type"].as_str().unwrap_or(""), e));
    }
    ("200 OK", "text/event-stream", sse.into_bytes())
}

// ---------------------------------------------------------------------------------------------
// Reading requests

/// Every string in a JSON value, in document order.
fn texts(v: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out
}

/// What the client sent the model as conversation: `system` and `messages` (not the tool schemas).
fn conversation_texts(req: &Value) -> Vec<String> {
    let mut out = texts(&req["system"]);
    out.extend(texts(&req["messages"]));
    out
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// The first `baton session <uuid>` in a text.
fn baton_session_in(text: &str) -> Option<String> {
    text.match_indices("baton session ").find_map(|(i, m)| {
        let rest = &text[i + m.len()..];
        let id = rest.get(..36)?;
        is_uuid(id).then(|| id.to_string())
    })
}

/// The texts of a request that carry a SessionStart hook's context.
fn session_start_contexts(req: &Value) -> Vec<String> {
    conversation_texts(req)
        .into_iter()
        .filter_map(|t| t.find(SESSION_START_CONTEXT).map(|i| t[i..].to_string()))
        .collect()
}

/// The baton session the latest SessionStart hook context in a request names.
fn hook_session_id(req: &Value) -> Option<String> {
    session_start_contexts(req)
        .iter()
        .rev()
        .find_map(|t| baton_session_in(t))
}

/// The tool results of a request's last message, as (is_error, text).
fn tool_results(req: &Value) -> Vec<(bool, String)> {
    let Some(last) = req["messages"].as_array().and_then(|m| m.last()) else {
        return Vec::new();
    };
    last["content"]
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter(|b| b["type"] == "tool_result")
                .map(|b| {
                    (
                        b["is_error"].as_bool().unwrap_or(false),
                        texts(&b["content"]).join("\n"),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

// ---------------------------------------------------------------------------------------------
// Running the client

/// One finished `claude -p` run.
struct ClaudeRun {
    code: i32,
    stdout: String,
    stderr: String,
}

impl ClaudeRun {
    /// The `--output-format json` result object, asserted successful.
    fn result(&self) -> Value {
        assert_eq!(
            self.code, 0,
            "claude failed\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        let v: Value = serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "claude's stdout is not one JSON result ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        });
        assert_eq!(v["is_error"], false, "claude reports an error: {v}");
        v
    }
}

/// `baton setup claude` in the repository: hooks in `.claude/settings.json`.
fn setup_claude(env: &Env) {
    env.run(&["setup", "claude"]).ok();
    let settings = std::fs::read_to_string(env.repo.join(".claude/settings.json")).expect("settings written");
    assert!(settings.contains("baton hook claude"), "{settings}");
}

/// Runs `claude -p` in the repo with `args`, against the stand-in, with the baton store of `env`.
fn run_claude(env: &Env, claude: &Path, stand_in: &StandIn, args: &[&str]) -> ClaudeRun {
    run_claude_with(env, claude, stand_in, args, &[])
}

/// [`run_claude`] with more environment variables for the client.
fn run_claude_with(env: &Env, claude: &Path, stand_in: &StandIn, args: &[&str], vars: &[(&str, &str)]) -> ClaudeRun {
    let bin_dir = baton_bin().parent().expect("baton's directory").to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .expect("PATH");
    let mut cmd = Command::new(claude);
    cmd.arg("-p")
        .args(args)
        .args(["--output-format", "json"])
        // Lets the scripted Bash commands run without a permission prompt (print mode has nobody
        // to ask). Claude Code refuses this mode for root unless IS_SANDBOX=1 (below); an allow
        // rule such as `--allowedTools "Bash(baton:*)"` does not cover a command that expands a
        // variable, and one command here reads $BATON_SESSION.
        .args(["--permission-mode", "bypassPermissions"])
        .current_dir(&env.repo)
        .env_clear()
        // The hooks call `baton hook claude` by name: this test's baton comes first.
        .env("PATH", path)
        .env("HOME", env.home.path())
        .env("USER", "tester")
        .env("BATON_HOME", env.baton_home())
        .env("ANTHROPIC_BASE_URL", stand_in.base_url())
        .env("ANTHROPIC_API_KEY", "dummy")
        .env("DISABLE_TELEMETRY", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("IS_SANDBOX", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Backend::Postgres(url) = &env.backend {
        cmd.env("BATON_DATABASE_URL", url).env("BATON_PROJECT", &env.project);
    }
    cmd.envs(vars.iter().copied());
    let mut child = cmd.spawn().expect("start claude");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for claude") {
            break Some(status);
        }
        if started.elapsed() >= CLAUDE_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    let Some(status) = status else {
        panic!(
            "claude {args:?} did not finish within {CLAUDE_DEADLINE:?} and was killed\nstdout: {stdout}\nstderr: {stderr}"
        );
    };
    ClaudeRun {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

fn sessions(env: &Env) -> Vec<Value> {
    let r = env.run(&["session", "list", "--json"]);
    r.ok();
    r.json()["sessions"].as_array().cloned().unwrap_or_default()
}

fn view(env: &Env, id: &str) -> Value {
    let r = env.run(&["session", "view", id, "--json"]);
    r.ok();
    r.json()
}

/// The texts of one journal list of a `session view --json`.
fn entries(view: &Value, list: &str) -> Vec<String> {
    view[list]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["text"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn assert_has(what: &str, list: &[String], text: &str) {
    assert!(list.iter().any(|e| e == text), "{what} lacks {text:?}: {list:?}");
}

// ---------------------------------------------------------------------------------------------
// Tests

const PROGRESS: &str = "rate limiter skeleton in api/limit.rs";
const NEXT: &str = "wire the limiter into the router";
const BLOCKER: &str = "need the Redis URL for staging";
const DECISION: &str = "token bucket per API key";
const DISCOVERY: &str = "the router already has a middleware slot";

/// Conversation one logs its work through the hooks' session; a new conversation picks it up.
#[test]
#[cfg_attr(
    not(baton_test_claude),
    ignore = "needs Claude Code: set BATON_TEST_CLAUDE=/path/to/claude (install: see README)"
)]
fn a_new_conversation_continues_where_the_last_one_left_off() {
    let claude = claude_client();
    let env = Env::new();
    setup_claude(&env);

    // Conversation one: the model records its work with baton's CLI through the Bash tool.
    let stand_in = StandIn::start(vec![
        bash_in_session(|id| format!("baton session log --session {id} --progress \"{PROGRESS}\"")),
        bash_in_session(|id| {
            format!(
                "baton session log --session {id} --next \"{NEXT}\" && baton session log --session {id} --blocker \"{BLOCKER}\""
            )
        }),
        bash_in_session(|id| {
            format!("baton session log --session {id} --decision \"{DECISION}\" && baton claim issue 42 --session {id}")
        }),
        // No --session: SessionStart exported BATON_SESSION through $CLAUDE_ENV_FILE.
        fixed(bash(&format!(
            "baton session log --discovery \"{DISCOVERY}\" && echo \"BATON_SESSION=$BATON_SESSION\""
        ))),
        fixed(Reply::Text(
            "The rate limiter skeleton is in; wiring it into the router is next.".into(),
        )),
    ]);
    let run = run_claude(&env, &claude, &stand_in, &["Add rate limiting to the API"]);
    let served = stand_in.finish();
    let result = run.result();
    assert_eq!(
        result["result"], "The rate limiter skeleton is in; wiring it into the router is next.",
        "{result}"
    );
    let turns = served.turns();
    assert_eq!(turns.len(), 5, "five turns\n{}", served.dump());
    assert_eq!((served.unscripted, served.left), (0, 0), "{}", served.dump());

    // The SessionStart hook's answer reached the model, naming the conversation's baton session.
    let id = hook_session_id(turns[0]).unwrap_or_else(|| panic!("no hook context\n{}", served.dump()));
    let listed = sessions(&env);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], id.as_str(), "{listed:?}");
    assert_eq!(listed[0]["agent"], "claude-code");
    assert_eq!(
        listed[0]["context"], "Add rate limiting to the API",
        "the first prompt is the goal"
    );

    // Every command ran, and succeeded; the one without --session found the session by $BATON_SESSION.
    for (i, turn) in turns.iter().enumerate().skip(1) {
        let results = tool_results(turn);
        assert_eq!(results.len(), 1, "one tool result in turn {i}\n{}", served.dump());
        let (is_error, text) = &results[0];
        assert!(!is_error, "turn {i}: the command failed: {text}");
        assert!(text.contains(&id), "turn {i}: not about session {id}: {text}");
    }
    assert!(
        tool_results(turns[4])[0].1.contains(&format!("BATON_SESSION={id}")),
        "Bash commands see BATON_SESSION: {:?}",
        tool_results(turns[4])
    );

    // SessionEnd paused the session; the journal and the claim are there.
    let v = view(&env, &id);
    assert_eq!(v["session"]["status"], "paused", "{v}");
    assert_has("progress", &entries(&v, "progress"), PROGRESS);
    assert_has("next steps", &entries(&v, "next_steps"), NEXT);
    assert_has("blockers", &entries(&v, "blockers"), BLOCKER);
    assert_has("decisions", &entries(&v, "decisions"), DECISION);
    assert_has("discoveries", &entries(&v, "discoveries"), DISCOVERY);
    let claims = v["claims"].as_array().cloned().unwrap_or_default();
    assert!(
        claims
            .iter()
            .any(|c| c["item_type"] == "issue" && c["item_id"] == "42" && c["state"] == "held"),
        "issue 42 is held: {claims:?}"
    );

    // Conversation two: a new `claude -p`, not a resumed one.
    let stand_in = StandIn::start(vec![fixed(Reply::Text("Picking up the router wiring.".into()))]);
    let run = run_claude(&env, &claude, &stand_in, &["continue where we left off"]);
    let served = stand_in.finish();
    assert_ne!(run.result()["session_id"], result["session_id"], "a new conversation");
    let turns = served.turns();
    assert_eq!(turns.len(), 1, "{}", served.dump());
    // What the model is told, from the hooks' answers (not only what claude printed).
    let hook_texts: Vec<String> = conversation_texts(turns[0])
        .into_iter()
        .filter(|t| t.contains("hook additional context"))
        .collect();
    let told = hook_texts.join("\n");
    for needle in [NEXT, BLOCKER, "issue org/app#42"] {
        assert!(
            told.contains(needle),
            "the model is not told {needle:?} in conversation two; the hooks' context was:\n{}",
            clip(&told, 8000)
        );
    }
    assert_eq!(
        hook_session_id(turns[0]).as_deref(),
        Some(id.as_str()),
        "conversation two continues baton session {id}:\n{}",
        clip(&told, 8000)
    );
    let listed = sessions(&env);
    assert_eq!(listed.len(), 1, "no second session: {listed:?}");
    assert_eq!(listed[0]["status"], "paused", "{listed:?}");
}

/// `claude -p --resume <id>` is the same conversation: the same baton session, resumed.
#[test]
#[cfg_attr(
    not(baton_test_claude),
    ignore = "needs Claude Code: set BATON_TEST_CLAUDE=/path/to/claude (install: see README)"
)]
fn a_resumed_conversation_keeps_its_baton_session() {
    let claude = claude_client();
    let env = Env::new();
    setup_claude(&env);

    let stand_in = StandIn::start(vec![
        bash_in_session(|id| {
            format!(
                "baton session log --session {id} --progress \"{PROGRESS}\" && baton session log --session {id} --next \"{NEXT}\""
            )
        }),
        fixed(Reply::Text("Skeleton done.".into())),
    ]);
    let run = run_claude(&env, &claude, &stand_in, &["Add rate limiting to the API"]);
    let served = stand_in.finish();
    let conversation = run.result()["session_id"].as_str().expect("session_id").to_string();
    let turns = served.turns();
    assert_eq!(turns.len(), 2, "{}", served.dump());
    let id = hook_session_id(turns[0]).unwrap_or_else(|| panic!("no hook context\n{}", served.dump()));
    assert_eq!(view(&env, &id)["session"]["status"], "paused");

    // The same conversation again: its SessionStart (source "resume") resumes the same session, and
    // exports it again for the Bash tool.
    let stand_in = StandIn::start(vec![
        fixed(bash(
            "baton session log --progress \"limiter wired into the router\" && echo \"BATON_SESSION=$BATON_SESSION\"",
        )),
        fixed(Reply::Text("Wired.".into())),
    ]);
    let run = run_claude(&env, &claude, &stand_in, &["--resume", &conversation, "wire it in"]);
    let served = stand_in.finish();
    assert_eq!(
        run.result()["session_id"],
        conversation.as_str(),
        "the same conversation"
    );
    let turns = served.turns();
    assert_eq!(turns.len(), 2, "{}", served.dump());
    // The resumed history carries conversation one's hook context; the latest one is this start's.
    let contexts = session_start_contexts(turns[0]);
    assert_eq!(contexts.len(), 2, "one hook context per start: {contexts:?}");
    assert_eq!(hook_session_id(turns[0]).as_deref(), Some(id.as_str()), "{contexts:?}");
    assert!(
        contexts[1].contains(NEXT),
        "the resumed context shows the next step: {}",
        contexts[1]
    );
    let results = tool_results(turns[1]);
    assert_eq!(results.len(), 1, "{}", served.dump());
    assert!(!results[0].0, "{results:?}");
    assert!(results[0].1.contains(&format!("BATON_SESSION={id}")), "{results:?}");

    let listed = sessions(&env);
    assert_eq!(listed.len(), 1, "one session: {listed:?}");
    let v = view(&env, &id);
    assert_eq!(v["session"]["status"], "paused", "{v}");
    let progress = entries(&v, "progress");
    assert_has("progress", &progress, PROGRESS);
    assert_has("progress", &progress, "limiter wired into the router");
}

/// The MCP server `baton setup claude` installs, started by the real client, works on the session the hooks
/// started for the conversation: a tool call without `session_id` logs there, and `session_start` continues it.
#[test]
#[cfg_attr(
    not(baton_test_claude),
    ignore = "needs Claude Code: set BATON_TEST_CLAUDE=/path/to/claude (install: see README)"
)]
fn the_mcp_server_works_on_the_session_the_hooks_started() {
    let claude = claude_client();
    let env = Env::new();
    setup_claude(&env);
    // Another window of the same client is at work here: without the hooks' session, a call that names no
    // session would be ambiguous.
    let other = env.run_as("claude-code", &["session", "start", "--context", "another window"]);
    other.ok();
    // Approve the project's MCP server the way a user does once, so print mode loads it.
    let local = env.repo.join(".claude/settings.local.json");
    std::fs::write(&local, json!({"enableAllProjectMcpServers": true}).to_string()).expect("approve .mcp.json");

    let tool = |name: &str, input: Value| Reply::ToolUse {
        name: format!("mcp__baton__{name}"),
        input,
    };
    let stand_in = StandIn::start(vec![
        fixed(tool("session_log", json!({"kind": "progress", "text": PROGRESS}))),
        fixed(tool("session_start", json!({"context": "rate limiting"}))),
        fixed(tool("claim_work", json!({"work_type": "issue", "work_id": "42"}))),
        fixed(Reply::Text("Logged.".into())),
    ]);
    // Offer the MCP tools to the model directly rather than behind the client's tool search.
    let vars = [("ENABLE_TOOL_SEARCH", "false")];
    let run = run_claude_with(&env, &claude, &stand_in, &["Add rate limiting to the API"], &vars);
    let served = stand_in.finish();
    run.result();
    let turns = served.turns();
    assert_eq!(turns.len(), 4, "{}", served.dump());
    let offered: Vec<&str> = turns[0]["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        offered.contains(&"mcp__baton__session_log"),
        "the client offers baton's MCP tools: {offered:?}"
    );
    let id = hook_session_id(turns[0]).unwrap_or_else(|| panic!("no hook context\n{}", served.dump()));
    for (i, turn) in turns.iter().enumerate().skip(1) {
        let results = tool_results(turn);
        assert_eq!(results.len(), 1, "turn {i}\n{}", served.dump());
        assert!(!results[0].0, "turn {i}: the tool failed: {results:?}");
        assert!(results[0].1.contains(&id), "turn {i} acts on session {id}: {results:?}");
    }
    assert!(
        tool_results(turns[2])[0].1.contains("no second session"),
        "{:?}",
        tool_results(turns[2])
    );
    let listed = sessions(&env);
    assert_eq!(
        listed.len(),
        2,
        "the other window's and this conversation's, no third: {listed:?}"
    );
    let v = view(&env, &id);
    assert_has("progress", &entries(&v, "progress"), PROGRESS);
    let claims = v["claims"].as_array().cloned().unwrap_or_default();
    assert!(claims.iter().any(|c| c["item_id"] == "42"), "{v}");
}
