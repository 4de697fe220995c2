//! baton's embedded store on SQLite: one file, WAL, a busy timeout, short write transactions.
//!
//! Writes take the database's write lock up front (`BEGIN IMMEDIATE`), so every claim decision
//! is made by exactly one writer at a time: two sessions can never be granted the same item.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use baton_core::store::{ClaimQuery, EntryQuery, EnumColumn, EventQuery, SessionQuery, Store, StoreOptions, Tx};
use baton_core::{
    Claim, ClaimState, EntryKind, Error, Event, IdempotencyRecord, ItemKey, JournalEntry, NewEvent, Result, Session,
    SessionStatus, Timestamp,
};
use rusqlite::config::DbConfig;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_claims_by_item.sql"),
    include_str!("../migrations/0003_idempotency_by_caller.sql"),
    include_str!("../migrations/0004_forced_releases.sql"),
    include_str!("../migrations/0005_session_documents.sql"),
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

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        SqliteStore::open_with(path, &StoreOptions::default())
    }

    /// Like [`SqliteStore::open`], waiting at most `options.lock_timeout` for the write lock.
    pub fn open_with(path: &Path, options: &StoreOptions) -> Result<SqliteStore> {
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

struct SqliteTx<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    path: &'a Path,
}

/// Builds a WHERE clause with numbered parameters.
#[derive(Default)]
struct Filter {
    clauses: Vec<String>,
    params: Vec<SqlValue>,
}

impl Filter {
    fn param(&mut self, v: impl Into<SqlValue>) -> String {
        self.params.push(v.into());
        format!("?{}", self.params.len())
    }
    fn eq(&mut self, column: &str, v: impl Into<SqlValue>) {
        let p = self.param(v);
        self.clauses.push(format!("{column} = {p}"));
    }
    fn within(&mut self, column: &str, values: &[&str]) {
        if values.is_empty() {
            return;
        }
        let ps: Vec<String> = values.iter().map(|v| self.param(v.to_string())).collect();
        self.clauses.push(format!("{column} IN ({})", ps.join(", ")));
    }
    fn raw(&mut self, clause: String) {
        self.clauses.push(clause);
    }
    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }
}

const SESSION_COLS: &str = "id, project, agent, name, role, context, task_ids, status, git_branch, git_commit, worktree, created_at, updated_at, last_seen, ended_at, compaction_count, summary, handoff";
const CLAIM_COLS: &str = "id, project, item_type, repo, item_id, token, session_id, agent, state, ttl_secs, granted_at, renewed_at, expires_at, ended_at, release_status, notes, loss_reported, forced_by";
const ENTRY_COLS: &str = "id, session_id, kind, text, rationale, created_at";
const EVENT_COLS: &str = "seq, time, project, agent, session_id, kind, target, data";

fn parse_col<T: std::str::FromStr>(idx: usize, s: String) -> rusqlite::Result<T> {
    s.parse::<T>().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Text,
            format!("unexpected value '{s}'").into(),
        )
    })
}

fn json_col<T: serde::de::DeserializeOwned>(idx: usize, s: String) -> rusqlite::Result<T> {
    serde_json::from_str(&s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e)))
}

fn session_row(r: &Row) -> rusqlite::Result<Session> {
    Ok(Session {
        id: r.get(0)?,
        project: r.get(1)?,
        agent: r.get(2)?,
        name: r.get(3)?,
        role: r.get(4)?,
        context: r.get(5)?,
        task_ids: json_col(6, r.get(6)?)?,
        status: parse_col::<SessionStatus>(7, r.get(7)?)?,
        stale: false,
        git_branch: r.get(8)?,
        git_commit: r.get(9)?,
        worktree: r.get(10)?,
        created_at: Timestamp(r.get(11)?),
        updated_at: Timestamp(r.get(12)?),
        last_seen: Timestamp(r.get(13)?),
        ended_at: r.get::<_, Option<i64>>(14)?.map(Timestamp),
        compaction_count: r.get(15)?,
        summary: r.get(16)?,
        handoff: r.get::<_, Option<String>>(17)?.map(|h| json_col(17, h)).transpose()?,
    })
}

fn claim_row(r: &Row) -> rusqlite::Result<Claim> {
    Ok(Claim {
        id: r.get(0)?,
        project: r.get(1)?,
        item_type: r.get(2)?,
        repo: r.get(3)?,
        item_id: r.get(4)?,
        token: r.get(5)?,
        session_id: r.get(6)?,
        agent: r.get(7)?,
        state: parse_col::<ClaimState>(8, r.get(8)?)?,
        ttl_secs: r.get(9)?,
        granted_at: Timestamp(r.get(10)?),
        renewed_at: Timestamp(r.get(11)?),
        expires_at: Timestamp(r.get(12)?),
        ended_at: r.get::<_, Option<i64>>(13)?.map(Timestamp),
        release_status: r.get::<_, Option<String>>(14)?.map(|s| parse_col(14, s)).transpose()?,
        notes: r.get(15)?,
        loss_reported: r.get(16)?,
        forced_by: r.get(17)?,
    })
}

fn entry_row(r: &Row) -> rusqlite::Result<JournalEntry> {
    Ok(JournalEntry {
        id: r.get(0)?,
        session_id: r.get(1)?,
        kind: parse_col::<EntryKind>(2, r.get(2)?)?,
        text: r.get(3)?,
        rationale: r.get(4)?,
        created_at: Timestamp(r.get(5)?),
    })
}

fn event_row(r: &Row) -> rusqlite::Result<Event> {
    Ok(Event {
        seq: r.get(0)?,
        time: Timestamp(r.get(1)?),
        project: r.get(2)?,
        agent: r.get(3)?,
        session_id: r.get(4)?,
        kind: r.get(5)?,
        target: r.get(6)?,
        data: json_col(7, r.get(7)?)?,
    })
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::internal(format!("cannot encode value: {e}")))
}

impl SqliteTx<'_> {
    fn err(&self, e: rusqlite::Error) -> Error {
        db_err("database error on", self.path, e)
    }

    fn query<T>(&self, sql: &str, params: &[SqlValue], map: fn(&Row) -> rusqlite::Result<T>) -> Result<Vec<T>> {
        let mut stmt = self.tx.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params.iter()), map)
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<T>>>().map_err(|e| self.err(e))
    }

    fn exec(&self, sql: &str, params: impl rusqlite::Params) -> Result<usize> {
        let mut stmt = self.tx.prepare_cached(sql).map_err(|e| self.err(e))?;
        stmt.execute(params).map_err(|e| self.err(e))
    }

    /// Like `exec`, with a key the database refused as a duplicate turned into `refused(primary)`:
    /// `primary` says whether it was the table's own key rather than a unique index.
    fn exec_or(&self, refused: impl Fn(bool) -> Error, sql: &str, params: impl rusqlite::Params) -> Result<usize> {
        let mut stmt = self.tx.prepare_cached(sql).map_err(|e| self.err(e))?;
        stmt.execute(params).map_err(|e| match &e {
            rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                refused(true)
            }
            rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE => {
                refused(false)
            }
            _ => self.err(e),
        })
    }
}

/// A grant the database refused: a second holder of its item (the unique index of held grants), or a
/// second grant with its token (`duplicate_token`).
fn refused_claim(c: &Claim) -> impl Fn(bool) -> Error + '_ {
    move |duplicate_token| {
        let label = c.key().label();
        let message = if duplicate_token {
            format!(
                "{label} already has a grant with token {}: the database refused a duplicate",
                c.token
            )
        } else {
            format!("{label} is already held: the database refused a second grant")
        };
        Error::conflict(message, serde_json::json!({"item": c.key(), "token": c.token}))
    }
}

/// A second idempotency record for one caller and key.
fn refused_key(key: &str) -> Error {
    Error::conflict(
        format!("idempotency key '{key}' was used by a concurrent request; retry to get its result"),
        serde_json::json!({"idempotency_key": key}),
    )
}

fn key_filter(f: &mut Filter, key: &ItemKey) {
    f.eq("project", key.project.clone());
    f.eq("item_type", key.item_type.clone());
    f.eq("repo", key.repo.clone());
    f.eq("item_id", key.item_id.clone());
}

/// The newest grant of an item.
fn latest_claim_query(key: &ItemKey) -> (String, Vec<SqlValue>) {
    let mut f = Filter::default();
    key_filter(&mut f, key);
    let sql = format!("SELECT {CLAIM_COLS} FROM claims{} ORDER BY token DESC LIMIT 1", f.sql());
    (sql, f.params)
}

/// Whether `statuses` asks for open sessions only (none, for any status, is not).
fn only_open(statuses: &[SessionStatus]) -> bool {
    !statuses.is_empty() && statuses.iter().all(|s| !s.is_ended())
}

fn sessions_query(q: &SessionQuery) -> (String, Vec<SqlValue>) {
    let mut f = Filter::default();
    if let Some(p) = &q.project {
        f.eq("project", p.clone());
    }
    if let Some(a) = &q.agent {
        f.eq("agent", a.clone());
    }
    let statuses: Vec<&str> = q.statuses.iter().map(|s| s.as_str()).collect();
    f.within("status", &statuses);
    if let Some(t) = q.last_seen_before {
        let p = f.param(t.0);
        f.raw(format!("last_seen < {p}"));
    }
    if let Some(x) = &q.exclude_id {
        let p = f.param(x.clone());
        f.raw(format!("id <> {p}"));
    }
    // Open sessions are few and ended ones pile up: a query for open sessions goes through the status index,
    // which the planner would otherwise pass over for one that spares a sort but walks every session the
    // project or agent ever had.
    let index = if q.project.is_some() && only_open(&q.statuses) {
        " INDEXED BY sessions_by_project_status"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {SESSION_COLS} FROM sessions{index}{} ORDER BY updated_at DESC, id DESC{}",
        f.sql(),
        limit_sql(q.limit)
    );
    (sql, f.params)
}

fn entries_query(q: &EntryQuery) -> (String, Vec<SqlValue>) {
    let mut f = Filter::default();
    if let Some(s) = &q.session_id {
        f.eq("e.session_id", s.clone());
    }
    let from = if let Some(p) = &q.project {
        f.eq("s.project", p.clone());
        let statuses: Vec<&str> = q.session_statuses.iter().map(|s| s.as_str()).collect();
        f.within("s.status", &statuses);
        if only_open(&q.session_statuses) {
            // CROSS JOIN keeps sessions as the outer loop: the project's few open sessions, then their entries,
            // rather than every entry of a kind the project ever logged.
            " FROM sessions s INDEXED BY sessions_by_project_status CROSS JOIN journal_entries e INDEXED BY entries_by_session ON e.session_id = s.id"
        } else {
            " FROM journal_entries e JOIN sessions s ON s.id = e.session_id"
        }
    } else if !q.session_statuses.is_empty() {
        let statuses: Vec<&str> = q.session_statuses.iter().map(|s| s.as_str()).collect();
        f.within("s.status", &statuses);
        " FROM journal_entries e JOIN sessions s ON s.id = e.session_id"
    } else {
        " FROM journal_entries e"
    };
    let kinds: Vec<&str> = q.kinds.iter().map(|k| k.as_str()).collect();
    f.within("e.kind", &kinds);
    let cols = ENTRY_COLS
        .split(", ")
        .map(|c| format!("e.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {cols}{from}{} ORDER BY e.created_at DESC, e.id DESC{}",
        f.sql(),
        limit_sql(q.limit)
    );
    (sql, f.params)
}

fn limit_sql(limit: Option<u32>) -> String {
    limit.map(|l| format!(" LIMIT {l}")).unwrap_or_default()
}

fn event_filter(q: &EventQuery) -> Filter {
    let mut f = Filter::default();
    if let Some(p) = &q.project {
        f.eq("project", p.clone());
    }
    let p = f.param(q.after_seq);
    f.raw(format!("seq > {p}"));
    if let Some(a) = &q.agent {
        f.eq("agent", a.clone());
    }
    if let Some(k) = &q.kind {
        if k.contains('.') {
            f.eq("kind", k.clone());
        } else {
            // A family: `claim` matches `claim` and `claim.*`, compared as written (LIKE would take `_` and
            // `%` for wildcards, and ignore case).
            let family = format!("{k}.");
            let exact = f.param(k.clone());
            let n = f.param(family.chars().count() as i64);
            let prefix = f.param(family);
            f.raw(format!("(kind = {exact} OR substr(kind, 1, {n}) = {prefix})"));
        }
    }
    for k in &q.exclude_kinds {
        let p = f.param(k.clone());
        f.raw(format!("kind <> {p}"));
    }
    if let Some(s) = &q.exclude_session {
        let p = f.param(s.clone());
        f.raw(format!("(session_id IS NULL OR session_id <> {p})"));
    }
    f
}

impl Tx for SqliteTx<'_> {
    fn lock_item(&mut self, _key: &ItemKey) -> Result<()> {
        // The write transaction already holds SQLite's single write lock.
        Ok(())
    }

    fn latest_claim(&mut self, key: &ItemKey) -> Result<Option<Claim>> {
        let (sql, params) = latest_claim_query(key);
        Ok(self.query(&sql, &params, claim_row)?.into_iter().next())
    }

    fn session_claim_on(&mut self, key: &ItemKey, session_id: &str) -> Result<Option<Claim>> {
        let mut f = Filter::default();
        key_filter(&mut f, key);
        f.eq("session_id", session_id.to_string());
        let sql = format!("SELECT {CLAIM_COLS} FROM claims{} ORDER BY token DESC LIMIT 1", f.sql());
        Ok(self.query(&sql, &f.params, claim_row)?.into_iter().next())
    }

    fn insert_claim(&mut self, c: &Claim) -> Result<()> {
        self.exec_or(refused_claim(c),
            &format!("INSERT INTO claims ({CLAIM_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"),
            params![
                c.id, c.project, c.item_type, c.repo, c.item_id, c.token, c.session_id, c.agent,
                c.state.as_str(), c.ttl_secs, c.granted_at.0, c.renewed_at.0, c.expires_at.0,
                c.ended_at.map(|t| t.0), c.release_status.map(|s| s.as_str()), c.notes, c.loss_reported,
                c.forced_by
            ],
        )?;
        Ok(())
    }

    fn update_claim(&mut self, c: &Claim) -> Result<()> {
        let n = self.exec(
            "UPDATE claims SET state = ?6, ttl_secs = ?7, renewed_at = ?8, expires_at = ?9, ended_at = ?10, release_status = ?11, notes = ?12, loss_reported = ?13, forced_by = ?14
             WHERE project = ?1 AND item_type = ?2 AND repo = ?3 AND item_id = ?4 AND token = ?5 AND id = ?15",
            params![
                c.project, c.item_type, c.repo, c.item_id, c.token,
                c.state.as_str(), c.ttl_secs, c.renewed_at.0, c.expires_at.0, c.ended_at.map(|t| t.0),
                c.release_status.map(|s| s.as_str()), c.notes, c.loss_reported, c.forced_by, c.id
            ],
        )?;
        if n == 0 {
            return Err(Error::not_found(format!("no claim with id '{}' to update", c.id)));
        }
        Ok(())
    }

    fn claims(&mut self, q: &ClaimQuery) -> Result<Vec<Claim>> {
        let mut f = Filter::default();
        if let Some(p) = &q.project {
            f.eq("project", p.clone());
        }
        if let Some(s) = &q.session_id {
            f.eq("session_id", s.clone());
        }
        if let Some(t) = &q.item_type {
            f.eq("item_type", t.clone());
        }
        let states: Vec<&str> = q.states.iter().map(|s| s.as_str()).collect();
        f.within("state", &states);
        if let Some(t) = q.expires_before {
            let p = f.param(t.0);
            f.raw(format!("expires_at < {p}"));
        }
        if q.loss_unreported {
            f.raw("(state = 'taken_over' OR forced_by IS NOT NULL) AND loss_reported = 0".to_string());
        }
        // Without statistics the planner would walk a project's whole history through the primary key (it
        // starts with the project too); live claims are found through the indexes made for them.
        let index = match (&q.session_id, &q.project, states.is_empty()) {
            (Some(_), _, _) => " INDEXED BY claims_by_session",
            (None, Some(_), false) => " INDEXED BY claims_by_project",
            _ => "",
        };
        let sql = format!(
            "SELECT {CLAIM_COLS} FROM claims{index}{} ORDER BY granted_at, id{}",
            f.sql(),
            limit_sql(q.limit)
        );
        self.query(&sql, &f.params, claim_row)
    }

    fn insert_session(&mut self, s: &Session) -> Result<()> {
        self.exec(
            &format!("INSERT INTO sessions ({SESSION_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"),
            params![
                s.id, s.project, s.agent, s.name, s.role, s.context, to_json(&s.task_ids)?, s.status.as_str(),
                s.git_branch, s.git_commit, s.worktree, s.created_at.0, s.updated_at.0, s.last_seen.0,
                s.ended_at.map(|t| t.0), s.compaction_count, s.summary,
                s.handoff.as_ref().map(to_json).transpose()?
            ],
        )?;
        Ok(())
    }

    fn update_session(&mut self, s: &Session) -> Result<()> {
        let n = self.exec(
            "UPDATE sessions SET name = ?2, role = ?3, context = ?4, task_ids = ?5, status = ?6, git_branch = ?7, git_commit = ?8, worktree = ?9, updated_at = ?10, last_seen = ?11, ended_at = ?12, compaction_count = ?13, summary = ?14, handoff = ?15 WHERE id = ?1",
            params![
                s.id, s.name, s.role, s.context, to_json(&s.task_ids)?, s.status.as_str(), s.git_branch,
                s.git_commit, s.worktree, s.updated_at.0, s.last_seen.0, s.ended_at.map(|t| t.0),
                s.compaction_count, s.summary, s.handoff.as_ref().map(to_json).transpose()?
            ],
        )?;
        if n == 0 {
            return Err(Error::not_found(format!("no session '{}' to update", s.id)));
        }
        Ok(())
    }

    fn session(&mut self, id: &str) -> Result<Option<Session>> {
        let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE id = ?1");
        let mut stmt = self.tx.prepare_cached(&sql).map_err(|e| self.err(e))?;
        stmt.query_row([id], session_row).optional().map_err(|e| self.err(e))
    }

    fn sessions(&mut self, q: &SessionQuery) -> Result<Vec<Session>> {
        let (sql, params) = sessions_query(q);
        self.query(&sql, &params, session_row)
    }

    fn project_keys(&mut self, key: &str, before: bool, limit: u32) -> Result<Vec<String>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // A loose index scan: each step seeks the next key past the last one, so the sessions of a project
        // are never walked.
        let (next, past) = if before { ("max", "<") } else { ("min", ">") };
        self.query(
            &format!(
                "WITH RECURSIVE keys(k, n) AS (
                     SELECT {next}(project), 1 FROM sessions WHERE project {past} ?1
                     UNION ALL
                     SELECT (SELECT {next}(project) FROM sessions WHERE project {past} keys.k), n + 1 FROM keys
                     WHERE keys.k IS NOT NULL AND n < ?2
                 )
                 SELECT k FROM keys WHERE k IS NOT NULL"
            ),
            &[SqlValue::Text(key.to_string()), SqlValue::Integer(i64::from(limit))],
            |r| r.get(0),
        )
    }

    fn put_session_document(&mut self, session_id: &str, document: &serde_json::Value) -> Result<()> {
        self.exec(
            "INSERT INTO session_documents (session_id, document) VALUES (?1, ?2)
             ON CONFLICT (session_id) DO UPDATE SET document = excluded.document",
            params![session_id, to_json(document)?],
        )?;
        Ok(())
    }

    fn session_document(&mut self, session_id: &str) -> Result<Option<serde_json::Value>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT document FROM session_documents WHERE session_id = ?1")
            .map_err(|e| self.err(e))?;
        stmt.query_row([session_id], |r| json_col(0, r.get(0)?))
            .optional()
            .map_err(|e| self.err(e))
    }

    fn insert_entry(&mut self, e: &JournalEntry) -> Result<()> {
        self.exec(
            &format!("INSERT INTO journal_entries ({ENTRY_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
            params![e.id, e.session_id, e.kind.as_str(), e.text, e.rationale, e.created_at.0],
        )?;
        Ok(())
    }

    fn entries(&mut self, q: &EntryQuery) -> Result<Vec<JournalEntry>> {
        let (sql, params) = entries_query(q);
        self.query(&sql, &params, entry_row)
    }

    fn append_event(&mut self, e: &NewEvent) -> Result<()> {
        self.exec(
            "INSERT INTO events (time, project, agent, session_id, kind, target, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![e.time.0, e.project, e.agent, e.session_id, e.kind, e.target, to_json(&e.data)?],
        )?;
        Ok(())
    }

    fn events(&mut self, q: &EventQuery) -> Result<Vec<Event>> {
        let f = event_filter(q);
        let order = if q.newest_first { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {EVENT_COLS} FROM events{} ORDER BY seq {order} LIMIT {}",
            f.sql(),
            q.limit
        );
        self.query(&sql, &f.params, event_row)
    }

    fn count_events(&mut self, q: &EventQuery, cap: u32) -> Result<u64> {
        let f = event_filter(q);
        let sql = format!("SELECT count(*) FROM (SELECT 1 FROM events{} LIMIT {cap})", f.sql());
        let mut stmt = self.tx.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let n: i64 = stmt
            .query_row(rusqlite::params_from_iter(f.params.iter()), |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(n as u64)
    }

    fn first_seq_since(&mut self, project: &str, time: Timestamp) -> Result<Option<i64>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT seq FROM events WHERE project = ?1 AND time >= ?2 ORDER BY time, seq LIMIT 1")
            .map_err(|e| self.err(e))?;
        stmt.query_row(params![project, time.0], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    fn last_seq(&mut self) -> Result<i64> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM events")
            .map_err(|e| self.err(e))?;
        stmt.query_row([], |r| r.get(0)).map_err(|e| self.err(e))
    }

    fn idempotency(&mut self, project: &str, scope: &str, key: &str) -> Result<Option<IdempotencyRecord>> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT project, scope, key, command, request, result, created_at FROM idempotency
                 WHERE project = ?1 AND scope = ?2 AND key = ?3",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_row(params![project, scope, key], |r| {
            Ok(IdempotencyRecord {
                project: r.get(0)?,
                scope: r.get(1)?,
                key: r.get(2)?,
                command: r.get(3)?,
                request: r.get(4)?,
                result: r.get(5)?,
                created_at: Timestamp(r.get(6)?),
            })
        })
        .optional()
        .map_err(|e| self.err(e))
    }

    fn unknown_values(&mut self, column: EnumColumn, limit: u32) -> Result<Vec<String>> {
        let (table, col) = enum_column(column);
        let mut f = Filter::default();
        let accepted = column.accepted();
        let ps: Vec<String> = accepted.iter().map(|v| f.param(v.to_string())).collect();
        let sql = format!(
            "SELECT DISTINCT {col} FROM {table} WHERE {col} IS NOT NULL AND {col} NOT IN ({}) LIMIT {limit}",
            ps.join(", ")
        );
        self.query(&sql, &f.params, |r| r.get(0))
    }

    fn put_idempotency(&mut self, r: &IdempotencyRecord) -> Result<()> {
        self.exec_or(
            |_| refused_key(&r.key),
            "INSERT INTO idempotency (project, scope, key, command, request, result, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                r.project,
                r.scope,
                r.key,
                r.command,
                r.request,
                r.result,
                r.created_at.0
            ],
        )?;
        Ok(())
    }
}

/// The table and column that hold an enum's names.
fn enum_column(column: EnumColumn) -> (&'static str, &'static str) {
    match column {
        EnumColumn::SessionStatus => ("sessions", "status"),
        EnumColumn::ClaimState => ("claims", "state"),
        EnumColumn::ReleaseStatus => ("claims", "release_status"),
        EnumColumn::EntryKind => ("journal_entries", "kind"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                    id: id.clone(),
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
                    id: format!("e{i}"),
                    session_id: id,
                    kind: EntryKind::Blocker,
                    text: "waiting on review".into(),
                    rationale: None,
                    created_at: at,
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
