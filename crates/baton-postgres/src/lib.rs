//! baton's team store on PostgreSQL: one connection per store, migrations applied on open.
//!
//! Write transactions run at READ COMMITTED. Every session or claim row a write transaction reads is
//! locked (`FOR UPDATE`) until commit, so a decision taken on a row cannot be undone by a concurrent
//! update; claim decisions on one item are serialised by a transaction-scoped advisory lock. Events take
//! their seqs from a sequence just before commit, so concurrent writers do not wait for each other; a
//! read transaction that reads events first establishes a horizon (waiting for transactions that took
//! seqs to finish) and reads nothing past it, so paging by `seq > cursor` never skips or repeats an event.
//! Transactions that lose a race (serialization failure, deadlock) are retried from the start.

mod conn;
mod sql;
mod tx;

use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use baton_core::model::{ClaimState, EntryKind, SessionStatus};
use baton_core::store::{Store, Tx};
use baton_core::{Error, Result, Timestamp};
use tokio_postgres::error::SqlState;

use crate::conn::Conn;
use crate::tx::PgTx;

/// Schema migrations, in order. Each runs once per schema, inside the migration transaction.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_event_seq_sequence.sql")),
    (3, include_str!("../migrations/0003_indexes_of_open_rows.sql")),
    (4, include_str!("../migrations/0004_idempotency_by_caller.sql")),
];

/// How many times `write` runs a transaction that keeps losing races before giving up.
const MAX_ATTEMPTS: u32 = 20;

/// A baton store in a PostgreSQL database.
pub struct PgStore {
    conn: Mutex<Conn>,
    /// The URL as given, password included: needed to reconnect. Never shown.
    url: String,
    schema: Option<String>,
    location: String,
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
    pub fn open(url: &str) -> Result<PgStore> {
        PgStore::connect(url, None)
    }

    /// Like [`PgStore::open`], but keeps baton's tables in `schema`, creating it when missing.
    pub fn open_in_schema(url: &str, schema: &str) -> Result<PgStore> {
        if schema.is_empty() || schema.len() > 63 {
            return Err(Error::bad_input(format!(
                "invalid PostgreSQL schema name '{schema}': expected 1 to 63 characters"
            )));
        }
        PgStore::connect(url, Some(schema))
    }

    fn connect(url: &str, schema: Option<&str>) -> Result<PgStore> {
        let mut location = redact_url(url);
        if let Some(s) = schema {
            location.push_str(&format!(" (schema {s})"));
        }
        let mut conn = connect(url, schema)?;
        migrate(&mut conn, schema)?;
        Ok(PgStore {
            conn: Mutex::new(conn),
            url: url.to_string(),
            schema: schema.map(str::to_string),
            location,
        })
    }

    /// The connection, reconnecting first when the server closed it.
    fn conn(&self) -> Result<MutexGuard<'_, Conn>> {
        let mut guard = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_closed() {
            *guard = connect(&self.url, self.schema.as_deref())?;
        }
        // A panic inside a transaction left it open: nothing of it is kept.
        guard.abandon_transaction();
        Ok(guard)
    }

    fn run(&self, write: bool, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        let mut guard = self.conn()?;
        let conn = &mut *guard;
        let mut attempt = 0;
        // Set once a read turned out to read events after its snapshot was taken.
        let mut horizon_first = false;
        loop {
            attempt += 1;
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
            let (result, retryable) = match outcome {
                Ok(()) => ptx.commit(),
                Err(e) => (Err(e), ptx.rollback()),
            };
            match result {
                Ok(()) => return Ok(()),
                Err(_) if retryable && attempt < MAX_ATTEMPTS => backoff(attempt),
                Err(e) => return Err(e),
            }
        }
    }
}

/// Opens a connection to `url`, with `schema` first on its search path.
fn connect(url: &str, schema: Option<&str>) -> Result<Conn> {
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
        config.application_name("baton");
    }
    let mut conn = Conn::connect(&config).map_err(|e| {
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
        let mut guard = self.conn()?;
        let conn = &mut *guard;
        conn.batch_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .map_err(|e| pg_error("begin a transaction", &e))?;
        let problems = integrity_problems(conn);
        let _ = conn.batch_sql("ROLLBACK");
        problems.map_err(|e| pg_error("check integrity", &e))
    }
}

fn integrity_problems(conn: &mut Conn) -> std::result::Result<Vec<String>, tokio_postgres::Error> {
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

    for row in conn.query_sql(
        "SELECT project, item_type, repo, item_id, count(*) FROM claims WHERE state = 'held'
         GROUP BY project, item_type, repo, item_id HAVING count(*) > 1 LIMIT 20",
        &[],
    )? {
        let (project, item_type, repo, item_id, n): (String, String, String, String, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
        problems.push(format!(
            "{item_type} {repo}#{item_id} in project {project} has {n} held grants"
        ));
    }

    for row in conn.query_sql(
        "SELECT c.project, c.item_type, c.repo, c.item_id, c.token, c.state FROM claims c
         WHERE c.state IN ('held', 'expired') AND EXISTS (
             SELECT 1 FROM claims d WHERE d.project = c.project AND d.item_type = c.item_type
               AND d.repo = c.repo AND d.item_id = c.item_id AND d.token > c.token)
         LIMIT 20",
        &[],
    )? {
        let (project, item_type, repo, item_id, token, state): (String, String, String, String, i64, String) =
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4), row.get(5));
        problems.push(format!(
            "{item_type} {repo}#{item_id} in project {project}: grant with token {token} is still {state} although a newer grant exists"
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

    let names = |all: &[&str]| all.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let checks: [(&str, &str, Vec<String>); 3] = [
        (
            "sessions",
            "SELECT DISTINCT status FROM sessions WHERE status <> ALL($1) LIMIT 5",
            names(&SessionStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        ),
        (
            "claims",
            "SELECT DISTINCT state FROM claims WHERE state <> ALL($1) LIMIT 5",
            names(&ClaimState::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        ),
        (
            "journal entries",
            "SELECT DISTINCT kind FROM journal_entries WHERE kind <> ALL($1) LIMIT 5",
            names(&EntryKind::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        ),
    ];
    for (table, sql, accepted) in checks {
        for row in conn.query_sql(sql, &[&accepted])? {
            let value: String = row.get(0);
            problems.push(format!("{table} hold the unknown value '{value}'"));
        }
    }
    Ok(problems)
}

/// Applies pending migrations. Concurrent openers wait on an advisory lock, so each migration runs once.
fn migrate(conn: &mut Conn, schema: Option<&str>) -> Result<()> {
    let latest = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    // Fast path, no lock: most opens find the schema up to date. A missing table fails the query.
    if let Ok(rows) = conn.query_sql("SELECT max(version) FROM baton_schema_version", &[])
        && let Some(Ok(Some(v))) = rows.first().map(|r| r.try_get::<_, Option<i32>>(0))
        && v == latest
    {
        return Ok(());
    }
    conn.batch_sql("BEGIN").map_err(|e| pg_error("apply migrations", &e))?;
    let applied = apply_migrations(conn, schema, latest);
    let end = if applied.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = conn.batch_sql(end).map_err(|e| pg_error("apply migrations", &e));
    applied.and(ended)
}

fn apply_migrations(conn: &mut Conn, schema: Option<&str>, latest: i32) -> Result<()> {
    let fail = |e: tokio_postgres::Error| pg_error("apply migrations", &e);
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

/// Whether a failed statement lost a race and the whole transaction may simply run again.
pub(crate) fn is_retryable(e: &tokio_postgres::Error) -> bool {
    matches!(e.code(), Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED)
}

/// An internal error saying which step failed and why.
pub(crate) fn pg_error(what: &str, e: &tokio_postgres::Error) -> Error {
    Error::internal(format!("PostgreSQL: cannot {what}: {}", describe(e)))
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
    let mut out: Vec<String> = Vec::new();
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
        if !key.eq_ignore_ascii_case("password") {
            out.push(format!("{key}={value}"));
        }
    }
    out.join(" ")
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
    fn quotes_identifiers() {
        assert_eq!(quote_ident("baton"), "\"baton\"");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
    }
}
