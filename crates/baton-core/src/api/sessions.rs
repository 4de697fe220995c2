//! Sessions: start, log, checkpoint, pause, resume, end, close, view and list.

/// How [`Baton::activate`] treats a session that becomes, or already is, active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resume {
    /// Asked to resume: the session is touched (updated now, its git position refreshed) even when active.
    Touched,
    /// A heartbeat: touched like [`Resume::Touched`], and the event says a heartbeat resumed it.
    Heartbeat,
    /// A conversation goes on in it: a session that already is active is only seen.
    OnlySeen,
}

use super::*;

impl Baton {
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
        check_key(req.idempotency_key.as_ref())?;
        let fingerprint = json!({"context": req.context, "name": req.name, "task_ids": req.task_ids, "role": req.role, "agent": caller.agent});
        let started: SessionStarted = self.write(Some(caller), |tx| {
            let now = self.now();
            let keyed = Keyed::new(
                caller,
                KeyScope::Agent(caller.agent.clone()),
                req.idempotency_key.as_deref(),
                "session start",
                &fingerprint,
            );
            once(tx, keyed.as_ref(), now, |tx| self.start_in(tx, caller, &req, now))
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
            let now = self.now();
            let mut s = self.resolve_session(tx, caller, &[SessionStatus::Active])?;
            if s.status != SessionStatus::Active {
                return Ok(None);
            }
            if s.context.is_none()
                && let Some(g) = goal.filter(|g| !g.trim().is_empty())
            {
                set_goal_in(tx, &mut s, g, now)?;
            }
            let digest = self.digest_in(tx, caller, Some(&s), now)?;
            let s = self.decorate(s, now);
            Ok(Some(SessionStarted {
                session_id: s.id.clone(),
                handoff_notes: digest.last_handoff.as_ref().and_then(|h| h.handoff.notes.clone()),
                last_summary: digest.last_handoff.as_ref().and_then(|h| h.summary.clone()),
                last_handoff: digest.last_handoff.clone(),
                warnings: vec![format!(
                    "this conversation already has session {} (started by the client's hooks): it goes on, and no second session was started",
                    s.id
                )],
                session: s,
                digest,
            }))
        })
    }

    /// Starts a session inside a write transaction.
    pub(super) fn start_in(
        &self,
        tx: &mut dyn Tx,
        caller: &Caller,
        req: &StartRequest,
        now: Timestamp,
    ) -> Result<SessionStarted> {
        self.sweep_in(tx, &caller.project.key, now)?;
        let warnings = self.others_active(tx, caller)?;
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
            EventKind::SessionStarted,
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
            warnings,
        })
    }

    /// Adds a journal entry to the caller's session.
    pub fn log(&self, caller: &Caller, req: LogRequest) -> Result<Logged> {
        let kind = req.kind.get("kind")?;
        parse::check_nonempty_text(kind.as_str(), &req.text)?;
        if let Some(r) = &req.rationale {
            parse::check_text("rationale", r)?;
        }
        if req.rationale.is_some() && kind != EntryKind::Decision {
            return Err(Error::usage(Usage::RationaleWithoutDecision { kind }));
        }
        check_key(req.idempotency_key.as_ref())?;
        let fingerprint = json!({"kind": kind, "text": req.text, "rationale": req.rationale});
        self.write(Some(caller), |tx| {
            let mut s = self.session_for_write(tx, caller, "log to")?;
            let now = self.now();
            let keyed = Keyed::new(
                caller,
                KeyScope::Session(s.id.clone()),
                req.idempotency_key.as_deref(),
                "session log",
                &fingerprint,
            );
            once(tx, keyed.as_ref(), now, |tx| {
                let entry = self.add_entry(tx, &mut s, caller, now, kind, &req.text, req.rationale.clone())?;
                tx.update_session(&s)?;
                Ok(Logged {
                    session_id: s.id.clone(),
                    entry,
                    paused: s.status == SessionStatus::Paused,
                })
            })
        })
    }

    /// Records a checkpoint (and refreshes git info) on the caller's session.
    pub fn checkpoint(&self, caller: &Caller, note: Option<String>) -> Result<Logged> {
        if let Some(n) = &note {
            parse::check_text("note", n)?;
        }
        self.write(Some(caller), |tx| {
            let mut s = self.session_for_write(tx, caller, "checkpoint")?;
            let now = self.now();
            let text = note.clone().unwrap_or_else(|| "checkpoint".to_string());
            let entry = self.add_entry(tx, &mut s, caller, now, EntryKind::Checkpoint, &text, None)?;
            tx.update_session(&s)?;
            Ok(Logged {
                session_id: s.id.clone(),
                paused: s.status == SessionStatus::Paused,
                entry,
            })
        })
    }

    /// Whether the caller's session has a journal entry of one of `kinds` (any kind when empty): a cheap
    /// question for hooks that run on every turn.
    pub fn has_entries(&self, caller: &Caller, kinds: &[EntryKind]) -> Result<bool> {
        store::read(self.store(), |tx| {
            let s = self.resolve_session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?;
            let found = tx.entries(&EntryQuery {
                session_id: Some(s.id),
                kinds: kinds.to_vec(),
                limit: Some(1),
                ..Default::default()
            })?;
            Ok(!found.is_empty())
        })
    }

    /// Gives the caller's session `goal` as its context when it has none yet (a conversation's first prompt
    /// becomes its goal) and has recorded nothing yet. Returns the session, changed or not.
    pub fn set_goal_if_none(&self, caller: &Caller, goal: &str) -> Result<Session> {
        parse::check_nonempty_text("goal", goal)?;
        self.write(Some(caller), |tx| {
            let mut s = self.resolve_session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?;
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
            let now = self.now();
            set_goal_in(tx, &mut s, goal, now)?;
            Ok(self.decorate(s, now))
        })
    }

    /// Counts a context compaction and checkpoints.
    pub fn record_compaction(&self, caller: &Caller) -> Result<Session> {
        self.write(Some(caller), |tx| {
            let mut s = self.session_for_write(tx, caller, "checkpoint")?;
            let now = self.now();
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
        self.write(Some(caller), |tx| {
            let mut s = self.resolve_session(tx, caller, &[SessionStatus::Active])?;
            let now = self.now();
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
                EventKind::SessionPaused,
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
        self.write(Some(caller), |tx| {
            self.sweep_in(tx, &caller.project.key, self.now())?;
            let s = match id {
                Some(id) => self.load_session(tx, id)?,
                // Like every other command: the explicit session, else the agent's only candidate.
                None => self.resolve_session(tx, caller, &[SessionStatus::Paused, SessionStatus::Active])?,
            };
            let now = self.now();
            let s = self.activate(tx, s, caller, now, Resume::Touched)?;
            let context = self.context_in(tx, s, now)?;
            let digest = self.digest_in(tx, caller, Some(&context.session), now)?;
            Ok(Resumed {
                session_id: context.session.id.clone(),
                context,
                digest,
            })
        })
    }

    /// Makes a paused session active again (event `session.resumed`, saying who resumed it); an active one is
    /// seen now. Every path that makes a session active again comes through here.
    pub(super) fn activate(
        &self,
        tx: &mut dyn Tx,
        mut s: Session,
        caller: &Caller,
        now: Timestamp,
        how: Resume,
    ) -> Result<Session> {
        transition(
            &s,
            SessionStatus::Active,
            &[SessionStatus::Paused, SessionStatus::Active],
        )?;
        let was = s.status;
        s.status = SessionStatus::Active;
        s.last_seen = now;
        if was != SessionStatus::Active || how != Resume::OnlySeen {
            s.updated_at = now;
            self.refresh_git(&mut s, caller);
        }
        tx.update_session(&s)?;
        if was != SessionStatus::Active {
            let by = match how {
                Resume::Heartbeat => json!({"by": "heartbeat"}),
                Resume::OnlySeen | Resume::Touched => json!({"by_agent": caller.agent}),
            };
            event(tx, &s, now, EventKind::SessionResumed, s.id.clone(), by)?;
        }
        Ok(self.decorate(s, now))
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
                (Some(k), None) => self.ended_with_key(tx, caller, k)?,
                _ => None,
            };
            let mut s = match retried {
                Some(s) => s,
                None => self.resolve_session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?,
            };
            let now = self.now();
            let keyed = Keyed::new(caller, KeyScope::Session(s.id.clone()), key, COMMAND, &fingerprint);
            once(tx, keyed.as_ref(), now, |tx| {
                transition(
                    &s,
                    SessionStatus::Completed,
                    &[SessionStatus::Active, SessionStatus::Paused],
                )?;
                s.summary = req.summary.clone();
                s.handoff = Some(handoff.clone());
                self.finish(
                    tx,
                    s,
                    caller,
                    now,
                    SessionStatus::Completed,
                    EventKind::SessionEnded,
                    None,
                )
            })
        })
    }

    /// Ends the caller's session as completed, or as abandoned with a reason.
    pub fn close(&self, caller: &Caller, how: CloseAs) -> Result<SessionEnded> {
        if let CloseAs::Abandon { reason } = &how {
            parse::check_nonempty_text("reason", reason)?;
        }
        self.write(Some(caller), |tx| {
            let mut s = self.resolve_session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?;
            let now = self.now();
            let from = [
                SessionStatus::Drafting,
                SessionStatus::Planned,
                SessionStatus::Active,
                SessionStatus::Paused,
            ];
            match &how {
                CloseAs::Complete => {
                    transition(&s, SessionStatus::Completed, &from)?;
                    self.finish(
                        tx,
                        s,
                        caller,
                        now,
                        SessionStatus::Completed,
                        EventKind::SessionEnded,
                        None,
                    )
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
                        EventKind::SessionAbandoned,
                        Some(reason),
                    )
                }
            }
        })
    }

    /// A warning when the agent already has active sessions in this project: commands that name no session
    /// will then ask which one is meant.
    fn others_active(&self, tx: &mut dyn Tx, caller: &Caller) -> Result<Vec<String>> {
        let others = self.agent_sessions(tx, caller, &[SessionStatus::Active], 4)?;
        if others.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = others
            .iter()
            .take(3)
            .map(|s| match s.context.as_deref() {
                Some(c) => format!("{} ({})", s.id, clip(c, 40)),
                None => s.id.clone(),
            })
            .collect();
        Ok(vec![format!(
            "agent '{}' already has {} active session{} in this project: {}; commands that name no session will ask which one is meant: pass --session ID (or set BATON_SESSION), or end the other with `baton session end --session ID`",
            caller.agent,
            if others.len() > 3 {
                "more than 3".to_string()
            } else {
                others.len().to_string()
            },
            if others.len() == 1 { "" } else { "s" },
            list.join(", ")
        )])
    }

    /// The agent's latest completed session in this project, if an end with this key completed it.
    fn ended_with_key(&self, tx: &mut dyn Tx, caller: &Caller, key: &str) -> Result<Option<Session>> {
        let latest = self.agent_sessions(tx, caller, &[SessionStatus::Completed], 1)?;
        let Some(s) = latest.into_iter().next() else {
            return Ok(None);
        };
        let scope = KeyScope::Session(s.id.clone()).as_stored();
        Ok(tx.idempotency(&caller.project.key, &scope, key)?.map(|_| s))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn finish(
        &self,
        tx: &mut dyn Tx,
        mut s: Session,
        caller: &Caller,
        now: Timestamp,
        status: SessionStatus,
        kind: EventKind,
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
            let Some(rec) = tx.idempotency(&caller.project.key, &scope, key)? else {
                return Ok(None);
            };
            let Some(id) = conversations::bound_session_id(&rec) else {
                return Ok(None);
            };
            Ok(tx.session(&id)?.map(|s| self.decorate(s, now)))
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
            let q = SessionQuery {
                project: (!req.all_projects).then(|| caller.project.key.clone()),
                agent: req.agent.clone(),
                statuses: status.into_iter().collect(),
                limit: Some(req.limit.unwrap_or(100)),
                ..Default::default()
            };
            let sessions = tx.sessions(&q)?.into_iter().map(|s| self.decorate(s, now)).collect();
            Ok(SessionList { sessions })
        })
    }
}

/// Gives `s` the goal `goal` and records it (`session.goal_set`).
fn set_goal_in(tx: &mut dyn Tx, s: &mut Session, goal: &str, now: Timestamp) -> Result<()> {
    s.context = Some(goal.to_string());
    s.updated_at = now;
    tx.update_session(s)?;
    event(
        tx,
        s,
        now,
        EventKind::SessionGoalSet,
        s.id.clone(),
        json!({"context": goal}),
    )
}
