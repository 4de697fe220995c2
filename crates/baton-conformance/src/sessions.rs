//! Sessions: start and handoff, the journal, which session a call means, pause and resume,
//! closing, staleness.

use baton_core::parse::MAX_TEXT_BYTES;
use baton_core::{
    ClaimState, ClaimsRequest, CloseAs, EndRequest, EntryKind, LastHandoff, LogRequest, ReleaseStatus,
    SessionListRequest, SessionStatus, StartRequest, Wire,
};

use crate::harness::*;

/// The first session of a project: no handoff, a digest that says so, one `session.started` event.
pub fn session_start_first_session(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    let req = StartRequest {
        context: Some("build the parser".into()),
        name: Some("parser".into()),
        task_ids: vec!["T-1".into(), "T-2".into()],
        role: Some("implementer".into()),
        idempotency_key: None,
    };
    let started = ok(h.baton.start_session(&me, req));
    let s = &started.session;
    assert_eq!(started.session_id, s.id);
    assert_eq!(s.id.len(), 36, "session ids are whole UUIDs: {}", s.id);
    assert_eq!(s.project, PROJECT);
    assert_eq!(s.agent, "claude-code");
    assert_eq!(s.status, SessionStatus::Active);
    assert!(!s.stale);
    assert_eq!(s.context.as_deref(), Some("build the parser"));
    assert_eq!(s.name.as_deref(), Some("parser"));
    assert_eq!(s.role.as_deref(), Some("implementer"));
    assert_eq!(s.task_ids, vec!["T-1".to_string(), "T-2".to_string()]);
    assert_eq!(s.created_at, s.last_seen);
    assert_eq!(s.ended_at, None);
    assert_eq!(s.compaction_count, 0);
    assert_eq!(started.handoff_notes, None);
    assert_eq!(started.last_summary, None);
    assert_eq!(started.last_handoff, None);

    let d = &started.digest;
    assert!(d.first_session);
    assert_eq!(d.project, PROJECT);
    assert_eq!(d.agent, "claude-code");
    assert_eq!(d.last_handoff, None);
    assert!(d.active_sessions.is_empty());
    assert!(d.my_claims.is_empty() && d.other_claims.is_empty() && d.blockers.is_empty());
    assert_eq!(d.changes.since, None);
    assert_eq!(d.changes.count, 0, "my own session.started is not a change for me");
    assert!(d.omitted.is_empty());

    let events = h.events();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.kind, "session.started");
    assert_eq!(e.project, PROJECT);
    assert_eq!(e.agent, "claude-code");
    assert_eq!(e.session_id.as_deref(), Some(s.id.as_str()));
    assert_eq!(e.target, s.id);
    assert_eq!(e.time, s.created_at);

    // The view from a stored read matches what start returned.
    let viewed = ok(h.baton.view(&me, None));
    assert_eq!(viewed.session, started.session);

    // While that session is open, a second one is not a project's first.
    let other = h.start(&caller("codex"));
    assert!(!other.digest.first_session);
    assert_eq!(other.digest.active_sessions.len(), 1);
    assert_eq!(other.digest.active_sessions[0].session_id, s.id);
}

/// A session started after another ended shows that session's summary and handoff.
pub fn session_start_shows_last_handoff(make: &MakeStore) {
    let h = Harness::open(make);
    let a = caller("claude-code");
    let first = h.start_with(&a, "build the parser");
    let ended = ok(h.baton.end_session(
        &a,
        EndRequest {
            summary: Some("parser done".into()),
            handoff: Some("tests still pending".into()),
            next: vec!["write tests".into(), "wire the CLI".into()],
            blockers: vec!["CI is red".into()],
            done: vec!["lexer".into()],
            idempotency_key: None,
        },
    ));
    assert_eq!(ended.session.id, first.session_id);
    assert_eq!(ended.session.status, SessionStatus::Completed);
    assert_eq!(ended.session.summary.as_deref(), Some("parser done"));
    let ended_at = ended.session.ended_at.expect("an ended session has ended_at");
    assert!(ended.released.is_empty());

    let second = h.start(&caller("codex"));
    assert_eq!(second.handoff_notes.as_deref(), Some("tests still pending"));
    assert_eq!(second.last_summary.as_deref(), Some("parser done"));
    let expected = LastHandoff {
        session_id: first.session_id.clone(),
        agent: "claude-code".into(),
        status: SessionStatus::Completed,
        ended_at: Some(ended_at),
        summary: Some("parser done".into()),
        handoff: baton_core::Handoff {
            notes: Some("tests still pending".into()),
            done: vec!["lexer".into()],
            next: vec!["write tests".into(), "wire the CLI".into()],
            blockers: vec!["CI is red".into()],
        },
    };
    assert_eq!(second.last_handoff.as_ref(), Some(&expected));
    assert_eq!(second.digest.last_handoff.as_ref(), Some(&expected));
    assert!(!second.digest.first_session);

    // An abandoned session never replaces the last real handoff.
    h.advance(60);
    ok(h.baton.close(
        &caller("codex"),
        CloseAs::Abandon {
            reason: "wrong approach".into(),
        },
    ));
    let third = h.start(&caller("gemini"));
    assert_eq!(third.last_summary.as_deref(), Some("parser done"));
    assert_eq!(third.handoff_notes.as_deref(), Some("tests still pending"));
    let last = third.last_handoff.expect("the real handoff still shows");
    assert_eq!(last.session_id, first.session_id);
    assert_eq!(last.status, SessionStatus::Completed);

    // Sessions are listed most recently updated first, filtered by status, up to the limit.
    let me = caller("observer");
    let ids = |l: baton_core::SessionList| l.sessions.into_iter().map(|s| s.id).collect::<Vec<_>>();
    let all = ok(h.baton.list_sessions(&me, None, false, None));
    assert_eq!(
        ids(all),
        [
            third.session_id.clone(),
            second.session_id.clone(),
            first.session_id.clone()
        ]
    );
    let two = ok(h.baton.list_sessions(&me, None, false, Some(2)));
    assert_eq!(ids(two), [third.session_id.clone(), second.session_id.clone()]);
    let done = ok(h.baton.list_sessions(&me, Some(SessionStatus::Completed), false, None));
    assert_eq!(ids(done), [first.session_id]);
    h.refused("list with limit 0", 2, &["'0'"], || {
        h.baton.list_sessions(&me, None, false, Some(0))
    });
}

/// Malformed start requests are refused and store nothing.
pub fn session_start_rejects_bad_input(make: &MakeStore) {
    let h = Harness::open(make);
    h.start(&caller("codex"));
    let me = caller("claude-code");
    let cases: Vec<(&str, StartRequest, &str)> = vec![
        (
            "name with a space",
            StartRequest {
                name: Some("two words".into()),
                ..Default::default()
            },
            "two words",
        ),
        (
            "empty task id",
            StartRequest {
                task_ids: vec![String::new()],
                ..Default::default()
            },
            "task id",
        ),
        (
            "role with a tab",
            StartRequest {
                role: Some("a\tb".into()),
                ..Default::default()
            },
            "role",
        ),
        (
            "context over 64 KiB",
            StartRequest {
                context: Some("x".repeat(MAX_TEXT_BYTES + 1)),
                ..Default::default()
            },
            "65537",
        ),
    ];
    for (what, req, needle) in cases {
        h.refused(what, 2, &[needle], || h.baton.start_session(&me, req));
    }
    h.refused("empty agent", 2, &["agent"], || {
        h.baton.start_session(&caller(""), StartRequest::default())
    });
    h.refused("agent with a space", 2, &["agent"], || {
        h.baton.start_session(&caller("claude code"), StartRequest::default())
    });
}

/// Every entry kind can be logged; each writes its entry and its event, and shows in the session's view.
pub fn session_log_every_kind(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    let sid = h.start(&me).session_id;
    let before = h.last_seq();
    for kind in EntryKind::ALL {
        let rationale = (*kind == EntryKind::Decision).then(|| "it is simpler".to_string());
        let req = LogRequest {
            kind: (*kind).into(),
            text: format!("{kind} text"),
            rationale: rationale.clone(),
            supersedes: None,
            idempotency_key: None,
        };
        let logged = ok(h.baton.log(&me, req));
        assert_eq!(logged.session_id, sid);
        assert_eq!(logged.entry.session_id, sid);
        assert_eq!(logged.entry.kind, *kind);
        assert_eq!(logged.entry.text, format!("{kind} text"));
        assert_eq!(logged.entry.rationale, rationale);
    }
    assert_eq!(
        h.kinds_after(before),
        [
            "journal.progress",
            "journal.decision",
            "journal.discovery",
            "journal.blocker",
            "journal.next",
            "journal.done",
            "session.checkpoint",
            "journal.note",
        ]
    );
    let decision = h
        .events()
        .into_iter()
        .find(|e| e.kind == "journal.decision")
        .expect("decision event");
    assert_eq!(decision.data["text"], "decision text");
    assert_eq!(decision.data["rationale"], "it is simpler");
    assert_eq!(decision.target, sid);

    let view = ok(h.baton.view(&me, None));
    let texts = |v: &[baton_core::JournalEntry]| v.iter().map(|e| e.text.clone()).collect::<Vec<_>>();
    assert_eq!(texts(&view.journal.progress), ["progress text"]);
    assert_eq!(texts(&view.journal.decisions), ["decision text"]);
    assert_eq!(view.journal.decisions[0].rationale.as_deref(), Some("it is simpler"));
    assert_eq!(texts(&view.journal.discoveries), ["discovery text"]);
    assert_eq!(texts(&view.journal.blockers), ["blocker text"]);
    assert_eq!(texts(&view.journal.next_steps), ["next text"]);
    assert_eq!(texts(&view.journal.done), ["done text"]);
    assert_eq!(texts(&view.journal.checkpoints), ["checkpoint text"]);
    assert_eq!(texts(&view.journal.notes), ["note text"]);

    // A decision without a rationale is fine too.
    let plain = h.log(&me, EntryKind::Decision, "no reason given");
    assert_eq!(plain.entry.rationale, None);
}

/// A rationale goes with a decision only.
pub fn session_log_rationale_only_with_decision(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    h.start(&me);
    for kind in EntryKind::ALL.iter().filter(|k| **k != EntryKind::Decision) {
        let req = LogRequest {
            kind: (*kind).into(),
            text: "text".into(),
            rationale: Some("why".into()),
            supersedes: None,
            idempotency_key: None,
        };
        h.refused(
            &format!("rationale on {kind}"),
            2,
            &["rationale", kind.as_str()],
            || h.baton.log(&me, req),
        );
    }
}

/// Fields whose value is one of a known set arrive as text from every front end and are parsed by the
/// core: a value outside the set is refused naming the field, the value and every accepted one, and
/// changes nothing; an accepted text acts as the typed value does.
pub fn wire_fields_are_parsed_by_the_core(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    h.start(&me);
    let facts = |e: &baton_core::Error| e.facts().cloned().expect("a bad input carries facts");

    let log = |kind: &str| LogRequest {
        kind: Wire::text(kind),
        text: "text".into(),
        rationale: None,
        supersedes: None,
        idempotency_key: None,
    };
    let e = h.refused("unknown kind", 2, &["entry kind", "'finding'", "progress"], || {
        h.baton.log(&me, log("finding"))
    });
    let f = facts(&e);
    assert_eq!((f.field, f.value.as_deref()), (Some("kind"), Some("finding")));
    let accepted: Vec<String> = EntryKind::ALL.iter().map(|k| k.to_string()).collect();
    assert_eq!(f.accepted, accepted);
    let logged = h.baton.log(&me, log("discovery")).expect("a known kind as text");
    assert_eq!(logged.entry.kind, EntryKind::Discovery);

    h.claim(&me, "issue", "15");
    let mut release = release_req("issue", "15", ReleaseStatus::Completed);
    release.status = Wire::text("done");
    let e = h.refused(
        "unknown status",
        2,
        &["release status", "'done'", "completed, blocked, deferred"],
        || h.baton.release(&me, release.clone()),
    );
    let f = facts(&e);
    assert_eq!((f.field, f.value.as_deref()), (Some("status"), Some("done")));
    release.status = Wire::text("blocked");
    let r = h.baton.release(&me, release).expect("a known status as text");
    assert_eq!(r.claim.release_status, Some(ReleaseStatus::Blocked));

    let list = |status: &str| SessionListRequest {
        status: Some(Wire::text(status)),
        ..Default::default()
    };
    let e = h.refused("unknown session status", 2, &["session status", "'open'"], || {
        h.baton.list_sessions_matching(&me, &list("open"))
    });
    assert_eq!(facts(&e).field, Some("status"));
    let active = h
        .baton
        .list_sessions_matching(&me, &list("active"))
        .expect("a known status as text");
    assert_eq!(active.sessions.len(), 1);
    assert!(active.sessions.iter().all(|s| s.status == SessionStatus::Active));
}

/// Empty and oversized texts are refused; exactly 64 KiB is accepted.
pub fn session_log_rejects_empty_and_oversized_text(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    h.start(&me);
    h.refused("empty text", 2, &["empty"], || {
        h.baton.log(&me, log_req(EntryKind::Progress, ""))
    });
    h.refused("blank text", 2, &["empty"], || {
        h.baton.log(&me, log_req(EntryKind::Note, " \n\t "))
    });
    let long = "y".repeat(MAX_TEXT_BYTES + 1);
    h.refused("text over 64 KiB", 2, &["65537", "64 KiB"], || {
        h.baton.log(&me, log_req(EntryKind::Progress, &long))
    });
    let req = LogRequest {
        kind: EntryKind::Decision.into(),
        text: "fine".into(),
        rationale: Some(long.clone()),
        supersedes: None,
        idempotency_key: None,
    };
    h.refused("rationale over 64 KiB", 2, &["rationale"], || h.baton.log(&me, req));
    // Multi-byte characters count in bytes.
    let wide = "é".repeat(MAX_TEXT_BYTES / 2 + 1);
    h.refused("text over 64 KiB in bytes", 2, &["64 KiB"], || {
        h.baton.log(&me, log_req(EntryKind::Note, &wide))
    });

    let exact = "z".repeat(MAX_TEXT_BYTES);
    let logged = h.log(&me, EntryKind::Progress, &exact);
    assert_eq!(logged.entry.text.len(), MAX_TEXT_BYTES);
    let view = ok(h.baton.view(&me, None));
    assert_eq!(view.journal.progress.len(), 1);
    assert_eq!(view.journal.progress[0].text, exact, "a 64 KiB text is stored whole");
}

/// Nothing can be logged to an ended session.
pub fn session_log_to_ended_session(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    let done = h.start(&me).session_id;
    ok(h.baton.end_session(&me, EndRequest::default()));
    let named = in_session("claude-code", &done);
    h.refused("log to a completed session", 2, &[&done, "completed"], || {
        h.baton.log(&named, log_req(EntryKind::Progress, "late"))
    });
    h.refused("log with no active session", 4, &["claude-code", PROJECT], || {
        h.baton.log(&me, log_req(EntryKind::Progress, "late"))
    });

    let dropped = h.start(&me).session_id;
    ok(h.baton.close(
        &me,
        CloseAs::Abandon {
            reason: "gave up".into(),
        },
    ));
    let named = in_session("claude-code", &dropped);
    h.refused("log to an abandoned session", 2, &[&dropped, "abandoned"], || {
        h.baton.log(&named, log_req(EntryKind::Note, "late"))
    });
    h.refused("checkpoint an abandoned session", 2, &[&dropped], || {
        h.baton.checkpoint(&named, None)
    });
    h.refused("claim for an abandoned session", 2, &[&dropped], || {
        h.baton.claim(&named, claim_req("issue", "1"))
    });
}

/// With no session named and none active, calls that need one are not found.
pub fn session_resolution_none_is_not_found(make: &MakeStore) {
    let h = Harness::open(make);
    // Another agent's session is not mine.
    h.start(&caller("codex"));
    let me = caller("claude-code");
    h.refused("log", 4, &["claude-code"], || {
        h.baton.log(&me, log_req(EntryKind::Progress, "p"))
    });
    h.refused("claim", 4, &["claude-code"], || {
        h.baton.claim(&me, claim_req("issue", "1"))
    });
    h.refused("heartbeat", 4, &["claude-code"], || h.baton.heartbeat(&me));
    h.refused("pause", 4, &["claude-code"], || h.baton.pause(&me, None));
    h.refused("end", 4, &["claude-code"], || {
        h.baton.end_session(&me, EndRequest::default())
    });
    h.refused("close", 4, &["claude-code"], || h.baton.close(&me, CloseAs::Complete));
    h.refused("resume", 4, &["claude-code"], || h.baton.resume(&me, None));
    h.refused("view", 4, &["claude-code"], || h.baton.view(&me, None));
    // The same agent in another project has no session either.
    h.start(&other_project("claude-code"));
    h.refused("log after a start elsewhere", 4, &["claude-code"], || {
        h.baton.log(&me, log_req(EntryKind::Progress, "p"))
    });
}

/// Two active sessions of one agent: a call that names neither is ambiguous and lists both.
pub fn session_resolution_ambiguous_names_candidates(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    let s1 = h.start_with(&me, "first").session_id;
    let s2 = h.start_with(&me, "second").session_id;
    h.refused("log", 2, &["ambiguous", &s1, &s2], || {
        h.baton.log(&me, log_req(EntryKind::Progress, "p"))
    });
    h.refused("claim", 2, &["ambiguous", &s1, &s2], || {
        h.baton.claim(&me, claim_req("issue", "1"))
    });
    h.refused("heartbeat", 2, &[&s1, &s2], || h.baton.heartbeat(&me));
    h.refused("end", 2, &[&s1, &s2], || {
        h.baton.end_session(&me, EndRequest::default())
    });
    // Another agent with one session is not affected.
    let other = caller("codex");
    let s3 = h.start(&other).session_id;
    assert_eq!(h.log(&other, EntryKind::Progress, "mine").session_id, s3);
}

/// An explicit session wins over the default resolution.
pub fn session_resolution_explicit_wins(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    let s1 = h.start(&me).session_id;
    let s2 = h.start(&me).session_id;
    let l1 = h.log(&in_session("claude-code", &s1), EntryKind::Progress, "one");
    let l2 = h.log(&in_session("claude-code", &s2), EntryKind::Progress, "two");
    assert_eq!(l1.session_id, s1);
    assert_eq!(l2.session_id, s2);
    let v1 = ok(h.baton.view(&in_session("claude-code", &s1), None));
    assert_eq!(
        v1.journal.progress.iter().map(|e| e.text.as_str()).collect::<Vec<_>>(),
        ["one"]
    );
    // A paused session can still take entries when named.
    ok(h.baton.pause(&in_session("claude-code", &s2), None));
    let l3 = h.log(&in_session("claude-code", &s2), EntryKind::Note, "while paused");
    assert_eq!(l3.session_id, s2);
    // With s2 paused, s1 is the only active one and the default again.
    assert_eq!(h.log(&me, EntryKind::Progress, "default").session_id, s1);
}

/// A well-formed session id that does not exist is not found.
pub fn session_resolution_unknown_id_is_not_found(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    h.start(&me);
    let ghost = in_session("claude-code", UNKNOWN_SESSION);
    h.refused("log", 4, &[UNKNOWN_SESSION], || {
        h.baton.log(&ghost, log_req(EntryKind::Progress, "p"))
    });
    h.refused("claim", 4, &[UNKNOWN_SESSION], || {
        h.baton.claim(&ghost, claim_req("issue", "1"))
    });
    h.refused("pause", 4, &[UNKNOWN_SESSION], || h.baton.pause(&ghost, None));
    h.refused("heartbeat", 4, &[UNKNOWN_SESSION], || h.baton.heartbeat(&ghost));
    h.refused("view", 4, &[UNKNOWN_SESSION], || {
        h.baton.view(&me, Some(UNKNOWN_SESSION))
    });
    h.refused("resume", 4, &[UNKNOWN_SESSION], || {
        h.baton.resume(&me, Some(UNKNOWN_SESSION))
    });
    h.refused("digest", 4, &[UNKNOWN_SESSION], || h.baton.digest(&ghost));
}

/// A malformed session id is bad input, whatever the call.
pub fn session_resolution_malformed_id_is_bad_input(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    h.start(&me);
    let bad = in_session("claude-code", "not-a-uuid");
    h.refused("log", 2, &["not-a-uuid", "UUID"], || {
        h.baton.log(&bad, log_req(EntryKind::Progress, "p"))
    });
    h.refused("claim", 2, &["not-a-uuid"], || {
        h.baton.claim(&bad, claim_req("issue", "1"))
    });
    h.refused("end", 2, &["not-a-uuid"], || {
        h.baton.end_session(&bad, EndRequest::default())
    });
    h.refused("view", 2, &["not-a-uuid"], || h.baton.view(&me, Some("not-a-uuid")));
    h.refused("resume", 2, &["not-a-uuid"], || h.baton.resume(&me, Some("not-a-uuid")));
    h.refused("empty id", 2, &["session id"], || {
        h.baton
            .log(&in_session("claude-code", ""), log_req(EntryKind::Note, "n"))
    });
}

/// Pause, then resume: the resumed context holds the whole journal, grouped, oldest first.
pub fn pause_and_resume_returns_context(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    let sid = h.start_with(&me, "port the store to sqlite").session_id;
    h.log(&me, EntryKind::Progress, "schema written");
    h.log(&me, EntryKind::Progress, "queries written");
    ok(h.baton.log(
        &me,
        LogRequest {
            kind: EntryKind::Decision.into(),
            text: "use WAL".into(),
            rationale: Some("many readers, one writer".into()),
            supersedes: None,
            idempotency_key: None,
        },
    ));
    h.log(&me, EntryKind::Discovery, "busy_timeout is per connection");
    h.log(&me, EntryKind::Blocker, "migrations need review");
    h.log(&me, EntryKind::Next, "benchmark claims");
    let claim = h.grant(&me, "issue", "42");

    let before = h.last_seq();
    let paused = ok(h.baton.pause(&me, Some("lunch".into())));
    assert_eq!(paused.id, sid);
    assert_eq!(paused.status, SessionStatus::Paused);
    assert_eq!(h.kinds_after(before), ["journal.note", "session.paused"]);
    let ev = h.events().pop().expect("pause event");
    assert_eq!(ev.data["reason"], "paused");
    assert_eq!(ev.data["note"], "lunch");
    let listed = ok(h.baton.list_sessions(&me, Some(SessionStatus::Paused), false, None));
    assert_eq!(
        listed.sessions.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        [sid.as_str()]
    );

    h.advance(600);
    let before = h.last_seq();
    let resumed = ok(h.baton.resume(&me, None));
    assert_eq!(h.kinds_after(before), ["session.resumed"]);
    assert_eq!(resumed.session_id, sid);
    let c = &resumed.context;
    assert_eq!(c.session.status, SessionStatus::Active);
    assert_eq!(c.session.last_seen, h.events().pop().expect("resume event").time);
    let texts = |v: &[baton_core::JournalEntry]| v.iter().map(|e| e.text.clone()).collect::<Vec<_>>();
    assert_eq!(texts(&c.journal.progress), ["schema written", "queries written"]);
    assert_eq!(texts(&c.journal.decisions), ["use WAL"]);
    assert_eq!(
        c.journal.decisions[0].rationale.as_deref(),
        Some("many readers, one writer")
    );
    assert_eq!(texts(&c.journal.discoveries), ["busy_timeout is per connection"]);
    assert_eq!(texts(&c.journal.blockers), ["migrations need review"]);
    assert_eq!(texts(&c.journal.next_steps), ["benchmark claims"]);
    assert_eq!(texts(&c.journal.notes), ["lunch"]);
    assert_eq!(c.claims.len(), 1);
    assert_eq!(c.claims[0].id, claim.id);
    assert!(c.tldr.contains("port the store to sqlite"), "{}", c.tldr);
    assert_eq!(
        resumed
            .digest
            .my_claims
            .iter()
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>(),
        [claim.id.as_str()]
    );

    // Resuming an active session is allowed and writes no second resume event.
    let before = h.last_seq();
    let again = ok(h.baton.resume(&me, Some(&sid)));
    assert_eq!(again.context.session.status, SessionStatus::Active);
    assert!(h.kinds_after(before).is_empty());
}

/// Pausing a paused session and resuming an ended one are illegal transitions.
pub fn pause_and_resume_illegal_transitions(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    let sid = h.start(&me).session_id;
    ok(h.baton.pause(&me, None));
    let named = in_session("claude-code", &sid);
    h.refused(
        "pause a paused session",
        2,
        &["illegal state transition", &sid, "paused"],
        || h.baton.pause(&named, None),
    );
    // Unnamed, the agent has no active session to pause.
    h.refused("pause with no active session", 4, &["claude-code"], || {
        h.baton.pause(&me, None)
    });

    ok(h.baton.close(&named, CloseAs::Complete));
    h.refused(
        "resume a completed session",
        2,
        &["illegal state transition", &sid, "completed"],
        || h.baton.resume(&me, Some(&sid)),
    );
    h.refused("pause a completed session", 2, &[&sid, "completed"], || {
        h.baton.pause(&named, None)
    });
    h.refused("end a completed session", 2, &[&sid, "completed"], || {
        h.baton.end_session(&named, EndRequest::default())
    });
}

/// Abandoning with a reason releases every held claim as deferred, each with an event.
pub fn close_abandon_releases_claims(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    let sid = h.start(&me).session_id;
    let c1 = h.grant(&me, "issue", "1");
    let c2 = h.grant(&me, "pr", "2");
    h.refused("abandon without a reason", 2, &["reason"], || {
        h.baton.close(&me, CloseAs::Abandon { reason: " ".into() })
    });

    let before = h.last_seq();
    let ended = ok(h.baton.close(
        &me,
        CloseAs::Abandon {
            reason: "requirements changed".into(),
        },
    ));
    assert_eq!(
        h.kinds_after(before),
        ["claim.released", "claim.released", "session.abandoned"]
    );
    assert_eq!(ended.session.id, sid);
    assert_eq!(ended.session.status, SessionStatus::Abandoned);
    assert_eq!(
        ended.session.summary.as_deref(),
        Some("abandoned: requirements changed")
    );
    assert!(ended.session.ended_at.is_some());
    let mut ids: Vec<_> = ended.released.iter().map(|c| c.id.clone()).collect();
    ids.sort();
    let mut want = vec![c1.id.clone(), c2.id.clone()];
    want.sort();
    assert_eq!(ids, want);
    for c in &ended.released {
        assert_eq!(c.state, ClaimState::Released);
        assert_eq!(c.release_status, Some(ReleaseStatus::Deferred));
        assert_eq!(c.notes.as_deref(), Some("session abandoned: requirements changed"));
    }
    let events = h.events();
    let released: Vec<_> = events.iter().filter(|e| e.kind == "claim.released").collect();
    let mut targets: Vec<_> = released.iter().map(|e| e.target.as_str()).collect();
    targets.sort();
    assert_eq!(targets, ["issue org/app#1", "pr org/app#2"]);
    for e in released {
        assert_eq!(e.data["status"], "deferred");
        assert_eq!(e.session_id.as_deref(), Some(sid.as_str()));
    }
    let abandoned = events.last().expect("abandon event");
    assert_eq!(abandoned.data["reason"], "requirements changed");
    assert_eq!(abandoned.data["released"], 2);

    let open = ok(h.baton.claims(&me, ClaimsRequest::default()));
    assert!(open.claims.is_empty(), "{:?}", open.claims);
    // The items are free again: the next grant has the next token.
    let next = h.start(&caller("codex"));
    assert_eq!(h.grant(&in_session("codex", &next.session_id), "issue", "1").token, 2);
}

/// Completing a session (by close or end) releases what it held and cannot happen twice.
pub fn close_complete(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    let sid = h.start(&me).session_id;
    let before = h.last_seq();
    let ended = ok(h.baton.close(&me, CloseAs::Complete));
    assert_eq!(h.kinds_after(before), ["session.ended"]);
    assert_eq!(ended.session.status, SessionStatus::Completed);
    assert_eq!(ended.session.ended_at, Some(h.events().pop().expect("event").time));
    assert!(ended.released.is_empty());
    let named = in_session("claude-code", &sid);
    h.refused(
        "close a completed session",
        2,
        &["illegal state transition", &sid],
        || h.baton.close(&named, CloseAs::Complete),
    );
    h.refused("abandon a completed session", 2, &[&sid], || {
        h.baton.close(&named, CloseAs::Abandon { reason: "late".into() })
    });
    h.refused("close with no open session", 4, &["claude-code"], || {
        h.baton.close(&me, CloseAs::Complete)
    });

    // Ending a session that still holds a claim releases it as deferred.
    let sid = h.start(&me).session_id;
    let held = h.grant(&me, "task", "t1");
    let before = h.last_seq();
    let ended = ok(h.baton.end_session(
        &me,
        EndRequest {
            summary: Some("done".into()),
            ..Default::default()
        },
    ));
    assert_eq!(h.kinds_after(before), ["claim.released", "session.ended"]);
    assert_eq!(ended.session.id, sid);
    assert_eq!(ended.released.len(), 1);
    assert_eq!(ended.released[0].id, held.id);
    assert_eq!(ended.released[0].release_status, Some(ReleaseStatus::Deferred));
    let e = h
        .events()
        .into_iter()
        .find(|e| e.kind == "claim.released")
        .expect("release event");
    assert_eq!(e.data["by_session_end"], true);
}

/// An active session with no heartbeat past the threshold is shown stale; a sweep pauses it
/// and expires run-out claims, each with an event.
pub fn staleness_and_sweep(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    let sid = h.start(&me).session_id;
    let claim = h.grant(&me, "issue", "9");
    let elsewhere = h.start(&other_project("codex")).session_id;

    h.advance(3600);
    let listed = ok(h.baton.list_sessions(&me, None, false, None));
    assert_eq!(listed.sessions.len(), 1);
    assert!(!listed.sessions[0].stale, "1h without a heartbeat is not stale yet");

    h.advance(3600 + 1);
    let listed = ok(h.baton.list_sessions(&me, None, false, None));
    let mine = listed.sessions.iter().find(|s| s.id == sid).expect("listed");
    assert!(mine.stale);
    assert_eq!(mine.status, SessionStatus::Active, "stale is shown, not stored");

    let before = h.last_seq();
    let swept = ok(h.baton.sweep(None));
    let mut paused = swept.paused.clone();
    paused.sort();
    let mut want = vec![sid.clone(), elsewhere.clone()];
    want.sort();
    assert_eq!(paused, want, "a sweep of every project pauses both stale sessions");
    assert_eq!(swept.expired, vec![claim.key()]);
    let new: Vec<_> = h.events().into_iter().filter(|e| e.seq > before).collect();
    assert_eq!(new.iter().filter(|e| e.kind == "session.paused").count(), 2);
    assert_eq!(new.len(), 3);
    for e in new.iter().filter(|e| e.kind == "session.paused") {
        assert_eq!(e.data["reason"], "stale");
    }
    let expired = new.iter().find(|e| e.kind == "claim.expired").expect("claim.expired");
    assert_eq!(expired.target, "issue org/app#9");
    assert_eq!(expired.data["token"], 1);
    assert_eq!(expired.session_id.as_deref(), Some(sid.as_str()));

    let listed = ok(h.baton.list_sessions(&me, Some(SessionStatus::Paused), false, None));
    assert_eq!(listed.sessions.len(), 1);
    assert_eq!(listed.sessions[0].id, sid);
    assert!(!listed.sessions[0].stale, "a paused session is not stale");
    let claims = ok(h.baton.claims(
        &me,
        ClaimsRequest {
            include_released: true,
            ..Default::default()
        },
    ));
    assert_eq!(claims.claims.len(), 1);
    assert_eq!(claims.claims[0].claim.state, ClaimState::Expired);
    assert!(claims.claims[0].expired);

    // A second sweep finds nothing left to do.
    let before = h.last_seq();
    assert_eq!(ok(h.baton.sweep(None)), baton_core::Sweep::default());
    assert_eq!(h.last_seq(), before);

    // A heartbeat brings the paused session back.
    let beat = ok(h.baton.heartbeat(&in_session("claude-code", &sid)));
    assert_eq!(beat.session_id, sid);
    let back = ok(h.baton.view(&me, Some(&sid)));
    assert_eq!(back.session.status, SessionStatus::Active);
}
