//! Interfaces: what a session declares it produces, and what other sessions need of it.

use super::*;

id_type!(
    /// An interface declaration's id.
    InterfaceId
);
id_type!(
    /// A dependency's id.
    DependencyId
);

/// Something a session produces for others: a type, a module, an endpoint, with where it lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interface {
    pub id: InterfaceId,
    pub project: String,
    pub session_id: SessionId,
    pub agent: String,
    /// Like `AuthContext`; one declaration per session and name, updated in place.
    pub name: String,
    /// Where it is, like `src/auth/context.py`.
    pub file: Option<String>,
    pub description: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A session's need of an interface from another session or agent: it is told (`interface_ready`) whenever
/// that one declares or updates the interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dependency {
    pub id: DependencyId,
    pub project: String,
    /// The session that needs it.
    pub session_id: SessionId,
    pub agent: String,
    pub name: String,
    /// Whom it is needed from: `session:ID` or `agent:NAME`.
    pub from: Address,
    pub created_at: Timestamp,
}
