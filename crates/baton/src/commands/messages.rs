//! `baton send`, `baton inbox`, `baton ack`, `baton thread`, `baton sent`

use baton_core::{InboxRequest, Result, SendRequest};

use crate::cli::{AckArgs, InboxArgs, LimitArgs, SendArgs, ThreadArgs};
use crate::output::{inbox_line, message_line, print_json, println_out, rel};
use crate::settings::Context;

pub fn send(ctx: &Context, json: bool, a: SendArgs) -> Result<i32> {
    let r = ctx.baton.send(
        &ctx.caller,
        SendRequest {
            to: a.to,
            kind: a.kind,
            text: a.text,
            reply_to: a.reply_to,
            expires: a.expires,
            idempotency_key: a.idempotency_key,
        },
    )?;
    if json {
        print_json(&r)?;
        return Ok(0);
    }
    let m = &r.message;
    let reached = match r.delivered_to.len() {
        1 => "1 inbox".to_string(),
        n => format!("{n} inboxes"),
    };
    let mut text = format!("Sent {} [{}] to {}: delivered to {reached}.", m.id, m.kind, m.to);
    if m.open {
        let until = m
            .expires_at
            .map(|t| format!("until {} ({})", t.short(), rel(t, ctx.baton.now())))
            .unwrap_or_else(|| "until everyone it reached acknowledged it".to_string());
        text.push_str(&format!("\nSessions that start and fit {} get it too, {until}.", m.to));
    }
    println_out(&text)?;
    Ok(0)
}

pub fn inbox(ctx: &Context, json: bool, a: InboxArgs) -> Result<i32> {
    let r = ctx.baton.inbox(
        &ctx.caller,
        InboxRequest {
            unread_only: a.unread,
            all: a.all,
            after: a.after,
            limit: a.limit,
        },
    )?;
    if json {
        print_json(&r)?;
        return Ok(0);
    }
    let now = ctx.baton.now();
    let mut lines: Vec<String> = r.messages.iter().map(|i| inbox_line(i, now)).collect();
    if lines.is_empty() {
        lines.push(if a.unread {
            "No unread messages.".to_string()
        } else {
            "No messages.".to_string()
        });
    }
    if let Some(c) = r.next_cursor {
        lines.push(format!("More: baton inbox --after {c}"));
    }
    if r.unread_left > 0 {
        let more = if r.unread_capped { "more than " } else { "" };
        lines.push(format!("{more}{} unread left.", r.unread_left));
    }
    println_out(&lines.join("\n"))?;
    Ok(0)
}

pub fn ack(ctx: &Context, json: bool, a: AckArgs) -> Result<i32> {
    let r = ctx.baton.ack(&ctx.caller, &a.ids)?;
    if json {
        print_json(&r)?;
        return Ok(0);
    }
    let mut text = match r.acked.len() {
        1 => "Acknowledged 1 message.".to_string(),
        n => format!("Acknowledged {n} messages."),
    };
    if !r.already.is_empty() {
        text.push_str(&format!(" Already acknowledged: {}.", r.already.len()));
    }
    println_out(&text)?;
    Ok(0)
}

pub fn thread(ctx: &Context, json: bool, a: ThreadArgs) -> Result<i32> {
    let r = ctx.baton.thread(&ctx.caller, &a.id)?;
    if json {
        print_json(&r)?;
        return Ok(0);
    }
    let now = ctx.baton.now();
    let lines: Vec<String> = r.messages.iter().map(|m| message_line(m, now)).collect();
    println_out(&lines.join("\n"))?;
    Ok(0)
}

pub fn sent(ctx: &Context, json: bool, a: LimitArgs) -> Result<i32> {
    let r = ctx.baton.sent(&ctx.caller, a.limit)?;
    if json {
        print_json(&r)?;
        return Ok(0);
    }
    if r.messages.is_empty() {
        println_out("No messages sent from this session.")?;
        return Ok(0);
    }
    let now = ctx.baton.now();
    let mut lines = Vec::new();
    for s in &r.messages {
        lines.push(message_line(&s.message, now));
        for rc in &s.recipients {
            let state = match (rc.read_at, rc.acked_at) {
                (_, Some(t)) => format!("acknowledged {}", rel(t, now)),
                (Some(t), None) => format!("read {}", rel(t, now)),
                (None, None) => "unread".to_string(),
            };
            lines.push(format!("    {}: {state}", rc.recipient));
        }
    }
    println_out(&lines.join("\n"))?;
    Ok(0)
}
