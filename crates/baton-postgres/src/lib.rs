//! baton's team store on PostgreSQL: a small pool of connections per store, migrations applied on open.
//!
//! Each transaction has one connection to itself while it runs, so one process (an MCP or team server)
//! serves several callers at once; connections are opened as callers need them, up to the pool's size
//! (`pool_size` in the URL, 8 by default), and one that broke is replaced.
//!
//! Write transactions run at READ COMMITTED. Every session or claim row a write transaction reads is
//! locked (`FOR UPDATE`) until commit, so a decision taken on a row cannot be undone by a concurrent
//! update; claim decisions on one item are serialised by a transaction-scoped advisory lock. Events take
//! their seqs from a sequence just before commit, so concurrent writers do not wait for each other; a
//! read transaction that reads events first establishes a horizon (waiting for transactions that took
//! seqs to finish) and reads nothing past it, so paging by `seq > cursor` never skips or repeats an event.
//! Transactions that lose a race (serialization failure, deadlock) are retried from the start.

mod conn;
mod pool;
mod sql;
mod tx;

use std::fmt;
use std::time::{Duration, Instant};

use baton_core::store::{Store, StoreOptions, Tx};
use baton_core::{Error, Result, Timestamp};
use serde_json::json;

use crate::conn::{Cause, Conn, SqlError};
use crate::pool::{Lease, Pool};
use crate::tx::PgTx;

/// Schema migrations, in order. Each runs once per schema, inside the migration transaction.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_event_seq_sequence.sql")),
    (3, include_str!("../migrations/0003_indexes_of_open_rows.sql")),
    (4, include_str!("../migrations/0004_idempotency_by_caller.sql")),
    (5, include_str!("../migrations/0005_forced_releases.sql")),
    (6, include_str!("../migrations/0006_session_documents.sql")),
    (7, include_str!("../migrations/0007_messages.sql")),
    (8, include_str!("../migrations/0008_decisions_and_search.sql")),
    (9, include_str!("../migrations/0009_interfaces.sql")),
];

/// How many times `write` runs a transaction that keeps losing races before giving up.
const MAX_ATTEMPTS: u32 = 20;
/// How many times a call connects again after losing its connection in the middle of a transaction.
const MAX_RECONNECTS: u32 = 2;

/// A baton store in a PostgreSQL database.
pub struct PgStore {
    pool: Pool,
    /// The URL as given without `pool_size`, password included: needed to connect again. Never shown.
    url: String,
    schema: Option<String>,
    location: String,
    options: StoreOptions,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the database at `url` and applies pending migrations.
    ///
    /// Besides the driver's parameters, the URL may say how many connections the store may open at most
    /// (`pool_size`, from 1 to 64; 8 by default). They are opened as concurrent callers need them.
    pub fn open(url: &str) -> Result<PgStore> {
        PgStore::open_with(url, &StoreOptions::default())
    }

    /// Like [`PgStore::open`], waiting at most `options.lock_timeout` for any lock.
    pub fn open_with(url: &str, options: &StoreOptions) -> Result<PgStore> {
        PgStore::connect(url, None, options)
    }

    /// Like [`PgStore::open`], but keeps baton's tables in `schema`, creating it when missing.
    pub fn open_in_schema(url: &str, schema: &str) -> Result<PgStore> {
        PgStore::open_in_schema_with(url, schema, &StoreOptions::default())
    }

    /// [`PgStore::open_in_schema`] with [`PgStore::open_with`]'s options.
    pub fn open_in_schema_with(url: &str, schema: &str, options: &StoreOptions) -> Result<PgStore> {
        if schema.is_empty() || schema.len() > 63 {
            return Err(Error::bad_input(format!(
                "invalid PostgreSQL schema name '{schema}': expected 1 to 63 characters"
            )));
        }
        PgStore::connect(url, Some(schema), options)
    }

    fn connect(url: &str, schema: Option<&str>, options: &StoreOptions) -> Result<PgStore> {
        let mut location = redact_url(url);
        if let Some(s) = schema {
            location.push_str(&format!(" (schema {s})"));
        }
        let (url, size) = take_pool_size(url)?;
        let mut conn = connect(&url, schema, options)?;
        migrate(&mut conn, schema, options)?;
        Ok(PgStore {
            pool: Pool::new(size, conn),
            url,
            schema: schema.map(str::to_string),
            location,
            options: *options,
        })
    }

    /// How many connections the store opens at most: one per caller at a time.
    pub fn pool_size(&self) -> usize {
        self.pool.size()
    }

    /// A connection of the caller's own until the lease is dropped, reconnecting first when the server
    /// closed it. Waits for one at most `lock_timeout` when every connection of the pool is in use.
    fn conn(&self) -> Result<Lease<'_>> {
        let mut lease = self.pool.take(self.options.lock_timeout, || {
            connect(&self.url, self.schema.as_deref(), &self.options)
        })?;
        lease.catch_up();
        self.reconnect_if_closed(&mut lease)?;
        // A panic inside a transaction left it open: nothing of it is kept.
        lease.abandon_transaction();
        Ok(lease)
    }

    fn reconnect_if_closed(&self, conn: &mut Conn) -> Result<()> {
        if conn.is_closed() {
            *conn = connect(&self.url, self.schema.as_deref(), &self.options)?;
        }
        Ok(())
    }

    fn run(&self, write: bool, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        // The wait for a free connection counts against the lock timeout too.
        let started = Instant::now();
        let mut lease = self.conn()?;
        let conn = &mut *lease;
        let mut attempt = 0;
        let mut reconnects = 0;
        // Set once a read turned out to read events after its snapshot was taken.
        let mut horizon_first = false;
        loop {
            attempt += 1;
            // A retry after the server closed the connection (nothing of the transaction was kept) runs on a new one.
            self.reconnect_if_closed(conn)?;
            let mut ptx = PgTx::begin(conn, write);
            let outcome = if horizon_first {
                ptx.establish_horizon().and_then(|_| f(&mut ptx))
            } else {
                f(&mut ptx)
            };
            if ptx.needs_horizon_first() && attempt < MAX_ATTEMPTS {
                // Whatever the closure made of the refused read, run it again on a snapshot taken after
                // the horizon. Reads only: a write transaction never needs this.
                ptx.rollback();
                horizon_first = true;
                continue;
            }
            let (result, retry) = match outcome {
                Ok(()) => ptx.commit(),
                Err(e) => (Err(e), ptx.rollback()),
            };
            match result {
                Ok(()) => return Ok(()),
                // Races are retried until the lock timeout: the whole call waits no longer than that.
                Err(_)
                    if retry == Some(Cause::LostRace)
                        && attempt < MAX_ATTEMPTS
                        && started.elapsed() < self.options.lock_timeout =>
                {
                    backoff(attempt)
                }
                // A connection lost before COMMIT kept nothing: the next attempt connects again.
                Err(_)
                    if matches!(retry, Some(Cause::ConnectionLost | Cause::IdleTimeout))
                        && reconnects < MAX_RECONNECTS =>
                {
                    reconnects += 1
                }
                Err(e @ Error::Busy { .. }) => return Err(explain_busy(conn, e, &self.options)),
                Err(e) => return Err(e),
            }
        }
    }
}

/// The session settings that bound every wait of baton's own connections (see [`StoreOptions`]):
/// a lock held by someone else, a statement that runs too long, and a transaction of baton's that sits
/// idle (its process stopped or hung) while others wait for its locks.
fn session_limits(options: &StoreOptions) -> Limits {
    let lock = options.lock_timeout;
    Limits {
        lock,
        statement: (lock * 3).max(Duration::from_secs(10)),
        // Half the lock timeout: others waiting for a stuck transaction's locks get them before they give up.
        idle_in_transaction: (lock / 2).max(Duration::from_secs(1)),
    }
}

struct Limits {
    lock: Duration,
    statement: Duration,
    idle_in_transaction: Duration,
}

/// A lock or statement timeout: the database is busy, nothing was changed.
pub(crate) fn timed_out(e: Error, cause: Cause) -> Error {
    let what = match cause {
        Cause::StatementTimeout => "statement_timeout",
        _ => "lock_timeout",
    };
    Error::busy(e.to_string(), json!({"timeout": what}))
}

/// Turns a timeout into a message that says who holds locks on baton's tables and what to do.
fn explain_busy(conn: &mut Conn, e: Error, options: &StoreOptions) -> Error {
    let Error::Busy { details, .. } = &e else {
        return e;
    };
    let statement = details.get("timeout").and_then(|t| t.as_str()) == Some("statement_timeout");
    let limits = session_limits(options);
    let holders = lock_holders(conn).unwrap_or_default();
    let mut message = if statement {
        format!(
            "PostgreSQL is busy: a statement did not finish within {}, and baton gave up; nothing was changed",
            baton_core::time::human_wait(limits.statement)
        )
    } else {
        format!(
            "PostgreSQL is busy: baton waited {} for a lock that another transaction holds, and gave up; nothing was changed",
            baton_core::time::human_wait(limits.lock)
        )
    };
    if holders.is_empty() {
        message.push_str(". Try again; if it stays busy, look for long transactions in pg_stat_activity");
    } else {
        let list: Vec<String> = holders.iter().map(Holder::describe).collect();
        message.push_str(&format!(". Holding locks on baton's tables: {}", list.join("; ")));
        message.push_str(&format!(
            ". Try again; if it stays busy, end that transaction (stop or kill its process, or run SELECT pg_terminate_backend({}))",
            holders[0].pid
        ));
    }
    message.push_str(", or raise lock_timeout (BATON_LOCK_TIMEOUT, or lock_timeout in .baton/config.toml)");
    Error::busy(
        message,
        json!({
            "timeout": if statement { "statement_timeout" } else { "lock_timeout" },
            "waited_ms": (if statement { limits.statement } else { limits.lock }).as_millis() as u64,
            "holders": holders.iter().map(Holder::to_json).collect::<Vec<_>>(),
        }),
    )
}

/// A server process whose transaction holds locks on baton's tables (or advisory locks).
struct Holder {
    pid: i32,
    application: String,
    user: String,
    state: String,
    xact_secs: f64,
    locks: String,
    query: String,
}

impl Holder {
    fn describe(&self) -> String {
        let app = if self.application.is_empty() {
            String::new()
        } else {
            format!("application '{}', ", self.application)
        };
        format!(
            "server process {} ({app}user {}, {} for {:.0}s) holds {} — last statement: {}",
            self.pid, self.user, self.state, self.xact_secs, self.locks, self.query
        )
    }

    fn to_json(&self) -> serde_json::Value {
        json!({
            "pid": self.pid, "application": self.application, "user": self.user, "state": self.state,
            "transaction_secs": self.xact_secs, "locks": self.locks, "query": self.query,
        })
    }
}

/// The oldest transactions, other than this connection's, that hold locks a baton call may wait for: on
/// baton's tables in this connection's schema, or advisory ones (claims lock their items with those).
fn lock_holders(conn: &mut Conn) -> std::result::Result<Vec<Holder>, SqlError> {
    let rows = conn.query_sql(
        "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.usename::text, ''), coalesce(a.state, ''),
                extract(epoch FROM now() - a.xact_start)::float8,
                string_agg(DISTINCT l.mode || CASE WHEN c.relname IS NULL THEN ' (' || l.locktype || ')'
                                                   ELSE ' on ' || c.relname END, ', '),
                left(regexp_replace(coalesce(a.query, ''), '[[:space:]]+', ' ', 'g'), 160)
         FROM pg_locks l
         JOIN pg_stat_activity a ON a.pid = l.pid
         LEFT JOIN pg_class c ON c.oid = l.relation
         WHERE l.granted AND a.pid <> pg_backend_pid() AND a.datname = current_database()
           AND a.xact_start IS NOT NULL
           AND (l.locktype = 'advisory'
                OR (c.relnamespace = current_schema()::regnamespace
                    AND c.relname IN ('sessions', 'claims', 'journal_entries', 'events', 'idempotency',
                                      'session_documents', 'baton_event_gate', 'baton_schema_version')))
         GROUP BY a.pid, a.application_name, a.usename, a.state, a.xact_start, a.query
         ORDER BY a.xact_start
         LIMIT 3",
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|r| Holder {
            pid: r.get(0),
            application: r.get(1),
            user: r.get(2),
            state: r.get(3),
            xact_secs: r.get::<_, Option<f64>>(4).unwrap_or(0.0),
            locks: r.get::<_, Option<String>>(5).unwrap_or_default(),
            query: r.get(6),
        })
        .collect())
}

/// Opens a connection to `url`, with `schema` first on its search path and every wait bounded.
fn connect(url: &str, schema: Option<&str>, options: &StoreOptions) -> Result<Conn> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| {
        Error::bad_input(format!(
            "invalid PostgreSQL URL {}: {}; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE",
            redact_url(url),
            describe(&e)
        ))
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    if config.get_application_name().is_none() {
        // Whoever finds this connection holding locks can tell which process it is.
        config.application_name(format!("baton (pid {})", std::process::id()));
    }
    // Sent with the startup message, so they cost no round trip; options in the URL come after and win.
    let limits = session_limits(options);
    let mut startup = format!(
        "-c lock_timeout={} -c statement_timeout={} -c idle_in_transaction_session_timeout={}",
        limits.lock.as_millis(),
        limits.statement.as_millis(),
        limits.idle_in_transaction.as_millis()
    );
    if let Some(theirs) = config.get_options() {
        startup.push(' ');
        startup.push_str(theirs);
    }
    config.options(&startup);
    // The server ends a statement at its statement_timeout; a little past that, the server itself is lost.
    let mut conn = Conn::connect(&config, limits.statement + Duration::from_secs(5)).map_err(|e| {
        Error::internal(format!(
            "cannot connect to PostgreSQL at {}: {e}; check BATON_DATABASE_URL (or --database-url) and that the server is running and reachable",
            redact_url(url),
        ))
    })?;
    if let Some(s) = schema {
        // The schema may not exist yet: search_path accepts that, and migrations create it.
        conn.batch_sql(&format!("SET search_path TO {}", quote_ident(s)))
            .map_err(|e| pg_error("set the search path", &e))?;
    }
    Ok(conn)
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    fn read(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.run(false, f)
    }

    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.run(true, f)
    }

    fn integrity_check(&self) -> Result<Vec<String>> {
        let mut lease = self.conn()?;
        let conn = &mut *lease;
        conn.batch_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .map_err(|e| pg_error("begin a transaction", &e))?;
        let problems = integrity_problems(conn);
        let _ = conn.batch_sql("ROLLBACK");
        problems.map_err(|e| pg_error("check integrity", &e))
    }
}

fn integrity_problems(conn: &mut Conn) -> std::result::Result<Vec<String>, SqlError> {
    let mut problems = Vec::new();

    let version: Option<i32> = conn
        .query_sql("SELECT max(version) FROM baton_schema_version", &[])?
        .first()
        .and_then(|r| r.get(0));
    let latest = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if version != Some(latest) {
        problems.push(format!(
            "schema version is {}, expected {latest}",
            version.map(|v| v.to_string()).unwrap_or_else(|| "missing".to_string())
        ));
    }

    let rows = conn.query_sql(
        "SELECT s.last_value, s.is_called, (SELECT max(seq) FROM events),
                (SELECT seqcache FROM pg_sequence WHERE seqrelid = 'baton_event_seqs'::regclass)
         FROM baton_event_seqs s",
        &[],
    )?;
    let Some(row) = rows.first() else {
        problems.push("the event sequence baton_event_seqs cannot be read".to_string());
        return Ok(problems);
    };
    let (last_value, is_called, max_seq, cache): (i64, bool, Option<i64>, Option<i64>) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let next = if is_called {
        last_value.saturating_add(1)
    } else {
        last_value
    };
    if let Some(max_seq) = max_seq
        && next <= max_seq
    {
        problems.push(format!(
            "the event sequence would hand out seq {next}, but the newest event has seq {max_seq}"
        ));
    }
    if cache != Some(1) {
        problems.push(format!(
            "the event sequence caches {} values per connection (expected 1): seqs would not follow the order they are taken in",
            cache.map(|c| c.to_string()).unwrap_or_else(|| "an unknown number of".to_string())
        ));
    }

    Ok(problems)
}

/// Applies pending migrations. Concurrent openers wait on an advisory lock, so each migration runs once.
fn migrate(conn: &mut Conn, schema: Option<&str>, options: &StoreOptions) -> Result<()> {
    let latest = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    // Fast path, no lock: most opens find the schema up to date. A missing table fails the query.
    if let Ok(rows) = conn.query_sql("SELECT max(version) FROM baton_schema_version", &[])
        && let Some(Ok(Some(v))) = rows.first().map(|r| r.try_get::<_, Option<i32>>(0))
        && v == latest
    {
        return Ok(());
    }
    // A migration may rewrite big tables, and may wait for another process's migration to finish.
    let wait = options.lock_timeout.max(Duration::from_secs(60)).as_millis();
    let usual = conn.set_answer_timeout(MIGRATION_ANSWER_TIMEOUT);
    let migrated = conn
        .batch_sql(&format!(
            "BEGIN; SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = {wait}"
        ))
        .map_err(|e| pg_error("apply migrations", &e))
        .and_then(|()| {
            let applied = apply_migrations(conn, schema, latest);
            let end = if applied.is_ok() { "COMMIT" } else { "ROLLBACK" };
            let ended = conn.batch_sql(end).map_err(|e| pg_error("apply migrations", &e));
            applied.and(ended)
        });
    conn.set_answer_timeout(usual);
    migrated
}

/// How long the client waits for a migration's statements: they may rewrite big tables.
const MIGRATION_ANSWER_TIMEOUT: Duration = Duration::from_secs(3600);

fn apply_migrations(conn: &mut Conn, schema: Option<&str>, latest: i32) -> Result<()> {
    let fail = |e: SqlError| pg_error("apply migrations", &e);
    conn.query_sql(
        "SELECT pg_advisory_xact_lock($1)",
        &[&sql::fnv1a(&[b"baton", b"migrate"])],
    )
    .map_err(fail)?;
    if let Some(s) = schema {
        conn.batch_sql(&format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(s)))
            .map_err(fail)?;
    }
    conn.batch_sql(
        "CREATE TABLE IF NOT EXISTS baton_schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .map_err(fail)?;
    let current: i32 = conn
        .query_sql("SELECT coalesce(max(version), 0) FROM baton_schema_version", &[])
        .map_err(fail)?
        .first()
        .map(|r| r.get(0))
        .unwrap_or(0);
    if current > latest {
        return Err(Error::internal(format!(
            "the PostgreSQL database has baton schema version {current}, newer than this baton knows ({latest}): upgrade baton"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        conn.batch_sql(sql)
            .map_err(|e| pg_error(&format!("apply migration {version}"), &e))?;
        conn.query_sql(
            "INSERT INTO baton_schema_version (version, applied_at) VALUES ($1, $2)",
            &[version, &Timestamp::now().micros()],
        )
        .map_err(fail)?;
    }
    Ok(())
}

/// Waits a little before retrying a transaction that lost a race; grows with the attempt, with jitter.
fn backoff(attempt: u32) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let base = 200 * u64::from(attempt.min(10));
    std::thread::sleep(Duration::from_micros(base + u64::from(nanos % 1000)));
}

/// An internal error saying which step failed and why.
pub(crate) fn pg_error(what: &str, e: &impl Described) -> Error {
    Error::internal(format!("PostgreSQL: cannot {what}: {}", e.described()))
}

/// An error that can say what went wrong in words fit to show.
pub(crate) trait Described {
    fn described(&self) -> String;
}

impl Described for tokio_postgres::Error {
    fn described(&self) -> String {
        describe(self)
    }
}

/// The server's message with its SQLSTATE, or the client error with its causes.
fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{} (SQLSTATE {})", db.message(), db.code().code());
        if let Some(d) = db.detail() {
            s.push_str(&format!("; {d}"));
        }
        if let Some(h) = db.hint() {
            s.push_str(&format!("; hint: {h}"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        s.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    s
}

/// Quotes an SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Takes the store's own `pool_size` parameter out of a connection string (the driver refuses parameters it
/// does not know): the string to connect with, and how many connections the store may open.
fn take_pool_size(url: &str) -> Result<(String, usize)> {
    const KEY: &str = "pool_size";
    let trimmed = url.trim();
    let (rest, value) = if trimmed.contains("://") {
        let Some((head, query)) = trimmed.split_once('?') else {
            return Ok((url.to_string(), pool::DEFAULT_SIZE));
        };
        let mut value = None;
        let kept: Vec<&str> = query
            .split('&')
            .filter(|p| match p.split_once('=') {
                Some((k, v)) if k == KEY => {
                    value = Some(v.to_string());
                    false
                }
                _ => true,
            })
            .collect();
        let rest = if kept.is_empty() {
            head.to_string()
        } else {
            format!("{head}?{}", kept.join("&"))
        };
        (rest, value)
    } else {
        let mut value = None;
        let kept: Vec<String> = key_values(trimmed)
            .into_iter()
            .filter_map(|(k, v)| {
                if k == KEY {
                    value = Some(v.trim_matches('\'').to_string());
                    None
                } else {
                    Some(format!("{k}={v}"))
                }
            })
            .collect();
        (kept.join(" "), value)
    };
    let Some(value) = value else {
        return Ok((url.to_string(), pool::DEFAULT_SIZE));
    };
    match value.parse::<usize>() {
        Ok(n) if (1..=pool::MAX_SIZE).contains(&n) => Ok((rest, n)),
        _ => Err(Error::bad_input(format!(
            "invalid {KEY} '{value}' in the PostgreSQL URL {}: expected a whole number from 1 to {}",
            redact_url(url),
            pool::MAX_SIZE
        ))),
    }
}

/// The connection string without its password, fit to show.
pub fn redact_url(url: &str) -> String {
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact_key_values(url);
    };
    // The user info ends at the last '@' before the path; a raw '/' or '?' inside a password
    // would hide it, so fall back to the last '@' anywhere.
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (userinfo, after) = match rest[..end].rfind('@').or_else(|| rest.rfind('@')) {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let mut out = format!("{scheme}://");
    if let Some(info) = userinfo {
        out.push_str(info.split(':').next().unwrap_or(""));
        out.push('@');
    }
    match after.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            let kept: Vec<&str> = query
                .split('&')
                .filter(|p| !p.split('=').next().unwrap_or("").eq_ignore_ascii_case("password"))
                .collect();
            if !kept.is_empty() {
                out.push('?');
                out.push_str(&kept.join("&"));
            }
        }
        None => out.push_str(after),
    }
    out
}

/// `host=... password=...` form: drops the password, quoted or not.
fn redact_key_values(conninfo: &str) -> String {
    key_values(conninfo)
        .into_iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("password"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The keys and values of a `host=... password=...` string, each value as written (quotes included).
fn key_values(conninfo: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = conninfo.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.peek() == Some(&'\'') {
                value.push('\'');
                chars.next();
                while let Some(c) = chars.next() {
                    value.push(c);
                    if c == '\\' {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    } else if c == '\'' {
                        break;
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        out.push((key, value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://alice:s3cret@db.example:5432/baton"),
            "postgres://alice@db.example:5432/baton"
        );
        assert_eq!(redact_url("postgresql://alice@db/baton"), "postgresql://alice@db/baton");
        assert_eq!(
            redact_url("postgres://db:5432/baton?sslmode=disable"),
            "postgres://db:5432/baton?sslmode=disable"
        );
        assert_eq!(
            redact_url("postgres://alice:p/a?s@s@db/baton?password=x&sslmode=disable"),
            "postgres://alice@db/baton?sslmode=disable"
        );
        assert_eq!(redact_url("postgres://db/baton?password=x"), "postgres://db/baton");
        assert_eq!(
            redact_url("host=db user=alice password='a b\\' c' dbname=baton"),
            "host=db user=alice dbname=baton"
        );
        assert_eq!(redact_url("host=db password = s3cret port=5432"), "host=db port=5432");
    }

    #[test]
    fn the_pool_size_is_taken_out_of_the_url() {
        let taken = |url: &str| take_pool_size(url).map_err(|e| e.to_string());
        assert_eq!(taken("postgres://db/baton"), Ok(("postgres://db/baton".to_string(), 8)));
        assert_eq!(
            taken("postgres://db/baton?sslmode=disable"),
            Ok(("postgres://db/baton?sslmode=disable".to_string(), 8))
        );
        assert_eq!(
            taken("postgres://db/baton?pool_size=16"),
            Ok(("postgres://db/baton".to_string(), 16))
        );
        assert_eq!(
            taken("postgres://a:pw@db/baton?sslmode=disable&pool_size=1&application_name=x"),
            Ok((
                "postgres://a:pw@db/baton?sslmode=disable&application_name=x".to_string(),
                1
            ))
        );
        assert_eq!(
            taken("host=db pool_size = 8 user=alice"),
            Ok(("host=db user=alice".to_string(), 8))
        );
        assert_eq!(taken("host=db pool_size='2'"), Ok(("host=db".to_string(), 2)));
        for bad in ["0", "65", "four", ""] {
            let e = taken(&format!("postgres://alice:s3cret@db/baton?pool_size={bad}")).unwrap_err();
            assert_eq!(
                e,
                format!(
                    "invalid pool_size '{bad}' in the PostgreSQL URL postgres://alice@db/baton?pool_size={bad}: expected a whole number from 1 to 64"
                )
            );
        }
    }

    #[test]
    fn quotes_identifiers() {
        assert_eq!(quote_ident("baton"), "\"baton\"");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
    }
}
