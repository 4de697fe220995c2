//! Messages, their deliveries to each recipient, and requests.

use crate::error::Result;
use crate::model::{Address, Delivery, Message, MessageId, Request, RequestStatus, SessionId};

/// Which messages to list. Results are oldest `created_at` first (newest first with `newest_first`), ties
/// by id. Filters combine.
#[derive(Debug, Clone, Default)]
pub struct MessageQuery {
    pub project: Option<String>,
    pub from_session: Option<SessionId>,
    pub thread: Option<MessageId>,
    /// Only messages still open to sessions that start (see [`Message::open`]).
    pub open_only: bool,
    pub newest_first: bool,
    pub limit: Option<u32>,
}

/// Which deliveries to list: those of any of `recipients` (or of `message_id`), in inbox order (`pos`
/// ascending). Filters combine.
#[derive(Debug, Clone, Default)]
pub struct DeliveryQuery {
    /// Inboxes, `session:ID` and `agent:NAME`; empty means any.
    pub recipients: Vec<Address>,
    pub message_id: Option<MessageId>,
    /// Only deliveries placed after this one (0 for all).
    pub after_pos: i64,
    pub unread_only: bool,
    pub unacked_only: bool,
    /// Only deliveries no hook told of yet and not read (see [`Delivery::notified_at`]).
    pub unnotified_only: bool,
    pub limit: Option<u32>,
    /// Only to know: in a write transaction, the deliveries read are not locked (a store that locks what a
    /// write transaction reads otherwise locks them until commit).
    pub unlocked: bool,
}

/// Messages and each recipient's copy of them. Part of [`super::Tx`].
///
/// A delivery is placed (its `pos`) when it is written, and a read transaction sees, up to the highest
/// place it sees, every delivery that will ever commit: a delivery that commits later takes a higher place,
/// so paging by `after_pos` never skips or repeats one. A transaction that writes deliveries appends an
/// event after them (the rules always do: a send, a session's start); a store may rely on that. Inside a
/// write transaction its own deliveries may stay unseen, like its events.
pub trait MessageTx {
    /// Records a message. A second message with its id is refused as [`crate::Error::Conflict`].
    fn insert_message(&mut self, message: &Message) -> Result<()>;
    fn message(&mut self, id: &str) -> Result<Option<Message>>;
    fn messages(&mut self, query: &MessageQuery) -> Result<Vec<Message>>;
    /// Marks a message no longer open to sessions that start; when no message has this id,
    /// [`crate::Error::NotFound`].
    fn close_message(&mut self, id: &str) -> Result<()>;
    /// Serialises acknowledgements of these messages for the rest of the transaction: their deliveries, read
    /// after this, show every acknowledgement committed before. The locks are taken in one order (by id)
    /// whatever the order given, so transactions that lock some of the same messages never wait for each other
    /// in a cycle; ids no message has are passed over. A store may take the locks as late as just before the
    /// transaction's next read (PostgreSQL sends them with it).
    fn lock_messages(&mut self, ids: &[String]) -> Result<()>;
    /// Gives `recipient` (`session:ID` or `agent:NAME`) its copy of a message, unread. A recipient that
    /// already has one keeps it as it is.
    fn deliver(&mut self, message_id: &str, recipient: &Address) -> Result<()>;
    fn deliveries(&mut self, query: &DeliveryQuery) -> Result<Vec<Delivery>>;
    /// How many deliveries `query` lists (ignoring its limit), counting at most `cap`.
    fn count_deliveries(&mut self, query: &DeliveryQuery, cap: u32) -> Result<u64>;
    /// Overwrites what the recipient did with its copy (`read_at`, `acked_at`, `notified_at`) of the delivery
    /// of this message to this recipient; when there is none, [`crate::Error::NotFound`].
    fn update_delivery(&mut self, delivery: &Delivery) -> Result<()>;
}

/// Which requests to list. Results are oldest `created_at` first, ties by id. Filters combine.
#[derive(Debug, Clone, Default)]
pub struct RequestQuery {
    pub project: Option<String>,
    pub from_session: Option<SessionId>,
    /// Requests addressed to any of these; empty means any.
    pub to: Vec<Address>,
    /// Empty means any status.
    pub statuses: Vec<RequestStatus>,
    pub limit: Option<u32>,
}

/// Requests between sessions. Part of [`super::Tx`].
pub trait RequestTx {
    /// Records a request. A second request with its id is refused as [`crate::Error::Conflict`].
    fn insert_request(&mut self, request: &Request) -> Result<()>;
    fn request(&mut self, id: &str) -> Result<Option<Request>>;
    /// Overwrites the answer (status, response, `answered_by`, `updated_at`) of the request with this id; when
    /// there is none, [`crate::Error::NotFound`].
    fn update_request(&mut self, request: &Request) -> Result<()>;
    fn requests(&mut self, query: &RequestQuery) -> Result<Vec<Request>>;
}
