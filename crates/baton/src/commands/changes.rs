//! `baton changes`

use std::time::Duration;

use baton_core::{ChangesRequest, Result};

use crate::cli::ChangesArgs;
use crate::output::{event_row, print_json, println_out};
use crate::settings::Context;

/// How often `--follow` asks for new events.
const POLL: Duration = Duration::from_millis(300);

pub fn run(ctx: &Context, json: bool, agent: Option<String>, a: ChangesArgs) -> Result<i32> {
    let mut req = ChangesRequest {
        since: a.since,
        agent,
        kind: a.kind,
        limit: a.limit,
    };
    if !a.follow {
        let page = ctx.baton.changes(&ctx.caller, &req)?;
        if page.events.is_empty() {
            ctx.warn_if_unknown_project(None);
        }
        if json {
            print_json(&page)?;
        } else {
            for e in &page.events {
                println_out(&event_row(e))?;
            }
            let more = if page.more {
                " (more: run again with this cursor)"
            } else {
                ""
            };
            println_out(&format!("next_cursor: {}{more}", page.next_cursor))?;
        }
        return Ok(0);
    }
    let mut first = true;
    loop {
        let page = ctx.baton.changes(&ctx.caller, &req)?;
        if first && page.events.is_empty() {
            ctx.warn_if_unknown_project(None);
        }
        first = false;
        for e in &page.events {
            if json {
                print_json(e)?;
            } else {
                println_out(&event_row(e))?;
            }
        }
        req.since = Some(page.next_cursor.to_string());
        if !page.more {
            std::thread::sleep(POLL);
        }
    }
}
