//! The `message`, `request` and `team` tools: one tool per concept, its operation named by `action`, so
//! `tools/list` stays short. Each result is the CLI's `--json` object and its short text.

use baton_core::render::{inbox_line, message_line, request_line};
use baton_core::{
    AnswerRequest, Baton, Caller, Error, ExportRequest, InboxRequest, MakeRequest, NeedRequest, RequestsQuery, Result,
    SendRequest, Timestamp, Wire,
};
use serde::Serialize;
use serde_json::Value;

use crate::args::{MessageArgs, RequestArgs, TeamArgs};

/// A tool's result: the structured object and its text form.
pub struct Reply {
    pub json: Value,
    pub text: String,
}

fn reply<T: Serialize>(v: &T, text: String) -> Result<Reply> {
    let json = serde_json::to_value(v).map_err(|e| Error::internal(format!("cannot encode the result: {e}")))?;
    Ok(Reply { json, text })
}

fn needed<T>(v: Option<T>, field: &'static str, action: &str) -> Result<T> {
    v.ok_or_else(|| Error::bad_input(format!("{action} needs the argument {field}")).in_field(field))
}

fn unknown_action(action: &str, accepted: &[&str]) -> Error {
    Error::bad_input(format!(
        "unknown action '{action}': expected one of {}",
        accepted.join(", ")
    ))
    .with_value(action, accepted.iter().map(|a| a.to_string()).collect())
    .in_field("action")
}

fn lines(mut v: Vec<String>, empty: &str) -> String {
    if v.is_empty() {
        v.push(empty.to_string());
    }
    v.join("\n")
}

/// Runs one `message` action.
pub fn message(b: &Baton, c: &Caller, a: MessageArgs, now: Timestamp) -> Result<Reply> {
    match a.action.as_str() {
        "send" => {
            let r = b.send(
                c,
                SendRequest {
                    to: needed(a.to, "to", "send")?,
                    kind: a.kind,
                    text: needed(a.text, "text", "send")?,
                    reply_to: a.id,
                    expires: a.expires,
                    idempotency_key: None,
                },
            )?;
            let text = format!(
                "Sent {} to {} ({} inboxes).",
                r.message.id,
                r.message.to,
                r.delivered_to.len()
            );
            reply(&r, text)
        }
        "inbox" => {
            let r = b.inbox(
                c,
                InboxRequest {
                    unread_only: a.unread.unwrap_or(false),
                    all: a.all.unwrap_or(false),
                    after: a.after,
                    limit: a.limit,
                },
            )?;
            let mut shown: Vec<String> = r.messages.iter().map(|i| inbox_line(i, now)).collect();
            if let Some(cursor) = r.next_cursor {
                shown.push(format!("More: after={cursor}"));
            }
            let text = lines(shown, "No messages.");
            reply(&r, text)
        }
        "ack" => {
            let id = needed(a.id, "id", "ack")?;
            let r = b.ack(c, &[id])?;
            let text = format!("Acknowledged {} message(s).", r.acked.len() + r.already.len());
            reply(&r, text)
        }
        "thread" => {
            let r = b.thread(c, &needed(a.id, "id", "thread")?)?;
            let text = lines(r.messages.iter().map(|m| message_line(m, now)).collect(), "");
            reply(&r, text)
        }
        "sent" => {
            let r = b.sent(c, a.limit)?;
            let text = lines(
                r.messages.iter().map(|s| message_line(&s.message, now)).collect(),
                "No messages sent.",
            );
            reply(&r, text)
        }
        other => Err(unknown_action(other, &["send", "inbox", "ack", "thread", "sent"])),
    }
}

/// Runs one `request` action.
pub fn request(b: &Baton, c: &Caller, a: RequestArgs, now: Timestamp) -> Result<Reply> {
    let status = match a.action.as_str() {
        "make" => {
            let r = b.request(
                c,
                MakeRequest {
                    to: needed(a.to, "to", "make")?,
                    kind: Wire::text(needed(a.kind, "type", "make")?),
                    text: needed(a.text, "text", "make")?,
                    idempotency_key: None,
                },
            )?;
            let text = format!("Request {} to {}: pending.", r.request.id, r.request.to);
            return reply(&r, text);
        }
        "list" => {
            let (mine, for_me) = match a.which.as_deref() {
                None => (false, false),
                Some("mine") => (true, false),
                Some("for_me") => (false, true),
                Some(other) => {
                    return Err(
                        Error::bad_input(format!("unknown which '{other}': expected mine or for_me")).in_field("which"),
                    );
                }
            };
            let r = b.requests(
                c,
                RequestsQuery {
                    mine,
                    for_me,
                    statuses: a.status.into_iter().map(Wire::text).collect(),
                    limit: None,
                },
            )?;
            let text = lines(
                r.requests.iter().map(|q| request_line(q, now)).collect(),
                "No requests.",
            );
            return reply(&r, text);
        }
        "accept" => "accepted",
        "decline" => "declined",
        "complete" => "completed",
        other => {
            return Err(unknown_action(
                other,
                &["make", "accept", "decline", "complete", "list"],
            ));
        }
    };
    let r = b.answer(
        c,
        AnswerRequest {
            id: needed(a.id, "id", &a.action)?,
            status: Wire::text(status),
            response: a.response,
        },
    )?;
    let text = format!("Request {} is {}.", r.id, r.status);
    reply(&r, text)
}

/// Runs one `team` action: interfaces, and an instruction read against what the team knows.
pub fn team(b: &Baton, c: &Caller, a: TeamArgs, now: Timestamp) -> Result<Reply> {
    let _ = now;
    match a.action.as_str() {
        "export" => {
            let r = b.export(
                c,
                ExportRequest {
                    name: needed(a.name, "name", "export")?,
                    file: a.file,
                    description: a.description,
                },
            )?;
            let text = format!(
                "{} {}; told {} that need it.",
                if r.updated { "Updated" } else { "Declared" },
                r.interface.name,
                r.told.len()
            );
            reply(&r, text)
        }
        "needs" => {
            let r = b.need(
                c,
                NeedRequest {
                    name: needed(a.name, "name", "needs")?,
                    from: needed(a.from, "from", "needs")?,
                },
            )?;
            let text = match &r.available {
                Some(i) => format!(
                    "Needs {} from {}; it is there: {}.",
                    r.dependency.name, r.dependency.from, i.name
                ),
                None => format!(
                    "Needs {} from {}; you get interface_ready when it is declared.",
                    r.dependency.name, r.dependency.from
                ),
            };
            reply(&r, text)
        }
        "interfaces" => {
            let r = b.interfaces(c, c.session.as_deref())?;
            let shown = r
                .interfaces
                .iter()
                .map(|i| {
                    format!(
                        "{}{} — {} (session {})",
                        i.name,
                        i.file.as_deref().map(|f| format!(" in {f}")).unwrap_or_default(),
                        i.agent,
                        i.session_id
                    )
                })
                .collect();
            let text = lines(shown, "No interfaces declared.");
            reply(&r, text)
        }
        "context" => {
            let r = b.instruction_context(c, &needed(a.text, "text", "context")?, 5)?;
            let text = format!(
                "{} interfaces, {} unread messages, {} decisions, {} open requests bear on it.",
                r.interfaces.len(),
                r.unread_count,
                r.decisions.len(),
                r.requests.len()
            );
            reply(&r, text)
        }
        "recommend" => {
            let r = b.recommend(c, &needed(a.text, "text", "recommend")?)?;
            let text = match &r.session_id {
                Some(id) => format!("Session {id} should take it: {}.", r.reasons.join("; ")),
                None => format!("No open session fits: {}.", r.reasons.join("; ")),
            };
            reply(&r, text)
        }
        other => Err(unknown_action(
            other,
            &["export", "needs", "interfaces", "context", "recommend"],
        )),
    }
}
