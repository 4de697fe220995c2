//! A [`Follower`] over a real store (SQLite), in process: each commit re-renders the documents of the sessions
//! of its project that the commit touched, and nothing else.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use baton_core::config::Policy;
use baton_core::{Baton, Caller, EntryKind, LogRequest, Project, StartRequest};
use baton_docs::{Follower, Layout, render};

struct World {
    baton: Baton,
    caller: Caller,
    root: PathBuf,
    warnings: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

fn caller_in(dir: &Path, project: &str) -> Caller {
    Caller {
        project: Project::resolve(dir, None, Some(project)),
        agent: "tester".to_string(),
        session: None,
    }
}

/// A store with a follower writing `layout` documents under `<tmp>/repo`, and the warnings it gave.
fn world(layout: Layout) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = baton_sqlite::SqliteStore::open(&dir.path().join("baton.db")).expect("open store");
    let root = dir.path().join("repo");
    let caller = caller_in(&root, "github.com/org/app");
    let mut baton = Baton::new(Box::new(store), Policy::default());
    let warnings = Arc::new(Mutex::new(Vec::new()));
    let sink = warnings.clone();
    baton.on_warning(Arc::new(move |w: &str| sink.lock().unwrap().push(w.to_string())));
    baton.observe(Arc::new(Follower::new(root.clone(), layout, caller.clone())));
    World {
        baton,
        caller,
        root,
        warnings,
        _dir: dir,
    }
}

/// Every file under `dir`, relative to it.
fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

impl World {
    /// Asserts the session's document on disk is its rendering from the store now.
    #[track_caller]
    fn assert_current(&self, layout: Layout, id: &str) {
        let src = self.baton.document_source(&self.caller, id).unwrap();
        for doc in render(layout, &src).files {
            let on_disk = std::fs::read_to_string(self.root.join(&doc.path)).unwrap();
            assert_eq!(on_disk, doc.content, "{}", doc.path.display());
        }
    }
}

fn log(kind: EntryKind, text: &str) -> LogRequest {
    LogRequest {
        kind: kind.into(),
        text: text.to_string(),
        rationale: None,
        supersedes: None,
        idempotency_key: None,
    }
}

#[test]
fn documents_follow_each_commit_of_their_project() {
    let w = world(Layout::Sessions);
    let id = w
        .baton
        .start_session(
            &w.caller,
            StartRequest {
                context: Some("follow me".to_string()),
                ..Default::default()
            },
        )
        .unwrap()
        .session_id;
    w.assert_current(Layout::Sessions, &id);
    let started = files(&w.root);
    assert!(!started.is_empty());

    w.baton
        .log(&w.caller, log(EntryKind::Decision, "render on commit"))
        .unwrap();
    w.assert_current(Layout::Sessions, &id);
    let shared = std::fs::read_to_string(w.root.join(".baton/context.yaml")).expect("a decision renders context.yaml");
    assert!(shared.contains("decision: render on commit"), "{shared}");
    w.baton.end_session(&w.caller, Default::default()).unwrap();
    w.assert_current(Layout::Sessions, &id);
    assert!(
        files(&w.root).iter().all(|f| !f.starts_with(".sessions/active")),
        "the ended session's document moved to the archive: {:?}",
        files(&w.root)
    );

    // Another project's sessions are not this worktree's documents; reads render nothing.
    let before = files(&w.root);
    let elsewhere = caller_in(&w.root, "github.com/org/other");
    w.baton.start_session(&elsewhere, Default::default()).unwrap();
    std::fs::remove_dir_all(w.root.join(".sessions")).unwrap();
    std::fs::remove_dir_all(w.root.join(".baton")).unwrap();
    w.baton.view(&w.caller, Some(&id)).unwrap();
    w.baton.list_sessions(&w.caller, None, false, None).unwrap();
    assert_eq!(files(&w.root), Vec::<PathBuf>::new(), "before: {before:?}");
    assert_eq!(*w.warnings.lock().unwrap(), Vec::<String>::new());
}

#[test]
fn a_document_that_cannot_be_written_is_a_warning() {
    let w = world(Layout::Agents);
    std::fs::create_dir_all(&w.root).unwrap();
    std::fs::write(w.root.join(".agents"), "not a directory").unwrap();
    w.baton.start_session(&w.caller, Default::default()).unwrap();
    w.baton.log(&w.caller, log(EntryKind::Progress, "still works")).unwrap();
    let warnings = w.warnings.lock().unwrap().clone();
    assert_eq!(warnings.len(), 2, "one per commit: {warnings:?}");
    assert!(
        warnings
            .iter()
            .all(|m| m.starts_with("the command succeeded, but its session documents were not rendered: cannot write")),
        "{warnings:?}"
    );
}
