//! Conversations: a client's conversation (Claude Code, Codex, Gemini CLI) bound to one baton session.
//!
//! A conversation is named by a key such as `claude:<conversation id>`. Its bindings are stored as
//! idempotency records in the agent's scope under `key`, `key#2`, `key#3`, ...; the latest binding names the
//! conversation's session. A new conversation continues the agent's latest unfinished session here instead
//! of starting an empty one beside it, and a conversation that recorded nothing leaves no session behind.

use serde::Serialize;
use serde_json::{Value, json};

use super::idempotency::Keyed;
use super::op::Op;
use super::sessions::{Resume, transition};
use super::{Baton, Caller, SessionStarted, StartRequest, check_caller, resolve};
use crate::error::{Error, Result};
use crate::model::{EntryKind, EventKind, IdempotencyRecord, KeyScope, Session, SessionId, SessionStatus};
use crate::parse;
use crate::store::{self, ClaimQuery, EntryQuery};
use crate::time::Timestamp;

/// How long an active session must have been quiet before a new conversation may continue it: an active
/// session seen more recently most likely belongs to a conversation that is still open in another window.
pub const CONTINUE_IDLE_SECS: i64 = 15 * 60;

/// The most bindings one conversation may have.
const MAX_BINDINGS: u32 = 50;

/// The command stored with a binding record.
const BIND_COMMAND: &str = "conversation";

/// A conversation's session and how it came to be.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Conversation {
    pub session: Session,
    pub how: Bound,
    /// Other unfinished sessions of the agent here that the conversation could continue instead.
    pub others: Vec<Session>,
    /// Sessions closed on the way because they recorded nothing.
    pub folded: Vec<SessionId>,
}

/// How a conversation got its session.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// The conversation already had this session, active.
    Existing,
    /// The conversation's own session was paused and is active again.
    Resumed,
    /// The conversation took over an unfinished session of the agent (`was` its status before).
    Continued { was: SessionStatus },
    /// A new session, with what an agent gets when it starts one.
    Started(Box<SessionStarted>),
}

/// What happened to a conversation's session when the conversation ended.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ConversationEnded {
    pub session: Session,
    /// True when the session recorded nothing and was closed instead of paused.
    pub folded: bool,
}

impl Baton {
    /// The session the conversation `key` is bound to now, if any (ended sessions included).
    pub fn conversation_session(&self, caller: &Caller, key: &str) -> Result<Option<Session>> {
        parse::check_id("conversation key", key)?;
        let now = self.now();
        store::read(self.store(), |tx| {
            let mut op = Op::at(self, tx, caller, now);
            let (found, _) = op.latest_binding(key)?;
            Ok(found.map(|s| op.decorate(s)))
        })
    }

    /// The conversation's session, made active: its own one if it has one that has not ended; else, when
    /// `continue_unfinished`, the agent's latest unfinished session in this project (and worktree); else a
    /// new session. Unfinished sessions that recorded nothing are closed on the way instead of continued.
    pub fn open_conversation(&self, caller: &Caller, key: &str, continue_unfinished: bool) -> Result<Conversation> {
        parse::check_id("conversation key", key)?;
        check_caller(caller)?;
        self.write(Some(caller), |tx| {
            let mut op = Op::new(self, tx, caller);
            let (found, next_key) = op.latest_binding(key)?;
            if let Some(s) = found.filter(|s| !s.status.is_ended()) {
                let how = if s.status == SessionStatus::Active {
                    Bound::Existing
                } else {
                    Bound::Resumed
                };
                let session = op.activate(s, Resume::OnlySeen)?;
                return Ok(Conversation {
                    session,
                    how,
                    others: Vec::new(),
                    folded: Vec::new(),
                });
            }
            let mut folded = Vec::new();
            let mut candidates = Vec::new();
            if continue_unfinished {
                op.sweep()?;
                for s in op.unfinished(None)? {
                    if op.recorded_nothing(&s)? {
                        op.fold(s.clone(), "it recorded nothing")?;
                        folded.push(s.id);
                    } else {
                        candidates.push(s);
                    }
                }
            }
            if candidates.is_empty() {
                let req = StartRequest::default();
                let started = op.start_session(&req)?;
                // Recorded like `session start --idempotency-key KEY`, which older hooks used.
                let fingerprint = json!({"context": req.context, "name": req.name, "task_ids": req.task_ids, "role": req.role, "agent": caller.agent});
                if let Some(k) = Keyed::new(
                    caller,
                    KeyScope::Agent(caller.agent.clone()),
                    Some(&next_key),
                    "session start",
                    &fingerprint,
                ) {
                    k.remember(op.tx, &started, op.now)?;
                }
                return Ok(Conversation {
                    session: started.session.clone(),
                    how: Bound::Started(Box::new(started)),
                    others: Vec::new(),
                    folded,
                });
            }
            let pick = candidates.remove(0);
            let was = pick.status;
            op.bind(&next_key, &pick.id)?;
            let session = op.activate(pick, Resume::OnlySeen)?;
            Ok(Conversation {
                session,
                how: Bound::Continued { was },
                others: candidates,
                folded,
            })
        })
    }

    /// Binds the conversation to another unfinished session of the agent in this project (`to`). The session it
    /// leaves is paused, or closed when it recorded nothing.
    pub fn switch_conversation(&self, caller: &Caller, key: &str, to: &str) -> Result<Conversation> {
        parse::check_id("conversation key", key)?;
        parse::check_session_id(to)?;
        self.write(Some(caller), |tx| {
            let mut op = Op::new(self, tx, caller);
            let target = resolve::by_id(op.tx, to)?;
            if target.project != caller.project.key || target.agent != caller.agent {
                return Err(Error::bad_input(format!(
                    "session {to} is not a session of agent '{}' in project '{}': it belongs to '{}' in '{}'",
                    caller.agent, caller.project.key, target.agent, target.project
                )));
            }
            if target.status.is_ended() {
                return Err(Error::bad_input(format!(
                    "session {to} is {}: only an active or paused session can be continued",
                    target.status
                )));
            }
            let (found, next_key) = op.latest_binding(key)?;
            let mut folded = Vec::new();
            if let Some(cur) = found.filter(|s| !s.status.is_ended() && s.id != target.id) {
                if op.recorded_nothing(&cur)? {
                    folded.push(cur.id.clone());
                    op.fold(cur, &format!("its conversation continued session {to}"))?;
                } else if cur.status == SessionStatus::Active {
                    op.pause(cur, "its conversation continued another session")?;
                }
            }
            op.bind(&next_key, &target.id)?;
            let was = target.status;
            let session = op.activate(target, Resume::OnlySeen)?;
            Ok(Conversation {
                session,
                how: Bound::Continued { was },
                others: Vec::new(),
                folded,
            })
        })
    }

    /// The user asked to continue, and the conversation's session recorded nothing: binds the conversation to
    /// the agent's latest unfinished session here instead, even one active moments ago (a client that sends no
    /// end of conversation leaves its last session active), and folds the empty one. `None` when the
    /// conversation's session has work of its own or there is nothing else to continue.
    pub fn continue_elsewhere(&self, caller: &Caller, key: &str) -> Result<Option<Conversation>> {
        parse::check_id("conversation key", key)?;
        check_caller(caller)?;
        self.write(Some(caller), |tx| {
            let mut op = Op::new(self, tx, caller);
            let (found, next_key) = op.latest_binding(key)?;
            let cur = found.filter(|s| !s.status.is_ended());
            if let Some(c) = &cur
                && !op.recorded_nothing(c)?
            {
                return Ok(None);
            }
            let mut candidates = Vec::new();
            for s in op.unfinished_as(cur.as_ref().map(|c| c.id.as_str()), true)? {
                if !op.recorded_nothing(&s)? {
                    candidates.push(s);
                }
            }
            if candidates.is_empty() {
                return Ok(None);
            }
            let pick = candidates.remove(0);
            let mut folded = Vec::new();
            if let Some(c) = cur {
                folded.push(c.id.clone());
                op.fold(c, &format!("its conversation continued session {}", pick.id))?;
            }
            let was = pick.status;
            op.bind(&next_key, &pick.id)?;
            let session = op.activate(pick, Resume::OnlySeen)?;
            Ok(Some(Conversation {
                session,
                how: Bound::Continued { was },
                others: candidates,
                folded,
            }))
        })
    }

    /// Ends a conversation: its session (the caller's) is paused for a later conversation to continue, or
    /// closed as abandoned when it recorded nothing. An ended or paused session is left as it is.
    pub fn end_conversation(&self, caller: &Caller) -> Result<Option<ConversationEnded>> {
        self.write(Some(caller), |tx| {
            let s = resolve::session(tx, caller, &[SessionStatus::Active])?;
            if s.status != SessionStatus::Active {
                return Ok(None);
            }
            let mut op = Op::new(self, tx, caller);
            if op.recorded_nothing(&s)? {
                let ended = op.fold(s, "its conversation ended with nothing recorded")?;
                return Ok(Some(ConversationEnded {
                    session: ended,
                    folded: true,
                }));
            }
            let session = op.pause(s, "its conversation ended")?;
            Ok(Some(ConversationEnded { session, folded: false }))
        })
    }

    /// The agent's unfinished sessions in this project that a new conversation may continue, most recently
    /// active first: paused ones, and active ones quiet for [`CONTINUE_IDLE_SECS`]. Sessions of another
    /// worktree of the repository are left out.
    pub fn continue_candidates(&self, caller: &Caller) -> Result<Vec<Session>> {
        let now = self.now();
        store::read(self.store(), |tx| Op::at(self, tx, caller, now).unfinished(None))
    }
}

impl Op<'_> {
    /// The agent's unfinished sessions here, most recently active first; active ones only when quiet for
    /// [`CONTINUE_IDLE_SECS`], unless `any_active`.
    fn unfinished(&mut self, except: Option<&str>) -> Result<Vec<Session>> {
        self.unfinished_as(except, false)
    }

    fn unfinished_as(&mut self, except: Option<&str>, any_active: bool) -> Result<Vec<Session>> {
        let (caller, now) = (self.caller, self.now);
        let worktree = caller.project.git.as_ref().map(|g| g.worktree.display().to_string());
        let quiet_since = if any_active {
            Timestamp(i64::MAX)
        } else {
            now.minus_secs(CONTINUE_IDLE_SECS)
        };
        let found = resolve::agent_sessions(self.tx, caller, &[SessionStatus::Paused, SessionStatus::Active], 20)?;
        let mut list: Vec<Session> = found
            .into_iter()
            .filter(|s| Some(s.id.as_str()) != except)
            .filter(|s| s.status == SessionStatus::Paused || s.last_seen < quiet_since)
            .filter(|s| match (&worktree, &s.worktree) {
                (Some(mine), Some(theirs)) => mine == theirs,
                _ => true,
            })
            .map(|s| self.decorate(s))
            .collect();
        list.sort_by_key(|s| std::cmp::Reverse(s.updated_at));
        Ok(list)
    }

    /// True when a session holds no journal entry the agent wrote, never claimed anything and left no handoff.
    fn recorded_nothing(&mut self, s: &Session) -> Result<bool> {
        if s.summary.is_some() || s.handoff.as_ref().is_some_and(|h| !h.is_empty()) {
            return Ok(false);
        }
        let entries = self.tx.entries(&EntryQuery {
            session_id: Some(s.id.clone()),
            kinds: vec![
                EntryKind::Progress,
                EntryKind::Decision,
                EntryKind::Discovery,
                EntryKind::Blocker,
                EntryKind::Next,
                EntryKind::Done,
                EntryKind::Note,
            ],
            limit: Some(1),
            ..Default::default()
        })?;
        if !entries.is_empty() {
            return Ok(false);
        }
        let claims = self.tx.claims(&ClaimQuery {
            session_id: Some(s.id.clone()),
            limit: Some(1),
            ..Default::default()
        })?;
        Ok(claims.is_empty())
    }

    /// Closes a session that recorded nothing, as abandoned with `why`.
    fn fold(&mut self, mut s: Session, why: &str) -> Result<Session> {
        let reason = format!("closed: {why}");
        s.summary = None;
        Ok(self
            .finish(s, SessionStatus::Abandoned, EventKind::SessionAbandoned, Some(&reason))?
            .session)
    }

    /// The conversation's latest binding and the key its next one takes.
    fn latest_binding(&mut self, key: &str) -> Result<(Option<Session>, String)> {
        let caller = self.caller;
        let scope = KeyScope::Agent(caller.agent.clone()).as_stored();
        let mut latest = None;
        for n in 1..=MAX_BINDINGS {
            let k = binding_key(key, n);
            let Some(rec) = self.tx.idempotency(&caller.project.key, &scope, &k)? else {
                return Ok((latest, k));
            };
            if let Some(id) = bound_session_id(&rec) {
                latest = self.tx.session(&id)?;
            }
        }
        Err(Error::internal(format!(
            "conversation '{key}' has been bound to more than {MAX_BINDINGS} baton sessions"
        )))
    }

    /// Binds the conversation to `session_id`, under its next binding key.
    fn bind(&mut self, next_key: &str, session_id: &str) -> Result<()> {
        let (caller, now) = (self.caller, self.now);
        self.tx.put_idempotency(&IdempotencyRecord {
            project: caller.project.key.clone(),
            scope: KeyScope::Agent(caller.agent.clone()).as_stored(),
            key: next_key.to_string(),
            command: BIND_COMMAND.to_string(),
            request: json!({"bind": session_id}).to_string(),
            result: json!({"session_id": session_id}).to_string(),
            created_at: now,
        })
    }

    /// Pauses an active session (event `session.paused` with `reason`).
    fn pause(&mut self, mut s: Session, reason: &str) -> Result<Session> {
        transition(&s, SessionStatus::Paused, &[SessionStatus::Active])?;
        self.refresh_git(&mut s);
        s.status = SessionStatus::Paused;
        s.updated_at = self.now;
        s.last_seen = self.now;
        self.tx.update_session(&s)?;
        self.event(
            &s,
            EventKind::SessionPaused,
            s.id.to_string(),
            json!({"note": null, "reason": reason}),
        )?;
        Ok(self.decorate(s))
    }
}

fn binding_key(key: &str, n: u32) -> String {
    if n == 1 { key.to_string() } else { format!("{key}#{n}") }
}

/// The session a binding (or a `session start` record) names.
pub(super) fn bound_session_id(rec: &IdempotencyRecord) -> Option<String> {
    if rec.command != "session start" && rec.command != BIND_COMMAND {
        return None;
    }
    let v: Value = serde_json::from_str(&rec.result).ok()?;
    v.get("session_id").and_then(Value::as_str).map(str::to_string)
}
