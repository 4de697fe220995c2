//! `baton search`

use baton_core::{Result, SearchRequest, Wire};

use crate::cli::SearchArgs;
use crate::output::{print_json, println_out, render_search};
use crate::settings::Context;

pub fn run(ctx: &Context, json: bool, a: SearchArgs) -> Result<i32> {
    let r = ctx.baton.search(
        &ctx.caller,
        &SearchRequest {
            text: a.text.clone(),
            kinds: a.kind.into_iter().map(Wire::text).collect(),
            limit: a.limit,
        },
    )?;
    if r.hits.is_empty() {
        ctx.warn_if_unknown_project(None);
    }
    if json {
        print_json(&r)?;
    } else {
        println_out(&render_search(&r, &a.text))?;
    }
    Ok(0)
}
