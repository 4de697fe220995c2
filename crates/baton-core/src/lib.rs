//! baton's core: domain types, rules (session state machine, leases, digest), the storage trait and error kinds.
//! The CLI, the MCP server and hooks are thin adapters over [`Baton`].

pub mod api;
pub mod config;
pub mod error;
pub mod import;
pub mod integrity;
pub mod model;
pub mod parse;
pub mod project;
pub mod render;
pub mod store;
pub mod time;
pub mod warning;
pub mod words;

pub use api::*;
pub use error::{Error, Facts, Hint, Result, Usage};
pub use model::*;
pub use parse::Wire;
pub use project::Project;
pub use time::Timestamp;
pub use warning::{ActiveSession, Warning};
