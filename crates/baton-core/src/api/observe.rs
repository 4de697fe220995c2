//! The after-commit seam: what a write transaction committed, handed to whoever registered to hear it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use serde_json::Value;

use super::{Baton, Caller};
use crate::error::Result;
use crate::model::{
    Address, Claim, Delivery, Dependency, EntryId, IdempotencyRecord, Interface, ItemKey, JournalEntry, Message,
    NewEvent, Request, Session,
};
use crate::store::{
    self, ClaimQuery, ClaimTx, DecisionQuery, DecisionRow, DecisionTx, DeliveryQuery, DocumentTx, EntryQuery,
    EnumColumn, EventQuery, EventTx, IdempotencyTx, IntegrityTx, JournalTx, MessageQuery, MessageTx, RequestQuery,
    RequestTx, SearchHit, SearchQuery, SearchTx, SessionQuery, SessionTx, Tx,
};
use crate::store::{DependencyQuery, InterfaceQuery, InterfaceTx};
use crate::time::Timestamp;

/// Acts on what a write transaction committed, once the commit is durable.
///
/// [`Baton`] calls every registered observer once after each of its write transactions commits, in the
/// order they were registered, with the events that transaction appended: never for a transaction that
/// rolled back or failed to commit, and once however many times the store ran the transaction (only the
/// attempt that committed counts). The call comes after the store's locks are released, on the caller's
/// thread, before the operation returns; observers may read and write through `baton` (a write there is
/// observed in turn).
///
/// An observer cannot fail the call it follows: its error, or its panic, becomes a warning
/// ([`Baton::warn`]). Writes made on the store directly ([`Baton::store`]) are not observed.
///
/// This is the one place to react to changes: session documents follow them (`baton_docs::Follower`); a
/// team server's live event stream, notifications of messages and the advancing of workflows belong here too.
pub trait CommitObserver: Send + Sync {
    /// Reacts to one committed transaction.
    fn committed(&self, baton: &Baton, commit: &Commit<'_>) -> Result<()>;
}

/// What one write transaction committed.
///
/// Events carry no `seq`: PostgreSQL numbers them inside its COMMIT and the stores do not read the numbers
/// back. An observer that needs them (to resume a stream) pages [`Baton::changes`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Commit<'a> {
    /// Who made the call; `None` for operations without one (a sweep of every project).
    pub caller: Option<&'a Caller>,
    /// The events the transaction appended, in the order of their `seq`; empty when it appended none.
    pub events: &'a [NewEvent],
}

impl<'a> Commit<'a> {
    /// A commit of `events` by `caller` (for observers' own tests; [`Baton`] makes the real ones).
    pub fn new(caller: Option<&'a Caller>, events: &'a [NewEvent]) -> Commit<'a> {
        Commit { caller, events }
    }
}

/// Where problems that do not fail a call go (an observer's error). By default, `warning: ...` on stderr.
pub type Warn = Arc<dyn Fn(&str) + Send + Sync>;

/// The observers registered on a [`Baton`] and where their problems go.
pub(super) struct Observers {
    list: Vec<Arc<dyn CommitObserver>>,
    warn: Warn,
}

impl Default for Observers {
    fn default() -> Self {
        Observers {
            list: Vec::new(),
            warn: Arc::new(|message: &str| eprintln!("warning: {message}")),
        }
    }
}

impl Baton {
    /// Registers `observer` to hear of every write transaction this `Baton` commits from now on.
    pub fn observe(&mut self, observer: Arc<dyn CommitObserver>) {
        self.observers.list.push(observer);
    }

    /// Sends warnings (an observer's problems) to `warn` instead of stderr.
    pub fn on_warning(&mut self, warn: Warn) {
        self.observers.warn = warn;
    }

    /// Reports a problem that does not fail the call.
    pub fn warn(&self, message: &str) {
        (self.observers.warn)(message);
    }

    /// Runs `f` in a write transaction and returns its value; once it committed, tells the observers what
    /// it appended. Without observers it is the store's write and nothing more.
    pub(crate) fn write<T>(&self, caller: Option<&Caller>, mut f: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T> {
        if self.observers.list.is_empty() {
            return store::write(self.store(), f);
        }
        let mut events = Vec::new();
        let out = store::write(self.store(), |tx| {
            // A store that runs the closure again (a lost race) starts it over: only the last attempt commits.
            events.clear();
            f(&mut Recording {
                tx,
                events: &mut events,
            })
        })?;
        let commit = Commit {
            caller,
            events: &events,
        };
        for observer in &self.observers.list {
            match catch_unwind(AssertUnwindSafe(|| observer.committed(self, &commit))) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => self.warn(&e.to_string()),
                Err(_) => self.warn("the command succeeded, but an observer of its changes stopped unexpectedly"),
            }
        }
        Ok(out)
    }
}

/// A transaction that keeps a copy of each event appended through it.
struct Recording<'a> {
    tx: &'a mut dyn Tx,
    events: &'a mut Vec<NewEvent>,
}

impl EventTx for Recording<'_> {
    fn append_event(&mut self, event: &NewEvent) -> Result<()> {
        self.tx.append_event(event)?;
        self.events.push(event.clone());
        Ok(())
    }
    fn events(&mut self, query: &EventQuery) -> Result<Vec<crate::model::Event>> {
        self.tx.events(query)
    }
    fn count_events(&mut self, query: &EventQuery, cap: u32) -> Result<u64> {
        self.tx.count_events(query, cap)
    }
    fn first_seq_since(&mut self, project: &str, time: Timestamp) -> Result<Option<i64>> {
        self.tx.first_seq_since(project, time)
    }
    fn last_seq(&mut self) -> Result<i64> {
        self.tx.last_seq()
    }
}

impl ClaimTx for Recording<'_> {
    fn lock_item(&mut self, key: &ItemKey) -> Result<()> {
        self.tx.lock_item(key)
    }
    fn latest_claim(&mut self, key: &ItemKey) -> Result<Option<Claim>> {
        self.tx.latest_claim(key)
    }
    fn session_claim_on(&mut self, key: &ItemKey, session_id: &str) -> Result<Option<Claim>> {
        self.tx.session_claim_on(key, session_id)
    }
    fn insert_claim(&mut self, claim: &Claim) -> Result<()> {
        self.tx.insert_claim(claim)
    }
    fn update_claim(&mut self, claim: &Claim) -> Result<()> {
        self.tx.update_claim(claim)
    }
    fn claims(&mut self, query: &ClaimQuery) -> Result<Vec<Claim>> {
        self.tx.claims(query)
    }
}

impl SessionTx for Recording<'_> {
    fn insert_session(&mut self, session: &Session) -> Result<()> {
        self.tx.insert_session(session)
    }
    fn update_session(&mut self, session: &Session) -> Result<()> {
        self.tx.update_session(session)
    }
    fn session(&mut self, id: &str) -> Result<Option<Session>> {
        self.tx.session(id)
    }
    fn sessions(&mut self, query: &SessionQuery) -> Result<Vec<Session>> {
        self.tx.sessions(query)
    }
    fn project_keys(&mut self, key: &str, before: bool, limit: u32) -> Result<Vec<String>> {
        self.tx.project_keys(key, before, limit)
    }
}

impl DocumentTx for Recording<'_> {
    fn put_session_document(&mut self, session_id: &str, document: &Value) -> Result<()> {
        self.tx.put_session_document(session_id, document)
    }
    fn session_document(&mut self, session_id: &str) -> Result<Option<Value>> {
        self.tx.session_document(session_id)
    }
}

impl JournalTx for Recording<'_> {
    fn insert_entry(&mut self, entry: &JournalEntry) -> Result<()> {
        self.tx.insert_entry(entry)
    }
    fn entries(&mut self, query: &EntryQuery) -> Result<Vec<JournalEntry>> {
        self.tx.entries(query)
    }
}

impl DecisionTx for Recording<'_> {
    fn entry_with_project(&mut self, id: &str) -> Result<Option<(JournalEntry, String)>> {
        self.tx.entry_with_project(id)
    }
    fn superseded_by(&mut self, id: &str) -> Result<Option<EntryId>> {
        self.tx.superseded_by(id)
    }
    fn decisions(&mut self, query: &DecisionQuery) -> Result<Vec<DecisionRow>> {
        self.tx.decisions(query)
    }
}

impl SearchTx for Recording<'_> {
    fn search(&mut self, query: &SearchQuery) -> Result<Vec<SearchHit>> {
        self.tx.search(query)
    }
}

impl IdempotencyTx for Recording<'_> {
    fn idempotency(&mut self, project: &str, scope: &str, key: &str) -> Result<Option<IdempotencyRecord>> {
        self.tx.idempotency(project, scope, key)
    }
    fn put_idempotency(&mut self, record: &IdempotencyRecord) -> Result<()> {
        self.tx.put_idempotency(record)
    }
}

impl IntegrityTx for Recording<'_> {
    fn unknown_values(&mut self, column: EnumColumn, limit: u32) -> Result<Vec<String>> {
        self.tx.unknown_values(column, limit)
    }
}

impl MessageTx for Recording<'_> {
    fn insert_message(&mut self, message: &Message) -> Result<()> {
        self.tx.insert_message(message)
    }
    fn message(&mut self, id: &str) -> Result<Option<Message>> {
        self.tx.message(id)
    }
    fn messages(&mut self, query: &MessageQuery) -> Result<Vec<Message>> {
        self.tx.messages(query)
    }
    fn close_message(&mut self, id: &str) -> Result<()> {
        self.tx.close_message(id)
    }
    fn lock_messages(&mut self, ids: &[String]) -> Result<()> {
        self.tx.lock_messages(ids)
    }
    fn deliver(&mut self, message_id: &str, recipient: &Address) -> Result<()> {
        self.tx.deliver(message_id, recipient)
    }
    fn deliveries(&mut self, query: &DeliveryQuery) -> Result<Vec<Delivery>> {
        self.tx.deliveries(query)
    }
    fn count_deliveries(&mut self, query: &DeliveryQuery, cap: u32) -> Result<u64> {
        self.tx.count_deliveries(query, cap)
    }
    fn update_delivery(&mut self, delivery: &Delivery) -> Result<()> {
        self.tx.update_delivery(delivery)
    }
}

impl RequestTx for Recording<'_> {
    fn insert_request(&mut self, request: &Request) -> Result<()> {
        self.tx.insert_request(request)
    }
    fn request(&mut self, id: &str) -> Result<Option<Request>> {
        self.tx.request(id)
    }
    fn update_request(&mut self, request: &Request) -> Result<()> {
        self.tx.update_request(request)
    }
    fn requests(&mut self, query: &RequestQuery) -> Result<Vec<Request>> {
        self.tx.requests(query)
    }
}

impl InterfaceTx for Recording<'_> {
    fn insert_interface(&mut self, interface: &Interface) -> Result<()> {
        self.tx.insert_interface(interface)
    }
    fn update_interface(&mut self, interface: &Interface) -> Result<()> {
        self.tx.update_interface(interface)
    }
    fn interfaces(&mut self, query: &InterfaceQuery) -> Result<Vec<Interface>> {
        self.tx.interfaces(query)
    }
    fn insert_dependency(&mut self, dependency: &Dependency) -> Result<()> {
        self.tx.insert_dependency(dependency)
    }
    fn dependencies(&mut self, query: &DependencyQuery) -> Result<Vec<Dependency>> {
        self.tx.dependencies(query)
    }
}
