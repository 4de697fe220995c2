//! The short text that goes with each structured result. Many clients show the model only the
//! text, so it carries what an agent acts on (ids, holders, the digest) and nothing more.

use crate::words::Tools;
use baton_core::render::{
    claim_line, event_row, rel, render_context, render_context_and_digest_in, render_digest_in, session_ended,
};
use baton_core::words::Words;
use baton_core::{
    ChangesPage, ClaimList, ClaimOutcome, Heartbeat, Logged, Released, Resumed, Session, SessionContext, SessionEnded,
    SessionList, SessionStarted, Timestamp, clip,
};

pub fn started(r: &SessionStarted, now: Timestamp) -> String {
    let warnings: String = r
        .warnings
        .iter()
        .map(|w| format!("Warning: {}\n", Tools.warning(w)))
        .collect();
    format!(
        "Session {} started for {} in {}. Pass session_id {} to later calls: a client without MCP sessions (stateless HTTP) keeps no default between them.\n{warnings}\n{}",
        r.session_id,
        r.session.agent,
        r.session.project,
        r.session_id,
        render_digest_in(&r.digest, now, &Tools)
    )
}

pub fn ended(r: &SessionEnded) -> String {
    session_ended(r, &format!("ended as {}", r.session.status))
}

pub fn logged(r: &Logged) -> String {
    let paused = if r.paused {
        " The session is paused: resume it with session_resume."
    } else {
        ""
    };
    format!("Logged {} to session {}.{paused}", r.entry.kind, r.session_id)
}

pub fn checkpoint(r: &Logged) -> String {
    format!("Checkpoint recorded in session {}.", r.session_id)
}

pub fn paused(s: &Session) -> String {
    format!("Session {} paused. Resume it with session_resume.", s.id)
}

pub fn resumed(r: &Resumed, now: Timestamp) -> String {
    format!(
        "Resumed session {}. Pass session_id {} to later calls.\n\n{}",
        r.session_id,
        r.session_id,
        render_context_and_digest_in(&r.context, &r.digest, now, &Tools)
    )
}

pub fn context(c: &SessionContext, now: Timestamp) -> String {
    render_context(c, now, None)
}

pub fn session_list(r: &SessionList, now: Timestamp) -> String {
    if r.sessions.is_empty() {
        return "No sessions.".to_string();
    }
    r.sessions
        .iter()
        .map(|s| {
            let stale = if s.stale { " STALE" } else { "" };
            let what = s.context.as_deref().or(s.name.as_deref()).unwrap_or("(no context)");
            format!(
                "{} {} [{}{stale}] {} — seen {}",
                s.id,
                s.agent,
                s.status,
                clip(what, 80),
                rel(s.last_seen, now)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn claim(r: &ClaimOutcome, now: Timestamp) -> String {
    let label = r.item.label();
    match (&r.claim, &r.claimed_by) {
        (Some(c), _) => {
            let how = if r.renewed { "Renewed" } else { "Claimed" };
            let mut s = format!(
                "{how} {label}: token {}, expires {} ({}).",
                c.token,
                c.expires_at.short(),
                rel(c.expires_at, now)
            );
            if let Some(prev) = &r.taken_over_from {
                s.push_str(&format!(
                    "\nTook over an expired lease from {} (session {}).",
                    prev.agent, prev.session
                ));
            }
            s
        }
        (None, Some(h)) => format!(
            "Not claimed: {label} is held by agent '{}' (session {}) since {}; the lease expires at {} ({}). Pick other work.",
            h.agent,
            h.session,
            h.since.short(),
            h.expires_at.short(),
            rel(h.expires_at, now)
        ),
        (None, None) => format!("Not claimed: {label}."),
    }
}

pub fn released(r: &Released) -> String {
    let forced = if r.forced {
        format!(" (forced from {})", r.claim.agent)
    } else {
        String::new()
    };
    let status = r.claim.release_status.map(|s| s.to_string()).unwrap_or_default();
    format!("Released {} as {status}{forced}.", r.claim.key().label())
}

pub fn heartbeat(r: &Heartbeat) -> String {
    let mut s = format!("Session {} renewed with {} claims.", r.session_id, r.renewed.len());
    if r.resumed {
        s.push_str(" It was paused and is active again.");
    }
    for l in &r.lost {
        s.push_str(&format!(
            "\nLease lost on {} (your token {}): {}. Stop working on it.",
            l.item.label(),
            l.your_token,
            l.how()
        ));
    }
    s
}

pub fn claim_list(r: &ClaimList, now: Timestamp) -> String {
    if r.claims.is_empty() {
        return format!("No active claims in {}.", r.project);
    }
    r.claims
        .iter()
        .map(|v| {
            let mine = if v.mine { "* " } else { "  " };
            format!("{mine}{}", claim_line(&v.claim, now))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn changes(r: &ChangesPage) -> String {
    let mut lines: Vec<String> = r.events.iter().map(event_row).collect();
    let more = if r.more {
        " (more: call again with since set to it)"
    } else {
        ""
    };
    lines.push(format!("next_cursor: {}{more}", r.next_cursor));
    lines.join("\n")
}

pub fn search(r: &baton_core::SearchResults, text: &str) -> String {
    baton_core::render::render_search(r, text)
}
