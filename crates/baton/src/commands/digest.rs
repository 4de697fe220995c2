//! `baton digest`

use baton_core::Result;

use crate::output::{print_json, println_out, render_digest};
use crate::settings::Context;

pub fn run(ctx: &Context, json: bool) -> Result<i32> {
    let d = ctx.baton.digest(&ctx.caller)?;
    if d.first_session {
        ctx.warn_if_unknown_project(ctx.caller.session.as_deref());
    }
    if json {
        print_json(&d)?;
    } else {
        println_out(&render_digest(&d, ctx.baton.now()))?;
    }
    Ok(0)
}
