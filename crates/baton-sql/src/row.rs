//! Values bound to and read from both stores, and the mapping of each concept's row, written once.
//!
//! A store turns its native cell into a [`Value`] ([`Columns`]) and binds [`Value`]s as parameters; which
//! column holds which field, how enums and JSON are stored and what a malformed row says live here.

use baton_core::model::{Claim, Event, Handoff, IdempotencyRecord, JournalEntry, NewEvent, Session};
use baton_core::store::{DecisionRow, SearchHit};
use baton_core::{Error, Result, Timestamp};

/// A cell of baton's schemas: every column is a 64-bit integer, text or (PostgreSQL's `loss_reported`) a
/// boolean, any of them nullable; a search's rank is a floating-point number.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
    Real(f64),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<Timestamp> for Value {
    fn from(v: Timestamp) -> Self {
        Value::Int(v.0)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One row as a store read it.
pub trait Columns {
    /// The cell at `idx`, in the order of the query's column list.
    fn value(&self, idx: usize) -> Result<Value>;
    /// The column's name, for errors.
    fn name(&self, idx: usize) -> String;
}

fn unreadable(row: &dyn Columns, idx: usize, what: &str) -> Error {
    Error::internal(format!("stored {} is unreadable: {what}", row.name(idx)))
}

/// Typed reads of a row's cells.
pub(crate) struct Cells<'r>(pub(crate) &'r dyn Columns);

impl Cells<'_> {
    pub(crate) fn opt_text(&self, idx: usize) -> Result<Option<String>> {
        match self.0.value(idx)? {
            Value::Null => Ok(None),
            Value::Text(t) => Ok(Some(t)),
            other => Err(unreadable(self.0, idx, &format!("expected text, found {other:?}"))),
        }
    }
    pub(crate) fn text(&self, idx: usize) -> Result<String> {
        self.opt_text(idx)?
            .ok_or_else(|| unreadable(self.0, idx, "expected text, found NULL"))
    }
    pub(crate) fn opt_int(&self, idx: usize) -> Result<Option<i64>> {
        match self.0.value(idx)? {
            Value::Null => Ok(None),
            Value::Int(n) => Ok(Some(n)),
            other => Err(unreadable(
                self.0,
                idx,
                &format!("expected an integer, found {other:?}"),
            )),
        }
    }
    pub(crate) fn int(&self, idx: usize) -> Result<i64> {
        self.opt_int(idx)?
            .ok_or_else(|| unreadable(self.0, idx, "expected an integer, found NULL"))
    }
    /// A floating-point number (an integer reads as one too).
    pub(crate) fn real(&self, idx: usize) -> Result<f64> {
        match self.0.value(idx)? {
            Value::Real(f) => Ok(f),
            Value::Int(n) => Ok(n as f64),
            other => Err(unreadable(self.0, idx, &format!("expected a number, found {other:?}"))),
        }
    }
    pub(crate) fn time(&self, idx: usize) -> Result<Timestamp> {
        self.int(idx).map(Timestamp)
    }
    pub(crate) fn opt_time(&self, idx: usize) -> Result<Option<Timestamp>> {
        Ok(self.opt_int(idx)?.map(Timestamp))
    }
    /// A boolean, stored as one (PostgreSQL) or as 0 and 1 (SQLite).
    pub(crate) fn flag(&self, idx: usize) -> Result<bool> {
        match self.0.value(idx)? {
            Value::Bool(b) => Ok(b),
            Value::Int(0) => Ok(false),
            Value::Int(1) => Ok(true),
            other => Err(unreadable(self.0, idx, &format!("expected a boolean, found {other:?}"))),
        }
    }
    /// An enum stored as its name.
    pub(crate) fn parse<T: std::str::FromStr<Err = Error>>(&self, idx: usize) -> Result<T> {
        let text = self.text(idx)?;
        text.parse().map_err(|e: Error| unreadable(self.0, idx, &e.to_string()))
    }
    pub(crate) fn opt_parse<T: std::str::FromStr<Err = Error>>(&self, idx: usize) -> Result<Option<T>> {
        self.opt_text(idx)?
            .map(|text| text.parse().map_err(|e: Error| unreadable(self.0, idx, &e.to_string())))
            .transpose()
    }
    /// A JSON document stored as text.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self, idx: usize) -> Result<Option<T>> {
        self.opt_text(idx)?
            .map(|t| serde_json::from_str(&t).map_err(|e| unreadable(self.0, idx, &format!("not valid JSON: {e}"))))
            .transpose()
    }
}

fn encode(what: &str, e: serde_json::Error) -> Error {
    Error::internal(format!("cannot encode {what} as JSON: {e}"))
}

/// A session from a row of [`crate::SESSION_COLS`].
pub fn session(row: &dyn Columns) -> Result<Session> {
    let c = Cells(row);
    Ok(Session {
        id: c.text(0)?.into(),
        project: c.text(1)?,
        agent: c.text(2)?,
        name: c.opt_text(3)?,
        role: c.opt_text(4)?,
        context: c.opt_text(5)?,
        task_ids: c.json::<Vec<String>>(6)?.unwrap_or_default(),
        status: c.parse(7)?,
        stale: false,
        git_branch: c.opt_text(8)?,
        git_commit: c.opt_text(9)?,
        worktree: c.opt_text(10)?,
        created_at: c.time(11)?,
        updated_at: c.time(12)?,
        last_seen: c.time(13)?,
        ended_at: c.opt_time(14)?,
        compaction_count: c.int(15)?,
        summary: c.opt_text(16)?,
        handoff: c.json::<Handoff>(17)?,
    })
}

/// A session's cells in the order of [`crate::SESSION_COLS`].
pub fn session_values(s: &Session) -> Result<Vec<Value>> {
    let task_ids = serde_json::to_string(&s.task_ids).map_err(|e| encode("task ids", e))?;
    let handoff = s
        .handoff
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| encode("a handoff", e))?;
    Ok(vec![
        s.id.as_str().into(),
        s.project.as_str().into(),
        s.agent.as_str().into(),
        s.name.clone().into(),
        s.role.clone().into(),
        s.context.clone().into(),
        task_ids.into(),
        s.status.as_str().into(),
        s.git_branch.clone().into(),
        s.git_commit.clone().into(),
        s.worktree.clone().into(),
        s.created_at.into(),
        s.updated_at.into(),
        s.last_seen.into(),
        s.ended_at.into(),
        s.compaction_count.into(),
        s.summary.clone().into(),
        handoff.into(),
    ])
}

/// A claim from a row of [`crate::CLAIM_COLS`].
pub fn claim(row: &dyn Columns) -> Result<Claim> {
    let c = Cells(row);
    Ok(Claim {
        id: c.text(0)?.into(),
        project: c.text(1)?,
        item_type: c.text(2)?,
        repo: c.text(3)?,
        item_id: c.text(4)?,
        token: c.int(5)?,
        session_id: c.text(6)?.into(),
        agent: c.text(7)?,
        state: c.parse(8)?,
        ttl_secs: c.int(9)?,
        granted_at: c.time(10)?,
        renewed_at: c.time(11)?,
        expires_at: c.time(12)?,
        ended_at: c.opt_time(13)?,
        release_status: c.opt_parse(14)?,
        notes: c.opt_text(15)?,
        loss_reported: c.flag(16)?,
        forced_by: c.opt_text(17)?,
    })
}

/// A claim's cells in the order of [`crate::CLAIM_COLS`].
pub fn claim_values(c: &Claim) -> Vec<Value> {
    vec![
        c.id.as_str().into(),
        c.project.as_str().into(),
        c.item_type.as_str().into(),
        c.repo.as_str().into(),
        c.item_id.as_str().into(),
        c.token.into(),
        c.session_id.as_str().into(),
        c.agent.as_str().into(),
        c.state.as_str().into(),
        c.ttl_secs.into(),
        c.granted_at.into(),
        c.renewed_at.into(),
        c.expires_at.into(),
        c.ended_at.into(),
        c.release_status.map(|r| r.as_str()).into(),
        c.notes.clone().into(),
        c.loss_reported.into(),
        c.forced_by.clone().into(),
    ]
}

/// A journal entry from a row of [`crate::ENTRY_COLS`].
pub fn entry(row: &dyn Columns) -> Result<JournalEntry> {
    let c = Cells(row);
    Ok(JournalEntry {
        id: c.text(0)?.into(),
        session_id: c.text(1)?.into(),
        kind: c.parse(2)?,
        text: c.text(3)?,
        rationale: c.opt_text(4)?,
        created_at: c.time(5)?,
        supersedes: c.opt_text(6)?.map(Into::into),
    })
}

/// A journal entry's cells in the order of [`crate::ENTRY_COLS`].
pub fn entry_values(e: &JournalEntry) -> Vec<Value> {
    vec![
        e.id.as_str().into(),
        e.session_id.as_str().into(),
        e.kind.as_str().into(),
        e.text.as_str().into(),
        e.rationale.clone().into(),
        e.created_at.into(),
        e.supersedes.as_deref().into(),
    ]
}

/// A decision from a row of [`crate::ENTRY_COLS`] followed by its session's agent and the id of the entry
/// that superseded it (or NULL).
pub fn decision(row: &dyn Columns) -> Result<DecisionRow> {
    let n = crate::ENTRY_COLS.split(", ").count();
    let c = Cells(row);
    Ok(DecisionRow {
        entry: entry(row)?,
        agent: c.text(n)?,
        superseded_by: c.opt_text(n + 1)?.map(Into::into),
    })
}

/// A search hit from a row of [`crate::SEARCH_HIT_COLS`].
pub fn search_hit(row: &dyn Columns) -> Result<SearchHit> {
    let c = Cells(row);
    Ok(SearchHit {
        kind: c.parse(0)?,
        id: c.text(1)?,
        entry_kind: c.opt_parse(2)?,
        session_id: c.text(3)?.into(),
        agent: c.text(4)?,
        time: c.time(5)?,
        snippet: c.opt_text(6)?.unwrap_or_default(),
        rank: c.real(7)?,
    })
}

/// An event from a row of [`crate::EVENT_COLS`].
pub fn event(row: &dyn Columns) -> Result<Event> {
    let c = Cells(row);
    Ok(Event {
        seq: c.int(0)?,
        time: c.time(1)?,
        project: c.text(2)?,
        agent: c.text(3)?,
        session_id: c.opt_text(4)?.map(Into::into),
        kind: c.text(5)?,
        target: c.text(6)?,
        data: c.json::<serde_json::Value>(7)?.unwrap_or(serde_json::Value::Null),
    })
}

/// A new event's cells in the order of [`crate::NEW_EVENT_COLS`].
pub fn new_event_values(e: &NewEvent) -> Result<Vec<Value>> {
    let data = serde_json::to_string(&e.data).map_err(|err| encode("event data", err))?;
    Ok(vec![
        e.time.into(),
        e.project.as_str().into(),
        e.agent.as_str().into(),
        e.session_id.as_deref().into(),
        e.kind.into(),
        e.target.as_str().into(),
        data.into(),
    ])
}

/// An idempotency record from a row of [`crate::IDEMPOTENCY_COLS`].
pub fn idempotency(row: &dyn Columns) -> Result<IdempotencyRecord> {
    let c = Cells(row);
    Ok(IdempotencyRecord {
        project: c.text(0)?,
        scope: c.text(1)?,
        key: c.text(2)?,
        command: c.text(3)?,
        request: c.text(4)?,
        result: c.text(5)?,
        created_at: c.time(6)?,
    })
}

/// An idempotency record's cells in the order of [`crate::IDEMPOTENCY_COLS`].
pub fn idempotency_values(r: &IdempotencyRecord) -> Vec<Value> {
    vec![
        r.project.as_str().into(),
        r.scope.as_str().into(),
        r.key.as_str().into(),
        r.command.as_str().into(),
        r.request.as_str().into(),
        r.result.as_str().into(),
        r.created_at.into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::model::{ClaimState, EntryKind, ReleaseStatus, SessionStatus};

    /// A row held as the values a store would read back.
    struct Cells(Vec<Value>, &'static str);

    impl Columns for Cells {
        fn value(&self, idx: usize) -> Result<Value> {
            Ok(self.0[idx].clone())
        }
        fn name(&self, idx: usize) -> String {
            self.1.split(", ").nth(idx).unwrap_or("?").to_string()
        }
    }

    fn sample_session() -> Session {
        Session {
            id: "s1".into(),
            project: "p".into(),
            agent: "a".into(),
            name: Some("n".into()),
            role: None,
            context: None,
            task_ids: vec!["t1".into()],
            status: SessionStatus::Paused,
            stale: false,
            git_branch: None,
            git_commit: Some("abc".into()),
            worktree: None,
            created_at: Timestamp(1),
            updated_at: Timestamp(2),
            last_seen: Timestamp(3),
            ended_at: None,
            compaction_count: 4,
            summary: None,
            handoff: None,
        }
    }

    #[test]
    fn a_session_reads_back_as_written() {
        let s = sample_session();
        let values = session_values(&s).unwrap();
        assert_eq!(values.len(), crate::SESSION_COLS.split(", ").count());
        assert_eq!(session(&Cells(values, crate::SESSION_COLS)).unwrap(), s);
    }

    #[test]
    fn a_claim_reads_back_as_written_with_either_boolean() {
        let c = Claim {
            id: "c1".into(),
            project: "p".into(),
            item_type: "issue".into(),
            repo: "r".into(),
            item_id: "1".into(),
            token: 7,
            session_id: "s1".into(),
            agent: "a".into(),
            state: ClaimState::Released,
            ttl_secs: 60,
            granted_at: Timestamp(1),
            renewed_at: Timestamp(2),
            expires_at: Timestamp(3),
            ended_at: Some(Timestamp(4)),
            release_status: Some(ReleaseStatus::Deferred),
            notes: None,
            loss_reported: true,
            forced_by: None,
        };
        let mut values = claim_values(&c);
        assert_eq!(values.len(), crate::CLAIM_COLS.split(", ").count());
        assert_eq!(claim(&Cells(values.clone(), crate::CLAIM_COLS)).unwrap(), c);
        values[16] = Value::Int(1);
        assert_eq!(claim(&Cells(values, crate::CLAIM_COLS)).unwrap(), c);
    }

    #[test]
    fn an_entry_reads_back_as_written() {
        let e = JournalEntry {
            id: "e1".into(),
            session_id: "s1".into(),
            kind: EntryKind::Decision,
            text: "t".into(),
            rationale: Some("why".into()),
            created_at: Timestamp(9),
            supersedes: Some("e0".into()),
        };
        let values = entry_values(&e);
        assert_eq!(values.len(), crate::ENTRY_COLS.split(", ").count());
        assert_eq!(entry(&Cells(values, crate::ENTRY_COLS)).unwrap(), e);
    }

    #[test]
    fn a_decision_and_a_search_hit_read_from_their_cells() {
        let e = JournalEntry {
            id: "e2".into(),
            session_id: "s1".into(),
            kind: EntryKind::Decision,
            text: "t".into(),
            rationale: None,
            created_at: Timestamp(9),
            supersedes: None,
        };
        let mut values = entry_values(&e);
        values.extend([Value::Text("alice".into()), Value::Text("e3".into())]);
        let d = decision(&Cells(
            values,
            "id, session_id, kind, text, rationale, created_at, supersedes, agent, by",
        ))
        .unwrap();
        assert_eq!(
            (d.entry, d.agent.as_str(), d.superseded_by),
            (e, "alice", Some("e3".into()))
        );

        let cells = vec![
            Value::Text("decision".into()),
            Value::Text("e2".into()),
            Value::Text("decision".into()),
            Value::Text("s1".into()),
            Value::Text("alice".into()),
            Value::Int(9),
            Value::Text("use [jwt]".into()),
            Value::Real(1.5),
        ];
        let hit = search_hit(&Cells(cells.clone(), crate::SEARCH_HIT_COLS)).unwrap();
        assert_eq!(
            (hit.kind.as_str(), hit.entry_kind, hit.rank),
            ("decision", Some(EntryKind::Decision), 1.5)
        );
        let mut handoff = cells;
        handoff[0] = Value::Text("handoff".into());
        handoff[2] = Value::Null;
        handoff[7] = Value::Text("high".into());
        let err = search_hit(&Cells(handoff, crate::SEARCH_HIT_COLS)).unwrap_err();
        assert!(err.to_string().contains("stored rank is unreadable"), "{err}");
    }

    #[test]
    fn an_idempotency_record_reads_back_as_written() {
        let r = IdempotencyRecord {
            project: "p".into(),
            scope: "agent:a".into(),
            key: "k".into(),
            command: "claim".into(),
            request: "{}".into(),
            result: "{}".into(),
            created_at: Timestamp(5),
        };
        let values = idempotency_values(&r);
        assert_eq!(values.len(), crate::IDEMPOTENCY_COLS.split(", ").count());
        assert_eq!(idempotency(&Cells(values, crate::IDEMPOTENCY_COLS)).unwrap(), r);
    }

    #[test]
    fn a_malformed_cell_names_its_column() {
        let mut values = session_values(&sample_session()).unwrap();
        values[7] = Value::Text("sleeping".into());
        let err = session(&Cells(values.clone(), crate::SESSION_COLS)).unwrap_err();
        assert!(err.to_string().contains("stored status is unreadable"), "{err}");
        values[7] = Value::Text("active".into());
        values[6] = Value::Text("[not json".into());
        let err = session(&Cells(values, crate::SESSION_COLS)).unwrap_err();
        assert!(
            err.to_string()
                .contains("stored task_ids is unreadable: not valid JSON"),
            "{err}"
        );
    }
}
