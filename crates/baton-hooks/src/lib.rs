//! Client hooks: Claude Code, Codex CLI and Gemini CLI call `baton hook <client>` at points of their
//! lifecycle; baton answers in that client's format so continuity happens without the agent asking.
//!
//! Every rule is in `baton_core::Baton`; this crate maps client events to it and formats answers.

pub mod input;
pub mod link;
pub mod notices;
pub mod respond;
pub mod setup;

pub use input::{Client, HookEvent, HookInput, parse_input};
pub use respond::{HookAnswer, MAX_OUTPUT_CHARS, handle};
