//! What baton does for each client event, and the answer in the client's format.

use std::path::Path;

use baton_core::render::{fit_lines, rel, render_context_and_digest_within, render_context_within, render_digest};
use baton_core::{Baton, Bound, Caller, ClaimState, ClaimsRequest, Result, Session, SessionStatus, clip};
use serde_json::{Value, json};

use crate::input::{Client, HookEvent, HookInput};
use crate::notices::{Pending, Seen};

/// Claude Code reads at most this many characters of a hook's output; the other clients get the same cap.
pub const MAX_OUTPUT_CHARS: usize = 10_000;
/// The most characters of session context and digest in one answer: the cap less room for the lines around
/// them and the JSON escapes of the text.
const BODY_CHARS: usize = MAX_OUTPUT_CHARS - 1_800;
/// The most new messages one hook answer lists; it counts the rest.
const MESSAGES_PER_NOTICE: u32 = 3;
/// A tool hook tells of new messages at most this often.
const TOOL_NOTICE_EVERY_SECS: i64 = 60;
/// A claim this close to expiry earns a notice.
const EXPIRY_NOTICE_SECS: i64 = 5 * 60;

/// What a hook prints, and the baton session it acted on.
#[derive(Debug, Clone, PartialEq)]
pub struct HookAnswer {
    /// Exactly what goes to stdout: one JSON object in the client's format.
    pub stdout: String,
    pub session_id: Option<baton_core::SessionId>,
    /// Set when a new baton session was started for this conversation.
    pub started: bool,
}

enum Reply {
    /// Text the client adds to the agent's context.
    Context(String),
    /// A line the client shows to the user.
    Message(String),
    /// Keeps the agent from stopping this once, telling it why (Stop only).
    Block(String),
    Nothing,
}

/// Acts on one hook call. `state_dir` keeps which notices were shown.
pub fn handle(baton: &Baton, caller: &Caller, input: &HookInput, state_dir: &Path) -> Result<HookAnswer> {
    let base = format!(
        "{}:{}",
        input.client,
        input.session_id.replace(char::is_whitespace, "_")
    );
    let mut answer = HookAnswer {
        stdout: String::new(),
        session_id: None,
        started: false,
    };
    let reply = match &input.event {
        HookEvent::SessionStart { source } => {
            let (s, started_text) = ensure(baton, caller, &base)?;
            answer.session_id = Some(s.id.clone());
            answer.started = started_text.is_some();
            export_session(input.client, &s.id, &s.agent);
            // This answer carries the whole context: a compaction has nothing left to pass on.
            let mut pending = Pending::load(state_dir, &s.id);
            if pending.compacted {
                pending.compacted = false;
                pending.save(state_dir, &s.id);
            }
            let text = match started_text {
                Some(t) => t,
                None => {
                    let me = with_session(caller, &s);
                    let ctx = baton.view(&me, Some(&s.id))?;
                    let digest = baton.digest(&me)?;
                    told_in_digest(baton, &me, &digest)?;
                    format!(
                        "baton session {} continues ({source}). {}\n\n{}",
                        s.id,
                        commands(&s.id),
                        render_context_and_digest_within(&ctx, &digest, baton.now(), BODY_CHARS)
                    )
                }
            };
            Reply::Context(text)
        }
        HookEvent::PromptSubmit { prompt } => {
            let (s, started_text) = ensure(baton, caller, &base)?;
            answer.session_id = Some(s.id.clone());
            answer.started = started_text.is_some();
            let pending = Pending::take(state_dir, &s.id);
            // The reason of a stop baton held, come back as the prompt (Gemini CLI): neither a goal nor a request
            // to continue, whatever the request it names says.
            let held = pending.held.as_deref().is_some_and(|r| r.trim() == prompt.trim());
            let asks = !held && asks_to_continue(prompt);
            // A conversation's first real prompt is its session's goal, unless one was given.
            if s.context.is_none()
                && !held
                && !asks
                && let Some(goal) = goal_of(prompt)
            {
                baton.set_goal_if_none(&with_session(caller, &s), &goal)?;
            }
            // The text, and whether it holds the session's whole context.
            let (text, whole) = match started_text {
                Some(t) => (Some(t), true),
                None if asks && let Some(to) = named_session(prompt).filter(|to| *to != s.id) => {
                    let conv = baton.switch_conversation(caller, &base, &to)?;
                    answer.session_id = Some(conv.session.id.clone());
                    let me = with_session(caller, &conv.session);
                    let ctx = baton.view(&me, Some(&conv.session.id))?;
                    let digest = baton.digest(&me)?;
                    told_in_digest(baton, &me, &digest)?;
                    let t = format!(
                        "baton: this conversation now continues session {}. {}\n\n{}",
                        conv.session.id,
                        commands(&conv.session.id),
                        render_context_and_digest_within(&ctx, &digest, baton.now(), BODY_CHARS)
                    );
                    (Some(t), true)
                }
                None if asks && let Some(conv) = baton.continue_elsewhere(caller, &base)? => {
                    // This conversation had recorded nothing: the work to continue is the agent's latest session.
                    answer.session_id = Some(conv.session.id.clone());
                    let was = match conv.how {
                        Bound::Continued { was } => was,
                        _ => conv.session.status,
                    };
                    (Some(continued(baton, caller, &conv, was)?), true)
                }
                None if asks => {
                    let me = with_session(caller, &s);
                    let ctx = baton.view(&me, Some(&s.id))?;
                    let t = format!(
                        "baton: context of session {}. {}\n\n{}",
                        s.id,
                        commands(&s.id),
                        render_context_within(&ctx, baton.now(), BODY_CHARS)
                    );
                    (Some(t), true)
                }
                None => {
                    let told = [
                        notice(baton, caller, &s, state_dir)?,
                        messages_notice(baton, caller, &s)?,
                    ];
                    let told: Vec<String> = told.into_iter().flatten().collect();
                    ((!told.is_empty()).then(|| told.join("\n")), false)
                }
            };
            let mut parts = Vec::new();
            // What the person was shown at the end of the last turn, while it still holds.
            if let Some(key) = &pending.stop
                && let Some((now_key, line)) = stop_situation(baton, caller, &s)?
                && *key == now_key
            {
                parts.push(format!("{line} (said at the end of your last turn)"));
            }
            if pending.compacted && !whole {
                let ctx = baton.view(&with_session(caller, &s), Some(&s.id))?;
                parts.push(format!(
                    "baton: the conversation was compacted; session {} continues. {}\n\n{}",
                    s.id,
                    commands(&s.id),
                    render_context_within(&ctx, baton.now(), BODY_CHARS)
                ));
            }
            parts.extend(text);
            if parts.is_empty() {
                Reply::Nothing
            } else {
                Reply::Context(parts.join("\n\n"))
            }
        }
        HookEvent::ToolUsed => match lookup(baton, caller, &base)?.0 {
            Some(s) if s.status == SessionStatus::Active => {
                answer.session_id = Some(s.id.clone());
                let mut pending = Pending::load(state_dir, &s.id);
                let now = baton.now().micros();
                let recently = pending
                    .told_at
                    .is_some_and(|t| now - t < TOOL_NOTICE_EVERY_SECS * 1_000_000);
                match messages_notice(baton, caller, &s)? {
                    Some(text) if !recently => {
                        pending.told_at = Some(now);
                        pending.save(state_dir, &s.id);
                        Reply::Context(text)
                    }
                    _ => Reply::Nothing,
                }
            }
            _ => Reply::Nothing,
        },
        HookEvent::PreCompact => match lookup(baton, caller, &base)?.0 {
            Some(s) => {
                answer.session_id = Some(s.id.clone());
                let after = baton.record_compaction(&with_session(caller, &s))?;
                let mut pending = Pending::load(state_dir, &s.id);
                pending.compacted = true;
                pending.save(state_dir, &s.id);
                // No client passes a PreCompact answer to the model: this line is for the person.
                Reply::Message(format!(
                    "baton: checkpointed session {} before compaction #{}; its context goes back to the agent after the compaction.",
                    s.id, after.compaction_count
                ))
            }
            None => Reply::Nothing,
        },
        // Codex passes nothing of a PostCompact answer to the model; the next prompt carries the context.
        HookEvent::PostCompact => match lookup(baton, caller, &base)?.0 {
            Some(s) => {
                answer.session_id = Some(s.id.clone());
                let mut pending = Pending::load(state_dir, &s.id);
                pending.compacted = true;
                pending.save(state_dir, &s.id);
                Reply::Nothing
            }
            None => Reply::Nothing,
        },
        HookEvent::Stop => match lookup(baton, caller, &base)?.0 {
            Some(s) => {
                answer.session_id = Some(s.id.clone());
                match waiting_request(baton, caller, &s, state_dir)? {
                    Some(text) => {
                        let mut pending = Pending::load(state_dir, &s.id);
                        pending.held = Some(text.clone());
                        pending.save(state_dir, &s.id);
                        Reply::Block(text)
                    }
                    None => match stop_reminder(baton, caller, &s, state_dir)? {
                        Some(line) => Reply::Message(line),
                        None => Reply::Nothing,
                    },
                }
            }
            None => Reply::Nothing,
        },
        HookEvent::SessionEnd => {
            if let Some(s) = lookup(baton, caller, &base)?.0 {
                answer.session_id = Some(s.id.clone());
                if s.status == SessionStatus::Active {
                    baton.end_conversation(&with_session(caller, &s))?;
                }
            }
            Reply::Nothing
        }
        HookEvent::Other => Reply::Nothing,
    };
    answer.stdout = format_reply(input.client, &input.event_name, reply);
    Ok(answer)
}

fn with_session(caller: &Caller, s: &Session) -> Caller {
    Caller {
        session: Some(s.id.clone()),
        ..caller.clone()
    }
}

/// The baton session this conversation is bound to, unless it ended.
fn lookup(baton: &Baton, caller: &Caller, base: &str) -> Result<(Option<Session>, String)> {
    let found = baton.conversation_session(caller, base)?;
    Ok((found.filter(|s| !s.status.is_ended()), base.to_string()))
}

/// The commands the agent runs, naming its session so that they work as printed from any client's shell.
fn commands(id: &str) -> String {
    format!(
        "Log with `baton session log --session {id} --progress TEXT` (or --decision, --next, --blocker), claim work with `baton claim TYPE ID --session {id}`, and end with `baton session end --session {id} --summary TEXT --handoff TEXT`; baton's MCP tools take session_id {id}."
    )
}

/// The conversation's session: its own, else the agent's latest unfinished one here, else a new one.
/// Returns the text to show when the conversation did not have an active session already.
fn ensure(baton: &Baton, caller: &Caller, base: &str) -> Result<(Session, Option<String>)> {
    let (found, _) = lookup(baton, caller, base)?;
    if let Some(s) = found.filter(|s| s.status == SessionStatus::Active) {
        return Ok((s, None));
    }
    let conv = baton.open_conversation(caller, base, true)?;
    let now = baton.now();
    let id = conv.session.id.clone();
    let text = match &conv.how {
        Bound::Existing | Bound::Resumed => None,
        Bound::Started(started) => Some({
            told_in_digest(baton, &with_session(caller, &conv.session), &started.digest)?;
            format!(
                "baton session {id} started for {} in {}. {}\n\n{}",
                started.session.agent,
                started.session.project,
                commands(&id),
                fit_lines(&render_digest(&started.digest, now), BODY_CHARS, "baton digest")
            )
        }),
        Bound::Continued { was } => Some(continued(baton, caller, &conv, *was)?),
    };
    Ok((conv.session, text))
}

/// The text for a conversation that picked up an unfinished session (`was` paused or active): its context,
/// the digest, and the other candidates with how to pick one.
fn continued(baton: &Baton, caller: &Caller, conv: &baton_core::Conversation, was: SessionStatus) -> Result<String> {
    let now = baton.now();
    let id = &conv.session.id;
    let me = with_session(caller, &conv.session);
    let ctx = baton.view(&me, Some(id))?;
    let digest = baton.digest(&me)?;
    told_in_digest(baton, &me, &digest)?;
    let mut t = format!(
        "baton session {id} continues: this conversation picks up {}'s unfinished session (it was {was}). {}\n\n{}",
        conv.session.agent,
        commands(id),
        render_context_and_digest_within(&ctx, &digest, now, BODY_CHARS)
    );
    if !conv.others.is_empty() {
        t.push_str("\n\nOther unfinished sessions of this agent here:");
        for o in conv.others.iter().take(5) {
            t.push_str(&format!(
                "\n  {} ({}, {}, last active {})",
                o.id,
                o.context
                    .as_deref()
                    .map(|c| clip(c, 60))
                    .unwrap_or_else(|| "no goal".into()),
                o.status,
                rel(o.updated_at, now)
            ));
        }
        t.push_str("\nTo continue one of those instead, say \"continue <session id>\".");
    }
    Ok(t)
}

/// A session id named in a prompt (`continue 0193…`).
fn named_session(prompt: &str) -> Option<String> {
    prompt
        .split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .find(|w| w.len() == 36 && uuid_like(w))
        .map(str::to_string)
}

fn uuid_like(w: &str) -> bool {
    baton_core::parse::check_session_id(w).is_ok()
}

/// Claude Code runs later shell commands with what SessionStart appends to `$CLAUDE_ENV_FILE`.
fn export_session(client: Client, id: &str, agent: &str) {
    if client != Client::Claude {
        return;
    }
    let Some(path) = std::env::var_os("CLAUDE_ENV_FILE").filter(|p| !p.is_empty()) else {
        return;
    };
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(f, "export BATON_SESSION={id}\nexport BATON_AGENT={agent}");
    }
}

/// What of a prompt names a goal: its first non-empty line, at most 200 characters.
fn goal_of(prompt: &str) -> Option<String> {
    let line = prompt.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(baton_core::clip(line, 200))
}

/// Whether a prompt asks to pick up earlier work.
pub fn asks_to_continue(prompt: &str) -> bool {
    let p = prompt.to_lowercase();
    let p = p.trim();
    const PHRASES: &[&str] = &[
        "where were we",
        "pick up where",
        "where did we leave",
        "where we left off",
        "what was i doing",
        "what were we doing",
        "carry on",
        "keep going",
        "resume",
    ];
    if PHRASES.iter().any(|ph| p.contains(ph)) {
        return true;
    }
    // A bare "continue" (or "continue please") asks to continue; "continue using X in Y" is an instruction.
    let words: Vec<&str> = p
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.first() == Some(&"continue") && words.len() <= 4
}

/// At most one new, relevant line: a claim about to expire, a lease lost, a fresh handoff.
fn notice(baton: &Baton, caller: &Caller, s: &Session, state_dir: &Path) -> Result<Option<String>> {
    let me = with_session(caller, s);
    let mut seen = Seen::load(state_dir, &s.id);
    let now = baton.now();
    let list = baton.claims(
        &me,
        ClaimsRequest {
            mine: true,
            include_released: true,
            ..Default::default()
        },
    )?;
    let mut candidates: Vec<(String, String)> = Vec::new();
    for v in &list.claims {
        let c = &v.claim;
        if let Some(agent) = &c.forced_by {
            candidates.push((
                format!("lost:{}", c.id),
                format!(
                    "baton: agent '{agent}' released your claim on {} by force; claim it again before working on it.",
                    c.key().label()
                ),
            ));
        } else if c.state == ClaimState::TakenOver {
            candidates.push((
                format!("lost:{}", c.id),
                format!(
                    "baton: your lease on {} expired and another session took it over; claim it again before working on it.",
                    c.key().label()
                ),
            ));
        } else if c.state == ClaimState::Held
            && c.expires_at > now
            && c.expires_at.micros() - now.micros() <= EXPIRY_NOTICE_SECS * 1_000_000
        {
            candidates.push((
                format!("expiring:{}:{}", c.id, c.expires_at.micros()),
                format!(
                    "baton: your claim on {} expires {}; run `baton heartbeat --session {}` to keep it.",
                    c.key().label(),
                    rel(c.expires_at, now),
                    s.id
                ),
            ));
        }
    }
    if candidates.iter().all(|(k, _)| seen.contains(k))
        && let Some(h) = baton.handoff_since(&me, s.created_at)?
    {
        let what = h
            .handoff
            .notes
            .clone()
            .or(h.summary.clone())
            .unwrap_or_else(|| "no notes".to_string());
        candidates.push((
            format!("handoff:{}", h.session_id),
            format!("baton: {} ended a session here: {}", h.agent, clip(&what, 200)),
        ));
    }
    for (key, line) in candidates {
        if !seen.contains(&key) {
            seen.mark(&key);
            return Ok(Some(line));
        }
    }
    Ok(None)
}

/// What the agent should hear when it stops: the claims this session still holds, else that it has left no
/// next steps or handoff. Returns the situation's key and the line.
fn stop_situation(baton: &Baton, caller: &Caller, s: &Session) -> Result<Option<(String, String)>> {
    let me = with_session(caller, s);
    let held = baton.claims(
        &me,
        ClaimsRequest {
            mine: true,
            ..Default::default()
        },
    )?;
    if !held.claims.is_empty() {
        let labels: Vec<String> = held.claims.iter().map(|v| v.claim.key().label()).collect();
        return Ok(Some((
            format!("stop:claims:{}", labels.join(",")),
            format!(
                "baton: this session still holds {} claim(s): {}. Release finished work with `baton release TYPE ID --status completed --session {}`; for work that goes on, log what is left with `baton session log --session {} --next TEXT`.",
                labels.len(),
                clip(&labels.join(", "), 300),
                s.id,
                s.id
            ),
        )));
    }
    if s.handoff.as_ref().is_none_or(|h| h.is_empty()) {
        use baton_core::EntryKind::{Decision, Discovery, Done, Next, Progress};
        if baton.has_entries(&me, &[Progress, Done, Decision, Discovery])? && !baton.has_entries(&me, &[Next])? {
            return Ok(Some((
                "stop:no-next".to_string(),
                format!(
                    "baton: session {} has no next steps or handoff yet; log what is left with `baton session log --session {} --next TEXT` so the next conversation can pick it up, or end it with `baton session end --session {} --summary TEXT --handoff TEXT` when the work is done.",
                    s.id, s.id, s.id
                ),
            )));
        }
    }
    Ok(None)
}

/// The Stop reminder, once per situation: shown to the person now and passed to the agent with the next prompt
/// while it still holds (no client passes a Stop answer to the model except as a reason to keep going).
fn stop_reminder(baton: &Baton, caller: &Caller, s: &Session, state_dir: &Path) -> Result<Option<String>> {
    let Some((key, line)) = stop_situation(baton, caller, s)? else {
        return Ok(None);
    };
    let mut seen = Seen::load(state_dir, &s.id);
    if seen.contains(&key) {
        return Ok(None);
    }
    seen.mark(&key);
    let mut pending = Pending::load(state_dir, &s.id);
    pending.stop = Some(key);
    pending.save(state_dir, &s.id);
    Ok(Some(line))
}

/// The messages a digest listed are told: no later hook tells of them again.
fn told_in_digest(baton: &Baton, me: &Caller, digest: &baton_core::Digest) -> Result<()> {
    let ids: Vec<baton_core::MessageId> = digest
        .messages
        .iter()
        .flat_map(|m| m.oldest_unread.iter().map(|m| m.id.clone()))
        .collect();
    baton.mark_told(me, &ids)
}

/// New messages for the session that no hook told it of, each told once (the store keeps which were told, so
/// no other conversation of the agent is told them again); nothing when there is nothing new.
fn messages_notice(baton: &Baton, caller: &Caller, s: &Session) -> Result<Option<String>> {
    let me = with_session(caller, s);
    let (_, items, more) = baton.notifications(&me, MESSAGES_PER_NOTICE)?;
    if items.is_empty() {
        return Ok(None);
    }
    let now = baton.now();
    let id = &s.id;
    let mut t = String::from("baton: new for you:");
    for i in &items {
        t.push_str(&format!("\n  {}", baton_core::render::message_line(&i.message, now)));
    }
    if more > 0 {
        t.push_str(&format!("\n  and {more} more: `baton inbox --session {id}`"));
    }
    let requests = items
        .iter()
        .any(|i| i.message.request_id.is_some() && i.message.kind == "request");
    t.push_str(&format!(
        "\nReply with `baton send --session {id} --to AGENT --reply-to ID TEXT`; acknowledge with `baton ack --session {id} ID`."
    ));
    if requests {
        t.push_str(&format!(
            " Answer a request with `baton request accept|decline|complete REQUEST_ID --session {id} --response TEXT` (ids in `baton requests --for-me --session {id}`)."
        ));
    }
    Ok(Some(t))
}

/// A pending request addressed to the session that it was not told of at a stop before: told once, keeping
/// the agent from stopping that once.
fn waiting_request(baton: &Baton, caller: &Caller, s: &Session, state_dir: &Path) -> Result<Option<String>> {
    let me = with_session(caller, s);
    let pending = baton.requests(
        &me,
        baton_core::RequestsQuery {
            for_me: true,
            statuses: vec![baton_core::Wire::Typed(baton_core::RequestStatus::Pending)],
            limit: Some(20),
            ..Default::default()
        },
    )?;
    let mut seen = Seen::load(state_dir, &s.id);
    let Some(r) = pending
        .requests
        .iter()
        .find(|r| !seen.contains(&format!("request:{}", r.id)))
    else {
        return Ok(None);
    };
    seen.mark(&format!("request:{}", r.id));
    Ok(Some(format!(
        "baton: before you stop, {} asked you ({}) to {}: \"{}\". Accept, decline or complete it: `baton request accept {} --session {}` (or decline, complete, with --response TEXT).",
        r.from_agent,
        r.to,
        r.kind,
        clip(&r.text, 300),
        r.id,
        s.id
    )))
}

/// One JSON object in the client's format, at most `MAX_OUTPUT_CHARS` long, saying what it cut.
fn format_reply(client: Client, event_name: &str, reply: Reply) -> String {
    let wrap = |text: &str| -> Value {
        match &reply {
            Reply::Context(_) => {
                json!({"hookSpecificOutput": {"hookEventName": event_name, "additionalContext": text}})
            }
            Reply::Message(_) => json!({"systemMessage": text}),
            // Gemini CLI's AfterAgent retries the turn with the reason on "deny"; the others keep going on "block".
            Reply::Block(_) if client == Client::Gemini => json!({"decision": "deny", "reason": text}),
            Reply::Block(_) => json!({"decision": "block", "reason": text}),
            Reply::Nothing => json!({}),
        }
    };
    let text = match &reply {
        Reply::Context(t) | Reply::Message(t) | Reply::Block(t) => t.as_str(),
        Reply::Nothing => "",
    };
    let full = wrap(text).to_string();
    if full.chars().count() <= MAX_OUTPUT_CHARS {
        return full;
    }
    let total = text.chars().count();
    let mut keep = MAX_OUTPUT_CHARS.saturating_sub(400).min(total);
    loop {
        let cut = total - keep;
        let shortened: String = text.chars().take(keep).collect();
        let note = format!(
            "\n[baton: cut {cut} of {total} characters to fit the client's {MAX_OUTPUT_CHARS}-character limit; run `baton digest` or `baton session view` for the rest]"
        );
        let out = wrap(&format!("{shortened}{note}")).to_string();
        if out.chars().count() <= MAX_OUTPUT_CHARS || keep == 0 {
            return out;
        }
        keep = keep.saturating_sub(500.max(keep / 10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_intent() {
        for p in [
            "continue",
            "Continue.",
            "where were we?",
            "let's pick up where we left off",
            "resume please",
        ] {
            assert!(asks_to_continue(p), "{p}");
        }
        for p in [
            "continue using tabs in the parser module from now on",
            "add a test",
            "fix the bug",
        ] {
            assert!(!asks_to_continue(p), "{p}");
        }
    }

    #[test]
    fn output_is_capped_and_says_so() {
        let long = "x".repeat(30_000);
        let out = format_reply(Client::Claude, "SessionStart", Reply::Context(long));
        assert!(out.chars().count() <= MAX_OUTPUT_CHARS);
        let v: Value = serde_json::from_str(&out).unwrap();
        let ctx = v["hookSpecificOutput"]["additionalContext"].as_str().unwrap();
        assert!(ctx.contains("[baton: cut "), "{}", &ctx[ctx.len() - 200..]);
        // Escaping-heavy text still fits.
        let quotes = "\"\\".repeat(8_000);
        let out = format_reply(Client::Gemini, "BeforeAgent", Reply::Context(quotes));
        assert!(out.chars().count() <= MAX_OUTPUT_CHARS);
        assert_eq!(format_reply(Client::Codex, "Stop", Reply::Nothing), "{}");
    }
}
