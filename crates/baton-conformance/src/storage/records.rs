//! Idempotency records and session documents at the storage level, and what a failed transaction leaves.

use baton_core::{Error, IdempotencyRecord};
use serde_json::json;

use super::*;

fn record(scope: &str, key: &str, result: &str) -> IdempotencyRecord {
    IdempotencyRecord {
        project: PROJECT.into(),
        scope: scope.into(),
        key: key.into(),
        command: "claim".into(),
        request: r#"{"item_type":"issue","item_id":"7"}"#.into(),
        result: result.into(),
        created_at: at(0),
    }
}

/// A record reads back exactly by project, scope and key; the same key in another scope or project is
/// another record; a second record for the same project, scope and key is refused as a conflict (exit 3)
/// and the first stays.
pub fn store_idempotency_records_are_kept_once_per_caller_and_key(make: &MakeStore) {
    let store = open(make);
    let mine = record("session:s1", "k1", r#"{"claimed":true}"#);
    let theirs = record("session:s2", "k1", r#"{"claimed":false}"#);
    let mut elsewhere = record("session:s1", "k1", "{}");
    elsewhere.project = "github.com/org/other".into();
    write(&*store, |tx| {
        tx.put_idempotency(&mine)?;
        tx.put_idempotency(&theirs)?;
        tx.put_idempotency(&elsewhere)?;
        assert_eq!(
            tx.idempotency(PROJECT, "session:s1", "k1")?,
            Some(mine.clone()),
            "read in its own transaction"
        );
        Ok(())
    });
    read(&*store, |tx| {
        assert_eq!(tx.idempotency(PROJECT, "session:s1", "k1")?, Some(mine.clone()));
        assert_eq!(tx.idempotency(PROJECT, "session:s2", "k1")?, Some(theirs.clone()));
        assert_eq!(
            tx.idempotency("github.com/org/other", "session:s1", "k1")?,
            Some(elsewhere.clone())
        );
        assert_eq!(tx.idempotency(PROJECT, "session:s1", "k2")?, None);
        assert_eq!(tx.idempotency(PROJECT, "import", "k1")?, None);
        Ok(())
    });
    refused(&*store, "a second record for one caller and key", 3, |tx| {
        tx.put_idempotency(&record("session:s1", "k1", r#"{"claimed":"twice"}"#))
    });
    read(&*store, |tx| {
        assert_eq!(
            tx.idempotency(PROJECT, "session:s1", "k1")?,
            Some(mine.clone()),
            "the first record stays"
        );
        Ok(())
    });
}

/// A session's document reads back as the same value with its keys in the same order; putting one again
/// replaces it; a session without one has none.
pub fn store_session_documents_are_replaced_and_read_by_key(make: &MakeStore) {
    let store = open(make);
    let first = json!({"title": "Login", "zeta": [1, 2.5, null], "alpha": {"b": "naïve \"x\"", "a": false}});
    let second = json!({"title": "Login, again"});
    write(&*store, |tx| tx.put_session_document("s1", &first));
    read(&*store, |tx| {
        let got = tx.session_document("s1")?.expect("the document");
        assert_eq!(got.to_string(), first.to_string(), "the same value, keys in order");
        assert_eq!(tx.session_document("s2")?, None);
        Ok(())
    });
    write(&*store, |tx| {
        tx.put_session_document("s1", &second)?;
        assert_eq!(
            tx.session_document("s1")?,
            Some(second.clone()),
            "read in its own transaction"
        );
        Ok(())
    });
    read(&*store, |tx| {
        assert_eq!(tx.session_document("s1")?, Some(second.clone()), "replaced");
        Ok(())
    });
}

/// A write transaction whose closure fails keeps none of its writes, of any kind.
pub fn store_a_failed_transaction_keeps_nothing(make: &MakeStore) {
    let store = open(make);
    refused(&*store, "a transaction whose closure fails", 2, |tx| {
        tx.insert_session(&session("s1", PROJECT, "claude-code", 0))?;
        tx.insert_claim(&grant("c1", &item("issue", "7"), 1, "s1", 0))?;
        tx.put_idempotency(&record("session:s1", "k1", "{}"))?;
        tx.put_session_document("s1", &json!({"title": "x"}))?;
        tx.append_event(&baton_core::NewEvent {
            time: at(0),
            project: PROJECT.into(),
            agent: "claude-code".into(),
            session_id: Some("s1".into()),
            kind: "session.started",
            target: "s1".into(),
            data: json!({}),
        })?;
        Err::<(), _>(Error::bad_input("the closure gives up"))
    });
    read(&*store, |tx| {
        assert_eq!(tx.session("s1")?, None);
        assert_eq!(tx.latest_claim(&item("issue", "7"))?, None);
        assert_eq!(tx.idempotency(PROJECT, "session:s1", "k1")?, None);
        assert_eq!(tx.session_document("s1")?, None);
        assert_eq!(tx.last_seq()?, 0);
        Ok(())
    });
}
