//! Import and render against a real store (SQLite), in process: what `baton doc import` and `baton doc render`
//! do, without spawning the binary for every case.

use baton_core::config::Policy;
use baton_core::import::{ImportedEntry, ImportedSession};
use baton_core::{Baton, Caller, EntryKind, Project, SessionStatus, Timestamp};
use baton_docs::{Layout, render};

fn baton(dir: &std::path::Path) -> (Baton, Caller) {
    let store = baton_sqlite::SqliteStore::open(&dir.join("baton.db")).expect("open store");
    let caller = Caller {
        project: Project::resolve(dir, None, Some("github.com/org/app")),
        agent: "tester".to_string(),
        session: None,
    };
    (Baton::new(Box::new(store), Policy::default()), caller)
}

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn long_session(entries: usize) -> ImportedSession {
    ImportedSession {
        id: None,
        key: "agents:20261001-090000-long.md".to_string(),
        agent: Some("claude".to_string()),
        name: Some("long".to_string()),
        role: None,
        context: Some("a long one".to_string()),
        task_ids: vec![],
        status: SessionStatus::Paused,
        git_branch: None,
        git_commit: None,
        created_at: at("2026-10-01T09:00:00Z"),
        updated_at: at("2026-10-02T09:00:00Z"),
        ended_at: None,
        compaction_count: 0,
        summary: None,
        handoff: None,
        entries: (0..entries)
            .map(|i| ImportedEntry {
                id: None,
                kind: if i % 2 == 0 {
                    EntryKind::Progress
                } else {
                    EntryKind::Note
                },
                text: format!("entry {i}"),
                rationale: None,
                created_at: Timestamp(at("2026-10-01T09:00:00Z").micros() + i as i64 * 1_000_000),
            })
            .collect(),
        layout: "agents".to_string(),
        source: "long.md".to_string(),
        document: serde_json::json!({"title": "Long"}),
    }
}

#[test]
fn a_long_journal_is_rendered_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (b, caller) = baton(dir.path());
    let out = b.import_session(&caller, long_session(2500)).unwrap();
    assert!(out.imported);
    assert_eq!(out.entries, 2500);
    let src = b.document_source(&caller, &out.session_id).unwrap();
    assert_eq!(
        src.context.journal.progress.len() + src.context.journal.notes.len(),
        2500
    );
    assert_eq!(src.context.journal.progress[0].text, "entry 0", "oldest first");
    let doc = render(Layout::Agents, &src).files.remove(0);
    assert_eq!(doc.content.matches("\n### 2026-10-01").count(), 2500);
    assert!(doc.content.contains("  title: Long\n"));
    let all = b.document_sources(&caller).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(render(Layout::Agents, &all[0]), render(Layout::Agents, &src));
}

#[test]
fn importing_twice_writes_once() {
    let dir = tempfile::tempdir().unwrap();
    let (b, caller) = baton(dir.path());
    let first = b.import_session(&caller, long_session(3)).unwrap();
    let again = b.import_session(&caller, long_session(3)).unwrap();
    assert!(first.imported && !again.imported);
    assert_eq!(first.session_id, again.session_id);
    // Edited since, the same document (same key) is still the same session.
    let mut edited = long_session(4);
    edited.context = Some("edited".to_string());
    assert!(!b.import_session(&caller, edited).unwrap().imported);
    assert_eq!(b.list_sessions(&caller, None, false, None).unwrap().sessions.len(), 1);
    let events = b
        .changes(&caller, &baton_core::ChangesRequest::default())
        .unwrap()
        .events;
    assert_eq!(events.iter().filter(|e| e.kind == "session.imported").count(), 1);
    assert_eq!(events[0].data["document"]["title"], "Long");

    // With its own id, a document is recognised by that id.
    let mut with_id = long_session(1);
    with_id.id = Some(first.session_id.to_string());
    with_id.key = "another-file.md".to_string();
    assert!(!b.import_session(&caller, with_id).unwrap().imported);

    // Bad input changes nothing and names the file.
    let mut bad = long_session(1);
    bad.key = "other.md".to_string();
    bad.entries[0].text = "  ".to_string();
    let e = b.import_session(&caller, bad).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().starts_with("long.md: "), "{e}");
    assert_eq!(b.list_sessions(&caller, None, false, None).unwrap().sessions.len(), 1);
}
