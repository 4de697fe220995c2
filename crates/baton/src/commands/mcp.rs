//! `baton mcp`: the MCP server, over stdio or streamable HTTP.

use std::sync::Arc;

use baton_core::config::baton_home;
use baton_core::{Baton, Caller, Result};
use baton_mcp::{AfterCall, HttpOptions, Linked};

use crate::commands::doc::DocsFollower;

use crate::cli::McpArgs;
use crate::settings::Context;

pub fn run(ctx: Context, a: McpArgs) -> Result<i32> {
    // With `docs.auto`, every change made through a tool re-renders its session's documents.
    let after_call = DocsFollower::start(&ctx)
        .map(|docs| -> AfterCall { Arc::new(move |baton: &Baton, caller: &Caller| docs.catch_up(baton, caller)) });
    match a.http {
        None => {
            // The client that launched this server runs baton's hooks too: follow its conversation's session.
            let state_dir = baton_home(std::env::var("BATON_HOME").ok().as_deref())?.join("hooks");
            let linked: Linked = Arc::new(move |agent: &str| baton_hooks::link::lookup(&state_dir, agent));
            baton_mcp::serve_stdio(ctx.baton, ctx.caller, after_call, Some(linked))?
        }
        Some(addr) => {
            let token = a
                .token
                .or_else(|| std::env::var("BATON_TOKEN").ok())
                .filter(|t| !t.trim().is_empty());
            baton_mcp::serve_http(ctx.baton, ctx.caller, HttpOptions { addr, token }, after_call)?
        }
    }
    Ok(0)
}
