//! The digest: who else is working on what, claims, blockers, changes since my last session, and its size bound.

use baton_core::config::Policy;
use baton_core::{EndRequest, EntryKind, Omitted, SessionStatus};

use crate::harness::*;

/// The digest shows other open sessions, my claims apart from others', and open blockers.
pub fn digest_shows_others_claims_blockers(make: &MakeStore) {
    let h = Harness::open(make);
    let a = caller("claude-code");
    let b = caller("codex");
    let c = caller("gemini");
    let gone = caller("alice");
    h.start_with(&gone, "old work");
    h.log(&gone, EntryKind::Blocker, "blocker of an ended session");
    let ended = ok(h.baton.end_session(
        &gone,
        EndRequest {
            summary: Some("old work done".into()),
            ..Default::default()
        },
    ));

    let sa = h.start_with(&a, "my work").session_id;
    let sb = h.start_with(&b, "refactor db").session_id;
    h.log(&b, EntryKind::Blocker, "waiting on schema");
    let theirs = h.grant(&b, "issue", "2");
    let sc = h.start_with(&c, "docs").session_id;
    h.log(&c, EntryKind::Blocker, "CI is down");
    ok(h.baton.pause(&c, None));
    let mine = h.grant(&a, "issue", "1");

    let d = ok(h.baton.digest(&a));
    assert_eq!(d.project, PROJECT);
    assert_eq!(d.agent, "claude-code");
    assert!(!d.first_session);
    let last = d.last_handoff.as_ref().expect("alice's handoff");
    assert_eq!(last.session_id, ended.session.id);
    assert_eq!(last.summary.as_deref(), Some("old work done"));

    let briefs: Vec<_> = d
        .active_sessions
        .iter()
        .map(|s| {
            (
                s.session_id.as_str(),
                s.agent.as_str(),
                s.context.as_deref(),
                s.status,
                s.stale,
            )
        })
        .collect();
    assert_eq!(
        briefs,
        [
            (sc.as_str(), "gemini", Some("docs"), SessionStatus::Paused, false),
            (sb.as_str(), "codex", Some("refactor db"), SessionStatus::Active, false),
        ],
        "open sessions of others, most recently updated first; not mine, not ended ones"
    );
    assert!(d.active_sessions.iter().all(|s| s.session_id != sa));
    assert_eq!(d.my_claims, vec![mine.clone()]);
    assert_eq!(d.other_claims, vec![theirs.clone()]);
    let blockers: Vec<_> = d
        .blockers
        .iter()
        .map(|b| (b.agent.as_str(), b.session_id.as_str(), b.text.as_str()))
        .collect();
    assert_eq!(
        blockers,
        [
            ("gemini", sc.as_str(), "CI is down"),
            ("codex", sb.as_str(), "waiting on schema")
        ],
        "blockers of open sessions, newest first"
    );
    assert!(d.omitted.is_empty());

    // Someone with no session sees every claim as another's.
    let observer = ok(h.baton.digest(&caller("observer")));
    assert!(observer.my_claims.is_empty());
    assert_eq!(observer.other_claims, vec![theirs, mine]);
    assert_eq!(observer.active_sessions.len(), 3);
}

/// The digest counts what others did since my previous session ended, leaving out my own doings and heartbeats.
pub fn digest_counts_changes_since_previous_session(make: &MakeStore) {
    let h = Harness::open(make);
    let a = caller("claude-code");
    let b = caller("codex");
    h.start(&a);
    h.log(&a, EntryKind::Progress, "before the break");
    let ended = ok(h.baton.end_session(
        &a,
        EndRequest {
            summary: Some("first part".into()),
            ..Default::default()
        },
    ));
    let ended_at = ended.session.ended_at.expect("ended");

    h.advance(60);
    h.start(&b);
    for i in 1..=3 {
        h.log(&b, EntryKind::Progress, &format!("codex step {i}"));
    }
    ok(h.baton.heartbeat(&b));

    h.advance(60);
    let started = h.start(&a);
    let changes = &started.digest.changes;
    assert_eq!(changes.since, Some(ended_at));
    let newest: Vec<_> = changes
        .newest
        .iter()
        .map(|e| (e.agent.as_str(), e.kind.as_str()))
        .collect();
    assert_eq!(
        newest,
        [
            ("codex", "journal.progress"),
            ("codex", "journal.progress"),
            ("codex", "journal.progress"),
            ("codex", "session.started"),
        ],
        "newest first; not my previous session's end, not my new start, not heartbeats"
    );
    assert_eq!(changes.count, 4);
    assert!(!changes.count_capped);

    // Later changes by others add to the count; mine do not.
    h.log(&a, EntryKind::Progress, "mine");
    h.log(&b, EntryKind::Progress, "codex step 4");
    let d = ok(h.baton.digest(&a));
    assert_eq!(d.changes.count, 5);
    assert_eq!(d.changes.newest[0].data["text"], "codex step 4");
}

fn filler(tag: &str, chars: usize) -> String {
    let mut s = format!("{tag}: ");
    while s.len() < chars {
        s.push_str("the quick brown fox jumps over the lazy dog \"quoted\" ");
    }
    s.truncate(chars);
    s
}

/// Fills a project with many open sessions (long contexts), claims and long blockers.
fn crowd(h: &Harness, sessions: usize) {
    for i in 0..sessions {
        let agent = caller(&format!("agent-{i:02}"));
        h.start_with(&agent, &filler(&format!("context {i}"), 3_000));
        h.log(&agent, EntryKind::Blocker, &filler(&format!("blocker {i}"), 2_000));
        h.grant(&agent, "issue", &format!("{i}-a"));
        h.grant(&agent, "issue", &format!("{i}-b"));
    }
}

/// With many sessions, claims and long texts, the digest stays within its size bound and says what it left out.
pub fn digest_fits_size_bound(make: &MakeStore) {
    let max = 2000;
    let policy = Policy {
        digest_max_chars: max,
        ..Default::default()
    };
    let h = Harness::with_policy(make, policy);
    let gone = caller("alice");
    h.start_with(&gone, &filler("old context", 5_000));
    ok(h.baton.end_session(
        &gone,
        EndRequest {
            summary: Some("parser done".into()),
            handoff: Some("tests still pending".into()),
            next: vec!["write tests".into()],
            ..Default::default()
        },
    ));
    crowd(&h, 25);
    let me = caller("claude-code");
    let started = h.start_with(&me, &filler("my context", 3_000));
    for i in 0..5 {
        h.grant(&me, "task", &format!("mine-{i}"));
    }

    for (what, d) in [("digest at start", started.digest), ("digest", ok(h.baton.digest(&me)))] {
        let json = serde_json::to_string(&d).expect("a digest serializes");
        let size = json.chars().count();
        assert!(
            size <= max,
            "{what}: {size} characters, over the bound of {max}: {json}"
        );
        assert!(!d.omitted.is_empty(), "{what}: a cut digest says what it left out");
        assert_eq!(d.project, PROJECT);
        let last = d.last_handoff.as_ref().expect("a short handoff is kept whole");
        assert_eq!(last.summary.as_deref(), Some("parser done"));
        assert_eq!(last.handoff.notes.as_deref(), Some("tests still pending"));
    }

    // With room to spare nothing is cut.
    let roomy = Policy {
        digest_max_chars: 1_000_000,
        ..Default::default()
    };
    let h = Harness::with_policy(make, roomy);
    crowd(&h, 3);
    let d = h.start(&caller("claude-code")).digest;
    assert!(d.omitted.is_empty(), "{:?}", d.omitted);
    assert_eq!(
        (d.active_sessions.len(), d.other_claims.len(), d.blockers.len()),
        (3, 6, 3)
    );
    assert_eq!(d.changes.count, 12);
    assert_eq!(d.changes.newest.len(), 10);
}

/// A long handoff is shortened in a cut digest, and the digest says so.
pub fn digest_shortens_long_handoff(make: &MakeStore) {
    let max = 2000;
    let policy = Policy {
        digest_max_chars: max,
        ..Default::default()
    };
    let h = Harness::with_policy(make, policy);
    let summary = filler("summary", 8_000);
    let notes = filler("handoff", 8_000);
    let gone = caller("alice");
    h.start(&gone);
    ok(h.baton.end_session(
        &gone,
        EndRequest {
            summary: Some(summary.clone()),
            handoff: Some(notes.clone()),
            next: vec!["write tests".into()],
            ..Default::default()
        },
    ));
    crowd(&h, 5);
    let d = h.start(&caller("claude-code")).digest;
    let last = d.last_handoff.as_ref().expect("the handoff is kept, shortened");
    for (field, full, kept) in [
        ("summary", &summary, &last.summary),
        ("notes", &notes, &last.handoff.notes),
    ] {
        let kept = kept.as_deref().unwrap_or_else(|| panic!("{field} kept"));
        assert!(
            kept.chars().count() < max,
            "{field} is shortened: {} characters",
            kept.chars().count()
        );
        assert!(kept.ends_with('…'), "{field} marks the cut");
        assert!(
            full.starts_with(kept.trim_end_matches('…')),
            "{field} keeps its beginning"
        );
    }
    assert_eq!(last.handoff.next, ["write tests"]);
    assert!(d.omitted.iter().any(|o| o.what == Omitted::Handoff), "{:?}", d.omitted);
    assert!(d.omitted.iter().any(|o| o.what == Omitted::Events), "{:?}", d.omitted);
    // Everything else was cut before the handoff was touched.
    assert!(d.active_sessions.is_empty() && d.other_claims.is_empty() && d.blockers.is_empty());
    let size = serde_json::to_string(&d).expect("json").chars().count();
    assert!(size <= max, "digest is {size} characters, over the bound {max}");
    // One line per kind of cut, not one per halving step.
    assert!(d.omitted.len() <= 8, "{:?}", d.omitted);
}
