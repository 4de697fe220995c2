//! baton's MCP server: every baton operation as a tool, over stdio or streamable HTTP.
//!
//! The binary resolves the project, the agent and the store exactly as for any other command
//! and hands them over; each tool is a thin call into [`baton_core::Baton`].

mod args;
mod http;
mod messages;
mod schema;
mod server;
mod text;
mod words;

use std::sync::Arc;

use baton_core::{Baton, Caller, Error, Result};
use rmcp::ServiceExt;

pub use http::HttpOptions;
pub use server::Linked;
use server::{BatonTools, Shared};

/// Serves MCP on stdin/stdout until the client closes stdin. `linked` names the session the client's hooks
/// bound the client's conversation to, if any.
pub fn serve_stdio(baton: Baton, caller: Caller, linked: Option<Linked>) -> Result<()> {
    let shared = Arc::new(Shared::new(baton, caller).with_linked(linked));
    let rt = runtime()?;
    let result = rt.block_on(async {
        let running = BatonTools::new(shared.clone())
            .serve(rmcp::transport::io::stdio_pipes())
            .await
            .map_err(|e| Error::internal(format!("MCP handshake on stdio failed: {e}")))?;
        running
            .waiting()
            .await
            .map_err(|e| Error::internal(format!("MCP server on stdio stopped: {e}")))?;
        Ok(())
    });
    // The runtime goes first: the store (a PostgreSQL client runs its own runtime) must be dropped
    // outside any async context.
    drop(rt);
    drop(shared);
    result
}

/// Serves MCP over streamable HTTP at `http://ADDR/mcp` until the process is stopped.
pub fn serve_http(baton: Baton, caller: Caller, options: HttpOptions) -> Result<()> {
    let addr = http::check(&options)?;
    let shared = Arc::new(Shared::new(baton, caller));
    let rt = runtime()?;
    let result = rt.block_on(http::serve(shared.clone(), addr, options.token));
    drop(rt);
    drop(shared);
    result
}

/// One thread runs the protocol; store calls go to tokio's blocking pool.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the MCP server's runtime: {e}")))
}
