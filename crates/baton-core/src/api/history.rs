//! What changed: pages of events, and the bounded digest a starting or resuming agent reads.

use super::op::Op;
use super::{
    Baton, BlockerBrief, Caller, ChangesBrief, ChangesPage, ChangesRequest, Digest, LastHandoff, Omission, Omitted,
    SessionBrief, clip, resolve,
};
use crate::error::{Error, Result};
use crate::model::{Claim, ClaimState, EVENT_KINDS, EntryKind, EventKind, Session, SessionStatus};
use crate::parse::{self, Since};
use crate::store::{self, ClaimQuery, EntryQuery, EventQuery, SessionQuery, Tx};
use crate::time::Timestamp;
use crate::warning::Warning;

const CHANGES_COUNT_CAP: u32 = 1_000;
const DIGEST_LIST_CAP: u32 = 20;
const DIGEST_NEWEST: u32 = 10;
/// How many of the newest completed sessions the digest looks through for the handoff of this line of work.
const HANDOFF_LOOKBACK: u32 = 50;
const DIGEST_NOISE: &[EventKind] = &[EventKind::SessionHeartbeat];
/// How many known project keys a warning about an unknown one names, nearest first.
const KNOWN_PROJECTS_NAMED: usize = 5;
/// How many known project keys it reads to pick the nearest from: the first ones, and as many on each side
/// of the unknown key in key order, where keys that share its beginning are.
const KNOWN_PROJECTS_READ: u32 = 100;

impl Baton {
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

    /// The digest for the caller, computed now.
    pub fn digest(&self, caller: &Caller) -> Result<Digest> {
        let now = self.now();
        store::read(self.store(), |tx| {
            let me = resolve::session_if_any(tx, caller)?;
            Op::at(self, tx, caller, now).digest(me.as_ref())
        })
    }

    /// A warning when no session but `except_session` has ever used the caller's project in this store,
    /// naming the known project keys nearest to it; `None` when the project is known.
    ///
    /// A mistyped `--project` or `BATON_PROJECT` silently splits a team into two projects. Front ends ask
    /// only when the key was given explicitly and their answer already shows the project empty (a first
    /// session, an empty list), so ordinary calls read nothing more.
    pub fn unknown_project(&self, caller: &Caller, except_session: Option<&str>) -> Result<Option<Warning>> {
        let key = &caller.project.key;
        let known = store::read(self.store(), |tx| {
            let used = tx.sessions(&SessionQuery {
                project: Some(key.clone()),
                exclude_id: except_session.map(Into::into),
                limit: Some(1),
                ..Default::default()
            })?;
            if !used.is_empty() {
                return Ok(None);
            }
            let mut keys = tx.project_keys("", false, KNOWN_PROJECTS_READ)?;
            keys.extend(tx.project_keys(key, false, KNOWN_PROJECTS_READ)?);
            keys.extend(tx.project_keys(key, true, KNOWN_PROJECTS_READ)?);
            Ok(Some(keys))
        })?;
        let Some(mut known) = known else {
            return Ok(None);
        };
        known.retain(|k| k != key);
        known.sort();
        known.dedup();
        known.sort_by_cached_key(|k| (parse::edits(key, k), k.clone()));
        let more = known.len() > KNOWN_PROJECTS_NAMED;
        known.truncate(KNOWN_PROJECTS_NAMED);
        Ok(Some(Warning::UnknownProject {
            key: key.clone(),
            store: self.store().location(),
            known,
            more,
        }))
    }

    /// The handoff the digest shows, if one ended after `since`: what the prompt hook tells a running
    /// conversation, without computing the rest of the digest.
    pub fn handoff_since(&self, caller: &Caller, since: Timestamp) -> Result<Option<LastHandoff>> {
        store::read(self.store(), |tx| {
            let me = resolve::session_if_any(tx, caller)?;
            handoff(tx, caller, me.as_ref(), Some(since))
        })
    }
}

/// The handoff of this line of work: the newest real handoff (a completed session that left a summary or
/// notes) of a session with the same name as `me`, else sharing a task, else of this agent, else of anyone;
/// only of sessions that ended after `since` when given. Abandoned sessions and sessions that recorded
/// nothing never hide it.
fn handoff(
    tx: &mut dyn Tx,
    caller: &Caller,
    me: Option<&Session>,
    since: Option<Timestamp>,
) -> Result<Option<LastHandoff>> {
    let ended = tx.sessions(&SessionQuery {
        project: Some(caller.project.key.clone()),
        statuses: vec![SessionStatus::Completed],
        exclude_id: me.map(|s| s.id.clone()),
        limit: Some(HANDOFF_LOOKBACK),
        ..Default::default()
    })?;
    let real = ended.into_iter().filter(|s| {
        (s.summary.is_some() || s.handoff.as_ref().is_some_and(|h| !h.is_empty()))
            && since.is_none_or(|t| s.ended_at.is_some_and(|e| e > t))
    });
    let rank = |s: &Session| -> u8 {
        match me {
            Some(m) if m.name.is_some() && m.name == s.name => 0,
            Some(m) if m.task_ids.iter().any(|t| s.task_ids.contains(t)) => 1,
            _ if s.agent == caller.agent => 2,
            _ => 3,
        }
    };
    Ok(real.min_by_key(|s| rank(s)).map(|s| LastHandoff {
        session_id: s.id,
        agent: s.agent,
        status: s.status,
        ended_at: s.ended_at,
        summary: s.summary,
        handoff: s.handoff.unwrap_or_default(),
    }))
}

impl Op<'_> {
    /// The digest for the caller, whose session is `me` when it has one, fitted to the policy's size.
    pub(super) fn digest(&mut self, me: Option<&Session>) -> Result<Digest> {
        let (caller, now) = (self.caller, self.now);
        let project = caller.project.key.clone();
        let mut omitted = Vec::new();
        let my_id = me.map(|s| s.id.clone());

        let last_handoff = handoff(self.tx, caller, me, None)?;

        let others = self.tx.sessions(&SessionQuery {
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
                let s = self.decorate(s);
                SessionBrief {
                    session_id: s.id,
                    agent: s.agent,
                    role: s.role,
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
            omitted.push(Omission::more_than(Omitted::OpenSessions, DIGEST_LIST_CAP));
        }

        let open = self.tx.claims(&ClaimQuery {
            project: Some(project.clone()),
            states: vec![ClaimState::Held],
            limit: Some(2 * DIGEST_LIST_CAP + 1),
            ..Default::default()
        })?;
        if open.len() > 2 * DIGEST_LIST_CAP as usize {
            omitted.push(Omission::more_than(Omitted::OpenClaims, 2 * DIGEST_LIST_CAP));
        }
        let (my_claims, other_claims): (Vec<Claim>, Vec<Claim>) = open
            .into_iter()
            .take(2 * DIGEST_LIST_CAP as usize)
            .partition(|c| my_id.as_deref() == Some(c.session_id.as_str()));

        let mut blockers: Vec<BlockerBrief> = Vec::new();
        for e in self.tx.entries(&EntryQuery {
            project: Some(project.clone()),
            session_statuses: vec![SessionStatus::Active, SessionStatus::Paused],
            kinds: vec![EntryKind::Blocker],
            limit: Some(DIGEST_LIST_CAP + 1),
            ..Default::default()
        })? {
            let agent = self.tx.session(&e.session_id)?.map(|s| s.agent).unwrap_or_default();
            blockers.push(BlockerBrief {
                session_id: e.session_id,
                agent,
                text: clip(&e.text, 300),
                created_at: e.created_at,
            });
        }
        if blockers.len() > DIGEST_LIST_CAP as usize {
            blockers.truncate(DIGEST_LIST_CAP as usize);
            omitted.push(Omission::more_than(Omitted::Blockers, DIGEST_LIST_CAP));
        }

        // Changes since the end of this agent's previous session in the project.
        let previous = self
            .tx
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
            Some(t) => self.tx.first_seq_since(&project, Timestamp(t.0 + 1))?.map(|s| s - 1),
            None => Some(0),
        };
        let mut q = EventQuery {
            project: Some(project.clone()),
            exclude_kinds: DIGEST_NOISE.iter().map(|k| k.as_str().to_string()).collect(),
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
                let count = self.tx.count_events(&q, CHANGES_COUNT_CAP)?;
                q.newest_first = true;
                q.limit = DIGEST_NEWEST;
                let newest = self.tx.events(&q)?;
                ChangesBrief {
                    since,
                    count,
                    count_capped: count >= CHANGES_COUNT_CAP as u64,
                    newest,
                }
            }
        };

        let messages = match me {
            Some(s) => Some(self.messages_brief(s)?),
            None => None,
        };
        let mut d = Digest {
            messages,
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
        fit_digest(&mut d, self.baton.policy.digest_max_chars);
        Ok(d)
    }
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
    const WHAT: [Omitted; 5] = [
        Omitted::Events,
        Omitted::OtherClaims,
        Omitted::OpenSessions,
        Omitted::Blockers,
        Omitted::MyClaims,
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
    let mut handoff_cut = None;
    if size(d) > budget
        && let Some(h) = d.last_handoff.as_mut()
    {
        handoff_cut = Some(h.session_id.clone());
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
            let pointer = "(too long to show here)".to_string();
            h.summary = h.summary.as_ref().map(|_| pointer.clone());
            h.handoff.notes = h.handoff.notes.as_ref().map(|_| pointer.clone());
            h.handoff.next.clear();
            h.handoff.done.clear();
            h.handoff.blockers.clear();
        }
    }
    for (n, what) in cut.iter().zip(WHAT) {
        if *n > 0 {
            d.omitted.push(Omission::cut(what, *n));
        }
    }
    if let Some(session_id) = handoff_cut {
        d.omitted.push(Omission {
            what: Omitted::Handoff,
            count: None,
            more: false,
            session_id: Some(session_id),
        });
    }
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
