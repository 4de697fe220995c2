//! `baton context INSTRUCTION`, `baton context render`, `baton recommend INSTRUCTION`

use baton_core::Result;
use baton_core::render::{message_line, request_line};

use crate::cli::{ContextAction, ContextArgs, InstructionArgs};
use crate::output::{print_json, println_out, rel};
use crate::settings::Context;

pub fn context(ctx: &Context, json: bool, a: ContextArgs) -> Result<i32> {
    match a.action {
        Some(ContextAction::Render) => return render(ctx, json),
        Some(ContextAction::Import(i)) => return import(ctx, json, i.path),
        None => {}
    }
    let instruction = a.instruction.unwrap_or_default();
    let r = ctx.baton.instruction_context(&ctx.caller, &instruction, a.decisions)?;
    if json {
        print_json(&r)?;
        return Ok(0);
    }
    let now = ctx.baton.now();
    let mut out = vec![
        r.instruction.clone(),
        String::new(),
        "What the team knows that bears on it:".to_string(),
    ];
    if !r.interfaces.is_empty() {
        out.push("Interfaces from other sessions:".into());
        for i in &r.interfaces {
            out.push(format!(
                "  {}{}{} — {} (session {})",
                i.name,
                i.file.as_deref().map(|f| format!(" in {f}")).unwrap_or_default(),
                i.description.as_deref().map(|d| format!(": {d}")).unwrap_or_default(),
                i.agent,
                i.session_id
            ));
        }
    }
    if !r.unread.is_empty() {
        out.push(format!("Unread messages for you ({}):", r.unread_count));
        out.extend(r.unread.iter().map(|m| format!("  {}", message_line(m, now))));
    }
    if !r.decisions.is_empty() {
        out.push("Recent decisions:".into());
        for d in &r.decisions {
            out.push(format!(
                "  {} {}{} (session {})",
                rel(d.created_at, now),
                d.text,
                d.rationale
                    .as_deref()
                    .map(|w| format!(" — because {w}"))
                    .unwrap_or_default(),
                d.session_id
            ));
        }
    }
    if !r.requests.is_empty() {
        out.push("Open requests:".into());
        out.extend(r.requests.iter().map(|q| format!("  {}", request_line(q, now))));
    }
    if r.interfaces.is_empty() && r.unread.is_empty() && r.decisions.is_empty() && r.requests.is_empty() {
        out.push(
            "  nothing yet: no interfaces that share its words, no unread messages, decisions or open requests".into(),
        );
    }
    for (what, n) in &r.left_out {
        let see = match what.as_str() {
            "interfaces" => "baton interfaces",
            "unread" => "baton inbox",
            "decisions" => "--decisions N",
            _ => "baton requests",
        };
        let n = if what == "decisions" {
            "more".to_string()
        } else {
            format!("{n} more")
        };
        out.push(format!("Left out: {n} {what} ({see})."));
    }
    println_out(&out.join("\n"))?;
    Ok(0)
}

pub fn recommend(ctx: &Context, json: bool, a: InstructionArgs) -> Result<i32> {
    let r = ctx.baton.recommend(&ctx.caller, &a.instruction)?;
    if json {
        print_json(&r)?;
        return Ok(0);
    }
    let text = match (&r.session_id, &r.agent) {
        (Some(id), Some(agent)) => format!(
            "Session {id} ({agent}) should take it: {}. (It reads as work for the {} role.)",
            r.reasons.join("; "),
            r.role
        ),
        _ => format!("No open session fits: {}.", r.reasons.join("; ")),
    };
    println_out(&text)?;
    Ok(0)
}

/// `baton context render`: `.baton/context.yaml` under the project's root.
fn render(ctx: &Context, json: bool) -> Result<i32> {
    let c = ctx.baton.team_context(&ctx.caller)?;
    let root = ctx.docs_root()?;
    let (path, written) = baton_docs::write_team_context(&root, &c)
        .map_err(|e| baton_core::Error::internal(format!("cannot write {}: {e}", baton_docs::CONTEXT_FILE)))?;
    if json {
        print_json(&serde_json::json!({"path": path, "written": written, "context": c}))?;
        return Ok(0);
    }
    let n: usize = c.interfaces.values().map(Vec::len).sum();
    println_out(&format!(
        "{} {}: {n} interfaces in {} areas, {} decisions, {} open requests.",
        if written { "Wrote" } else { "Unchanged:" },
        path.display(),
        c.interfaces.len(),
        c.decisions.len(),
        c.todos.len()
    ))?;
    Ok(0)
}

/// `baton context import [PATH]`.
fn import(ctx: &Context, json: bool, path: Option<std::path::PathBuf>) -> Result<i32> {
    let path = match path {
        Some(p) => p,
        None => ctx.docs_root()?.join(baton_docs::CONTEXT_FILE),
    };
    let file = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => baton_core::Error::not_found(format!("no such context file: {file}")),
        _ => baton_core::Error::internal(format!("cannot read {file}: {e}")),
    })?;
    let c = baton_docs::parse_team_context(&file, &text, &ctx.caller.project.key)?;
    let r = ctx.baton.import_team_context(&ctx.caller, &c, &file)?;
    if json {
        print_json(&r)?;
        return Ok(0);
    }
    let new = r.sessions.iter().filter(|s| s.imported).count();
    let mut lines = vec![format!(
        "Imported {file}: {new} sessions, {} decisions, {} interfaces declared or updated.",
        r.decisions, r.interfaces
    )];
    lines.extend(r.skipped.iter().map(|s| format!("Left as it is: {s}.")));
    println_out(&lines.join("\n"))?;
    Ok(0)
}
