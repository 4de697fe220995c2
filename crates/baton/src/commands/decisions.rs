//! `baton decisions`

use baton_core::{DecisionsRequest, Result};

use crate::cli::DecisionsArgs;
use crate::output::{print_json, println_out, render_decisions};
use crate::settings::Context;

pub fn run(ctx: &Context, json: bool, a: DecisionsArgs) -> Result<i32> {
    let list = ctx.baton.decisions(
        &ctx.caller,
        &DecisionsRequest {
            since: a.since,
            search: a.search,
            all: a.all,
            limit: a.limit,
        },
    )?;
    if list.decisions.is_empty() {
        ctx.warn_if_unknown_project(None);
    }
    if json {
        print_json(&list)?;
    } else {
        println_out(&render_decisions(&list))?;
    }
    Ok(0)
}
