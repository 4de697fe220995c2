//! A scripted stand-in for a model API on 127.0.0.1, for the tests that drive a real client (Claude Code,
//! Codex CLI, Gemini CLI): real HTTP/1.1 (keep-alive, Content-Length or chunked bodies, no body after a
//! HEAD), every request recorded, and turns of the conversation answered in order from a script whose steps
//! read the request they answer. Bounded in connections, requests, bytes and time, so a client that
//! misbehaves cannot hang a test.
//!
//! What differs between APIs (what a turn is, how a reply is encoded, what a failure message shows of a
//! request) is an [`Api`].

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The longest a stand-in serves; it outlives every client run it answers.
const LIFETIME: Duration = Duration::from_secs(180);
const MAX_CONNECTIONS: usize = 64;
const MAX_REQUESTS_PER_CONNECTION: usize = 500;
const MAX_HEADER_BYTES: usize = 64 * 1024;
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Numbers the replies of every stand-in in this process, so ids never repeat across conversations.
static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

/// A number no other reply of this process has: for an [`Api`] that gives a side request a reply with ids.
pub fn next_id() -> usize {
    NEXT_ID.fetch_add(1, Ordering::SeqCst)
}

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The path with its query.
    pub path: String,
    /// The JSON body (Null when there was none or it was not JSON).
    pub body: Value,
}

impl Recorded {
    /// The path without its query.
    pub fn route(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }
}

/// An HTTP answer.
pub struct Answer {
    pub status: &'static str,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(v: &Value) -> Answer {
        Answer {
            status: "200 OK",
            content_type: "application/json",
            body: v.to_string().into_bytes(),
        }
    }

    /// Server-sent events: each `(event name, data)`, the name left out when None.
    pub fn sse(events: &[(Option<&str>, Value)]) -> Answer {
        let mut out = String::new();
        for (name, data) in events {
            if let Some(n) = name {
                out.push_str(&format!("event: {n}\n"));
            }
            out.push_str(&format!("data: {data}\n\n"));
        }
        Answer {
            status: "200 OK",
            content_type: "text/event-stream",
            body: out.into_bytes(),
        }
    }
}

/// One API the stand-in speaks.
pub trait Api: Send + Sync + 'static {
    /// One scripted model turn.
    type Reply: Send + 'static;
    /// Whether a request is a turn of the conversation (answered from the script), not a side request.
    fn is_turn(&self, r: &Recorded) -> bool;
    /// The answer to a turn, with its reply (a plain text one once the script ran out). `n` is unique.
    fn turn(&self, r: &Recorded, reply: Self::Reply, n: usize) -> Answer;
    /// The reply to a turn after the script ran out, or when a step failed.
    fn fallback(&self, text: &str) -> Self::Reply;
    /// The answer to a side request (probes, token counts, routing).
    fn side(&self, r: &Recorded) -> Answer;
    /// Lines that show a request body in a failure message.
    fn describe(&self, body: &Value) -> Vec<String>;
    /// Header lines every answer carries besides the content type, length and caching.
    fn headers(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
}

/// A scripted turn of a client whose one tool here is its shell: a text answer, or one shell command.
pub enum ShellReply {
    Text(String),
    Shell(String),
}

/// A step that answers with text `t`.
pub fn text(t: &str) -> Step<ShellReply> {
    fixed(ShellReply::Text(t.to_string()))
}

/// A step that replies `reply` whatever the request.
pub fn fixed<R: Send + 'static>(reply: R) -> Step<R> {
    Box::new(move |_| reply)
}

/// A step whose reply names the baton session the hooks reported in the request it answers: `found` reads
/// the session id from a request, `context` is what a failure shows of the request when it finds none.
pub fn in_session<R>(
    found: fn(&Value) -> Option<String>,
    context: fn(&Value) -> Vec<String>,
    reply: impl FnOnce(&str) -> R + Send + 'static,
) -> Step<R> {
    Box::new(move |req: &Value| {
        let id = found(req).unwrap_or_else(|| {
            panic!(
                "no baton session id in the hook context of the request:\n{}",
                clip(&context(req).join("\n---\n"), 6000)
            )
        });
        reply(&id)
    })
}

/// A reply computed from the request it answers.
pub type Step<R> = Box<dyn FnOnce(&Value) -> R + Send>;

struct Inner<R> {
    script: VecDeque<Step<R>>,
    requests: Vec<Recorded>,
    unscripted: usize,
    /// A panic message from a step, reported by the test rather than lost in a server thread.
    step_failure: Option<String>,
}

struct Shared<A: Api> {
    api: A,
    stop: AtomicBool,
    deadline: Instant,
    inner: Mutex<Inner<A::Reply>>,
}

/// A scripted model API on 127.0.0.1.
pub struct StandIn<A: Api> {
    port: u16,
    shared: Arc<Shared<A>>,
    server: Option<JoinHandle<()>>,
}

/// What a stand-in saw.
pub struct Served {
    pub requests: Vec<Recorded>,
    /// Turns after the script ran out.
    pub unscripted: usize,
    /// Scripted replies never asked for.
    pub left: usize,
}

impl Served {
    /// The bodies of the turns of the conversation, in order.
    pub fn turns(&self, api: &impl Api) -> Vec<&Value> {
        self.requests
            .iter()
            .filter(|r| api.is_turn(r))
            .map(|r| &r.body)
            .collect()
    }

    /// Checks a conversation whose first stop a hook held: two turns, every scripted reply used, and the hook's
    /// reason (what `held` finds in a request's texts) absent from the first turn and in the second exactly once,
    /// naming the command that answers the request. `hook` names the hook in failure messages.
    pub fn assert_stop_held_once(&self, api: &impl Api, hook: &str, held: impl Fn(&Value) -> Vec<String>) {
        let turns = self.turns(api);
        assert_eq!(
            turns.len(),
            2,
            "the first stop was held, the second went through\n{}",
            self.dump(api)
        );
        assert_eq!((self.unscripted, self.left), (0, 0), "{}", self.dump(api));
        assert!(held(turns[0]).is_empty(), "{}", self.dump(api));
        let reasons = held(turns[1]);
        assert_eq!(
            reasons.len(),
            1,
            "the {hook} hook's reason reached the model once\n{}",
            self.dump(api)
        );
        assert!(reasons[0].contains("baton request accept"), "{}", reasons[0]);
    }

    /// Every request, as `api` shows one, for failure messages.
    pub fn dump(&self, api: &impl Api) -> String {
        let mut out = String::new();
        for (i, r) in self.requests.iter().enumerate() {
            out.push_str(&format!("== request {i}: {} {}\n", r.method, r.path));
            for line in api.describe(&r.body) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }
}

impl<A: Api> StandIn<A> {
    pub fn start(api: A, script: Vec<Step<A::Reply>>) -> StandIn<A> {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the stand-in");
        listener.set_nonblocking(true).expect("nonblocking listener");
        let port = listener.local_addr().expect("stand-in address").port();
        let shared = Arc::new(Shared {
            api,
            stop: AtomicBool::new(false),
            deadline: Instant::now() + LIFETIME,
            inner: Mutex::new(Inner {
                script: script.into(),
                requests: Vec::new(),
                unscripted: 0,
                step_failure: None,
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

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops serving and returns what it saw; a step that panicked fails the test here.
    pub fn finish(mut self) -> Served {
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

impl<A: Api> Drop for StandIn<A> {
    fn drop(&mut self) {
        self.stop();
    }
}

fn finished<A: Api>(shared: &Shared<A>) -> bool {
    shared.stop.load(Ordering::SeqCst) || Instant::now() >= shared.deadline
}

fn accept_loop<A: Api>(listener: TcpListener, shared: Arc<Shared<A>>) {
    let mut connections = Vec::new();
    while !finished(&shared) && connections.len() < MAX_CONNECTIONS {
        match listener.accept() {
            Ok((stream, _)) => {
                let s = shared.clone();
                connections.push(std::thread::spawn(move || serve_connection(stream, &s)));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    for c in connections {
        let _ = c.join();
    }
}

/// Serves one keep-alive connection until the client closes it or the stand-in stops.
fn serve_connection<A: Api>(mut stream: TcpStream, shared: &Shared<A>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    for _ in 0..MAX_REQUESTS_PER_CONNECTION {
        let Some(req) = read_request(&mut stream, &mut buf, shared) else {
            return;
        };
        let head_only = req.method == "HEAD";
        let answer = respond(req, shared);
        let mut head = format!(
            "HTTP/1.1 {}\r\ncontent-type: {}\r\ncontent-length: {}\r\ncache-control: no-cache\r\n",
            answer.status,
            answer.content_type,
            answer.body.len()
        );
        for (name, value) in shared.api.headers() {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("connection: keep-alive\r\n\r\n");
        let mut out = head.into_bytes();
        if !head_only {
            out.extend_from_slice(&answer.body);
        }
        if stream.write_all(&out).and_then(|_| stream.flush()).is_err() {
            return;
        }
    }
}

fn respond<A: Api>(req: Recorded, shared: &Shared<A>) -> Answer {
    let is_turn = shared.api.is_turn(&req);
    let step = {
        let mut inner = shared.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.requests.push(req.clone());
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
    if !is_turn {
        return shared.api.side(&req);
    }
    let reply = match step {
        Some(step) => match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| step(&req.body))) {
            Ok(r) => r,
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a step panicked".to_string());
                let mut inner = shared.inner.lock().unwrap_or_else(|e| e.into_inner());
                inner.step_failure.get_or_insert(msg);
                shared.api.fallback("The scripted reply failed.")
            }
        },
        None => shared.api.fallback("Done."),
    };
    shared.api.turn(&req, reply, next_id())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads more into `buf`; None when the connection is over (closed, failed, or the stand-in stopped).
fn fill<A: Api>(stream: &mut TcpStream, buf: &mut Vec<u8>, shared: &Shared<A>) -> Option<()> {
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
fn read_request<A: Api>(stream: &mut TcpStream, buf: &mut Vec<u8>, shared: &Shared<A>) -> Option<Recorded> {
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
    Some(Recorded {
        method,
        path,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    })
}

// ---------------------------------------------------------------------------------------------
// Reading requests

/// Every string in a JSON value, in document order.
pub fn texts(v: &Value) -> Vec<String> {
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
pub fn baton_session_in(text: &str) -> Option<String> {
    text.match_indices("baton session ").find_map(|(i, m)| {
        let rest = &text[i + m.len()..];
        let id = rest.get(..36)?;
        is_uuid(id).then(|| id.to_string())
    })
}

pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// Asserts that what the hooks told the model in conversation two (`told`) has every one of `needles`.
pub fn assert_told(told: &str, needles: &[&str]) {
    for needle in needles {
        assert!(
            told.contains(needle),
            "the model is not told {needle:?} in conversation two; the hooks' context was:\n{}",
            clip(told, 8000)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Running a client

/// One finished client run.
pub struct ClientRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl ClientRun {
    /// Asserts the run succeeded.
    pub fn ok(&self, what: &str) -> &ClientRun {
        assert_eq!(
            self.code, 0,
            "{what} failed\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// The one JSON value the run printed (`--output-format json`), the run asserted successful.
    pub fn json(&self, what: &str) -> Value {
        self.ok(what);
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "the stdout of {what} is not one JSON result ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Runs `cmd` (stdin closed) and kills it after `deadline`, which fails the test.
pub fn run_bounded(mut cmd: Command, deadline: Duration) -> ClientRun {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let what = format!("{cmd:?}");
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {what}: {e}"));
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
        if let Some(status) = child.try_wait().expect("wait for the client") {
            break Some(status);
        }
        if started.elapsed() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    let Some(status) = status else {
        panic!("{what} did not finish within {deadline:?} and was killed\nstdout: {stdout}\nstderr: {stderr}");
    };
    ClientRun {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

/// PATH with the directory of this test's `baton` first: the hooks call `baton hook <client>` by name.
pub fn path_with_baton() -> std::ffi::OsString {
    let bin = crate::common::baton_bin();
    let dir = bin.parent().unwrap_or(Path::new("."));
    std::env::join_paths(
        std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .expect("PATH")
}

/// A client executable: `$var` if set, else `default`; a panic naming how to install it when missing
/// (the test was built to run: see build.rs).
pub fn client_path(var: &str, default: &Path, name: &str, install: &str) -> std::path::PathBuf {
    let (path, missing) = match std::env::var_os(var).filter(|v| !v.is_empty()) {
        Some(p) => {
            let p = std::path::PathBuf::from(p);
            let why = format!("{var}={} does not exist", p.display());
            (p, why)
        }
        None => (
            default.to_path_buf(),
            format!("{var} is not set and {} does not exist", default.display()),
        ),
    };
    if path.is_file() {
        return path;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{name} is missing in CI ({missing}): .ci/run installs it with `{install}`");
    }
    panic!("{name} is missing ({missing}), yet the tests were built to use it; install it with `{install}`");
}
