//! The one core API that the CLI, the MCP server, hooks and servers all call.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::Policy;
use crate::error::{Error, Result};
use crate::model::*;
use crate::parse::{self, Since};
use crate::project::Project;
use crate::store::{self, ClaimQuery, EntryQuery, EventQuery, SessionQuery, Store, Tx};
use crate::time::Timestamp;

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
}

// ---- requests and results ----

#[derive(Debug, Clone, Default)]
pub struct StartRequest {
    pub context: Option<String>,
    pub name: Option<String>,
    pub task_ids: Vec<String>,
    pub role: Option<String>,
    pub idempotency_key: Option<String>,
}

/// The handoff the last ended session of the project left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastHandoff {
    pub session_id: String,
    pub agent: String,
    pub status: SessionStatus,
    pub ended_at: Option<Timestamp>,
    pub summary: Option<String>,
    pub handoff: Handoff,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionStarted {
    pub session_id: String,
    pub session: Session,
    pub handoff_notes: Option<String>,
    pub last_summary: Option<String>,
    pub last_handoff: Option<LastHandoff>,
    pub digest: Digest,
}

#[derive(Debug, Clone, Default)]
pub struct EndRequest {
    pub summary: Option<String>,
    pub handoff: Option<String>,
    pub next: Vec<String>,
    pub blockers: Vec<String>,
    pub done: Vec<String>,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEnded {
    pub session: Session,
    /// Claims the session still held, released as deferred.
    pub released: Vec<Claim>,
}

#[derive(Debug, Clone)]
pub struct LogRequest {
    pub kind: EntryKind,
    pub text: String,
    pub rationale: Option<String>,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logged {
    pub session_id: String,
    pub entry: JournalEntry,
}

/// How `session close` ends a session.
#[derive(Debug, Clone)]
pub enum CloseAs {
    Complete,
    Abandon { reason: String },
}

/// A session with its journal, grouped the way a resuming agent reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionContext {
    pub session: Session,
    pub tldr: String,
    pub progress: Vec<JournalEntry>,
    pub decisions: Vec<JournalEntry>,
    pub discoveries: Vec<JournalEntry>,
    pub blockers: Vec<JournalEntry>,
    pub next_steps: Vec<JournalEntry>,
    pub done: Vec<JournalEntry>,
    pub notes: Vec<JournalEntry>,
    pub checkpoints: Vec<JournalEntry>,
    pub claims: Vec<Claim>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resumed {
    pub session_id: String,
    pub context: SessionContext,
    pub digest: Digest,
}

#[derive(Debug, Clone)]
pub struct ClaimRequest {
    pub item_type: String,
    pub item_id: String,
    pub repo: Option<String>,
    pub ttl: Option<String>,
    pub idempotency_key: Option<String>,
}

/// Who holds an item someone else asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holder {
    pub agent: String,
    pub session: String,
    pub since: Timestamp,
    pub expires_at: Timestamp,
    pub token: i64,
}

impl Holder {
    fn of(c: &Claim) -> Holder {
        Holder {
            agent: c.agent.clone(),
            session: c.session_id.clone(),
            since: c.granted_at,
            expires_at: c.expires_at,
            token: c.token,
        }
    }
}

/// The answer to a claim: granted (`claimed: true`, `claim`) or held by another (`claimed: false`, `claimed_by`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimOutcome {
    pub claimed: bool,
    pub item: ItemKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<Claim>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<Holder>,
    /// When this grant took over an expired lease: who held it before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken_over_from: Option<Holder>,
    /// The caller already held the item; the lease was renewed.
    #[serde(default)]
    pub renewed: bool,
}

#[derive(Debug, Clone)]
pub struct ReleaseRequest {
    pub item_type: String,
    pub item_id: String,
    pub repo: Option<String>,
    pub status: ReleaseStatus,
    pub notes: Option<String>,
    pub force: bool,
    pub reason: Option<String>,
    /// When given, the release fails unless this is still the item's fencing token.
    pub token: Option<i64>,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Released {
    pub released: bool,
    pub claim: Claim,
    pub forced: bool,
}

/// A lease the session lost: it expired and another session took the item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LostLease {
    pub item: ItemKey,
    pub your_token: i64,
    pub taken_by: Option<Holder>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub session_id: String,
    pub last_seen: Timestamp,
    pub renewed: Vec<Claim>,
    pub lost: Vec<LostLease>,
}

#[derive(Debug, Clone, Default)]
pub struct ClaimsRequest {
    pub mine: bool,
    pub item_type: Option<String>,
    pub include_released: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimList {
    pub project: String,
    pub claims: Vec<ClaimView>,
}

/// A claim as listed, with whether its lease ran out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimView {
    #[serde(flatten)]
    pub claim: Claim,
    pub expired: bool,
    pub mine: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ChangesRequest {
    pub since: Option<String>,
    pub agent: Option<String>,
    pub kind: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangesPage {
    pub project: String,
    pub events: Vec<Event>,
    /// Pass as `--since` to get the events after this page.
    pub next_cursor: i64,
    /// Whether more events were already waiting after this page.
    pub more: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionList {
    pub sessions: Vec<Session>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Sweep {
    /// Stale sessions moved to paused.
    pub paused: Vec<String>,
    /// Claims whose lease ran out, marked expired.
    pub expired: Vec<ItemKey>,
}

/// A short line about another session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionBrief {
    pub session_id: String,
    pub agent: String,
    pub name: Option<String>,
    pub context: Option<String>,
    pub status: SessionStatus,
    pub stale: bool,
    pub last_seen: Timestamp,
    pub git_branch: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockerBrief {
    pub session_id: String,
    pub agent: String,
    pub text: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangesBrief {
    /// Changes are counted from the end of this agent's previous session; none on a first session.
    pub since: Option<Timestamp>,
    pub count: u64,
    /// The count stopped at its cap; there are at least `count`.
    pub count_capped: bool,
    pub newest: Vec<Event>,
}

/// The context a starting or resuming agent needs. Bounded in size; `omitted` says what was cut.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    pub project: String,
    pub agent: String,
    pub generated_at: Timestamp,
    /// No session of this project has ended yet and none other is open.
    pub first_session: bool,
    pub last_handoff: Option<LastHandoff>,
    pub active_sessions: Vec<SessionBrief>,
    pub my_claims: Vec<Claim>,
    pub other_claims: Vec<Claim>,
    pub blockers: Vec<BlockerBrief>,
    pub changes: ChangesBrief,
    pub omitted: Vec<String>,
}

const CHANGES_COUNT_CAP: u32 = 1_000;
const DIGEST_LIST_CAP: u32 = 20;
const DIGEST_NEWEST: u32 = 10;
const DIGEST_NOISE: &[&str] = &["session.heartbeat"];

impl Baton {
    pub fn new(store: Box<dyn Store>, policy: Policy) -> Baton {
        Baton {
            store,
            policy,
            clock: Arc::new(Timestamp::now),
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

    // ---- sessions ----

    /// Starts an active session and returns it with the last handoff and a digest.
    pub fn start_session(&self, caller: &Caller, req: StartRequest) -> Result<SessionStarted> {
        check_caller(caller)?;
        if let Some(c) = &req.context {
            parse::check_text("context", c)?;
        }
        if let Some(n) = &req.name {
            parse::check_id("session name", n)?;
        }
        if let Some(r) = &req.role {
            parse::check_id("role", r)?;
        }
        for t in &req.task_ids {
            parse::check_id("task id", t)?;
        }
        let fingerprint = json!({"context": req.context, "name": req.name, "task_ids": req.task_ids, "role": req.role, "agent": caller.agent});
        let now = self.now();
        let started: SessionStarted = store::write(self.store(), |tx| {
            idempotent(
                tx,
                caller,
                req.idempotency_key.as_deref(),
                "session start",
                &fingerprint,
                now,
                |tx| {
                    self.sweep_in(tx, &caller.project.key, now)?;
                    let git = caller.project.git.as_ref();
                    let session = Session {
                        id: uuid::Uuid::now_v7().to_string(),
                        project: caller.project.key.clone(),
                        agent: caller.agent.clone(),
                        name: req.name.clone(),
                        role: req.role.clone(),
                        context: req.context.clone(),
                        task_ids: req.task_ids.clone(),
                        status: SessionStatus::Active,
                        stale: false,
                        git_branch: git.and_then(|g| g.branch.clone()),
                        git_commit: git.and_then(|g| g.commit.clone()),
                        worktree: git.map(|g| g.worktree.display().to_string()),
                        created_at: now,
                        updated_at: now,
                        last_seen: now,
                        ended_at: None,
                        compaction_count: 0,
                        summary: None,
                        handoff: None,
                    };
                    tx.insert_session(&session)?;
                    event(
                        tx,
                        &session,
                        now,
                        "session.started",
                        session.id.clone(),
                        json!({
                            "context": session.context, "name": session.name, "task_ids": session.task_ids,
                            "role": session.role, "git_branch": session.git_branch,
                        }),
                    )?;
                    let digest = self.digest_in(tx, caller, Some(&session), now)?;
                    Ok(SessionStarted {
                        session_id: session.id.clone(),
                        handoff_notes: digest.last_handoff.as_ref().and_then(|h| h.handoff.notes.clone()),
                        last_summary: digest.last_handoff.as_ref().and_then(|h| h.summary.clone()),
                        last_handoff: digest.last_handoff.clone(),
                        session,
                        digest,
                    })
                },
            )
        })?;
        Ok(started)
    }

    /// Adds a journal entry to the caller's session.
    pub fn log(&self, caller: &Caller, req: LogRequest) -> Result<Logged> {
        parse::check_nonempty_text(req.kind.as_str(), &req.text)?;
        if let Some(r) = &req.rationale {
            parse::check_text("rationale", r)?;
        }
        if req.rationale.is_some() && req.kind != EntryKind::Decision {
            return Err(Error::bad_input(format!(
                "--rationale goes with a decision, not a {} entry: use --decision TEXT --rationale TEXT",
                req.kind
            )));
        }
        let fingerprint = json!({"kind": req.kind, "text": req.text, "rationale": req.rationale});
        let now = self.now();
        store::write(self.store(), |tx| {
            idempotent(
                tx,
                caller,
                req.idempotency_key.as_deref(),
                "session log",
                &fingerprint,
                now,
                |tx| {
                    let mut s = self.session_for_write(tx, caller, "log to")?;
                    let entry = self.add_entry(tx, &mut s, caller, now, req.kind, &req.text, req.rationale.clone())?;
                    tx.update_session(&s)?;
                    Ok(Logged {
                        session_id: s.id.clone(),
                        entry,
                    })
                },
            )
        })
    }

    /// Records a checkpoint (and refreshes git info) on the caller's session.
    pub fn checkpoint(&self, caller: &Caller, note: Option<String>) -> Result<Logged> {
        if let Some(n) = &note {
            parse::check_text("note", n)?;
        }
        let now = self.now();
        store::write(self.store(), |tx| {
            let mut s = self.session_for_write(tx, caller, "checkpoint")?;
            let text = note.clone().unwrap_or_else(|| "checkpoint".to_string());
            let entry = self.add_entry(tx, &mut s, caller, now, EntryKind::Checkpoint, &text, None)?;
            tx.update_session(&s)?;
            Ok(Logged {
                session_id: s.id.clone(),
                entry,
            })
        })
    }

    /// Counts a context compaction and checkpoints.
    pub fn record_compaction(&self, caller: &Caller) -> Result<Session> {
        let now = self.now();
        store::write(self.store(), |tx| {
            let mut s = self.session_for_write(tx, caller, "checkpoint")?;
            s.compaction_count += 1;
            self.add_entry(
                tx,
                &mut s,
                caller,
                now,
                EntryKind::Checkpoint,
                "context compacted",
                None,
            )?;
            tx.update_session(&s)?;
            Ok(s)
        })
    }

    /// Pauses the caller's active session.
    pub fn pause(&self, caller: &Caller, note: Option<String>) -> Result<Session> {
        if let Some(n) = &note {
            parse::check_text("note", n)?;
        }
        let now = self.now();
        store::write(self.store(), |tx| {
            let mut s = self.resolve_session(tx, caller, &[SessionStatus::Active])?;
            transition(&s, SessionStatus::Paused, &[SessionStatus::Active])?;
            self.refresh_git(&mut s, caller);
            if let Some(n) = &note {
                self.add_entry(tx, &mut s, caller, now, EntryKind::Note, n, None)?;
            }
            s.status = SessionStatus::Paused;
            s.updated_at = now;
            s.last_seen = now;
            tx.update_session(&s)?;
            event(
                tx,
                &s,
                now,
                "session.paused",
                s.id.clone(),
                json!({"note": note, "reason": "paused"}),
            )?;
            Ok(self.decorate(s, now))
        })
    }

    /// Resumes a session (the given one, else the agent's latest paused or active one) and returns its full context.
    pub fn resume(&self, caller: &Caller, id: Option<&str>) -> Result<Resumed> {
        if let Some(id) = id {
            parse::check_session_id(id)?;
        }
        let now = self.now();
        store::write(self.store(), |tx| {
            self.sweep_in(tx, &caller.project.key, now)?;
            let mut s = match id.or(caller.session.as_deref()) {
                Some(id) => self.load_session(tx, id)?,
                None => {
                    let q = SessionQuery {
                        project: Some(caller.project.key.clone()),
                        agent: Some(caller.agent.clone()),
                        statuses: vec![SessionStatus::Paused, SessionStatus::Active],
                        limit: Some(1),
                        ..Default::default()
                    };
                    tx.sessions(&q)?.into_iter().next().ok_or_else(|| {
                        Error::not_found(format!(
                            "no paused or active session of agent '{}' in project '{}' to resume: pass a session id, or start one with `baton session start`",
                            caller.agent, caller.project.key
                        ))
                    })?
                }
            };
            transition(
                &s,
                SessionStatus::Active,
                &[SessionStatus::Paused, SessionStatus::Active],
            )?;
            let was = s.status;
            s.status = SessionStatus::Active;
            s.updated_at = now;
            s.last_seen = now;
            self.refresh_git(&mut s, caller);
            tx.update_session(&s)?;
            if was != SessionStatus::Active {
                event(
                    tx,
                    &s,
                    now,
                    "session.resumed",
                    s.id.clone(),
                    json!({"by_agent": caller.agent}),
                )?;
            }
            let context = self.context_in(tx, s, now)?;
            let digest = self.digest_in(tx, caller, Some(&context.session), now)?;
            Ok(Resumed {
                session_id: context.session.id.clone(),
                context,
                digest,
            })
        })
    }

    /// Ends the caller's session as completed with a summary and handoff notes.
    pub fn end_session(&self, caller: &Caller, req: EndRequest) -> Result<SessionEnded> {
        for (field, v) in [("summary", &req.summary), ("handoff", &req.handoff)] {
            if let Some(v) = v {
                parse::check_text(field, v)?;
            }
        }
        for (field, list) in [("next", &req.next), ("blocker", &req.blockers), ("done", &req.done)] {
            for v in list {
                parse::check_nonempty_text(field, v)?;
            }
        }
        let handoff = Handoff {
            notes: req.handoff.clone(),
            done: req.done.clone(),
            next: req.next.clone(),
            blockers: req.blockers.clone(),
        };
        let fingerprint = json!({"summary": req.summary, "handoff": handoff});
        let now = self.now();
        store::write(self.store(), |tx| {
            idempotent(
                tx,
                caller,
                req.idempotency_key.as_deref(),
                "session end",
                &fingerprint,
                now,
                |tx| {
                    let mut s = self.resolve_session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?;
                    transition(
                        &s,
                        SessionStatus::Completed,
                        &[SessionStatus::Active, SessionStatus::Paused],
                    )?;
                    s.summary = req.summary.clone();
                    s.handoff = Some(handoff.clone());
                    self.finish(tx, s, caller, now, SessionStatus::Completed, "session.ended", None)
                },
            )
        })
    }

    /// Ends the caller's session as completed, or as abandoned with a reason.
    pub fn close(&self, caller: &Caller, how: CloseAs) -> Result<SessionEnded> {
        if let CloseAs::Abandon { reason } = &how {
            parse::check_nonempty_text("reason", reason)?;
        }
        let now = self.now();
        store::write(self.store(), |tx| {
            let mut s = self.resolve_session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?;
            let from = [
                SessionStatus::Drafting,
                SessionStatus::Planned,
                SessionStatus::Active,
                SessionStatus::Paused,
            ];
            match &how {
                CloseAs::Complete => {
                    transition(&s, SessionStatus::Completed, &from)?;
                    self.finish(tx, s, caller, now, SessionStatus::Completed, "session.ended", None)
                }
                CloseAs::Abandon { reason } => {
                    transition(&s, SessionStatus::Abandoned, &from)?;
                    s.summary = s.summary.take().or_else(|| Some(format!("abandoned: {reason}")));
                    self.finish(
                        tx,
                        s,
                        caller,
                        now,
                        SessionStatus::Abandoned,
                        "session.abandoned",
                        Some(reason),
                    )
                }
            }
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        tx: &mut dyn Tx,
        mut s: Session,
        caller: &Caller,
        now: Timestamp,
        status: SessionStatus,
        kind: &'static str,
        reason: Option<&str>,
    ) -> Result<SessionEnded> {
        let held = tx.claims(&ClaimQuery {
            session_id: Some(s.id.clone()),
            states: vec![ClaimState::Held, ClaimState::Expired],
            ..Default::default()
        })?;
        let mut released = Vec::new();
        for mut c in held {
            c.state = ClaimState::Released;
            c.release_status = Some(ReleaseStatus::Deferred);
            c.notes = Some(match reason {
                Some(r) => format!("session abandoned: {r}"),
                None => "session ended while holding the claim".to_string(),
            });
            c.ended_at = Some(now);
            tx.update_claim(&c)?;
            event(
                tx,
                &s,
                now,
                "claim.released",
                c.key().label(),
                json!({
                    "status": "deferred", "notes": c.notes, "token": c.token, "by_session_end": true,
                }),
            )?;
            released.push(c);
        }
        s.status = status;
        s.updated_at = now;
        s.last_seen = now;
        s.ended_at = Some(now);
        self.refresh_git(&mut s, caller);
        tx.update_session(&s)?;
        event(
            tx,
            &s,
            now,
            kind,
            s.id.clone(),
            json!({
                "summary": s.summary, "handoff": s.handoff, "reason": reason, "released": released.len(),
            }),
        )?;
        Ok(SessionEnded {
            session: self.decorate(s, now),
            released,
        })
    }

    /// The session that a `session start` with this idempotency key created, if any.
    /// Hooks use it to map a client's conversation id to one baton session.
    pub fn session_for_key(&self, caller: &Caller, key: &str) -> Result<Option<Session>> {
        parse::check_id("idempotency key", key)?;
        let now = self.now();
        store::read(self.store(), |tx| {
            let Some(rec) = tx.idempotency(&caller.project.key, key)? else {
                return Ok(None);
            };
            if rec.command != "session start" {
                return Ok(None);
            }
            let started: Value = serde_json::from_str(&rec.result).map_err(|e| {
                Error::internal(format!("stored result for idempotency key '{key}' is unreadable: {e}"))
            })?;
            let Some(id) = started.get("session_id").and_then(Value::as_str) else {
                return Ok(None);
            };
            Ok(tx.session(id)?.map(|s| self.decorate(s, now)))
        })
    }

    /// A session with its journal: the caller's (or the given one).
    pub fn view(&self, caller: &Caller, id: Option<&str>) -> Result<SessionContext> {
        if let Some(id) = id {
            parse::check_session_id(id)?;
        }
        let now = self.now();
        store::read(self.store(), |tx| {
            let s = match id.or(caller.session.as_deref()) {
                Some(id) => self.load_session(tx, id)?,
                None => self.resolve_session(tx, caller, &[SessionStatus::Active])?,
            };
            self.context_in(tx, s, now)
        })
    }

    /// Sessions of the project (or of every project), newest first.
    pub fn list_sessions(
        &self,
        caller: &Caller,
        status: Option<SessionStatus>,
        all_projects: bool,
        limit: Option<u32>,
    ) -> Result<SessionList> {
        if let Some(l) = limit {
            parse::check_limit(l)?;
        }
        let now = self.now();
        store::read(self.store(), |tx| {
            let q = SessionQuery {
                project: (!all_projects).then(|| caller.project.key.clone()),
                statuses: status.into_iter().collect(),
                limit: Some(limit.unwrap_or(100)),
                ..Default::default()
            };
            let sessions = tx.sessions(&q)?.into_iter().map(|s| self.decorate(s, now)).collect();
            Ok(SessionList { sessions })
        })
    }

    // ---- claims ----

    /// Claims a work item for the caller's session: atomically, as a lease with a fencing token.
    pub fn claim(&self, caller: &Caller, req: ClaimRequest) -> Result<ClaimOutcome> {
        let key = self.item_key(caller, &req.item_type, &req.item_id, req.repo.as_deref())?;
        let ttl = match &req.ttl {
            Some(t) => parse::parse_ttl(t)?,
            None => self.policy.default_ttl_secs,
        };
        if let Some(k) = &req.idempotency_key {
            parse::check_id("idempotency key", k)?;
        }
        let fingerprint = json!({"item": key, "ttl": ttl});
        let now = self.now();
        store::write(self.store(), |tx| {
            if let Some(k) = &req.idempotency_key
                && let Some(prev) = replay::<ClaimOutcome>(tx, caller, k, "claim", &fingerprint)?
            {
                return Ok(prev);
            }
            let session = self.session_for_write(tx, caller, "claim for")?;
            tx.lock_item(&key)?;
            let latest = tx.latest_claim(&key)?;
            let mut outcome = ClaimOutcome {
                claimed: true,
                item: key.clone(),
                claim: None,
                claimed_by: None,
                taken_over_from: None,
                renewed: false,
            };
            let next_token = match &latest {
                Some(l) if l.session_id == session.id && matches!(l.state, ClaimState::Held | ClaimState::Expired) => {
                    let mut c = l.clone();
                    c.state = ClaimState::Held;
                    c.ttl_secs = ttl;
                    c.renewed_at = now;
                    c.expires_at = now.plus_secs(ttl);
                    tx.update_claim(&c)?;
                    event(
                        tx,
                        &session,
                        now,
                        "claim.renewed",
                        key.label(),
                        json!({"token": c.token, "expires_at": c.expires_at}),
                    )?;
                    outcome.renewed = true;
                    outcome.claim = Some(c);
                    None
                }
                Some(l) if l.is_live(now) => {
                    outcome.claimed = false;
                    outcome.claimed_by = Some(Holder::of(l));
                    None
                }
                Some(l) if matches!(l.state, ClaimState::Held | ClaimState::Expired) => {
                    let mut old = l.clone();
                    old.state = ClaimState::TakenOver;
                    old.ended_at = Some(now);
                    tx.update_claim(&old)?;
                    outcome.taken_over_from = Some(Holder::of(&old));
                    Some(old.token + 1)
                }
                Some(l) => Some(l.token + 1),
                None => Some(1),
            };
            if let Some(token) = next_token {
                let c = Claim {
                    id: uuid::Uuid::now_v7().to_string(),
                    project: key.project.clone(),
                    item_type: key.item_type.clone(),
                    repo: key.repo.clone(),
                    item_id: key.item_id.clone(),
                    token,
                    session_id: session.id.clone(),
                    agent: session.agent.clone(),
                    state: ClaimState::Held,
                    ttl_secs: ttl,
                    granted_at: now,
                    renewed_at: now,
                    expires_at: now.plus_secs(ttl),
                    ended_at: None,
                    release_status: None,
                    notes: None,
                    loss_reported: false,
                };
                tx.insert_claim(&c)?;
                match &outcome.taken_over_from {
                    Some(prev) => event(
                        tx,
                        &session,
                        now,
                        "claim.taken_over",
                        key.label(),
                        json!({
                            "token": token, "expires_at": c.expires_at, "previous": prev,
                        }),
                    )?,
                    None => event(
                        tx,
                        &session,
                        now,
                        "claim.granted",
                        key.label(),
                        json!({
                            "token": token, "expires_at": c.expires_at,
                        }),
                    )?,
                }
                outcome.claim = Some(c);
            }
            if outcome.claimed
                && let Some(k) = &req.idempotency_key
            {
                remember(tx, caller, k, "claim", &fingerprint, &outcome, now)?;
            }
            Ok(outcome)
        })
    }

    /// Releases a claim the caller's session holds (or any holder's, with `force` and a reason).
    pub fn release(&self, caller: &Caller, req: ReleaseRequest) -> Result<Released> {
        let key = self.item_key(caller, &req.item_type, &req.item_id, req.repo.as_deref())?;
        if let Some(n) = &req.notes {
            parse::check_text("notes", n)?;
        }
        match (&req.reason, req.force) {
            (None, true) => {
                return Err(Error::bad_input(
                    "--force needs --reason TEXT: say why the holder's claim is overridden",
                ));
            }
            (Some(r), true) => parse::check_nonempty_text("reason", r)?,
            (Some(_), false) => return Err(Error::bad_input("--reason goes with --force")),
            (None, false) => {}
        }
        let fingerprint = json!({"item": key, "status": req.status, "notes": req.notes, "force": req.force});
        let now = self.now();
        store::write(self.store(), |tx| {
            if let Some(k) = &req.idempotency_key
                && let Some(prev) = replay::<Released>(tx, caller, k, "release", &fingerprint)?
            {
                return Ok(prev);
            }
            let session = if req.force {
                self.try_resolve_session(tx, caller)?
            } else {
                Some(self.session_for_write(tx, caller, "release for")?)
            };
            tx.lock_item(&key)?;
            let latest = tx
                .latest_claim(&key)?
                .ok_or_else(|| Error::not_found(format!("no claim on {}: nothing to release", key.label())))?;
            let active = matches!(latest.state, ClaimState::Held | ClaimState::Expired);
            let mine = session.as_ref().is_some_and(|s| s.id == latest.session_id);
            if let Some(t) = req.token
                && t != latest.token
            {
                return Err(Error::conflict(
                    format!(
                        "stale fencing token {t} for {}: the current grant has token {}",
                        key.label(),
                        latest.token
                    ),
                    json!({"item": key, "token": t, "current_token": latest.token, "holder": Holder::of(&latest)}),
                ));
            }
            if !req.force {
                let s = session
                    .as_ref()
                    .ok_or_else(|| Error::internal("release without a session"))?;
                if !mine || !active {
                    if let Some(mine_before) = tx.session_claim_on(&key, &s.id)?
                        && mine_before.state == ClaimState::TakenOver
                    {
                        let by = (latest.session_id != s.id).then(|| Holder::of(&latest));
                        return Err(lease_lost(&key, &mine_before, by));
                    }
                    if !active {
                        return Err(Error::not_found(format!(
                            "{} is not claimed: its last claim was released{}",
                            key.label(),
                            latest.release_status.map(|r| format!(" as {r}")).unwrap_or_default()
                        )));
                    }
                    return Err(Error::conflict(
                        format!(
                            "not the holder: {} is held by agent '{}' (session {}) since {}; use --force --reason TEXT to override",
                            key.label(),
                            latest.agent,
                            latest.session_id,
                            latest.granted_at.short()
                        ),
                        json!({"item": key, "claimed_by": Holder::of(&latest)}),
                    ));
                }
            } else if !active {
                return Err(Error::not_found(format!(
                    "{} is not claimed: nothing to release",
                    key.label()
                )));
            }
            let mut c = latest.clone();
            c.state = ClaimState::Released;
            c.release_status = Some(req.status);
            c.notes = req.notes.clone();
            c.ended_at = Some(now);
            tx.update_claim(&c)?;
            let forced = req.force && !mine;
            let (agent, sid) = match &session {
                Some(s) => (s.agent.clone(), Some(s.id.clone())),
                None => (caller.agent.clone(), None),
            };
            tx.append_event(&NewEvent {
                time: now,
                project: key.project.clone(),
                agent,
                session_id: sid,
                kind: "claim.released",
                target: key.label(),
                data: if forced {
                    json!({
                        "status": req.status, "notes": req.notes, "token": c.token,
                        "forced": true, "reason": req.reason, "holder": Holder::of(&latest),
                    })
                } else {
                    json!({"status": req.status, "notes": req.notes, "token": c.token, "forced": false})
                },
            })?;
            let out = Released {
                released: true,
                claim: c,
                forced,
            };
            if let Some(k) = &req.idempotency_key {
                remember(tx, caller, k, "release", &fingerprint, &out, now)?;
            }
            Ok(out)
        })
    }

    /// Renews the caller's session and all its claims; reports leases lost to takeovers.
    pub fn heartbeat(&self, caller: &Caller) -> Result<Heartbeat> {
        let now = self.now();
        store::write(self.store(), |tx| {
            self.sweep_in(tx, &caller.project.key, now)?;
            let mut s = self.resolve_session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?;
            if s.status.is_ended() {
                return Err(Error::bad_input(format!(
                    "session {} is {}: only active or paused sessions take heartbeats",
                    s.id, s.status
                )));
            }
            let was = s.status;
            s.status = SessionStatus::Active;
            s.last_seen = now;
            s.updated_at = now;
            self.refresh_git(&mut s, caller);
            tx.update_session(&s)?;
            if was != SessionStatus::Active {
                event(tx, &s, now, "session.resumed", s.id.clone(), json!({"by": "heartbeat"}))?;
            }
            let mut renewed = Vec::new();
            for mut c in tx.claims(&ClaimQuery {
                session_id: Some(s.id.clone()),
                states: vec![ClaimState::Held, ClaimState::Expired],
                ..Default::default()
            })? {
                c.state = ClaimState::Held;
                c.renewed_at = now;
                c.expires_at = now.plus_secs(c.ttl_secs);
                tx.update_claim(&c)?;
                renewed.push(c);
            }
            let mut lost = Vec::new();
            for mut c in tx.claims(&ClaimQuery {
                session_id: Some(s.id.clone()),
                states: vec![ClaimState::TakenOver],
                loss_unreported: true,
                ..Default::default()
            })? {
                c.loss_reported = true;
                tx.update_claim(&c)?;
                let key = c.key();
                let taken_by = tx
                    .latest_claim(&key)?
                    .filter(|l| l.session_id != s.id)
                    .map(|l| Holder::of(&l));
                lost.push(LostLease {
                    item: key,
                    your_token: c.token,
                    taken_by,
                });
            }
            event(
                tx,
                &s,
                now,
                "session.heartbeat",
                s.id.clone(),
                json!({
                    "renewed": renewed.iter().map(|c| c.key().label()).collect::<Vec<_>>(),
                    "lost": lost.iter().map(|l| l.item.label()).collect::<Vec<_>>(),
                }),
            )?;
            Ok(Heartbeat {
                session_id: s.id.clone(),
                last_seen: now,
                renewed,
                lost,
            })
        })
    }

    /// Active claims in the project (`mine` for the caller's session only).
    pub fn claims(&self, caller: &Caller, req: ClaimsRequest) -> Result<ClaimList> {
        if let Some(t) = &req.item_type {
            parse::check_type(t)?;
        }
        let now = self.now();
        store::read(self.store(), |tx| {
            let me = if req.mine {
                Some(
                    self.resolve_session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?
                        .id,
                )
            } else {
                match caller.session.as_deref() {
                    Some(id) => Some(id.to_string()),
                    None => self.only_active_session(tx, caller)?.map(|s| s.id),
                }
            };
            let q = ClaimQuery {
                project: Some(caller.project.key.clone()),
                session_id: if req.mine { me.clone() } else { None },
                item_type: req.item_type.clone(),
                states: if req.include_released {
                    vec![]
                } else {
                    vec![ClaimState::Held, ClaimState::Expired]
                },
                limit: Some(1000),
                ..Default::default()
            };
            let claims = tx
                .claims(&q)?
                .into_iter()
                .map(|c| ClaimView {
                    expired: matches!(c.state, ClaimState::Held | ClaimState::Expired) && c.expires_at <= now,
                    mine: me.as_deref() == Some(c.session_id.as_str()),
                    claim: c,
                })
                .collect();
            Ok(ClaimList {
                project: caller.project.key.clone(),
                claims,
            })
        })
    }

    // ---- events ----

    /// One page of events, oldest first, with the cursor for the next page.
    pub fn changes(&self, caller: &Caller, req: &ChangesRequest) -> Result<ChangesPage> {
        let limit = req.limit.unwrap_or(100);
        parse::check_limit(limit)?;
        if let Some(k) = &req.kind {
            check_event_kind(k)?;
        }
        if let Some(a) = &req.agent {
            parse::check_id("agent", a)?;
        }
        let now = self.now();
        let since = req.since.as_deref().map(|s| parse::parse_since(s, now)).transpose()?;
        store::read(self.store(), |tx| {
            let project = caller.project.key.clone();
            let after_seq = match since {
                None => 0,
                Some(Since::Cursor(c)) => c,
                Some(Since::Time(t)) => match tx.first_seq_since(&project, t)? {
                    Some(seq) => seq - 1,
                    None => {
                        return Ok(ChangesPage {
                            project,
                            events: vec![],
                            next_cursor: tx.last_seq()?,
                            more: false,
                        });
                    }
                },
            };
            let q = EventQuery {
                project: Some(project.clone()),
                after_seq,
                agent: req.agent.clone(),
                kind: req.kind.clone(),
                limit: limit + 1,
                ..Default::default()
            };
            let mut events = tx.events(&q)?;
            let more = events.len() > limit as usize;
            events.truncate(limit as usize);
            let next_cursor = match events.last() {
                Some(e) => e.seq,
                // Nothing new: jump to the newest committed event so the next call starts there.
                None => tx.last_seq()?.max(after_seq),
            };
            Ok(ChangesPage {
                project,
                events,
                next_cursor,
                more,
            })
        })
    }

    // ---- digest ----

    /// The digest for the caller, computed now.
    pub fn digest(&self, caller: &Caller) -> Result<Digest> {
        let now = self.now();
        store::read(self.store(), |tx| {
            let me = match caller.session.as_deref() {
                Some(id) => Some(self.load_session(tx, id)?),
                None => self.only_active_session(tx, caller)?,
            };
            self.digest_in(tx, caller, me.as_ref(), now)
        })
    }

    fn digest_in(&self, tx: &mut dyn Tx, caller: &Caller, me: Option<&Session>, now: Timestamp) -> Result<Digest> {
        let project = caller.project.key.clone();
        let mut omitted = Vec::new();
        let my_id = me.map(|s| s.id.clone());

        let last = tx
            .sessions(&SessionQuery {
                project: Some(project.clone()),
                statuses: vec![SessionStatus::Completed, SessionStatus::Abandoned],
                limit: Some(1),
                ..Default::default()
            })?
            .into_iter()
            .next();
        let last_handoff = last.map(|s| LastHandoff {
            session_id: s.id,
            agent: s.agent,
            status: s.status,
            ended_at: s.ended_at,
            summary: s.summary,
            handoff: s.handoff.unwrap_or_default(),
        });

        let others = tx.sessions(&SessionQuery {
            project: Some(project.clone()),
            statuses: vec![SessionStatus::Active, SessionStatus::Paused],
            exclude_id: my_id.clone(),
            limit: Some(DIGEST_LIST_CAP + 1),
            ..Default::default()
        })?;
        let first_session = last_handoff.is_none() && others.is_empty();
        let mut active_sessions: Vec<SessionBrief> = others
            .into_iter()
            .map(|s| {
                let s = self.decorate(s, now);
                SessionBrief {
                    session_id: s.id,
                    agent: s.agent,
                    name: s.name,
                    context: s.context.map(|c| clip(&c, 200)),
                    status: s.status,
                    stale: s.stale,
                    last_seen: s.last_seen,
                    git_branch: s.git_branch,
                }
            })
            .collect();
        if active_sessions.len() > DIGEST_LIST_CAP as usize {
            active_sessions.truncate(DIGEST_LIST_CAP as usize);
            omitted.push(format!(
                "more than {DIGEST_LIST_CAP} other open sessions; see `baton session list`"
            ));
        }

        let open = tx.claims(&ClaimQuery {
            project: Some(project.clone()),
            states: vec![ClaimState::Held],
            limit: Some(2 * DIGEST_LIST_CAP + 1),
            ..Default::default()
        })?;
        if open.len() > 2 * DIGEST_LIST_CAP as usize {
            omitted.push(format!(
                "more than {} open claims; see `baton claims`",
                2 * DIGEST_LIST_CAP
            ));
        }
        let (my_claims, other_claims): (Vec<Claim>, Vec<Claim>) = open
            .into_iter()
            .take(2 * DIGEST_LIST_CAP as usize)
            .partition(|c| my_id.as_deref() == Some(c.session_id.as_str()));

        let mut blockers: Vec<BlockerBrief> = Vec::new();
        for e in tx.entries(&EntryQuery {
            project: Some(project.clone()),
            session_statuses: vec![SessionStatus::Active, SessionStatus::Paused],
            kinds: vec![EntryKind::Blocker],
            limit: Some(DIGEST_LIST_CAP + 1),
            ..Default::default()
        })? {
            let agent = tx.session(&e.session_id)?.map(|s| s.agent).unwrap_or_default();
            blockers.push(BlockerBrief {
                session_id: e.session_id,
                agent,
                text: clip(&e.text, 300),
                created_at: e.created_at,
            });
        }
        if blockers.len() > DIGEST_LIST_CAP as usize {
            blockers.truncate(DIGEST_LIST_CAP as usize);
            omitted.push(format!("more than {DIGEST_LIST_CAP} blockers"));
        }

        // Changes since the end of this agent's previous session in the project.
        let previous = tx
            .sessions(&SessionQuery {
                project: Some(project.clone()),
                agent: Some(caller.agent.clone()),
                exclude_id: my_id.clone(),
                limit: Some(1),
                ..Default::default()
            })?
            .into_iter()
            .next();
        let since = previous.map(|p| p.ended_at.unwrap_or(p.last_seen));
        let after_seq = match since {
            Some(t) => tx.first_seq_since(&project, Timestamp(t.0 + 1))?.map(|s| s - 1),
            None => Some(0),
        };
        let mut q = EventQuery {
            project: Some(project.clone()),
            exclude_kinds: DIGEST_NOISE.iter().map(|s| s.to_string()).collect(),
            exclude_session: my_id.clone(),
            ..Default::default()
        };
        let changes = match after_seq {
            None => ChangesBrief {
                since,
                count: 0,
                count_capped: false,
                newest: vec![],
            },
            Some(after) => {
                q.after_seq = after;
                let count = tx.count_events(&q, CHANGES_COUNT_CAP)?;
                q.newest_first = true;
                q.limit = DIGEST_NEWEST;
                let newest = tx.events(&q)?;
                ChangesBrief {
                    since,
                    count,
                    count_capped: count >= CHANGES_COUNT_CAP as u64,
                    newest,
                }
            }
        };

        let mut d = Digest {
            project,
            agent: caller.agent.clone(),
            generated_at: now,
            first_session,
            last_handoff,
            active_sessions,
            my_claims,
            other_claims,
            blockers,
            changes,
            omitted,
        };
        fit_digest(&mut d, self.policy.digest_max_chars);
        Ok(d)
    }

    // ---- maintenance ----

    /// Moves stale sessions to paused and marks run-out claims expired, in this project (or all).
    pub fn sweep(&self, project: Option<&str>) -> Result<Sweep> {
        let now = self.now();
        store::write(self.store(), |tx| self.sweep_scope(tx, project, now))
    }

    fn sweep_in(&self, tx: &mut dyn Tx, project: &str, now: Timestamp) -> Result<Sweep> {
        self.sweep_scope(tx, Some(project), now)
    }

    fn sweep_scope(&self, tx: &mut dyn Tx, project: Option<&str>, now: Timestamp) -> Result<Sweep> {
        let mut out = Sweep::default();
        let stale = tx.sessions(&SessionQuery {
            project: project.map(str::to_string),
            statuses: vec![SessionStatus::Active],
            last_seen_before: Some(now.minus_secs(self.policy.stale_after_secs)),
            limit: Some(500),
            ..Default::default()
        })?;
        for mut s in stale {
            s.status = SessionStatus::Paused;
            s.updated_at = now;
            tx.update_session(&s)?;
            tx.append_event(&NewEvent {
                time: now,
                project: s.project.clone(),
                agent: s.agent.clone(),
                session_id: Some(s.id.clone()),
                kind: "session.paused",
                target: s.id.clone(),
                data: json!({"reason": "stale", "last_seen": s.last_seen}),
            })?;
            out.paused.push(s.id);
        }
        let expired = tx.claims(&ClaimQuery {
            project: project.map(str::to_string),
            states: vec![ClaimState::Held],
            expires_before: Some(now),
            limit: Some(500),
            ..Default::default()
        })?;
        for mut c in expired {
            c.state = ClaimState::Expired;
            tx.update_claim(&c)?;
            tx.append_event(&NewEvent {
                time: now,
                project: c.project.clone(),
                agent: c.agent.clone(),
                session_id: Some(c.session_id.clone()),
                kind: "claim.expired",
                target: c.key().label(),
                data: json!({"token": c.token, "expired_at": c.expires_at}),
            })?;
            out.expired.push(c.key());
        }
        Ok(out)
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
            .ok_or_else(|| Error::not_found(format!("no session '{id}': see `baton session list`")))
    }

    fn only_active_session(&self, tx: &mut dyn Tx, caller: &Caller) -> Result<Option<Session>> {
        let found = tx.sessions(&SessionQuery {
            project: Some(caller.project.key.clone()),
            agent: Some(caller.agent.clone()),
            statuses: vec![SessionStatus::Active],
            limit: Some(2),
            ..Default::default()
        })?;
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
        let found = tx.sessions(&SessionQuery {
            project: Some(caller.project.key.clone()),
            agent: Some(caller.agent.clone()),
            statuses: statuses.to_vec(),
            limit: Some(6),
            ..Default::default()
        })?;
        let wanted = statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" or ");
        match found.len() {
            0 => Err(Error::not_found(format!(
                "no {wanted} session of agent '{}' in project '{}': start one with `baton session start`, or pass --session ID",
                caller.agent, caller.project.key
            ))),
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
                    "ambiguous session: agent '{}' has {}{} {wanted} sessions in this project: {}; pass --session ID or set BATON_SESSION",
                    caller.agent,
                    if found.len() > 5 { "more than " } else { "" },
                    found.len().min(5),
                    list.join(", ")
                )))
            }
        }
    }

    /// The caller's session, which must be active or paused to take writes.
    fn session_for_write(&self, tx: &mut dyn Tx, caller: &Caller, verb: &str) -> Result<Session> {
        let s = self.resolve_session(tx, caller, &[SessionStatus::Active])?;
        if s.status.is_ended() {
            return Err(Error::bad_input(format!(
                "cannot {verb} session {}: it is {}; start a new session with `baton session start`",
                s.id, s.status
            )));
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
        let kind_name: &'static str = match kind {
            EntryKind::Progress => "journal.progress",
            EntryKind::Decision => "journal.decision",
            EntryKind::Discovery => "journal.discovery",
            EntryKind::Blocker => "journal.blocker",
            EntryKind::Next => "journal.next",
            EntryKind::Done => "journal.done",
            EntryKind::Note => "journal.note",
            EntryKind::Checkpoint => "session.checkpoint",
        };
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
        let pick = |k: EntryKind| entries.iter().filter(|e| e.kind == k).cloned().collect::<Vec<_>>();
        let progress = pick(EntryKind::Progress);
        let decisions = pick(EntryKind::Decision);
        let discoveries = pick(EntryKind::Discovery);
        let blockers = pick(EntryKind::Blocker);
        let next_steps = pick(EntryKind::Next);
        let done = pick(EntryKind::Done);
        let notes = pick(EntryKind::Note);
        let checkpoints = pick(EntryKind::Checkpoint);
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
        tldr.push_str(&format!(
            " — {} progress, {} done, {} decisions, {} blockers, {} claims held",
            progress.len(),
            done.len(),
            decisions.len(),
            blockers.len(),
            claims.len()
        ));
        if let Some(p) = progress.last() {
            tldr.push_str(&format!("; latest: {}", clip(&p.text, 160)));
        }
        if let Some(n) = next_steps.last() {
            tldr.push_str(&format!("; next: {}", clip(&n.text, 160)));
        }
        Ok(SessionContext {
            session: s,
            tldr,
            progress,
            decisions,
            discoveries,
            blockers,
            next_steps,
            done,
            notes,
            checkpoints,
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
        )));
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

fn lease_lost(key: &ItemKey, mine: &Claim, by: Option<Holder>) -> Error {
    let who = by
        .as_ref()
        .map(|h| {
            format!(
                " and agent '{}' (session {}) took it over with token {}",
                h.agent, h.session, h.token
            )
        })
        .unwrap_or_default();
    Error::conflict(
        format!(
            "lease lost: your claim on {} (token {}) expired at {}{who}",
            key.label(),
            mine.token,
            mine.expires_at.short()
        ),
        json!({"item": key, "your_token": mine.token, "taken_by": by}),
    )
}

fn event(tx: &mut dyn Tx, s: &Session, now: Timestamp, kind: &'static str, target: String, data: Value) -> Result<()> {
    tx.append_event(&NewEvent {
        time: now,
        project: s.project.clone(),
        agent: s.agent.clone(),
        session_id: Some(s.id.clone()),
        kind,
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

/// Shrinks a digest until its JSON form fits `max_chars`, recording what was cut (one line per kind).
fn fit_digest(d: &mut Digest, max_chars: usize) {
    let size = |d: &Digest| serde_json::to_string(d).map(|s| s.chars().count()).unwrap_or(0);
    if size(d) <= max_chars {
        return;
    }
    // Leave room for the `omitted` lines written at the end.
    let budget = max_chars.saturating_sub(600);
    let mut cut = [0usize; 5];
    const WHAT: [&str; 5] = [
        "newest events (see `baton changes`)",
        "other sessions' claims (see `baton claims`)",
        "open sessions (see `baton session list`)",
        "blockers (see `baton session view`)",
        "of your claims (see `baton claims --mine`)",
    ];
    fn halve<T>(v: &mut Vec<T>) -> usize {
        let n = v.len();
        v.truncate(n / 2);
        n - n / 2
    }
    while size(d) > budget {
        if !d.changes.newest.is_empty() {
            cut[0] += halve(&mut d.changes.newest);
        } else if !d.other_claims.is_empty() {
            cut[1] += halve(&mut d.other_claims);
        } else if !d.active_sessions.is_empty() {
            cut[2] += halve(&mut d.active_sessions);
        } else if !d.blockers.is_empty() {
            cut[3] += halve(&mut d.blockers);
        } else if !d.my_claims.is_empty() {
            cut[4] += halve(&mut d.my_claims);
        } else {
            break;
        }
    }
    let mut handoff_cut = false;
    if size(d) > budget
        && let Some(h) = d.last_handoff.as_mut()
    {
        handoff_cut = true;
        for list in [&mut h.handoff.next, &mut h.handoff.done, &mut h.handoff.blockers] {
            list.truncate(10);
            for item in list.iter_mut() {
                *item = clip(item, 200);
            }
        }
        // Summary and notes share what is left; halve them until the whole fits.
        let mut room = budget / 2;
        while size(d) > budget && room > 0 {
            if let Some(h) = d.last_handoff.as_mut() {
                h.summary = h.summary.as_deref().map(|s| clip(s, room));
                h.handoff.notes = h.handoff.notes.as_deref().map(|s| clip(s, room));
            }
            room /= 2;
        }
        if size(d) > budget
            && let Some(h) = d.last_handoff.as_mut()
        {
            let pointer = format!("(too long: see `baton session view {}`)", h.session_id);
            h.summary = h.summary.as_ref().map(|_| pointer.clone());
            h.handoff.notes = h.handoff.notes.as_ref().map(|_| pointer.clone());
            h.handoff.next.clear();
            h.handoff.done.clear();
            h.handoff.blockers.clear();
        }
    }
    for (n, what) in cut.iter().zip(WHAT) {
        if *n > 0 {
            d.omitted.push(format!("{n} {what}"));
        }
    }
    if handoff_cut {
        d.omitted
            .push("part of the last handoff (see `baton session view` on that session)".to_string());
    }
}

/// Looks up an earlier result for this idempotency key; errors when the key was used for another request.
fn replay<T: DeserializeOwned>(
    tx: &mut dyn Tx,
    caller: &Caller,
    key: &str,
    command: &str,
    fingerprint: &Value,
) -> Result<Option<T>> {
    let Some(rec) = tx.idempotency(&caller.project.key, key)? else {
        return Ok(None);
    };
    let request = fingerprint.to_string();
    if rec.command != command || rec.request != request {
        return Err(Error::bad_input(format!(
            "idempotency key '{key}' was already used for a different request ({}): use a new key for a new request",
            rec.command
        )));
    }
    serde_json::from_str(&rec.result)
        .map(Some)
        .map_err(|e| Error::internal(format!("stored result for idempotency key '{key}' is unreadable: {e}")))
}

fn remember<T: Serialize>(
    tx: &mut dyn Tx,
    caller: &Caller,
    key: &str,
    command: &str,
    fingerprint: &Value,
    result: &T,
    now: Timestamp,
) -> Result<()> {
    let result = serde_json::to_string(result).map_err(|e| Error::internal(e.to_string()))?;
    tx.put_idempotency(&IdempotencyRecord {
        project: caller.project.key.clone(),
        key: key.to_string(),
        command: command.to_string(),
        request: fingerprint.to_string(),
        result,
        created_at: now,
    })
}

/// Runs `f` once per idempotency key: a retry returns the first call's stored result.
#[allow(clippy::too_many_arguments)]
fn idempotent<T: Serialize + DeserializeOwned>(
    tx: &mut dyn Tx,
    caller: &Caller,
    key: Option<&str>,
    command: &str,
    fingerprint: &Value,
    now: Timestamp,
    f: impl FnOnce(&mut dyn Tx) -> Result<T>,
) -> Result<T> {
    let Some(key) = key else { return f(tx) };
    parse::check_id("idempotency key", key)?;
    if let Some(prev) = replay(tx, caller, key, command, fingerprint)? {
        return Ok(prev);
    }
    let out = f(tx)?;
    remember(tx, caller, key, command, fingerprint, &out, now)?;
    Ok(out)
}
