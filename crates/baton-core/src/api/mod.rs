//! The one core API that the CLI, the MCP server, hooks and servers all call.
//!
//! `types` holds the requests and results; the operations are grouped by concept: `sessions`, `claims`
//! (with leases and sweeps) and `history` (changes and the digest). Rules shared by them live here.

mod claims;
mod conversations;
mod history;
mod observe;
mod sessions;
mod types;

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::config::Policy;
use crate::error::{Error, Hint, Result, Usage};
use crate::model::*;
use crate::parse::{self, Since};
use crate::project::Project;
use crate::store::{self, ClaimQuery, EntryQuery, EventQuery, SessionQuery, Store, Tx};
use crate::time::Timestamp;

pub use conversations::{Bound, CONTINUE_IDLE_SECS, Conversation, ConversationEnded};
pub use observe::{Commit, CommitObserver, Warn};
use sessions::Resume;
pub use types::*;

/// Who is calling, from where.
#[derive(Debug, Clone)]
pub struct Caller {
    pub project: Project,
    pub agent: String,
    /// An explicit session (`--session` / `BATON_SESSION`); else the agent's only active session.
    pub session: Option<String>,
}

/// The clock the rules read. Tests replace it to move time.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// baton's operations over one store.
pub struct Baton {
    store: Box<dyn Store>,
    policy: Policy,
    clock: Clock,
    observers: observe::Observers,
}

impl Baton {
    pub fn new(store: Box<dyn Store>, policy: Policy) -> Baton {
        Baton {
            store,
            policy,
            clock: Arc::new(Timestamp::now),
            observers: observe::Observers::default(),
        }
    }

    /// Replaces the clock (tests move time with it).
    pub fn with_clock(mut self, clock: Clock) -> Baton {
        self.clock = clock;
        self
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    // ---- helpers ----

    fn item_key(&self, caller: &Caller, item_type: &str, item_id: &str, repo: Option<&str>) -> Result<ItemKey> {
        parse::check_type(item_type)?;
        parse::check_id("work id", item_id)?;
        if let Some(r) = repo {
            parse::check_id("repo", r)?;
        }
        Ok(ItemKey {
            project: caller.project.key.clone(),
            item_type: item_type.to_string(),
            repo: repo.unwrap_or(&caller.project.repo).to_string(),
            item_id: item_id.to_string(),
        })
    }

    /// Refuses a work type that is neither built in nor declared, suggesting the one it likely misspells.
    fn check_known_type(&self, item_type: &str) -> Result<()> {
        let known = || {
            parse::WORK_TYPES
                .iter()
                .copied()
                .chain(self.policy.types.iter().map(String::as_str))
        };
        if known().any(|k| k == item_type) {
            return Ok(());
        }
        let hint = parse::likely_type(item_type, known())
            .map(|t| format!("did you mean '{t}'? "))
            .unwrap_or_default();
        let accepted: Vec<String> = known().map(str::to_string).collect();
        Err(Error::bad_input(format!(
            "unknown work type '{item_type}': {hint}known types are {}",
            accepted.join(", ")
        ))
        .with_value(item_type, accepted)
        .with_hint(Hint::DeclareType {
            item_type: item_type.to_string(),
        }))
    }

    /// Marks `stale` on a session read from the store.
    fn decorate(&self, mut s: Session, now: Timestamp) -> Session {
        s.stale = s.status == SessionStatus::Active && s.last_seen < now.minus_secs(self.policy.stale_after_secs);
        s
    }

    fn refresh_git(&self, s: &mut Session, caller: &Caller) {
        if let Some(g) = &caller.project.git
            && s.project == caller.project.key
        {
            if g.branch.is_some() {
                s.git_branch = g.branch.clone();
            }
            if g.commit.is_some() {
                s.git_commit = g.commit.clone();
            }
        }
    }

    fn load_session(&self, tx: &mut dyn Tx, id: &str) -> Result<Session> {
        parse::check_session_id(id)?;
        tx.session(id)?
            .ok_or_else(|| Error::not_found(format!("no session '{id}'")).with_hint(Hint::ListSessions))
    }

    /// The caller's agent's sessions in this project with one of `statuses`, newest first, at most `limit`.
    fn agent_sessions(
        &self,
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

    fn only_active_session(&self, tx: &mut dyn Tx, caller: &Caller) -> Result<Option<Session>> {
        let found = self.agent_sessions(tx, caller, &[SessionStatus::Active], 2)?;
        Ok(if found.len() == 1 {
            found.into_iter().next()
        } else {
            None
        })
    }

    fn try_resolve_session(&self, tx: &mut dyn Tx, caller: &Caller) -> Result<Option<Session>> {
        match caller.session.as_deref() {
            Some(id) => Ok(Some(self.load_session(tx, id)?)),
            None => self.only_active_session(tx, caller),
        }
    }

    /// The explicit session, else the agent's only session in one of `statuses` in this project.
    fn resolve_session(&self, tx: &mut dyn Tx, caller: &Caller, statuses: &[SessionStatus]) -> Result<Session> {
        if let Some(id) = caller.session.as_deref() {
            return self.load_session(tx, id);
        }
        let found = self.agent_sessions(tx, caller, statuses, 6)?;
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
                .with_candidates(found.iter().map(|s| s.id.clone()).collect())
                .with_hint(Hint::NameSession))
            }
        }
    }

    /// The caller's session, which must be active or paused to take writes. Without an explicit session,
    /// the agent's only active one; when it has none but a paused one, the error says how to resume it.
    fn session_for_write(&self, tx: &mut dyn Tx, caller: &Caller, verb: &str) -> Result<Session> {
        let s = match self.resolve_session(tx, caller, &[SessionStatus::Active]) {
            Err(e @ Error::NotFound { .. }) if caller.session.is_none() => {
                let paused = self.agent_sessions(tx, caller, &[SessionStatus::Paused], 1)?;
                return Err(match paused.first() {
                    Some(p) => Error::not_found(format!(
                        "no active session of agent '{}' in project '{}': its session {} is paused",
                        caller.agent, caller.project.key, p.id
                    ))
                    .with_candidates(vec![p.id.clone()])
                    .with_hint(Hint::ResumeOrNameSession {
                        session: p.id.clone(),
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

    #[allow(clippy::too_many_arguments)]
    fn add_entry(
        &self,
        tx: &mut dyn Tx,
        s: &mut Session,
        caller: &Caller,
        now: Timestamp,
        kind: EntryKind,
        text: &str,
        rationale: Option<String>,
    ) -> Result<JournalEntry> {
        let entry = JournalEntry {
            id: uuid::Uuid::now_v7().to_string(),
            session_id: s.id.clone(),
            kind,
            text: text.to_string(),
            rationale,
            created_at: now,
        };
        tx.insert_entry(&entry)?;
        s.updated_at = now;
        s.last_seen = now;
        self.refresh_git(s, caller);
        let kind_name = EventKind::of_entry(kind);
        event(
            tx,
            s,
            now,
            kind_name,
            s.id.clone(),
            json!({
                "text": clip(text, 500), "rationale": entry.rationale.as_deref().map(|r| clip(r, 500)),
                "git_branch": s.git_branch, "git_commit": s.git_commit,
            }),
        )?;
        Ok(entry)
    }

    fn context_in(&self, tx: &mut dyn Tx, s: Session, now: Timestamp) -> Result<SessionContext> {
        let mut entries = tx.entries(&EntryQuery {
            session_id: Some(s.id.clone()),
            limit: Some(2000),
            ..Default::default()
        })?;
        entries.reverse();
        let journal = Journal::from_entries(entries);
        let (progress, decisions, blockers) = (&journal.progress, &journal.decisions, &journal.blockers);
        let (next_steps, done) = (&journal.next_steps, &journal.done);
        let claims = tx.claims(&ClaimQuery {
            session_id: Some(s.id.clone()),
            states: vec![ClaimState::Held, ClaimState::Expired],
            ..Default::default()
        })?;
        let s = self.decorate(s, now);
        let mut tldr = s
            .context
            .as_deref()
            .map(|c| clip(c, 200))
            .unwrap_or_else(|| "(no goal given)".to_string());
        let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let live = claims.iter().filter(|c| c.expires_at > now).count();
        tldr.push_str(&format!(
            " — {} progress, {} done, {}, {}, {} held",
            progress.len(),
            done.len(),
            plural(decisions.len(), "decision", "decisions"),
            plural(blockers.len(), "blocker", "blockers"),
            plural(live, "claim", "claims"),
        ));
        if claims.len() > live {
            tldr.push_str(&format!(", {} with an expired lease", claims.len() - live));
        }
        if let Some(p) = progress.last() {
            tldr.push_str(&format!("; latest: {}", clip(&p.text, 160)));
        }
        if let Some(n) = next_steps.last() {
            tldr.push_str(&format!("; next: {}", clip(&n.text, 160)));
        }
        Ok(SessionContext {
            session: s,
            tldr,
            journal,
            claims,
        })
    }
}

fn check_caller(caller: &Caller) -> Result<()> {
    parse::check_id("agent", &caller.agent)
}

fn check_event_kind(k: &str) -> Result<()> {
    let known = EVENT_KINDS.contains(&k) || EVENT_KINDS.iter().any(|e| e.split('.').next() == Some(k));
    if !known {
        return Err(Error::bad_input(format!(
            "unknown event kind '{k}': expected a family (session, journal, claim) or one of {}",
            EVENT_KINDS.join(", ")
        ))
        .with_value(k, EVENT_KINDS.iter().map(|k| k.to_string()).collect()));
    }
    Ok(())
}

fn transition(s: &Session, to: SessionStatus, from: &[SessionStatus]) -> Result<()> {
    if from.contains(&s.status) {
        return Ok(());
    }
    Err(Error::bad_input(format!(
        "illegal state transition: session {} is {}, and only a session that is {} can become {}",
        s.id,
        s.status,
        from.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(" or "),
        to
    )))
}

fn event(tx: &mut dyn Tx, s: &Session, now: Timestamp, kind: EventKind, target: String, data: Value) -> Result<()> {
    tx.append_event(&NewEvent {
        time: now,
        project: s.project.clone(),
        agent: s.agent.clone(),
        session_id: Some(s.id.clone()),
        kind: kind.as_str(),
        target,
        data,
    })
}

/// Shortens text to `max` characters, marking the cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Checks an idempotency key before any transaction starts.
fn check_key(key: Option<&String>) -> Result<()> {
    match key {
        Some(k) => parse::check_id("idempotency key", k),
        None => Ok(()),
    }
}

/// An idempotency key as one caller used it for one request.
///
/// Keys are scoped to their caller ([`KeyScope`]): the same key from another session or agent is that
/// caller's own request, never a replay of someone else's result.
struct Keyed<'a> {
    project: &'a str,
    scope: String,
    key: &'a str,
    command: &'static str,
    request: String,
}

impl<'a> Keyed<'a> {
    /// `None` when the call carries no key.
    fn new(
        caller: &'a Caller,
        scope: KeyScope,
        key: Option<&'a str>,
        command: &'static str,
        fingerprint: &Value,
    ) -> Option<Keyed<'a>> {
        key.map(|key| Keyed {
            project: &caller.project.key,
            scope: scope.as_stored(),
            key,
            command,
            request: fingerprint.to_string(),
        })
    }

    /// The result of this caller's earlier call with this key; an error when that call was another request.
    fn replay<T: DeserializeOwned>(&self, tx: &mut dyn Tx) -> Result<Option<T>> {
        let Some(rec) = tx.idempotency(self.project, &self.scope, self.key)? else {
            return Ok(None);
        };
        if rec.command != self.command || rec.request != self.request {
            return Err(Error::bad_input(format!(
                "idempotency key '{}' was already used for a different request ({}): use a new key for a new request",
                self.key, rec.command
            )));
        }
        serde_json::from_str(&rec.result).map(Some).map_err(|e| {
            Error::internal(format!(
                "stored result for idempotency key '{}' is unreadable: {e}",
                self.key
            ))
        })
    }

    /// Stores the result for retries.
    fn remember<T: Serialize>(&self, tx: &mut dyn Tx, result: &T, now: Timestamp) -> Result<()> {
        let result = serde_json::to_string(result).map_err(|e| Error::internal(e.to_string()))?;
        tx.put_idempotency(&IdempotencyRecord {
            project: self.project.to_string(),
            scope: self.scope.clone(),
            key: self.key.to_string(),
            command: self.command.to_string(),
            request: self.request.clone(),
            result,
            created_at: now,
        })
    }
}

/// Runs `f` once per key: a retry by the same caller returns the first call's stored result.
fn once<T: Serialize + DeserializeOwned>(
    tx: &mut dyn Tx,
    keyed: Option<&Keyed>,
    now: Timestamp,
    f: impl FnOnce(&mut dyn Tx) -> Result<T>,
) -> Result<T> {
    let Some(k) = keyed else { return f(tx) };
    if let Some(prev) = k.replay(tx)? {
        return Ok(prev);
    }
    let out = f(tx)?;
    k.remember(tx, &out, now)?;
    Ok(out)
}
