//! `baton claim TYPE ID`

use baton_core::{ClaimRequest, Result};

use crate::cli::ClaimArgs;
use crate::output::{print_json, println_out, rel};
use crate::settings::Context;

pub fn run(ctx: &Context, json: bool, a: ClaimArgs) -> Result<i32> {
    let r = ctx.baton.claim(
        &ctx.caller,
        ClaimRequest {
            item_type: a.item_type,
            item_id: a.item_id,
            repo: a.repo,
            ttl: a.ttl,
            idempotency_key: a.idempotency_key,
            new_type: a.new_type,
        },
    )?;
    let code = if r.claimed { 0 } else { 3 };
    if json {
        print_json(&r)?;
        return Ok(code);
    }
    let now = ctx.baton.now();
    let label = r.item.label();
    match (&r.claim, &r.claimed_by) {
        (Some(c), _) => {
            let how = if r.renewed { "Renewed" } else { "Claimed" };
            let mut text = format!(
                "{how} {label}: token {}, expires {} ({}).",
                c.token,
                c.expires_at.short(),
                rel(c.expires_at, now)
            );
            if let Some(prev) = &r.taken_over_from {
                text.push_str(&format!(
                    "\nTook over an expired lease from {} (session {}, expired {}).",
                    prev.agent,
                    prev.session,
                    rel(prev.expires_at, now)
                ));
            }
            println_out(&text)?;
        }
        (None, Some(h)) => {
            eprintln!(
                "error: {label} is held by agent '{}' (session {}) since {}; the lease expires at {} ({})",
                h.agent,
                h.session,
                h.since.short(),
                h.expires_at.short(),
                rel(h.expires_at, now)
            );
        }
        (None, None) => {}
    }
    Ok(code)
}
