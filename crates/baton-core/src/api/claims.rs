//! Claims: grants as leases with fencing tokens, releases, heartbeats, listing, and the sweep that expires
//! run-out leases and pauses stale sessions.

use serde_json::json;

use super::idempotency::{Keyed, check_key};
use super::op::Op;
use super::sessions::Resume;
use super::{
    Baton, Caller, ClaimList, ClaimOutcome, ClaimRequest, ClaimView, ClaimsRequest, Heartbeat, Holder, LostLease,
    ReleaseRequest, Released, Sweep, resolve,
};
use crate::error::{Error, Hint, Result, Usage};
use crate::model::{Claim, ClaimId, ClaimState, EventKind, ItemKey, KeyScope, NewEvent, SessionStatus};
use crate::parse;
use crate::store::{self, ClaimQuery, SessionQuery, Tx};
use crate::time::Timestamp;

impl Baton {
    /// Claims a work item for the caller's session: atomically, as a lease with a fencing token.
    pub fn claim(&self, caller: &Caller, req: ClaimRequest) -> Result<ClaimOutcome> {
        let key = item_key(caller, &req.item_type, &req.item_id, req.repo.as_deref())?;
        if !req.new_type {
            self.check_known_type(&req.item_type)?;
        }
        let ttl = match &req.ttl {
            Some(t) => parse::parse_ttl(t)?,
            None => self.policy.default_ttl_secs,
        };
        check_key(req.idempotency_key.as_ref())?;
        let fingerprint = json!({"item": key, "ttl": ttl});
        self.write(Some(caller), |tx| {
            // Before the session is read: a store may send the lock (and the read of the item's grants that
            // follows it) together with that read.
            tx.lock_item(&key)?;
            let session = resolve::session_for_write(tx, caller, "claim for")?;
            let keyed = Keyed::new(
                caller,
                KeyScope::Session(session.id.clone()),
                req.idempotency_key.as_deref(),
                "claim",
                &fingerprint,
            );
            if let Some(k) = &keyed
                && let Some(prev) = k.replay::<ClaimOutcome>(tx)?
            {
                return Ok(prev);
            }
            let latest = tx.latest_claim(&key)?;
            // Only now, with the item and the session locked: time spent waiting for those locks must not
            // come off the lease, nor make a live lease look run out.
            let mut op = Op::new(self, tx, caller);
            let now = op.now;
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
                    op.tx.update_claim(&c)?;
                    op.event(
                        &session,
                        EventKind::ClaimRenewed,
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
                    op.tx.update_claim(&old)?;
                    outcome.taken_over_from = Some(Holder::of(&old));
                    Some(old.token + 1)
                }
                Some(l) => Some(l.token + 1),
                None => Some(1),
            };
            if let Some(token) = next_token {
                let c = Claim {
                    id: ClaimId::generate(),
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
                    forced_by: None,
                };
                op.tx.insert_claim(&c)?;
                match &outcome.taken_over_from {
                    Some(prev) => op.event(
                        &session,
                        EventKind::ClaimTakenOver,
                        key.label(),
                        json!({
                            "token": token, "expires_at": c.expires_at, "previous": prev,
                        }),
                    )?,
                    None => op.event(
                        &session,
                        EventKind::ClaimGranted,
                        key.label(),
                        json!({
                            "token": token, "expires_at": c.expires_at,
                        }),
                    )?,
                }
                outcome.claim = Some(c);
            }
            if outcome.claimed
                && let Some(k) = &keyed
            {
                k.remember(op.tx, &outcome, now)?;
            }
            Ok(outcome)
        })
    }

    /// Releases a claim the caller's session holds (or any holder's, with `force` and a reason).
    pub fn release(&self, caller: &Caller, req: ReleaseRequest) -> Result<Released> {
        let status = req.status.get("status")?;
        let key = item_key(caller, &req.item_type, &req.item_id, req.repo.as_deref())?;
        if let Some(n) = &req.notes {
            parse::check_text("notes", n)?;
        }
        match (&req.reason, req.force) {
            (None, true) => {
                return Err(Error::usage(Usage::ForceWithoutReason));
            }
            (Some(r), true) => parse::check_nonempty_text("reason", r)?,
            (Some(_), false) => return Err(Error::usage(Usage::ReasonWithoutForce)),
            (None, false) => {}
        }
        check_key(req.idempotency_key.as_ref())?;
        let fingerprint = json!({"item": key, "status": status, "notes": req.notes, "force": req.force});
        self.write(Some(caller), |tx| {
            tx.lock_item(&key)?;
            let session = if req.force {
                resolve::session_if_any(tx, caller)?
            } else {
                Some(resolve::session_for_write(tx, caller, "release for")?)
            };
            // A forced release may be made outside any session, and whether the agent has one can change
            // between a call and its retry: its key belongs to the session only when the call names it.
            let scope = match (&session, req.force) {
                (Some(s), false) => KeyScope::Session(s.id.clone()),
                _ => match &caller.session {
                    Some(id) => KeyScope::Session(id.clone()),
                    None => KeyScope::Agent(caller.agent.clone()),
                },
            };
            let keyed = Keyed::new(caller, scope, req.idempotency_key.as_deref(), "release", &fingerprint);
            if let Some(k) = &keyed
                && let Some(prev) = k.replay::<Released>(tx)?
            {
                return Ok(prev);
            }
            let op = Op::new(self, tx, caller);
            let now = op.now;
            let latest = op
                .tx
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
                    if let Some(mine_before) = op.tx.session_claim_on(&key, &s.id)?
                        && (mine_before.state == ClaimState::TakenOver || mine_before.forced_by.is_some())
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
                            "not the holder: {} is held by agent '{}' (session {}) since {}",
                            key.label(),
                            latest.agent,
                            latest.session_id,
                            latest.granted_at.short()
                        ),
                        json!({"item": key, "claimed_by": Holder::of(&latest)}),
                    )
                    .with_hint(Hint::ForceWithReason));
                }
            } else if !active {
                return Err(Error::not_found(format!(
                    "{} is not claimed: nothing to release",
                    key.label()
                )));
            }
            let forced = req.force && !mine;
            let mut c = latest.clone();
            c.state = ClaimState::Released;
            c.release_status = Some(status);
            c.notes = req.notes.clone();
            c.ended_at = Some(now);
            // A holder released over is told, like one whose lease was taken over.
            c.forced_by = forced.then(|| session.as_ref().map_or(&caller.agent, |s| &s.agent).clone());
            op.tx.update_claim(&c)?;
            let (agent, sid) = match &session {
                Some(s) => (s.agent.clone(), Some(s.id.clone())),
                None => (caller.agent.clone(), None),
            };
            op.tx.append_event(&NewEvent {
                time: now,
                project: key.project.clone(),
                agent,
                session_id: sid,
                kind: EventKind::ClaimReleased.as_str(),
                target: key.label(),
                data: if forced {
                    json!({
                        "status": status, "notes": req.notes, "token": c.token,
                        "forced": true, "reason": req.reason, "holder": Holder::of(&latest),
                    })
                } else {
                    json!({"status": status, "notes": req.notes, "token": c.token, "forced": false})
                },
            })?;
            let out = Released {
                released: true,
                claim: c,
                forced,
            };
            if let Some(k) = &keyed {
                k.remember(op.tx, &out, now)?;
            }
            Ok(out)
        })
    }

    /// Renews the caller's session and all its claims; reports leases lost to takeovers.
    pub fn heartbeat(&self, caller: &Caller) -> Result<Heartbeat> {
        self.write(Some(caller), |tx| {
            self.sweep_scope(tx, Some(&caller.project.key), self.now())?;
            let s = resolve::session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?;
            if s.status.is_ended() {
                return Err(Error::bad_input(format!(
                    "session {} is {}: only active or paused sessions take heartbeats",
                    s.id, s.status
                )));
            }
            let held = tx.claims(&ClaimQuery {
                session_id: Some(s.id.clone()),
                states: vec![ClaimState::Held, ClaimState::Expired],
                ..Default::default()
            })?;
            let taken = tx.claims(&ClaimQuery {
                session_id: Some(s.id.clone()),
                states: vec![ClaimState::TakenOver, ClaimState::Released],
                loss_unreported: true,
                ..Default::default()
            })?;
            // The renewals run from now, once the session and its claims are locked.
            let mut op = Op::new(self, tx, caller);
            let now = op.now;
            let was = s.status;
            let s = op.activate(s, Resume::Heartbeat)?;
            let mut renewed = Vec::new();
            for mut c in held {
                c.state = ClaimState::Held;
                c.renewed_at = now;
                c.expires_at = now.plus_secs(c.ttl_secs);
                op.tx.update_claim(&c)?;
                renewed.push(c);
            }
            let mut lost = Vec::new();
            for mut c in taken {
                c.loss_reported = true;
                op.tx.update_claim(&c)?;
                let key = c.key();
                let taken_by = op
                    .tx
                    .latest_claim(&key)?
                    .filter(|l| l.session_id != s.id)
                    .map(|l| Holder::of(&l));
                lost.push(LostLease {
                    item: key,
                    your_token: c.token,
                    taken_by,
                    forced_by: c.forced_by.clone(),
                });
            }
            op.event(
                &s,
                EventKind::SessionHeartbeat,
                s.id.to_string(),
                json!({
                    "renewed": renewed.iter().map(|c| c.key().label()).collect::<Vec<_>>(),
                    "lost": lost.iter().map(|l| l.item.label()).collect::<Vec<_>>(),
                }),
            )?;
            Ok(Heartbeat {
                session_id: s.id.clone(),
                last_seen: now,
                resumed: was != SessionStatus::Active,
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
                Some(resolve::session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?.id)
            } else {
                match &caller.session {
                    Some(id) => Some(id.clone()),
                    None => resolve::only_active(tx, caller)?.map(|s| s.id),
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

    /// Moves stale sessions to paused and marks run-out claims expired, in this project (or all).
    pub fn sweep(&self, project: Option<&str>) -> Result<Sweep> {
        self.write(None, |tx| self.sweep_scope(tx, project, self.now()))
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

    /// Moves stale sessions to paused and marks run-out claims expired, in `project` (or all), as of `now`.
    /// The one rule without a caller: [`Baton::sweep`] runs it for every project.
    ///
    /// `now` may be read before the transaction waited for the rows it sweeps: that only makes a sweep
    /// later, never wrong, since the stores re-check what they lock against its committed state.
    pub(super) fn sweep_scope(&self, tx: &mut dyn Tx, project: Option<&str>, now: Timestamp) -> Result<Sweep> {
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
                kind: EventKind::SessionPaused.as_str(),
                target: s.id.to_string(),
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
                kind: EventKind::ClaimExpired.as_str(),
                target: c.key().label(),
                data: json!({"token": c.token, "expired_at": c.expires_at}),
            })?;
            out.expired.push(c.key());
        }
        Ok(out)
    }
}

impl Op<'_> {
    /// Sweeps the caller's project at the operation's time.
    pub(super) fn sweep(&mut self) -> Result<Sweep> {
        self.baton
            .sweep_scope(self.tx, Some(&self.caller.project.key), self.now)
    }
}

/// The key of work item `item_type`/`item_id`, in `repo` or else the caller's repository.
fn item_key(caller: &Caller, item_type: &str, item_id: &str, repo: Option<&str>) -> Result<ItemKey> {
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

fn lease_lost(key: &ItemKey, mine: &Claim, by: Option<Holder>) -> Error {
    let how = match &mine.forced_by {
        Some(agent) => format!("was released by force by agent '{agent}'"),
        None => format!("expired at {}", mine.expires_at.short()),
    };
    let who = by
        .as_ref()
        .map(|h| {
            let verb = if mine.forced_by.is_some() {
                "claimed it since"
            } else {
                "took it over"
            };
            format!(
                " and agent '{}' (session {}) {verb} with token {}",
                h.agent, h.session, h.token
            )
        })
        .unwrap_or_default();
    Error::conflict(
        format!(
            "lease lost: your claim on {} (token {}) {how}{who}",
            key.label(),
            mine.token,
        ),
        json!({"item": key, "your_token": mine.token, "taken_by": by, "forced_by": mine.forced_by}),
    )
}
