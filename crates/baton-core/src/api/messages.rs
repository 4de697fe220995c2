//! Messages between sessions and requests: addressing, delivery to each recipient's inbox, read and ack
//! state, threads, and requests with their answers.
//!
//! A message reaches inboxes, each a `session:ID` or an `agent:NAME` (whichever of the agent's sessions
//! reads it first reads it for the agent). A message to a role or to everyone is delivered to the open
//! sessions it fits when it is sent, and to each session that starts while it is open: until it expires,
//! or until every recipient it reached has acknowledged it. A request is announced by a message of type
//! `request`; its answer reaches the requester as a message of type `response` in the same thread.

use serde_json::json;

use super::idempotency::{Keyed, check_key};
use super::op::Op;
use super::{
    Acked, AnswerRequest, Baton, Caller, Inbox, InboxItem, InboxRequest, MAX_COUNTED, MakeRequest, RecipientState,
    RequestList, RequestMade, RequestsQuery, SendRequest, Sent, SentItem, SentList, Thread, resolve,
};
use crate::error::{Error, Result};
use crate::model::{
    Address, BUILT_IN_MESSAGE_TYPES, Delivery, EventKind, KeyScope, Message, MessageId, REQUEST_MESSAGE_TYPE,
    RESPONSE_MESSAGE_TYPE, Request, RequestId, RequestStatus, Session, SessionStatus,
};
use crate::parse;
use crate::store::{self, DeliveryQuery, MessageQuery, RequestQuery, SessionQuery};
use crate::time::Timestamp;

/// The most messages one inbox page shows when the call names no limit.
const DEFAULT_PAGE: u32 = 20;
/// The most open sessions a message to a role or everyone is delivered to at once.
const MAX_FAN_OUT: u32 = 1000;
/// The longest a message to a role or everyone stays open.
const MAX_EXPIRY_SECS: i64 = 90 * 86_400;

/// The statuses of sessions that can still read messages.
const OPEN: &[SessionStatus] = &[
    SessionStatus::Drafting,
    SessionStatus::Planned,
    SessionStatus::Active,
    SessionStatus::Paused,
];

/// Checks a message type: a lowercase word.
fn check_message_type(kind: &str) -> Result<()> {
    let ok = !kind.is_empty()
        && kind.len() <= parse::MAX_TYPE_CHARS
        && kind.as_bytes()[0].is_ascii_lowercase()
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !ok {
        return Err(Error::bad_input(format!(
            "invalid message type '{}': expected a lowercase word of at most {} characters (letters, digits, _), \
             such as {}",
            kind.escape_debug(),
            parse::MAX_TYPE_CHARS,
            BUILT_IN_MESSAGE_TYPES.join(", ")
        ))
        .in_field("type"));
    }
    Ok(())
}

/// The inboxes a session reads: its own and its agent's.
fn inboxes(s: &Session) -> Vec<Address> {
    vec![Address::Session(s.id.clone()), Address::Agent(s.agent.clone())]
}

/// Whether a request or message addressed to `to` is addressed to session `s`.
fn addressed_to(to: &Address, s: &Session) -> bool {
    match to {
        Address::Session(id) => *id == s.id,
        Address::Agent(a) => *a == s.agent,
        Address::Role(r) => s.role.as_deref() == Some(r.as_str()),
        Address::All => true,
    }
}

impl Op<'_> {
    /// Reads `--to`: an explicit `session:`, `agent:` or `role:` address or `all`; else a session of this
    /// project with that id, else an agent with sessions in it.
    pub(super) fn address(&mut self, project: &str, to: &str) -> Result<Address> {
        let to = to.trim();
        let accepted = "a session id, an agent with sessions in this project, session:ID, agent:NAME, role:ROLE or all";
        if to.is_empty() {
            return Err(Error::bad_input(format!("the recipient is empty: expected {accepted}")).in_field("to"));
        }
        let address = match to.split_once(':') {
            None if to == "all" => Address::All,
            Some(("role", role)) => {
                parse::check_id("role", role).map_err(|e| e.in_field("to"))?;
                if !self.role_known(project, role)? {
                    let known: Vec<String> = self.baton.policy().roles.iter().map(|r| r.name.clone()).collect();
                    return Err(Error::not_found(format!(
                        "unknown role '{role}': no session in project '{project}' has it, and it is not one of {}",
                        known.join(", ")
                    ))
                    .with_value(role, known)
                    .in_field("to"));
                }
                Address::Role(role.to_string())
            }
            Some(("session", id)) => Address::Session(self.session_in(project, id)?.id),
            Some(("agent", agent)) => Address::Agent(self.agent_in(project, agent)?),
            Some(_) => {
                return Err(Error::bad_input(format!(
                    "malformed recipient '{}': expected {accepted}",
                    to.escape_debug()
                ))
                .in_field("to"));
            }
            None => {
                if uuid::Uuid::try_parse(to).is_ok() {
                    Address::Session(self.session_in(project, to)?.id)
                } else {
                    Address::Agent(self.agent_in(project, to)?)
                }
            }
        };
        Ok(address)
    }

    /// The session `id`, which must belong to `project` and not have ended.
    fn session_in(&mut self, project: &str, id: &str) -> Result<Session> {
        parse::check_session_id(id).map_err(|e| e.in_field("to"))?;
        let s = self
            .unlocked_session(id)?
            .filter(|s| s.project == project)
            .ok_or_else(|| Error::not_found(format!("no session '{id}' in project '{project}'")).in_field("to"))?;
        if s.status.is_ended() {
            return Err(Error::conflict(
                format!(
                    "session {id} has {}: nothing would read it; send to its agent ({}) instead",
                    s.status, s.agent
                ),
                json!({"session_id": id, "status": s.status, "agent": s.agent}),
            ));
        }
        Ok(s)
    }

    /// `agent`, which must have had a session in `project`.
    fn agent_in(&mut self, project: &str, agent: &str) -> Result<String> {
        parse::check_id("agent", agent).map_err(|e| e.in_field("to"))?;
        let found = self.tx.sessions(&SessionQuery {
            project: Some(project.to_string()),
            agent: Some(agent.to_string()),
            limit: Some(1),
            unlocked: true,
            ..Default::default()
        })?;
        if found.is_empty() {
            return Err(Error::not_found(format!(
                "no session or agent '{agent}' in project '{project}': expected a session id, an agent with \
                 sessions here, role:ROLE or all"
            ))
            .in_field("to"));
        }
        Ok(agent.to_string())
    }

    /// A session read to know of it, locking nothing: a write locks only its own caller's session, so two
    /// sessions messaging each other never wait on each other.
    pub(super) fn unlocked_session(&mut self, id: &str) -> Result<Option<Session>> {
        Ok(self
            .tx
            .sessions(&SessionQuery {
                id: Some(id.into()),
                limit: Some(1),
                unlocked: true,
                ..Default::default()
            })?
            .into_iter()
            .next())
    }

    fn role_known(&mut self, project: &str, role: &str) -> Result<bool> {
        if self.baton.policy().role(role).is_some() {
            return Ok(true);
        }
        Ok(self
            .open_sessions(project)?
            .iter()
            .any(|s| s.role.as_deref() == Some(role)))
    }

    fn open_sessions(&mut self, project: &str) -> Result<Vec<Session>> {
        self.tx.sessions(&SessionQuery {
            project: Some(project.to_string()),
            statuses: OPEN.to_vec(),
            limit: Some(MAX_FAN_OUT),
            unlocked: true,
            ..Default::default()
        })
    }

    /// The inboxes a message to `to` from `from` reaches now.
    fn recipients(&mut self, from: &Session, to: &Address) -> Result<Vec<Address>> {
        Ok(match to {
            Address::Session(_) | Address::Agent(_) => vec![to.clone()],
            Address::Role(_) | Address::All => self
                .open_sessions(&from.project)?
                .into_iter()
                .filter(|s| s.id != from.id && addressed_to(to, s))
                .map(|s| Address::Session(s.id))
                .collect(),
        })
    }

    /// Writes a message from `from` and delivers it; its event is written after the deliveries.
    pub(super) fn send_message(&mut self, from: &Session, mut message: Message) -> Result<Sent> {
        let delivered_to = self.recipients(from, &message.to)?;
        message.open = message.to.is_open() && message.expires_at.is_none_or(|t| t > self.now);
        self.tx.insert_message(&message)?;
        for r in &delivered_to {
            self.tx.deliver(&message.id, r)?;
        }
        self.event(
            from,
            EventKind::MessageSent,
            message.id.to_string(),
            json!({
                "to": message.to,
                "type": message.kind,
                "reply_to": message.reply_to,
                "request_id": message.request_id,
                "delivered": delivered_to.len(),
            }),
        )?;
        Ok(Sent { message, delivered_to })
    }

    /// A new message from `from`, in the thread of `reply_to` when it answers one.
    pub(super) fn new_message(
        &mut self,
        from: &Session,
        to: Address,
        kind: &str,
        text: &str,
        reply_to: Option<&str>,
    ) -> Result<Message> {
        let id = MessageId::generate();
        let thread = match reply_to {
            None => id.clone(),
            Some(r) => {
                let parent = self
                    .tx
                    .message(r)?
                    .ok_or_else(|| Error::not_found(format!("no message '{r}' to reply to")).in_field("reply_to"))?;
                if parent.project != from.project {
                    return Err(Error::bad_input(format!(
                        "message {r} is in project '{}', not '{}': a reply stays in its project",
                        parent.project, from.project
                    ))
                    .in_field("reply_to"));
                }
                parent.thread
            }
        };
        Ok(Message {
            id,
            project: from.project.clone(),
            from_session: from.id.clone(),
            from_agent: from.agent.clone(),
            to,
            kind: kind.to_string(),
            text: text.to_string(),
            reply_to: reply_to.map(Into::into),
            thread,
            request_id: None,
            created_at: self.now,
            expires_at: None,
            open: false,
        })
    }

    /// Delivers the open messages of `s`'s project that fit it (to everyone, or to its role) to a session
    /// that just started. The caller writes the session's event after this.
    pub(super) fn deliver_open_messages(&mut self, s: &Session) -> Result<()> {
        let open = self.tx.messages(&MessageQuery {
            project: Some(s.project.clone()),
            open_only: true,
            limit: Some(MAX_FAN_OUT),
            ..Default::default()
        })?;
        for m in open {
            if m.expires_at.is_some_and(|t| t <= self.now) {
                self.tx.close_message(&m.id)?;
            } else if m.from_session != s.id && addressed_to(&m.to, s) {
                self.tx.deliver(&m.id, &Address::Session(s.id.clone()))?;
            }
        }
        Ok(())
    }

    /// The delivery of message `id` to one of `s`'s inboxes.
    fn delivery_of(&mut self, s: &Session, id: &str) -> Result<Option<Delivery>> {
        Ok(self
            .tx
            .deliveries(&DeliveryQuery {
                recipients: inboxes(s),
                message_id: Some(id.into()),
                limit: Some(2),
                ..Default::default()
            })?
            .into_iter()
            .next())
    }

    /// Whether session `s` may see message `m`: it sent it or received it.
    fn may_see(&mut self, s: &Session, m: &Message) -> Result<bool> {
        Ok(m.project == s.project && (m.from_session == s.id || self.delivery_of(s, &m.id)?.is_some()))
    }
}

fn check_message_text(text: &str) -> Result<()> {
    parse::check_nonempty_text("text", text).map_err(|e| e.in_field("text"))
}

impl Baton {
    /// Sends a message from the caller's session.
    pub fn send(&self, caller: &Caller, req: SendRequest) -> Result<Sent> {
        let kind = req.kind.clone().unwrap_or_else(|| "fyi".to_string());
        check_message_type(&kind)?;
        if kind == REQUEST_MESSAGE_TYPE || kind == RESPONSE_MESSAGE_TYPE {
            return Err(Error::bad_input(format!(
                "message type '{kind}' is baton's own, for requests and their answers: make a request instead"
            ))
            .in_field("type"));
        }
        check_message_text(&req.text)?;
        check_key(req.idempotency_key.as_ref())?;
        let expires_secs = match &req.expires {
            Some(e) => {
                let secs = parse::parse_duration(e).map_err(|err| err.in_field("expires"))?;
                if !(1..=MAX_EXPIRY_SECS).contains(&secs) {
                    return Err(
                        Error::bad_input(format!("invalid expiry '{e}': expected 1s to 90d, like 2h or 3d"))
                            .in_field("expires"),
                    );
                }
                Some(secs)
            }
            None => None,
        };
        let fingerprint = json!({
            "to": req.to, "type": kind, "text": req.text, "reply_to": req.reply_to, "expires": req.expires,
        });
        self.write(Some(caller), |tx| {
            let from = resolve::session_for_write(tx, caller, "send from")?;
            let mut op = Op::new(self, tx, caller);
            let keyed = Keyed::new(
                caller,
                KeyScope::Session(from.id.clone()),
                req.idempotency_key.as_deref(),
                "send",
                &fingerprint,
            );
            op.once(keyed.as_ref(), |op| {
                let to = op.address(&from.project, &req.to)?;
                if expires_secs.is_some() && !to.is_open() {
                    return Err(Error::bad_input(format!(
                        "an expiry applies to messages to a role or to all, not to {to}"
                    ))
                    .in_field("expires"));
                }
                let mut m = op.new_message(&from, to, &kind, &req.text, req.reply_to.as_deref())?;
                m.expires_at = expires_secs.map(|s| Timestamp(op.now.0 + s * 1_000_000));
                op.send_message(&from, m)
            })
        })
    }

    /// A page of the caller's session's inbox (its own messages and its agent's), oldest first; shows mark
    /// messages read.
    pub fn inbox(&self, caller: &Caller, req: InboxRequest) -> Result<Inbox> {
        let limit = req.limit.unwrap_or(DEFAULT_PAGE);
        parse::check_limit(limit)?;
        self.write(Some(caller), |tx| {
            let s = resolve::session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?;
            let op = Op::new(self, tx, caller);
            let query = DeliveryQuery {
                recipients: inboxes(&s),
                after_pos: req.after.unwrap_or(0),
                unread_only: req.unread_only,
                unacked_only: !req.all && !req.unread_only,
                limit: Some(limit + 1),
                ..Default::default()
            };
            let mut found = op.tx.deliveries(&query)?;
            let more = found.len() > limit as usize;
            found.truncate(limit as usize);
            let mut messages = Vec::with_capacity(found.len());
            for mut d in found {
                let Some(m) = op.tx.message(&d.message_id)? else {
                    continue;
                };
                let new = d.read_at.is_none();
                if new {
                    d.read_at = Some(op.now);
                    d.notified_at.get_or_insert(op.now);
                    op.tx.update_delivery(&d)?;
                }
                messages.push(InboxItem {
                    message: m,
                    recipient: d.recipient,
                    pos: d.pos,
                    new,
                    read_at: d.read_at,
                    acked_at: d.acked_at,
                });
            }
            let next_cursor = if more { messages.last().map(|i| i.pos) } else { None };
            let unread_query = DeliveryQuery {
                recipients: inboxes(&s),
                unread_only: true,
                ..Default::default()
            };
            let unread_left = op.tx.count_deliveries(&unread_query, MAX_COUNTED + 1)?;
            Ok(Inbox {
                session_id: s.id.clone(),
                messages,
                next_cursor,
                unread_left: unread_left.min(u64::from(MAX_COUNTED)),
                unread_capped: unread_left > u64::from(MAX_COUNTED),
            })
        })
    }

    /// Messages for the caller's session that no hook has told it of, marked told: each is told once. Reads
    /// first, and writes only when there is something to tell.
    pub fn notifications(&self, caller: &Caller, limit: u32) -> Result<(Session, Vec<InboxItem>, u64)> {
        let query = |s: &Session| DeliveryQuery {
            recipients: inboxes(s),
            unnotified_only: true,
            unread_only: true,
            limit: Some(limit + 1),
            ..Default::default()
        };
        let waiting = store::read(self.store(), |tx| {
            let Some(s) = resolve::session_if_any(tx, caller)? else {
                return Ok(None);
            };
            Ok(Some((tx.count_deliveries(&query(&s), 1)? > 0, s)))
        })?;
        let s = match waiting {
            Some((true, s)) => s,
            Some((false, s)) => return Ok((s, Vec::new(), 0)),
            None => return Err(Error::not_found("no session to tell of messages")),
        };
        self.write(Some(caller), |tx| {
            let op = Op::new(self, tx, caller);
            let mut found = op.tx.deliveries(&query(&s))?;
            let more = if found.len() > limit as usize {
                let all = DeliveryQuery {
                    limit: None,
                    ..query(&s)
                };
                op.tx
                    .count_deliveries(&all, MAX_COUNTED)?
                    .saturating_sub(u64::from(limit))
            } else {
                0
            };
            found.truncate(limit as usize);
            let mut items = Vec::new();
            for mut d in found {
                d.notified_at = Some(op.now);
                op.tx.update_delivery(&d)?;
                if let Some(m) = op.tx.message(&d.message_id)? {
                    items.push(InboxItem {
                        message: m,
                        recipient: d.recipient,
                        pos: d.pos,
                        new: true,
                        read_at: d.read_at,
                        acked_at: d.acked_at,
                    });
                }
            }
            Ok((s.clone(), items, more))
        })
    }

    /// Marks messages the caller's session was shown some other way (a digest) as told, so no hook tells of
    /// them again. Messages that are not its, or were told already, are passed over.
    pub fn mark_told(&self, caller: &Caller, ids: &[MessageId]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.write(Some(caller), |tx| {
            let s = resolve::session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?;
            let mut op = Op::new(self, tx, caller);
            for id in ids {
                if let Some(mut d) = op.delivery_of(&s, id)?
                    && d.notified_at.is_none()
                {
                    d.notified_at = Some(op.now);
                    op.tx.update_delivery(&d)?;
                }
            }
            Ok(())
        })
    }

    /// Acknowledges messages sent to the caller's session (or its agent). Acknowledging twice changes nothing.
    pub fn ack(&self, caller: &Caller, ids: &[String]) -> Result<Acked> {
        if ids.is_empty() {
            return Err(Error::bad_input("no message to acknowledge: give one or more message ids").in_field("id"));
        }
        for id in ids {
            parse::check_id("message id", id).map_err(|e| e.in_field("id"))?;
        }
        self.write(Some(caller), |tx| {
            let s = resolve::session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?;
            let mut op = Op::new(self, tx, caller);
            // Acknowledgements of one message wait for each other here, before any of its deliveries is read
            // (and, on a store that locks what it reads, locked): the last of them sees all the others.
            op.tx.lock_messages(ids)?;
            // Every id is checked before anything changes.
            let mut found = Vec::with_capacity(ids.len());
            for id in ids {
                let d = op.delivery_of(&s, id)?.ok_or_else(|| {
                    Error::not_found(format!("no message '{id}' was sent to session {} or its agent", s.id))
                        .in_field("id")
                })?;
                found.push(d);
            }
            let mut acked = Vec::new();
            let mut already = Vec::new();
            for mut d in found {
                if d.acked_at.is_some() || acked.contains(&d.message_id) {
                    already.push(d.message_id.clone());
                    continue;
                }
                d.acked_at = Some(op.now);
                d.read_at.get_or_insert(op.now);
                d.notified_at.get_or_insert(op.now);
                op.tx.update_delivery(&d)?;
                op.event(
                    &s,
                    EventKind::MessageAcked,
                    d.message_id.to_string(),
                    json!({"recipient": d.recipient}),
                )?;
                op.close_if_all_acked(&d.message_id, &d.recipient)?;
                acked.push(d.message_id.clone());
            }
            Ok(Acked {
                session_id: s.id.clone(),
                acked,
                already,
            })
        })
    }

    /// A message the caller's session sent or received, with the rest of its thread.
    pub fn thread(&self, caller: &Caller, id: &str) -> Result<Thread> {
        parse::check_id("message id", id)?;
        store::read(self.store(), |tx| {
            let s = resolve::session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?;
            let now = self.now();
            let mut op = Op::at(self, tx, caller, now);
            let m = op.tx.message(id)?;
            let m = match m {
                Some(m) if op.may_see(&s, &m)? => m,
                _ => {
                    return Err(Error::not_found(format!(
                        "no message '{id}' sent or received by session {}",
                        s.id
                    )));
                }
            };
            let messages = op.tx.messages(&MessageQuery {
                thread: Some(m.thread.clone()),
                limit: Some(1000),
                ..Default::default()
            })?;
            Ok(Thread {
                thread: m.thread,
                messages,
            })
        })
    }

    /// Messages the caller's session sent, newest first, with who read and acknowledged each.
    pub fn sent(&self, caller: &Caller, limit: Option<u32>) -> Result<SentList> {
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        parse::check_limit(limit)?;
        store::read(self.store(), |tx| {
            let s = resolve::session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?;
            let sent = tx.messages(&MessageQuery {
                from_session: Some(s.id.clone()),
                newest_first: true,
                limit: Some(limit),
                ..Default::default()
            })?;
            let mut messages = Vec::with_capacity(sent.len());
            for m in sent {
                let recipients = tx
                    .deliveries(&DeliveryQuery {
                        message_id: Some(m.id.clone()),
                        limit: Some(MAX_FAN_OUT),
                        ..Default::default()
                    })?
                    .into_iter()
                    .map(|d| RecipientState {
                        recipient: d.recipient,
                        read_at: d.read_at,
                        acked_at: d.acked_at,
                    })
                    .collect();
                messages.push(SentItem { message: m, recipients });
            }
            Ok(SentList {
                session_id: s.id.clone(),
                messages,
            })
        })
    }

    /// Makes a request from the caller's session and tells its recipients.
    pub fn request(&self, caller: &Caller, req: MakeRequest) -> Result<RequestMade> {
        let kind = req.kind.get("type")?;
        check_message_text(&req.text)?;
        check_key(req.idempotency_key.as_ref())?;
        let fingerprint = json!({"to": req.to, "type": kind, "text": req.text});
        self.write(Some(caller), |tx| {
            let from = resolve::session_for_write(tx, caller, "request from")?;
            let mut op = Op::new(self, tx, caller);
            let keyed = Keyed::new(
                caller,
                KeyScope::Session(from.id.clone()),
                req.idempotency_key.as_deref(),
                "request",
                &fingerprint,
            );
            op.once(keyed.as_ref(), |op| {
                let to = op.address(&from.project, &req.to)?;
                let id = RequestId::generate();
                let mut m = op.new_message(&from, to.clone(), REQUEST_MESSAGE_TYPE, &req.text, None)?;
                m.request_id = Some(id.clone());
                let request = Request {
                    id,
                    project: from.project.clone(),
                    from_session: from.id.clone(),
                    from_agent: from.agent.clone(),
                    to,
                    kind,
                    text: req.text.clone(),
                    status: RequestStatus::Pending,
                    response: None,
                    answered_by: None,
                    message_id: m.id.clone(),
                    created_at: op.now,
                    updated_at: op.now,
                };
                op.tx.insert_request(&request)?;
                let sent = op.send_message(&from, m)?;
                op.event(
                    &from,
                    EventKind::RequestCreated,
                    request.id.to_string(),
                    json!({"to": request.to, "type": request.kind, "message_id": request.message_id}),
                )?;
                Ok(RequestMade {
                    request,
                    delivered_to: sent.delivered_to,
                })
            })
        })
    }

    /// Accepts, declines or completes a request addressed to the caller; the requester is told.
    pub fn answer(&self, caller: &Caller, req: AnswerRequest) -> Result<Request> {
        let to = req.status.get("status")?;
        if to == RequestStatus::Pending {
            return Err(Error::bad_input(
                "a request cannot be made pending again: answer it accepted, declined or completed",
            )
            .with_value(
                "pending",
                vec!["accepted".into(), "declined".into(), "completed".into()],
            )
            .in_field("status"));
        }
        parse::check_id("request id", &req.id)?;
        if let Some(r) = &req.response {
            parse::check_text("response", r)?;
        }
        self.write(Some(caller), |tx| {
            let s = resolve::session_for_write(tx, caller, "answer from")?;
            let mut op = Op::new(self, tx, caller);
            let mut r = op
                .tx
                .request(&req.id)?
                .filter(|r| r.project == s.project)
                .ok_or_else(|| Error::not_found(format!("no request '{}' in project '{}'", req.id, s.project)))?;
            if !addressed_to(&r.to, &s) || (r.to == crate::model::Address::All && r.from_session == s.id) {
                return Err(Error::conflict(
                    format!(
                        "request {} is addressed to {}, not to session {} (agent {}{})",
                        r.id,
                        r.to,
                        s.id,
                        s.agent,
                        s.role
                            .as_deref()
                            .map(|role| format!(", role {role}"))
                            .unwrap_or_default()
                    ),
                    json!({"request_id": r.id, "to": r.to}),
                ));
            }
            if !r.status.may_become(to) {
                return Err(Error::bad_input(format!(
                    "request {} is {}: it cannot become {to} (pending requests are accepted, declined or \
                     completed; accepted ones completed)",
                    r.id, r.status
                ))
                .in_field("status"));
            }
            r.status = to;
            r.response = req.response.clone().or(r.response);
            r.answered_by = Some(s.id.clone());
            r.updated_at = op.now;
            op.tx.update_request(&r)?;
            let kind = match to {
                RequestStatus::Accepted => EventKind::RequestAccepted,
                RequestStatus::Declined => EventKind::RequestDeclined,
                _ => EventKind::RequestCompleted,
            };
            // The requester hears of it in the request's thread, wherever its session is now.
            let requester = op.unlocked_session(&r.from_session)?;
            let back = match requester {
                Some(q) if !q.status.is_ended() => Address::Session(q.id),
                _ => Address::Agent(r.from_agent.clone()),
            };
            let text = match &req.response {
                Some(resp) => format!("{to}: {resp}"),
                None => to.to_string(),
            };
            let mut m = op.new_message(&s, back, RESPONSE_MESSAGE_TYPE, &text, Some(r.message_id.as_str()))?;
            m.request_id = Some(r.id.clone());
            op.send_message(&s, m)?;
            op.event(
                &s,
                kind,
                r.id.to_string(),
                json!({"status": r.status, "response": r.response, "from_session": r.from_session}),
            )?;
            Ok(r)
        })
    }

    /// Requests the caller's session made (`mine`), or that are addressed to it (`for_me`), or both.
    pub fn requests(&self, caller: &Caller, q: RequestsQuery) -> Result<RequestList> {
        let statuses = q.statuses.iter().map(|s| s.get("status")).collect::<Result<Vec<_>>>()?;
        let limit = q.limit.unwrap_or(100);
        parse::check_limit(limit)?;
        store::read(self.store(), |tx| {
            let s = resolve::session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?;
            let (mine, for_me) = if q.mine || q.for_me {
                (q.mine, q.for_me)
            } else {
                (true, true)
            };
            let mut out = Vec::new();
            if mine {
                out.extend(tx.requests(&RequestQuery {
                    project: Some(s.project.clone()),
                    from_session: Some(s.id.clone()),
                    statuses: statuses.clone(),
                    limit: Some(limit),
                    ..Default::default()
                })?);
            }
            if for_me {
                let mut to = inboxes(&s);
                if let Some(role) = &s.role {
                    to.push(Address::Role(role.clone()));
                }
                to.push(Address::All);
                let found = tx.requests(&RequestQuery {
                    project: Some(s.project.clone()),
                    to,
                    statuses: statuses.clone(),
                    limit: Some(limit),
                    ..Default::default()
                })?;
                for r in found {
                    let own_broadcast = r.to == Address::All && r.from_session == s.id;
                    let listed = out.iter().any(|o| o.id == r.id);
                    if !own_broadcast && !listed {
                        out.push(r);
                    }
                }
            }
            out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            out.truncate(limit as usize);
            Ok(RequestList {
                session_id: s.id.clone(),
                requests: out,
            })
        })
    }
}

/// The most unread messages and waiting requests a digest lists.
const DIGEST_MESSAGES: usize = 5;

impl Op<'_> {
    /// What waits for session `s`, for its digest.
    pub(super) fn messages_brief(&mut self, s: &Session) -> Result<super::MessagesBrief> {
        let unread_query = DeliveryQuery {
            recipients: inboxes(s),
            unread_only: true,
            ..Default::default()
        };
        let unread = self.tx.count_deliveries(&unread_query, MAX_COUNTED + 1)?;
        let mut oldest_unread = Vec::new();
        for d in self.tx.deliveries(&DeliveryQuery {
            limit: Some(DIGEST_MESSAGES as u32),
            ..unread_query
        })? {
            if let Some(m) = self.tx.message(&d.message_id)? {
                oldest_unread.push(m);
            }
        }
        let mut to = inboxes(s);
        if let Some(role) = &s.role {
            to.push(Address::Role(role.clone()));
        }
        to.push(Address::All);
        let requests_for_me = self
            .tx
            .requests(&RequestQuery {
                project: Some(s.project.clone()),
                to,
                statuses: vec![RequestStatus::Pending],
                limit: Some(DIGEST_MESSAGES as u32 + 1),
                ..Default::default()
            })?
            .into_iter()
            .filter(|r| r.from_session != s.id)
            .take(DIGEST_MESSAGES)
            .collect();
        Ok(super::MessagesBrief {
            unread: unread.min(u64::from(MAX_COUNTED)),
            unread_capped: unread > u64::from(MAX_COUNTED),
            oldest_unread,
            requests_for_me,
        })
    }

    /// Closes an open message to new sessions once every recipient it reached has acknowledged it. The caller
    /// locked the message ([`crate::store::MessageTx::lock_messages`]), so no other acknowledgement of it is
    /// under way and the deliveries are read without locking them: locking other recipients' copies would wait
    /// for their inbox reads.
    fn close_if_all_acked(&mut self, id: &MessageId, just_acked: &Address) -> Result<()> {
        let Some(m) = self.tx.message(id)? else {
            return Ok(());
        };
        if !m.open {
            return Ok(());
        }
        let unacked = self.tx.deliveries(&DeliveryQuery {
            message_id: Some(id.clone()),
            unacked_only: true,
            limit: Some(2),
            unlocked: true,
            ..Default::default()
        })?;
        // A store may not show this transaction's own update yet; the delivery just acknowledged counts as
        // acknowledged either way.
        if unacked.iter().all(|d| d.recipient == *just_acked) {
            self.tx.close_message(id)?;
        }
        Ok(())
    }
}
