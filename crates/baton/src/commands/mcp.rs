//! `baton mcp`: the MCP server, over stdio or streamable HTTP.

use baton_core::Result;
use baton_mcp::HttpOptions;

use crate::cli::McpArgs;
use crate::settings::Context;

pub fn run(ctx: Context, a: McpArgs) -> Result<i32> {
    match a.http {
        None => baton_mcp::serve_stdio(ctx.baton, ctx.caller)?,
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
