//! `baton hook <client> [EVENT]`: answers a coding client's hook.
//!
//! A hook must never get in the client's way: whatever goes wrong (store unreachable, malformed
//! payload, a bug), it exits 1 — a non-blocking status for every supported client — with one line
//! on stderr, and it gives up before the client's own deadline.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use baton_core::config::baton_home;
use baton_core::{Error, Result};
use baton_hooks::{HookEvent, handle, parse_input};

use crate::cli::{GlobalArgs, HookArgs};
use crate::output::println_out;
use crate::settings;

/// Largest payload read from stdin.
const MAX_INPUT: u64 = 4 * 1024 * 1024;
/// Claude Code gives SessionEnd hooks about 1.5 s.
const SESSION_END_BUDGET: Duration = Duration::from_millis(1200);
const DEFAULT_BUDGET: Duration = Duration::from_secs(8);
/// What a hook keeps of its budget for the rest of its work when it waits for a lock.
const LOCK_WAIT_MARGIN: Duration = Duration::from_millis(400);

pub fn run(global: &GlobalArgs, a: HookArgs) -> Result<i32> {
    // Errors are reported as a hook's: one line on stderr, exit 1 (see `exit`).
    println_out(&answer(global, a)?)?;
    Ok(0)
}

fn answer(global: &GlobalArgs, a: HookArgs) -> Result<String> {
    let mut bytes = Vec::new();
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        stdin
            .lock()
            .take(MAX_INPUT)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::internal(format!("cannot read the hook payload: {e}")))?;
    }
    let input = parse_input(&a.client, &bytes, a.event.as_deref())?;
    let budget = if input.event == HookEvent::SessionEnd {
        SESSION_END_BUDGET
    } else {
        DEFAULT_BUDGET
    };
    let cwd = match &input.cwd {
        Some(dir) if dir.is_dir() => dir.clone(),
        _ => std::env::current_dir().map_err(|e| Error::internal(format!("cannot read the current directory: {e}")))?,
    };
    let global = global.clone();
    let (tx, rx) = mpsc::channel();
    // The work runs on its own thread so a hung store cannot hold the client past the budget,
    // and a panic becomes an error instead of a crash.
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(move || -> Result<String> {
            // A lock held elsewhere is reported as such, before the budget runs out.
            let max_wait = budget.saturating_sub(LOCK_WAIT_MARGIN);
            let ctx = settings::load_in(&global, &cwd, Some(input.client.default_agent()), Some(max_wait))?;
            let state_dir: PathBuf = baton_home(std::env::var("BATON_HOME").ok().as_deref())?.join("hooks");
            let answer = handle(&ctx.baton, &ctx.caller, &input, &state_dir)?;
            // The MCP server this client started follows the session of its conversation, which only a
            // conversation's start or a prompt can change (a prompt may continue another session).
            if let Some(id) = &answer.session_id
                && matches!(
                    input.event,
                    HookEvent::SessionStart { .. } | HookEvent::PromptSubmit { .. }
                )
            {
                if matches!(input.event, HookEvent::SessionStart { .. }) {
                    baton_hooks::link::prune(&state_dir);
                }
                baton_hooks::link::record(&state_dir, &ctx.caller.agent, id);
            }
            // The tool hook runs on every tool call and writes only when it tells of a message: the process ends
            // with its answer, and closing the store would only tear down what the exit releases anyway. Every
            // other call closes it, which also folds a grown WAL back into the database.
            if input.event == HookEvent::ToolUsed {
                std::mem::forget(ctx);
            }
            Ok(answer.stdout)
        });
        let _ = tx.send(result.unwrap_or_else(|_| Err(Error::internal("internal error while answering the hook"))));
    });
    match rx.recv_timeout(budget) {
        Ok(r) => r,
        Err(_) => Err(Error::internal(format!(
            "the store did not answer within {} ms; the client continues without baton this time",
            budget.as_millis()
        ))),
    }
}
