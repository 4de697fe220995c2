//! The value every rule runs over: one operation's transaction, its caller and its time.

use serde_json::Value;

use super::{Baton, Caller};
use crate::error::Result;
use crate::model::{EventKind, NewEvent, Session};
use crate::store::Tx;
use crate::time::Timestamp;

/// One operation under way: the transaction it runs in, who called, and the time its rules go by.
///
/// An operation builds it inside its transaction, where it takes its time: [`Op::new`] reads the clock, so an
/// operation that first waits for locks (an item, a session) builds it after them, and the time spent waiting
/// never counts against a lease. A read takes its time before its transaction and builds it with [`Op::at`].
/// Each concept's rules are methods on `Op` in the concept's module.
pub(crate) struct Op<'a> {
    pub(crate) baton: &'a Baton,
    pub(crate) tx: &'a mut dyn Tx,
    pub(crate) caller: &'a Caller,
    /// The time the rules go by: what they write as now, and what leases and staleness are measured against.
    pub(crate) now: Timestamp,
}

impl<'a> Op<'a> {
    /// An operation taking its time now (the clock is read here).
    pub(crate) fn new(baton: &'a Baton, tx: &'a mut dyn Tx, caller: &'a Caller) -> Op<'a> {
        let now = baton.now();
        Op::at(baton, tx, caller, now)
    }

    /// An operation at a time already taken.
    pub(crate) fn at(baton: &'a Baton, tx: &'a mut dyn Tx, caller: &'a Caller, now: Timestamp) -> Op<'a> {
        Op { baton, tx, caller, now }
    }

    /// Appends an event of session `s`, at the operation's time.
    pub(crate) fn event(&mut self, s: &Session, kind: EventKind, target: String, data: Value) -> Result<()> {
        self.tx.append_event(&NewEvent {
            time: self.now,
            project: s.project.clone(),
            agent: s.agent.clone(),
            session_id: Some(s.id.clone()),
            kind: kind.as_str(),
            target,
            data,
        })
    }
}
