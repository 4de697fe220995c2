//! The journal: entries a session records (progress, decisions, blockers, ...), checkpoints, and a session
//! with its journal, the context an agent resumes from.

use serde_json::json;

use super::idempotency::{Keyed, check_key};
use super::op::Op;
use super::{Baton, Caller, LogRequest, Logged, SessionContext, clip, resolve};
use crate::error::{Error, Result, Usage};
use crate::model::{ClaimState, EntryId, EntryKind, Journal, JournalEntry, KeyScope, Session, SessionStatus};
use crate::parse;
use crate::store::{self, ClaimQuery, EntryQuery};

impl Baton {
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
        let supersedes: Option<EntryId> = match &req.supersedes {
            Some(id) if kind != EntryKind::Decision => {
                parse::check_entry_id(id)?;
                return Err(Error::usage(Usage::SupersedesWithoutDecision { kind }));
            }
            Some(id) => {
                parse::check_entry_id(id)?;
                Some(id.into())
            }
            None => None,
        };
        check_key(req.idempotency_key.as_ref())?;
        let mut fingerprint = json!({"kind": kind, "text": req.text, "rationale": req.rationale});
        if let Some(id) = &supersedes {
            // Only when given, so keys recorded before decisions could be superseded still match their retries.
            fingerprint["supersedes"] = json!(id);
        }
        self.write(Some(caller), |tx| {
            let mut s = resolve::session_for_write(tx, caller, "log to")?;
            let mut op = Op::new(self, tx, caller);
            let keyed = Keyed::new(
                caller,
                KeyScope::Session(s.id.clone()),
                req.idempotency_key.as_deref(),
                "session log",
                &fingerprint,
            );
            op.once(keyed.as_ref(), |op| {
                let entry = match &supersedes {
                    Some(old) => op.supersede(&mut s, old, &req.text, req.rationale.clone())?,
                    None => op.add_entry(&mut s, kind, &req.text, req.rationale.clone(), None)?,
                };
                op.tx.update_session(&s)?;
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
            let mut s = resolve::session_for_write(tx, caller, "checkpoint")?;
            let mut op = Op::new(self, tx, caller);
            let text = note.clone().unwrap_or_else(|| "checkpoint".to_string());
            let entry = op.add_entry(&mut s, EntryKind::Checkpoint, &text, None, None)?;
            op.tx.update_session(&s)?;
            Ok(Logged {
                session_id: s.id.clone(),
                paused: s.status == SessionStatus::Paused,
                entry,
            })
        })
    }

    /// Counts a context compaction and checkpoints.
    pub fn record_compaction(&self, caller: &Caller) -> Result<Session> {
        self.write(Some(caller), |tx| {
            let mut s = resolve::session_for_write(tx, caller, "checkpoint")?;
            let mut op = Op::new(self, tx, caller);
            s.compaction_count += 1;
            op.add_entry(&mut s, EntryKind::Checkpoint, "context compacted", None, None)?;
            op.tx.update_session(&s)?;
            Ok(s)
        })
    }

    /// Whether the caller's session has a journal entry of one of `kinds` (any kind when empty): a cheap
    /// question for hooks that run on every turn.
    pub fn has_entries(&self, caller: &Caller, kinds: &[EntryKind]) -> Result<bool> {
        store::read(self.store(), |tx| {
            let s = resolve::session(tx, caller, &[SessionStatus::Active, SessionStatus::Paused])?;
            let found = tx.entries(&EntryQuery {
                session_id: Some(s.id),
                kinds: kinds.to_vec(),
                limit: Some(1),
                ..Default::default()
            })?;
            Ok(!found.is_empty())
        })
    }
}

impl Op<'_> {
    /// Adds an entry to the journal of `s`, which it marks updated and seen now; the caller stores `s`.
    pub(super) fn add_entry(
        &mut self,
        s: &mut Session,
        kind: EntryKind,
        text: &str,
        rationale: Option<String>,
        supersedes: Option<EntryId>,
    ) -> Result<JournalEntry> {
        let entry = JournalEntry {
            id: EntryId::generate(),
            session_id: s.id.clone(),
            kind,
            text: text.to_string(),
            rationale,
            created_at: self.now,
            supersedes,
        };
        self.tx.insert_entry(&entry)?;
        s.updated_at = self.now;
        s.last_seen = self.now;
        self.refresh_git(s);
        let kind_name = kind.event();
        self.event(s, kind_name, s.id.to_string(), {
            let mut data = json!({
                "text": clip(text, 500), "rationale": entry.rationale.as_deref().map(|r| clip(r, 500)),
                "git_branch": s.git_branch, "git_commit": s.git_commit,
            });
            if let Some(old) = &entry.supersedes {
                data["supersedes"] = json!(old);
            }
            data
        })?;
        Ok(entry)
    }

    /// Session `s` with its journal grouped by kind, the claims it holds and a one-line summary.
    pub(super) fn session_context(&mut self, s: Session) -> Result<SessionContext> {
        let now = self.now;
        let mut entries = self.tx.entries(&EntryQuery {
            session_id: Some(s.id.clone()),
            limit: Some(2000),
            ..Default::default()
        })?;
        entries.reverse();
        let journal = Journal::from_entries(entries);
        let (progress, decisions, blockers) = (&journal.progress, &journal.decisions, &journal.blockers);
        let (next_steps, done) = (&journal.next_steps, &journal.done);
        let claims = self.tx.claims(&ClaimQuery {
            session_id: Some(s.id.clone()),
            states: vec![ClaimState::Held, ClaimState::Expired],
            ..Default::default()
        })?;
        let s = self.decorate(s);
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
