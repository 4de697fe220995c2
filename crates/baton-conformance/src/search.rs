//! Search: journal entries and handoffs found by their words, ranked, narrowed by kind, bounded.

use baton_core::store::SearchHit;
use baton_core::{EndRequest, EntryKind, LogRequest, SearchKind, SearchRequest, Wire};

use crate::harness::*;

fn find(h: &Harness, text: &str, kinds: &[&str], limit: Option<u32>) -> Vec<SearchHit> {
    ok(h.baton.search(
        &caller("anyone"),
        &SearchRequest {
            text: text.into(),
            kinds: kinds.iter().map(|k| Wire::text(*k)).collect(),
            limit,
        },
    ))
    .hits
}

fn kinds_and_ids(hits: &[SearchHit]) -> Vec<(&str, &str)> {
    hits.iter().map(|h| (h.kind.as_str(), h.id.as_str())).collect()
}

/// A search finds journal entries of every kind and the handoffs sessions ended with, in this project only,
/// best first: an entry that says the word three times in a few words ranks above one that says it once in
/// many. Every word must match; a word of four characters or more finds the words it begins; case does not
/// count. Each hit names its kind, session, agent and time, and a snippet marks what matched.
pub fn search_finds_entries_and_handoffs_best_first(make: &MakeStore) {
    let h = Harness::open(make);
    let alice = in_session("alice", &h.start(&caller("alice")).session_id);
    let bob_id = h.start(&caller("bob")).session_id;
    let bob = in_session("bob", &bob_id);
    let away = other_project("carol");
    h.start(&away);
    let strong = h.log(&alice, EntryKind::Progress, "Retry, retry, retry");
    let weak = h.log(
        &alice,
        EntryKind::Blocker,
        "the deploy script should retry once when the flaky staging network drops a connection",
    );
    let decision = ok(h.baton.log(
        &alice,
        LogRequest {
            kind: EntryKind::Decision.into(),
            text: "exponential backoff".into(),
            rationale: Some("a retry storm took staging down".into()),
            supersedes: None,
            idempotency_key: None,
        },
    ));
    h.log(&alice, EntryKind::Note, "nothing to see here");
    h.log(&away, EntryKind::Progress, "retry elsewhere");
    ok(h.baton.end_session(
        &away,
        EndRequest {
            summary: Some("handed over elsewhere".into()),
            handoff: Some("retry the elsewhere queue".into()),
            ..Default::default()
        },
    ));
    let ended = ok(h.baton.end_session(
        &bob,
        EndRequest {
            summary: Some("billing done".into()),
            handoff: Some("invoices retry at night".into()),
            next: vec!["watch the retrying queue".into()],
            ..Default::default()
        },
    ));

    let hits = find(&h, "retry", &[], None);
    let found = kinds_and_ids(&hits);
    assert_eq!(found.len(), 4, "{hits:#?}");
    assert_eq!(found[0], ("journal", strong.entry.id.as_str()), "{hits:#?}");
    for expected in [
        ("journal", weak.entry.id.as_str()),
        ("decision", decision.entry.id.as_str()),
        ("handoff", bob_id.as_str()),
    ] {
        assert!(found.contains(&expected), "{expected:?} in {found:?}");
    }
    let rank = |id: &str| hits.iter().find(|x| x.id == id).map(|x| x.rank).unwrap_or_default();
    assert!(rank(&strong.entry.id) > rank(&weak.entry.id), "{hits:#?}");
    assert!(hits.windows(2).all(|w| w[0].rank >= w[1].rank), "best first: {hits:#?}");

    let first = &hits[0];
    assert_eq!(first.entry_kind, Some(EntryKind::Progress));
    assert_eq!(first.session_id, strong.session_id);
    assert_eq!(first.agent, "alice");
    assert_eq!(first.time, strong.entry.created_at);
    assert!(first.snippet.to_lowercase().contains("[retry]"), "{first:?}");
    let handoff = hits
        .iter()
        .find(|x| x.kind == SearchKind::Handoff)
        .expect("the handoff");
    assert_eq!((handoff.agent.as_str(), handoff.entry_kind), ("bob", None));
    assert_eq!(Some(handoff.time), ended.session.ended_at);
    assert!(handoff.snippet.contains("[retry]"), "{handoff:?}");

    assert_eq!(
        kinds_and_ids(&find(&h, "RETRY staging", &[], None)).len(),
        2,
        "every word must match: the blocker and the decision's rationale"
    );
    let prefix = find(&h, "retr", &[], None);
    assert_eq!(prefix.len(), 4, "a word finds the words it begins: {prefix:#?}");
    assert!(
        find(&h, "retryi", &[], None)
            .iter()
            .all(|x| x.kind == SearchKind::Handoff),
        "'retrying' is in the handoff's next steps only"
    );
    assert_eq!(
        find(&h, "re", &[], None),
        Vec::<SearchHit>::new(),
        "a short word matches only itself"
    );
    assert_eq!(
        find(&h, "elsewhere", &[], None),
        Vec::<SearchHit>::new(),
        "other projects' entries and handoffs stay out"
    );
}

/// `decision` narrows a search to decisions, `journal` to journal entries (decisions included), `handoff` to
/// handoffs; several kinds add up; `limit` keeps the best ones.
pub fn search_kinds_narrow_and_limit_bounds(make: &MakeStore) {
    let h = Harness::open(make);
    let alice = in_session("alice", &h.start(&caller("alice")).session_id);
    let bob_id = h.start(&caller("bob")).session_id;
    let d = ok(h.baton.log(
        &alice,
        LogRequest {
            kind: EntryKind::Decision.into(),
            text: "cache the schema".into(),
            rationale: Some("schema reads are slow".into()),
            supersedes: None,
            idempotency_key: None,
        },
    ));
    let p = h.log(&alice, EntryKind::Progress, "schema cache in place");
    ok(h.baton.end_session(
        &in_session("bob", &bob_id),
        EndRequest {
            summary: Some("schema work".into()),
            ..Default::default()
        },
    ));
    let ids = |kinds: &[&str]| {
        let mut got: Vec<String> = find(&h, "schema", kinds, None).into_iter().map(|x| x.id).collect();
        got.sort();
        got
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(ids(&["decision"]), [d.entry.id.to_string()]);
    assert_eq!(
        ids(&["journal"]),
        sorted(vec![d.entry.id.to_string(), p.entry.id.to_string()])
    );
    assert_eq!(ids(&["handoff"]), [bob_id.to_string()]);
    assert_eq!(
        ids(&["decision", "handoff"]),
        sorted(vec![d.entry.id.to_string(), bob_id.to_string()])
    );
    assert_eq!(ids(&[]).len(), 3);
    let all = find(&h, "schema", &[], None);
    let best = find(&h, "schema", &[], Some(1));
    assert_eq!(best, all[..1].to_vec(), "the limit keeps the best");
    assert_eq!(find(&h, "schema", &[], Some(1000)).len(), 3);
}

/// A search without words, with too many words, of an unknown kind, or with a limit out of 1 to 1000 is
/// refused with exit 2, naming the value and what is accepted.
pub fn search_rejects_bad_input(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("alice");
    let req = |text: &str, kinds: &[&str], limit: Option<u32>| SearchRequest {
        text: text.into(),
        kinds: kinds.iter().map(|k| Wire::text(*k)).collect(),
        limit,
    };
    let many: Vec<String> = (0..17).map(|i| format!("w{i}")).collect();
    let cases = [
        (req("", &[], None), vec!["search text is empty"]),
        (req("   ", &[], None), vec!["search text is empty"]),
        (
            req("--- ?", &[], None),
            vec!["'--- ?' has no words", "letters or digits"],
        ),
        (req(&many.join(" "), &[], None), vec!["17 words", "at most 16"]),
        (
            req("retry", &["decisions"], None),
            vec!["unknown search kind 'decisions'", "decision, journal, handoff"],
        ),
        (req("retry", &[], Some(0)), vec!["invalid limit '0'", "1 to 1000"]),
        (req("retry", &[], Some(1001)), vec!["invalid limit '1001'"]),
    ];
    for (r, needles) in cases {
        h.refused(needles[0], 2, &needles, || h.baton.search(&me, &r));
    }
    let err = expect_err(
        h.baton.search(&me, &req("x", &["messages"], None)),
        2,
        &[],
        "unknown kind",
    );
    let facts = err.facts().expect("facts");
    assert_eq!((facts.field, facts.value.as_deref()), (Some("kind"), Some("messages")));
    assert_eq!(facts.accepted, ["decision", "journal", "handoff"]);
}
