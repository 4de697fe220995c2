//! Locks held from outside: every wait is bounded and ends in a clear "busy" (exit 1) that changes nothing,
//! a lease is never shortened by the time spent waiting for a lock, and a baton stopped in the middle of
//! its transaction leaves nothing half done.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::common::{Backend, Env, Run, micros, unique};

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

fn run_waiting(env: &Env, agent: &str, lock_timeout: &str, args: &[&str]) -> Run {
    Run::from(
        env.cmd(args)
            .env("BATON_AGENT", agent)
            .env("BATON_LOCK_TIMEOUT", lock_timeout)
            .output()
            .expect("run baton"),
    )
}

/// Asserts a `--json` run failed as busy (exit 1) and returns the error object.
#[track_caller]
fn busy(r: &Run) -> Value {
    r.code(1);
    let j = r.json();
    assert_eq!(j["error"]["kind"], "busy", "{j}");
    let message = j["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("busy"), "{message}");
    assert!(message.contains("nothing was changed"), "{message}");
    assert!(
        message.contains("lock_timeout"),
        "the message says what to change: {message}"
    );
    j["error"].clone()
}

/// The claim a `claim --json` run printed.
fn granted(r: &Run) -> (i64, i64, i64) {
    r.ok();
    let j = r.json();
    assert_eq!(j["claimed"], true, "{j}");
    let c = &j["claim"];
    (
        micros(c["granted_at"].as_str().expect("granted_at")),
        micros(c["expires_at"].as_str().expect("expires_at")),
        c["ttl_secs"].as_i64().expect("ttl_secs"),
    )
}

// ---- SQLite ----

/// Holds the database's write lock from this process until the returned sender is dropped or sent to;
/// the lock is taken before this returns. The thread answers with the time it let go, just before COMMIT.
fn hold_sqlite_write_lock(env: &Env) -> (mpsc::Sender<()>, thread::JoinHandle<i64>) {
    let path = env.baton_home().join("baton.db");
    let (locked_tx, locked_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let holder = thread::spawn(move || {
        let conn = rusqlite::Connection::open(&path).expect("open the database");
        conn.execute_batch("BEGIN IMMEDIATE").expect("take the write lock");
        locked_tx.send(()).expect("report the lock");
        let _ = release_rx.recv_timeout(Duration::from_secs(60));
        let released = now_micros();
        conn.execute_batch("COMMIT").expect("let go of the write lock");
        released
    });
    locked_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the write lock is taken");
    (release_tx, holder)
}

#[test]
fn sqlite_write_lock_held_elsewhere_is_a_bounded_clear_busy() {
    let env = Env::new();
    env.start("alice", "auth");
    let start = json!({
        "session_id": "conversation-1", "transcript_path": "/tmp/t.jsonl", "cwd": env.repo,
        "hook_event_name": "SessionStart", "source": "startup",
    });
    hook(&env, "10s", &start).ok();
    let before = env.all_events();
    let (release, holder) = hold_sqlite_write_lock(&env);

    let r = run_waiting(&env, "alice", "1s", &["claim", "issue", "15", "--json"]);
    let e = busy(&r);
    assert_eq!(e["holder"]["pid"], std::process::id(), "the holder is named: {e}");
    assert_eq!(e["waited_ms"], 1000);
    let message = e["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("process {}", std::process::id())),
        "{message}"
    );
    r.stderr_has("error: the database");

    busy(&run_waiting(
        &env,
        "alice",
        "1s",
        &["session", "log", "--progress", "p", "--json"],
    ));
    busy(&run_waiting(&env, "alice", "1s", &["heartbeat", "--json"]));

    // Hooks wait no longer than their client allows, and say why they gave up: SessionEnd has 1.5 s.
    let end = json!({
        "session_id": "conversation-1", "transcript_path": "/tmp/t.jsonl", "cwd": env.repo,
        "hook_event_name": "SessionEnd", "reason": "exit",
    });
    let r = hook(&env, "30s", &end);
    r.code(1).stderr_has("busy").stderr_has("after waiting 800ms");
    assert!(r.stdout.is_empty(), "a failed hook answers nothing: {}", r.stdout);

    // Reading goes on meanwhile: WAL readers do not wait for the writer.
    assert_eq!(env.all_events(), before, "nothing was written while the lock was held");
    release.send(()).expect("release");
    holder.join().expect("the holder thread");
    env.run_as("alice", &["claim", "issue", "15"]).ok();
}

/// Runs `baton hook claude` with a payload and a lock timeout.
fn hook(env: &Env, lock_timeout: &str, payload: &Value) -> Run {
    let mut child = env
        .cmd(&["hook", "claude"])
        .env("BATON_LOCK_TIMEOUT", lock_timeout)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the hook");
    let mut stdin = child.stdin.take().expect("stdin");
    let _ = stdin.write_all(payload.to_string().as_bytes());
    drop(stdin);
    Run::from(child.wait_with_output().expect("wait for the hook"))
}

/// Claims with `--ttl 2s` while a lock it needs is held elsewhere, lets `release` go of the lock 3 s later
/// (it returns the time it let go), and checks that the lease runs its full TTL from after that moment.
fn assert_lease_runs_from_the_lock(env: &Env, release: impl FnOnce() -> i64) {
    let claim = env
        .cmd(&["claim", "task", "W1", "--ttl", "2s", "--json"])
        .env("BATON_AGENT", "alice")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the claim");
    // The claim waits for the lock meanwhile (the lock timeout is 10 s).
    thread::sleep(Duration::from_secs(3));
    let released = release();
    let r = Run::from(claim.wait_with_output().expect("wait for the claim"));
    let (granted_at, expires_at, ttl) = granted(&r);
    assert!(
        granted_at >= released,
        "the lease starts once the lock is granted: granted {granted_at}, lock released {released}"
    );
    assert_eq!((ttl, expires_at - granted_at), (2, 2_000_000), "the full TTL");
}

#[test]
fn sqlite_lease_runs_from_when_the_write_lock_was_granted() {
    let env = Env::new();
    env.start("alice", "auth");
    let (release, holder) = hold_sqlite_write_lock(&env);
    assert_lease_runs_from_the_lock(&env, || {
        release.send(()).expect("release");
        holder.join().expect("the holder thread")
    });
}

// ---- PostgreSQL ----

/// A PostgreSQL environment whose tables live in a schema of their own, so that locking a whole table
/// holds up no other test.
fn isolated_postgres() -> (Env, postgres::Client, String) {
    let Backend::Postgres(url) = Backend::postgres() else {
        unreachable!("Backend::postgres is PostgreSQL");
    };
    let schema = unique("locks").replace('-', "_");
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect to PostgreSQL");
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .expect("create the schema");
    let sep = if url.contains('?') { '&' } else { '?' };
    let isolated = format!("{url}{sep}options=-csearch_path%3D{schema}");
    let env = Env::with_backend(Backend::Postgres(isolated));
    // The first call migrates the schema.
    env.run(&["doctor"]).ok();
    let admin = client_in(&env);
    (env, admin, schema)
}

/// A client of the environment's database and schema, from outside baton.
fn client_in(env: &Env) -> postgres::Client {
    let Backend::Postgres(url) = &env.backend else {
        panic!("not a PostgreSQL environment");
    };
    postgres::Client::connect(url, postgres::NoTls).expect("connect to PostgreSQL")
}

fn drop_schema(admin: &mut postgres::Client, schema: &str) {
    let _ = admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn postgres_table_lock_held_elsewhere_is_a_bounded_clear_busy() {
    let (env, mut admin, schema) = isolated_postgres();
    env.start("alice", "auth");
    env.run_as("alice", &["claim", "issue", "1"]).ok();
    let before = env.all_events();
    let mut tx = admin.transaction().expect("begin");
    let me: i32 = tx.query_one("SELECT pg_backend_pid()", &[]).expect("pid").get(0);
    tx.batch_execute("LOCK TABLE claims IN ACCESS EXCLUSIVE MODE")
        .expect("lock the claims table");

    for args in [
        &["claim", "issue", "2", "--json"][..],
        &["heartbeat", "--json"],
        &["release", "issue", "1", "--status", "completed", "--json"],
    ] {
        let e = busy(&run_waiting(&env, "alice", "1s", args));
        let holders = e["holders"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            holders.first().map(|h| h["pid"].clone()),
            Some(json!(me)),
            "{args:?}: {e}"
        );
        assert!(
            holders[0]["locks"]
                .as_str()
                .unwrap_or_default()
                .contains("AccessExclusiveLock on claims"),
            "{e}"
        );
        let message = e["message"].as_str().unwrap_or_default();
        assert!(message.contains(&format!("pg_terminate_backend({me})")), "{message}");
    }
    // `changes` does not need the claims table, and answers.
    env.run(&["changes", "--json"]).ok();
    tx.rollback().expect("let go of the table");
    assert_eq!(
        env.all_events(),
        before,
        "nothing was written while the table was locked"
    );
    env.run_as("alice", &["claim", "issue", "2"]).ok();
    drop_schema(&mut admin, &schema);
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn postgres_lease_runs_from_when_the_locks_were_granted() {
    let (env, mut admin, schema) = isolated_postgres();
    env.start("alice", "auth");
    let mut locker = client_in(&env);
    let (locked_tx, locked_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let holder = thread::spawn(move || {
        let mut tx = locker.transaction().expect("begin");
        tx.batch_execute("LOCK TABLE claims IN ACCESS EXCLUSIVE MODE")
            .expect("lock the claims table");
        locked_tx.send(()).expect("report the lock");
        let _ = release_rx.recv_timeout(Duration::from_secs(60));
        let released = now_micros();
        tx.rollback().expect("let go of the table");
        released
    });
    locked_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the table is locked");
    assert_lease_runs_from_the_lock(&env, || {
        release_tx.send(()).expect("release");
        holder.join().expect("the holder thread")
    });
    drop_schema(&mut admin, &schema);
}

/// The server process of the baton process `pid`, once `ready` holds for it; polls at most 30 s.
fn backend_of(admin: &mut postgres::Client, pid: u32, ready: &str) -> i32 {
    let app = format!("baton (pid {pid})");
    let deadline = Instant::now() + Duration::from_secs(30);
    for _ in 0..600 {
        let rows = admin
            .query(
                &format!("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND {ready}"),
                &[&app],
            )
            .expect("read pg_stat_activity");
        if let Some(row) = rows.first() {
            return row.get(0);
        }
        assert!(Instant::now() < deadline, "{app} never reached: {ready}");
        thread::sleep(Duration::from_millis(50));
    }
    panic!("{app} never reached: {ready}");
}

fn signal(child: &Child, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill {sig} {}", child.id());
}

/// Waits (at most 30 s) until the server process `pid` has ended.
fn gone(admin: &mut postgres::Client, pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(30);
    for _ in 0..600 {
        let n: i64 = admin
            .query_one("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", &[&pid])
            .expect("read pg_stat_activity")
            .get(0);
        if n == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "server process {pid} never ended");
        thread::sleep(Duration::from_millis(50));
    }
    panic!("server process {pid} never ended");
}

/// The session's claims as (item, expires_at), and its heartbeat events.
fn claims_and_beats(env: &Env, sid: &str) -> (Vec<(String, i64)>, usize) {
    let r = env.run(&["claims", "--session", sid, "--mine", "--json"]);
    r.ok();
    let claims = r.json()["claims"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            (
                c["item_id"].as_str().unwrap_or_default().to_string(),
                micros(c["expires_at"].as_str().unwrap_or_default()),
            )
        })
        .collect();
    let beats = env
        .all_events()
        .iter()
        .filter(|e| e["kind"] == "session.heartbeat" && e["session_id"] == sid)
        .count();
    (claims, beats)
}

/// A `baton heartbeat` stopped (SIGSTOP) in the middle of its transaction holds its session's rows: other
/// calls that need them give up, bounded and naming it, while the rest of the store works. Killed, it
/// leaves nothing of its transaction; continued, it finishes it whole.
#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn postgres_baton_stopped_mid_transaction_blocks_nothing_for_long_and_leaves_nothing_half_done() {
    let (env, mut admin, schema) = isolated_postgres();
    let alice = env.start("alice", "auth");
    env.run_as("alice", &["claim", "issue", "1"]).ok();
    env.start("bob", "billing");

    // Killed; continued; continued only after the server ended its idle transaction (its lock timeout of
    // 2 s makes that 1 s), when it runs the transaction again on a new connection.
    for (finish, lock_timeout) in [("-KILL", "60s"), ("-CONT", "60s"), ("-CONT", "2s")] {
        let idle_ended = lock_timeout == "2s";
        let (claims_before, beats_before) = claims_and_beats(&env, &alice);
        // Hold alice's claim row so that her heartbeat stops there, with her session row already locked...
        let mut locker = client_in(&env);
        let mut row = locker.transaction().expect("begin");
        row.execute("SELECT 1 FROM claims WHERE session_id = $1 FOR UPDATE", &[&alice])
            .expect("lock the claim row");
        let beat = env
            .cmd(&["heartbeat", "--session", &alice, "--json"])
            .env("BATON_AGENT", "alice")
            .env("BATON_LOCK_TIMEOUT", lock_timeout)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the heartbeat");
        let server = backend_of(&mut admin, beat.id(), "wait_event_type = 'Lock'");
        // ...stop it there, and let the row go: the server finishes its statement and waits for a client
        // that does not answer, in the middle of its transaction.
        signal(&beat, "-STOP");
        row.rollback().expect("let go of the claim row");
        backend_of(&mut admin, beat.id(), "state = 'idle in transaction'");
        if idle_ended {
            gone(&mut admin, server);
        }

        // Bob's claim needs the claim row, alice's heartbeat from elsewhere her session row: both give up
        // after their lock timeout and name the stopped process.
        let blocked: &[(&str, &[&str])] = if idle_ended {
            &[]
        } else {
            &[
                ("bob", &["claim", "issue", "1", "--json"]),
                ("alice", &["heartbeat", "--session", &alice, "--json"]),
            ]
        };
        for (agent, args) in blocked {
            let e = busy(&run_waiting(&env, agent, "1s", args));
            let holder = &e["holders"][0];
            assert_eq!(holder["pid"], server, "{e}");
            assert_eq!(holder["state"], "idle in transaction", "{e}");
            assert_eq!(holder["application"], format!("baton (pid {})", beat.id()), "{e}");
        }
        // What does not need those rows goes on.
        env.run_as("bob", &["claim", "issue", "2"]).ok();
        env.run(&["changes", "--json"]).ok();

        signal(&beat, finish);
        let out = beat.wait_with_output().expect("wait for the heartbeat");
        let status = out.status;
        let (claims_after, beats_after) = claims_and_beats(&env, &alice);
        if finish == "-KILL" {
            assert!(!status.success());
            assert_eq!(claims_after, claims_before, "a killed heartbeat renewed nothing");
            assert_eq!(beats_after, beats_before, "a killed heartbeat recorded nothing");
        } else {
            assert!(
                status.success(),
                "a continued heartbeat finishes: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(beats_after, beats_before + 1, "its heartbeat is recorded once");
            assert_eq!(claims_after.len(), claims_before.len());
            assert!(claims_after[0].1 > claims_before[0].1, "and its renewal with it");
        }
        let doctor = env.run(&["doctor", "--json"]);
        doctor.ok();
        assert_eq!(doctor.json()["healthy"], true, "{}", doctor.stdout);
        // The item is still alice's: bob is told so, at once.
        env.run_as("bob", &["claim", "issue", "1"]).code(3);
        env.run_as("bob", &["release", "issue", "2", "--status", "deferred"])
            .ok();
    }
    drop_schema(&mut admin, &schema);
}

/// A loopback proxy to PostgreSQL. The first connection whose client sends `trigger` goes silent from then
/// on: the proxy closes its server side (the server rolls back what it had) and keeps the client's socket
/// open without a word, like a server lost behind a network partition. Later connections pass through.
struct SilentProxy {
    port: u16,
    silenced: Arc<AtomicUsize>,
}

fn silent_proxy(upstream: String, trigger: &'static [u8]) -> SilentProxy {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
    let port = listener.local_addr().expect("proxy address").port();
    let silenced = Arc::new(AtomicUsize::new(0));
    let armed = Arc::new(AtomicBool::new(true));
    let count = Arc::clone(&silenced);
    thread::spawn(move || {
        for client in listener.incoming().take(64).flatten() {
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let (mut from_client, mut to_server) =
                (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
            let (mut from_server, mut to_client) = (server, client);
            let (armed, count) = (Arc::clone(&armed), Arc::clone(&count));
            thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                let mut silent = false;
                while let Ok(n) = from_client.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if !silent && buf[..n].windows(trigger.len()).any(|w| w == trigger) && armed.swap(false, SeqCst) {
                        silent = true;
                        count.fetch_add(1, SeqCst);
                        let _ = to_server.shutdown(Shutdown::Both);
                    }
                    if !silent && to_server.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = to_server.shutdown(Shutdown::Both);
            });
            thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                while let Ok(n) = from_server.read(&mut buf) {
                    if n == 0 || to_client.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                // A silenced connection's client hears nothing more, not even that it ended.
            });
        }
    });
    SilentProxy { port, silenced }
}

/// A server that stops answering in the middle of a claim's transaction: baton gives up on that connection
/// after its answer timeout (the statement timeout and 5 s) instead of waiting forever, and, since nothing
/// was committed, runs the claim again on a new connection: granted once.
#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn postgres_server_that_stops_answering_mid_transaction_is_left_behind() {
    let (env, mut admin, schema) = isolated_postgres();
    let Backend::Postgres(url) = &env.backend else {
        unreachable!("isolated_postgres is PostgreSQL");
    };
    // postgres://USER@HOST:PORT/DB?...: the proxy stands in for HOST:PORT.
    let (head, rest) = url.split_once('@').expect("a URL with a user");
    let (hostport, tail) = rest.split_once('/').expect("a URL with a database");
    let proxy = silent_proxy(hostport.to_string(), b"BEGIN ISOLATION LEVEL READ COMMITTED");
    let via_proxy = format!("{head}@127.0.0.1:{}/{tail}", proxy.port);
    let sid = env.start("alice", "auth");
    let r = Run::from(
        env.cmd(&["claim", "issue", "7", "--json"])
            .env("BATON_DATABASE_URL", &via_proxy)
            .env("BATON_AGENT", "alice")
            .env("BATON_LOCK_TIMEOUT", "1s")
            .output()
            .expect("run baton"),
    );
    assert_eq!(
        proxy.silenced.load(SeqCst),
        1,
        "the claim's first transaction met the silent server"
    );
    let j = {
        r.ok();
        r.json()
    };
    assert_eq!(j["claimed"], true, "{j}");
    assert_eq!(j["claim"]["session_id"], sid.as_str());
    let grants = env.all_events().iter().filter(|e| e["kind"] == "claim.granted").count();
    assert_eq!(grants, 1, "granted once");
    drop_schema(&mut admin, &schema);
}
