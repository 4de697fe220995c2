//! Imported documents: the fields a document carried that baton has no column for are kept with the session,
//! written in the import's transaction and read back by the session's id, exactly as they were given.

use baton_core::import::{ImportedEntry, ImportedSession};
use baton_core::store::{self, EventQuery};
use baton_core::{EntryKind, Error, SessionId, SessionStatus, StartRequest, Timestamp};
use serde_json::{Value, json};

use crate::harness::*;

/// A document's fields beyond baton's columns, with keys out of alphabetical order (their order is shown in
/// the rendered document), nesting, numbers and text a careless store would change.
fn extras() -> Value {
    json!({
        "title": "Login flow",
        "linear": {"url": "https://linear.app/acme/issue/APP-7", "issue": "APP-7"},
        "spawned": [{"name": "tester", "task": "write the tests", "done": false}],
        "zeta": 1.5,
        "alpha": -7,
        "note": "naïve \"quoted\" \u{1f} line\nbreak",
    })
}

fn imported(key: &str, document: Value) -> ImportedSession {
    ImportedSession {
        id: None,
        key: format!("agents:{key}"),
        agent: Some("claude-code".into()),
        name: Some("login".into()),
        role: None,
        context: Some("make login work".into()),
        task_ids: vec![],
        status: SessionStatus::Paused,
        git_branch: None,
        git_commit: None,
        created_at: Timestamp(EPOCH.micros() - 3_600_000_000),
        updated_at: Timestamp(EPOCH.micros() - 1_800_000_000),
        ended_at: None,
        compaction_count: 0,
        summary: None,
        handoff: None,
        entries: vec![ImportedEntry {
            id: None,
            kind: EntryKind::Progress,
            text: "form renders".into(),
            rationale: None,
            created_at: Timestamp(EPOCH.micros() - 3_000_000_000),
        }],
        layout: "agents".into(),
        source: format!(".agents/sessions/{key}"),
        document,
    }
}

/// What an import carried beyond baton's columns comes back with the session, the same value with its keys
/// in the same order, from `document_source` and `document_sources` alike; a session imported without any,
/// or started here, has none. Importing the document again, edited, keeps what the first import stored,
/// and the import event still shows the fields.
pub fn imported_document_fields_are_kept_with_the_session(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    let with = ok(h
        .baton
        .import_session(&me, imported("20251231-230000-login.md", extras())));
    let mut plain = imported("20251231-231000-plain.md", Value::Null);
    plain.created_at = Timestamp(plain.created_at.micros() + 600_000_000);
    let without = ok(h.baton.import_session(&me, plain));
    let started = h.start(&me).session_id;
    h.start(&other_project("claude-code"));

    let doc = |id: &str| ok(h.baton.document_source(&me, id)).document;
    let got = doc(&with.session_id).expect("the imported fields");
    assert_eq!(got, extras());
    assert_eq!(got.to_string(), extras().to_string(), "keys keep their order");
    assert_eq!(doc(&without.session_id), None);
    assert_eq!(doc(&started), None);

    let all = ok(h.baton.document_sources(&me));
    let by_id: Vec<(SessionId, Option<String>)> = all
        .iter()
        .map(|s| (s.context.session.id.clone(), s.document.as_ref().map(Value::to_string)))
        .collect();
    assert_eq!(
        by_id,
        [
            (with.session_id.clone(), Some(extras().to_string())),
            (without.session_id.clone(), None),
            (started.clone(), None),
        ]
    );

    let mut edited = imported("20251231-230000-login.md", json!({"title": "Renamed"}));
    edited.context = Some("edited since".into());
    let again = ok(h.baton.import_session(&me, edited));
    assert!(!again.imported);
    assert_eq!(again.session_id, with.session_id);
    assert_eq!(doc(&with.session_id), Some(extras()));

    let events = ok(store::read(h.baton.store(), |tx| {
        tx.events(&EventQuery {
            project: Some(PROJECT.into()),
            kind: Some("session.imported".into()),
            limit: 10,
            ..Default::default()
        })
    }));
    let shown: Vec<(Option<SessionId>, Value)> = events
        .into_iter()
        .map(|e| (e.session_id, e.data["document"].clone()))
        .collect();
    assert_eq!(
        shown,
        [
            (Some(with.session_id), extras()),
            (Some(without.session_id), Value::Null)
        ]
    );
}

/// The storage primitive: a session's fields are found by its id alone, a second write replaces the first,
/// other sessions are untouched, and a write transaction that fails keeps nothing of what it wrote.
pub fn session_documents_are_read_by_key_and_written_with_their_transaction(make: &MakeStore) {
    let h = Harness::open(make);
    let a = ok(h.baton.start_session(&caller("alice"), StartRequest::default())).session_id;
    let b = ok(h.baton.start_session(&caller("bob"), StartRequest::default())).session_id;
    let read = |id: &str| ok(store::read(h.baton.store(), |tx| tx.session_document(id)));
    assert_eq!(read(&a), None);
    assert_eq!(read(UNKNOWN_SESSION), None);

    ok(store::write(h.baton.store(), |tx| {
        tx.put_session_document(&a, &extras())
    }));
    assert_eq!(read(&a).map(|d| d.to_string()), Some(extras().to_string()));
    assert_eq!(read(&b), None);

    ok(store::write(h.baton.store(), |tx| {
        tx.put_session_document(&b, &json!({"title": "Bob's"}))
    }));
    ok(store::write(h.baton.store(), |tx| {
        tx.put_session_document(&a, &json!({"title": "Replaced"}))
    }));
    assert_eq!(read(&a), Some(json!({"title": "Replaced"})));
    assert_eq!(read(&b), Some(json!({"title": "Bob's"})));

    // Seen by the transaction that wrote it, and gone with it when it fails.
    let failed = h.baton.store().write(&mut |tx| {
        tx.put_session_document(&a, &json!({"title": "Lost"}))?;
        tx.put_session_document(UNKNOWN_SESSION, &json!({"title": "Lost too"}))?;
        assert_eq!(tx.session_document(&a)?, Some(json!({"title": "Lost"})));
        Err(Error::bad_input("refused after the writes"))
    });
    expect_err(failed, 2, &["refused after the writes"], "a failed write");
    assert_eq!(read(&a), Some(json!({"title": "Replaced"})));
    assert_eq!(read(UNKNOWN_SESSION), None);
}
