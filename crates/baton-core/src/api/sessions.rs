//! Sessions: start, pause, resume, end, close, view and list; the session state machine.

use serde_json::json;

use super::conversations;
use super::idempotency::{Keyed, check_key};
use super::op::Op;
use super::{
    Baton, Caller, CloseAs, EndRequest, Resumed, SessionContext, SessionEnded, SessionList, SessionListRequest,
    SessionStarted, StartRequest, check_caller, clip, resolve,
};
use crate::error::{Error, Result};
use crate::model::{
    ClaimState, EntryKind, EventKind, Handoff, KeyScope, ReleaseStatus, Session, SessionId, SessionStatus,
};
use crate::parse;
use crate::store::{self, ClaimQuery, EntryQuery, SessionQuery, Tx};
use crate::warning::{ActiveSession, Warning};

/// How [`Op::activate`] treats a session that becomes, or already is, active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resume {
    /// Asked to resume: the session is touched (updated now, its git position refreshed) even when active.
    Touched,
    /// A heartbeat: touched like [`Resume::Touched`], and the event says a heartbeat resumed it.
    Heartbeat,
    /// A conversation goes on in it: a session that already is active is only seen.
    OnlySeen,
}

impl Baton {
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
            if self.policy().role(r).is_none() {
                let known: Vec<String> = self.policy().roles.iter().map(|r| r.name.clone()).collect();
                return Err(Error::bad_input(format!(
                    "unknown role '{r}': expected one of {} (more are defined as [roles.NAME] in .baton/config.toml)",
                    known.join(", ")
                ))
                .with_value(r, known)
                .in_field("role"));
            }
        }
        for t in &req.task_ids {
            parse::check_id("task id", t)?;
        }
        check_key(req.idempotency_key.as_ref())?;
        let fingerprint = json!({"context": req.context, "name": req.name, "task_ids": req.task_ids, "role": req.role, "agent": caller.agent});
        let started: SessionStarted = self.write(Some(caller), |tx| {
            let mut op = Op::new(self, tx, caller);
            let keyed = Keyed::new(
                caller,
                KeyScope::Agent(caller.agent.clone()),
                req.idempotency_key.as_deref(),
                "session start",
                &fingerprint,
            );
            op.once(keyed.as_ref(), |op| op.start_session(&req))
        })?;
        Ok(started)
    }

    /// The answer to a start for a conversation that already has its session (`caller.session`, started by
    /// the client's hooks): that session, with `goal` as its goal if it had none, the last handoff and a
    /// digest, and a warning saying no second session was started. Its other fields are not changed.
    /// `None` when that session is not active (ended or paused): the caller starts a new one then.
    pub fn join_session(&self, caller: &Caller, goal: Option<&str>) -> Result<Option<SessionStarted>> {
        check_caller(caller)?;
        if let Some(g) = goal {
            parse::check_text("context", g)?;
        }
        self.write(Some(caller), |tx| {
            let mut op = Op::new(self, tx, caller);
            let mut s = resolve::session(op.tx, caller, &[SessionStatus::Active])?;
            if s.status != SessionStatus::Active {
                return Ok(None);
            }
            if s.context.is_none()
                && let Some(g) = goal.filter(|g| !g.trim().is_empty())
            {
                op.set_goal(&mut s, g)?;
            }
            let digest = op.digest(Some(&s))?;
            let s = op.decorate(s);
            Ok(Some(SessionStarted {
                session_id: s.id.clone(),
                handoff_notes: digest.last_handoff.as_ref().and_then(|h| h.handoff.notes.clone()),
                last_summary: digest.last_handoff.as_ref().and_then(|h| h.summary.clone()),
                last_handoff: digest.last_handoff.clone(),
                warnings: vec![Warning::ConversationHasSession { session: s.id.clone() }],
                session: s,
                digest,
            }))
        })
    }

    /// Gives the caller's session `goal` as its context when it has none yet (a conversation's first prompt
    /// becomes its goal) and has recorded nothing yet. Returns the session, changed or not.
    pub fn set_goal_if_none(&self, caller: &Caller, goal: &str) -> Result<Session> {
        parse::check_nonempty_text("goal", goal)?;
        self.write(Some(caller), |tx| {
            let mut s = resolve::session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?;
            if s.context.is_some() || s.status.is_ended() {
                return Ok(s);
            }
            // A session that already recorded work has its direction: a later prompt is not its goal.
            let any = tx.entries(&EntryQuery {
                session_id: Some(s.id.clone()),
                limit: Some(1),
                ..Default::default()
            })?;
            if !any.is_empty() {
                return Ok(s);
            }
            let mut op = Op::new(self, tx, caller);
            op.set_goal(&mut s, goal)?;
            Ok(op.decorate(s))
        })
    }

    /// Pauses the caller's active session.
    pub fn pause(&self, caller: &Caller, note: Option<String>) -> Result<Session> {
        if let Some(n) = &note {
            parse::check_text("note", n)?;
        }
        self.write(Some(caller), |tx| {
            let mut s = resolve::session(tx, caller, &[SessionStatus::Active])?;
            let mut op = Op::new(self, tx, caller);
            transition(&s, SessionStatus::Paused, &[SessionStatus::Active])?;
            op.refresh_git(&mut s);
            if let Some(n) = &note {
                op.add_entry(&mut s, EntryKind::Note, n, None, None)?;
            }
            s.status = SessionStatus::Paused;
            s.updated_at = op.now;
            s.last_seen = op.now;
            op.tx.update_session(&s)?;
            op.event(
                &s,
                EventKind::SessionPaused,
                s.id.to_string(),
                json!({"note": note, "reason": "paused"}),
            )?;
            Ok(op.decorate(s))
        })
    }

    /// Resumes a session (the given one, else the agent's latest paused or active one) and returns its full context.
    pub fn resume(&self, caller: &Caller, id: Option<&str>) -> Result<Resumed> {
        if let Some(id) = id {
            parse::check_session_id(id)?;
        }
        self.write(Some(caller), |tx| {
            self.sweep_scope(tx, Some(&caller.project.key), self.now())?;
            let s = match id {
                Some(id) => resolve::by_id(tx, id)?,
                // Like every other command: the explicit session, else the agent's only candidate.
                None => resolve::session(tx, caller, &[SessionStatus::Paused, SessionStatus::Active])?,
            };
            let mut op = Op::new(self, tx, caller);
            let s = op.activate(s, Resume::Touched)?;
            let context = op.session_context(s)?;
            let digest = op.digest(Some(&context.session))?;
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
        check_key(req.idempotency_key.as_ref())?;
        let fingerprint = json!({"summary": req.summary, "handoff": handoff});
        const COMMAND: &str = "session end";
        self.write(Some(caller), |tx| {
            let key = req.idempotency_key.as_deref();
            // A retry of an end that went through, naming no session, means the session that end completed:
            // the agent's latest completed one, with this key in its scope. Looked for first, so that a session
            // started since is never ended by the retry.
            let retried = match (key, &caller.session) {
                (Some(k), None) => ended_with_key(tx, caller, k)?,
                _ => None,
            };
            let mut s = match retried {
                Some(s) => s,
                None => resolve::session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?,
            };
            let mut op = Op::new(self, tx, caller);
            let keyed = Keyed::new(caller, KeyScope::Session(s.id.clone()), key, COMMAND, &fingerprint);
            op.once(keyed.as_ref(), |op| {
                transition(
                    &s,
                    SessionStatus::Completed,
                    &[SessionStatus::Active, SessionStatus::Paused],
                )?;
                s.summary = req.summary.clone();
                s.handoff = Some(handoff.clone());
                op.finish(s, SessionStatus::Completed, EventKind::SessionEnded, None)
            })
        })
    }

    /// Ends the caller's session as completed, or as abandoned with a reason.
    pub fn close(&self, caller: &Caller, how: CloseAs) -> Result<SessionEnded> {
        if let CloseAs::Abandon { reason } = &how {
            parse::check_nonempty_text("reason", reason)?;
        }
        self.write(Some(caller), |tx| {
            let mut s = resolve::session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?;
            let mut op = Op::new(self, tx, caller);
            let from = [
                SessionStatus::Drafting,
                SessionStatus::Planned,
                SessionStatus::Active,
                SessionStatus::Paused,
            ];
            match &how {
                CloseAs::Complete => {
                    transition(&s, SessionStatus::Completed, &from)?;
                    op.finish(s, SessionStatus::Completed, EventKind::SessionEnded, None)
                }
                CloseAs::Abandon { reason } => {
                    transition(&s, SessionStatus::Abandoned, &from)?;
                    s.summary = s.summary.take().or_else(|| Some(format!("abandoned: {reason}")));
                    op.finish(s, SessionStatus::Abandoned, EventKind::SessionAbandoned, Some(reason))
                }
            }
        })
    }

    /// The agent of session `id`, if there is such a session.
    pub fn session_agent(&self, id: &str) -> Result<Option<String>> {
        parse::check_session_id(id)?;
        store::read(self.store(), |tx| Ok(tx.session(id)?.map(|s| s.agent)))
    }

    /// The session that a `session start` with this idempotency key created, if any.
    /// Hooks use it to map a client's conversation id to one baton session.
    pub fn session_for_key(&self, caller: &Caller, key: &str) -> Result<Option<Session>> {
        parse::check_id("idempotency key", key)?;
        let now = self.now();
        let scope = KeyScope::Agent(caller.agent.clone()).as_stored();
        store::read(self.store(), |tx| {
            let op = Op::at(self, tx, caller, now);
            let Some(rec) = op.tx.idempotency(&caller.project.key, &scope, key)? else {
                return Ok(None);
            };
            let Some(id) = conversations::bound_session_id(&rec) else {
                return Ok(None);
            };
            Ok(op.tx.session(&id)?.map(|s| op.decorate(s)))
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
                Some(id) => resolve::by_id(tx, id)?,
                None => resolve::session(tx, caller, &[SessionStatus::Active])?,
            };
            Op::at(self, tx, caller, now).session_context(s)
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
        self.list_sessions_matching(
            caller,
            &SessionListRequest {
                status: status.map(crate::parse::Wire::from),
                agent: None,
                all_projects,
                limit,
            },
        )
    }

    /// Sessions of the project (or of every project), of one status and one agent when asked, newest first.
    pub fn list_sessions_matching(&self, caller: &Caller, req: &SessionListRequest) -> Result<SessionList> {
        let status = req.status.as_ref().map(|s| s.get("status")).transpose()?;
        if let Some(l) = req.limit {
            parse::check_limit(l)?;
        }
        if let Some(a) = &req.agent {
            parse::check_id("agent", a)?;
        }
        let now = self.now();
        store::read(self.store(), |tx| {
            let op = Op::at(self, tx, caller, now);
            let q = SessionQuery {
                project: (!req.all_projects).then(|| caller.project.key.clone()),
                agent: req.agent.clone(),
                statuses: status.into_iter().collect(),
                limit: Some(req.limit.unwrap_or(100)),
                ..Default::default()
            };
            let sessions = op.tx.sessions(&q)?.into_iter().map(|s| op.decorate(s)).collect();
            Ok(SessionList { sessions })
        })
    }
}

impl Op<'_> {
    /// Starts a session for the caller.
    pub(super) fn start_session(&mut self, req: &StartRequest) -> Result<SessionStarted> {
        let (caller, now) = (self.caller, self.now);
        self.sweep()?;
        let warnings = self.others_active()?;
        let git = caller.project.git.as_ref();
        let session = Session {
            id: SessionId::generate(),
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
        self.tx.insert_session(&session)?;
        self.deliver_open_messages(&session)?;
        self.event(
            &session,
            EventKind::SessionStarted,
            session.id.to_string(),
            json!({
                "context": session.context, "name": session.name, "task_ids": session.task_ids,
                "role": session.role, "git_branch": session.git_branch,
            }),
        )?;
        let digest = self.digest(Some(&session))?;
        Ok(SessionStarted {
            session_id: session.id.clone(),
            handoff_notes: digest.last_handoff.as_ref().and_then(|h| h.handoff.notes.clone()),
            last_summary: digest.last_handoff.as_ref().and_then(|h| h.summary.clone()),
            last_handoff: digest.last_handoff.clone(),
            session,
            digest,
            warnings,
        })
    }

    /// Makes a paused session active again (event `session.resumed`, saying who resumed it); an active one is
    /// seen now. Every path that makes a session active again comes through here.
    pub(super) fn activate(&mut self, mut s: Session, how: Resume) -> Result<Session> {
        transition(
            &s,
            SessionStatus::Active,
            &[SessionStatus::Paused, SessionStatus::Active],
        )?;
        let was = s.status;
        s.status = SessionStatus::Active;
        s.last_seen = self.now;
        if was != SessionStatus::Active || how != Resume::OnlySeen {
            s.updated_at = self.now;
            self.refresh_git(&mut s);
        }
        self.tx.update_session(&s)?;
        if was != SessionStatus::Active {
            let by = match how {
                Resume::Heartbeat => json!({"by": "heartbeat"}),
                Resume::OnlySeen | Resume::Touched => json!({"by_agent": self.caller.agent}),
            };
            self.event(&s, EventKind::SessionResumed, s.id.to_string(), by)?;
        }
        Ok(self.decorate(s))
    }

    /// Ends session `s` as `status` (event `kind`, with `reason` when abandoned), releasing as deferred the
    /// claims it still holds.
    pub(super) fn finish(
        &mut self,
        mut s: Session,
        status: SessionStatus,
        kind: EventKind,
        reason: Option<&str>,
    ) -> Result<SessionEnded> {
        let now = self.now;
        let held = self.tx.claims(&ClaimQuery {
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
            self.tx.update_claim(&c)?;
            self.event(
                &s,
                EventKind::ClaimReleased,
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
        self.refresh_git(&mut s);
        self.tx.update_session(&s)?;
        self.event(
            &s,
            kind,
            s.id.to_string(),
            json!({
                "summary": s.summary, "handoff": s.handoff, "reason": reason, "released": released.len(),
            }),
        )?;
        Ok(SessionEnded {
            session: self.decorate(s),
            released,
        })
    }

    /// Gives `s` the goal `goal` and records it (`session.goal_set`).
    pub(super) fn set_goal(&mut self, s: &mut Session, goal: &str) -> Result<()> {
        s.context = Some(goal.to_string());
        s.updated_at = self.now;
        self.tx.update_session(s)?;
        self.event(s, EventKind::SessionGoalSet, s.id.to_string(), json!({"context": goal}))
    }

    /// A warning when the agent already has active sessions in this project: commands that name no session
    /// will then ask which one is meant.
    fn others_active(&mut self) -> Result<Vec<Warning>> {
        let others = resolve::agent_sessions(self.tx, self.caller, &[SessionStatus::Active], 4)?;
        if others.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![Warning::OthersActive {
            agent: self.caller.agent.clone(),
            more: others.len() > 3,
            sessions: others
                .iter()
                .take(3)
                .map(|s| ActiveSession {
                    id: s.id.clone(),
                    context: s.context.as_deref().map(|c| clip(c, 40)),
                })
                .collect(),
        }])
    }

    /// Marks `stale` on a session read from the store.
    pub(super) fn decorate(&self, mut s: Session) -> Session {
        s.stale =
            s.status == SessionStatus::Active && s.last_seen < self.now.minus_secs(self.baton.policy.stale_after_secs);
        s
    }

    /// Takes the caller's git branch and commit onto `s`, when the caller is in the session's project.
    pub(super) fn refresh_git(&self, s: &mut Session) {
        let caller = self.caller;
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
}

/// Refuses to move `s` to `to` unless it is in one of the statuses `from`.
pub(super) fn transition(s: &Session, to: SessionStatus, from: &[SessionStatus]) -> Result<()> {
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

/// The agent's latest completed session in this project, if an end with this key completed it.
fn ended_with_key(tx: &mut dyn Tx, caller: &Caller, key: &str) -> Result<Option<Session>> {
    let latest = resolve::agent_sessions(tx, caller, &[SessionStatus::Completed], 1)?;
    let Some(s) = latest.into_iter().next() else {
        return Ok(None);
    };
    let scope = KeyScope::Session(s.id.clone()).as_stored();
    Ok(tx.idempotency(&caller.project.key, &scope, key)?.map(|_| s))
}
