//! Which session a call means: the one it names (`--session`, `BATON_SESSION`), else the agent's only one in
//! this project; and, when there is none or more than one, the error that says so and what to do.
//!
//! These read no clock: an operation resolves its session first and takes its time after (see `Op`).

use super::{Caller, clip};
use crate::error::{Error, Hint, Result};
use crate::model::{Session, SessionStatus};
use crate::parse;
use crate::store::{SessionQuery, Tx};

/// The session with this id.
pub(super) fn by_id(tx: &mut dyn Tx, id: &str) -> Result<Session> {
    parse::check_session_id(id)?;
    tx.session(id)?
        .ok_or_else(|| Error::not_found(format!("no session '{id}'")).with_hint(Hint::ListSessions))
}

/// The caller's agent's sessions in this project with one of `statuses`, newest first, at most `limit`.
pub(super) fn agent_sessions(
    tx: &mut dyn Tx,
    caller: &Caller,
    statuses: &[SessionStatus],
    limit: u32,
) -> Result<Vec<Session>> {
    tx.sessions(&SessionQuery {
        project: Some(caller.project.key.clone()),
        agent: Some(caller.agent.clone()),
        statuses: statuses.to_vec(),
        limit: Some(limit),
        ..Default::default()
    })
}

/// The agent's active session in this project when it has exactly one.
pub(super) fn only_active(tx: &mut dyn Tx, caller: &Caller) -> Result<Option<Session>> {
    let found = agent_sessions(tx, caller, &[SessionStatus::Active], 2)?;
    Ok(if found.len() == 1 {
        found.into_iter().next()
    } else {
        None
    })
}

/// The explicit session, else the agent's only active one; `None` when the call names none and the agent has
/// no active session or several.
pub(super) fn session_if_any(tx: &mut dyn Tx, caller: &Caller) -> Result<Option<Session>> {
    match caller.session.as_deref() {
        Some(id) => Ok(Some(by_id(tx, id)?)),
        None => only_active(tx, caller),
    }
}

/// The explicit session, else the agent's only session in one of `statuses` in this project.
pub(super) fn session(tx: &mut dyn Tx, caller: &Caller, statuses: &[SessionStatus]) -> Result<Session> {
    if let Some(id) = caller.session.as_deref() {
        return by_id(tx, id);
    }
    let found = agent_sessions(tx, caller, statuses, 6)?;
    let wanted = statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" or ");
    match found.len() {
        0 => Err(Error::not_found(format!(
            "no {wanted} session of agent '{}' in project '{}'",
            caller.agent, caller.project.key
        ))
        .with_hint(Hint::StartOrNameSession)),
        1 => Ok(found.into_iter().next().expect("one session")),
        _ => {
            let list: Vec<String> = found
                .iter()
                .take(5)
                .map(|s| {
                    format!(
                        "{} ({}{})",
                        s.id,
                        s.status,
                        s.context
                            .as_deref()
                            .map(|c| format!(", {}", clip(c, 40)))
                            .unwrap_or_default()
                    )
                })
                .collect();
            Err(Error::bad_input(format!(
                "ambiguous session: agent '{}' has {}{} {wanted} sessions in this project: {}",
                caller.agent,
                if found.len() > 5 { "more than " } else { "" },
                found.len().min(5),
                list.join(", ")
            ))
            .with_candidates(found.iter().map(|s| s.id.to_string()).collect())
            .with_hint(Hint::NameSession))
        }
    }
}

/// The caller's session, which must be active or paused to take writes. Without an explicit session,
/// the agent's only active one; when it has none but a paused one, the error says how to resume it.
pub(super) fn session_for_write(tx: &mut dyn Tx, caller: &Caller, verb: &str) -> Result<Session> {
    let s = match session(tx, caller, &[SessionStatus::Active]) {
        Err(e @ Error::NotFound { .. }) if caller.session.is_none() => {
            let paused = agent_sessions(tx, caller, &[SessionStatus::Paused], 1)?;
            return Err(match paused.first() {
                Some(p) => Error::not_found(format!(
                    "no active session of agent '{}' in project '{}': its session {} is paused",
                    caller.agent, caller.project.key, p.id
                ))
                .with_candidates(vec![p.id.to_string()])
                .with_hint(Hint::ResumeOrNameSession {
                    session: p.id.to_string(),
                    verb: verb.to_string(),
                }),
                None => e,
            });
        }
        other => other?,
    };
    if s.status.is_ended() {
        return Err(
            Error::bad_input(format!("cannot {verb} session {}: it is {}", s.id, s.status))
                .with_hint(Hint::StartNewSession),
        );
    }
    Ok(s)
}
