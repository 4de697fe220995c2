//! baton's benchmark. Builds its own data and prints one table with every figure of the design's
//! "Numbers it must reach", plus how the per-prompt figures move from 10k to 100k to 1M events.
//!
//! Usage: `cargo build --release -p baton -p baton-bench && target/release/baton-bench all`
//! (`--quick` for a short run, `--json PATH` for where the results go, `--baton PATH` for the binary).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use baton_core::config::Policy;
use baton_core::{
    Baton, Caller, ChangesRequest, ClaimRequest, Project, ReleaseRequest, ReleaseStatus, StartRequest, Timestamp,
};
use serde_json::{Value, json};

mod messages;

const PROJECT: &str = "bench.local/org/app";

struct Opts {
    quick: bool,
    json: PathBuf,
    baton: PathBuf,
    pg_url: Option<String>,
}

/// One row of the table.
struct Row {
    what: String,
    target: String,
    measured: String,
    ok: Option<bool>,
    data: Value,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut which = Vec::new();
    let mut opts = Opts {
        quick: false,
        json: PathBuf::from("target/bench-results.json"),
        baton: default_baton(),
        pg_url: std::env::var("BATON_BENCH_DATABASE_URL")
            .or_else(|_| std::env::var("BATON_TEST_DATABASE_URL"))
            .ok()
            .filter(|u| !u.is_empty()),
    };
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => opts.quick = true,
            "--json" => opts.json = it.next().map(PathBuf::from).unwrap_or(opts.json),
            "--baton" => opts.baton = it.next().map(PathBuf::from).unwrap_or(opts.baton),
            "-h" | "--help" => {
                println!(
                    "baton-bench [all|inproc|cli|scale|docs|search|race|postgres|rss|mcp|messages]... [--quick] [--json PATH] [--baton PATH]\n\
                     PostgreSQL rows run when BATON_BENCH_DATABASE_URL (or BATON_TEST_DATABASE_URL) is set."
                );
                return;
            }
            other => which.push(other.to_string()),
        }
    }
    if which.is_empty() || which.iter().any(|w| w == "all") {
        which = [
            "inproc", "cli", "scale", "docs", "search", "race", "postgres", "rss", "mcp", "messages",
        ]
        .map(String::from)
        .to_vec();
    }
    if !opts.baton.exists() {
        eprintln!(
            "baton binary not found at {}: build it with `cargo build --release -p baton` or pass --baton PATH",
            opts.baton.display()
        );
        std::process::exit(1);
    }
    // A child's peak RSS as the kernel reports it includes the RSS of the process it was spawned from (execve
    // keeps the high-water mark of the image it replaces), so the memory scenario runs first, while this
    // process is still small; the table keeps the usual order.
    let mut order: Vec<usize> = (0..which.len()).collect();
    order.sort_by_key(|&i| which[i] != "rss");
    let mut by_scenario: Vec<Vec<Row>> = which.iter().map(|_| Vec::new()).collect();
    for i in order {
        let w = &which[i];
        by_scenario[i] = match w.as_str() {
            "inproc" => inproc(&opts),
            "cli" => cli(&opts),
            "scale" => scale(&opts),
            "docs" => docs(&opts),
            "search" => search(&opts),
            "race" => race(&opts),
            "postgres" => postgres(&opts),
            "rss" => rss(&opts),
            "mcp" => mcp(&opts),
            "messages" => messages::messages(&opts),
            other => {
                eprintln!(
                    "unknown scenario '{other}': expected all, inproc, cli, scale, docs, search, race, postgres, rss, mcp or messages"
                );
                std::process::exit(2);
            }
        };
    }
    let rows: Vec<Row> = by_scenario.into_iter().flatten().collect();
    print_table(&rows, &opts);
}

fn default_baton() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("baton")))
        .unwrap_or_else(|| PathBuf::from("target/release/baton"))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn stats(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(|a, b| a.total_cmp(b));
    (percentile(&ms, 0.5), percentile(&ms, 0.99))
}

fn caller(agent: &str, session: Option<String>) -> Caller {
    Caller {
        project: Project {
            key: PROJECT.to_string(),
            repo: "org/app".to_string(),
            git: None,
        },
        agent: agent.to_string(),
        session: session.map(Into::into),
    }
}

fn must<T>(r: baton_core::Result<T>, what: &str) -> T {
    r.unwrap_or_else(|e| {
        eprintln!("{what}: {e}");
        std::process::exit(1)
    })
}

/// Claim + release pairs per second, in-process, one thread, SQLite.
fn inproc(opts: &Opts) -> Vec<Row> {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = must(baton_sqlite::SqliteStore::open(&dir.path().join("baton.db")), "open");
    let baton = Baton::new(Box::new(store), Policy::default());
    let s = must(
        baton.start_session(&caller("bench", None), StartRequest::default()),
        "start",
    );
    let me = caller("bench", Some(s.session_id.to_string()));
    let n = if opts.quick { 2_000 } else { 20_000 };
    let t = Instant::now();
    for i in 0..n {
        let id = i.to_string();
        must(baton.claim(&me, claim_req(&id)), "claim");
        must(baton.release(&me, release_req(&id)), "release");
    }
    let rate = n as f64 / t.elapsed().as_secs_f64();
    let bare = sqlite_commit_floor(dir.path(), "bare", n * 2, BARE);
    let least = sqlite_commit_floor(dir.path(), "least", n * 2, LEAST_CLAIM);
    let share = rate / (least / 2.0);
    vec![
        Row {
            what: "claim + release, in-process, one thread".into(),
            target: "≥ 80% of the least a recorded claim writes (reference row), and ≥ 8,000 pairs/s".into(),
            measured: format!("{rate:.0} pairs/s, {:.0}% of the reference", share * 100.0),
            ok: Some(share >= 0.8 && rate >= 8_000.0),
            data: json!({"pairs": n, "pairs_per_sec": rate, "share_of_reference": share}),
        },
        Row {
            what: "reference: bare SQLite commits of one row, same file system and settings".into(),
            target: "(ceiling)".into(),
            measured: format!("{bare:.0} commits/s, so at most {:.0} pairs/s", bare / 2.0),
            ok: None,
            data: json!({"commits": n * 2, "commits_per_sec": bare}),
        },
        Row {
            what: "reference: the least a recorded claim writes (claim row + one-holder index, event row + project and time indexes)".into(),
            target: "(ceiling)".into(),
            measured: format!("{least:.0} commits/s, so at most {:.0} pairs/s", least / 2.0),
            ok: None,
            data: json!({"commits": n * 2, "commits_per_sec": least}),
        },
    ]
}

/// One small row per transaction: what any store pays for a commit.
const BARE: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);";
/// What a claim cannot do without when every change is an event: the claim row and the index that keeps an
/// item to one holder, the event row and the indexes `changes` pages by project and finds times with.
const LEAST_CLAIM: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL, held INTEGER NOT NULL);
     CREATE UNIQUE INDEX t_one ON t (v) WHERE held = 1;
     CREATE TABLE e (seq INTEGER PRIMARY KEY, project TEXT NOT NULL, time INTEGER NOT NULL, data TEXT NOT NULL);
     CREATE INDEX e_project ON e (project, seq);
     CREATE INDEX e_time ON e (project, time);";

/// How fast one thread commits transactions shaped by `schema` on this machine, in WAL mode with
/// `synchronous = NORMAL` as the store runs. Each transaction inserts one row into `t` and, when the schema
/// has it, one into `e`. A claim and a release are a commit each, so half the rate bounds the pairs.
fn sqlite_commit_floor(dir: &Path, name: &str, commits: usize, schema: &str) -> f64 {
    let conn = rusqlite::Connection::open(dir.join(format!("{name}.db"))).expect("open the reference database");
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 10000;")
        .and_then(|()| conn.execute_batch(schema))
        .expect("set up the reference database");
    let events = schema.contains("CREATE TABLE e ");
    let t = Instant::now();
    for i in 0..commits {
        conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        let v = format!("task org/app#{i}");
        if events {
            conn.prepare_cached("INSERT INTO t (v, held) VALUES (?1, 1)")
                .and_then(|mut st| st.execute([&v]))
                .expect("insert");
            conn.prepare_cached("INSERT INTO e (project, time, data) VALUES ('acme/app', ?1, ?2)")
                .and_then(|mut st| st.execute(rusqlite::params![i as i64, v]))
                .expect("insert");
        } else {
            conn.prepare_cached("INSERT INTO t (v) VALUES (?1)")
                .and_then(|mut st| st.execute([&v]))
                .expect("insert");
        }
        conn.execute_batch("COMMIT").expect("commit");
    }
    commits as f64 / t.elapsed().as_secs_f64()
}

fn claim_req(id: &str) -> ClaimRequest {
    ClaimRequest {
        item_type: "task".into(),
        item_id: id.into(),
        repo: None,
        ttl: None,
        idempotency_key: None,
        new_type: false,
    }
}

fn release_req(id: &str) -> ReleaseRequest {
    ReleaseRequest {
        item_type: "task".into(),
        item_id: id.into(),
        repo: None,
        status: ReleaseStatus::Completed.into(),
        notes: None,
        force: false,
        reason: None,
        token: None,
        idempotency_key: None,
    }
}

fn baton_cmd(opts: &Opts, home: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(&opts.baton);
    c.args(args)
        .env("BATON_HOME", home)
        .env("BATON_PROJECT", PROJECT)
        .env_remove("BATON_DATABASE_URL")
        .env_remove("BATON_SESSION")
        .current_dir(home)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// `baton hook claude` as a fresh process, given `payload` on stdin.
fn run_hook(opts: &Opts, home: &Path, payload: &str) {
    let mut child = baton_cmd(opts, home, &["hook", "claude"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(payload.as_bytes());
    }
    let st = child.wait().expect("wait");
    assert!(st.success(), "baton hook failed");
}

fn time_runs(n: usize, mut f: impl FnMut(usize)) -> (f64, f64) {
    let mut ms = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        f(i);
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    stats(ms)
}

/// `baton claim` as a fresh process.
fn cli(opts: &Opts) -> Vec<Row> {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let sid = start_cli_session(opts, home, "bench");
    let n = if opts.quick { 100 } else { 500 };
    let (p50, p99) = time_runs(n, |i| {
        let id = format!("c{i}");
        let st = baton_cmd(opts, home, &["claim", "task", &id, "--session", &sid])
            .status()
            .expect("spawn baton");
        assert!(st.success(), "baton claim failed");
    });
    // The same spawn and wait with no work at all: what starting a process costs on this machine.
    let (start_p50, start_p99) = time_runs(n, |_| {
        let st = baton_cmd(opts, home, &["--version"]).status().expect("spawn baton");
        assert!(st.success(), "baton --version failed");
    });
    vec![
        Row {
            what: "`baton claim` as a fresh process".into(),
            target: "p50 ≤ 2× `baton --version` (reference row)".into(),
            measured: format!("p50 {p50:.2} ms ({:.2}× `--version`), p99 {p99:.2} ms", p50 / start_p50),
            ok: Some(p50 <= 2.0 * start_p50),
            data: json!({"runs": n, "p50_ms": p50, "p99_ms": p99, "times_version": p50 / start_p50}),
        },
        Row {
            what: "reference: `baton --version` as a fresh process (starting a process, no work)".into(),
            target: "(floor)".into(),
            measured: format!("p50 {start_p50:.2} ms, p99 {start_p99:.2} ms"),
            ok: None,
            data: json!({"runs": n, "p50_ms": start_p50, "p99_ms": start_p99}),
        },
    ]
}

fn start_cli_session(opts: &Opts, home: &Path, agent: &str) -> String {
    let out = baton_cmd(opts, home, &["session", "start", "--json", "--agent", agent])
        .stdout(Stdio::piped())
        .output()
        .expect("spawn baton");
    let v: Value = serde_json::from_slice(&out.stdout).expect("session start --json");
    v["session_id"].as_str().expect("session_id").to_string()
}

/// Fills a store with `sessions` sessions and `events` events in one project, straight through SQL.
fn seed(path: &Path, sessions: usize, events: usize) {
    drop(must(baton_sqlite::SqliteStore::open(path), "open"));
    let mut conn = rusqlite::Connection::open(path).expect("open for seeding");
    let tx = conn.transaction().expect("begin");
    let base = Timestamp::now().0 - (events as i64 + 10) * 1_000_000;
    let mut ids = Vec::with_capacity(sessions);
    {
        let mut st = tx
            .prepare(
                "INSERT INTO sessions (id, project, agent, context, task_ids, status, created_at, updated_at, last_seen, ended_at, compaction_count, summary, handoff)
                 VALUES (?1, ?2, ?3, ?4, '[]', ?5, ?6, ?7, ?7, ?8, 0, ?9, ?10)",
            )
            .expect("prepare");
        for i in 0..sessions {
            let id = format!("00000000-0000-7000-8000-{i:012}");
            let t = base + (i as i64) * (events as i64 / sessions.max(1) as i64) * 1_000_000;
            let active = i + 20 >= sessions;
            let status = if active { "active" } else { "completed" };
            let ended = if active { None } else { Some(t + 1_000_000) };
            let handoff = json!({"notes": format!("handoff {i}"), "done": [], "next": ["next step"], "blockers": []});
            st.execute(rusqlite::params![
                id,
                PROJECT,
                format!("agent-{}", i % 50),
                format!("context of session {i}"),
                status,
                t,
                ended.unwrap_or(t),
                ended,
                format!("summary {i}"),
                handoff.to_string()
            ])
            .expect("insert session");
            ids.push(id);
        }
        let mut st = tx
            .prepare(
                "INSERT INTO events (seq, time, project, agent, session_id, kind, target, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .expect("prepare");
        const KINDS: [&str; 6] = [
            "journal.progress",
            "claim.granted",
            "claim.released",
            "journal.decision",
            "session.heartbeat",
            "journal.note",
        ];
        for i in 0..events {
            let s = i % sessions.max(1);
            st.execute(rusqlite::params![
                (i + 1) as i64,
                base + (i as i64) * 1_000_000,
                PROJECT,
                format!("agent-{}", s % 50),
                ids[s],
                KINDS[i % KINDS.len()],
                format!("task org/app#{}", i % 5000),
                r#"{"text":"did a thing","token":1}"#
            ])
            .expect("insert event");
        }
    }
    tx.commit().expect("commit");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        .expect("checkpoint");
}

/// The `(sessions, events)` of the big stores: 10k, 100k and 1M events (the last left out by `--quick`).
fn store_sizes(opts: &Opts) -> &'static [(usize, usize)] {
    if opts.quick {
        &[(100, 10_000), (1_000, 100_000)]
    } else {
        &[(100, 10_000), (1_000, 100_000), (10_000, 1_000_000)]
    }
}

/// Per-prompt figures (digest, hook start-up, a page of changes) at 10k, 100k and 1M events.
fn scale(opts: &Opts) -> Vec<Row> {
    let sizes = store_sizes(opts);
    let mut per_size = Vec::new();
    for &(sessions, events) in sizes {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path();
        let db = home.join("baton.db");
        let t = Instant::now();
        seed(&db, sessions, events);
        eprintln!(
            "seeded {sessions} sessions, {events} events in {:.1}s",
            t.elapsed().as_secs_f64()
        );
        let n = if opts.quick { 20 } else { 60 };
        let (digest_p50, digest_p99) = time_runs(n, |_| {
            let st = baton_cmd(opts, home, &["digest", "--agent", "agent-7"])
                .status()
                .expect("spawn baton");
            assert!(st.success(), "baton digest failed");
        });
        let hook = |payload: &str| time_runs(n, |_| run_hook(opts, home, payload));
        let (hook_p50, hook_p99) =
            hook(r#"{"session_id":"bench-conversation","hook_event_name":"SessionStart","source":"resume"}"#);
        // What runs on every prompt, on the conversation's session started just above.
        let (prompt_p50, prompt_p99) = hook(
            r#"{"session_id":"bench-conversation","hook_event_name":"UserPromptSubmit","prompt":"make the login test pass"}"#,
        );
        let (version_p50, _) = time_runs(n, |_| {
            let st = baton_cmd(opts, home, &["--version"]).status().expect("spawn baton");
            assert!(st.success(), "baton --version failed");
        });
        let store = must(baton_sqlite::SqliteStore::open(&db), "open");
        let baton = Baton::new(Box::new(store), Policy::default());
        let who = caller("agent-7", None);
        let pages = if opts.quick { 200 } else { 1000 };
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let (changes_p50, changes_p99) = time_runs(pages, |_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let cursor = (x % events as u64) as i64;
            let page = must(
                baton.changes(
                    &who,
                    &ChangesRequest {
                        since: Some(cursor.to_string()),
                        limit: Some(100),
                        ..Default::default()
                    },
                ),
                "changes",
            );
            assert!(!page.events.is_empty() || cursor as usize + 100 > events);
        });
        per_size.push(json!({
            "sessions": sessions, "events": events,
            "digest_p50_ms": digest_p50, "digest_p99_ms": digest_p99,
            "hook_p50_ms": hook_p50, "hook_p99_ms": hook_p99,
            "prompt_hook_p50_ms": prompt_p50, "prompt_hook_p99_ms": prompt_p99, "version_p50_ms": version_p50,
            "changes_page_p50_ms": changes_p50, "changes_page_p99_ms": changes_p99,
        }));
    }
    let last = per_size.last().cloned().unwrap_or(Value::Null);
    let f = |k: &str| last[k].as_f64().unwrap_or(f64::NAN);
    let first = |k: &str| per_size.first().and_then(|s| s[k].as_f64()).unwrap_or(f64::NAN);
    let series = |k: &str| {
        per_size
            .iter()
            .map(|s| format!("{:.2}", s[k].as_f64().unwrap_or(f64::NAN)))
            .collect::<Vec<_>>()
            .join(" → ")
    };
    let label = format!("{} sessions, {} events", last["sessions"], last["events"]);
    vec![
        Row {
            what: format!("`baton digest`, store with {label}"),
            target: "p50 ≤ 10 ms wall".into(),
            measured: format!(
                "p50 {:.2} ms, p99 {:.2} ms (10k → 100k → 1M events: {} ms)",
                f("digest_p50_ms"),
                f("digest_p99_ms"),
                series("digest_p50_ms")
            ),
            ok: Some(f("digest_p50_ms") <= 10.0),
            data: json!(per_size),
        },
        Row {
            what: format!("hook start-up (`baton hook claude` SessionStart), {label}"),
            target: "p50 ≤ 10 ms wall".into(),
            measured: format!(
                "p50 {:.2} ms, p99 {:.2} ms (10k → 100k → 1M events: {} ms)",
                f("hook_p50_ms"),
                f("hook_p99_ms"),
                series("hook_p50_ms")
            ),
            ok: Some(f("hook_p50_ms") <= 10.0),
            data: Value::Null,
        },
        Row {
            what: format!("hook on every prompt (`baton hook claude` UserPromptSubmit), {label}"),
            target: "p50 ≤ 2× `baton --version` in the same run, flat from 10k to 1M events".into(),
            measured: format!(
                "p50 {:.2} ms ({:.2}× `--version` at {:.2} ms), p99 {:.2} ms (10k → 100k → 1M events: {} ms)",
                f("prompt_hook_p50_ms"),
                f("prompt_hook_p50_ms") / f("version_p50_ms"),
                f("version_p50_ms"),
                f("prompt_hook_p99_ms"),
                series("prompt_hook_p50_ms")
            ),
            // Flat: the biggest store costs at most half again what the smallest does (runs vary by about that).
            ok: Some(
                f("prompt_hook_p50_ms") <= 2.0 * f("version_p50_ms")
                    && f("prompt_hook_p50_ms") <= 1.5 * first("prompt_hook_p50_ms"),
            ),
            data: Value::Null,
        },
        Row {
            what: format!("`changes` page of 100, in-process, {label}"),
            target: "p50 ≤ 2 ms in-process".into(),
            measured: format!(
                "p50 {:.3} ms, p99 {:.3} ms (10k → 100k → 1M events: {} ms)",
                f("changes_page_p50_ms"),
                f("changes_page_p99_ms"),
                series("changes_page_p50_ms")
            ),
            ok: Some(f("changes_page_p50_ms") <= 2.0),
            data: Value::Null,
        },
    ]
}

/// Made-up words of two or three syllables: 20³ + 20² of them, so a text of a dozen reads like prose to an index.
fn vocabulary() -> Vec<String> {
    const SYLLABLES: [&str; 20] = [
        "ba", "ton", "ret", "ry", "lo", "gin", "cas", "che", "sto", "re", "tok", "en", "pa", "ger", "mi", "gra", "te",
        "qu", "ex", "pol",
    ];
    let mut words = Vec::new();
    for a in SYLLABLES {
        for b in SYLLABLES {
            words.push(format!("{a}{b}"));
            for c in SYLLABLES {
                words.push(format!("{a}{b}{c}"));
            }
        }
    }
    words
}

/// A deterministic stream of numbers (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A word index skewed toward the front, as word use is: some words are common, most are rare.
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        ((u * u * u) * n as f64) as usize
    }
}

/// `baton search` as a fresh process over a store of 1,000,000 journal entries (100,000 with `--quick`) in
/// 10,000 sessions that ended with handoffs: every entry a dozen words of a 8,400-word vocabulary, common
/// words far more common than rare ones. The queries mix a common word, rarer ones, two words and a prefix.
fn search(opts: &Opts) -> Vec<Row> {
    let entries: usize = if opts.quick { 100_000 } else { 1_000_000 };
    let sessions: usize = 10_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let db = home.join("baton.db");
    let words = vocabulary();
    let t = Instant::now();
    drop(must(baton_sqlite::SqliteStore::open(&db), "open"));
    {
        // Straight through SQL, in one transaction: the triggers of the schema fill the search index as baton's
        // own inserts do.
        let mut conn = rusqlite::Connection::open(&db).expect("open for seeding");
        let tx = conn.transaction().expect("begin");
        let base = Timestamp::now().0 - (entries as i64 + 10) * 1_000_000;
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let text = |rng: &mut Rng, n: usize| {
            (0..n)
                .map(|_| words[rng.skewed(words.len())].as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        {
            let mut st = tx
                .prepare(
                    "INSERT INTO sessions (id, project, agent, task_ids, status, created_at, updated_at, last_seen, ended_at,
                                           compaction_count, summary, handoff)
                     VALUES (?1, ?2, ?3, '[]', 'completed', ?4, ?4, ?4, ?4, 0, ?5, ?6)",
                )
                .expect("prepare");
            for i in 0..sessions {
                let handoff =
                    json!({"notes": text(&mut rng, 12), "done": [], "next": [text(&mut rng, 5)], "blockers": []});
                st.execute(rusqlite::params![
                    format!("00000000-0000-7000-8000-{i:012}"),
                    PROJECT,
                    format!("agent-{}", i % 50),
                    base + (i * entries / sessions) as i64 * 1_000_000,
                    text(&mut rng, 8),
                    handoff.to_string()
                ])
                .expect("insert session");
            }
            let mut st = tx
                .prepare(
                    "INSERT INTO journal_entries (id, session_id, kind, text, rationale, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .expect("prepare");
            const KINDS: [&str; 5] = ["progress", "decision", "discovery", "note", "blocker"];
            for i in 0..entries {
                let kind = KINDS[i % KINDS.len()];
                let n = 8 + (rng.next() % 7) as usize;
                let rationale = (kind == "decision").then(|| text(&mut rng, 6));
                st.execute(rusqlite::params![
                    format!("00000000-0000-7000-9000-{i:012}"),
                    format!("00000000-0000-7000-8000-{:012}", i % sessions),
                    kind,
                    text(&mut rng, n),
                    rationale,
                    base + i as i64 * 1_000_000
                ])
                .expect("insert entry");
            }
        }
        tx.commit().expect("commit");
        conn.execute_batch(
            "INSERT INTO journal_search (journal_search) VALUES ('optimize');
             INSERT INTO handoff_search (handoff_search) VALUES ('optimize');
             PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;",
        )
        .expect("optimize");
    }
    let seeded = t.elapsed().as_secs_f64();
    eprintln!("seeded {sessions} sessions and {entries} journal entries, indexed, in {seeded:.1}s");

    // Words by how common they are: rank 10 is in about one entry in 15, rank 3,000 in about one in 2,000.
    let rank = |r: usize| {
        let mut counts: HashMap<usize, usize> = HashMap::new();
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..200_000 {
            *counts.entry(rng.skewed(words.len())).or_default() += 1;
        }
        let mut by_use: Vec<(usize, usize)> = counts.into_iter().collect();
        by_use.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        words[by_use[r.min(by_use.len() - 1)].0].clone()
    };
    let (common, middling, rare, rarer) = (rank(10), rank(300), rank(3000), rank(6000));
    let prefix: String = middling.chars().take(4).collect();
    let queries: Vec<Vec<String>> = vec![
        vec![common.clone()],
        vec![middling.clone()],
        vec![rare.clone()],
        vec![rarer],
        vec![common, middling.clone()],
        vec![middling, rare],
        vec![prefix],
    ];
    let n = if opts.quick { 70 } else { 210 };
    let mut per_query: Vec<Vec<f64>> = vec![Vec::new(); queries.len()];
    let mut hits = vec![0usize; queries.len()];
    let mut all = Vec::with_capacity(n);
    for i in 0..n {
        let q = i % queries.len();
        let text = queries[q].join(" ");
        let t = Instant::now();
        let out = baton_cmd(opts, home, &["search", "--limit", "20", "--json", &text])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("spawn baton");
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        assert!(
            out.status.success(),
            "baton search failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if i < queries.len() {
            let v: Value = serde_json::from_slice(&out.stdout).expect("search --json");
            hits[q] = v["hits"].as_array().map(Vec::len).unwrap_or(0);
        }
        per_query[q].push(ms);
        all.push(ms);
    }
    let (p50, p99) = stats(all);
    let per: Vec<Value> = queries
        .iter()
        .zip(per_query)
        .zip(&hits)
        .map(|((q, ms), h)| {
            let (p50, p99) = stats(ms);
            json!({"words": q, "hits": h, "p50_ms": p50, "p99_ms": p99})
        })
        .collect();
    let worst = per.iter().filter_map(|q| q["p50_ms"].as_f64()).fold(0.0, f64::max);
    vec![Row {
        what: format!("`baton search` as a fresh process, {entries} journal entries and {sessions} handoffs"),
        target: "p50 ≤ 20 ms wall".into(),
        measured: format!(
            "p50 {p50:.2} ms, p99 {p99:.2} ms over {} queries (slowest query's p50 {worst:.2} ms; store built in {seeded:.0} s)",
            queries.len()
        ),
        ok: Some(p50 <= 20.0),
        data: json!({"entries": entries, "sessions": sessions, "runs": n, "p50_ms": p50, "p99_ms": p99,
                     "seed_secs": seeded, "queries": per}),
    }]
}

/// A command that changes a session (`baton session log`) with session documents kept up to date (`[docs] auto`),
/// on the stores of the `scale` scenario, beside the same command without them.
fn docs(opts: &Opts) -> Vec<Row> {
    let sizes = store_sizes(opts);
    let mut per_size = Vec::new();
    for &(sessions, events) in sizes {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path();
        seed(&home.join("baton.db"), sessions, events);
        let config = home.join(".baton/config.toml");
        std::fs::create_dir_all(home.join(".baton")).expect("create .baton");
        let sid = start_cli_session(opts, home, "bench-docs");
        let n = if opts.quick { 20 } else { 60 };
        // With and without documents in turn, so both see the same moment of a noisy machine.
        let (mut with_ms, mut without_ms) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for i in 0..2 * n {
            let with_docs = i % 2 == 1;
            let text = if with_docs {
                "[docs]\nauto = true\nlayout = \"agents\"\n"
            } else {
                ""
            };
            std::fs::write(&config, text).expect("write .baton/config.toml");
            let t = Instant::now();
            let st = baton_cmd(
                opts,
                home,
                &["session", "log", "--progress", &format!("step {i}"), "--session", &sid],
            )
            .status()
            .expect("spawn baton");
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            assert!(st.success(), "baton session log failed");
            if with_docs { &mut with_ms } else { &mut without_ms }.push(ms);
        }
        let (docs_p50, docs_p99) = stats(with_ms);
        let (plain_p50, _) = stats(without_ms);
        let rendered = std::fs::read_dir(home.join(".agents/sessions")).map_or(0, |d| d.count());
        assert!(rendered >= 1, "[docs] auto rendered no document");
        per_size.push(json!({
            "sessions": sessions, "events": events, "runs": n,
            "docs_p50_ms": docs_p50, "docs_p99_ms": docs_p99, "plain_p50_ms": plain_p50,
        }));
    }
    let f = |i: usize, k: &str| per_size.get(i).and_then(|s| s[k].as_f64()).unwrap_or(f64::NAN);
    let last = per_size.len().saturating_sub(1);
    let series = |k: &str| {
        (0..per_size.len())
            .map(|i| format!("{:.2}", f(i, k)))
            .collect::<Vec<_>>()
            .join(" → ")
    };
    vec![Row {
        what: format!(
            "`baton session log` with `[docs] auto`, store with {} sessions, {} events",
            per_size[last]["sessions"], per_size[last]["events"]
        ),
        target: "flat from 10k to 1M events".into(),
        measured: format!(
            "p50 {:.2} ms, p99 {:.2} ms; without `[docs] auto` {:.2} ms (10k → 100k → 1M events: {} ms; without: {} ms)",
            f(last, "docs_p50_ms"),
            f(last, "docs_p99_ms"),
            f(last, "plain_p50_ms"),
            series("docs_p50_ms"),
            series("plain_p50_ms")
        ),
        // Flat: the biggest store costs at most half again what the smallest does (runs vary by about that).
        ok: Some(f(last, "docs_p50_ms") <= 1.5 * f(0, "docs_p50_ms")),
        data: json!(per_size),
    }]
}

/// 16 real processes racing for the same 200 items, round after round.
fn race(opts: &Opts) -> Vec<Row> {
    const RACERS: usize = 16;
    const ITEMS: usize = 200;
    let rounds = if opts.quick { 2 } else { 20 };
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().to_path_buf();
    let mut good_rounds = 0;
    let mut double = 0;
    let mut errors = 0;
    let t = Instant::now();
    for round in 0..rounds {
        let sessions: Vec<String> = (0..RACERS)
            .map(|r| start_cli_session(opts, &home, &format!("racer-{r}")))
            .collect();
        let handles: Vec<_> = sessions
            .iter()
            .cloned()
            .enumerate()
            .map(|(r, sid)| {
                let home = home.clone();
                let bin = opts.baton.clone();
                std::thread::spawn(move || {
                    let o = Opts {
                        quick: true,
                        json: PathBuf::new(),
                        baton: bin,
                        pg_url: None,
                    };
                    let mut wins = Vec::new();
                    let mut errs = 0;
                    for k in 0..ITEMS {
                        let item = (k * 7 + r * 13) % ITEMS;
                        let id = format!("r{round}-{item}");
                        let st = baton_cmd(&o, &home, &["claim", "issue", &id, "--session", &sid]).status();
                        match st.ok().and_then(|s| s.code()) {
                            Some(0) => wins.push(item),
                            Some(3) => {}
                            _ => errs += 1,
                        }
                    }
                    (wins, errs)
                })
            })
            .collect();
        let mut winners: HashMap<usize, usize> = HashMap::new();
        for h in handles {
            let (wins, errs) = h.join().expect("racer");
            errors += errs;
            for w in wins {
                *winners.entry(w).or_default() += 1;
            }
        }
        let exact = (0..ITEMS).all(|i| winners.get(&i) == Some(&1));
        double += winners.values().filter(|&&n| n > 1).count();
        if exact {
            good_rounds += 1;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    vec![Row {
        what: format!("{RACERS} processes racing for the same {ITEMS} items, {rounds} rounds"),
        target: "exactly one winner per item per round".into(),
        measured: format!(
            "{good_rounds}/{rounds} rounds exact, {double} double grants, {errors} errors ({:.0} claims/s over {secs:.0}s)",
            (RACERS * ITEMS * rounds) as f64 / secs
        ),
        ok: Some(good_rounds == rounds && double == 0 && errors == 0),
        data: json!({"rounds": rounds, "exact_rounds": good_rounds, "double_grants": double, "errors": errors, "seconds": secs}),
    }]
}

/// 16 concurrent clients claiming and releasing on PostgreSQL, with items shared so they contend.
fn postgres(opts: &Opts) -> Vec<Row> {
    let Some(url) = opts.pg_url.clone() else {
        return vec![Row {
            what: "PostgreSQL, 16 concurrent clients, claim + release".into(),
            target: "≥ 3,000 pairs/s, zero double grants".into(),
            measured: "not run: set BATON_BENCH_DATABASE_URL (or BATON_TEST_DATABASE_URL)".into(),
            ok: None,
            data: Value::Null,
        }];
    };
    const CLIENTS: usize = 16;
    const ITEMS: u64 = 64;
    let schema = format!("bench_{}_{}", std::process::id(), Timestamp::now().0 % 1_000_000);
    let secs = if opts.quick { 3 } else { 10 };
    let stop = Arc::new(AtomicBool::new(false));
    let pairs = Arc::new(AtomicU64::new(0));
    let grants: Arc<std::sync::Mutex<Vec<(u64, i64)>>> = Arc::default();
    let mut handles = Vec::new();
    for c in 0..CLIENTS {
        let (url, schema, stop, pairs, grants) =
            (url.clone(), schema.clone(), stop.clone(), pairs.clone(), grants.clone());
        handles.push(std::thread::spawn(move || {
            let store = must(baton_postgres::PgStore::open_in_schema(&url, &schema), "connect");
            let baton = Baton::new(Box::new(store), Policy::default());
            let s = must(
                baton.start_session(&caller(&format!("pg-{c}"), None), StartRequest::default()),
                "start",
            );
            let me = caller(&format!("pg-{c}"), Some(s.session_id.to_string()));
            let mine = claim_and_release(&baton, &me, ITEMS, c as u64, &stop, &pairs);
            grants.lock().map(|mut g| g.extend(mine)).ok();
        }));
    }
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    let rate = pairs.load(Ordering::Relaxed) as f64 / secs as f64;
    let doubles = double_grants(&grants.lock().map(|g| g.clone()).unwrap_or_default());
    let store = must(baton_postgres::PgStore::open_in_schema(&url, &schema), "connect");
    let problems = must(baton_core::integrity::problems(&store), "integrity");
    drop(store);
    let ceiling = postgres_ceiling(&url, &schema, CLIENTS, secs);
    drop_schema(&url, &schema);
    let floor = ceiling
        .as_ref()
        .and_then(|c| c.data["pairs_per_sec"].as_f64())
        .unwrap_or(f64::NAN);
    let share = rate / floor;
    let mut rows = vec![Row {
        what: format!("PostgreSQL, {CLIENTS} concurrent clients, claim + release ({ITEMS} shared items)"),
        target: "≥ 70% of the floor for a pair (reference row), zero double grants".into(),
        measured: format!(
            "{rate:.0} pairs/s, {:.0}% of the floor, {doubles} double grants, integrity problems: {}",
            share * 100.0,
            problems.len()
        ),
        ok: Some(share >= 0.7 && doubles == 0 && problems.is_empty()),
        data: json!({"pairs_per_sec": rate, "share_of_floor": share, "double_grants": doubles, "integrity_problems": problems, "seconds": secs}),
    }];
    rows.extend(ceiling);
    rows.push(postgres_one_store(&url, &schema, CLIENTS, ITEMS, opts.quick));
    rows
}

/// Claims and releases random items of `items` as `me` until `stop`, counting pairs; returns the grants
/// (item, token).
fn claim_and_release(
    baton: &Baton,
    me: &Caller,
    items: u64,
    seed: u64,
    stop: &AtomicBool,
    pairs: &AtomicU64,
) -> Vec<(u64, i64)> {
    let mut x = 0x2545_f491_4f6c_dd1d_u64 ^ (seed + 1);
    let mut mine = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let item = x % items;
        let id = item.to_string();
        let out = must(baton.claim(me, claim_req(&id)), "claim");
        if let (true, Some(claim)) = (out.claimed, out.claim) {
            mine.push((item, claim.token));
            must(baton.release(me, release_req(&id)), "release");
            pairs.fetch_add(1, Ordering::Relaxed);
        }
    }
    mine
}

/// How many grants were made twice: one (item, token) granted twice.
fn double_grants(grants: &[(u64, i64)]) -> usize {
    let mut seen = std::collections::HashSet::new();
    grants.iter().filter(|g| !seen.insert(**g)).count()
}

/// The same clients as [`postgres`], all on one store (as one server process serving them would be):
/// through its pool of connections, through a single connection (`pool_size=1`: what one store did before
/// it had a pool), and against a store of their own each. The three run in turns of a few seconds, in a
/// rotating order, so that a change in the machine's load falls on all of them alike; the clock of a turn
/// starts once every client has its store and its session.
fn postgres_one_store(url: &str, schema: &str, clients: usize, items: u64, quick: bool) -> Row {
    let (turns, turn) = if quick {
        (3, Duration::from_secs(1))
    } else {
        (5, Duration::from_secs(2))
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    // (what, URL, how many stores): the pooled store, the one-connection store, a store for each client.
    let setups = [
        ("pool", url.to_string(), 1),
        ("single", format!("{url}{sep}pool_size=1"), 1),
        ("own", url.to_string(), clients),
    ];
    struct Setup {
        schema: String,
        batons: Vec<Baton>,
        callers: Vec<Caller>,
        pool_size: usize,
        pairs: u64,
        grants: Vec<(u64, i64)>,
    }
    let mut setups: Vec<Setup> = setups
        .into_iter()
        .map(|(what, url, stores)| {
            let schema = format!("{schema}_{what}");
            let stores: Vec<baton_postgres::PgStore> = (0..stores)
                .map(|_| must(baton_postgres::PgStore::open_in_schema(&url, &schema), "connect"))
                .collect();
            let pool_size = stores[0].pool_size();
            let batons: Vec<Baton> = stores
                .into_iter()
                .map(|s| Baton::new(Box::new(s), Policy::default()))
                .collect();
            let callers = (0..clients)
                .map(|c| {
                    let agent = format!("pg-{c}");
                    let baton = &batons[c % batons.len()];
                    let s = must(
                        baton.start_session(&caller(&agent, None), StartRequest::default()),
                        "start",
                    );
                    caller(&agent, Some(s.session_id.to_string()))
                })
                .collect();
            Setup {
                schema,
                batons,
                callers,
                pool_size,
                pairs: 0,
                grants: Vec::new(),
            }
        })
        .collect();
    let n = setups.len();
    for t in 0..turns {
        for k in 0..n {
            let setup = &mut setups[(t + k) % n];
            let stop = AtomicBool::new(false);
            let pairs = AtomicU64::new(0);
            let start = std::sync::Barrier::new(clients + 1);
            let grants: Vec<Vec<(u64, i64)>> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..clients)
                    .map(|c| {
                        let (baton, me) = (&setup.batons[c % setup.batons.len()], &setup.callers[c]);
                        let (stop, pairs, start) = (&stop, &pairs, &start);
                        scope.spawn(move || {
                            start.wait();
                            claim_and_release(baton, me, items, (t * clients + c) as u64, stop, pairs)
                        })
                    })
                    .collect();
                start.wait();
                std::thread::sleep(turn);
                stop.store(true, Ordering::Relaxed);
                handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
            });
            setup.pairs += pairs.load(Ordering::Relaxed);
            setup.grants.extend(grants.into_iter().flatten());
        }
    }
    let secs = (turn * turns as u32).as_secs_f64();
    let mut doubles = 0;
    let mut problems = Vec::new();
    for s in &mut setups {
        doubles += double_grants(&s.grants);
        s.batons.clear();
        let store = must(baton_postgres::PgStore::open_in_schema(url, &s.schema), "connect");
        problems.extend(must(baton_core::integrity::problems(&store), "integrity"));
        drop(store);
        drop_schema(url, &s.schema);
    }
    let rate = |s: &Setup| s.pairs as f64 / secs;
    let (pooled, single, own) = (rate(&setups[0]), rate(&setups[1]), rate(&setups[2]));
    let share = pooled / own;
    Row {
        what: format!(
            "PostgreSQL, {clients} threads on one store (its pool of {} connections) vs a store each, claim + release ({items} shared items)",
            setups[0].pool_size
        ),
        target: "one store ≥ 70% of a store each (same run), zero double grants".into(),
        measured: format!(
            "one store {pooled:.0} pairs/s, a store each {own:.0} pairs/s ({:.0}%); one store on a single connection {single:.0} pairs/s; {doubles} double grants, integrity problems: {}",
            share * 100.0,
            problems.len()
        ),
        ok: Some(share >= 0.7 && doubles == 0 && problems.is_empty()),
        data: json!({
            "one_store_pairs_per_sec": pooled, "pool_size": setups[0].pool_size, "own_stores_pairs_per_sec": own,
            "share_of_own_stores": share, "single_connection_pairs_per_sec": single,
            "double_grants": doubles, "integrity_problems": problems, "seconds_each": secs,
        }),
    }
}

/// The least a claim + release pair can cost on this server and machine: two transactions that each lock one
/// row, then insert one row and commit, in two round trips (one statement message each), from as many
/// clients at once, each on rows of its own so none waits for another. A claim cannot do less: it decides
/// on the item's current grant, read under a lock, and records what it decided durably.
fn postgres_ceiling(url: &str, schema: &str, clients: usize, secs: u64) -> Option<Row> {
    const ROWS: usize = 64;
    let mut setup = postgres_client(url).ok()?;
    setup
        .batch_execute(&format!(
            "CREATE TABLE \"{schema}\".ceiling_items (id INTEGER PRIMARY KEY, v INTEGER NOT NULL);
             CREATE TABLE \"{schema}\".ceiling_log (id BIGSERIAL PRIMARY KEY, item INTEGER NOT NULL);
             INSERT INTO \"{schema}\".ceiling_items SELECT g, 0 FROM generate_series(0, {}) g;",
            clients * ROWS - 1
        ))
        .ok()?;
    let stop = Arc::new(AtomicBool::new(false));
    let pairs = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let (url, schema, stop, pairs) = (url.to_string(), schema.to_string(), stop.clone(), pairs.clone());
            std::thread::spawn(move || {
                let Ok(mut db) = postgres_client(&url) else { return };
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..2 {
                        let item = c * ROWS + n % ROWS;
                        n += 1;
                        let read =
                            format!("BEGIN; SELECT v FROM \"{schema}\".ceiling_items WHERE id = {item} FOR UPDATE");
                        let write = format!("INSERT INTO \"{schema}\".ceiling_log (item) VALUES ({item}); COMMIT");
                        if db.simple_query(&read).and_then(|_| db.simple_query(&write)).is_err() {
                            return;
                        }
                    }
                    pairs.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    let rate = pairs.load(Ordering::Relaxed) as f64 / secs as f64;
    Some(Row {
        what: format!(
            "reference: the least a pair can cost here ({clients} clients, 2 transactions of lock a row, insert a row, commit)"
        ),
        target: "(ceiling)".into(),
        measured: format!("{rate:.0} pairs/s"),
        ok: None,
        data: json!({"pairs_per_sec": rate, "seconds": secs}),
    })
}

fn drop_schema(url: &str, schema: &str) {
    if let Ok(mut c) = postgres_client(url) {
        let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
    }
}

fn postgres_client(url: &str) -> Result<baton_postgres_client::Client, String> {
    baton_postgres_client::Client::connect(url, baton_postgres_client::NoTls).map_err(|e| e.to_string())
}

use postgres as baton_postgres_client;

/// Peak resident memory of one CLI call (`baton claims` on a store with data).
// The children are reaped by `wait4` in `max_rss_kib`, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn rss(opts: &Opts) -> Vec<Row> {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let sid = start_cli_session(opts, home, "rss");
    for i in 0..50 {
        let _ = baton_cmd(opts, home, &["claim", "task", &format!("m{i}"), "--session", &sid]).status();
    }
    let mut peaks = Vec::new();
    for args in [
        &["claims"][..],
        &["digest"][..],
        &["claim", "task", "rss-x", "--session", &sid][..],
    ] {
        let child = baton_cmd(opts, home, args).spawn().expect("spawn");
        peaks.push(max_rss_kib(child.id() as i32) as f64 / 1024.0);
    }
    let peak = peaks.iter().cloned().fold(0.0, f64::max);
    vec![Row {
        what: "peak memory of one CLI call (claims, digest, claim)".into(),
        target: "≤ 15 MB RSS".into(),
        measured: format!(
            "{peak:.1} MB (claims {:.1}, digest {:.1}, claim {:.1})",
            peaks[0], peaks[1], peaks[2]
        ),
        ok: Some(peak <= 15.0),
        data: json!({"peak_mb": peak, "per_call_mb": peaks}),
    }]
}

/// `baton mcp` over stdio, as a client launches it: one tool call's round trip, and `tools/list`'s size.
fn mcp(opts: &Opts) -> Vec<Row> {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = baton_cmd(opts, dir.path(), &["mcp", "--agent", "bench"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn baton mcp");
    let mut conn = McpConn {
        stdin: child.stdin.take().expect("stdin"),
        stdout: BufReader::new(child.stdout.take().expect("stdout")),
        id: 0,
    };
    conn.rpc(
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "baton-bench", "version": "0"}}),
    );
    conn.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let (_, list_bytes) = conn.rpc("tools/list", json!({}));
    conn.rpc(
        "tools/call",
        json!({"name": "session_start", "arguments": {"context": "bench"}}),
    );
    let n = if opts.quick { 500 } else { 5_000 };
    // claim_work on an item the session holds renews the lease: a write transaction and an event.
    let call = json!({"name": "claim_work", "arguments": {"work_type": "task", "work_id": "1"}});
    let (p50, p99) = time_runs(n, |_| {
        let (r, _) = conn.rpc("tools/call", call.clone());
        assert_eq!(r["result"]["isError"], false, "claim_work failed: {r}");
    });
    drop(conn);
    let _ = child.wait();
    let max = 12 * 1024;
    vec![
        Row {
            what: "MCP over stdio, one tool call round trip (claim_work)".into(),
            target: "p50 ≤ 1 ms".into(),
            measured: format!("p50 {p50:.3} ms, p99 {p99:.3} ms"),
            ok: Some(p50 <= 1.0),
            data: json!({"calls": n, "p50_ms": p50, "p99_ms": p99}),
        },
        Row {
            what: "MCP `tools/list` response".into(),
            target: "≤ 12 KB".into(),
            measured: format!("{list_bytes} bytes"),
            ok: Some(list_bytes <= max),
            data: json!({"bytes": list_bytes}),
        },
    ]
}

/// One JSON-RPC connection to `baton mcp` over its stdin and stdout.
struct McpConn {
    stdin: std::process::ChildStdin,
    stdout: BufReader<std::process::ChildStdout>,
    id: u64,
}

impl McpConn {
    fn send(&mut self, msg: &Value) {
        writeln!(self.stdin, "{msg}")
            .and_then(|_| self.stdin.flush())
            .expect("write to baton mcp");
    }

    /// Sends a request; returns its response and the response's size in bytes.
    fn rpc(&mut self, method: &str, params: Value) -> (Value, usize) {
        self.id += 1;
        let id = self.id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let mut line = String::new();
        loop {
            line.clear();
            if self.stdout.read_line(&mut line).expect("read from baton mcp") == 0 {
                eprintln!("baton mcp closed its output while answering {method}");
                std::process::exit(1);
            }
            let v: Value = serde_json::from_str(&line).expect("baton mcp speaks JSON");
            if v["id"] == json!(id) {
                return (v, line.trim_end().len());
            }
        }
    }
}

/// Waits for `pid` and returns its peak RSS in KiB.
fn max_rss_kib(pid: i32) -> i64 {
    let mut status = 0;
    // SAFETY: `usage` is a plain C struct that wait4 fills in; pid is our own child.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::wait4(pid, &mut status, 0, &mut usage);
        usage.ru_maxrss
    }
}

fn print_table(rows: &[Row], opts: &Opts) {
    let machine = machine();
    println!("baton benchmark — {machine}\n");
    println!("| what | target | measured | |");
    println!("|---|---|---|---|");
    for r in rows {
        let mark = match r.ok {
            Some(true) => "✅",
            Some(false) => "❌",
            None => "—",
        };
        println!("| {} | {} | {} | {mark} |", r.what, r.target, r.measured);
    }
    let out = json!({
        "machine": machine,
        "quick": opts.quick,
        "rows": rows.iter().map(|r| json!({"what": r.what, "target": r.target, "measured": r.measured, "ok": r.ok, "data": r.data})).collect::<Vec<_>>(),
    });
    if let Some(dir) = opts.json.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(&opts.json, serde_json::to_string_pretty(&out).unwrap_or_default()) {
        Ok(()) => println!("\nresults written to {}", opts.json.display()),
        Err(e) => eprintln!("cannot write {}: {e}", opts.json.display()),
    }
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| format!("{} GiB", kb / 1024 / 1024))
        .unwrap_or_default();
    format!("{cpus} CPUs ({model}), {mem}, {}", std::env::consts::OS)
}
