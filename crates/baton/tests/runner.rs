//! One integration-test binary driving the real `baton` binary.

mod common;
mod test_changes;
mod test_claims;
mod test_claude_cli;
mod test_codex_cli;
mod test_crash;
mod test_decisions;
mod test_docs;
mod test_doctor;
mod test_errors;
mod test_gemini_cli;
mod test_help;
mod test_hooks;
mod test_layering;
mod test_locks;
mod test_mcp;
mod test_messages;
mod test_output;
mod test_race;
mod test_readme;
mod test_session;
mod test_storage;
