//! A rich session for the tests: every kind of entry, a handoff, a claim, multi-line and awkward text.

use baton_core::import::DocumentSource;
use baton_core::{
    Claim, ClaimState, EntryKind, Handoff, Journal, JournalEntry, Session, SessionContext, SessionStatus, Timestamp,
};

pub const ID: &str = "019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b";

pub fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).expect("test time")
}

fn entry(n: u32, kind: EntryKind, text: &str, rationale: Option<&str>, time: &str) -> JournalEntry {
    JournalEntry {
        id: format!("019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8b{n:02}").into(),
        session_id: ID.into(),
        kind,
        text: text.to_string(),
        rationale: rationale.map(str::to_string),
        supersedes: None,
        created_at: at(time),
    }
}

/// An active session of claude-code with a bit of everything.
pub fn rich() -> DocumentSource {
    let session = Session {
        id: ID.into(),
        project: "github.com/org/app".to_string(),
        agent: "claude-code".to_string(),
        name: Some("auth".to_string()),
        role: Some("implementer".to_string()),
        context: Some("Auth refactor: JWT + refresh tokens\n\n## Scope\nlogin and refresh only".to_string()),
        task_ids: vec!["15".to_string(), "ENG-42".to_string()],
        status: SessionStatus::Active,
        stale: false,
        git_branch: Some("feat/auth".to_string()),
        git_commit: Some("0123456789abcdef0123456789abcdef01234567".to_string()),
        worktree: Some("/home/alice/app".to_string()),
        created_at: at("2026-11-22T03:25:20.130567Z"),
        updated_at: at("2026-11-22T04:10:05.5Z"),
        last_seen: at("2026-11-22T04:10:05.5Z"),
        ended_at: None,
        compaction_count: 2,
        summary: None,
        handoff: None,
    };
    let progress = vec![
        entry(1, EntryKind::Progress, "schema migrated", None, "2026-11-22T03:30:00Z"),
        entry(
            5,
            EntryKind::Progress,
            "login endpoint returns tokens\n# not a heading\n- not an item",
            None,
            "2026-11-22T03:50:10Z",
        ),
    ];
    let decisions = vec![entry(
        2,
        EntryKind::Decision,
        "JWT for tokens",
        Some("stateless: no session table\nRationale: twice"),
        "2026-11-22T03:31:00Z",
    )];
    let discoveries = vec![entry(
        3,
        EntryKind::Discovery,
        "the old cookie code is dead",
        None,
        "2026-11-22T03:40:00Z",
    )];
    let blockers = vec![entry(
        6,
        EntryKind::Blocker,
        "staging DB down",
        None,
        "2026-11-22T03:55:00Z",
    )];
    let next_steps = vec![
        entry(7, EntryKind::Next, "refresh-token tests", None, "2026-11-22T04:00:00Z"),
        entry(8, EntryKind::Next, "update docs", None, "2026-11-22T04:00:00Z"),
    ];
    let done = vec![entry(
        4,
        EntryKind::Done,
        "login endpoint",
        None,
        "2026-11-22T03:45:00Z",
    )];
    let notes = vec![entry(
        9,
        EntryKind::Note,
        "```\ncode in a note",
        None,
        "2026-11-22T04:05:00Z",
    )];
    let checkpoints = vec![entry(
        10,
        EntryKind::Checkpoint,
        "context compacted",
        None,
        "2026-11-22T04:10:05.5Z",
    )];
    let claims = vec![Claim {
        id: "019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8c01".into(),
        project: "github.com/org/app".to_string(),
        item_type: "issue".to_string(),
        repo: "org/app".to_string(),
        item_id: "15".to_string(),
        token: 1,
        session_id: ID.into(),
        agent: "claude-code".to_string(),
        state: ClaimState::Held,
        ttl_secs: 1800,
        granted_at: at("2026-11-22T03:26:00Z"),
        renewed_at: at("2026-11-22T04:10:05.5Z"),
        expires_at: at("2026-11-22T04:40:05.5Z"),
        ended_at: None,
        release_status: None,
        notes: None,
        loss_reported: false,
        forced_by: None,
    }];
    DocumentSource {
        context: SessionContext {
            session,
            tldr: String::new(),
            journal: Journal {
                progress,
                decisions,
                discoveries,
                blockers,
                next_steps,
                done,
                checkpoints,
                notes,
            },
            claims,
        },
        document: None,
    }
}

/// The rich session, ended with a summary and a handoff, its claim released.
pub fn ended() -> DocumentSource {
    let mut src = rich();
    let s = &mut src.context.session;
    s.status = SessionStatus::Completed;
    s.ended_at = Some(at("2026-11-22T05:00:00Z"));
    s.updated_at = at("2026-11-22T05:00:00Z");
    s.summary = Some("login + JWT done".to_string());
    s.handoff = Some(Handoff {
        notes: Some("refresh tokens are next\nsee #16".to_string()),
        done: vec!["PR #16 opened".to_string()],
        next: vec!["ship it".to_string()],
        blockers: vec![],
    });
    src.context.claims.clear();
    src
}
