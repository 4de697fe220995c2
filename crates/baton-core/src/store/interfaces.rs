//! Interfaces sessions declare, and the dependencies of other sessions on them.

use crate::error::Result;
use crate::model::{Dependency, Interface, SessionId};

/// Which interfaces to list. Results are ordered by name, then oldest `created_at` first, ties by id.
#[derive(Debug, Clone, Default)]
pub struct InterfaceQuery {
    pub project: Option<String>,
    pub session_id: Option<SessionId>,
    pub name: Option<String>,
    pub limit: Option<u32>,
}

/// Which dependencies to list. Results are oldest `created_at` first, ties by id.
#[derive(Debug, Clone, Default)]
pub struct DependencyQuery {
    pub project: Option<String>,
    pub session_id: Option<SessionId>,
    pub name: Option<String>,
    pub limit: Option<u32>,
}

/// Interfaces and dependencies. Part of [`super::Tx`].
pub trait InterfaceTx {
    /// Records a declaration. A second one of a name by one session is refused as [`crate::Error::Conflict`].
    fn insert_interface(&mut self, interface: &Interface) -> Result<()>;
    /// Overwrites `file`, `description` and `updated_at` of the declaration with this id; when there is none,
    /// [`crate::Error::NotFound`].
    fn update_interface(&mut self, interface: &Interface) -> Result<()>;
    fn interfaces(&mut self, query: &InterfaceQuery) -> Result<Vec<Interface>>;
    /// Records a dependency. A second one of a session on one name from one source is refused as
    /// [`crate::Error::Conflict`].
    fn insert_dependency(&mut self, dependency: &Dependency) -> Result<()>;
    fn dependencies(&mut self, query: &DependencyQuery) -> Result<Vec<Dependency>>;
}
