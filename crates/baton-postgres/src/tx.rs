//! [`Tx`] on one PostgreSQL transaction.

use std::str::FromStr;

use baton_core::model::{Claim, Event, Handoff, IdempotencyRecord, ItemKey, JournalEntry, NewEvent, Session};
use baton_core::store::{ClaimQuery, EntryQuery, EnumColumn, EventQuery, SessionQuery, Tx};
use baton_core::{Error, Result, Timestamp};
use serde_json::json;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, ToSql};
use tokio_postgres::{Row, SimpleQueryMessage, Statement};

use crate::conn::{Cause, Check, Conn, Failure};
use crate::pg_error;
use crate::sql::{Params, Where, fnv1a, like_prefix};

const SESSION_COLS: &str = "id, project, agent, name, role, context, task_ids, status, git_branch, git_commit, \
     worktree, created_at, updated_at, last_seen, ended_at, compaction_count, summary, handoff";
const CLAIM_COLS: &str = "id, project, item_type, repo, item_id, token, session_id, agent, state, ttl_secs, \
     granted_at, renewed_at, expires_at, ended_at, release_status, notes, loss_reported, forced_by";
const ENTRY_COLS: &str = "e.id, e.session_id, e.kind, e.text, e.rationale, e.created_at";
const EVENT_COLS: &str = "seq, time, project, agent, session_id, kind, target, data";

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
                    Box::new(e.session_id.clone()),
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
        let sessions: Vec<Option<String>> = events.iter().map(|e| e.session_id.clone()).collect();
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
        rows.first().map(claim_from_row).transpose()
    }
}

impl Tx for PgTx<'_> {
    /// Queues the item's lock and the read of its newest grant (the rules read it next) to go out right after
    /// the next statement that waits for an answer, in the same round trip. In the rules that statement reads
    /// the caller's session, so the server takes the session's row lock, then the item's lock, then the
    /// grant's row lock: the order every transaction takes them in. At READ COMMITTED the read, run once the
    /// lock is granted, sees every grant committed before that.
    fn lock_item(&mut self, key: &ItemKey) -> Result<()> {
        let k = fnv1a(&[
            key.project.as_bytes(),
            key.item_type.as_bytes(),
            key.repo.as_bytes(),
            key.item_id.as_bytes(),
        ]);
        let lock = self.statement("lock a work item", "SELECT pg_advisory_xact_lock($1)")?;
        let read = self.statement("read a claim", &claim_sql(self.lock_clause(), false))?;
        let tag = self.conn.fetch_after_next(
            (
                lock,
                vec![Box::new(k)],
                Box::new(|outcome| outcome.map(drop).map_err(|e| pg_error("lock a work item", &e))),
            ),
            "read a claim",
            read,
            vec![
                Box::new(key.project.clone()),
                Box::new(key.item_type.clone()),
                Box::new(key.repo.clone()),
                Box::new(key.item_id.clone()),
            ],
        );
        self.prefetched = Some((key.clone(), tag));
        Ok(())
    }

    fn latest_claim(&mut self, key: &ItemKey) -> Result<Option<Claim>> {
        if let Some((locked, tag)) = self.prefetched.take()
            && locked == *key
            && let Some(rows) = self.conn.take_fetched(tag).map_err(|f| self.failed(f))?
        {
            return rows.first().map(claim_from_row).transpose();
        }
        self.claim_where(key, None)
    }

    fn session_claim_on(&mut self, key: &ItemKey, session_id: &str) -> Result<Option<Claim>> {
        self.claim_where(key, Some(session_id))
    }

    fn insert_claim(&mut self, c: &Claim) -> Result<()> {
        let label = c.key().label();
        let (item, token) = (c.key(), c.token);
        self.defer(
            "record a claim",
            "INSERT INTO claims (id, project, item_type, repo, item_id, token, session_id, agent, state, ttl_secs,
                 granted_at, renewed_at, expires_at, ended_at, release_status, notes, loss_reported, forced_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            vec![
                Box::new(c.id.clone()),
                Box::new(c.project.clone()),
                Box::new(c.item_type.clone()),
                Box::new(c.repo.clone()),
                Box::new(c.item_id.clone()),
                Box::new(c.token),
                Box::new(c.session_id.clone()),
                Box::new(c.agent.clone()),
                Box::new(c.state.as_str()),
                Box::new(c.ttl_secs),
                Box::new(c.granted_at.0),
                Box::new(c.renewed_at.0),
                Box::new(c.expires_at.0),
                Box::new(c.ended_at.map(Timestamp::micros)),
                Box::new(c.release_status.map(|r| r.as_str())),
                Box::new(c.notes.clone()),
                Box::new(c.loss_reported),
                Box::new(c.forced_by.clone()),
            ],
            Box::new(move |outcome| match outcome {
                Ok(_) => Ok(()),
                Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                    let constraint = e.as_db_error().and_then(|d| d.constraint()).unwrap_or_default();
                    let message = if constraint == "claims_one_held" {
                        format!("{label} is already held: the database refused a second grant")
                    } else {
                        format!("{label} already has a grant with token {token}: the database refused a duplicate")
                    };
                    Err(Error::conflict(message, json!({"item": item, "token": token})))
                }
                Err(e) => Err(pg_error("record a claim", &e)),
            }),
        )
    }

    fn update_claim(&mut self, c: &Claim) -> Result<()> {
        let id = c.id.clone();
        self.defer(
            "update a claim",
            "UPDATE claims SET state = $2, ttl_secs = $3, renewed_at = $4, expires_at = $5, ended_at = $6,
                 release_status = $7, notes = $8, loss_reported = $9, forced_by = $10
             WHERE id = $1 AND project = $11 AND item_type = $12 AND repo = $13 AND item_id = $14 AND token = $15",
            vec![
                Box::new(c.id.clone()),
                Box::new(c.state.as_str()),
                Box::new(c.ttl_secs),
                Box::new(c.renewed_at.0),
                Box::new(c.expires_at.0),
                Box::new(c.ended_at.map(Timestamp::micros)),
                Box::new(c.release_status.map(|r| r.as_str())),
                Box::new(c.notes.clone()),
                Box::new(c.loss_reported),
                Box::new(c.forced_by.clone()),
                Box::new(c.project.clone()),
                Box::new(c.item_type.clone()),
                Box::new(c.repo.clone()),
                Box::new(c.item_id.clone()),
                Box::new(c.token),
            ],
            Box::new(move |outcome| match outcome {
                Ok(0) => Err(Error::not_found(format!("no claim with id '{id}' to update"))),
                Ok(_) => Ok(()),
                Err(e) => Err(pg_error("update a claim", &e)),
            }),
        )
    }

    fn claims(&mut self, q: &ClaimQuery) -> Result<Vec<Claim>> {
        let mut p = Params::default();
        let mut w = Where::default();
        if let Some(v) = &q.project {
            w.and(format!("project = {}", p.push(v.clone())));
        }
        if let Some(v) = &q.session_id {
            w.and(format!("session_id = {}", p.push(v.clone())));
        }
        if let Some(v) = &q.item_type {
            w.and(format!("item_type = {}", p.push(v.clone())));
        }
        if !q.states.is_empty() {
            w.and(one_of("state", q.states.iter().map(|s| s.as_str())));
        }
        if let Some(t) = q.expires_before {
            w.and(format!("expires_at < {}", p.push(t.micros())));
        }
        if q.loss_unreported {
            w.and("(state = 'taken_over' OR forced_by IS NOT NULL) AND NOT loss_reported".to_string());
        }
        let mut sql = format!("SELECT {CLAIM_COLS} FROM claims{} ORDER BY granted_at, id", w.sql());
        if let Some(l) = q.limit {
            sql.push_str(&format!(" LIMIT {}", p.push(i64::from(l))));
        }
        sql.push_str(self.lock_clause());
        self.query("list claims", &sql, &p.refs())?
            .iter()
            .map(claim_from_row)
            .collect()
    }

    fn insert_session(&mut self, s: &Session) -> Result<()> {
        let task_ids = serde_json::to_string(&s.task_ids).map_err(encode_error)?;
        let handoff = s
            .handoff
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(encode_error)?;
        let ended_at = s.ended_at.map(Timestamp::micros);
        self.execute(
            "record a session",
            "INSERT INTO sessions (id, project, agent, name, role, context, task_ids, status, git_branch, git_commit,
                 worktree, created_at, updated_at, last_seen, ended_at, compaction_count, summary, handoff)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            &[
                &s.id,
                &s.project,
                &s.agent,
                &s.name,
                &s.role,
                &s.context,
                &task_ids,
                &s.status.as_str(),
                &s.git_branch,
                &s.git_commit,
                &s.worktree,
                &s.created_at.0,
                &s.updated_at.0,
                &s.last_seen.0,
                &ended_at,
                &s.compaction_count,
                &s.summary,
                &handoff,
            ],
        )?;
        Ok(())
    }

    fn update_session(&mut self, s: &Session) -> Result<()> {
        let task_ids = serde_json::to_string(&s.task_ids).map_err(encode_error)?;
        let handoff = s
            .handoff
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(encode_error)?;
        let ended_at = s.ended_at.map(Timestamp::micros);
        let n = self.execute(
            "update a session",
            "UPDATE sessions SET name = $2, role = $3, context = $4, task_ids = $5, status = $6, git_branch = $7,
                 git_commit = $8, worktree = $9, updated_at = $10, last_seen = $11, ended_at = $12,
                 compaction_count = $13, summary = $14, handoff = $15
             WHERE id = $1",
            &[
                &s.id,
                &s.name,
                &s.role,
                &s.context,
                &task_ids,
                &s.status.as_str(),
                &s.git_branch,
                &s.git_commit,
                &s.worktree,
                &s.updated_at.0,
                &s.last_seen.0,
                &ended_at,
                &s.compaction_count,
                &s.summary,
                &handoff,
            ],
        )?;
        if n == 0 {
            return Err(Error::not_found(format!("no session '{}' to update", s.id)));
        }
        Ok(())
    }

    fn session(&mut self, id: &str) -> Result<Option<Session>> {
        let sql = format!(
            "SELECT {SESSION_COLS} FROM sessions WHERE id = $1{}",
            self.lock_clause()
        );
        let rows = self.query("read a session", &sql, &[&id])?;
        rows.first().map(session_from_row).transpose()
    }

    fn sessions(&mut self, q: &SessionQuery) -> Result<Vec<Session>> {
        let (mut sql, p) = sessions_sql(q);
        sql.push_str(self.lock_clause());
        self.query("list sessions", &sql, &p.refs())?
            .iter()
            .map(session_from_row)
            .collect()
    }

    fn project_keys(&mut self, key: &str, before: bool, limit: u32) -> Result<Vec<String>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // A loose index scan (PostgreSQL has no skip scan): each step seeks the next key past the last one,
        // so the sessions of a project are never walked.
        let (next, past) = if before { ("max", "<") } else { ("min", ">") };
        self.query(
            "list the known projects",
            &format!(
                "WITH RECURSIVE keys(k, n) AS (
                     SELECT {next}(project), 1::bigint FROM sessions WHERE project {past} $1
                     UNION ALL
                     SELECT (SELECT {next}(project) FROM sessions WHERE project {past} keys.k), n + 1 FROM keys
                     WHERE keys.k IS NOT NULL AND n < $2
                 )
                 SELECT k FROM keys WHERE k IS NOT NULL"
            ),
            &[&key, &i64::from(limit)],
        )?
        .iter()
        .map(|row| col(row, 0))
        .collect()
    }

    fn put_session_document(&mut self, session_id: &str, document: &serde_json::Value) -> Result<()> {
        self.execute(
            "record the fields of a session's document",
            "INSERT INTO session_documents (session_id, document) VALUES ($1, $2)
             ON CONFLICT (session_id) DO UPDATE SET document = EXCLUDED.document",
            &[&session_id, &document.to_string()],
        )?;
        Ok(())
    }

    fn session_document(&mut self, session_id: &str) -> Result<Option<serde_json::Value>> {
        let rows = self.query(
            "read the fields of a session's document",
            "SELECT document FROM session_documents WHERE session_id = $1",
            &[&session_id],
        )?;
        match rows.first() {
            Some(row) => json_col(row, 0, |t| serde_json::from_str::<serde_json::Value>(t)),
            None => Ok(None),
        }
    }

    fn insert_entry(&mut self, e: &JournalEntry) -> Result<()> {
        self.execute(
            "record a journal entry",
            "INSERT INTO journal_entries (id, session_id, kind, text, rationale, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &e.id,
                &e.session_id,
                &e.kind.as_str(),
                &e.text,
                &e.rationale,
                &e.created_at.0,
            ],
        )?;
        Ok(())
    }

    fn entries(&mut self, q: &EntryQuery) -> Result<Vec<JournalEntry>> {
        let (sql, p) = entries_sql(q);
        self.query("list journal entries", &sql, &p.refs())?
            .iter()
            .map(entry_from_row)
            .collect()
    }

    /// Buffers the event; it is numbered and inserted at commit (see `flush_events`).
    ///
    /// So `events`, `count_events` and `last_seq` in the same transaction do not see it. The rules read
    /// events in a write transaction only for the digest at session start and resume, which leaves out the
    /// caller's own session's events anyway; other events that transaction appends (sweeps) are counted
    /// by the next reader.
    fn append_event(&mut self, event: &NewEvent) -> Result<()> {
        if !self.write {
            return Err(Error::internal("cannot record an event in a read-only transaction"));
        }
        self.pending.push(event.clone());
        Ok(())
    }

    fn events(&mut self, q: &EventQuery) -> Result<Vec<Event>> {
        let horizon = self.event_horizon()?;
        if horizon.is_some_and(|h| q.after_seq >= h) {
            return Ok(Vec::new());
        }
        let mut p = Params::default();
        let w = event_filter(q, horizon, &mut p);
        let order = if q.newest_first { "DESC" } else { "ASC" };
        let limit = p.push(i64::from(q.limit));
        let sql = format!(
            "SELECT {EVENT_COLS} FROM events{} ORDER BY seq {order} LIMIT {limit}",
            w.sql()
        );
        self.query("list events", &sql, &p.refs())?
            .iter()
            .map(event_from_row)
            .collect()
    }

    fn count_events(&mut self, q: &EventQuery, cap: u32) -> Result<u64> {
        let horizon = self.event_horizon()?;
        if horizon.is_some_and(|h| q.after_seq >= h) {
            return Ok(0);
        }
        let mut p = Params::default();
        let w = event_filter(q, horizon, &mut p);
        let cap = p.push(i64::from(cap));
        let sql = format!(
            "SELECT count(*) FROM (SELECT 1 FROM events{} LIMIT {cap}) capped",
            w.sql()
        );
        let rows = self.query("count events", &sql, &p.refs())?;
        let n: i64 = match rows.first() {
            Some(row) => col(row, 0)?,
            None => 0,
        };
        Ok(n.max(0) as u64)
    }

    fn first_seq_since(&mut self, project: &str, time: Timestamp) -> Result<Option<i64>> {
        let rows = match self.event_horizon()? {
            Some(h) => self.query(
                "find the first event since a time",
                "SELECT seq FROM events WHERE project = $1 AND time >= $2 AND seq <= $3 ORDER BY time, seq LIMIT 1",
                &[&project, &time.0, &h],
            )?,
            None => self.query(
                "find the first event since a time",
                "SELECT seq FROM events WHERE project = $1 AND time >= $2 ORDER BY time, seq LIMIT 1",
                &[&project, &time.0],
            )?,
        };
        match rows.first() {
            Some(row) => col(row, 0),
            None => Ok(None),
        }
    }

    /// In a read transaction, the horizon: the highest committed seq, and no lower one can commit later.
    fn last_seq(&mut self) -> Result<i64> {
        if let Some(h) = self.event_horizon()? {
            return Ok(h);
        }
        let rows = self.query(
            "read the last event seq",
            "SELECT coalesce(max(seq), 0) FROM events",
            &[],
        )?;
        match rows.first() {
            Some(row) => col(row, 0),
            None => Ok(0),
        }
    }

    fn idempotency(&mut self, project: &str, scope: &str, key: &str) -> Result<Option<IdempotencyRecord>> {
        let rows = self.query(
            "read an idempotency key",
            "SELECT project, scope, key, command, request, result, created_at FROM idempotency
             WHERE project = $1 AND scope = $2 AND key = $3",
            &[&project, &scope, &key],
        )?;
        rows.first()
            .map(|row| {
                Ok(IdempotencyRecord {
                    project: col(row, 0)?,
                    scope: col(row, 1)?,
                    key: col(row, 2)?,
                    command: col(row, 3)?,
                    request: col(row, 4)?,
                    result: col(row, 5)?,
                    created_at: Timestamp(col(row, 6)?),
                })
            })
            .transpose()
    }

    fn unknown_values(&mut self, column: EnumColumn, limit: u32) -> Result<Vec<String>> {
        let (table, col) = match column {
            EnumColumn::SessionStatus => ("sessions", "status"),
            EnumColumn::ClaimState => ("claims", "state"),
            EnumColumn::ReleaseStatus => ("claims", "release_status"),
            EnumColumn::EntryKind => ("journal_entries", "kind"),
        };
        let accepted: Vec<String> = column.accepted().iter().map(|v| v.to_string()).collect();
        self.query(
            "look for unknown values",
            &format!("SELECT DISTINCT {col} FROM {table} WHERE {col} IS NOT NULL AND {col} <> ALL($1) LIMIT $2"),
            &[&accepted, &i64::from(limit)],
        )?
        .iter()
        .map(|row| self::col(row, 0))
        .collect()
    }

    fn put_idempotency(&mut self, r: &IdempotencyRecord) -> Result<()> {
        let n = self.execute(
            "record an idempotency key",
            "INSERT INTO idempotency (project, scope, key, command, request, result, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (project, scope, key) DO NOTHING",
            &[
                &r.project,
                &r.scope,
                &r.key,
                &r.command,
                &r.request,
                &r.result,
                &r.created_at.0,
            ],
        )?;
        if n == 0 {
            // A concurrent call with the same key committed first. Running this transaction again
            // replays that call's stored result instead of doing the work twice.
            self.retry = Some(Cause::LostRace);
            return Err(Error::conflict(
                format!(
                    "idempotency key '{}' was used by a concurrent request; retry to get its result",
                    r.key
                ),
                json!({"idempotency_key": r.key}),
            ));
        }
        Ok(())
    }
}

/// The query behind `sessions`, without its lock clause.
fn sessions_sql(q: &SessionQuery) -> (String, Params) {
    let mut p = Params::default();
    let mut w = Where::default();
    if let Some(v) = &q.project {
        w.and(format!("project = {}", p.push(v.clone())));
    }
    if let Some(v) = &q.agent {
        w.and(format!("agent = {}", p.push(v.clone())));
    }
    if !q.statuses.is_empty() {
        w.and(one_of("status", q.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(t) = q.last_seen_before {
        w.and(format!("last_seen < {}", p.push(t.micros())));
    }
    if let Some(v) = &q.exclude_id {
        w.and(format!("id <> {}", p.push(v.clone())));
    }
    let mut sql = format!(
        "SELECT {SESSION_COLS} FROM sessions{} ORDER BY updated_at DESC, id DESC",
        w.sql()
    );
    if let Some(l) = q.limit {
        sql.push_str(&format!(" LIMIT {}", p.push(i64::from(l))));
    }
    (sql, p)
}

/// The query behind `entries`.
fn entries_sql(q: &EntryQuery) -> (String, Params) {
    let mut p = Params::default();
    let mut w = Where::default();
    let join = q.project.is_some() || !q.session_statuses.is_empty();
    if let Some(v) = &q.session_id {
        w.and(format!("e.session_id = {}", p.push(v.clone())));
    }
    if let Some(v) = &q.project {
        w.and(format!("s.project = {}", p.push(v.clone())));
    }
    if !q.session_statuses.is_empty() {
        w.and(one_of("s.status", q.session_statuses.iter().map(|s| s.as_str())));
    }
    if !q.kinds.is_empty() {
        let kinds: Vec<String> = q.kinds.iter().map(|k| k.as_str().to_string()).collect();
        w.and(format!("e.kind = ANY({})", p.push(kinds)));
    }
    let from = if join {
        "journal_entries e JOIN sessions s ON s.id = e.session_id"
    } else {
        "journal_entries e"
    };
    let mut sql = format!(
        "SELECT {ENTRY_COLS} FROM {from}{} ORDER BY e.created_at DESC, e.id DESC",
        w.sql()
    );
    if let Some(l) = q.limit {
        sql.push_str(&format!(" LIMIT {}", p.push(i64::from(l))));
    }
    (sql, p)
}

/// `column IN ('a', 'b')` over the model's own state names, spelled out rather than passed as a parameter: the
/// indexes of open claims and sessions are partial, and the planner uses one only for a query that names its
/// states (a prepared statement's generic plan cannot see into a parameter).
fn one_of(column: &str, names: impl Iterator<Item = &'static str>) -> String {
    let quoted: Vec<String> = names
        .map(|n| {
            debug_assert!(n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            format!("'{n}'")
        })
        .collect();
    format!("{column} IN ({})", quoted.join(", "))
}

/// The newest grant of an item (`$1`..`$4`: project, type, repo, id), or of one session's (`$5`).
fn claim_sql(lock_clause: &str, of_session: bool) -> String {
    let session = if of_session { " AND session_id = $5" } else { "" };
    format!(
        "SELECT {CLAIM_COLS} FROM claims WHERE project = $1 AND item_type = $2 AND repo = $3 AND item_id = $4{session}
         ORDER BY token DESC LIMIT 1{lock_clause}"
    )
}

/// The WHERE clause shared by `events` and `count_events`; nothing past the horizon, when there is one.
fn event_filter(q: &EventQuery, horizon: Option<i64>, p: &mut Params) -> Where {
    let mut w = Where::default();
    if let Some(v) = &q.project {
        w.and(format!("project = {}", p.push(v.clone())));
    }
    w.and(format!("seq > {}", p.push(q.after_seq)));
    if let Some(h) = horizon {
        w.and(format!("seq <= {}", p.push(h)));
    }
    if let Some(v) = &q.agent {
        w.and(format!("agent = {}", p.push(v.clone())));
    }
    if let Some(k) = &q.kind {
        if k.contains('.') {
            w.and(format!("kind = {}", p.push(k.clone())));
        } else {
            // A family: `claim` matches `claim` and `claim.*`.
            let exact = p.push(k.clone());
            let family = p.push(like_prefix(&format!("{k}.")));
            w.and(format!("(kind = {exact} OR kind LIKE {family})"));
        }
    }
    if !q.exclude_kinds.is_empty() {
        w.and(format!("kind <> ALL({})", p.push(q.exclude_kinds.clone())));
    }
    if let Some(v) = &q.exclude_session {
        w.and(format!("session_id IS DISTINCT FROM {}", p.push(v.clone())));
    }
    w
}

fn col<'r, T: FromSql<'r>>(row: &'r Row, idx: usize) -> Result<T> {
    row.try_get(idx).map_err(|e| {
        let name = row.columns().get(idx).map(|c| c.name()).unwrap_or("?");
        pg_error(&format!("read column {name}"), &e)
    })
}

fn parse_col<T: FromStr<Err = Error>>(row: &Row, idx: usize) -> Result<T> {
    let text: String = col(row, idx)?;
    text.parse()
        .map_err(|e: Error| Error::internal(format!("PostgreSQL: stored value is unreadable: {e}")))
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

fn encode_error(e: serde_json::Error) -> Error {
    Error::internal(format!("cannot encode JSON: {e}"))
}

fn session_from_row(row: &Row) -> Result<Session> {
    Ok(Session {
        id: col(row, 0)?,
        project: col(row, 1)?,
        agent: col(row, 2)?,
        name: col(row, 3)?,
        role: col(row, 4)?,
        context: col(row, 5)?,
        task_ids: json_col(row, 6, |t| serde_json::from_str::<Vec<String>>(t))?.unwrap_or_default(),
        status: parse_col(row, 7)?,
        stale: false,
        git_branch: col(row, 8)?,
        git_commit: col(row, 9)?,
        worktree: col(row, 10)?,
        created_at: Timestamp(col(row, 11)?),
        updated_at: Timestamp(col(row, 12)?),
        last_seen: Timestamp(col(row, 13)?),
        ended_at: col::<Option<i64>>(row, 14)?.map(Timestamp),
        compaction_count: col(row, 15)?,
        summary: col(row, 16)?,
        handoff: json_col(row, 17, |t| serde_json::from_str::<Handoff>(t))?,
    })
}

fn claim_from_row(row: &Row) -> Result<Claim> {
    let release_status: Option<String> = col(row, 14)?;
    Ok(Claim {
        id: col(row, 0)?,
        project: col(row, 1)?,
        item_type: col(row, 2)?,
        repo: col(row, 3)?,
        item_id: col(row, 4)?,
        token: col(row, 5)?,
        session_id: col(row, 6)?,
        agent: col(row, 7)?,
        state: parse_col(row, 8)?,
        ttl_secs: col(row, 9)?,
        granted_at: Timestamp(col(row, 10)?),
        renewed_at: Timestamp(col(row, 11)?),
        expires_at: Timestamp(col(row, 12)?),
        ended_at: col::<Option<i64>>(row, 13)?.map(Timestamp),
        release_status: release_status
            .map(|s| {
                s.parse()
                    .map_err(|e: Error| Error::internal(format!("PostgreSQL: stored value is unreadable: {e}")))
            })
            .transpose()?,
        notes: col(row, 15)?,
        loss_reported: col(row, 16)?,
        forced_by: col(row, 17)?,
    })
}

fn entry_from_row(row: &Row) -> Result<JournalEntry> {
    Ok(JournalEntry {
        id: col(row, 0)?,
        session_id: col(row, 1)?,
        kind: parse_col(row, 2)?,
        text: col(row, 3)?,
        rationale: col(row, 4)?,
        created_at: Timestamp(col(row, 5)?),
    })
}

fn event_from_row(row: &Row) -> Result<Event> {
    Ok(Event {
        seq: col(row, 0)?,
        time: Timestamp(col(row, 1)?),
        project: col(row, 2)?,
        agent: col(row, 3)?,
        session_id: col(row, 4)?,
        kind: col(row, 5)?,
        target: col(row, 6)?,
        data: json_col(row, 7, |t| serde_json::from_str::<serde_json::Value>(t))?.unwrap_or(serde_json::Value::Null),
    })
}

#[cfg(test)]
mod tests {
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
                "('acme', '{blocker}', 11)".to_string(),
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
