//! `baton request`, `baton request accept|decline|complete`, `baton requests`

use baton_core::{AnswerRequest, Error, MakeRequest, RequestsQuery, Result, Wire};

use crate::cli::{AnswerCommand, RequestArgs, RequestsArgs};
use crate::output::{print_json, println_out, request_line};
use crate::settings::Context;

pub fn request(ctx: &Context, json: bool, a: RequestArgs) -> Result<i32> {
    if let Some(answer) = a.answer {
        let (status, args) = match answer {
            AnswerCommand::Accept(x) => ("accepted", x),
            AnswerCommand::Decline(x) => ("declined", x),
            AnswerCommand::Complete(x) => ("completed", x),
        };
        let r = ctx.baton.answer(
            &ctx.caller,
            AnswerRequest {
                id: args.id,
                status: Wire::text(status),
                response: args.response,
            },
        )?;
        if json {
            print_json(&r)?;
        } else {
            println_out(&format!("Request {} is {}; {} was told.", r.id, r.status, r.from_agent))?;
        }
        return Ok(0);
    }
    let (Some(to), Some(kind), Some(text)) = (a.to, a.kind, a.text) else {
        return Err(Error::bad_input("a request needs --to, --type and its text"));
    };
    let r = ctx.baton.request(
        &ctx.caller,
        MakeRequest {
            to,
            kind: Wire::text(kind),
            text,
            idempotency_key: a.idempotency_key,
        },
    )?;
    if json {
        print_json(&r)?;
        return Ok(0);
    }
    println_out(&format!(
        "Request {} [{}] to {}: pending, announced to {} inbox(es).",
        r.request.id,
        r.request.kind,
        r.request.to,
        r.delivered_to.len()
    ))?;
    Ok(0)
}

pub fn list(ctx: &Context, json: bool, a: RequestsArgs) -> Result<i32> {
    let r = ctx.baton.requests(
        &ctx.caller,
        RequestsQuery {
            mine: a.mine,
            for_me: a.for_me,
            statuses: a.statuses.into_iter().map(Wire::text).collect(),
            limit: a.limit,
        },
    )?;
    if json {
        print_json(&r)?;
        return Ok(0);
    }
    if r.requests.is_empty() {
        println_out("No requests.")?;
        return Ok(0);
    }
    let now = ctx.baton.now();
    let lines: Vec<String> = r.requests.iter().map(|q| request_line(q, now)).collect();
    println_out(&lines.join("\n"))?;
    Ok(0)
}
