//! Events at the storage level: seqs, every filter of an event query (kind families taken literally),
//! paging, newest first, capped counts, the first seq since a time and the last seq.

use baton_core::NewEvent;
use baton_core::store::EventQuery;
use serde_json::json;

use super::*;

const OTHER: &str = "github.com/org/other";

fn event(project: &str, agent: &str, session: Option<&str>, kind: &'static str, secs: i64) -> NewEvent {
    NewEvent {
        time: at(secs),
        project: project.into(),
        agent: agent.into(),
        session_id: session.map(Into::into),
        kind,
        target: format!("{kind} target"),
        data: json!({"zeta": 1, "alpha": [true, null, "naïve \"x\""], "n": -1.5}),
    }
}

/// Appends `events`, one transaction each, and returns their seqs.
fn append(store: &dyn Store, events: &[NewEvent]) -> Vec<i64> {
    events
        .iter()
        .map(|e| {
            write(store, |tx| tx.append_event(e));
            read(store, |tx| tx.last_seq())
        })
        .collect()
}

/// Every event of `q` with its limit raised, as (seq, kind).
fn listed(store: &dyn Store, q: EventQuery) -> Vec<(i64, String)> {
    read(store, |tx| tx.events(&q))
        .into_iter()
        .map(|e| (e.seq, e.kind))
        .collect()
}

fn all(q: EventQuery) -> EventQuery {
    EventQuery { limit: 1000, ..q }
}

/// An empty store's last seq is 0; each committed event gets a higher seq than every one before it, and
/// reads back exactly as appended; several events of one transaction keep their order.
pub fn store_events_get_growing_seqs_and_read_back(make: &MakeStore) {
    let store = open(make);
    assert_eq!(read(&*store, |tx| tx.last_seq()), 0);
    assert!(read(&*store, |tx| tx.events(&all(EventQuery::default()))).is_empty());
    let first = event(PROJECT, "claude-code", Some("s1"), "session.started", 0);
    let seqs = append(&*store, std::slice::from_ref(&first));
    write(&*store, |tx| {
        tx.append_event(&event(PROJECT, "claude-code", None, "claim.granted", 1))?;
        tx.append_event(&event(OTHER, "codex", Some("s2"), "claim.released", 2))?;
        tx.append_event(&event(PROJECT, "codex", Some("s2"), "journal.note", 3))
    });
    let got = read(&*store, |tx| tx.events(&all(EventQuery::default())));
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].seq, seqs[0]);
    assert!(got.windows(2).all(|w| w[0].seq < w[1].seq), "seqs grow: {got:?}");
    assert_eq!(
        got.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["session.started", "claim.granted", "claim.released", "journal.note"],
        "events of one transaction keep their order"
    );
    let e = &got[0];
    assert_eq!(
        (
            e.time,
            e.project.as_str(),
            e.agent.as_str(),
            e.session_id.as_deref(),
            e.target.as_str()
        ),
        (
            first.time,
            first.project.as_str(),
            first.agent.as_str(),
            Some("s1"),
            first.target.as_str()
        )
    );
    assert_eq!(
        e.data.to_string(),
        first.data.to_string(),
        "data reads back with its keys in order"
    );
    assert_eq!(got[1].session_id, None);
    assert_eq!(read(&*store, |tx| tx.last_seq()), got[3].seq);
}

/// Each filter narrows the events, and they combine: project, after a seq, agent, an exact kind, a family
/// (`claim` is `claim` and every `claim.*`, taken literally, case and all), kinds left out, one session's
/// events left out (events of no session stay).
pub fn store_event_queries_filter(make: &MakeStore) {
    let store = open(make);
    let seqs = append(
        &*store,
        &[
            event(PROJECT, "claude-code", Some("s1"), "claim.granted", 0),
            event(PROJECT, "codex", Some("s2"), "claim.released", 1),
            event(PROJECT, "codex", None, "claims.swept", 2),
            event(PROJECT, "codex", Some("s2"), "axb.c", 3),
            event(OTHER, "codex", Some("s2"), "claim.granted", 4),
            event(PROJECT, "codex", Some("s1"), "claim", 5),
            event(PROJECT, "codex", Some("s1"), "Claim.granted", 6),
        ],
    );
    let s = |i: usize| seqs[i];
    let kinds = |q: EventQuery| {
        listed(&*store, all(q))
            .into_iter()
            .map(|(seq, _)| seq)
            .collect::<Vec<_>>()
    };
    let project = Some(PROJECT.to_string());
    let kind = |k: &str| EventQuery {
        project: project.clone(),
        kind: Some(k.into()),
        ..Default::default()
    };

    assert_eq!(
        kinds(EventQuery {
            project: project.clone(),
            ..Default::default()
        }),
        [s(0), s(1), s(2), s(3), s(5), s(6)]
    );
    assert_eq!(
        kinds(EventQuery {
            project: Some(OTHER.into()),
            ..Default::default()
        }),
        [s(4)]
    );
    assert_eq!(
        kinds(EventQuery {
            after_seq: s(3),
            ..Default::default()
        }),
        [s(4), s(5), s(6)],
        "strictly after"
    );
    assert_eq!(
        kinds(EventQuery {
            agent: Some("claude-code".into()),
            ..Default::default()
        }),
        [s(0)]
    );
    assert_eq!(kinds(kind("claim.granted")), [s(0)], "an exact kind");
    assert_eq!(
        kinds(kind("claim")),
        [s(0), s(1), s(5)],
        "a family: the kind itself and those under it"
    );
    assert_eq!(kinds(kind("claims")), [s(2)]);
    assert_eq!(
        kinds(kind("clai")),
        Vec::<i64>::new(),
        "a family is a whole word, not a prefix"
    );
    assert_eq!(kinds(kind("a_b")), Vec::<i64>::new(), "`_` in a family is no wildcard");
    assert_eq!(kinds(kind("%")), Vec::<i64>::new(), "`%` in a family is no wildcard");
    assert_eq!(
        kinds(kind("CLAIM")),
        Vec::<i64>::new(),
        "kinds are matched case and all"
    );
    assert_eq!(
        kinds(EventQuery {
            exclude_kinds: vec!["claim.granted".into(), "axb.c".into()],
            ..Default::default()
        }),
        [s(1), s(2), s(5), s(6)]
    );
    assert_eq!(
        kinds(EventQuery {
            project: project.clone(),
            exclude_session: Some("s2".into()),
            ..Default::default()
        }),
        [s(0), s(2), s(5), s(6)],
        "events of no session are kept"
    );
    assert_eq!(
        kinds(EventQuery {
            project,
            after_seq: s(0),
            agent: Some("codex".into()),
            kind: Some("claim".into()),
            exclude_kinds: vec!["claim".into()],
            exclude_session: Some("s1".into()),
            ..Default::default()
        }),
        [s(1)]
    );
}

/// Paging by `after_seq` with a small limit visits every event once, oldest first; newest first lists
/// from the top, also after a seq; the limit cuts either way.
pub fn store_events_page_and_list_newest_first(make: &MakeStore) {
    let store = open(make);
    let events: Vec<NewEvent> = (0..7)
        .map(|i| event(PROJECT, "claude-code", Some("s1"), "journal.note", i))
        .collect();
    let seqs = append(&*store, &events);
    let mut seen = Vec::new();
    let mut cursor = 0;
    loop {
        let page = listed(
            &*store,
            EventQuery {
                after_seq: cursor,
                limit: 3,
                ..Default::default()
            },
        );
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        cursor = last.0;
        seen.extend(page.into_iter().map(|(seq, _)| seq));
    }
    assert_eq!(seen, seqs, "every event once, in order");
    let newest = |after_seq: i64, limit: u32| {
        listed(
            &*store,
            EventQuery {
                after_seq,
                limit,
                newest_first: true,
                ..Default::default()
            },
        )
        .into_iter()
        .map(|(seq, _)| seq)
        .collect::<Vec<_>>()
    };
    assert_eq!(newest(0, 2), [seqs[6], seqs[5]]);
    assert_eq!(newest(seqs[4], 10), [seqs[6], seqs[5]]);
    assert_eq!(newest(seqs[6], 10), Vec::<i64>::new());
}

/// A count takes the same filters as a listing and stops at its cap.
pub fn store_event_counts_filter_and_stop_at_the_cap(make: &MakeStore) {
    let store = open(make);
    let mut events: Vec<NewEvent> = (0..5)
        .map(|i| event(PROJECT, "claude-code", Some("s1"), "claim.granted", i))
        .collect();
    events.push(event(PROJECT, "codex", None, "journal.note", 5));
    events.push(event(OTHER, "codex", None, "claim.granted", 6));
    let seqs = append(&*store, &events);
    let count = |q: EventQuery, cap: u32| read(&*store, |tx| tx.count_events(&q, cap));
    let project = Some(PROJECT.to_string());
    assert_eq!(count(EventQuery::default(), 100), 7);
    assert_eq!(count(EventQuery::default(), 3), 3, "stops at the cap");
    assert_eq!(
        count(
            EventQuery {
                project: project.clone(),
                ..Default::default()
            },
            100
        ),
        6
    );
    assert_eq!(
        count(
            EventQuery {
                project: project.clone(),
                kind: Some("claim".into()),
                ..Default::default()
            },
            100
        ),
        5
    );
    assert_eq!(
        count(
            EventQuery {
                after_seq: seqs[3],
                ..Default::default()
            },
            100
        ),
        3
    );
    assert_eq!(
        count(
            EventQuery {
                exclude_session: Some("s1".into()),
                ..Default::default()
            },
            100
        ),
        2
    );
    assert_eq!(
        count(
            EventQuery {
                agent: Some("nobody".into()),
                ..Default::default()
            },
            100
        ),
        0
    );
    assert_eq!(
        count(
            EventQuery {
                project,
                limit: 1,
                ..Default::default()
            },
            100
        ),
        6,
        "the listing's limit does not cap a count"
    );
}

/// The first seq of a project at or after a time, or nothing when it has no event since.
pub fn store_first_seq_since_a_time(make: &MakeStore) {
    let store = open(make);
    assert_eq!(read(&*store, |tx| tx.first_seq_since(PROJECT, at(0))), None);
    let seqs = append(
        &*store,
        &[
            event(PROJECT, "claude-code", None, "journal.note", 10),
            event(OTHER, "claude-code", None, "journal.note", 20),
            event(PROJECT, "claude-code", None, "journal.note", 20),
            event(PROJECT, "claude-code", None, "journal.note", 30),
        ],
    );
    let since = |project: &str, secs: i64| read(&*store, |tx| tx.first_seq_since(project, at(secs)));
    assert_eq!(since(PROJECT, 0), Some(seqs[0]));
    assert_eq!(since(PROJECT, 10), Some(seqs[0]), "at the time counts");
    assert_eq!(since(PROJECT, 11), Some(seqs[2]), "of this project only");
    assert_eq!(since(OTHER, 0), Some(seqs[1]));
    assert_eq!(since(PROJECT, 31), None);
    assert_eq!(since("github.com/org/none", 0), None);
}
