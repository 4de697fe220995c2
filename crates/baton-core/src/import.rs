//! Sessions brought in from documents written elsewhere, and what session documents are rendered from.
//!
//! The database is the truth and documents are its view; importing lets a team that already keeps session
//! files move in without losing them. A document's fields that baton has no column for (a title, a tracker
//! link, sub-agents) are kept in a row of the session's own (and shown in the import event), so rendering the
//! session again can show them without reading the event log.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::{Baton, Caller, SessionContext};
use crate::error::{Error, Result};
use crate::model::{
    EntryKind, Handoff, IdempotencyRecord, Journal, JournalEntry, KeyScope, NewEvent, Session, SessionId, SessionStatus,
};
use crate::parse;
use crate::store::{self, EntryQuery, SessionQuery, Tx};
use crate::time::Timestamp;

/// One journal entry of an imported session.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedEntry {
    /// The document's own entry id; kept when it is a UUID.
    pub id: Option<String>,
    pub kind: EntryKind,
    pub text: String,
    pub rationale: Option<String>,
    pub created_at: Timestamp,
}

/// A session read from a document, with its original times and status.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedSession {
    /// The document's own session id; kept when it is a UUID, so importing it again changes nothing.
    pub id: Option<String>,
    /// A stable identity for a document without a session id (its layout and file name): importing a
    /// document with the same key again changes nothing.
    pub key: String,
    /// Whose session it was; the caller's agent when the document does not say.
    pub agent: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub context: Option<String>,
    pub task_ids: Vec<String>,
    pub status: SessionStatus,
    pub git_branch: Option<String>,
    pub git_commit: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub compaction_count: i64,
    pub summary: Option<String>,
    pub handoff: Option<Handoff>,
    pub entries: Vec<ImportedEntry>,
    /// The document layout it was read from (`agents`, `sessions`).
    pub layout: String,
    /// The file it was read from, as given.
    pub source: String,
    /// The document's fields that baton has no column for (an object, or null).
    pub document: Value,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportOutcome {
    pub session_id: SessionId,
    /// False when this document had been imported before: nothing changed.
    pub imported: bool,
    /// Journal entries written.
    pub entries: usize,
    pub source: String,
}

/// Everything a session document shows.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentSource {
    pub context: SessionContext,
    /// The fields its document carried that baton has no column for, when the session was imported.
    pub document: Option<Value>,
}

const IMPORT_EVENT: &str = crate::EventKind::SessionImported.as_str();

impl Baton {
    /// Writes a session read from a document (with its original times, status and journal), the document's
    /// fields baton has no column for, and a `session.imported` event, in one transaction. Importing the same
    /// document again changes nothing.
    pub fn import_session(&self, caller: &Caller, doc: ImportedSession) -> Result<ImportOutcome> {
        let agent = doc.agent.clone().unwrap_or_else(|| caller.agent.clone());
        check_document(&doc, &agent)?;
        let now = self.now();
        // A document without a UUID gets a time-ordered one from its creation time; its key keeps re-imports idempotent.
        let (session_id, key) = match &doc.id {
            Some(id) => (id.clone(), None),
            None => (
                uuid_at(doc.created_at).to_string(),
                Some(format!("import:{:016x}", fnv1a(doc.key.as_bytes()))),
            ),
        };
        let fingerprint = json!({"key": doc.key, "layout": doc.layout}).to_string();
        self.write(Some(caller), |tx| {
            if let Some(prev) = self.previous_import(tx, caller, &session_id, key.as_deref(), &doc.source)? {
                return Ok(prev);
            }
            let ended = doc.status.is_ended();
            let session = Session {
                id: session_id.clone().into(),
                project: caller.project.key.clone(),
                agent: agent.clone(),
                name: doc.name.clone(),
                role: doc.role.clone(),
                context: doc.context.clone(),
                task_ids: doc.task_ids.clone(),
                status: doc.status,
                stale: false,
                git_branch: doc.git_branch.clone(),
                git_commit: doc.git_commit.clone(),
                worktree: None,
                created_at: doc.created_at,
                updated_at: doc.updated_at,
                last_seen: doc.updated_at,
                ended_at: if ended {
                    doc.ended_at.or(Some(doc.updated_at))
                } else {
                    None
                },
                compaction_count: doc.compaction_count,
                summary: doc.summary.clone(),
                handoff: doc.handoff.clone(),
            };
            tx.insert_session(&session)?;
            for e in &doc.entries {
                tx.insert_entry(&JournalEntry {
                    id: e.id.clone().unwrap_or_else(|| uuid_at(e.created_at).to_string()).into(),
                    session_id: session.id.clone(),
                    kind: e.kind,
                    text: e.text.clone(),
                    rationale: e.rationale.clone(),
                    created_at: e.created_at,
                    supersedes: None,
                })?;
            }
            if !doc.document.is_null() {
                tx.put_session_document(&session.id, &doc.document)?;
            }
            tx.append_event(&NewEvent {
                time: now,
                project: session.project.clone(),
                agent: session.agent.clone(),
                session_id: Some(session.id.clone()),
                kind: IMPORT_EVENT,
                target: session.id.to_string(),
                data: json!({
                    "layout": doc.layout, "source": doc.source, "status": session.status,
                    "entries": doc.entries.len(), "document": doc.document,
                }),
            })?;
            let outcome = ImportOutcome {
                session_id: session.id.clone(),
                imported: true,
                entries: doc.entries.len(),
                source: doc.source.clone(),
            };
            if let Some(k) = &key {
                tx.put_idempotency(&IdempotencyRecord {
                    project: caller.project.key.clone(),
                    scope: KeyScope::Import.as_stored(),
                    key: k.clone(),
                    command: "session import".to_string(),
                    request: fingerprint.clone(),
                    result: serde_json::to_string(&outcome).map_err(|e| Error::internal(e.to_string()))?,
                    created_at: now,
                })?;
            }
            Ok(outcome)
        })
    }

    /// The outcome of an earlier import of the same document, if there was one.
    fn previous_import(
        &self,
        tx: &mut dyn Tx,
        caller: &Caller,
        session_id: &str,
        key: Option<&str>,
        source: &str,
    ) -> Result<Option<ImportOutcome>> {
        let unchanged = |id: SessionId| ImportOutcome {
            session_id: id,
            imported: false,
            entries: 0,
            source: source.to_string(),
        };
        let Some(key) = key else {
            return Ok(tx.session(session_id)?.map(|s| unchanged(s.id)));
        };
        let Some(rec) = tx.idempotency(&caller.project.key, &KeyScope::Import.as_stored(), key)? else {
            return Ok(None);
        };
        if rec.command != "session import" {
            return Err(Error::bad_input(format!(
                "cannot import {source}: its import key '{key}' was already used by a {} request",
                rec.command
            )));
        }
        let first: ImportOutcome = serde_json::from_str(&rec.result)
            .map_err(|e| Error::internal(format!("stored result of import key '{key}' is unreadable: {e}")))?;
        Ok(Some(unchanged(first.session_id)))
    }

    /// The session with this id, its whole journal, and what its document carried if it was imported.
    pub fn document_source(&self, caller: &Caller, id: &str) -> Result<DocumentSource> {
        let context = self.full_context(caller, id)?;
        let document = store::read(self.store(), |tx| tx.session_document(&context.session.id))?;
        Ok(DocumentSource { context, document })
    }

    /// [`Baton::view`] of a session, with all of its journal: `view` keeps only the newest entries of a very
    /// long one, and a document shows them all.
    fn full_context(&self, caller: &Caller, id: &str) -> Result<SessionContext> {
        let mut context = self.view(caller, Some(id))?;
        if journal_len(&context) >= VIEW_ENTRY_LIMIT {
            let all = store::read(self.store(), |tx| {
                tx.entries(&EntryQuery {
                    session_id: Some(id.into()),
                    ..Default::default()
                })
            })?;
            regroup(&mut context, all);
        }
        Ok(context)
    }

    /// Every session of the caller's project, oldest first, as [`Baton::document_source`] gives them.
    pub fn document_sources(&self, caller: &Caller) -> Result<Vec<DocumentSource>> {
        let project = caller.project.key.clone();
        let mut sessions = store::read(self.store(), |tx| {
            let sessions = tx.sessions(&SessionQuery {
                project: Some(project.clone()),
                ..Default::default()
            })?;
            sessions
                .into_iter()
                .map(|s| Ok((tx.session_document(&s.id)?, s)))
                .collect::<Result<Vec<_>>>()
        })?;
        sessions.sort_by(|(_, a), (_, b)| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let mut out = Vec::with_capacity(sessions.len());
        for (document, s) in sessions {
            let context = self.full_context(caller, &s.id)?;
            out.push(DocumentSource { context, document });
        }
        Ok(out)
    }
}

/// How many entries [`Baton::view`] returns at most.
const VIEW_ENTRY_LIMIT: usize = 2000;

fn journal_len(c: &SessionContext) -> usize {
    c.journal.len()
}

/// Replaces a context's journal with `entries` (any order), grouped by kind, oldest first.
fn regroup(c: &mut SessionContext, mut entries: Vec<JournalEntry>) {
    entries.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    c.journal = Journal::from_entries(entries);
}

/// Checks an imported session the way the commands that would have written it check their input.
fn check_document(doc: &ImportedSession, agent: &str) -> Result<()> {
    let ctx = |e: Error| match e {
        e @ Error::BadInput { .. } => e.reworded(|m| format!("{}: {m}", doc.source)),
        other => other,
    };
    (|| {
        parse::check_id("agent", agent)?;
        if let Some(id) = &doc.id {
            parse::check_session_id(id)?;
        }
        parse::check_nonempty_text("import key", &doc.key)?;
        if let Some(n) = &doc.name {
            parse::check_id("session name", n)?;
        }
        if let Some(r) = &doc.role {
            parse::check_id("role", r)?;
        }
        for t in &doc.task_ids {
            parse::check_id("task id", t)?;
        }
        for (field, v) in [
            ("context", &doc.context),
            ("summary", &doc.summary),
            ("git branch", &doc.git_branch),
            ("git commit", &doc.git_commit),
        ] {
            if let Some(v) = v {
                parse::check_text(field, v)?;
            }
        }
        if let Some(h) = &doc.handoff {
            if let Some(n) = &h.notes {
                parse::check_text("handoff notes", n)?;
            }
            for v in h.done.iter().chain(&h.next).chain(&h.blockers) {
                parse::check_nonempty_text("handoff item", v)?;
            }
        }
        if doc.compaction_count < 0 {
            return Err(Error::bad_input(format!(
                "compaction count {} is negative: expected 0 or more",
                doc.compaction_count
            )));
        }
        if doc.updated_at < doc.created_at {
            return Err(Error::bad_input(format!(
                "updated time {} is before created time {}",
                doc.updated_at.short(),
                doc.created_at.short()
            )));
        }
        for e in &doc.entries {
            parse::check_nonempty_text(e.kind.as_str(), &e.text)?;
            if let Some(id) = &e.id
                && uuid::Uuid::try_parse(id).is_err()
            {
                return Err(Error::bad_input(format!("journal entry id '{id}' is not a UUID")));
            }
            if let Some(r) = &e.rationale {
                if e.kind != EntryKind::Decision {
                    return Err(Error::bad_input(format!(
                        "a {} entry has a rationale: only decisions have one",
                        e.kind
                    )));
                }
                parse::check_text("rationale", r)?;
            }
        }
        Ok(())
    })()
    .map_err(ctx)
}

/// A UUIDv7 whose time part is `t`, so imported ids sort by when things happened, not when they were imported.
fn uuid_at(t: Timestamp) -> uuid::Uuid {
    let micros = t.micros().max(0);
    let secs = (micros / 1_000_000) as u64;
    let nanos = ((micros % 1_000_000) * 1000) as u32;
    uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, secs, nanos))
}

/// FNV-1a: a hash that stays the same across Rust versions and platforms, unlike the standard library's.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_is_stable() {
        // Published FNV-1a 64 test vectors: a stored import key must never change meaning.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn imported_ids_sort_by_their_time() {
        let a = uuid_at(Timestamp(1_700_000_000_000_000));
        let b = uuid_at(Timestamp(1_700_000_001_000_000));
        assert!(a.to_string() < b.to_string());
        assert_eq!(a.get_version_num(), 7);
    }
}
