//! Error kinds that every front end maps to exit codes and `--json` errors.
//!
//! The core words its messages neutrally: they name values, never a front end's flags, tools or commands.
//! What the caller can do next travels as [`Hint`] and the values behind the error as [`Facts`]; each front
//! end (CLI, MCP server, hooks) words them in one file of its own.

use serde_json::Value;

use crate::model::EntryKind;

/// Result with baton's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, as the user sees it. Each variant maps to one exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed or unacceptable input, or an illegal state transition. Nothing was changed.
    #[error("{message}")]
    BadInput { message: String, facts: Box<Facts> },
    /// Held by another session, lease lost, not the holder, stale fencing token.
    #[error("{message}")]
    Conflict {
        message: String,
        details: Value,
        facts: Box<Facts>,
    },
    /// No such session, claim or item.
    #[error("{message}")]
    NotFound { message: String, facts: Box<Facts> },
    /// Storage or environment failure.
    #[error("{message}")]
    Internal { message: String },
    /// The database stayed locked by someone else for longer than baton waits. Nothing was changed;
    /// the same call may succeed later. `details` says who holds what, where the store can tell.
    #[error("{message}")]
    Busy { message: String, details: Value },
}

/// The values behind an error, for front ends to word their advice and for scripts to act on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The request field the refused value came in (`status`, `kind`), where one did.
    pub field: Option<&'static str>,
    /// The value refused, as given.
    pub value: Option<String>,
    /// What would have been accepted in its place.
    pub accepted: Vec<String>,
    /// Sessions the caller could have meant.
    pub candidates: Vec<String>,
    /// A refusal whose sentence names the request's own arguments, worded by each front end.
    pub usage: Option<Usage>,
    /// What the caller can do next, worded by each front end.
    pub hint: Option<Hint>,
}

/// A request whose arguments do not go together, or one argument that is not accepted. Each front end
/// words the whole sentence with its own names for the arguments (`--since` on the command line, `since`
/// as a tool argument); [`Usage::neutral`] is the wording of the message itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Usage {
    /// A rationale was given with an entry of another kind than a decision.
    RationaleWithoutDecision { kind: EntryKind },
    /// Force was asked without a reason.
    ForceWithoutReason,
    /// A reason was given without force.
    ReasonWithoutForce,
    /// `since` was not a duration, a time or a cursor.
    InvalidSince { value: String },
    /// `since` was not a duration or a time (where a cursor means nothing).
    InvalidSinceTime { value: String },
    /// `supersedes` was given with an entry of another kind than a decision.
    SupersedesWithoutDecision { kind: EntryKind },
}

impl Usage {
    /// The sentence in the request's field names.
    pub fn neutral(&self) -> String {
        match self {
            Usage::RationaleWithoutDecision { kind } => format!(
                "rationale goes with kind \"decision\", not a {kind} entry: use kind \"decision\" with a rationale"
            ),
            Usage::ForceWithoutReason => "force needs a reason: say why the holder's claim is overridden".to_string(),
            Usage::ReasonWithoutForce => "reason goes with force".to_string(),
            Usage::InvalidSince { value } => format!("invalid since '{value}': {SINCE_ACCEPTS}"),
            Usage::InvalidSinceTime { value } => format!("invalid since '{value}': {SINCE_TIME_ACCEPTS}"),
            Usage::SupersedesWithoutDecision { kind } => format!(
                "supersedes goes with kind \"decision\", not a {kind} entry: only a decision replaces a decision"
            ),
        }
    }
}

/// What `since` accepts, in every front end's wording.
pub const SINCE_ACCEPTS: &str = "expected a duration (90s, 30m, 2h, 1d), an RFC 3339 time (2026-11-22T10:00:00Z) or a cursor (a next_cursor number)";

/// What `since` accepts where a cursor means nothing, in every front end's wording.
pub const SINCE_TIME_ACCEPTS: &str =
    "expected a duration (90s, 30m, 2h, 1d) or an RFC 3339 time (2026-11-22T10:00:00Z)";

/// What the caller can do about an error. The core says what; each front end says how, in its own terms
/// (a flag and an environment variable, a tool argument, an HTTP field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// Several sessions fit: name the one meant ([`Facts::candidates`] lists them).
    NameSession,
    /// No session fits: start one, or name one.
    StartOrNameSession,
    /// The agent's session is paused: resume it, or name it to act on it while it is paused.
    ResumeOrNameSession { session: String, verb: String },
    /// The session has ended: start a new one.
    StartNewSession,
    /// No such session: list the sessions there are.
    ListSessions,
    /// Another session holds the item: force the release, giving a reason.
    ForceWithReason,
    /// A work type nobody declared: declare it in the project's configuration, or claim it as a new type.
    DeclareType { item_type: String },
}

impl Error {
    pub fn bad_input(message: impl Into<String>) -> Self {
        Error::BadInput {
            message: message.into(),
            facts: Box::default(),
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Error::NotFound {
            message: message.into(),
            facts: Box::default(),
        }
    }
    pub fn conflict(message: impl Into<String>, details: Value) -> Self {
        Error::Conflict {
            message: message.into(),
            details,
            facts: Box::default(),
        }
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Error::Internal {
            message: message.into(),
        }
    }
    pub fn busy(message: impl Into<String>, details: Value) -> Self {
        Error::Busy {
            message: message.into(),
            details,
        }
    }

    /// A bad input whose sentence names the request's arguments.
    pub fn usage(usage: Usage) -> Self {
        let value = match &usage {
            Usage::InvalidSince { value } | Usage::InvalidSinceTime { value } => Some(value.clone()),
            _ => None,
        };
        Error::BadInput {
            message: usage.neutral(),
            facts: Box::new(Facts {
                value,
                usage: Some(usage),
                ..Facts::default()
            }),
        }
    }

    /// The same error with `hint`.
    pub fn with_hint(self, hint: Hint) -> Self {
        self.with_facts(|f| f.hint = Some(hint))
    }

    /// The same error with the refused value and what is accepted instead.
    pub fn with_value(self, value: impl Into<String>, accepted: Vec<String>) -> Self {
        let value = value.into();
        self.with_facts(|f| {
            f.value = Some(value);
            f.accepted = accepted;
        })
    }

    /// The same error, said of the request field `field`.
    pub fn in_field(self, field: &'static str) -> Self {
        self.with_facts(|f| f.field = Some(field))
    }

    /// The same error with the sessions the caller could have meant.
    pub fn with_candidates(self, candidates: Vec<String>) -> Self {
        self.with_facts(|f| f.candidates = candidates)
    }

    fn with_facts(mut self, change: impl FnOnce(&mut Facts)) -> Self {
        match &mut self {
            Error::BadInput { facts, .. } | Error::Conflict { facts, .. } | Error::NotFound { facts, .. } => {
                change(facts)
            }
            Error::Internal { .. } | Error::Busy { .. } => {}
        }
        self
    }

    /// Stable machine-readable name of the kind (`bad_input`, `conflict`, `not_found`, `internal`, `busy`).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::BadInput { .. } => "bad_input",
            Error::Conflict { .. } => "conflict",
            Error::NotFound { .. } => "not_found",
            Error::Internal { .. } => "internal",
            Error::Busy { .. } => "busy",
        }
    }

    /// The process exit code for this kind (see the README's exit code table).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Internal { .. } | Error::Busy { .. } => 1,
            Error::BadInput { .. } => 2,
            Error::Conflict { .. } => 3,
            Error::NotFound { .. } => 4,
        }
    }

    /// The neutral message, without a front end's advice.
    pub fn message(&self) -> &str {
        match self {
            Error::BadInput { message, .. }
            | Error::Conflict { message, .. }
            | Error::NotFound { message, .. }
            | Error::Internal { message }
            | Error::Busy { message, .. } => message,
        }
    }

    /// The same kind of error with `message` instead (for adding where the error happened).
    pub fn reworded(self, message: impl FnOnce(&str) -> String) -> Self {
        match self {
            Error::BadInput { message: m, facts } => Error::BadInput {
                message: message(&m),
                facts,
            },
            Error::Conflict {
                message: m,
                details,
                facts,
            } => Error::Conflict {
                message: message(&m),
                details,
                facts,
            },
            Error::NotFound { message: m, facts } => Error::NotFound {
                message: message(&m),
                facts,
            },
            Error::Internal { message: m } => Error::Internal { message: message(&m) },
            Error::Busy { message: m, details } => Error::Busy {
                message: message(&m),
                details,
            },
        }
    }

    /// The values behind the error, where its kind carries them.
    pub fn facts(&self) -> Option<&Facts> {
        match self {
            Error::BadInput { facts, .. } | Error::Conflict { facts, .. } | Error::NotFound { facts, .. } => {
                Some(facts)
            }
            Error::Internal { .. } | Error::Busy { .. } => None,
        }
    }

    /// What the caller can do next, if the core knows.
    pub fn hint(&self) -> Option<&Hint> {
        self.facts().and_then(|f| f.hint.as_ref())
    }

    /// Extra structured details (conflicts and busy errors carry them).
    pub fn details(&self) -> Option<&Value> {
        match self {
            Error::Conflict { details, .. } | Error::Busy { details, .. } => Some(details),
            _ => None,
        }
    }
}
