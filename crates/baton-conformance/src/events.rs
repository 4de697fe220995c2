//! The activity log: `changes` (order, filters, paging, `since`) and an event for every state change.

use baton_core::{
    ChangesPage, ChangesRequest, ClaimsRequest, CloseAs, EndRequest, EntryKind, Event, ReleaseStatus, SessionStatus,
};

use crate::harness::*;

fn changes(h: &Harness, req: ChangesRequest) -> ChangesPage {
    ok(h.baton.changes(&caller("observer"), &req))
}

fn kinds(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

/// A small history: two agents, journal, claims, an end. Returns its event kinds in order.
fn history(h: &Harness) -> Vec<&'static str> {
    let a = caller("claude-code");
    let b = caller("codex");
    h.start(&a);
    h.log(&a, EntryKind::Progress, "one");
    h.start(&b);
    h.grant(&a, "issue", "1");
    h.claim(&a, "issue", "1");
    h.log(&b, EntryKind::Decision, "two");
    h.grant(&b, "pr", "2");
    ok(h.baton.release(&a, release_req("issue", "1", ReleaseStatus::Completed)));
    ok(h.baton.end_session(&b, EndRequest::default()));
    vec![
        "session.started",
        "journal.progress",
        "session.started",
        "claim.granted",
        "claim.renewed",
        "journal.decision",
        "claim.granted",
        "claim.released",
        "claim.released",
        "session.ended",
    ]
}

/// `changes` lists the project's events oldest first with growing `seq`, and a cursor at the last one.
pub fn changes_oldest_first(make: &MakeStore) {
    let h = Harness::open(make);
    let want = history(&h);
    h.start(&other_project("claude-code"));
    let page = changes(&h, ChangesRequest::default());
    assert_eq!(page.project, PROJECT);
    assert_eq!(kinds(&page.events), want, "only this project's events, oldest first");
    assert!(
        page.events
            .windows(2)
            .all(|w| w[0].seq < w[1].seq && w[0].time <= w[1].time)
    );
    assert!(page.events.iter().all(|e| e.project == PROJECT));
    assert_eq!(page.next_cursor, page.events.last().expect("events").seq);
    assert!(!page.more);
    // The same events, read straight from the store, are identical.
    let stored: Vec<Event> = h.events().into_iter().filter(|e| e.project == PROJECT).collect();
    assert_eq!(page.events, stored);
    // Nothing after the cursor.
    let next = changes(
        &h,
        ChangesRequest {
            since: Some(page.next_cursor.to_string()),
            ..Default::default()
        },
    );
    assert!(next.events.is_empty());
    assert!(!next.more);
    assert!(next.next_cursor >= page.next_cursor);
}

/// `kind` filters by an exact kind or by a family.
pub fn changes_kind_filter(make: &MakeStore) {
    let h = Harness::open(make);
    history(&h);
    let exact = changes(
        &h,
        ChangesRequest {
            kind: Some("claim.granted".into()),
            ..Default::default()
        },
    );
    assert_eq!(kinds(&exact.events), ["claim.granted", "claim.granted"]);
    assert_eq!(
        exact.events.iter().map(|e| e.target.as_str()).collect::<Vec<_>>(),
        ["issue org/app#1", "pr org/app#2"]
    );
    let family = changes(
        &h,
        ChangesRequest {
            kind: Some("claim".into()),
            ..Default::default()
        },
    );
    assert_eq!(
        kinds(&family.events),
        [
            "claim.granted",
            "claim.renewed",
            "claim.granted",
            "claim.released",
            "claim.released"
        ]
    );
    let journal = changes(
        &h,
        ChangesRequest {
            kind: Some("journal".into()),
            ..Default::default()
        },
    );
    assert_eq!(kinds(&journal.events), ["journal.progress", "journal.decision"]);
    let session = changes(
        &h,
        ChangesRequest {
            kind: Some("session".into()),
            ..Default::default()
        },
    );
    assert_eq!(
        kinds(&session.events),
        ["session.started", "session.started", "session.ended"]
    );
    let none = changes(
        &h,
        ChangesRequest {
            kind: Some("claim.expired".into()),
            ..Default::default()
        },
    );
    assert!(none.events.is_empty());
}

/// `agent` filters by who acted.
pub fn changes_agent_filter(make: &MakeStore) {
    let h = Harness::open(make);
    history(&h);
    let codex = changes(
        &h,
        ChangesRequest {
            agent: Some("codex".into()),
            ..Default::default()
        },
    );
    assert_eq!(
        kinds(&codex.events),
        [
            "session.started",
            "journal.decision",
            "claim.granted",
            "claim.released",
            "session.ended"
        ]
    );
    assert!(codex.events.iter().all(|e| e.agent == "codex"));
    let both = changes(
        &h,
        ChangesRequest {
            agent: Some("claude-code".into()),
            kind: Some("claim".into()),
            ..Default::default()
        },
    );
    assert_eq!(
        kinds(&both.events),
        ["claim.granted", "claim.renewed", "claim.released"]
    );
    let nobody = changes(
        &h,
        ChangesRequest {
            agent: Some("gemini".into()),
            ..Default::default()
        },
    );
    assert!(nobody.events.is_empty());
}

/// Paging with `limit` and `next_cursor` visits every event exactly once, in order.
pub fn changes_paging_visits_every_event_once(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    h.start(&me);
    for i in 1..250 {
        h.log(&me, EntryKind::Progress, &format!("step {i}"));
    }
    let all: Vec<i64> = h.events().iter().map(|e| e.seq).collect();
    assert_eq!(all.len(), 250);
    for limit in [100, 7, 250, 1000] {
        let mut seen = Vec::new();
        let mut since: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = changes(
                &h,
                ChangesRequest {
                    since: since.clone(),
                    limit: Some(limit),
                    ..Default::default()
                },
            );
            pages += 1;
            assert!(page.events.len() <= limit as usize);
            seen.extend(page.events.iter().map(|e| e.seq));
            if let Some(last) = page.events.last() {
                assert_eq!(page.next_cursor, last.seq);
            }
            since = Some(page.next_cursor.to_string());
            if !page.more {
                break;
            }
            assert_eq!(page.events.len(), limit as usize, "a page before the last one is full");
            assert!(pages <= 300, "paging does not end");
        }
        assert_eq!(seen, all, "limit {limit}: every event once, in order");
        assert_eq!(pages, 250usize.div_ceil(limit as usize), "limit {limit}: pages");
    }
    // The last page's `more` is false and the texts arrive in the order logged.
    let page = changes(
        &h,
        ChangesRequest {
            since: Some(all[247].to_string()),
            ..Default::default()
        },
    );
    assert_eq!(page.events.len(), 2);
    assert!(!page.more);
    assert_eq!(page.events[1].data["text"], "step 249");
}

/// `since` accepts a duration back from now, an RFC 3339 time, or a cursor.
pub fn changes_since_duration_time_cursor(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    h.start(&me);
    h.log(&me, EntryKind::Progress, "early");
    h.advance(3600);
    h.log(&me, EntryKind::Progress, "late 1");
    h.log(&me, EntryKind::Progress, "late 2");
    let all = h.events();
    let texts = |p: &ChangesPage| {
        p.events
            .iter()
            .map(|e| e.data["text"].as_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()
    };

    let recent = changes(
        &h,
        ChangesRequest {
            since: Some("30m".into()),
            ..Default::default()
        },
    );
    assert_eq!(texts(&recent), ["late 1", "late 2"]);
    let hour = changes(
        &h,
        ChangesRequest {
            since: Some("2h".into()),
            ..Default::default()
        },
    );
    assert_eq!(hour.events.len(), 4);

    // An RFC 3339 time includes events at that very time.
    let at = all[2].time.to_string();
    let from_time = changes(
        &h,
        ChangesRequest {
            since: Some(at),
            ..Default::default()
        },
    );
    assert_eq!(texts(&from_time), ["late 1", "late 2"]);
    let whole_second = changes(
        &h,
        ChangesRequest {
            since: Some("2026-01-01T00:30:00Z".into()),
            ..Default::default()
        },
    );
    assert_eq!(texts(&whole_second), ["late 1", "late 2"]);
    let future = changes(
        &h,
        ChangesRequest {
            since: Some("2030-01-01T00:00:00Z".into()),
            ..Default::default()
        },
    );
    assert!(future.events.is_empty());
    assert!(!future.more);
    assert_eq!(
        future.next_cursor, all[3].seq,
        "with nothing new the cursor is the newest event"
    );

    // A cursor means strictly after that seq.
    let after = changes(
        &h,
        ChangesRequest {
            since: Some(all[1].seq.to_string()),
            ..Default::default()
        },
    );
    assert_eq!(texts(&after), ["late 1", "late 2"]);
    let from_zero = changes(
        &h,
        ChangesRequest {
            since: Some("0".into()),
            ..Default::default()
        },
    );
    assert_eq!(from_zero.events, all);
}

/// Malformed `since`, `kind`, `limit` or `agent` are bad input.
pub fn changes_rejects_bad_input(make: &MakeStore) {
    let h = Harness::open(make);
    history(&h);
    let req = |since: Option<&str>, kind: Option<&str>, limit: Option<u32>| ChangesRequest {
        since: since.map(Into::into),
        kind: kind.map(Into::into),
        limit,
        agent: None,
    };
    let cases = [
        ("since: a word", req(Some("yesterday"), None, None), "'yesterday'"),
        ("since: negative duration", req(Some("-5m"), None, None), "'-5m'"),
        (
            "since: bad time",
            req(Some("2026-13-45T99:00:00Z"), None, None),
            "2026-13-45",
        ),
        ("since: empty", req(Some(""), None, None), "since"),
        ("kind: unknown family", req(None, Some("claims"), None), "'claims'"),
        (
            "kind: unknown kind",
            req(None, Some("claim.grant"), None),
            "'claim.grant'",
        ),
        ("kind: empty", req(None, Some(""), None), "kind"),
        ("limit: zero", req(None, None, Some(0)), "'0'"),
        ("limit: too big", req(None, None, Some(1001)), "'1001'"),
    ];
    for (what, r, needle) in cases {
        h.refused(what, 2, &[needle], || h.baton.changes(&caller("observer"), &r));
    }
    h.refused("agent with a space", 2, &["agent"], || {
        h.baton.changes(
            &caller("observer"),
            &ChangesRequest {
                agent: Some("a b".into()),
                ..Default::default()
            },
        )
    });
    assert_eq!(changes(&h, req(None, None, Some(1000))).events.len(), 10);
    assert_eq!(changes(&h, req(None, None, Some(1))).events.len(), 1);
}

/// Every state change writes its events, in the same call; reads and refusals write none.
pub fn every_state_change_writes_an_event(make: &MakeStore) {
    let h = Harness::open(make);
    let a = caller("claude-code");
    let b = caller("codex");
    let step = |what: &str, want: &[&str], f: &dyn Fn()| {
        let before = h.last_seq();
        f();
        let new: Vec<Event> = h.events().into_iter().filter(|e| e.seq > before).collect();
        assert_eq!(kinds(&new), want, "{what}");
        for e in &new {
            assert_eq!(e.project, PROJECT, "{what}: {e:?}");
            assert!(!e.target.is_empty(), "{what}: {e:?}");
        }
    };
    step("start", &["session.started"], &|| {
        h.start(&a);
    });
    let sa = ok(h.baton.view(&a, None)).session.id;
    step("start another", &["session.started"], &|| {
        h.start(&b);
    });
    step("log", &["journal.progress"], &|| {
        h.log(&a, EntryKind::Progress, "p");
    });
    step("checkpoint", &["session.checkpoint"], &|| {
        ok(h.baton.checkpoint(&a, Some("saved".into())));
    });
    step("compaction", &["session.checkpoint"], &|| {
        assert_eq!(ok(h.baton.record_compaction(&a)).compaction_count, 1);
    });
    step("claim", &["claim.granted"], &|| {
        h.grant(&a, "issue", "1");
    });
    step("claim again", &["claim.renewed"], &|| {
        h.claim(&a, "issue", "1");
    });
    step("claim held by another", &[], &|| {
        assert!(!h.claim(&b, "issue", "1").claimed);
    });
    step("heartbeat", &["session.heartbeat"], &|| {
        ok(h.baton.heartbeat(&a));
    });
    step("pause", &["session.paused"], &|| {
        ok(h.baton.pause(&a, None));
    });
    step("resume", &["session.resumed"], &|| {
        ok(h.baton.resume(&a, None));
    });
    step("release", &["claim.released"], &|| {
        ok(h.baton.release(&a, release_req("issue", "1", ReleaseStatus::Blocked)));
    });
    step("reads", &[], &|| {
        ok(h.baton.digest(&a));
        ok(h.baton.changes(&a, &ChangesRequest::default()));
        ok(h.baton.claims(
            &a,
            ClaimsRequest {
                include_released: true,
                ..Default::default()
            },
        ));
        ok(h.baton.list_sessions(&a, None, true, None));
        ok(h.baton.view(&a, None));
        ok(h.baton.sweep(None));
    });
    step("refusals", &[], &|| {
        assert!(h.baton.log(&a, log_req(EntryKind::Progress, "")).is_err());
        assert!(h.baton.claim(&a, claim_req("Issue", "2")).is_err());
        assert!(
            h.baton
                .release(&b, release_req("issue", "1", ReleaseStatus::Completed))
                .is_err()
        );
        assert!(h.baton.resume(&a, Some(UNKNOWN_SESSION)).is_err());
        assert!(h.baton.close(&a, CloseAs::Abandon { reason: String::new() }).is_err());
    });
    step("pause with a note", &["journal.note", "session.paused"], &|| {
        ok(h.baton.pause(&a, Some("back soon".into())));
    });
    step("pause a paused session", &[], &|| {
        assert!(h.baton.pause(&in_session("claude-code", &sa), None).is_err());
    });
    step(
        "heartbeat resumes a paused session",
        &["session.resumed", "session.heartbeat"],
        &|| {
            ok(h.baton.heartbeat(&a));
        },
    );
    h.grant(&a, "task", "t");
    step("end with a held claim", &["claim.released", "session.ended"], &|| {
        ok(h.baton.end_session(
            &a,
            EndRequest {
                summary: Some("s".into()),
                ..Default::default()
            },
        ));
    });
    step("abandon", &["session.abandoned"], &|| {
        ok(h.baton.close(&b, CloseAs::Abandon { reason: "r".into() }));
    });
    let ended = ok(h.baton.list_sessions(&a, None, false, None));
    assert!(
        ended.sessions.iter().all(|s| s.status.is_ended()),
        "{:?}",
        ended.sessions
    );
    assert!(ended.sessions.iter().any(|s| s.status == SessionStatus::Abandoned));
}
