//! A schema written by an older baton migrates and keeps what it held. Needs a server: set
//! `BATON_TEST_DATABASE_URL` (for example `postgres://postgres@127.0.0.1:5432/test`); each test works in a fresh
//! schema. Without it `cargo test` lists them as ignored, with the reason, except in CI (`CI=true`), where they fail.

use std::sync::atomic::{AtomicU32, Ordering};

use baton_core::config::Policy;
use baton_core::store;
use baton_core::{Baton, Caller, Project};
use baton_postgres::PgStore;

/// The migrations up to schema version 5, the last without a table of imported documents' fields.
const UP_TO_V5: [&str; 5] = [
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_event_seq_sequence.sql"),
    include_str!("../migrations/0003_indexes_of_open_rows.sql"),
    include_str!("../migrations/0004_idempotency_by_caller.sql"),
    include_str!("../migrations/0005_forced_releases.sql"),
];

/// A fresh schema in the test database, dropped at the end of the test.
struct TestDb {
    url: String,
    schema: String,
}

impl TestDb {
    fn new() -> TestDb {
        let url = std::env::var("BATON_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .expect(
                "BATON_TEST_DATABASE_URL is not set, yet these tests were built to run on PostgreSQL \
                 (the variable was set at build time, or CI=true, where they must not be skipped)",
            );
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let schema = format!(
            "baton_migr_{}_{}_{}",
            std::process::id(),
            nanos,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        TestDb { url, schema }
    }

    /// A connection working in the test schema, at schema version 5.
    fn at_version_five(&self) -> postgres::Client {
        let mut client = postgres::Client::connect(&self.url, postgres::NoTls).expect("connect");
        client
            .batch_execute(&format!(
                "CREATE SCHEMA \"{0}\"; SET search_path TO \"{0}\";
                 CREATE TABLE baton_schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL);",
                self.schema
            ))
            .expect("an empty schema");
        for (i, sql) in UP_TO_V5.iter().enumerate() {
            client.batch_execute(sql).expect("an older migration");
            client
                .execute("INSERT INTO baton_schema_version VALUES ($1, 0)", &[&(i as i32 + 1)])
                .expect("record its version");
        }
        client
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.schema));
        }
    }
}

/// Sessions imported by a baton that kept a document's extra fields only in the import event: migrating copies
/// each session's newest import that carried fields, as written (key order included, which `jsonb` would lose),
/// and documents read them from the new table.
#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn a_version_five_schema_keeps_the_fields_of_its_imported_documents() {
    const A: &str = "019a6f3e-8c1d-7b2a-9f00-00000000000a";
    const B: &str = "019a6f3e-8c1d-7b2a-9f00-00000000000b";
    const C: &str = "019a6f3e-8c1d-7b2a-9f00-00000000000c";
    const D: &str = "019a6f3e-8c1d-7b2a-9f00-00000000000d";
    const E: &str = "019a6f3e-8c1d-7b2a-9f00-00000000000e";
    let document = r#"{"title":"Login flow","linear":{"url":"https://linear.app/a/APP-7","issue":"APP-7"},"zeta":1.5,"alpha":-7,"note":"na\u00efve \"q\" \u001f"}"#;
    let db = TestDb::new();
    let mut client = db.at_version_five();
    for (i, id) in [A, B, C, D, E].iter().enumerate() {
        client
            .execute(
                "INSERT INTO sessions (id, project, agent, status, created_at, updated_at, last_seen)
                 VALUES ($1, 'acme/app', 'alice', 'paused', $2, $2, $2)",
                &[id, &(i as i64 + 1)],
            )
            .expect("a session");
    }
    let import =
        |doc: &str| format!(r#"{{"layout":"agents","source":"x.md","status":"paused","entries":0,"document":{doc}}}"#);
    for (project, session, kind, data) in [
        ("acme/app", A, "session.imported", import(document)),
        (
            "acme/app",
            A,
            "journal.note",
            r#"{"document":{"title":"not an import"}}"#.to_string(),
        ),
        // B was imported twice: the newer import wins, and one without fields does not undo it.
        ("acme/app", B, "session.imported", import(r#"{"title":"first"}"#)),
        ("acme/app", B, "session.imported", import(r#"{"title":"second"}"#)),
        ("acme/app", B, "session.imported", import("null")),
        ("acme/app", C, "session.imported", import("null")),
        // An import recorded in another project than the session's is not the session's.
        ("acme/other", D, "session.imported", import(r#"{"title":"elsewhere"}"#)),
        ("acme/app", E, "session.imported", "not json".to_string()),
    ] {
        client
            .execute(
                "INSERT INTO events (seq, time, project, agent, session_id, kind, target, data)
                 VALUES (baton_next_event_seq(), 1, $1, 'alice', $2, $3, $2, $4)",
                &[&project, &session, &kind, &data],
            )
            .expect("an event");
    }
    drop(client);

    let store = PgStore::open_in_schema(&db.url, &db.schema).expect("open and migrate");
    assert_eq!(
        baton_core::integrity::problems(&store).expect("check"),
        Vec::<String>::new()
    );
    let found = store::read(&store, |tx| {
        [A, B, C, D, E]
            .iter()
            .map(|id| Ok(tx.session_document(id)?.map(|d| d.to_string())))
            .collect::<baton_core::Result<Vec<_>>>()
    })
    .expect("read");
    let parsed: serde_json::Value = serde_json::from_str(document).expect("the document");
    assert_eq!(
        found,
        [
            Some(parsed.to_string()),
            Some(r#"{"title":"second"}"#.to_string()),
            None,
            None,
            None
        ]
    );
    assert!(
        parsed
            .to_string()
            .starts_with(r#"{"title":"Login flow","linear":{"url""#)
    );

    // What a document is rendered from reads the migrated row.
    let baton = Baton::new(Box::new(store), Policy::default());
    let alice = Caller {
        project: Project {
            key: "acme/app".into(),
            repo: "acme/app".into(),
            git: None,
        },
        agent: "alice".into(),
        session: None,
    };
    let source = baton.document_source(&alice, A).expect("the document source");
    assert_eq!(source.document, Some(parsed));
}
