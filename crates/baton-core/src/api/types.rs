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
    pub omitted: Vec<Omission>,
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
