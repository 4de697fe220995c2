//! `baton claims`

use baton_core::{ClaimsRequest, Result};

use crate::cli::ClaimsArgs;
use crate::output::{claim_line, print_json, println_out};
use crate::settings::Context;

pub fn run(ctx: &Context, json: bool, a: ClaimsArgs) -> Result<i32> {
    let r = ctx.baton.claims(
        &ctx.caller,
        ClaimsRequest {
            mine: a.mine,
            item_type: a.item_type,
            include_released: a.include_released,
        },
    )?;
    if r.claims.is_empty() {
        ctx.warn_if_unknown_project(None);
    }
    if json {
        print_json(&r)?;
        return Ok(0);
    }
    if r.claims.is_empty() {
        println_out(&format!("No active claims in {}.", r.project))?;
        return Ok(0);
    }
    let now = ctx.baton.now();
    let lines: Vec<String> = r
        .claims
        .iter()
        .map(|v| {
            let state = match v.claim.state {
                baton_core::ClaimState::Held | baton_core::ClaimState::Expired => String::new(),
                other => format!(
                    "  [{other}{}]",
                    v.claim.release_status.map(|s| format!(" {s}")).unwrap_or_default()
                ),
            };
            let mine = if v.mine { "* " } else { "  " };
            format!("{mine}{}{state}", claim_line(&v.claim, now))
        })
        .collect();
    println_out(&lines.join("\n"))?;
    Ok(0)
}
