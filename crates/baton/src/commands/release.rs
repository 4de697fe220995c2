//! `baton release TYPE ID --status S`

use baton_core::{ReleaseRequest, Result, Wire};

use crate::cli::ReleaseArgs;
use crate::output::{print_json, println_out};
use crate::settings::Context;

pub fn run(ctx: &Context, json: bool, a: ReleaseArgs) -> Result<i32> {
    let r = ctx.baton.release(
        &ctx.caller,
        ReleaseRequest {
            item_type: a.item_type,
            item_id: a.item_id,
            repo: a.repo,
            status: Wire::text(a.status),
            notes: a.notes,
            force: a.force,
            reason: a.reason,
            token: a.token,
            idempotency_key: a.idempotency_key,
        },
    )?;
    if json {
        print_json(&r)?;
    } else {
        let forced = if r.forced {
            format!(" (forced from {})", r.claim.agent)
        } else {
            String::new()
        };
        let status = r.claim.release_status.map(|s| s.as_str()).unwrap_or_default();
        println_out(&format!("Released {} as {status}{forced}.", r.claim.key().label()))?;
    }
    Ok(0)
}
