//! `baton doctor`

use baton_core::{Error, Result};
use serde_json::json;

use crate::cli::DoctorArgs;
use crate::output::{print_json, println_out};
use crate::settings::Context;

pub fn run(ctx: &Context, json: bool, a: DoctorArgs) -> Result<i32> {
    let store = ctx.baton.store();
    let problems = baton_core::integrity::problems(store)?;
    let sweep = if a.sweep { Some(ctx.baton.sweep(None)?) } else { None };
    if json {
        print_json(&json!({
            "backend": store.backend(),
            "location": store.location(),
            "project": ctx.caller.project.key,
            "repo": ctx.caller.project.repo,
            "agent": ctx.caller.agent,
            "healthy": problems.is_empty(),
            "problems": problems,
            "sweep": sweep,
        }))?;
    } else {
        let mut s = format!(
            "Store: {} at {}\nProject: {} (repo {})\nAgent: {}\n",
            store.backend(),
            store.location(),
            ctx.caller.project.key,
            ctx.caller.project.repo,
            ctx.caller.agent
        );
        if problems.is_empty() {
            s.push_str("Integrity: ok");
        } else {
            s.push_str(&format!(
                "Integrity: {} problems\n  {}",
                problems.len(),
                problems.join("\n  ")
            ));
        }
        if let Some(sw) = &sweep {
            s.push_str(&format!(
                "\nSweep: {} stale sessions paused, {} run-out claims marked expired",
                sw.paused.len(),
                sw.expired.len()
            ));
        }
        println_out(&s)?;
    }
    if !problems.is_empty() {
        return Err(Error::internal(format!(
            "the store has {} integrity problems",
            problems.len()
        )));
    }
    Ok(0)
}
