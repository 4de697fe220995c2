//! The `baton` layout: one readable file per session, `.baton/sessions/<id>.md`, showing everything the store
//! holds about it (the journal grouped by kind with times, the handoff, the claims).

use std::path::PathBuf;

use baton_core::import::DocumentSource;
use baton_core::{Claim, JournalEntry};
use serde::Serialize;

use crate::Document;
use crate::frontmatter;
use crate::markdown::NONE;
use crate::text::{self, encode_body, push_item};

/// Where baton-layout documents live, relative to the repository's top.
pub const DIR: &str = ".baton/sessions";

#[derive(Serialize)]
struct Front<'a> {
    id: &'a str,
    project: &'a str,
    agent: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
    status: &'a str,
    task_ids: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    git_branch: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    git_commit: Option<&'a str>,
    created_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ended_at: Option<String>,
    compaction_count: i64,
}

/// The file of a session: its id, which sorts by creation time.
pub fn path(id: &str) -> PathBuf {
    PathBuf::from(DIR).join(format!("{id}.md"))
}

fn entries(out: &mut String, title: &str, list: &[JournalEntry]) {
    if list.is_empty() {
        return;
    }
    out.push_str(&format!("\n## {title}\n\n"));
    let mut sorted: Vec<&JournalEntry> = list.iter().collect();
    sorted.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    for e in sorted {
        let lines = encode_body(&e.text, e.rationale.as_deref());
        push_item(out, &format!("- {} — ", text::minute(e.created_at)), &lines);
    }
}

fn claim_line(c: &Claim) -> String {
    let end = match (c.release_status, c.ended_at) {
        (Some(r), Some(t)) => format!(", released as {r} at {}", t.short()),
        _ => format!(", lease until {}", c.expires_at.short()),
    };
    format!(
        "- {} — {}, token {}, granted {}{end}\n",
        c.key().label(),
        c.state,
        c.token,
        c.granted_at.short()
    )
}

/// Renders a session in the baton layout.
pub fn render(src: &DocumentSource) -> Document {
    let ctx = &src.context;
    let s = &ctx.session;
    let front = Front {
        id: &s.id,
        project: &s.project,
        agent: &s.agent,
        name: s.name.as_deref(),
        role: s.role.as_deref(),
        status: s.status.as_str(),
        task_ids: &s.task_ids,
        git_branch: s.git_branch.as_deref(),
        git_commit: s.git_commit.as_deref(),
        created_at: s.created_at.to_string(),
        updated_at: s.updated_at.to_string(),
        ended_at: s.ended_at.map(|t| t.to_string()),
        compaction_count: s.compaction_count,
    };
    let title = s
        .context
        .as_deref()
        .and_then(|c| text::first_line(c, 80))
        .or_else(|| s.name.clone())
        .unwrap_or_else(|| format!("Session {}", s.id));
    let mut out = format!(
        "---\n{}---\n\n# {title}\n\n{} session of {}, {}.\n",
        frontmatter::to_yaml(&front),
        capitalized(s.status.as_str()),
        s.agent,
        match s.ended_at {
            Some(t) => format!("started {} and ended {}", text::minute(s.created_at), text::minute(t)),
            None => format!(
                "started {}, last updated {}",
                text::minute(s.created_at),
                text::minute(s.updated_at)
            ),
        }
    );
    out.push_str("\n## Goal\n\n");
    match s.context.as_deref().filter(|c| !c.trim().is_empty()) {
        Some(c) => {
            for l in encode_body(c, None) {
                out.push_str(&l);
                out.push('\n');
            }
        }
        None => out.push_str(&format!("{NONE}\n")),
    }
    if let Some(sum) = s.summary.as_deref().filter(|x| !x.trim().is_empty()) {
        out.push_str("\n## Summary\n\n");
        for l in encode_body(sum, None) {
            out.push_str(&l);
            out.push('\n');
        }
    }
    if let Some(h) = s.handoff.as_ref().filter(|h| !h.is_empty()) {
        out.push_str("\n## Handoff\n");
        if let Some(n) = &h.notes {
            out.push('\n');
            for l in encode_body(n, None) {
                out.push_str(&l);
                out.push('\n');
            }
        }
        for (label, list) in [("Done", &h.done), ("Next", &h.next), ("Blockers", &h.blockers)] {
            if list.is_empty() {
                continue;
            }
            out.push_str(&format!("\n{label}:\n\n"));
            for item in list {
                push_item(&mut out, "- ", &encode_body(item, None));
            }
        }
    }
    entries(&mut out, "Progress", &ctx.journal.progress);
    entries(&mut out, "Done", &ctx.journal.done);
    entries(&mut out, "Decisions", &ctx.journal.decisions);
    entries(&mut out, "Discoveries", &ctx.journal.discoveries);
    entries(&mut out, "Blockers", &ctx.journal.blockers);
    entries(&mut out, "Next steps", &ctx.journal.next_steps);
    entries(&mut out, "Notes", &ctx.journal.notes);
    entries(&mut out, "Checkpoints", &ctx.journal.checkpoints);
    if !ctx.claims.is_empty() {
        out.push_str("\n## Claims\n\n");
        let mut claims: Vec<&Claim> = ctx.claims.iter().collect();
        claims.sort_by(|a, b| (a.granted_at, &a.id).cmp(&(b.granted_at, &b.id)));
        for c in claims {
            out.push_str(&claim_line(c));
        }
    }
    Document {
        path: path(&s.id),
        content: out,
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
