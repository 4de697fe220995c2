//! A database written by an older baton opens, migrates and keeps everything it held.

use baton_core::config::Policy;
use baton_core::model::{ClaimState, ItemKey, ReleaseStatus};
use baton_core::store::{self, Store};
use baton_core::{Baton, Caller, Project, ReleaseRequest};
use baton_sqlite::SqliteStore;

const V1: &str = include_str!("../migrations/0001_init.sql");

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
    assert_eq!(store.integrity_check().expect("check"), Vec::<String>::new());
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
                status: ReleaseStatus::Completed,
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
    assert_eq!(version, 4);
    let second_holder = conn.execute(
        "INSERT INTO claims (project, item_type, repo, item_id, token, id, session_id, agent, state, ttl_secs,
                             granted_at, renewed_at, expires_at)
         VALUES ('acme/app', 'task', 'acme/app', '8', 1, 'x1', '019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b', 'alice', 'held', 60, 1, 1, 2),
                ('acme/app', 'task', 'acme/app', '8', 2, 'x2', '019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b', 'alice', 'held', 60, 1, 1, 2)",
        [],
    );
    assert!(second_holder.is_err(), "two holders of one item must be refused");
}
