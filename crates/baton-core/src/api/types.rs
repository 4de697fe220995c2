//! The requests the operations take and the results they return: the JSON objects of `--json` and MCP.

use serde::{Deserialize, Serialize};

use crate::model::*;
use crate::parse::Wire;
use crate::time::Timestamp;
use crate::warning::Warning;
use crate::words::Words;

#[derive(Debug, Clone, Default)]
pub struct StartRequest {
    pub context: Option<String>,
    pub name: Option<String>,
    pub task_ids: Vec<String>,
    pub role: Option<String>,
    pub idempotency_key: Option<String>,
}

/// The handoff the last ended session of the project left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastHandoff {
    pub session_id: SessionId,
    pub agent: String,
    pub status: SessionStatus,
    pub ended_at: Option<Timestamp>,
    pub summary: Option<String>,
    pub handoff: Handoff,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionStarted {
    pub session_id: SessionId,
    pub session: Session,
    pub handoff_notes: Option<String>,
    pub last_summary: Option<String>,
    pub last_handoff: Option<LastHandoff>,
    pub digest: Digest,
    /// What the agent should know about the start, like another active session of the same agent here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

impl SessionStarted {
    /// The answer as JSON, its warnings worded by `words`: scripts read them as sentences.
    pub fn json_in(&self, words: &dyn Words) -> serde_json::Result<serde_json::Value> {
        let mut v = serde_json::to_value(self)?;
        if !self.warnings.is_empty() {
            v["warnings"] = self.warnings.iter().map(|w| words.warning(w)).collect();
        }
        Ok(v)
    }
}

#[derive(Debug, Clone, Default)]
pub struct EndRequest {
    pub summary: Option<String>,
    pub handoff: Option<String>,
    pub next: Vec<String>,
    pub blockers: Vec<String>,
    pub done: Vec<String>,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEnded {
    pub session: Session,
    /// Claims the session still held, released as deferred.
    pub released: Vec<Claim>,
}

#[derive(Debug, Clone)]
pub struct LogRequest {
    pub kind: Wire<EntryKind>,
    pub text: String,
    pub rationale: Option<String>,
    /// The id of an older decision of the project that this decision replaces (with kind decision only).
    pub supersedes: Option<String>,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logged {
    pub session_id: SessionId,
    pub entry: JournalEntry,
    /// The session is paused: the entry is written, and the session stays paused until resumed.
    #[serde(default)]
    pub paused: bool,
}

/// How `session close` ends a session.
#[derive(Debug, Clone)]
pub enum CloseAs {
    Complete,
    Abandon { reason: String },
}

/// A session with its journal, grouped the way a resuming agent reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionContext {
    pub session: Session,
    pub tldr: String,
    /// The session's entries, one list per kind (in JSON, each list is a field of the context).
    #[serde(flatten)]
    pub journal: Journal,
    pub claims: Vec<Claim>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resumed {
    pub session_id: SessionId,
    pub context: SessionContext,
    pub digest: Digest,
}

#[derive(Debug, Clone)]
pub struct ClaimRequest {
    pub item_type: String,
    pub item_id: String,
    pub repo: Option<String>,
    pub ttl: Option<String>,
    pub idempotency_key: Option<String>,
    /// Claim a work type that is neither built in nor declared in the config (`types`).
    pub new_type: bool,
}

/// Who holds an item someone else asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holder {
    pub agent: String,
    pub session: SessionId,
    pub since: Timestamp,
    pub expires_at: Timestamp,
    pub token: i64,
}

impl Holder {
    pub(crate) fn of(c: &Claim) -> Holder {
        Holder {
            agent: c.agent.clone(),
            session: c.session_id.clone(),
            since: c.granted_at,
            expires_at: c.expires_at,
            token: c.token,
        }
    }
}

/// The answer to a claim: granted (`claimed: true`, `claim`) or held by another (`claimed: false`, `claimed_by`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimOutcome {
    pub claimed: bool,
    pub item: ItemKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<Claim>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<Holder>,
    /// When this grant took over an expired lease: who held it before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken_over_from: Option<Holder>,
    /// The caller already held the item; the lease was renewed.
    #[serde(default)]
    pub renewed: bool,
}

#[derive(Debug, Clone)]
pub struct ReleaseRequest {
    pub item_type: String,
    pub item_id: String,
    pub repo: Option<String>,
    pub status: Wire<ReleaseStatus>,
    pub notes: Option<String>,
    pub force: bool,
    pub reason: Option<String>,
    /// When given, the release fails unless this is still the item's fencing token.
    pub token: Option<i64>,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Released {
    pub released: bool,
    pub claim: Claim,
    pub forced: bool,
}

/// A lease the session lost: it expired and another session took the item, or another agent released it by force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LostLease {
    pub item: ItemKey,
    pub your_token: i64,
    pub taken_by: Option<Holder>,
    /// The agent that released the claim by force, overriding this session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_by: Option<String>,
}

impl LostLease {
    /// How the lease was lost, as a clause: "it expired and was taken over by agent 'codex' (session …)".
    pub fn how(&self) -> String {
        match (&self.forced_by, &self.taken_by) {
            (Some(agent), _) => format!("agent '{agent}' released it by force"),
            (None, Some(h)) => format!(
                "it expired and was taken over by agent '{}' (session {})",
                h.agent, h.session
            ),
            (None, None) => "it expired and was taken over".to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub session_id: SessionId,
    pub last_seen: Timestamp,
    /// The session was paused (by hand, by its conversation's end, or as stale) and is active again.
    pub resumed: bool,
    pub renewed: Vec<Claim>,
    pub lost: Vec<LostLease>,
}

#[derive(Debug, Clone, Default)]
pub struct ClaimsRequest {
    pub mine: bool,
    pub item_type: Option<String>,
    pub include_released: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimList {
    pub project: String,
    pub claims: Vec<ClaimView>,
}

/// A claim as listed, with whether its lease ran out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimView {
    #[serde(flatten)]
    pub claim: Claim,
    pub expired: bool,
    pub mine: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ChangesRequest {
    pub since: Option<String>,
    pub agent: Option<String>,
    pub kind: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangesPage {
    pub project: String,
    pub events: Vec<Event>,
    /// Pass as `--since` to get the events after this page.
    pub next_cursor: i64,
    /// Whether more events were already waiting after this page.
    pub more: bool,
}

/// Which sessions a list shows. Results are newest first.
#[derive(Debug, Clone, Default)]
pub struct SessionListRequest {
    pub status: Option<Wire<SessionStatus>>,
    /// Only this agent's sessions.
    pub agent: Option<String>,
    /// Sessions of every project, not only the caller's.
    pub all_projects: bool,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionList {
    pub sessions: Vec<Session>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Sweep {
    /// Stale sessions moved to paused.
    pub paused: Vec<SessionId>,
    /// Claims whose lease ran out, marked expired.
    pub expired: Vec<ItemKey>,
}

/// A short line about another session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionBrief {
    pub session_id: SessionId,
    pub agent: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub name: Option<String>,
    pub context: Option<String>,
    pub status: SessionStatus,
    pub stale: bool,
    pub last_seen: Timestamp,
    pub git_branch: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockerBrief {
    pub session_id: SessionId,
    pub agent: String,
    pub text: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangesBrief {
    /// Changes are counted from the end of this agent's previous session; none on a first session.
    pub since: Option<Timestamp>,
    pub count: u64,
    /// The count stopped at its cap; there are at least `count`.
    pub count_capped: bool,
    pub newest: Vec<Event>,
}

/// The context a starting or resuming agent needs. Bounded in size; `omitted` says what was cut.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    pub project: String,
    pub agent: String,
    pub generated_at: Timestamp,
    /// No session of this project has ended yet and none other is open.
    pub first_session: bool,
    pub last_handoff: Option<LastHandoff>,
    pub active_sessions: Vec<SessionBrief>,
    pub my_claims: Vec<Claim>,
    pub other_claims: Vec<Claim>,
    pub blockers: Vec<BlockerBrief>,
    pub changes: ChangesBrief,
    /// The caller's session's unread messages and the requests waiting for it; none without a session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<MessagesBrief>,
    pub omitted: Vec<Omission>,
}

/// What waits for a session: its unread messages (requests and answers to its own come as messages too) and
/// the pending requests addressed to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesBrief {
    pub unread: u64,
    pub unread_capped: bool,
    /// The oldest unread ones, at most five.
    pub oldest_unread: Vec<Message>,
    /// Pending requests addressed to the session, its agent, its role or everyone, at most five.
    pub requests_for_me: Vec<Request>,
}

/// One kind of thing a digest left out to stay short. Each front end words it and says where to see the rest
/// ([`crate::words::Words::omission`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Omission {
    pub what: Omitted,
    /// How many were left out; with `more`, at least this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// The count is a floor: there were more than `count`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub more: bool,
    /// The session whose part was cut (the last handoff's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
}

/// What a digest can leave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Omitted {
    /// The newest events of the changes.
    Events,
    /// Open claims beyond what a digest reads.
    OpenClaims,
    /// Other sessions' claims.
    OtherClaims,
    /// The caller's own claims.
    MyClaims,
    /// Other open sessions.
    OpenSessions,
    /// Blockers of open sessions.
    Blockers,
    /// Part of the last handoff.
    Handoff,
}

impl Omission {
    /// `count` were left out.
    pub fn cut(what: Omitted, count: usize) -> Self {
        Omission {
            what,
            count: Some(count as u64),
            more: false,
            session_id: None,
        }
    }

    /// More than `count` were there; a digest reads no further.
    pub fn more_than(what: Omitted, count: u32) -> Self {
        Omission {
            what,
            count: Some(count.into()),
            more: true,
            session_id: None,
        }
    }

    /// What was left out, without where to see it: `12 newest events`, `more than 20 blockers`.
    pub fn neutral(&self) -> String {
        let n = match (self.count, self.more) {
            (Some(n), true) => format!("more than {n} "),
            (Some(n), false) => format!("{n} "),
            (None, _) => String::new(),
        };
        let what = match self.what {
            Omitted::Events => "newest events",
            Omitted::OpenClaims => "open claims",
            Omitted::OtherClaims => "other sessions' claims",
            Omitted::MyClaims => "of your claims",
            Omitted::OpenSessions if self.more => "other open sessions",
            Omitted::OpenSessions => "open sessions",
            Omitted::Blockers => "blockers",
            Omitted::Handoff => "part of the last handoff",
        };
        format!("{n}{what}")
    }
}

/// A message to send from the caller's session.
#[derive(Debug, Clone, Default)]
pub struct SendRequest {
    /// `SESSION_ID`, `AGENT`, `session:ID`, `agent:NAME`, `role:ROLE` or `all`.
    pub to: String,
    /// A lowercase word; `fyi` when none.
    pub kind: Option<String>,
    pub text: String,
    /// The message this one answers: it joins that message's thread.
    pub reply_to: Option<String>,
    /// How long a message to a role or everyone keeps reaching sessions that start, like `2h` or `3d`.
    pub expires: Option<String>,
    pub idempotency_key: Option<String>,
}

/// A message sent, and the inboxes it reached at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    pub message: Message,
    /// `session:ID` and `agent:NAME` inboxes it was delivered to (a message to a role or everyone also
    /// reaches sessions that start while it is open).
    pub delivered_to: Vec<Address>,
}

/// Which of the caller's messages to show.
#[derive(Debug, Clone, Default)]
pub struct InboxRequest {
    /// Only messages not read before.
    pub unread_only: bool,
    /// Acknowledged messages too.
    pub all: bool,
    /// Only messages placed after this cursor (the `next_cursor` of the page before).
    pub after: Option<i64>,
    pub limit: Option<u32>,
}

/// One message in an inbox, with what its recipient did with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxItem {
    #[serde(flatten)]
    pub message: Message,
    /// The inbox it came to: the session's own, or its agent's.
    pub recipient: Address,
    /// Its place in the inbox, the cursor to page from.
    pub pos: i64,
    /// Not read before this call: each message is new exactly once for each recipient.
    pub new: bool,
    pub read_at: Option<Timestamp>,
    pub acked_at: Option<Timestamp>,
}

/// A page of an inbox. Showing a message marks it read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inbox {
    pub session_id: SessionId,
    pub messages: Vec<InboxItem>,
    /// Where the next page starts, when there is one.
    pub next_cursor: Option<i64>,
    /// Unread messages left after this page (at most [`MAX_COUNTED`]; `unread_capped` when there are more).
    pub unread_left: u64,
    pub unread_capped: bool,
}

/// The most a count of unread messages goes to.
pub const MAX_COUNTED: u32 = 1000;

/// The messages acknowledged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acked {
    pub session_id: SessionId,
    /// Acknowledged by this call.
    pub acked: Vec<MessageId>,
    /// Acknowledged before: nothing changed for them.
    pub already: Vec<MessageId>,
}

/// A message with its replies, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thread {
    pub thread: MessageId,
    pub messages: Vec<Message>,
}

/// What one recipient did with a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecipientState {
    pub recipient: Address,
    pub read_at: Option<Timestamp>,
    pub acked_at: Option<Timestamp>,
}

/// A message the caller's session sent, with each recipient's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentItem {
    #[serde(flatten)]
    pub message: Message,
    pub recipients: Vec<RecipientState>,
}

/// Messages the caller's session sent, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentList {
    pub session_id: SessionId,
    pub messages: Vec<SentItem>,
}

/// A request to make from the caller's session.
#[derive(Debug, Clone)]
pub struct MakeRequest {
    /// As [`SendRequest::to`].
    pub to: String,
    pub kind: Wire<RequestKind>,
    pub text: String,
    pub idempotency_key: Option<String>,
}

/// A request made, and the inboxes told of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestMade {
    pub request: Request,
    pub delivered_to: Vec<Address>,
}

/// An answer to a request addressed to the caller.
#[derive(Debug, Clone)]
pub struct AnswerRequest {
    pub id: String,
    /// `accepted`, `declined` or `completed`.
    pub status: Wire<RequestStatus>,
    pub response: Option<String>,
}

/// Which requests to list.
#[derive(Debug, Clone, Default)]
pub struct RequestsQuery {
    /// Requests the caller's session made.
    pub mine: bool,
    /// Requests addressed to the caller (its session, its agent, its role, everyone).
    pub for_me: bool,
    pub statuses: Vec<Wire<RequestStatus>>,
    pub limit: Option<u32>,
}

/// Requests, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestList {
    pub session_id: SessionId,
    pub requests: Vec<Request>,
}

/// An interface the caller's session declares (or declares again, updating it).
#[derive(Debug, Clone, Default)]
pub struct ExportRequest {
    pub name: String,
    pub file: Option<String>,
    pub description: Option<String>,
}

/// An interface declared, and the sessions told it is ready.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exported {
    pub interface: Interface,
    /// It was declared before by this session and is now updated.
    pub updated: bool,
    /// The inboxes of the sessions that need it, sent an `interface_ready` message.
    pub told: Vec<Address>,
}

/// The interfaces of the project, by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterfaceList {
    pub project: String,
    pub interfaces: Vec<Interface>,
}

/// A need of the caller's session: interface `name` from a session or an agent.
#[derive(Debug, Clone, Default)]
pub struct NeedRequest {
    pub name: String,
    /// A session id, an agent, `session:ID` or `agent:NAME`.
    pub from: String,
}

/// A need recorded, and the interface when it is already there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Needed {
    pub dependency: Dependency,
    pub available: Option<Interface>,
}

/// An instruction with what the team knows that bears on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstructionContext {
    pub instruction: String,
    /// The caller's session, when it has one.
    pub session_id: Option<SessionId>,
    /// Other sessions' interfaces that share words with the instruction, most shared first.
    pub interfaces: Vec<Interface>,
    /// The caller's unread messages, oldest first (not marked read).
    pub unread: Vec<Message>,
    pub unread_count: u64,
    /// The project's newest decisions.
    pub decisions: Vec<JournalEntry>,
    /// Pending requests addressed to the caller, and its own still open.
    pub requests: Vec<Request>,
    /// What was left out to stay short, per kind: `interfaces`, `unread`, `decisions`, `requests`.
    pub left_out: Vec<(String, u64)>,
}

/// Which open session should take an instruction, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub instruction: String,
    /// The role the instruction reads as.
    pub role: String,
    /// The session to take it, when one fits; else start a new one with `role`.
    pub session_id: Option<SessionId>,
    pub agent: Option<String>,
    /// Why, in words, best reason first.
    pub reasons: Vec<String>,
    /// Every open session considered, best first, with its score.
    pub considered: Vec<Candidate>,
}

/// An open session weighed for an instruction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub session_id: SessionId,
    pub agent: String,
    pub role: Option<String>,
    pub score: u32,
}

/// What a team shares, as `.baton/context.yaml` holds it: interfaces by area, decisions, open requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamContext {
    pub project: String,
    /// By area: the directory under `src/` (or the first) an interface's file is in, else `general`.
    pub interfaces: std::collections::BTreeMap<String, Vec<ContextInterface>>,
    /// Oldest first.
    pub decisions: Vec<ContextDecision>,
    /// Requests still open, oldest first.
    pub todos: Vec<ContextTodo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextInterface {
    /// The session's name, else its id.
    pub session: String,
    pub agent: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextDecision {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub session: String,
    pub agent: String,
    pub decision: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextTodo {
    pub from: String,
    pub to: String,
    pub message: String,
    pub status: String,
}

/// Which of the project's decisions to list. Results are newest first.
#[derive(Debug, Clone, Default)]
pub struct DecisionsRequest {
    /// Only decisions made since then: a duration back (2h, 1d) or an RFC 3339 time.
    pub since: Option<String>,
    /// Only decisions whose text or rationale holds every word of this text.
    pub search: Option<String>,
    /// Superseded decisions too.
    pub all: bool,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<u32>,
}

/// One of the project's decisions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    #[serde(flatten)]
    pub entry: JournalEntry,
    /// The agent of the session that made it.
    pub agent: String,
    /// The decision that replaced it, if one did.
    pub superseded_by: Option<EntryId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionList {
    pub project: String,
    pub decisions: Vec<Decision>,
}

/// A search of what the project's sessions wrote.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// Every word of it must match.
    pub text: String,
    /// What to look through (`decision`, `journal`, `handoff`); empty means all of it.
    pub kinds: Vec<Wire<SearchKind>>,
    /// At most this many hits (1 to 1000, default 20).
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    pub project: String,
    /// Best first.
    pub hits: Vec<crate::store::SearchHit>,
}
