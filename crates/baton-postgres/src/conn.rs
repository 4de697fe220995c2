//! One connection, driven synchronously, that sends several statements per round trip.
//!
//! The store's API is plain functions, so the connection runs on a single-threaded runtime of its own,
//! driven by whichever thread has the connection, and every call blocks until its answer is in. What makes it faster than a plain
//! synchronous client is the queue: statements whose answers nothing waits for (`BEGIN`, an advisory
//! lock, an insert whose row count is checked later, `COMMIT`) are held back and sent together with the
//! next statement whose rows are needed. The server runs them in order, exactly as if each had been sent
//! alone; only the waiting in between is gone. A claim or a release takes two round trips instead of
//! seven.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_core::{Error, Result};
use futures_util::future::{join, join_all};
use tokio::runtime::Runtime;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, NoTls, Row, SimpleQueryMessage, Statement};

use crate::pg_error;
use tokio_postgres::error::SqlState;

/// Queued statements are sent once this many are waiting, so a long transaction never builds up an
/// unbounded pipeline.
const MAX_QUEUED: usize = 16;

/// What to make of a queued statement's outcome: `Ok` when it is as expected, otherwise the error to
/// report. Runs when the answer arrives, in the order the statements were queued.
pub(crate) type Check = Box<dyn FnOnce(std::result::Result<u64, tokio_postgres::Error>) -> Result<()> + Send>;

/// A statement waiting to be sent.
enum Queued {
    /// A statement without parameters or rows, sent as a simple query (`BEGIN`, `COMMIT`).
    Simple { what: &'static str, sql: String },
    /// A prepared statement whose row count is checked when its answer arrives.
    Execute {
        stmt: Statement,
        params: Vec<Box<dyn ToSql + Sync + Send>>,
        check: Check,
    },
    /// A prepared query sent ahead of need: its rows are kept under `tag` until taken.
    Fetch {
        what: &'static str,
        stmt: Statement,
        params: Vec<Box<dyn ToSql + Sync + Send>>,
        tag: u64,
    },
}

/// A queued statement's answer.
enum Answer {
    Count(u64),
    Rows(Vec<Row>),
}

/// Why a statement failed, as far as what to do next depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// Anything else: the error stands.
    Other,
    /// A serialization failure or a deadlock: the transaction was rolled back, and running it again may win.
    LostRace,
    /// A lock stayed held by someone else past `lock_timeout`.
    LockTimeout,
    /// A statement ran past `statement_timeout`.
    StatementTimeout,
    /// The connection is gone, for a reason the client cannot see.
    ConnectionLost,
    /// The server ended the connection because its transaction sat idle past the idle timeout: that
    /// transaction was certainly rolled back, COMMIT included.
    IdleTimeout,
}

impl Cause {
    pub(crate) fn of(e: &tokio_postgres::Error) -> Cause {
        match e.code() {
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED => {
                Cause::LostRace
            }
            Some(c) if *c == SqlState::LOCK_NOT_AVAILABLE => Cause::LockTimeout,
            Some(c) if *c == SqlState::QUERY_CANCELED => Cause::StatementTimeout,
            Some(c) if *c == SqlState::IDLE_IN_TRANSACTION_SESSION_TIMEOUT => Cause::IdleTimeout,
            // The server ended the connection (an administrator, a shutdown): what it answered with this did not run.
            Some(c) if *c == SqlState::ADMIN_SHUTDOWN || *c == SqlState::CRASH_SHUTDOWN => Cause::ConnectionLost,
            Some(_) => Cause::Other,
            None if e.is_closed() => Cause::ConnectionLost,
            None => Cause::Other,
        }
    }
}

/// A statement run outside the queue failed: the driver's error, or no answer within the answer timeout.
#[derive(Debug)]
pub(crate) enum SqlError {
    Pg(tokio_postgres::Error),
    NoAnswer(Duration),
}

impl From<tokio_postgres::Error> for SqlError {
    fn from(e: tokio_postgres::Error) -> SqlError {
        SqlError::Pg(e)
    }
}

impl crate::Described for SqlError {
    fn described(&self) -> String {
        match self {
            SqlError::Pg(e) => e.described(),
            SqlError::NoAnswer(d) => format!(
                "no answer within {}; the server, or the network to it, is down or overloaded",
                baton_core::time::human_wait(*d)
            ),
        }
    }
}

/// A failed statement: the error to report, and why it failed.
pub(crate) struct Failure {
    pub(crate) error: Error,
    pub(crate) cause: Cause,
}

impl Failure {
    pub(crate) fn new(what: &str, e: &tokio_postgres::Error) -> Failure {
        Failure {
            error: pg_error(what, e),
            cause: Cause::of(e),
        }
    }
}

pub(crate) struct Conn {
    rt: Runtime,
    client: Client,
    /// Statements prepared on this connection, by their SQL text.
    stmts: HashMap<String, Statement>,
    queue: Vec<Queued>,
    /// Statements to send right after the next one that waits for an answer, in the same round trip.
    trailing: Vec<Queued>,
    /// Rows of queries sent ahead of need, by tag, until taken.
    fetched: HashMap<u64, Vec<Row>>,
    next_tag: u64,
    in_transaction: bool,
    /// How many times statements were sent: tells a transaction whether any of it reached the server.
    round_trips: u64,
    /// Why the connection ended, once it has.
    ended: Arc<Mutex<Option<Cause>>>,
    /// The longest this client waits for an answer, whatever the server's own timeouts say: a server that
    /// vanished (a network partition) sends nothing at all.
    answer_timeout: Duration,
    /// No answer came in time: the connection's state is unknown and it must be replaced.
    broken: bool,
}

impl Conn {
    /// Connects; the error is the driver's, for the caller to word.
    pub(crate) fn connect(config: &Config, answer_timeout: Duration) -> std::result::Result<Conn, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the connection's runtime: {e}"))?;
        // The connect timeout covers the TCP connect only; the startup and authentication exchange that
        // follows is bounded here.
        let (client, connection) = bounded(&rt, answer_timeout, config.connect(NoTls))
            .map_err(|_| {
                format!(
                    "no answer within {} while connecting",
                    baton_core::time::human_wait(answer_timeout)
                )
            })?
            .map_err(|e| crate::describe(&e))?;
        // The connection runs whenever this thread waits for an answer (every call below does). The error it
        // ends with (the server's reason for closing it, if it gave one) is kept: it tells whether an open
        // transaction was rolled back.
        let ended = Arc::new(Mutex::new(None));
        let slot = Arc::clone(&ended);
        rt.spawn(async move {
            if let Err(e) = connection.await {
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(Cause::of(&e));
            }
        });
        Ok(Conn {
            rt,
            client,
            stmts: HashMap::new(),
            queue: Vec::new(),
            trailing: Vec::new(),
            fetched: HashMap::new(),
            next_tag: 0,
            round_trips: 0,
            in_transaction: false,
            ended,
            answer_timeout,
            broken: false,
        })
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.broken || self.client.is_closed()
    }

    /// Lets the connection read what the server sent while nothing waited for it, without waiting for
    /// anything: a server that ended the connection meanwhile (an administrator, a restart, an idle
    /// timeout) said so, and [`Conn::is_closed`] then tells before a transaction is tried on it.
    pub(crate) fn catch_up(&mut self) {
        if self.is_closed() {
            return;
        }
        // The first yield lets the runtime see which sockets became readable, the second lets the
        // connection's task read them.
        self.rt.block_on(async {
            for _ in 0..2 {
                tokio::task::yield_now().await;
            }
        });
    }

    /// A failure's cause, made precise by why the connection ended when the client saw only that it did.
    pub(crate) fn cause(&self, cause: Cause) -> Cause {
        if cause != Cause::ConnectionLost {
            return cause;
        }
        match *self.ended.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(Cause::IdleTimeout) => Cause::IdleTimeout,
            _ => Cause::ConnectionLost,
        }
    }

    /// Marks a transaction open (begun) or ended (committed or rolled back).
    pub(crate) fn set_in_transaction(&mut self, open: bool) {
        self.in_transaction = open;
    }

    /// Ends a transaction that was left open (its caller panicked), keeping nothing of it.
    pub(crate) fn abandon_transaction(&mut self) {
        if self.in_transaction {
            self.discard_queue();
            let _ = self.rt.block_on(self.client.batch_execute("ROLLBACK"));
            self.in_transaction = false;
        }
    }

    /// Replaces the answer timeout (migrations may run long), returning the one it replaces.
    pub(crate) fn set_answer_timeout(&mut self, within: Duration) -> Duration {
        std::mem::replace(&mut self.answer_timeout, within)
    }

    pub(crate) fn round_trips(&self) -> u64 {
        self.round_trips
    }

    /// The statement for `sql`, prepared once per connection.
    pub(crate) fn statement(&mut self, what: &str, sql: &str) -> std::result::Result<Statement, Failure> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let within = self.answer_timeout;
        let answer = bounded(&self.rt, within, self.client.prepare(sql));
        let stmt = self.answered(what, answer)?.map_err(|e| Failure::new(what, &e))?;
        self.stmts.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    /// Queues a statement without parameters, such as `BEGIN`.
    pub(crate) fn queue_simple(
        &mut self,
        what: &'static str,
        sql: impl Into<String>,
    ) -> std::result::Result<(), Failure> {
        self.queue.push(Queued::Simple { what, sql: sql.into() });
        self.flush_if_full()
    }

    /// Queues `COMMIT` behind what waits, never sending it on its own account: the flush that sends it is the
    /// transaction's last, whose failure alone may leave the outcome unknown (one over `MAX_QUEUED` keeps the
    /// queue in order, see `send_all`).
    pub(crate) fn queue_commit(&mut self) {
        self.queue.push(Queued::Simple {
            what: "commit",
            sql: "COMMIT".to_string(),
        });
    }

    /// Queues a prepared statement; `check` judges its row count when the answer arrives.
    pub(crate) fn queue_execute(
        &mut self,
        stmt: Statement,
        params: Vec<Box<dyn ToSql + Sync + Send>>,
        check: Check,
    ) -> std::result::Result<(), Failure> {
        self.queue.push(Queued::Execute { stmt, params, check });
        self.flush_if_full()
    }

    /// Queues `stmt` to go out right after the next statement that waits for an answer (or with the queue,
    /// if it is sent first), keeping its rows under the returned tag for [`Conn::take_fetched`].
    /// With `after` queued the same way just before it.
    pub(crate) fn fetch_after_next(
        &mut self,
        after: (Statement, Vec<Box<dyn ToSql + Sync + Send>>, Check),
        what: &'static str,
        stmt: Statement,
        params: Vec<Box<dyn ToSql + Sync + Send>>,
    ) -> u64 {
        self.next_tag += 1;
        let tag = self.next_tag;
        let (a_stmt, a_params, check) = after;
        self.trailing.push(Queued::Execute {
            stmt: a_stmt,
            params: a_params,
            check,
        });
        self.trailing.push(Queued::Fetch {
            what,
            stmt,
            params,
            tag,
        });
        tag
    }

    /// The rows of a query queued with [`Conn::fetch_after_next`], sending what waits first if they are not
    /// in yet. `None` once taken.
    pub(crate) fn take_fetched(&mut self, tag: u64) -> std::result::Result<Option<Vec<Row>>, Failure> {
        if !self.fetched.contains_key(&tag) {
            self.flush()?;
        }
        Ok(self.fetched.remove(&tag))
    }

    fn flush_if_full(&mut self) -> std::result::Result<(), Failure> {
        if self.queue.len() >= MAX_QUEUED {
            self.flush()?;
        }
        Ok(())
    }

    /// Sends every queued statement and waits for their answers.
    pub(crate) fn flush(&mut self) -> std::result::Result<(), Failure> {
        self.queue.append(&mut self.trailing);
        if self.queue.is_empty() {
            return Ok(());
        }
        let queue = std::mem::take(&mut self.queue);
        self.round_trips += 1;
        let within = self.answer_timeout;
        let outcomes = bounded(&self.rt, within, send_all(&self.client, &queue));
        let outcomes = self.answered("send statements", outcomes)?;
        settle(&mut self.fetched, queue, outcomes)
    }

    /// Sends the queued statements and then `stmt`, in one round trip; returns `stmt`'s rows.
    pub(crate) fn query(
        &mut self,
        what: &str,
        stmt: &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<Vec<Row>, Failure> {
        self.send_with(what, async |client| client.query(stmt, params).await)
    }

    /// Sends the queued statements and then `stmt`, in one round trip; returns `stmt`'s row count.
    pub(crate) fn execute(
        &mut self,
        what: &str,
        stmt: &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<u64, Failure> {
        self.send_with(what, async |client| client.execute(stmt, params).await)
    }

    /// Sends the queued statements and then `sql` as a simple query (several statements may be separated
    /// by semicolons), in one round trip.
    pub(crate) fn simple_query(
        &mut self,
        what: &str,
        sql: &str,
    ) -> std::result::Result<Vec<SimpleQueryMessage>, Failure> {
        self.send_with(what, async |client| client.simple_query(sql).await)
    }

    /// Sends the queued statements and then the one `last` sends, in one round trip; returns `last`'s answer.
    fn send_with<T>(
        &mut self,
        what: &str,
        last: impl AsyncFnOnce(&Client) -> std::result::Result<T, tokio_postgres::Error>,
    ) -> std::result::Result<T, Failure> {
        let queue = std::mem::take(&mut self.queue);
        let trailing = std::mem::take(&mut self.trailing);
        self.round_trips += 1;
        let client = &self.client;
        let answers = bounded(
            &self.rt,
            self.answer_timeout,
            join(
                send_all(client, &queue),
                join(last(client), send_all(client, &trailing)),
            ),
        );
        let (answers, (answer, trailing_answers)) = self.answered(what, answers)?;
        settle(&mut self.fetched, queue, answers)?;
        let answer = answer.map_err(|e| Failure::new(what, &e))?;
        settle(&mut self.fetched, trailing, trailing_answers)?;
        Ok(answer)
    }

    /// The answer, or a failure when none came within `answer_timeout`: then what the connection was in the
    /// middle of is unknown, so it is not used again.
    fn answered<T>(
        &mut self,
        what: &str,
        answer: std::result::Result<T, tokio::time::error::Elapsed>,
    ) -> std::result::Result<T, Failure> {
        answer.map_err(|_| {
            self.broken = true;
            Failure {
                error: Error::internal(format!(
                    "PostgreSQL: cannot {what}: no answer within {}; the server, or the network to it, is down or overloaded",
                    baton_core::time::human_wait(self.answer_timeout)
                )),
                cause: Cause::ConnectionLost,
            }
        })
    }

    /// Throws away what is queued, without sending it.
    pub(crate) fn discard_queue(&mut self) {
        self.queue.clear();
        self.trailing.clear();
        self.fetched.clear();
    }

    /// Runs one statement on its own, outside the queue (for migrations and checks, which need no pipeline).
    pub(crate) fn query_sql(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<Vec<Row>, SqlError> {
        debug_assert!(self.queue.is_empty());
        let answer = bounded(&self.rt, self.answer_timeout, self.client.query(sql, params));
        self.unqueued(answer)
    }

    /// Runs statements separated by semicolons, outside the queue.
    pub(crate) fn batch_sql(&mut self, sql: &str) -> std::result::Result<(), SqlError> {
        debug_assert!(self.queue.is_empty());
        let answer = bounded(&self.rt, self.answer_timeout, self.client.batch_execute(sql));
        self.unqueued(answer)
    }

    fn unqueued<T>(
        &mut self,
        answer: std::result::Result<std::result::Result<T, tokio_postgres::Error>, tokio::time::error::Elapsed>,
    ) -> std::result::Result<T, SqlError> {
        match answer {
            Ok(r) => r.map_err(SqlError::Pg),
            Err(_) => {
                self.broken = true;
                Err(SqlError::NoAnswer(self.answer_timeout))
            }
        }
    }
}

/// Runs `fut` on the connection's runtime for at most `within` (the timer is made inside the runtime,
/// which it needs).
fn bounded<T>(
    rt: &Runtime,
    within: Duration,
    fut: impl Future<Output = T>,
) -> std::result::Result<T, tokio::time::error::Elapsed> {
    rt.block_on(async move { tokio::time::timeout(within, fut).await })
}

type Pending<'a> = Pin<Box<dyn Future<Output = std::result::Result<Answer, tokio_postgres::Error>> + 'a>>;

/// Sends the statements, in order, and collects their answers.
///
/// A request goes out when its future is first polled; `join_all` over fewer than 30 futures polls them
/// in order, so the server receives them in queue order (`MAX_QUEUED` keeps the queue below that).
async fn send_all<'a>(
    client: &'a Client,
    queue: &'a [Queued],
) -> Vec<std::result::Result<Answer, tokio_postgres::Error>> {
    fn refs(params: &[Box<dyn ToSql + Sync + Send>]) -> Vec<&(dyn ToSql + Sync)> {
        params.iter().map(|p| &**p as &(dyn ToSql + Sync)).collect()
    }
    let pending: Vec<Pending<'a>> = queue
        .iter()
        .map(|q| -> Pending<'a> {
            match q {
                Queued::Simple { sql, .. } => {
                    Box::pin(async move { client.batch_execute(sql).await.map(|()| Answer::Count(0)) })
                }
                Queued::Execute { stmt, params, .. } => {
                    let params = refs(params);
                    Box::pin(async move { client.execute(stmt, &params).await.map(Answer::Count) })
                }
                Queued::Fetch { stmt, params, .. } => {
                    let params = refs(params);
                    Box::pin(async move { client.query(stmt, &params).await.map(Answer::Rows) })
                }
            }
        })
        .collect();
    join_all(pending).await
}

/// Judges the answers in queue order and keeps fetched rows; the first failure is the one reported.
/// (After a failed statement the server refuses the rest of the transaction, so later failures only echo
/// the first.)
fn settle(
    fetched: &mut HashMap<u64, Vec<Row>>,
    queue: Vec<Queued>,
    answers: Vec<std::result::Result<Answer, tokio_postgres::Error>>,
) -> std::result::Result<(), Failure> {
    let mut first: Option<Failure> = None;
    for (q, answer) in queue.into_iter().zip(answers) {
        let failure = match (q, answer) {
            (Queued::Simple { what, .. } | Queued::Fetch { what, .. }, Err(e)) => Some(Failure::new(what, &e)),
            (Queued::Fetch { tag, .. }, Ok(Answer::Rows(rows))) => {
                fetched.insert(tag, rows);
                None
            }
            (Queued::Simple { .. } | Queued::Fetch { .. }, Ok(_)) => None,
            (Queued::Execute { check, .. }, answer) => {
                let cause = answer.as_ref().err().map_or(Cause::Other, Cause::of);
                let count = answer.map(|a| match a {
                    Answer::Count(n) => n,
                    Answer::Rows(rows) => rows.len() as u64,
                });
                check(count).err().map(|error| Failure { error, cause })
            }
        };
        if first.is_none() {
            first = failure;
        }
    }
    first.map_or(Ok(()), Err)
}
