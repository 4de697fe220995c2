//! Test harness: a temp BATON_HOME and a temp git repository, and a builder for `baton` runs.

#![allow(dead_code)]

pub mod stand_in;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use tempfile::TempDir;

pub fn baton_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_baton"))
}

/// Which store a test environment uses.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// PostgreSQL at `BATON_TEST_DATABASE_URL`. A test that calls this is ignored unless the variable was set
    /// when the tests were built, or CI=true (see build.rs); there a missing variable is a failure.
    pub fn postgres() -> Backend {
        match std::env::var("BATON_TEST_DATABASE_URL") {
            Ok(u) if !u.trim().is_empty() => Backend::Postgres(u),
            _ => panic!(
                "BATON_TEST_DATABASE_URL is not set, yet the PostgreSQL tests were built to run \
                 (the variable was set at build time, or CI=true, where they must not be skipped)"
            ),
        }
    }
}

/// A temp home and repo; every run gets a clean environment pointing at them.
pub struct Env {
    pub home: TempDir,
    pub repo: PathBuf,
    pub backend: Backend,
    /// A project key unique to this environment (keeps PostgreSQL runs apart).
    pub project: String,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        nanos % 1_000_000_000
    )
}

impl Env {
    pub fn new() -> Env {
        Env::with_backend(Backend::Sqlite)
    }

    pub fn with_backend(backend: Backend) -> Env {
        let home = tempfile::tempdir().expect("tempdir");
        let repo = home.path().join("repo");
        std::fs::create_dir_all(&repo).expect("repo dir");
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["remote", "add", "origin", "git@github.com:org/app.git"]);
        let project = match backend {
            Backend::Sqlite => "github.com/org/app".to_string(),
            Backend::Postgres(_) => format!("test.local/{}", unique("proj")),
        };
        Env {
            home,
            repo,
            backend,
            project,
        }
    }

    /// Turns on `docs.auto` in the repository's config, with the agents layout.
    pub fn auto_docs(&self) {
        std::fs::create_dir_all(self.repo.join(".baton")).expect("config dir");
        std::fs::write(
            self.repo.join(".baton/config.toml"),
            "[docs]\nauto = true\nlayout = \"agents\"\n",
        )
        .expect("write the config");
    }

    /// The one session document under `.agents/sessions`, and its text.
    pub fn only_agents_document(&self) -> (PathBuf, String) {
        let dir = self.repo.join(".agents/sessions");
        let files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert_eq!(files.len(), 1, "one document in {}: {files:?}", dir.display());
        let text = std::fs::read_to_string(&files[0]).expect("read the document");
        (files[0].clone(), text)
    }

    pub fn baton_home(&self) -> PathBuf {
        self.home.path().join("baton-home")
    }

    /// A `baton` command with a clean environment, run in the repo.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(baton_bin());
        c.args(args).current_dir(&self.repo);
        c.env_clear();
        c.env("PATH", std::env::var("PATH").unwrap_or_default());
        c.env("HOME", self.home.path());
        c.env("BATON_HOME", self.baton_home());
        c.env("USER", "tester");
        if let Backend::Postgres(url) = &self.backend {
            c.env("BATON_DATABASE_URL", url);
            c.env("BATON_PROJECT", &self.project);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().expect("run baton"))
    }

    /// Runs as `agent` (via BATON_AGENT).
    pub fn run_as(&self, agent: &str, args: &[&str]) -> Run {
        Run::from(self.cmd(args).env("BATON_AGENT", agent).output().expect("run baton"))
    }

    /// Starts a session for `agent` and returns its id.
    pub fn start(&self, agent: &str, context: &str) -> String {
        let r = self.run_as(agent, &["session", "start", "--context", context, "--json"]);
        r.ok();
        r.json()["session_id"].as_str().expect("session_id").to_string()
    }

    /// All events of the project, via `changes` paging.
    pub fn all_events(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor = 0i64;
        loop {
            let r = self.run(&["changes", "--since", &cursor.to_string(), "--limit", "1000", "--json"]);
            r.ok();
            let page = r.json();
            let events = page["events"].as_array().cloned().unwrap_or_default();
            cursor = page["next_cursor"].as_i64().expect("next_cursor");
            let more = page["more"].as_bool().unwrap_or(false);
            out.extend(events);
            if !more {
                return out;
            }
        }
    }
}

pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The outcome of one run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Asserts exit 0.
    pub fn ok(&self) -> &Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
    /// Asserts this exit code.
    pub fn code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON object ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }
    pub fn stderr_has(&self, needle: &str) -> &Run {
        assert!(self.stderr.contains(needle), "stderr lacks {needle:?}: {}", self.stderr);
        self
    }
    pub fn stdout_has(&self, needle: &str) -> &Run {
        assert!(self.stdout.contains(needle), "stdout lacks {needle:?}: {}", self.stdout);
        self
    }
}

/// Microseconds since the Unix epoch of an RFC 3339 UTC time as baton prints it (`...Z`).
pub fn micros(ts: &str) -> i64 {
    fn bad<T>(ts: &str) -> T {
        panic!("not an RFC 3339 UTC time: {ts:?}")
    }
    let num = |p: &str| -> i64 { p.parse().unwrap_or_else(|_| bad(ts)) };
    let (date, rest) = ts.split_once('T').unwrap_or_else(|| bad(ts));
    let rest = rest.strip_suffix('Z').unwrap_or_else(|| bad(ts));
    let d: Vec<i64> = date.split('-').map(num).collect();
    let (hms, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let t: Vec<i64> = hms.split(':').map(num).collect();
    assert!(
        d.len() == 3 && t.len() == 3 && frac.len() <= 9,
        "not an RFC 3339 UTC time: {ts:?}"
    );
    let frac_us = if frac.is_empty() {
        0
    } else {
        num(&format!("{frac:0<6}")[..6])
    };
    // Days from the civil date (proleptic Gregorian).
    let (y, m) = if d[1] <= 2 {
        (d[0] - 1, d[1] + 9)
    } else {
        (d[0], d[1] - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d[2] - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2]) * 1_000_000) + frac_us
}

/// Runs `baton` with extra environment variables.
pub fn run_with_env(env: &Env, vars: &[(&str, &str)], args: &[&str]) -> Run {
    let mut c = env.cmd(args);
    for (k, v) in vars {
        c.env(k, v);
    }
    Run::from(c.output().expect("run baton"))
}

/// The `kind` of each event, in order.
pub fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// `baton session list --json`: the sessions, asserted listed.
pub fn sessions(env: &Env) -> Vec<Value> {
    let r = env.run(&["session", "list", "--json"]);
    r.ok();
    r.json()["sessions"].as_array().cloned().unwrap_or_default()
}

/// `baton session view ID --json`, asserted shown.
pub fn view(env: &Env, id: &str) -> Value {
    let r = env.run(&["session", "view", id, "--json"]);
    r.ok();
    r.json()
}

/// The texts of one journal list of a `session view --json`.
pub fn entries(view: &Value, list: &str) -> Vec<String> {
    view[list]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["text"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub fn assert_has(what: &str, list: &[String], text: &str) {
    assert!(list.iter().any(|e| e == text), "{what} lacks {text:?}: {list:?}");
}

/// Asserts a `session view --json` shows its claim on `item_type` `item_id` held.
pub fn assert_held(view: &Value, item_type: &str, item_id: &str) {
    let claims = view["claims"].as_array().cloned().unwrap_or_default();
    assert!(
        claims
            .iter()
            .any(|c| c["item_type"] == item_type && c["item_id"] == item_id && c["state"] == "held"),
        "{item_type} {item_id} is held: {claims:?}"
    );
}

/// Asserts that `session list` shows one session, `id`, started by `agent` with `goal` as its context (`why`
/// says where the goal comes from).
pub fn assert_only_session(env: &Env, id: &str, agent: &str, goal: &str, why: &str) {
    let listed = sessions(env);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], id, "{listed:?}");
    assert_eq!(listed[0]["agent"], agent);
    assert_eq!(listed[0]["context"], goal, "{why}");
}

/// `cmd` held back until `gate` exists: a shell that waits for the file (at most about a minute, then exits
/// 97) and then becomes `cmd`. Processes spawned this way and released by one file start together.
pub fn behind_gate(cmd: &Command, gate: &Path) -> Command {
    let script = r#"i=0; while [ ! -e "$BATON_TEST_GATE" ]; do i=$((i+1)); [ "$i" -gt 3000 ] && exit 97; sleep 0.02; done; exec "$@""#;
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(script)
        .arg("sh")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    c.env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    c.env("BATON_TEST_GATE", gate);
    if let Some(dir) = cmd.get_current_dir() {
        c.current_dir(dir);
    }
    c
}
