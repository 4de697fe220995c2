//! Domain types: sessions, journal entries, claims, events.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::time::Timestamp;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every accepted value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            /// The accepted values, comma separated, for error messages.
            pub fn accepted() -> String {
                [$($text),+].join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Error::bad_input(format!(
                        concat!("unknown ", $what, " '{}': expected one of {}"),
                        s,
                        $name::accepted()
                    ))
                    .with_value(s, $name::ALL.iter().map(|v| v.as_str().to_string()).collect())),
                }
            }
        }
    };
}

/// Defines an id type: text that names one row for good (baton writes UUIDv7s, unique without coordination
/// and sortable by time). It reads as `str` and serializes as a plain string, so JSON is unchanged; its type
/// keeps a session id from being passed where a claim or an entry id is meant.
macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A new id, a UUIDv7.
            pub fn generate() -> Self {
                $name(uuid::Uuid::now_v7().to_string())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }

        impl From<&String> for $name {
            fn from(s: &String) -> Self {
                $name(s.clone())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }
    };
}

id_type!(
    /// A session's id.
    SessionId
);
id_type!(
    /// The id of one grant of a work item.
    ClaimId
);
id_type!(
    /// A journal entry's id.
    EntryId
);

string_enum!(
    /// Where a session is in its life.
    SessionStatus, "session status", {
        Drafting => "drafting",
        Planned => "planned",
        Active => "active",
        Paused => "paused",
        Completed => "completed",
        Abandoned => "abandoned",
    }
);

impl SessionStatus {
    /// Completed and abandoned sessions are over; nothing more may be logged to them.
    pub fn is_ended(self) -> bool {
        matches!(self, SessionStatus::Completed | SessionStatus::Abandoned)
    }
}

/// Defines [`EntryKind`] and [`Journal`] from one list, so a new kind of entry is one line here (and its
/// event a line in `event_kinds!`, which the compiler asks for).
macro_rules! journal_kinds {
    ($($variant:ident => $text:literal, $section:ident, $event:ident, $about:literal;)+) => {
        string_enum!(
            /// The kind of a journal entry.
            EntryKind, "entry kind", { $($variant => $text),+ }
        );

        impl EntryKind {
            /// The event an entry of this kind is recorded with.
            pub const fn event(self) -> EventKind {
                match self { $(EntryKind::$variant => EventKind::$event),+ }
            }

            /// What an entry of this kind records, in a few words.
            pub const fn about(self) -> &'static str {
                match self { $(EntryKind::$variant => $about),+ }
            }

            /// The name of the list of these entries in a session's context, like `decisions`.
            pub const fn section(self) -> &'static str {
                match self { $(EntryKind::$variant => stringify!($section)),+ }
            }
        }

        /// A session's journal: one list per kind of entry, each oldest first.
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        pub struct Journal {
            $(pub $section: Vec<JournalEntry>,)+
        }

        impl Journal {
            /// The entries of `kind`.
            pub fn of(&self, kind: EntryKind) -> &Vec<JournalEntry> {
                match kind { $(EntryKind::$variant => &self.$section),+ }
            }

            /// The entries of `kind`, to change.
            pub fn of_mut(&mut self, kind: EntryKind) -> &mut Vec<JournalEntry> {
                match kind { $(EntryKind::$variant => &mut self.$section),+ }
            }
        }
    };
}

journal_kinds! {
    // kind       text           list in a context  event               what it records
    Progress   => "progress",   progress,    JournalProgress,   "Progress made";
    Decision   => "decision",   decisions,   JournalDecision,   "A decision taken";
    Discovery  => "discovery",  discoveries, JournalDiscovery,  "Something learned about the code or the problem";
    Blocker    => "blocker",    blockers,    JournalBlocker,    "Something that stops progress";
    Next       => "next",       next_steps,  JournalNext,       "A next step";
    Done       => "done",       done,        JournalDone,       "Something finished";
    Checkpoint => "checkpoint", checkpoints, SessionCheckpoint, "A checkpoint of where the work stands";
    Note       => "note",       notes,       JournalNote,       "Anything else";
}

impl EntryKind {
    /// Whether entries of this kind are written by logging them; a checkpoint is its own operation.
    pub fn is_logged(self) -> bool {
        self != EntryKind::Checkpoint
    }
}

impl Journal {
    /// Sorts `entries` (oldest first) into their kinds' lists.
    pub fn from_entries(entries: impl IntoIterator<Item = JournalEntry>) -> Journal {
        let mut j = Journal::default();
        for e in entries {
            j.of_mut(e.kind).push(e);
        }
        j
    }

    /// How many entries there are, of every kind.
    pub fn len(&self) -> usize {
        EntryKind::ALL.iter().map(|k| self.of(*k).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

string_enum!(
    /// What a search looks through: `journal`, every journal entry; `decision`, decisions only; `handoff`,
    /// the summaries and handoff notes sessions ended with.
    SearchKind, "search kind", {
        Decision => "decision",
        Journal => "journal",
        Handoff => "handoff",
    }
);

string_enum!(
    /// How a claim ended when its holder let it go.
    ReleaseStatus, "release status", {
        Completed => "completed",
        Blocked => "blocked",
        Deferred => "deferred",
    }
);

string_enum!(
    /// The state of one grant of a work item.
    ClaimState, "claim state", {
        Held => "held",
        Released => "released",
        Expired => "expired",
        TakenOver => "taken_over",
    }
);

string_enum!(
    /// How session documents are laid out on disk: `baton`, one readable file per session under
    /// `.baton/sessions/`; `agents`, `.agents/sessions/YYYYMMDD-HHMMSS-<slug>.md`; `sessions`,
    /// `.sessions/{active,archive}/<shortname>-<id>.md` and `.sessions/journal/<id>/`.
    DocLayout, "document layout", {
        Baton => "baton",
        Agents => "agents",
        Sessions => "sessions",
    }
);

/// What a session leaves for whoever comes next.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    /// Free-text handoff notes.
    pub notes: Option<String>,
    #[serde(default)]
    pub done: Vec<String>,
    #[serde(default)]
    pub next: Vec<String>,
    #[serde(default)]
    pub blockers: Vec<String>,
}

impl Handoff {
    pub fn is_empty(&self) -> bool {
        self.notes.is_none() && self.done.is_empty() && self.next.is_empty() && self.blockers.is_empty()
    }
}

/// One agent's unit of work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub project: String,
    pub agent: String,
    pub name: Option<String>,
    pub role: Option<String>,
    pub context: Option<String>,
    #[serde(default)]
    pub task_ids: Vec<String>,
    pub status: SessionStatus,
    /// Active, but no heartbeat within the stale threshold. Computed when read, never stored.
    #[serde(default)]
    pub stale: bool,
    pub git_branch: Option<String>,
    pub git_commit: Option<String>,
    pub worktree: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_seen: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub compaction_count: i64,
    pub summary: Option<String>,
    pub handoff: Option<Handoff>,
}

/// One line of a session's journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub id: EntryId,
    pub session_id: SessionId,
    pub kind: EntryKind,
    pub text: String,
    pub rationale: Option<String>,
    pub created_at: Timestamp,
    /// The older decision this decision replaces (decisions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<EntryId>,
}

/// The identity of a work item: `(project, type, repo, id)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ItemKey {
    pub project: String,
    pub item_type: String,
    pub repo: String,
    pub item_id: String,
}

impl ItemKey {
    /// A short label such as `issue org/app#15`.
    pub fn label(&self) -> String {
        format!("{} {}#{}", self.item_type, self.repo, self.item_id)
    }
}

/// One grant of a work item to a session. The current grant of an item is the one with the highest token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    pub id: ClaimId,
    pub project: String,
    pub item_type: String,
    pub repo: String,
    pub item_id: String,
    /// Fencing token: grows by one on every grant of this item.
    pub token: i64,
    pub session_id: SessionId,
    pub agent: String,
    pub state: ClaimState,
    pub ttl_secs: i64,
    pub granted_at: Timestamp,
    pub renewed_at: Timestamp,
    pub expires_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub release_status: Option<ReleaseStatus>,
    pub notes: Option<String>,
    /// For a grant taken over or released by force: whether its holder has been told (by heartbeat) that
    /// the lease is lost.
    #[serde(skip)]
    pub loss_reported: bool,
    /// The agent that released this grant by force, overriding its holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_by: Option<String>,
}

impl Claim {
    pub fn key(&self) -> ItemKey {
        ItemKey {
            project: self.project.clone(),
            item_type: self.item_type.clone(),
            repo: self.repo.clone(),
            item_id: self.item_id.clone(),
        }
    }
    /// Held and its lease has not run out at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.state == ClaimState::Held && self.expires_at > now
    }
}

/// An append-only record of one state change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: i64,
    pub time: Timestamp,
    pub project: String,
    pub agent: String,
    pub session_id: Option<SessionId>,
    pub kind: String,
    pub target: String,
    pub data: Value,
}

/// An event before the store gives it a sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub time: Timestamp,
    pub project: String,
    pub agent: String,
    pub session_id: Option<SessionId>,
    pub kind: &'static str,
    pub target: String,
    pub data: Value,
}

/// Defines [`EventKind`], its list and its text in one place.
macro_rules! event_kinds {
    ($($variant:ident => $text:literal,)*) => {
        /// Every kind of event baton writes. Adding one is adding a line to the list below.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventKind {
            $($variant,)*
        }

        impl EventKind {
            /// Every kind, in the order listed.
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant,)*];

            /// The kind as events carry it, like `session.started`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $text,)*
                }
            }
        }

        /// Every event kind baton writes, as text.
        pub const EVENT_KINDS: &[&str] = &[$($text,)*];
    };
}

event_kinds! {
    SessionStarted => "session.started",
    SessionEnded => "session.ended",
    SessionAbandoned => "session.abandoned",
    SessionPaused => "session.paused",
    SessionResumed => "session.resumed",
    SessionCheckpoint => "session.checkpoint",
    SessionHeartbeat => "session.heartbeat",
    SessionImported => "session.imported",
    SessionGoalSet => "session.goal_set",
    JournalProgress => "journal.progress",
    JournalDecision => "journal.decision",
    JournalDiscovery => "journal.discovery",
    JournalBlocker => "journal.blocker",
    JournalNext => "journal.next",
    JournalDone => "journal.done",
    JournalNote => "journal.note",
    DecisionSuperseded => "decision.superseded",
    ClaimGranted => "claim.granted",
    ClaimRenewed => "claim.renewed",
    ClaimReleased => "claim.released",
    ClaimExpired => "claim.expired",
    ClaimTakenOver => "claim.taken_over",
    MessageSent => "message.sent",
    MessageAcked => "message.acked",
    RequestCreated => "request.created",
    RequestAccepted => "request.accepted",
    RequestDeclined => "request.declined",
    RequestCompleted => "request.completed",
    InterfaceDeclared => "interface.declared",
    InterfaceUpdated => "interface.updated",
    InterfaceNeeded => "interface.needed",
}

mod interfaces;
mod messaging;
pub use interfaces::*;
pub use messaging::*;

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose idempotency keys a key belongs to: the same key from another caller is another request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyScope {
    /// Calls made for one session (claim, release, log, end).
    Session(SessionId),
    /// Calls made with no session yet (session start, a forced release outside any session).
    Agent(String),
    /// Keys baton derives from a document, the same for everyone in the project (imports).
    Import,
}

impl KeyScope {
    /// The scope as stored: `session:<id>`, `agent:<name>` or `import`.
    pub fn as_stored(&self) -> String {
        match self {
            KeyScope::Session(id) => format!("session:{id}"),
            KeyScope::Agent(name) => format!("agent:{name}"),
            KeyScope::Import => "import".to_string(),
        }
    }
}

/// A stored result of an idempotent call: a retry by the same caller with the same key gets it back.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyRecord {
    pub project: String,
    /// Who made the call, as [`KeyScope::as_stored`] writes it.
    pub scope: String,
    pub key: String,
    pub command: String,
    pub request: String,
    pub result: String,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod event_kind_tests {
    use super::*;

    #[test]
    fn every_kind_once_with_its_text() {
        assert_eq!(EventKind::ALL.len(), EVENT_KINDS.len());
        for (k, text) in EventKind::ALL.iter().zip(EVENT_KINDS) {
            assert_eq!(k.as_str(), *text);
            assert_eq!(k.to_string(), *text);
            assert_eq!(EVENT_KINDS.iter().filter(|t| *t == text).count(), 1, "{text} twice");
        }
        for kind in EntryKind::ALL {
            assert!(EventKind::ALL.contains(&kind.event()));
            let others = EntryKind::ALL.iter().filter(|k| *k != kind);
            assert!(
                others.clone().all(|k| k.event() != kind.event()),
                "{kind} shares its event"
            );
            assert!(
                others.clone().all(|k| k.section() != kind.section()),
                "{kind} shares its list"
            );
        }
        assert_eq!(EntryKind::Blocker.event().as_str(), "journal.blocker");
        assert_eq!(EntryKind::Checkpoint.event().as_str(), "session.checkpoint");
    }

    #[test]
    fn ids_are_plain_strings_on_the_wire_and_new_ones_sort_by_time() {
        let id = SessionId::from("019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a01");
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a01\"");
        assert_eq!(serde_json::from_str::<SessionId>(&json).unwrap(), id);
        assert_eq!(id.to_string(), id.as_str());
        assert_eq!(id, "019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a01");
        assert_eq!("019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a01", id);
        let (first, second) = (ClaimId::generate(), ClaimId::generate());
        assert_ne!(first, second);
        assert!(first < second, "a later id sorts after an earlier one");
        assert_eq!(uuid::Uuid::parse_str(&first).unwrap().get_version_num(), 7);
    }

    #[test]
    fn a_journal_sorts_entries_into_their_kinds_lists() {
        let entry = |kind: EntryKind, text: &str| JournalEntry {
            id: text.into(),
            session_id: "s".into(),
            kind,
            text: text.to_string(),
            rationale: None,
            created_at: Timestamp(0),
            supersedes: None,
        };
        let all: Vec<JournalEntry> = EntryKind::ALL.iter().map(|k| entry(*k, k.as_str())).collect();
        let j = Journal::from_entries(all.iter().cloned().chain([entry(EntryKind::Decision, "second")]));
        assert_eq!(j.len(), EntryKind::ALL.len() + 1);
        for k in EntryKind::ALL {
            assert!(j.of(*k).iter().all(|e| e.kind == *k), "{k} list holds only {k} entries");
        }
        let texts: Vec<&str> = j.decisions.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["decision", "second"], "oldest first");
        // Each list is named in JSON as the context names it.
        let v = serde_json::to_value(&j).unwrap();
        for k in EntryKind::ALL {
            assert_eq!(v[k.section()].as_array().map(Vec::len), Some(j.of(*k).len()), "{k}");
        }
    }
}
