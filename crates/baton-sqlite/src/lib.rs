//! baton's embedded store on SQLite: one file, WAL, a busy timeout, short write transactions.
//!
//! Writes take the database's write lock up front (`BEGIN IMMEDIATE`), so every claim decision
//! is made by exactly one writer at a time: two sessions can never be granted the same item.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use baton_core::store::{
    ClaimQuery, ClaimTx, DecisionQuery, DecisionRow, DecisionTx, DocumentTx, EntryQuery, EnumColumn, EventQuery,
    EventTx, IdempotencyTx, IntegrityTx, JournalTx, SearchHit, SearchQuery, SearchTx, SessionQuery, SessionTx, Store,
    StoreOptions, Tx,
};
use baton_core::{
    Claim, Error, Event, IdempotencyRecord, ItemKey, JournalEntry, NewEvent, Result, Session, SessionStatus, Timestamp,
};
use baton_sql::{Columns, Filter, Placeholder, Value, insert_sql};
use rusqlite::config::DbConfig;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};

mod claims;
mod decisions;
mod documents;
mod events;
mod idempotency;
mod integrity;
mod interfaces;
mod journal;
mod messages;
mod search;
mod sessions;
mod tx;

use tx::*;

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_claims_by_item.sql"),
    include_str!("../migrations/0003_idempotency_by_caller.sql"),
    include_str!("../migrations/0004_forced_releases.sql"),
    include_str!("../migrations/0005_session_documents.sql"),
    include_str!("../migrations/0006_messages.sql"),
    include_str!("../migrations/0007_decisions_and_search.sql"),
    include_str!("../migrations/0008_interfaces.sql"),
];

/// WAL size past which a closing store checkpoints it back into the database (see `trim_wal`).
///
/// Every CLI call reads the whole WAL as it opens the database, and every trim costs a checkpoint with its
/// syncs. 256 KiB (about 60 pages, a trim every several claims) gave the lowest median for `baton claim` as a
/// fresh process: 1 MiB made each call read four times as much, 64 KiB trimmed on nearly every other call.
const WAL_TRIM_BYTES: u64 = 1 << 18;

/// A store in one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    /// How long a call waits for the write lock (the busy timeout).
    lock_timeout: Duration,
    conn: Mutex<Connection>,
}

fn db_err(context: &str, path: &Path, e: rusqlite::Error) -> Error {
    if is_busy(&e) {
        return busy_error(path, None);
    }
    Error::internal(format!("{context} {}: {e}", path.display()))
}

/// Whether SQLite gave up waiting for a lock that another connection holds.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

/// The database stayed locked for as long as this call waits (`waited`, when known): who holds the lock,
/// if the system tells, and what to do.
fn busy_error(path: &Path, waited: Option<Duration>) -> Error {
    let holder = write_lock_holder(path);
    let who = match &holder {
        Some((pid, name)) => format!("process {pid} ({name}) holds its write lock"),
        None => "another process holds its write lock".to_string(),
    };
    let waited_for = waited
        .map(|w| format!(" after waiting {}", baton_core::time::human_wait(w)))
        .unwrap_or_default();
    Error::busy(
        format!(
            "the database {} is busy: {who}, and baton gave up{waited_for}; nothing was changed. \
             Try again; if it stays busy, end that process (a stopped baton, or an open transaction in a \
             `sqlite3` shell) or raise lock_timeout (BATON_LOCK_TIMEOUT, or lock_timeout in .baton/config.toml)",
            path.display()
        ),
        serde_json::json!({
            "database": path.display().to_string(),
            "waited_ms": waited.map(|w| w.as_millis() as u64),
            "holder": holder.map(|(pid, name)| serde_json::json!({"pid": pid, "process": name})),
        }),
    )
}

/// Where SQLite's write lock is: a WAL database's writer holds a POSIX lock on byte 120 of the `-shm` file
/// (the first of the shared-memory locks, `WAL_WRITE_LOCK`).
const SHM_WRITE_LOCK_BYTE: u64 = 120;

/// The pid and name of the process holding the database's write lock, read from `/proc/locks` (Linux).
fn write_lock_holder(db: &Path) -> Option<(u32, String)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mut shm = db.as_os_str().to_owned();
        shm.push("-shm");
        let inode = std::fs::metadata(&shm).ok()?.ino();
        let locks = std::fs::read_to_string("/proc/locks").ok()?;
        let pid = lock_holder(&locks, inode, SHM_WRITE_LOCK_BYTE).filter(|p| *p != std::process::id())?;
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|n| n.trim().to_string())
            .unwrap_or_else(|_| "unknown".to_string());
        Some((pid, name))
    }
    #[cfg(not(unix))]
    {
        let _ = db;
        None
    }
}

/// The pid holding a POSIX write lock over `byte` of the file with this inode, in `/proc/locks` text
/// (`1: POSIX  ADVISORY  WRITE 4242 08:01:1234567 120 120`; waiters' lines have `->` and are skipped).
fn lock_holder(locks: &str, inode: u64, byte: u64) -> Option<u32> {
    locks.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [_, class, _, mode, pid, file, start, end, ..] = f.as_slice() else {
            return None;
        };
        if *class != "POSIX" || *mode != "WRITE" {
            return None;
        }
        let ino: u64 = file.rsplit(':').next()?.parse().ok()?;
        let start: u64 = start.parse().ok()?;
        let covers = *end == "EOF" || end.parse::<u64>().is_ok_and(|e| e >= byte);
        (ino == inode && start <= byte && covers)
            .then(|| pid.parse().ok())
            .flatten()
    })
}

/// Process-wide SQLite settings, made once before the first connection opens (SQLite accepts them only then).
/// Memory statistics are off: baton never reads them, and keeping them takes a mutex on every allocation, which
/// is most of the cost of reading the schema, paid by every short-lived process that opens the store.
fn configure_sqlite() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sqlite3_config` takes an int for this option. It is called before any connection is opened
        // (the `Once` runs first in every open); if SQLite was initialised already it returns SQLITE_MISUSE and
        // changes nothing, which leaves the default.
        unsafe {
            rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int);
        }
    });
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        SqliteStore::open_with(path, &StoreOptions::default())
    }

    /// Like [`SqliteStore::open`], waiting at most `options.lock_timeout` for the write lock.
    pub fn open_with(path: &Path, options: &StoreOptions) -> Result<SqliteStore> {
        configure_sqlite();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::internal(format!(
                    "cannot create the database directory {}: {e}; set BATON_HOME to a writable directory",
                    dir.display()
                ))
            })?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| db_err("cannot open database", path, e))?;
        conn.busy_timeout(options.lock_timeout)
            .map_err(|e| db_err("cannot configure database", path, e))?;
        // Every CLI call is a short-lived process; without this, each exit would checkpoint the WAL
        // into the database and fsync both. Checkpoints still run automatically as the WAL grows.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
            .map_err(|e| db_err("cannot configure database", path, e))?;
        // Plans never depend on bound values. Otherwise SQLite marks a statement to be re-prepared when its
        // bindings are cleared, which the statement cache does on every reuse: every query would be parsed
        // and planned again on each call.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .map_err(|e| db_err("cannot configure database", path, e))?;
        // NORMAL is durable against process crashes in WAL mode; only an OS crash can drop the newest commits.
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 10000;")
            .map_err(|e| db_err("cannot configure database", path, e))?;
        let store = SqliteStore {
            path: path.to_path_buf(),
            lock_timeout: options.lock_timeout,
            conn: Mutex::new(conn),
        };
        store.prepare()?;
        Ok(store)
    }

    fn prepare(&self) -> Result<()> {
        let mut conn = self.lock()?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .map_err(|e| db_err("cannot read journal mode of", &self.path, e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            retry_busy(|| conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)))
                .map_err(|e| db_err("cannot switch to WAL mode:", &self.path, e))?;
        }
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| db_err("cannot read schema version of", &self.path, e))?;
        if version as usize >= MIGRATIONS.len() {
            if version as usize > MIGRATIONS.len() {
                return Err(Error::internal(format!(
                    "database {} has schema version {version}, newer than this baton understands ({}); upgrade baton",
                    self.path.display(),
                    MIGRATIONS.len()
                )));
            }
            return Ok(());
        }
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.error("cannot migrate", e))?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| db_err("cannot migrate", &self.path, e))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql)
                .map_err(|e| db_err(&format!("migration {} failed on", i + 1), &self.path, e))?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(|e| db_err("cannot migrate", &self.path, e))?;
        }
        tx.commit().map_err(|e| db_err("cannot migrate", &self.path, e))
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| Error::internal("database connection is poisoned by an earlier panic"))
    }

    fn run(&self, behavior: TransactionBehavior, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        let mut conn = self.lock()?;
        let tx = conn
            .transaction_with_behavior(behavior)
            .map_err(|e| self.error("cannot begin a transaction on", e))?;
        let mut stx = SqliteTx {
            tx: &tx,
            path: &self.path,
        };
        f(&mut stx)?;
        tx.commit().map_err(|e| self.error("cannot commit to", e))
    }

    /// An error of this store; waiting for the write lock in vain says how long it waited.
    fn error(&self, context: &str, e: rusqlite::Error) -> Error {
        if is_busy(&e) {
            return busy_error(&self.path, Some(self.lock_timeout));
        }
        db_err(context, &self.path, e)
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        if let Ok(conn) = self.conn.lock() {
            self.trim_wal(&conn);
        }
    }
}

impl SqliteStore {
    /// Folds the WAL back into the database once it passes `WAL_TRIM_BYTES`, as the store closes.
    ///
    /// Each CLI call is a fresh process, and the first connection to open a WAL database rebuilds
    /// its index by reading the whole WAL; SQLite's own auto-checkpoint cannot reset the WAL across
    /// processes, so without this the WAL (and every call's start-up) would grow with history.
    /// A failed or busy checkpoint is harmless: the next write tries again.
    fn trim_wal(&self, conn: &Connection) {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        let big = std::fs::metadata(&wal)
            .map(|m| m.len() > WAL_TRIM_BYTES)
            .unwrap_or(false);
        if big {
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
    }
}

/// Retries an operation that SQLite refused with SQLITE_BUSY outside the busy handler's reach.
fn retry_busy<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let mut attempt = 0;
    loop {
        match f() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && attempt < 200 =>
            {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn read(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.run(TransactionBehavior::Deferred, f)
    }

    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.run(TransactionBehavior::Immediate, f)
    }

    fn integrity_check(&self) -> Result<Vec<String>> {
        let conn = self.lock()?;
        let mut problems = Vec::new();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| db_err("cannot check", &self.path, e))?;
        if version as usize != MIGRATIONS.len() {
            problems.push(format!("schema version is {version}, expected {}", MIGRATIONS.len()));
        }
        let mut stmt = conn
            .prepare("PRAGMA integrity_check")
            .map_err(|e| db_err("cannot check", &self.path, e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| db_err("cannot check", &self.path, e))?;
        for r in rows {
            let line = r.map_err(|e| db_err("cannot check", &self.path, e))?;
            if line != "ok" {
                problems.push(format!("sqlite integrity_check: {line}"));
            }
        }
        Ok(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::latest_claim_query;
    use crate::journal::entries_query;
    use crate::sessions::sessions_query;
    use baton_core::EntryKind;

    /// The write lock's holder is read from `/proc/locks`: the POSIX write lock over byte 120 of the `-shm`
    /// file's inode, not a waiter's line, a read lock, or another file's lock.
    #[test]
    fn finds_the_write_lock_holder_in_proc_locks() {
        let locks = "1: POSIX  ADVISORY  READ  1111 00:2e:4242 128 128
2: POSIX  ADVISORY  WRITE 2222 00:2e:9999 120 120
2: -> POSIX  ADVISORY  WRITE 3333 00:2e:4242 120 120
3: POSIX  ADVISORY  WRITE 4444 00:2e:4242 120 120
4: FLOCK  ADVISORY  WRITE 5555 00:2e:4242 0 EOF
";
        assert_eq!(lock_holder(locks, 4242, 120), Some(4444));
        assert_eq!(lock_holder(locks, 9999, 120), Some(2222));
        assert_eq!(
            lock_holder(locks, 4242, 128),
            None,
            "a read lock does not hold writers off"
        );
        assert_eq!(
            lock_holder("5: POSIX ADVISORY WRITE 6666 08:01:77 100 EOF\n", 77, 120),
            Some(6666)
        );
        assert_eq!(lock_holder("", 4242, 120), None);
    }
    use rusqlite::StatementStatus;

    /// A cached statement is reused as prepared: nothing makes SQLite parse and plan it again per call.
    #[test]
    fn cached_statements_are_not_prepared_again_on_each_use() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("baton.db")).expect("open");
        for i in 0..20 {
            let key = ItemKey {
                project: "acme/app".into(),
                item_type: "task".into(),
                repo: "acme/app".into(),
                item_id: i.to_string(),
            };
            baton_core::store::write(&store, |tx| tx.latest_claim(&key)).expect("read in a write transaction");
        }
        let (sql, _) = latest_claim_query(&ItemKey {
            project: String::new(),
            item_type: String::new(),
            repo: String::new(),
            item_id: String::new(),
        });
        let conn = store.lock().expect("connection");
        let stmt = conn.prepare_cached(&sql).expect("the cached statement");
        assert_eq!(stmt.get_status(StatementStatus::RePrepare), 0);
    }

    const ENDED: usize = 400;

    /// A project with `ENDED` completed sessions that each logged a blocker, and two open ones that did too.
    fn long_history() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("baton.db")).expect("open");
        baton_core::store::write(&store, |tx| {
            for i in 0..ENDED + 2 {
                let open = i >= ENDED;
                let at = Timestamp(i as i64);
                let id = format!("s{i}");
                tx.insert_session(&Session {
                    id: id.clone().into(),
                    project: "acme/app".into(),
                    agent: format!("agent-{}", i % 3),
                    name: None,
                    role: None,
                    context: None,
                    task_ids: vec![],
                    status: if open {
                        SessionStatus::Active
                    } else {
                        SessionStatus::Completed
                    },
                    stale: false,
                    git_branch: None,
                    git_commit: None,
                    worktree: None,
                    created_at: at,
                    updated_at: at,
                    last_seen: at,
                    ended_at: (!open).then_some(at),
                    compaction_count: 0,
                    summary: None,
                    handoff: None,
                })?;
                tx.insert_entry(&JournalEntry {
                    id: format!("e{i}").into(),
                    session_id: id.into(),
                    kind: EntryKind::Blocker,
                    text: "waiting on review".into(),
                    rationale: None,
                    created_at: at,
                    supersedes: None,
                })?;
            }
            Ok(())
        })
        .expect("seed");
        (dir, store)
    }

    /// How many virtual machine steps the cached statement for `sql` has run so far.
    fn steps(store: &SqliteStore, sql: &str) -> i32 {
        let conn = store.lock().expect("connection");
        let stmt = conn.prepare_cached(sql).expect("the cached statement");
        stmt.get_status(StatementStatus::VmStep)
    }

    /// The digest and the hooks list open sessions and their blockers on every call: the work must follow the open
    /// sessions, not every session the project ever had.
    #[test]
    fn open_sessions_and_their_blockers_are_found_without_walking_ended_ones() {
        let (_dir, store) = long_history();
        let open = SessionQuery {
            project: Some("acme/app".into()),
            statuses: vec![SessionStatus::Active, SessionStatus::Paused],
            limit: Some(21),
            ..Default::default()
        };
        let found = baton_core::store::read(&store, |tx| tx.sessions(&open)).expect("sessions");
        assert_eq!(found.len(), 2);
        let sql = sessions_query(&open).0;
        assert!(steps(&store, &sql) < ENDED as i32, "{} steps", steps(&store, &sql));

        let mine = SessionQuery {
            agent: Some("agent-1".into()),
            ..open.clone()
        };
        let found = baton_core::store::read(&store, |tx| tx.sessions(&mine)).expect("sessions");
        assert_eq!(found.len(), 1);
        let sql = sessions_query(&mine).0;
        assert!(steps(&store, &sql) < ENDED as i32 / 3, "{} steps", steps(&store, &sql));

        let blockers = EntryQuery {
            project: Some("acme/app".into()),
            session_statuses: vec![SessionStatus::Active, SessionStatus::Paused],
            kinds: vec![EntryKind::Blocker],
            limit: Some(11),
            ..Default::default()
        };
        let found = baton_core::store::read(&store, |tx| tx.entries(&blockers)).expect("entries");
        assert_eq!(found.len(), 2);
        let sql = entries_query(&blockers).0;
        assert!(steps(&store, &sql) < ENDED as i32, "{} steps", steps(&store, &sql));
    }
}
