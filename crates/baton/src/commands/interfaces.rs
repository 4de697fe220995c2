//! `baton export`, `baton interfaces`, `baton needs`, and `baton roles` (what sessions are for)

use baton_core::{ExportRequest, Interface, NeedRequest, Result};

use crate::cli::{ExportArgs, NeedsArgs};
use crate::output::{print_json, println_out, rel};
use crate::settings::Context;

fn line(i: &Interface, now: baton_core::Timestamp) -> String {
    format!(
        "{}{}{} — {} (session {}, {})",
        i.name,
        i.file.as_deref().map(|f| format!(" in {f}")).unwrap_or_default(),
        i.description.as_deref().map(|d| format!(": {d}")).unwrap_or_default(),
        i.agent,
        i.session_id,
        rel(i.updated_at, now)
    )
}

pub fn export(ctx: &Context, json: bool, a: ExportArgs) -> Result<i32> {
    let r = ctx.baton.export(
        &ctx.caller,
        ExportRequest {
            name: a.name,
            file: a.file,
            description: a.description,
        },
    )?;
    if json {
        print_json(&r)?;
        return Ok(0);
    }
    let how = if r.updated { "Updated" } else { "Declared" };
    let told = match r.told.len() {
        0 => "no session needs it yet".to_string(),
        n => format!(
            "told {n} that need it: {}",
            r.told.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
        ),
    };
    println_out(&format!("{how} {}; {told}.", line(&r.interface, ctx.baton.now())))?;
    Ok(0)
}

/// `session`: the `--session` flag (not `BATON_SESSION`), which filters.
pub fn list(ctx: &Context, json: bool, session: Option<&str>) -> Result<i32> {
    let r = ctx.baton.interfaces(&ctx.caller, session)?;
    if json {
        print_json(&r)?;
        return Ok(0);
    }
    if r.interfaces.is_empty() {
        println_out(&format!("No interfaces declared in {}.", r.project))?;
        return Ok(0);
    }
    let now = ctx.baton.now();
    let lines: Vec<String> = r.interfaces.iter().map(|i| line(i, now)).collect();
    println_out(&lines.join("\n"))?;
    Ok(0)
}

pub fn needs(ctx: &Context, json: bool, a: NeedsArgs) -> Result<i32> {
    let r = ctx.baton.need(
        &ctx.caller,
        NeedRequest {
            name: a.name,
            from: a.from,
        },
    )?;
    if json {
        print_json(&r)?;
        return Ok(0);
    }
    let mut text = format!(
        "This session needs {} from {}; it gets an interface_ready message whenever that is declared or updated.",
        r.dependency.name, r.dependency.from
    );
    if let Some(i) = &r.available {
        text.push_str(&format!("\nAlready there: {}", line(i, ctx.baton.now())));
    }
    println_out(&text)?;
    Ok(0)
}

pub fn roles(ctx: &Context, json: bool) -> Result<i32> {
    let roles = &ctx.baton.policy().roles;
    if json {
        print_json(&serde_json::json!({ "roles": roles }))?;
        return Ok(0);
    }
    let lines: Vec<String> = roles
        .iter()
        .map(|r| {
            let allow = if r.allow.is_empty() {
                String::new()
            } else {
                format!(" (may: {})", r.allow.join(", "))
            };
            let from = if r.configured { " [config]" } else { "" };
            format!("{:<12} {}{allow}{from}", r.name, r.description)
        })
        .collect();
    println_out(&lines.join("\n"))?;
    Ok(0)
}
