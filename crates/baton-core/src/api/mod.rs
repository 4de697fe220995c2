//! The one core API that the CLI, the MCP server, hooks and servers all call.
//!
//! Each operation is a `Baton` method: it checks its input, then runs its rules inside one transaction
//! (`Baton::write`, or `store::read`) over an `Op`, the transaction with the caller and the time the rules go
//! by. The rules of each concept live in the concept's module, as methods on `Op`:
//!
//! - `sessions`: start, pause, resume, end and close; the session state machine;
//! - `journal`: journal entries, checkpoints, and a session with its journal (its context);
//! - `claims`: claims as leases with fencing tokens, heartbeats, and the sweep that expires run-out leases and
//!   pauses stale sessions;
//! - `history`: pages of changes, and the digest;
//! - `conversations`: a client's conversation bound to one session;
//! - `messages`: messages between sessions, each recipient's inbox, and requests with their answers;
//! - `instructions`: an instruction read against what the team knows, and who should take it;
//! - `interfaces`: what sessions declare they produce, what others need of them, and telling them it is ready.
//! - `decisions`: the project's decisions, and decisions that supersede older ones;
//! - `search`: full-text search over journal entries and handoffs.
//!
//! What every concept uses has a module of its own: `op` (the context value), `resolve` (which session a call
//! means), `idempotency` (keys and replays), `observe` (what a commit is handed to) and `types` (requests and
//! results).

mod claims;
mod conversations;
mod decisions;
mod history;
mod idempotency;
mod instructions;
mod interfaces;
mod journal;
mod messages;
mod observe;
mod op;
mod resolve;
mod search;
mod sessions;
mod types;

use std::sync::Arc;

use crate::config::Policy;
use crate::error::Result;
use crate::model::SessionId;
use crate::parse;
use crate::project::Project;
use crate::store::Store;
use crate::time::Timestamp;

pub use conversations::{Bound, CONTINUE_IDLE_SECS, Conversation, ConversationEnded};
pub use interfaces::{ContextImported, area_of as interface_area};
pub use observe::{Commit, CommitObserver, Warn};
pub use types::*;

/// Who is calling, from where.
#[derive(Debug, Clone)]
pub struct Caller {
    pub project: Project,
    pub agent: String,
    /// An explicit session (`--session` / `BATON_SESSION`); else the agent's only active session.
    pub session: Option<SessionId>,
}

/// The clock the rules read. Tests replace it to move time.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// baton's operations over one store.
pub struct Baton {
    store: Box<dyn Store>,
    policy: Policy,
    clock: Clock,
    observers: observe::Observers,
}

impl Baton {
    pub fn new(store: Box<dyn Store>, policy: Policy) -> Baton {
        Baton {
            store,
            policy,
            clock: Arc::new(Timestamp::now),
            observers: observe::Observers::default(),
        }
    }

    /// Replaces the clock (tests move time with it).
    pub fn with_clock(mut self, clock: Clock) -> Baton {
        self.clock = clock;
        self
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }
}

/// Refuses a caller whose agent name is not a valid id.
fn check_caller(caller: &Caller) -> Result<()> {
    parse::check_id("agent", &caller.agent)
}

/// Shortens text to `max` characters, marking the cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
