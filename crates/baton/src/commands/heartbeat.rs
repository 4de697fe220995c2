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
        eprintln!(
            "error: lease lost on {} (your token {}): {}",
            l.item.label(),
            l.your_token,
            l.how()
        );
    }
    Ok(code)
}
