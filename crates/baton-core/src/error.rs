//! Error kinds that every front end maps to exit codes and `--json` errors.

use serde_json::Value;

/// Result with baton's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, as the user sees it. Each variant maps to one exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed or unacceptable input, or an illegal state transition. Nothing was changed.
    #[error("{message}")]
    BadInput { message: String },
    /// Held by another session, lease lost, not the holder, stale fencing token.
    #[error("{message}")]
    Conflict { message: String, details: Value },
    /// No such session, claim or item.
    #[error("{message}")]
    NotFound { message: String },
    /// Storage or environment failure.
    #[error("{message}")]
    Internal { message: String },
    /// The database stayed locked by someone else for longer than baton waits. Nothing was changed;
    /// the same call may succeed later. `details` says who holds what, where the store can tell.
    #[error("{message}")]
    Busy { message: String, details: Value },
}

impl Error {
    pub fn bad_input(message: impl Into<String>) -> Self {
        Error::BadInput {
            message: message.into(),
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Error::NotFound {
            message: message.into(),
        }
    }
    pub fn conflict(message: impl Into<String>, details: Value) -> Self {
        Error::Conflict {
            message: message.into(),
            details,
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

    /// Extra structured details (conflicts and busy errors carry them).
    pub fn details(&self) -> Option<&Value> {
        match self {
            Error::Conflict { details, .. } | Error::Busy { details, .. } => Some(details),
            _ => None,
        }
    }
}
