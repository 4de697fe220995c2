//! One module per subcommand. Each returns the exit code of a successful run
//! (0, or 3 when the answer is "held by another" / "lease lost").

pub mod changes;
pub mod claim;
pub mod claims;
pub mod decisions;
pub mod digest;
pub mod doc;
pub mod doctor;
pub mod heartbeat;
pub mod hook;
pub mod instructions;
pub mod interfaces;
pub mod mcp;
pub mod messages;
pub mod release;
pub mod requests;
pub mod search;
pub mod session;
pub mod setup;
pub mod shell;

use baton_core::Result;

use crate::cli::{Command, GlobalArgs};
use crate::settings;

/// Runs one command.
pub fn run(global: &GlobalArgs, command: Command) -> Result<i32> {
    let command = match command {
        // Hooks and setup resolve their own settings: hooks from the client's payload, setup needs no store.
        Command::Hook(a) => return hook::run(global, a),
        Command::Setup(a) => return setup::run(global, a),
        // Generated from the argument definitions alone: no store.
        Command::Completions(a) => return shell::completions(a),
        Command::Man => return shell::man(),
        other => other,
    };
    let ctx = settings::load(global)?;
    let json = global.json;
    match command {
        // Only the flag filters lists by agent: BATON_AGENT says who is working, not whose work to show.
        Command::Session(c) => session::run(&ctx, json, global.agent.clone(), c),
        Command::Claim(a) => claim::run(&ctx, json, a),
        Command::Release(a) => release::run(&ctx, json, a),
        Command::Heartbeat => heartbeat::run(&ctx, json),
        Command::Claims(a) => claims::run(&ctx, json, a),
        Command::Changes(a) => changes::run(&ctx, json, global.agent.clone(), a),
        Command::Digest => digest::run(&ctx, json),
        Command::Roles => interfaces::roles(&ctx, json),
        Command::Context(a) => instructions::context(&ctx, json, a),
        Command::Recommend(a) => instructions::recommend(&ctx, json, a),
        Command::Send(a) => messages::send(&ctx, json, a),
        Command::Export(a) => interfaces::export(&ctx, json, a),
        Command::Interfaces => interfaces::list(&ctx, json, global.session.as_deref()),
        Command::Needs(a) => interfaces::needs(&ctx, json, a),
        Command::Inbox(a) => messages::inbox(&ctx, json, a),
        Command::Ack(a) => messages::ack(&ctx, json, a),
        Command::Thread(a) => messages::thread(&ctx, json, a),
        Command::Sent(a) => messages::sent(&ctx, json, a),
        Command::Request(a) => requests::request(&ctx, json, a),
        Command::Requests(a) => requests::list(&ctx, json, a),
        Command::Decisions(a) => decisions::run(&ctx, json, a),
        Command::Search(a) => search::run(&ctx, json, a),
        Command::Doctor(a) => doctor::run(&ctx, json, a),
        Command::Doc(c) => doc::run(&ctx, json, c),
        Command::Mcp(a) => mcp::run(ctx, a),
        Command::Hook(_) | Command::Setup(_) | Command::Completions(_) | Command::Man => Ok(0),
    }
}
