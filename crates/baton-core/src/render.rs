//! Text forms of digests, session contexts, claims and events, for people and for agents' context windows.
//! Shared by the CLI, hooks and the MCP server's short text results.

use std::fmt::Write as _;

use crate::time::human_span;
use crate::words::{CommandLine, Words};
use crate::{Claim, Digest, Event, JournalEntry, Session, SessionContext, SessionEnded, SessionStatus, Timestamp};

/// `3m ago`, `in 25m`.
pub fn rel(t: Timestamp, now: Timestamp) -> String {
    let secs = (now.0 - t.0) / 1_000_000;
    if secs >= 0 {
        format!("{} ago", human_span(secs))
    } else {
        format!("in {}", human_span(-secs))
    }
}

pub fn claim_line(c: &Claim, now: Timestamp) -> String {
    let lease = if c.expires_at > now {
        format!("expires {}", rel(c.expires_at, now))
    } else {
        format!("EXPIRED {}", rel(c.expires_at, now))
    };
    format!(
        "{} {}#{}  {} (session {})  token {}  since {}  {}",
        c.item_type,
        c.repo,
        c.item_id,
        c.agent,
        c.session_id,
        c.token,
        rel(c.granted_at, now),
        lease
    )
}

fn event_line(e: &Event, now: Timestamp) -> String {
    format!("#{} {} {} {} {}", e.seq, rel(e.time, now), e.agent, e.kind, e.target)
}

/// One event per line, for `changes`.
pub fn event_row(e: &Event) -> String {
    let data = if e.data.is_null() {
        String::new()
    } else {
        format!("  {}", compact_data(&e.data))
    };
    format!(
        "{:>6}  {}  {:<12} {:<18} {}{}",
        e.seq,
        e.time.short(),
        e.agent,
        e.kind,
        e.target,
        data
    )
}

fn compact_data(v: &serde_json::Value) -> String {
    let Some(map) = v.as_object() else { return v.to_string() };
    let mut parts = Vec::new();
    for (k, v) in map {
        if v.is_null() || v.as_array().is_some_and(|a| a.is_empty()) {
            continue;
        }
        let shown = match v {
            serde_json::Value::String(s) => crate::clip(s, 80),
            other => crate::clip(&other.to_string(), 80),
        };
        parts.push(format!("{k}={shown}"));
    }
    parts.join(" ")
}

/// The digest as text, for people and for agents' context windows.
pub fn render_digest(d: &Digest, now: Timestamp) -> String {
    render_digest_in(d, now, &CommandLine)
}

/// [`render_digest`], pointing at the rest of what it left out in a front end's `words`.
pub fn render_digest_in(d: &Digest, now: Timestamp, words: &dyn Words) -> String {
    digest_beside(d, now, None, words)
}

/// A session's context followed by the digest, without what the context already shows: the session's
/// claims ("Claims held") and its blockers appear once.
pub fn render_context_and_digest(c: &SessionContext, d: &Digest, now: Timestamp) -> String {
    render_context_and_digest_in(c, d, now, &CommandLine)
}

/// [`render_context_and_digest`] in a front end's `words`.
pub fn render_context_and_digest_in(c: &SessionContext, d: &Digest, now: Timestamp, words: &dyn Words) -> String {
    format!(
        "{}\n\n{}",
        render_context(c, now, None),
        digest_beside(d, now, Some(&c.session.id), words)
    )
}

/// The digest; beside the context of session `shown`, without that session's claims and blockers.
fn digest_beside(d: &Digest, now: Timestamp, shown: Option<&str>, words: &dyn Words) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Project {} — digest for {}", d.project, d.agent);
    match &d.last_handoff {
        None if d.first_session => {
            let _ = writeln!(s, "This is the first session in this project: there is no handoff yet.");
        }
        None => {
            let _ = writeln!(s, "No session of this project has left a handoff yet.");
        }
        Some(h) => {
            let when = h.ended_at.map(|t| rel(t, now)).unwrap_or_default();
            let _ = writeln!(
                s,
                "\nHandoff from {} (session {}, {} {}):",
                h.agent, h.session_id, h.status, when
            );
            if let Some(sum) = &h.summary {
                let _ = writeln!(s, "  Summary: {sum}");
            }
            if let Some(n) = &h.handoff.notes {
                let _ = writeln!(s, "  Notes: {n}");
            }
            for (label, list) in [
                ("Done", &h.handoff.done),
                ("Next", &h.handoff.next),
                ("Blocker", &h.handoff.blockers),
            ] {
                for item in list {
                    let _ = writeln!(s, "  {label}: {item}");
                }
            }
            if h.summary.is_none() && h.handoff.is_empty() {
                let _ = writeln!(s, "  (it left no summary or notes)");
            }
        }
    }
    if let Some(m) = &d.messages
        && (m.unread > 0 || !m.requests_for_me.is_empty())
    {
        let more = if m.unread_capped { "more than " } else { "" };
        let _ = writeln!(s, "\nFor you: {more}{} unread message(s) (baton inbox):", m.unread);
        for msg in &m.oldest_unread {
            let _ = writeln!(s, "  {}", message_line(msg, now));
        }
        for r in &m.requests_for_me {
            let _ = writeln!(s, "  waiting for your answer: {}", request_line(r, now));
        }
    }
    if !d.active_sessions.is_empty() {
        let _ = writeln!(s, "\nOther open sessions:");
        // Sessions with no goal say nothing one by one: they are counted instead of listed.
        let mut unnamed = 0;
        for a in &d.active_sessions {
            let Some(what) = a.context.as_deref().or(a.name.as_deref()) else {
                unnamed += 1;
                continue;
            };
            let stale = if a.stale { " STALE" } else { "" };
            let branch = a.git_branch.as_deref().map(|b| format!(" on {b}")).unwrap_or_default();
            let role = a.role.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
            let _ = writeln!(
                s,
                "  {}{role} [{}{stale}] {}{branch} — seen {} (session {})",
                a.agent,
                a.status,
                what,
                rel(a.last_seen, now),
                a.session_id
            );
        }
        if unnamed > 0 {
            let _ = writeln!(
                s,
                "  {}{unnamed} {} with no goal (see `baton session list`)",
                if unnamed == d.active_sessions.len() { "" } else { "and " },
                if unnamed == 1 { "session" } else { "sessions" }
            );
        }
    }
    if !d.my_claims.is_empty() && d.my_claims.iter().any(|c| Some(c.session_id.as_str()) != shown) {
        let _ = writeln!(s, "\nYour claims:");
        for c in &d.my_claims {
            let _ = writeln!(s, "  {}", claim_line(c, now));
        }
    }
    // Claims of this agent's other sessions are not someone else's.
    let (mine_elsewhere, others): (Vec<&Claim>, Vec<&Claim>) = d.other_claims.iter().partition(|c| c.agent == d.agent);
    for (title, list) in [
        ("Claimed by your other sessions", mine_elsewhere),
        ("Claimed by others", others),
    ] {
        if !list.is_empty() {
            let _ = writeln!(s, "\n{title}:");
            for c in list {
                let _ = writeln!(s, "  {}", claim_line(c, now));
            }
        }
    }
    let blockers: Vec<_> = d
        .blockers
        .iter()
        .filter(|b| Some(b.session_id.as_str()) != shown)
        .collect();
    if !blockers.is_empty() {
        let _ = writeln!(s, "\nBlockers:");
        for b in blockers {
            let _ = writeln!(
                s,
                "  {} ({}, {}): {}",
                b.agent,
                b.session_id,
                rel(b.created_at, now),
                b.text
            );
        }
    }
    let c = &d.changes;
    match c.since {
        Some(t) => {
            let plus = if c.count_capped { "+" } else { "" };
            let noun = if c.count == 1 && !c.count_capped {
                "change"
            } else {
                "changes"
            };
            let _ = writeln!(
                s,
                "\n{}{plus} {noun} since your previous session here ({}).",
                c.count,
                rel(t, now)
            );
        }
        None if !d.first_session => {
            let _ = writeln!(s, "\nYour first session here: {} changes so far.", c.count);
        }
        None => {}
    }
    if !c.newest.is_empty() {
        let _ = writeln!(s, "Newest:");
        for e in &c.newest {
            let _ = writeln!(s, "  {}", event_line(e, now));
        }
    }
    if !d.omitted.is_empty() {
        let notes: Vec<String> = d.omitted.iter().map(|o| words.omission(o)).collect();
        let _ = writeln!(s, "\nLeft out to keep this short: {}.", notes.join("; "));
    }
    s.trim_end().to_string()
}

fn entries(s: &mut String, title: &str, list: &[JournalEntry], now: Timestamp) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(s, "\n{title}:");
    for e in list {
        let _ = writeln!(s, "  - {} ({})", e.text, rel(e.created_at, now));
        if let Some(r) = &e.rationale {
            let _ = writeln!(s, "    because: {r}");
        }
    }
}

pub fn session_header(sn: &Session, now: Timestamp) -> String {
    let mut s = String::new();
    let stale = if sn.stale {
        " (STALE: no heartbeat within the stale threshold)"
    } else {
        ""
    };
    let _ = writeln!(s, "Session {} — {} — {}{stale}", sn.id, sn.agent, sn.status);
    if let Some(n) = &sn.name {
        let _ = writeln!(s, "Name: {n}");
    }
    if let Some(r) = &sn.role {
        let _ = writeln!(s, "Role: {r}");
    }
    if !sn.task_ids.is_empty() {
        let _ = writeln!(s, "Tasks: {}", sn.task_ids.join(", "));
    }
    if let Some(b) = &sn.git_branch {
        let commit = sn
            .git_commit
            .as_deref()
            .map(|c| format!(" @ {}", &c[..c.len().min(12)]))
            .unwrap_or_default();
        let _ = writeln!(s, "Git: {b}{commit}");
    }
    let _ = writeln!(
        s,
        "Started {}, last seen {}{}",
        rel(sn.created_at, now),
        rel(sn.last_seen, now),
        sn.ended_at
            .map(|t| format!(", ended {}", rel(t, now)))
            .unwrap_or_default()
    );
    s.trim_end().to_string()
}

/// A session's full context, for `resume` and `view`.
pub fn render_context(c: &SessionContext, now: Timestamp, only: Option<&str>) -> String {
    let mut s = session_header(&c.session, now);
    match only {
        Some("progress") => {
            entries(&mut s, "Progress", &c.journal.progress, now);
            return s;
        }
        Some("decisions") => {
            entries(&mut s, "Decisions", &c.journal.decisions, now);
            return s;
        }
        _ => {}
    }
    let _ = write!(
        s,
        "\n\nGoal: {}",
        c.session.context.as_deref().unwrap_or("(none given)")
    );
    let _ = write!(s, "\nTL;DR: {}\n", c.tldr);
    entries(&mut s, "Progress", &c.journal.progress, now);
    entries(&mut s, "Done", &c.journal.done, now);
    entries(&mut s, "Decisions", &c.journal.decisions, now);
    entries(&mut s, "Discoveries", &c.journal.discoveries, now);
    entries(&mut s, "Blockers", &c.journal.blockers, now);
    entries(&mut s, "Next steps", &c.journal.next_steps, now);
    entries(&mut s, "Notes", &c.journal.notes, now);
    let (held, lapsed): (Vec<&Claim>, Vec<&Claim>) = c.claims.iter().partition(|cl| cl.expires_at > now);
    if !held.is_empty() {
        let _ = writeln!(s, "\nClaims held:");
        for cl in held {
            let _ = writeln!(s, "  {}", claim_line(cl, now));
        }
    }
    if !lapsed.is_empty() {
        let _ = writeln!(
            s,
            "\nClaims whose lease expired (claim again before working on them; another session may take them):"
        );
        for cl in lapsed {
            let _ = writeln!(s, "  {}", claim_line(cl, now));
        }
    }
    if let Some(sum) = &c.session.summary {
        let _ = writeln!(s, "\nSummary: {sum}");
    }
    if let Some(h) = &c.session.handoff
        && let Some(n) = &h.notes
    {
        let _ = writeln!(s, "Handoff: {n}");
    }
    s.trim_end().to_string()
}

/// `Session ID <what>.`, the claims ending it released as deferred, and a warning when a completed session
/// left no handoff notes. `what` is like `ended as completed`.
pub fn session_ended(r: &SessionEnded, what: &str) -> String {
    let mut s = format!("Session {} {what}.", r.session.id);
    if !r.released.is_empty() {
        s.push_str("\nReleased as deferred:");
        for c in &r.released {
            let _ = write!(s, "\n  {} {}#{}", c.item_type, c.repo, c.item_id);
        }
    }
    if r.session.status == SessionStatus::Completed && r.session.handoff.as_ref().is_none_or(|h| h.is_empty()) {
        s.push_str("\nNo handoff notes were left; the next session starts without them.");
    }
    s
}

/// At most this many characters of one journal entry (or rationale) in a bounded context.
const ENTRY_CLIP: usize = 500;

/// A session's context in at most `max_chars` characters, for context windows with a cap.
///
/// Every entry is clipped to a few hundred characters, so one long entry cannot eat the budget. When the whole
/// still does not fit, entries are left out in this order: the oldest progress (the newest three stay), notes,
/// discoveries, done, the rest of the progress but the newest, the oldest decisions, next steps and blockers
/// (the newest three of each stay), then the oldest claims. A last line says what was left out and where to read it.
pub fn render_context_within(c: &SessionContext, now: Timestamp, max_chars: usize) -> String {
    let mut c = c.clone();
    for list in [
        &mut c.journal.progress,
        &mut c.journal.decisions,
        &mut c.journal.discoveries,
        &mut c.journal.blockers,
        &mut c.journal.next_steps,
        &mut c.journal.done,
        &mut c.journal.notes,
    ] {
        for e in list.iter_mut() {
            e.text = crate::clip(&e.text, ENTRY_CLIP);
            e.rationale = e.rationale.as_deref().map(|r| crate::clip(r, ENTRY_CLIP));
        }
    }
    c.session.summary = c.session.summary.as_deref().map(|s| crate::clip(s, 2 * ENTRY_CLIP));
    if let Some(h) = c.session.handoff.as_mut() {
        h.notes = h.notes.as_deref().map(|n| crate::clip(n, 2 * ENTRY_CLIP));
    }
    // Counts of what was left out, by section.
    let mut left = [0usize; 8];
    const WHAT: [&str; 8] = [
        "older progress",
        "notes",
        "discoveries",
        "done",
        "decisions",
        "next steps",
        "blockers",
        "claims",
    ];
    // No more entries than could ever fit are rendered, so the loop below stays short.
    let most = max_chars / 40 + 1;
    for (i, list) in [
        (0, &mut c.journal.progress),
        (1, &mut c.journal.notes),
        (2, &mut c.journal.discoveries),
        (3, &mut c.journal.done),
        (4, &mut c.journal.decisions),
        (5, &mut c.journal.next_steps),
        (6, &mut c.journal.blockers),
    ] {
        if list.len() > most {
            left[i] += list.len() - most;
            list.drain(..list.len() - most);
        }
    }
    let render = |c: &SessionContext, left: &[usize; 8]| {
        let mut s = render_context(c, now, None);
        let parts: Vec<String> = left
            .iter()
            .zip(WHAT)
            .filter(|(n, _)| **n > 0)
            .map(|(n, w)| format!("{n} {w}"))
            .collect();
        if !parts.is_empty() {
            let _ = write!(
                s,
                "\n\nLeft out to keep this short: {} (see `baton session view {}`).",
                parts.join(", "),
                c.session.id
            );
        }
        s
    };
    loop {
        let s = render(&c, &left);
        let excess = s.chars().count().saturating_sub(max_chars);
        if excess == 0 {
            return s;
        }
        // The first section that may still give up entries, oldest first, down to the entries it keeps.
        let (i, floor) = if c.journal.progress.len() > 3 {
            (0, 3)
        } else if !c.journal.notes.is_empty() {
            (1, 0)
        } else if !c.journal.discoveries.is_empty() {
            (2, 0)
        } else if !c.journal.done.is_empty() {
            (3, 0)
        } else if c.journal.progress.len() > 1 {
            (0, 1)
        } else if c.journal.decisions.len() > 3 {
            (4, 3)
        } else if c.journal.next_steps.len() > 3 {
            (5, 3)
        } else if c.journal.blockers.len() > 3 {
            (6, 3)
        } else if c.claims.len() > 3 {
            (7, 3)
        } else if !c.journal.progress.is_empty() {
            (0, 0)
        } else if !c.journal.decisions.is_empty() {
            (4, 0)
        } else {
            // Only the newest next steps, blockers and claims are left: the cap cuts the text itself.
            return s.chars().take(max_chars).collect();
        };
        // Drop about as many characters as are over, at least one entry.
        let mut dropped = 0;
        if i == 7 {
            while c.claims.len() > floor && dropped < excess {
                dropped += claim_line(&c.claims[0], now).chars().count() + 3;
                c.claims.remove(0);
                left[7] += 1;
            }
            continue;
        }
        let list = match i {
            0 => &mut c.journal.progress,
            1 => &mut c.journal.notes,
            2 => &mut c.journal.discoveries,
            3 => &mut c.journal.done,
            4 => &mut c.journal.decisions,
            5 => &mut c.journal.next_steps,
            _ => &mut c.journal.blockers,
        };
        let mut n = 0;
        while list.len() - n > floor && dropped < excess {
            let e = &list[n];
            dropped += e.text.chars().count() + e.rationale.as_deref().map_or(0, |r| r.chars().count() + 14) + 16;
            n += 1;
        }
        list.drain(..n);
        left[i] += n;
    }
}

/// [`render_context_and_digest`] in at most `max_chars` characters: the session's context comes first and gets
/// the larger share; the digest keeps its first lines (handoff, open sessions, claims, blockers) and says what
/// it left out.
pub fn render_context_and_digest_within(c: &SessionContext, d: &Digest, now: Timestamp, max_chars: usize) -> String {
    let digest = digest_beside(d, now, Some(&c.session.id), &CommandLine);
    let digest_len = digest.chars().count();
    let context_room = max_chars.saturating_sub(digest_len.min(max_chars * 2 / 5) + 2);
    let context = render_context_within(c, now, context_room);
    let room = max_chars.saturating_sub(context.chars().count() + 2);
    format!("{context}\n\n{}", fit_lines(&digest, room, "baton digest"))
}

/// `text` in at most `max_chars` characters, cut at a line and saying so (`run` names the command for the rest).
pub fn fit_lines(text: &str, max_chars: usize, run: &str) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut kept = String::new();
    let mut used = 0;
    for (i, line) in lines.iter().enumerate() {
        let note = format!("[{} more lines left out: run `{run}`]", lines.len() - i);
        let n = line.chars().count() + 1;
        if used + n + note.chars().count() > max_chars {
            if max_chars >= used + note.chars().count() {
                kept.push_str(&note);
            }
            return kept;
        }
        kept.push_str(line);
        kept.push('\n');
        used += n;
    }
    kept
}

/// A message in one line: when, who from, its type, to whom, its text (clipped) and its id.
pub fn message_line(m: &crate::model::Message, now: Timestamp) -> String {
    format!(
        "{} from {} [{}] to {}: {}  (id {}{})",
        rel(m.created_at, now),
        m.from_agent,
        m.kind,
        m.to,
        crate::api::clip(&m.text.replace('\n', " "), 200),
        m.id,
        m.reply_to
            .as_ref()
            .map(|r| format!(", reply to {r}"))
            .unwrap_or_default()
    )
}

/// A message in an inbox: `*` marks one new to its recipient.
pub fn inbox_line(i: &crate::api::InboxItem, now: Timestamp) -> String {
    let mark = if i.new {
        "* "
    } else if i.acked_at.is_some() {
        "✓ "
    } else {
        "  "
    };
    format!("{mark}{}", message_line(&i.message, now))
}

/// A request in one line: its id, type, status, who asked whom, and its text (clipped).
pub fn request_line(r: &crate::model::Request, now: Timestamp) -> String {
    let response = r
        .response
        .as_deref()
        .map(|t| format!(" — {}", crate::api::clip(t, 120)))
        .unwrap_or_default();
    format!(
        "{} [{} {}] {} → {}, {}: {}{response}",
        r.id,
        r.kind,
        r.status,
        r.from_agent,
        r.to,
        rel(r.created_at, now),
        crate::api::clip(&r.text.replace('\n', " "), 200)
    )
}

/// The project's decisions, newest first, each with who made it, when, why, and what it replaced or what
/// replaced it.
pub fn render_decisions(list: &crate::DecisionList) -> String {
    if list.decisions.is_empty() {
        return format!("No decisions in {}.", list.project);
    }
    let blocks: Vec<String> = list
        .decisions
        .iter()
        .map(|d| {
            let mut b = format!(
                "{}  {}  decision {}  (session {})\n  {}",
                d.entry.created_at, d.agent, d.entry.id, d.entry.session_id, d.entry.text
            );
            if let Some(r) = &d.entry.rationale {
                let _ = write!(b, "\n  Why: {r}");
            }
            if let Some(old) = &d.entry.supersedes {
                let _ = write!(b, "\n  Supersedes: {old}");
            }
            if let Some(by) = &d.superseded_by {
                let _ = write!(b, "\n  Superseded by: {by}");
            }
            b
        })
        .collect();
    blocks.join("\n\n")
}

/// Search hits for `text`, best first: kind, time, agent, session and what was found, then a snippet.
pub fn render_search(r: &crate::SearchResults, text: &str) -> String {
    if r.hits.is_empty() {
        return format!("No matches for '{}' in {}.", crate::clip(text.trim(), 80), r.project);
    }
    let lines: Vec<String> = r
        .hits
        .iter()
        .map(|h| {
            let (kind, what) = match (h.kind, h.entry_kind) {
                (crate::SearchKind::Handoff, _) => ("handoff".to_string(), String::new()),
                (crate::SearchKind::Decision, _) => ("decision".to_string(), format!("  entry {}", h.id)),
                (_, Some(k)) => (format!("journal/{k}"), format!("  entry {}", h.id)),
                (k, None) => (k.to_string(), format!("  entry {}", h.id)),
            };
            format!(
                "{kind:<18} {}  {}  session {}{what}\n  {}",
                h.time,
                h.agent,
                h.session_id,
                h.snippet.replace('\n', " ")
            )
        })
        .collect();
    lines.join("\n")
}
