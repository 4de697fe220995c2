//! Sessions and journal entries at the storage level: read back whole, updates by id, every filter of a
//! session or entry query, and the keys of the projects that have sessions.

use baton_core::store::{EntryQuery, SessionQuery};
use baton_core::{EntryKind, Handoff, JournalEntry, SessionStatus};

use super::*;

/// A session reads back exactly as written; an update overwrites its mutable fields and leaves its
/// project, agent and creation time; a missing id reads as nothing.
pub fn store_sessions_read_back_and_update_by_id(make: &MakeStore) {
    let store = open(make);
    let s = session("s1", PROJECT, "claude-code", 0);
    let mut bare = session("s2", PROJECT, "codex", 5);
    bare.name = None;
    bare.role = None;
    bare.context = None;
    bare.task_ids = vec![];
    bare.git_branch = None;
    bare.git_commit = None;
    bare.worktree = None;
    write(&*store, |tx| {
        tx.insert_session(&s)?;
        tx.insert_session(&bare)?;
        assert_eq!(
            tx.session("s1")?,
            Some(s.clone()),
            "a write transaction reads its own writes"
        );
        Ok(())
    });
    read(&*store, |tx| {
        assert_eq!(tx.session("s1")?, Some(s.clone()));
        assert_eq!(tx.session("s2")?, Some(bare.clone()));
        assert_eq!(tx.session("s3")?, None);
        Ok(())
    });

    let mut ended = s.clone();
    ended.name = Some("renamed".into());
    ended.role = None;
    ended.context = Some("a new goal".into());
    ended.task_ids = vec!["APP-3".into()];
    ended.status = SessionStatus::Completed;
    ended.git_branch = Some("main".into());
    ended.git_commit = None;
    ended.worktree = Some("/src/other".into());
    ended.updated_at = at(100);
    ended.last_seen = at(90);
    ended.ended_at = Some(at(100));
    ended.compaction_count = 3;
    ended.summary = Some("done, \"quoted\"\nline".into());
    ended.handoff = Some(Handoff {
        notes: Some("next: tests".into()),
        done: vec!["form".into()],
        next: vec!["tests".into(), "docs".into()],
        blockers: vec![],
    });
    write(&*store, |tx| tx.update_session(&ended));
    read(&*store, |tx| {
        assert_eq!(
            tx.session("s1")?,
            Some(ended.clone()),
            "every mutable field is overwritten"
        );
        Ok(())
    });

    let mut immutable = ended.clone();
    immutable.project = "github.com/org/other".into();
    immutable.agent = "bob".into();
    immutable.created_at = at(-50);
    immutable.summary = Some("again".into());
    write(&*store, |tx| tx.update_session(&immutable));
    read(&*store, |tx| {
        let now = tx.session("s1")?.expect("the session");
        assert_eq!(
            (now.project.as_str(), now.agent.as_str(), now.created_at),
            (PROJECT, "claude-code", at(0))
        );
        assert_eq!(now.summary.as_deref(), Some("again"));
        Ok(())
    });
}

/// Updating a session no store holds is not found (exit 4), by the call or at the latest by the commit,
/// and creates nothing.
pub fn store_update_of_a_missing_session_is_not_found(make: &MakeStore) {
    let store = open(make);
    refused(&*store, "an update of a session that does not exist", 4, |tx| {
        tx.update_session(&session("s1", PROJECT, "claude-code", 0))
    });
    read(&*store, |tx| {
        assert_eq!(tx.session("s1")?, None);
        Ok(())
    });
}

/// Every filter of a session query narrows the list, they combine, and results come newest `updated_at`
/// first (ties by id, highest first), cut at the limit.
pub fn store_session_queries_filter_and_order(make: &MakeStore) {
    let store = open(make);
    let mut rows = Vec::new();
    let mut s = |id: &str, project: &str, agent: &str, status: SessionStatus, updated: i64, seen: i64| {
        let mut x = session(id, project, agent, 0);
        x.status = status;
        x.updated_at = at(updated);
        x.last_seen = at(seen);
        rows.push(x);
    };
    s("a", PROJECT, "claude-code", SessionStatus::Active, 10, 10);
    s("b", PROJECT, "codex", SessionStatus::Paused, 30, 5);
    s("c", PROJECT, "claude-code", SessionStatus::Completed, 20, 20);
    s("d", PROJECT, "claude-code", SessionStatus::Active, 20, 30);
    s("e", "github.com/org/other", "claude-code", SessionStatus::Active, 40, 0);
    write(&*store, |tx| rows.iter().try_for_each(|s| tx.insert_session(s)));

    let q = |query: SessionQuery| {
        read(&*store, |tx| tx.sessions(&query))
            .iter()
            .map(|s| s.id.clone())
            .collect::<Vec<_>>()
    };
    let project = Some(PROJECT.to_string());
    assert_eq!(
        q(SessionQuery::default()),
        ["e", "b", "d", "c", "a"],
        "newest first, ties by id descending"
    );
    assert_eq!(
        q(SessionQuery {
            project: project.clone(),
            ..Default::default()
        }),
        ["b", "d", "c", "a"]
    );
    assert_eq!(
        q(SessionQuery {
            agent: Some("claude-code".into()),
            ..Default::default()
        }),
        ["e", "d", "c", "a"]
    );
    assert_eq!(
        q(SessionQuery {
            project: project.clone(),
            statuses: vec![SessionStatus::Active, SessionStatus::Paused],
            ..Default::default()
        }),
        ["b", "d", "a"]
    );
    assert_eq!(
        q(SessionQuery {
            statuses: vec![SessionStatus::Active],
            last_seen_before: Some(at(30)),
            ..Default::default()
        }),
        ["e", "a"],
        "last seen strictly before the time"
    );
    assert_eq!(
        q(SessionQuery {
            project: project.clone(),
            exclude_id: Some("d".into()),
            ..Default::default()
        }),
        ["b", "c", "a"]
    );
    assert_eq!(
        q(SessionQuery {
            project,
            agent: Some("claude-code".into()),
            limit: Some(2),
            ..Default::default()
        }),
        ["d", "c"]
    );
    assert_eq!(
        q(SessionQuery {
            statuses: vec![SessionStatus::Drafting],
            ..Default::default()
        }),
        Vec::<String>::new()
    );
}

/// The keys of projects with sessions, each once, nearest the given key first and never the key itself,
/// forwards or backwards, cut at the limit.
pub fn store_project_keys_page_through_projects(make: &MakeStore) {
    let store = open(make);
    write(&*store, |tx| {
        for (i, p) in ["b", "d", "a", "c", "d", "b", "e"].iter().enumerate() {
            tx.insert_session(&session(&format!("s{i}"), p, "claude-code", i as i64))?;
        }
        Ok(())
    });
    let keys = |key: &str, before: bool, limit: u32| read(&*store, |tx| tx.project_keys(key, before, limit));
    assert_eq!(keys("", false, 10), ["a", "b", "c", "d", "e"]);
    assert_eq!(keys("b", false, 2), ["c", "d"]);
    assert_eq!(keys("bb", false, 10), ["c", "d", "e"]);
    assert_eq!(keys("d", true, 10), ["c", "b", "a"]);
    assert_eq!(keys("d", true, 1), ["c"]);
    assert_eq!(keys("e", false, 10), Vec::<String>::new());
    assert_eq!(keys("a", true, 10), Vec::<String>::new());
    assert_eq!(keys("", false, 0), Vec::<String>::new(), "a limit of 0 lists nothing");
}

/// Journal entries read back whole, newest first (ties by id, highest first); they are found by session,
/// by kind, and by the project and status of their session, with or without a project.
pub fn store_entries_filter_and_order(make: &MakeStore) {
    let store = open(make);
    let mut open_one = session("s1", PROJECT, "claude-code", 0);
    open_one.status = SessionStatus::Paused;
    let mut ended = session("s2", PROJECT, "claude-code", 0);
    ended.status = SessionStatus::Completed;
    let elsewhere = session("s3", "github.com/org/other", "claude-code", 0);
    let entry = |id: &str, session_id: &str, kind: EntryKind, secs: i64| JournalEntry {
        id: id.into(),
        session_id: session_id.into(),
        kind,
        text: format!("{id}: naïve \"text\"\nsecond line"),
        rationale: (kind == EntryKind::Decision).then(|| "because".to_string()),
        supersedes: None,
        created_at: at(secs),
    };
    let entries = [
        entry("a", "s1", EntryKind::Progress, 10),
        entry("b", "s1", EntryKind::Decision, 30),
        entry("c", "s2", EntryKind::Blocker, 20),
        entry("d", "s1", EntryKind::Blocker, 20),
        entry("e", "s3", EntryKind::Blocker, 40),
    ];
    write(&*store, |tx| {
        for s in [&open_one, &ended, &elsewhere] {
            tx.insert_session(s)?;
        }
        entries.iter().try_for_each(|e| tx.insert_entry(e))
    });

    let q = |query: EntryQuery| {
        read(&*store, |tx| tx.entries(&query))
            .iter()
            .map(|e| e.id.clone())
            .collect::<Vec<_>>()
    };
    let all = read(&*store, |tx| tx.entries(&EntryQuery::default()));
    assert_eq!(
        ids(&all, |e| &e.id),
        ["e", "b", "d", "c", "a"],
        "newest first, ties by id descending"
    );
    assert_eq!(all[1], entries[1], "an entry reads back exactly as written");
    assert_eq!(
        q(EntryQuery {
            session_id: Some("s1".into()),
            ..Default::default()
        }),
        ["b", "d", "a"]
    );
    assert_eq!(
        q(EntryQuery {
            kinds: vec![EntryKind::Blocker],
            ..Default::default()
        }),
        ["e", "d", "c"]
    );
    assert_eq!(
        q(EntryQuery {
            project: Some(PROJECT.into()),
            ..Default::default()
        }),
        ["b", "d", "c", "a"]
    );
    let open = vec![SessionStatus::Active, SessionStatus::Paused];
    assert_eq!(
        q(EntryQuery {
            project: Some(PROJECT.into()),
            session_statuses: open.clone(),
            kinds: vec![EntryKind::Blocker],
            ..Default::default()
        }),
        ["d"]
    );
    assert_eq!(
        q(EntryQuery {
            session_statuses: open.clone(),
            ..Default::default()
        }),
        ["e", "b", "d", "a"],
        "session statuses filter without a project too"
    );
    assert_eq!(
        q(EntryQuery {
            session_statuses: open,
            limit: Some(1),
            ..Default::default()
        }),
        ["e"]
    );
}
