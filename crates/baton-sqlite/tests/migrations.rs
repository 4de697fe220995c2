//! A database written by an older baton opens, migrates and keeps everything it held.

use baton_core::config::Policy;
use baton_core::model::{ClaimState, ItemKey, ReleaseStatus};
use baton_core::store;
use baton_core::{Baton, Caller, Project, ReleaseRequest};
use baton_sqlite::SqliteStore;

const V1: &str = include_str!("../migrations/0001_init.sql");
/// The migrations up to schema version 4, the last without a table of imported documents' fields.
const UP_TO_V4: [&str; 4] = [
    V1,
    include_str!("../migrations/0002_claims_by_item.sql"),
    include_str!("../migrations/0003_idempotency_by_caller.sql"),
    include_str!("../migrations/0004_forced_releases.sql"),
];

fn key(item_id: &str) -> ItemKey {
    ItemKey {
        project: "acme/app".into(),
        item_type: "task".into(),
        repo: "acme/app".into(),
        item_id: item_id.into(),
    }
}

#[test]
fn a_version_one_database_keeps_its_claims_and_takes_new_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("baton.db");
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch("PRAGMA journal_mode = WAL;").expect("wal");
        conn.execute_batch(V1).expect("schema version 1");
        conn.execute_batch(
            "PRAGMA user_version = 1;
             INSERT INTO sessions (id, project, agent, task_ids, status, created_at, updated_at, last_seen)
             VALUES ('019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b', 'acme/app', 'alice', '[]', 'active', 1, 1, 9000000000000000);
             INSERT INTO claims (id, project, item_type, repo, item_id, token, session_id, agent, state, ttl_secs,
                                 granted_at, renewed_at, expires_at, ended_at, release_status, notes, loss_reported)
             VALUES ('c1', 'acme/app', 'task', 'acme/app', '7', 1, '019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b', 'alice', 'released', 60,
                     1, 1, 61000000, 2, 'completed', 'first pass', 0),
                    ('c2', 'acme/app', 'task', 'acme/app', '7', 2, '019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b', 'alice', 'held', 1800,
                     3, 3, 9000000000000000, NULL, NULL, NULL, 0);
             INSERT INTO idempotency (project, key, command, request, result, created_at)
             VALUES ('acme/app', 'conversation-1', 'session start', '{}',
                     '{\"session_id\":\"019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b\",\"session\":{\"id\":\"019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b\",\"agent\":\"alice\"}}', 1),
                    ('acme/app', 'claim-7', 'claim', '{}',
                     '{\"claimed\":true,\"claim\":{\"session_id\":\"019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b\"}}', 3),
                    ('acme/app', 'import:00ff', 'session import', '{}', '{\"session_id\":\"x\"}', 4),
                    ('acme/app', 'forced-1', 'release', '{\"force\":true}', '{\"claim\":{\"session_id\":\"victim\"}}', 5),
                    ('acme/app', 'torn-1', 'claim', '{}', 'not json', 6);",
        )
        .expect("rows of an older baton");
    }

    let store = SqliteStore::open(&path).expect("open and migrate");
    assert_eq!(
        baton_core::integrity::problems(&store).expect("check"),
        Vec::<String>::new()
    );
    let held = store::read(&store, |tx| tx.latest_claim(&key("7")))
        .expect("read")
        .expect("the held claim survived");
    assert_eq!((held.id.as_str(), held.token, held.state), ("c2", 2, ClaimState::Held));
    let first = store::read(&store, |tx| {
        tx.session_claim_on(&key("7"), "019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b")
    })
    .expect("read");
    assert_eq!(first.map(|c| c.token), Some(2));
    // Idempotency records now belong to the caller their stored result names.
    let scopes = store::read(&store, |tx| {
        Ok([
            ("agent:alice", "conversation-1"),
            ("session:019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b", "claim-7"),
            ("import", "import:00ff"),
            ("legacy", "forced-1"),
            ("legacy", "torn-1"),
        ]
        .map(|(scope, key)| tx.idempotency("acme/app", scope, key).map(|r| r.map(|r| r.command))))
    })
    .expect("read");
    let commands: Vec<Option<String>> = scopes.into_iter().map(|r| r.expect("read a record")).collect();
    assert_eq!(
        commands,
        [
            Some("session start".into()),
            Some("claim".into()),
            Some("session import".into()),
            Some("release".into()),
            Some("claim".into()),
        ]
    );

    // The rules work on the migrated rows: the holder releases, and the database still refuses two holders.
    let baton = Baton::new(Box::new(store), Policy::default());
    let alice = Caller {
        project: Project {
            key: "acme/app".into(),
            repo: "acme/app".into(),
            git: None,
        },
        agent: "alice".into(),
        session: Some("019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b".into()),
    };
    let released = baton
        .release(
            &alice,
            ReleaseRequest {
                item_type: "task".into(),
                item_id: "7".into(),
                repo: None,
                status: ReleaseStatus::Completed.into(),
                notes: None,
                force: false,
                reason: None,
                token: None,
                idempotency_key: None,
            },
        )
        .expect("release the migrated claim");
    assert_eq!((released.claim.token, released.claim.state), (2, ClaimState::Released));
    let conn = rusqlite::Connection::open(&path).expect("open");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, 8);
    let second_holder = conn.execute(
        "INSERT INTO claims (project, item_type, repo, item_id, token, id, session_id, agent, state, ttl_secs,
                             granted_at, renewed_at, expires_at)
         VALUES ('acme/app', 'task', 'acme/app', '8', 1, 'x1', '019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b', 'alice', 'held', 60, 1, 1, 2),
                ('acme/app', 'task', 'acme/app', '8', 2, 'x2', '019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b', 'alice', 'held', 60, 1, 1, 2)",
        [],
    );
    assert!(second_holder.is_err(), "two holders of one item must be refused");
}

/// Sessions imported by a baton that kept a document's extra fields only in the import event: migrating copies
/// each session's newest import that carried fields, as written (key order included), and documents read them
/// from the new table.
#[test]
fn a_version_four_database_keeps_the_fields_of_its_imported_documents() {
    const A: &str = "019a6f3e-8c1d-7b2a-9f00-00000000000a";
    const B: &str = "019a6f3e-8c1d-7b2a-9f00-00000000000b";
    const C: &str = "019a6f3e-8c1d-7b2a-9f00-00000000000c";
    const D: &str = "019a6f3e-8c1d-7b2a-9f00-00000000000d";
    const E: &str = "019a6f3e-8c1d-7b2a-9f00-00000000000e";
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("baton.db");
    let document = r#"{"title":"Login flow","linear":{"url":"https://linear.app/a/APP-7","issue":"APP-7"},"zeta":1.5,"alpha":-7,"note":"na\u00efve \"q\" \u001f"}"#;
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch("PRAGMA journal_mode = WAL;").expect("wal");
        for (i, sql) in UP_TO_V4.iter().enumerate() {
            conn.execute_batch(sql).expect("an older migration");
            conn.pragma_update(None, "user_version", (i + 1) as i64)
                .expect("version");
        }
        let mut session = conn
            .prepare(
                "INSERT INTO sessions (id, project, agent, task_ids, status, created_at, updated_at, last_seen)
                 VALUES (?1, 'acme/app', 'alice', '[]', 'paused', ?2, ?2, ?2)",
            )
            .expect("prepare");
        for (i, id) in [A, B, C, D, E].iter().enumerate() {
            session.execute(rusqlite::params![id, i as i64 + 1]).expect("a session");
        }
        let mut event = conn
            .prepare(
                "INSERT INTO events (time, project, agent, session_id, kind, target, data)
                 VALUES (1, ?1, 'alice', ?2, ?3, ?2, ?4)",
            )
            .expect("prepare");
        let import = |doc: &str| {
            format!(r#"{{"layout":"agents","source":"x.md","status":"paused","entries":0,"document":{doc}}}"#)
        };
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
            event
                .execute(rusqlite::params![project, session, kind, data])
                .expect("an event");
        }
    }

    let store = SqliteStore::open(&path).expect("open and migrate");
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
    let conn = rusqlite::Connection::open(&path).expect("open");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, 8);
}

/// A version-5 database (before decisions could be superseded and before search) gets the `supersedes`
/// column, and its existing entries and handoffs are found by search.
#[test]
fn a_version_five_database_finds_its_old_entries_and_handoffs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("baton.db");
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch("PRAGMA journal_mode = WAL;").expect("wal");
        for sql in UP_TO_V4 {
            conn.execute_batch(sql).expect("an older schema");
        }
        conn.execute_batch(include_str!("../migrations/0005_session_documents.sql"))
            .expect("schema version 5");
        conn.execute_batch(
            "PRAGMA user_version = 5;
             INSERT INTO sessions (id, project, agent, task_ids, status, created_at, updated_at, last_seen, ended_at,
                                   summary, handoff)
             VALUES ('019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b', 'acme/app', 'alice', '[]', 'completed', 1, 2, 2, 2,
                     'billing done', '{\"notes\":\"invoices next\",\"done\":[],\"next\":[\"refunds\"],\"blockers\":[]}');
             INSERT INTO journal_entries (id, session_id, kind, text, rationale, created_at)
             VALUES ('019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a01', '019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b', 'decision',
                     'JWT for tokens', 'stateless', 1);",
        )
        .expect("rows of an older baton");
    }
    let store = SqliteStore::open(&path).expect("open and migrate");
    assert_eq!(
        baton_core::integrity::problems(&store).expect("check"),
        Vec::<String>::new()
    );
    let search = |words: &[&str]| {
        store::read(&store, |tx| {
            tx.search(&baton_core::store::SearchQuery {
                project: "acme/app".into(),
                words: words.iter().map(|w| w.to_string()).collect(),
                kinds: vec![],
                limit: 10,
            })
        })
        .expect("search")
        .into_iter()
        .map(|h| h.kind.as_str())
        .collect::<Vec<_>>()
    };
    assert_eq!(search(&["stateless"]), ["decision"]);
    assert_eq!(search(&["refunds"]), ["handoff"]);
    assert_eq!(search(&["invoices", "billing"]), ["handoff"]);
    let entry = store::read(&store, |tx| {
        tx.entry_with_project("019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a01")
    })
    .expect("read")
    .expect("the old entry");
    assert_eq!((entry.0.supersedes, entry.1.as_str()), (None, "acme/app"));
}
