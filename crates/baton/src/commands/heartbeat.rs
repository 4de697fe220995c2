//! `baton heartbeat`

use baton_core::Result;

use crate::output::{print_json, println_out};
use crate::settings::Context;

pub fn run(ctx: &Context, json: bool) -> Result<i32> {
    let r = ctx.baton.heartbeat(&ctx.caller)?;
    let code = if r.lost.is_empty() { 0 } else { 3 };
    if json {
        print_json(&r)?;
        return Ok(code);
    }
    println_out(&format!(
        "Session {} renewed with {} claims.{}",
        r.session_id,
        r.renewed.len(),
        if r.resumed {
            " It was paused and is active again."
        } else {
            ""
        }
    ))?;
    for l in &r.lost {
        let by = l
            .taken_by
            .as_ref()
            .map(|h| format!(" by agent '{}' (session {})", h.agent, h.session))
            .unwrap_or_default();
        eprintln!(
            "error: lease lost on {} (your token {}): it expired and was taken over{by}",
            l.item.label(),
            l.your_token
        );
    }
    Ok(code)
}
