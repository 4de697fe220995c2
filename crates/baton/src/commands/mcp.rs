//! `baton mcp`: the MCP server, over stdio or streamable HTTP.

use std::sync::Arc;

use baton_core::Result;
use baton_core::config::baton_home;
use baton_mcp::{HttpOptions, Linked};

use crate::cli::McpArgs;
use crate::settings::Context;

pub fn run(ctx: Context, a: McpArgs) -> Result<i32> {
    match a.http {
        None => {
            // The client that launched this server runs baton's hooks too: follow its conversation's session.
            let state_dir = baton_home(std::env::var("BATON_HOME").ok().as_deref())?.join("hooks");
            let linked: Linked = Arc::new(move |agent: &str| baton_hooks::link::lookup(&state_dir, agent));
            baton_mcp::serve_stdio(ctx.baton, ctx.caller, Some(linked))?
        }
        Some(addr) => {
            let token = a
                .token
                .or_else(|| std::env::var("BATON_TOKEN").ok())
                .filter(|t| !t.trim().is_empty());
            baton_mcp::serve_http(ctx.baton, ctx.caller, HttpOptions { addr, token })?
        }
    }
    Ok(0)
}
