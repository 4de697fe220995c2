//! `baton session ...`

use baton_core::words::{CommandLine, Words};
use baton_core::{CloseAs, EndRequest, Error, LogRequest, Result, SessionListRequest, StartRequest, Wire};

use crate::cli::SessionCommand;
use crate::output::{
    print_json, println_out, render_context, render_context_and_digest, render_digest, session_ended, session_header,
};
use crate::settings::Context;

/// `agent_flag` is `--agent` as given on the command line; `session list` shows only that agent's sessions.
pub fn run(ctx: &Context, json: bool, agent_flag: Option<String>, cmd: SessionCommand) -> Result<i32> {
    let (b, caller) = (&ctx.baton, &ctx.caller);
    match cmd {
        SessionCommand::Start(a) => {
            let mut r = b.start_session(
                caller,
                StartRequest {
                    context: a.context,
                    name: a.name,
                    task_ids: a.tasks,
                    role: a.role,
                    idempotency_key: a.idempotency_key,
                },
            )?;
            if r.digest.first_session
                && let Some(w) = ctx.unknown_project(Some(&r.session_id))
            {
                r.warnings.push(w);
            }
            for w in &r.warnings {
                eprintln!("warning: {}", CommandLine.warning(w));
            }
            if a.print_env {
                // Only shell lines on stdout: `eval "$(baton session start --print-env)"`.
                println_out(&format!(
                    "export BATON_SESSION={}\nexport BATON_AGENT={}",
                    shell_quote(&r.session_id),
                    shell_quote(&r.session.agent)
                ))?;
                eprintln!("{}", render_digest(&r.digest, b.now()));
            } else if json {
                print_json(
                    &r.json_in(&CommandLine)
                        .map_err(|e| Error::internal(format!("cannot encode the answer: {e}")))?,
                )?;
            } else {
                let now = b.now();
                println_out(&format!(
                    "Session {} started for {} in {}.\nexport BATON_SESSION={}\n\n{}",
                    r.session_id,
                    r.session.agent,
                    r.session.project,
                    r.session_id,
                    render_digest(&r.digest, now)
                ))?;
            }
        }
        SessionCommand::Log(a) => {
            let (kind, text) = (a.entry.kind, a.entry.text.clone());
            let r = b.log(
                caller,
                LogRequest {
                    kind: kind.into(),
                    text,
                    rationale: a.rationale,
                    supersedes: a.supersedes,
                    idempotency_key: a.idempotency_key,
                },
            )?;
            if json {
                print_json(&r)?;
            } else {
                match &r.entry.supersedes {
                    Some(old) => println_out(&format!(
                        "Logged decision {} to session {}; it supersedes decision {old}.",
                        r.entry.id, r.session_id
                    ))?,
                    None => println_out(&format!("Logged {} to session {}.", r.entry.kind, r.session_id))?,
                }
                if r.paused {
                    eprintln!(
                        "note: session {} is paused; resume it with `baton session resume {}`",
                        r.session_id, r.session_id
                    );
                }
            }
        }
        SessionCommand::Checkpoint(a) => {
            let r = b.checkpoint(caller, a.note)?;
            if json {
                print_json(&r)?;
            } else {
                println_out(&format!("Checkpoint recorded in session {}.", r.session_id))?;
            }
        }
        SessionCommand::Pause(a) => {
            let s = b.pause(caller, a.note)?;
            if json {
                print_json(&serde_json::json!({"session": s}))?;
            } else {
                println_out(&format!(
                    "Session {} paused. Resume it with `baton session resume {}`.",
                    s.id, s.id
                ))?;
            }
        }
        SessionCommand::Resume(a) => {
            let r = b.resume(caller, a.id.as_deref())?;
            if json {
                print_json(&r)?;
            } else {
                let now = b.now();
                println_out(&format!(
                    "Resumed.\nexport BATON_SESSION={}\n\n{}",
                    r.session_id,
                    render_context_and_digest(&r.context, &r.digest, now)
                ))?;
            }
        }
        SessionCommand::End(a) => {
            let r = b.end_session(
                caller,
                EndRequest {
                    summary: a.summary,
                    handoff: a.handoff,
                    next: a.next,
                    blockers: a.blocker,
                    done: a.done,
                    idempotency_key: a.idempotency_key,
                },
            )?;
            if json {
                print_json(&r)?;
            } else {
                println_out(&session_ended(&r, "ended as completed"))?;
            }
        }
        SessionCommand::Close(a) => {
            let how = if a.abandon {
                CloseAs::Abandon {
                    reason: a.reason.unwrap_or_default(),
                }
            } else {
                CloseAs::Complete
            };
            let r = b.close(caller, how)?;
            if json {
                print_json(&r)?;
            } else {
                let what = format!("closed as {}", r.session.status);
                println_out(&session_ended(&r, &what))?;
            }
        }
        SessionCommand::View(a) => {
            let c = b.view(caller, a.id.as_deref())?;
            if json {
                print_json(&c)?;
            } else {
                let only = if a.progress {
                    Some("progress")
                } else if a.decisions {
                    Some("decisions")
                } else {
                    None
                };
                println_out(&render_context(&c, b.now(), only))?;
            }
        }
        SessionCommand::List(a) => {
            let r = b.list_sessions_matching(
                caller,
                &SessionListRequest {
                    status: a.status.map(Wire::text),
                    agent: agent_flag,
                    all_projects: a.all_projects,
                    limit: a.limit,
                },
            )?;
            if r.sessions.is_empty() && !a.all_projects {
                ctx.warn_if_unknown_project(None);
            }
            if json {
                print_json(&r)?;
            } else if r.sessions.is_empty() {
                println_out("No sessions.")?;
            } else {
                let now = b.now();
                let mut out = Vec::new();
                for s in &r.sessions {
                    let mut block = session_header(s, now);
                    if let Some(c) = &s.context {
                        block.push_str(&format!("\nContext: {}", baton_core::clip(c, 120)));
                    }
                    if a.all_projects {
                        block.push_str(&format!("\nProject: {}", s.project));
                    }
                    out.push(block);
                }
                println_out(&out.join("\n\n"))?;
            }
        }
    }
    Ok(0)
}

/// A value fit for a POSIX shell: left bare when it is made of safe characters, else single-quoted.
fn shell_quote(v: &str) -> String {
    let safe = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '@' | '+'));
    if safe {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', "'\\''"))
    }
}
