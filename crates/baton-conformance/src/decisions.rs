//! Decisions: the project's decisions listed newest first, and decisions that supersede older ones.

use baton_core::{DecisionsRequest, EntryKind, LogRequest, Logged};

use crate::harness::*;

fn decide(h: &Harness, who: &baton_core::Caller, text: &str, rationale: &str, supersedes: Option<&str>) -> Logged {
    ok(h.baton.log(
        who,
        LogRequest {
            kind: EntryKind::Decision.into(),
            text: text.into(),
            rationale: Some(rationale.into()),
            supersedes: supersedes.map(Into::into),
            idempotency_key: None,
        },
    ))
}

fn listed(h: &Harness, req: DecisionsRequest) -> Vec<String> {
    ok(h.baton.decisions(&caller("anyone"), &req))
        .decisions
        .into_iter()
        .map(|d| d.entry.text)
        .collect()
}

/// `decisions` lists the decisions of every session of the project, newest first, with their session, agent,
/// time and rationale; other kinds of entries and other projects' decisions stay out; `since`, `search` and
/// `limit` narrow it.
pub fn decisions_are_listed_newest_first_across_sessions(make: &MakeStore) {
    let h = Harness::open(make);
    let alice = in_session("alice", &h.start(&caller("alice")).session_id);
    let bob = in_session("bob", &h.start(&caller("bob")).session_id);
    let away = other_project("carol");
    h.start(&away);
    let first = decide(&h, &alice, "JWT for tokens", "stateless", None);
    h.log(&alice, EntryKind::Progress, "login endpoint JWT done");
    h.advance(3600);
    let second = decide(&h, &bob, "Postgres for the team store", "shared", None);
    decide(&h, &away, "JWT elsewhere", "other project", None);

    let list = ok(h.baton.decisions(&caller("anyone"), &DecisionsRequest::default()));
    assert_eq!(list.project, PROJECT);
    let got: Vec<(&str, &str, &str, Option<&str>)> = list
        .decisions
        .iter()
        .map(|d| {
            (
                d.entry.text.as_str(),
                d.agent.as_str(),
                d.entry.session_id.as_str(),
                d.entry.rationale.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "Postgres for the team store",
                "bob",
                bob.session.as_deref().unwrap(),
                Some("shared")
            ),
            (
                "JWT for tokens",
                "alice",
                alice.session.as_deref().unwrap(),
                Some("stateless")
            ),
        ]
    );
    assert_eq!(list.decisions[0].entry.id, second.entry.id);
    assert_eq!(list.decisions[1].entry.created_at, first.entry.created_at);
    assert!(
        list.decisions
            .iter()
            .all(|d| d.superseded_by.is_none() && d.entry.supersedes.is_none())
    );

    let since = |s: &str| DecisionsRequest {
        since: Some(s.into()),
        ..Default::default()
    };
    assert_eq!(listed(&h, since("30m")), ["Postgres for the team store"]);
    assert_eq!(listed(&h, since("2h")).len(), 2);
    assert_eq!(
        listed(&h, since(&first.entry.created_at.to_string())).len(),
        2,
        "an RFC 3339 time: at or after it"
    );
    let search = |s: &str| DecisionsRequest {
        search: Some(s.into()),
        ..Default::default()
    };
    assert_eq!(
        listed(&h, search("jwt")),
        ["JWT for tokens"],
        "not the progress entry, not the other project"
    );
    assert_eq!(
        listed(&h, search("STATELESS")),
        ["JWT for tokens"],
        "rationales are searched, case folded"
    );
    assert_eq!(
        listed(&h, search("team stor")),
        ["Postgres for the team store"],
        "a word finds the words it begins"
    );
    assert_eq!(
        listed(&h, search("jwt shared")),
        Vec::<String>::new(),
        "every word must match"
    );
    let one = DecisionsRequest {
        limit: Some(1),
        ..Default::default()
    };
    assert_eq!(listed(&h, one), ["Postgres for the team store"]);
}

/// A decision that supersedes an older one records both in one transaction (its `journal.decision` event,
/// then `decision.superseded` naming the older one); the older one leaves the list and comes back with `all`,
/// naming what replaced it; a chain can go on from the newest; a retried call with its key replays.
pub fn a_superseding_decision_replaces_the_older_one(make: &MakeStore) {
    let h = Harness::open(make);
    let alice = in_session("alice", &h.start(&caller("alice")).session_id);
    let bob = in_session("bob", &h.start(&caller("bob")).session_id);
    let old = decide(&h, &alice, "sessions in cookies", "simple", None);
    let seq = h.last_seq();
    let req = LogRequest {
        kind: EntryKind::Decision.into(),
        text: "JWT for tokens".into(),
        rationale: Some("stateless".into()),
        supersedes: Some(old.entry.id.to_string()),
        idempotency_key: Some("k-1".into()),
    };
    let new = ok(h.baton.log(&bob, req.clone()));
    assert_eq!(new.entry.supersedes.as_ref(), Some(&old.entry.id));
    assert_eq!(h.kinds_after(seq), ["journal.decision", "decision.superseded"]);
    let events = h.events();
    let superseded = events.last().expect("an event");
    assert_eq!(superseded.target, old.entry.id.as_str());
    assert_eq!(superseded.agent, "bob");
    assert_eq!(superseded.data["superseded_by"], new.entry.id.as_str());
    assert_eq!(events[events.len() - 2].data["supersedes"], old.entry.id.as_str());

    let replayed = ok(h.baton.log(&bob, req));
    assert_eq!(replayed.entry, new.entry, "a retry with its key replays the first call");
    assert_eq!(h.kinds_after(seq).len(), 2, "and writes nothing more");

    assert_eq!(listed(&h, DecisionsRequest::default()), ["JWT for tokens"]);
    let all = ok(h.baton.decisions(
        &caller("anyone"),
        &DecisionsRequest {
            all: true,
            ..Default::default()
        },
    ));
    let got: Vec<(&str, Option<&str>)> = all
        .decisions
        .iter()
        .map(|d| (d.entry.text.as_str(), d.superseded_by.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("JWT for tokens", None),
            ("sessions in cookies", Some(new.entry.id.as_str()))
        ]
    );

    let newest = decide(&h, &alice, "JWT with refresh tokens", "revocable", Some(&new.entry.id));
    assert_eq!(listed(&h, DecisionsRequest::default()), ["JWT with refresh tokens"]);
    let all = ok(h.baton.decisions(
        &caller("anyone"),
        &DecisionsRequest {
            all: true,
            ..Default::default()
        },
    ));
    assert_eq!(all.decisions[1].superseded_by.as_ref(), Some(&newest.entry.id));
}

/// Superseding is refused, changing nothing: with an entry of another kind (2), a malformed id (2), an id no
/// entry has (4), a decision of another project (4), an entry that is not a decision (2), and a decision
/// already superseded (3, naming what replaced it).
pub fn superseding_is_refused_unless_the_older_one_is_a_current_decision_of_the_project(make: &MakeStore) {
    let h = Harness::open(make);
    let me = in_session("alice", &h.start(&caller("alice")).session_id);
    let away = other_project("carol");
    h.start(&away);
    let theirs = decide(&h, &away, "elsewhere", "why", None);
    let progress = h.log(&me, EntryKind::Progress, "half done");
    let old = decide(&h, &me, "old", "why", None);
    let new = decide(&h, &me, "new", "why", Some(&old.entry.id));
    let with = |kind: EntryKind, id: &str| LogRequest {
        kind: kind.into(),
        text: "replacement".into(),
        rationale: None,
        supersedes: Some(id.into()),
        idempotency_key: None,
    };
    h.refused(
        "supersedes with a progress entry",
        2,
        &["--supersedes goes with a decision", "progress"],
        || h.baton.log(&me, with(EntryKind::Progress, &old.entry.id)),
    );
    h.refused("a malformed entry id", 2, &["invalid entry id 'e-1'", "UUID"], || {
        h.baton.log(&me, with(EntryKind::Decision, "e-1"))
    });
    h.refused("an id no entry has", 4, &[UNKNOWN_SESSION, PROJECT], || {
        h.baton.log(&me, with(EntryKind::Decision, UNKNOWN_SESSION))
    });
    h.refused("a decision of another project", 4, &[theirs.entry.id.as_str()], || {
        h.baton.log(&me, with(EntryKind::Decision, &theirs.entry.id))
    });
    let err = h.refused(
        "an entry that is not a decision",
        2,
        &["progress entry, not a decision"],
        || h.baton.log(&me, with(EntryKind::Decision, &progress.entry.id)),
    );
    assert_eq!(
        err.facts().and_then(|f| f.value.as_deref()),
        Some(progress.entry.id.as_str())
    );
    let err = h.refused(
        "a decision already superseded",
        3,
        &["already superseded", new.entry.id.as_str()],
        || h.baton.log(&me, with(EntryKind::Decision, &old.entry.id)),
    );
    assert_eq!(
        err.details().map(|d| d["superseded_by"].clone()),
        Some(serde_json::json!(new.entry.id))
    );
}

/// `decisions` refuses a cursor or a malformed `since`, a limit out of 1 to 1000 and a search without words
/// (exit 2, naming the value).
pub fn decisions_reject_bad_input(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("alice");
    let bad = [
        (
            DecisionsRequest {
                since: Some("42".into()),
                ..Default::default()
            },
            "invalid --since '42'",
        ),
        (
            DecisionsRequest {
                since: Some("yesterday".into()),
                ..Default::default()
            },
            "'yesterday'",
        ),
        (
            DecisionsRequest {
                limit: Some(0),
                ..Default::default()
            },
            "invalid limit '0'",
        ),
        (
            DecisionsRequest {
                search: Some("?!".into()),
                ..Default::default()
            },
            "'?!' has no words",
        ),
    ];
    for (req, needle) in bad {
        h.refused(needle, 2, &[needle], || h.baton.decisions(&me, &req));
    }
}
