//! [`Tx`] on one PostgreSQL transaction: what every concept shares. Each concept's trait is implemented in
//! a file of its own under `tx/`.

use baton_core::model::{Claim, Event, IdempotencyRecord, ItemKey, JournalEntry, NewEvent, Session};
use baton_core::store::prelude::*;
use baton_core::store::{
    ClaimQuery, DecisionQuery, DecisionRow, EntryQuery, EnumColumn, EventQuery, SearchHit, SearchQuery, SessionQuery,
};
use baton_core::{Error, Result, Timestamp};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, ToSql};
use tokio_postgres::{Row, SimpleQueryMessage, Statement};

use crate::conn::{Cause, Check, Conn, Failure};
use crate::pg_error;
use crate::sql::{PgRow, fnv1a, owned, params, refs};

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

use claims::claim_sql;

/// One transaction. Events appended here wait in `pending` until commit, when they get their seqs.
///
/// Writes whose outcome the rules do not read back (locks, claim inserts and updates, events, `COMMIT`)
/// are queued on the connection and go out with the next statement that returns rows (see `conn`).
pub(crate) struct PgTx<'a> {
    conn: &'a mut Conn,
    write: bool,
    /// The connection's round-trip count when this transaction began: while it is unchanged, nothing of
    /// the transaction reached the server and a rollback sends nothing.
    trips_at_begin: u64,
    pending: Vec<NewEvent>,
    /// A statement lost a race (serialization failure, deadlock): running the transaction again may succeed.
    /// Why running the transaction again may succeed: it lost a race, or its connection (and nothing else).
    retry: Option<Cause>,
    /// A statement ran, so a read transaction's snapshot is taken (even preparing one takes it).
    snapshot_taken: bool,
    /// In a read transaction, the event horizon once established: the newest seq below which no event
    /// can still commit. Event reads never go past it.
    horizon: Option<i64>,
    /// A read transaction read events after its snapshot was taken, too late for a horizon: it has to run
    /// again with the horizon first.
    late_horizon: bool,
    /// The item `lock_item` locked and the tag its newest grant is fetched under (see `lock_item`).
    prefetched: Option<(ItemKey, u64)>,
}

impl<'a> PgTx<'a> {
    /// Starts a transaction: its `BEGIN` goes out with its first statement.
    pub(crate) fn begin(conn: &'a mut Conn, write: bool) -> PgTx<'a> {
        let begin = if write {
            "BEGIN ISOLATION LEVEL READ COMMITTED"
        } else {
            // One snapshot for the whole read, taken by its first statement.
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        };
        let trips_at_begin = conn.round_trips();
        let tx = PgTx {
            conn,
            write,
            trips_at_begin,
            pending: Vec::new(),
            retry: None,
            snapshot_taken: false,
            horizon: None,
            late_horizon: false,
            prefetched: None,
        };
        // Queueing fails only when the queue is full, and a fresh transaction's queue is empty.
        tx.conn.set_in_transaction(true);
        let queued = tx.conn.queue_simple("begin a transaction", begin);
        debug_assert!(queued.is_ok());
        tx
    }

    /// Gives the buffered events their seqs and commits. Returns the outcome and, when running the transaction
    /// again may help, why.
    ///
    /// The buffered events, the queued writes and `COMMIT` go out in one round trip. If any of them
    /// fails, the server ends the transaction with a rollback instead of the commit.
    pub(crate) fn commit(mut self) -> (Result<()>, Option<Cause>) {
        let queued = self.flush_events().map(|()| self.conn.queue_commit());
        if let Err(e) = queued {
            return (Err(e), self.rollback());
        }
        let flushed = self.conn.flush();
        self.conn.set_in_transaction(false);
        match flushed {
            Ok(()) => (Ok(()), None),
            Err(f) => {
                let cause = self.conn.cause(f.cause);
                // The failed COMMIT (or the statement before it) already ended the transaction; make sure.
                if !self.conn.is_closed() {
                    let _ = self.conn.simple_query("roll back", "ROLLBACK");
                }
                match cause {
                    Cause::LostRace | Cause::IdleTimeout => (Err(f.error), Some(cause)),
                    // COMMIT went out and no answer came back: it may have been applied or not.
                    Cause::ConnectionLost => (
                        Err(Error::internal(format!(
                            "{}; the connection was lost while committing, so the change may or may not have been made: check with `baton changes` before you try again",
                            f.error
                        ))),
                        None,
                    ),
                    Cause::LockTimeout | Cause::StatementTimeout => (Err(crate::timed_out(f.error, cause)), None),
                    Cause::Other => (Err(f.error), None),
                }
            }
        }
    }

    /// Rolls back. Returns why running the transaction again may succeed, if it may.
    pub(crate) fn rollback(self) -> Option<Cause> {
        self.conn.discard_queue();
        if self.conn.round_trips() != self.trips_at_begin {
            let _ = self.conn.simple_query("roll back", "ROLLBACK");
        }
        self.conn.set_in_transaction(false);
        self.retry
    }

    /// Whether this read transaction read events too late for a horizon and must run again with
    /// [`PgTx::establish_horizon`] first; what it read and returned is to be thrown away.
    pub(crate) fn needs_horizon_first(&self) -> bool {
        self.late_horizon
    }

    /// Establishes a read transaction's event horizon. Must run before its snapshot is taken.
    ///
    /// Every transaction that records events holds `baton_event_gate` in ROW EXCLUSIVE mode from just
    /// before it takes its first seq until it ends (see `baton_next_event_seq`). Taking the gate in SHARE
    /// mode therefore waits until every transaction that took a seq so far has committed or rolled back,
    /// and keeps new ones from taking seqs while it is held. The snapshot is taken under the gate, by the
    /// SELECT, so it sees every event whose seq was taken so far and that will ever commit; the highest of
    /// them is the horizon. Seqs taken after the gate is released are higher (the sequence caches no
    /// values), so no event at or below the horizon can appear later: paging by `seq > cursor` up to it
    /// never skips or repeats an event.
    ///
    /// `LOCK TABLE` and savepoint commands take no snapshot, unlike any SELECT (which is why an advisory
    /// lock cannot do this inside the transaction). Rolling back to the savepoint releases the gate at once
    /// while REPEATABLE READ keeps the snapshot; the gate is held only while the server runs these
    /// statements, one round trip, so readers share it and writers queued behind a reader wait briefly.
    pub(crate) fn establish_horizon(&mut self) -> Result<i64> {
        debug_assert!(!self.write && !self.snapshot_taken);
        self.snapshot_taken = true;
        let messages = self
            .conn
            .simple_query(
                "establish the event horizon",
                "SAVEPOINT baton_horizon;
                 LOCK TABLE baton_event_gate IN SHARE MODE;
                 SELECT coalesce(max(seq), 0) FROM events;
                 ROLLBACK TO SAVEPOINT baton_horizon;
                 RELEASE SAVEPOINT baton_horizon",
            )
            .map_err(|f| self.failed(f))?;
        let value = messages.iter().find_map(|m| match m {
            SimpleQueryMessage::Row(row) => row.get(0),
            _ => None,
        });
        let horizon = value
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(|| Error::internal("PostgreSQL: the event horizon query returned no number"))?;
        self.horizon = Some(horizon);
        Ok(horizon)
    }

    /// The horizon event reads stop at: `None` in a write transaction, which reads from its own snapshot.
    ///
    /// A write transaction does not establish a horizon. Its own events take their seqs only at commit, so it
    /// never holds the gate while it reads and could wait for it; but the wait would stall it (and every
    /// writer queued behind its request) while it holds its session row and item locks. It has no need to:
    /// the rules read events in a write transaction only for the digest at session start and resume, which
    /// counts and shows recent events of other sessions and hands out no cursor, so an event that commits
    /// later with a lower seq only means the digest was computed a moment earlier.
    fn event_horizon(&mut self) -> Result<Option<i64>> {
        if self.write {
            return Ok(None);
        }
        if let Some(h) = self.horizon {
            return Ok(Some(h));
        }
        if self.snapshot_taken {
            // Events committed since the snapshot was taken may have seqs below any horizon established
            // now, and this snapshot cannot see them: start over with the horizon first.
            self.late_horizon = true;
            return Err(Error::internal(
                "PostgreSQL: events were read after the read transaction's snapshot was taken; it runs again",
            ));
        }
        self.establish_horizon().map(Some)
    }

    /// Takes seqs for the buffered events and inserts them, in one statement, just before COMMIT.
    ///
    /// `baton_next_event_seq` takes the event gate before the first seq, and the gate stays held until the
    /// transaction ends, which is what lets readers establish a horizon (see `establish_horizon`). Seqs
    /// are not in commit order; concurrent event-writing transactions do not wait for each other. The
    /// statement comes last so readers wait for as little as possible: the commit itself.
    fn flush_events(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let events = std::mem::take(&mut self.pending);
        let expected = events.len() as u64;
        let check: Check = Box::new(move |outcome| match outcome {
            Ok(n) if n == expected => Ok(()),
            Ok(n) => Err(Error::internal(format!(
                "PostgreSQL: recorded {n} of {expected} events"
            ))),
            Err(e) => Err(pg_error("record events", &e)),
        });
        if let [e] = events.as_slice() {
            // Most transactions record one event: a plain VALUES row costs the server less than unpacking arrays.
            return self.defer(
                "record events",
                "INSERT INTO events (seq, time, project, agent, session_id, kind, target, data)
                 VALUES (baton_next_event_seq(), $1, $2, $3, $4, $5, $6, $7)",
                vec![
                    Box::new(e.time.micros()),
                    Box::new(e.project.clone()),
                    Box::new(e.agent.clone()),
                    Box::new(e.session_id.as_ref().map(|s| s.to_string())),
                    Box::new(e.kind),
                    Box::new(e.target.clone()),
                    Box::new(e.data.to_string()),
                ],
                check,
            );
        }
        let times: Vec<i64> = events.iter().map(|e| e.time.micros()).collect();
        let projects: Vec<String> = events.iter().map(|e| e.project.clone()).collect();
        let agents: Vec<String> = events.iter().map(|e| e.agent.clone()).collect();
        let sessions: Vec<Option<String>> = events
            .iter()
            .map(|e| e.session_id.as_ref().map(|s| s.to_string()))
            .collect();
        let kinds: Vec<&'static str> = events.iter().map(|e| e.kind).collect();
        let targets: Vec<String> = events.iter().map(|e| e.target.clone()).collect();
        let data: Vec<String> = events.iter().map(|e| e.data.to_string()).collect();
        // ORDER BY: a volatile function in the select list runs after the sort, so seqs follow append order.
        self.defer(
            "record events",
            "INSERT INTO events (seq, time, project, agent, session_id, kind, target, data)
             SELECT baton_next_event_seq(), e.time, e.project, e.agent, e.session_id, e.kind, e.target, e.data
             FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::text[]) WITH ORDINALITY AS e(time, project, agent, session_id, kind, target, data, ord)
             ORDER BY e.ord",
            vec![
                Box::new(times),
                Box::new(projects),
                Box::new(agents),
                Box::new(sessions),
                Box::new(kinds),
                Box::new(targets),
                Box::new(data),
            ],
            check,
        )
    }

    /// The prepared statement for `sql`, prepared once per connection.
    fn statement(&mut self, what: &str, sql: &str) -> Result<Statement> {
        self.snapshot_taken = true;
        self.conn.statement(what, sql).map_err(|f| self.failed(f))
    }

    fn query(&mut self, what: &str, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let stmt = self.statement(what, sql)?;
        self.conn.query(what, &stmt, params).map_err(|f| self.failed(f))
    }

    fn execute(&mut self, what: &str, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let stmt = self.statement(what, sql)?;
        self.conn.execute(what, &stmt, params).map_err(|f| self.failed(f))
    }

    /// Queues a write whose outcome nothing reads back before commit; `check` judges it when it is sent.
    fn defer(&mut self, what: &str, sql: &str, params: Vec<Box<dyn ToSql + Sync + Send>>, check: Check) -> Result<()> {
        let stmt = self.statement(what, sql)?;
        self.conn.queue_execute(stmt, params, check).map_err(|f| self.failed(f))
    }

    /// Judges a failure inside the transaction, before its COMMIT was sent: a lost race or a lost connection
    /// left nothing behind, so the transaction may run again; a lock or statement timeout means busy.
    fn failed(&mut self, f: Failure) -> Error {
        match self.conn.cause(f.cause) {
            cause @ (Cause::LostRace | Cause::ConnectionLost | Cause::IdleTimeout) => self.retry = Some(cause),
            cause @ (Cause::LockTimeout | Cause::StatementTimeout) => return crate::timed_out(f.error, cause),
            Cause::Other => {}
        }
        f.error
    }

    /// Rows read in a write transaction stay locked until commit: what the rules decide on cannot
    /// change under them, even at READ COMMITTED.
    fn lock_clause(&self) -> &'static str {
        if self.write { " FOR UPDATE" } else { "" }
    }

    fn claim_where(&mut self, key: &ItemKey, session_id: Option<&str>) -> Result<Option<Claim>> {
        let sql = claim_sql(self.lock_clause(), session_id.is_some());
        let rows = match session_id {
            Some(s) => self.query(
                "read a claim",
                &sql,
                &[&key.project, &key.item_type, &key.repo, &key.item_id, &s],
            )?,
            None => self.query(
                "read a claim",
                &sql,
                &[&key.project, &key.item_type, &key.repo, &key.item_id],
            )?,
        };
        rows.first().map(|r| baton_sql::claim(&PgRow(r))).transpose()
    }
}

fn col<'r, T: FromSql<'r>>(row: &'r Row, idx: usize) -> Result<T> {
    row.try_get(idx).map_err(|e| {
        let name = row.columns().get(idx).map(|c| c.name()).unwrap_or("?");
        pg_error(&format!("read column {name}"), &e)
    })
}

/// A JSON column decoded into `T`.
fn json_col<T>(row: &Row, idx: usize, decode: impl Fn(&str) -> serde_json::Result<T>) -> Result<Option<T>> {
    let text: Option<String> = col(row, idx)?;
    text.map(|t| {
        decode(&t).map_err(|e| {
            let name = row.columns().get(idx).map(|c| c.name()).unwrap_or("?");
            Error::internal(format!("PostgreSQL: stored {name} is not valid JSON: {e}"))
        })
    })
    .transpose()
}

/// The check of a deferred insert whose only refusal is a duplicate id.
pub(super) fn refused_as_duplicate(what: &'static str, id: String) -> Check {
    Box::new(move |outcome| match outcome {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Err(baton_sql::refused_duplicate(what, &id)),
        Err(e) => Err(pg_error(&format!("record a {what}"), &e)),
    })
}

/// The check of a deferred update that must find its row.
pub(super) fn found(what: &'static str, id: String) -> Check {
    Box::new(move |outcome| match outcome {
        Ok(0) => Err(baton_sql::nothing_to_update(what, &id)),
        Ok(_) => Ok(()),
        Err(e) => Err(pg_error(&format!("update a {what}"), &e)),
    })
}

#[cfg(test)]
mod tests {
    use super::journal::entries_sql;
    use super::sessions::sessions_sql;
    use super::*;
    use baton_core::model::{EntryKind, SessionStatus};

    const ENDED: i64 = 20_000;
    /// Rows of `sessions` a query may read: the open ones and a little slack, far below `ENDED`.
    const MAY_READ: f64 = 50.0;

    /// How many rows of `table` the plan of `explain` (an `EXPLAIN (ANALYZE, FORMAT JSON)` result) read,
    /// counting rows its filters threw away.
    fn rows_read(plan: &serde_json::Value, table: &str) -> f64 {
        let own = if plan["Relation Name"] == table {
            let loops = plan["Actual Loops"].as_f64().unwrap_or(1.0);
            ["Actual Rows", "Rows Removed by Filter", "Rows Removed by Index Recheck"]
                .iter()
                .filter_map(|k| plan[*k].as_f64())
                .sum::<f64>()
                * loops
        } else {
            0.0
        };
        let children = plan["Plans"]
            .as_array()
            .map(|ps| ps.iter().map(|p| rows_read(p, table)).sum::<f64>());
        own + children.unwrap_or(0.0)
    }

    /// The digest and the hooks list a project's open sessions and their blockers on every call. With statistics
    /// that say most sessions have ended, the plan a prepared statement settles on must still follow the open
    /// sessions rather than walk every session the project ever had.
    #[test]
    #[cfg_attr(
        not(baton_test_postgres),
        ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
    )]
    fn open_sessions_and_their_blockers_are_found_without_walking_ended_ones() {
        let url = std::env::var("BATON_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .expect(
                "BATON_TEST_DATABASE_URL is not set, yet this test was built to run on PostgreSQL \
                 (the variable was set at build time, or CI=true, where it must not be skipped)",
            );
        let schema = format!("baton_test_plans_{}", std::process::id());
        drop(crate::PgStore::open_in_schema(&url, &schema).expect("open"));
        let mut db = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        db.batch_execute(&format!(
            "SET search_path TO \"{schema}\";
             INSERT INTO sessions (id, project, agent, status, created_at, updated_at, last_seen)
                 SELECT 's' || g, 'acme', 'agent-' || (g % 3), CASE WHEN g > {ENDED} THEN 'active' ELSE 'completed' END,
                        g, g, g
                 FROM generate_series(1, {ENDED} + 2) g;
             INSERT INTO journal_entries (id, session_id, kind, text, created_at)
                 SELECT 'e' || g, 's' || g, 'blocker', 'waiting on review', g FROM generate_series(1, {ENDED} + 2) g;
             ANALYZE;
             SET plan_cache_mode = force_generic_plan;"
        ))
        .expect("seed");
        let open = vec![SessionStatus::Active, SessionStatus::Paused];
        // The agent of the first open session.
        let agent = format!("agent-{}", (ENDED + 1) % 3);
        let cases = [
            (
                sessions_sql(&SessionQuery {
                    project: Some("acme".into()),
                    statuses: open.clone(),
                    limit: Some(21),
                    ..Default::default()
                })
                .0,
                "('acme', 21)".to_string(),
                2,
            ),
            (
                sessions_sql(&SessionQuery {
                    project: Some("acme".into()),
                    agent: Some(agent.clone()),
                    statuses: open.clone(),
                    limit: Some(21),
                    ..Default::default()
                })
                .0,
                format!("('acme', '{agent}', 21)"),
                1,
            ),
            (
                entries_sql(&EntryQuery {
                    project: Some("acme".into()),
                    session_statuses: open.clone(),
                    kinds: vec![EntryKind::Blocker],
                    limit: Some(11),
                    ..Default::default()
                })
                .0,
                "('acme', 'blocker', 11)".to_string(),
                2,
            ),
        ];
        let mut failures = Vec::new();
        for (i, (sql, args, expected)) in cases.iter().enumerate() {
            db.batch_execute(&format!("PREPARE q{i} AS {sql}")).expect("prepare");
            // The sixth run onwards may use the generic plan; force_generic_plan makes the first one use it.
            let text = db
                .simple_query(&format!("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE q{i}{args}"))
                .expect("explain")
                .into_iter()
                .find_map(|m| match m {
                    postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                    _ => None,
                })
                .expect("a plan");
            let explained: serde_json::Value = serde_json::from_str(&text).expect("a JSON plan");
            let plan = &explained[0]["Plan"];
            let returned = plan["Actual Rows"].as_f64().unwrap_or(-1.0);
            let read = rows_read(plan, "sessions");
            if returned != f64::from(*expected) || read > MAY_READ {
                failures.push(format!("{sql}\nreturned {returned}, read {read} sessions:\n{plan:#}"));
            }
        }
        let _ = db.batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"));
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }
}
