//! Search and decisions at the storage level: the full-text index follows the rows it covers, and the
//! database refuses a second decision superseding one.

use baton_core::store::{DecisionQuery, SEARCH_WINDOW, SearchHit, SearchQuery};
use baton_core::{EntryKind, JournalEntry, SearchKind};

use super::*;

fn kinds_and_ids(hits: &[SearchHit]) -> Vec<(&str, &str)> {
    hits.iter().map(|h| (h.kind.as_str(), h.id.as_str())).collect()
}

/// The storage contract of search: what a transaction writes is found once it commits (and by the
/// transaction itself), a changed summary or handoff is found by its new words only, a failed transaction
/// leaves nothing to find, and hits come best first, ties newest first.
pub fn store_search_follows_the_rows_it_covers(make: &MakeStore) {
    let store = open(make);
    let entry = |id: &str, secs: i64, text: &str| JournalEntry {
        id: id.into(),
        session_id: "s1".into(),
        kind: EntryKind::Note,
        text: text.into(),
        rationale: None,
        created_at: at(secs),
        supersedes: None,
    };
    let q = |words: &[&str], kinds: Vec<SearchKind>| SearchQuery {
        project: PROJECT.into(),
        words: words.iter().map(|w| w.to_string()).collect(),
        kinds,
        limit: 10,
    };
    let mut s = session("s1", PROJECT, "alice", 0);
    write(&*store, |tx| {
        tx.insert_session(&s)?;
        tx.insert_entry(&entry("a", 1, "parser done"))?;
        tx.insert_entry(&entry("b", 2, "parser done"))?;
        assert_eq!(
            tx.search(&q(&["parser"], vec![]))?.len(),
            2,
            "found in its own transaction"
        );
        Ok(())
    });
    let hits = read(&*store, |tx| tx.search(&q(&["parser"], vec![])));
    assert_eq!(
        kinds_and_ids(&hits),
        [("journal", "b"), ("journal", "a")],
        "equal ranks: newest first"
    );

    s.summary = Some("lexer finished".into());
    s.handoff = Some(baton_core::Handoff {
        notes: Some("grammar next".into()),
        next: vec!["tokenizer".into()],
        ..Default::default()
    });
    write(&*store, |tx| tx.update_session(&s));
    let handoffs = |words: &[&str]| read(&*store, |tx| tx.search(&q(words, vec![SearchKind::Handoff]))).len();
    assert_eq!(
        (handoffs(&["lexer"]), handoffs(&["grammar"]), handoffs(&["tokenizer"])),
        (1, 1, 1)
    );
    assert_eq!(
        handoffs(&["notes"]),
        0,
        "the handoff's strings are searched, not its field names"
    );
    s.summary = Some("parser finished".into());
    s.handoff = None;
    write(&*store, |tx| tx.update_session(&s));
    assert_eq!(
        (handoffs(&["lexer"]), handoffs(&["grammar"]), handoffs(&["parser"])),
        (0, 0, 1)
    );

    refused(&*store, "a transaction that fails", 2, |tx| {
        tx.insert_entry(&entry("c", 3, "compiler done"))?;
        Err::<(), _>(baton_core::Error::bad_input("the closure gives up"))
    });
    assert_eq!(
        read(&*store, |tx| tx.search(&q(&["compiler"], vec![]))),
        Vec::<SearchHit>::new()
    );
}

/// An entry reads back with the decision it supersedes and its session's project; what superseded a decision
/// is found by the older one's id; a second entry superseding the same decision is refused as a conflict
/// (exit 3) and the first stays; listing decisions leaves superseded ones out unless asked, and names what
/// replaced each.
pub fn store_a_decision_is_superseded_once(make: &MakeStore) {
    let store = open(make);
    let decision = |id: &str, secs: i64, supersedes: Option<&str>| JournalEntry {
        id: id.into(),
        session_id: "s1".into(),
        kind: EntryKind::Decision,
        text: format!("decision {id}"),
        rationale: Some("why".into()),
        created_at: at(secs),
        supersedes: supersedes.map(Into::into),
    };
    write(&*store, |tx| {
        tx.insert_session(&session("s1", PROJECT, "alice", 0))?;
        tx.insert_entry(&decision("d1", 1, None))?;
        tx.insert_entry(&decision("d2", 2, Some("d1")))
    });
    read(&*store, |tx| {
        let (entry, project) = tx.entry_with_project("d2")?.expect("the entry");
        assert_eq!((entry, project.as_str()), (decision("d2", 2, Some("d1")), PROJECT));
        assert_eq!(tx.entry_with_project("d9")?, None);
        assert_eq!(tx.superseded_by("d1")?.as_deref(), Some("d2"));
        assert_eq!(tx.superseded_by("d2")?, None);
        Ok(())
    });
    refused(&*store, "a second decision superseding d1", 3, |tx| {
        tx.insert_entry(&decision("d3", 3, Some("d1")))
    });
    let list = |include_superseded: bool| {
        read(&*store, |tx| {
            tx.decisions(&DecisionQuery {
                project: PROJECT.into(),
                include_superseded,
                limit: 10,
                ..Default::default()
            })
        })
        .into_iter()
        .map(|d| (d.entry.id.to_string(), d.agent, d.superseded_by.map(|b| b.to_string())))
        .collect::<Vec<_>>()
    };
    assert_eq!(
        list(false),
        [("d2".to_string(), "alice".to_string(), None)],
        "d3 was not kept"
    );
    assert_eq!(
        list(true),
        [
            ("d2".to_string(), "alice".to_string(), None),
            ("d1".to_string(), "alice".to_string(), Some("d2".to_string()))
        ]
    );
}

/// Of a word found in more entries than [`SEARCH_WINDOW`], only the newest matches are ranked: an older entry
/// that matches best is left out, and the answer is the best of the newest.
pub fn store_search_ranks_the_newest_matches_only(make: &MakeStore) {
    let store = open(make);
    let entry = |i: u32, text: &str| JournalEntry {
        id: format!("e{i:05}").into(),
        session_id: "s1".into(),
        kind: EntryKind::Note,
        text: text.into(),
        rationale: None,
        created_at: at(i64::from(i)),
        supersedes: None,
    };
    write(&*store, |tx| {
        tx.insert_session(&session("s1", PROJECT, "alice", 0))?;
        tx.insert_entry(&entry(0, "alpha alpha alpha alpha"))?;
        for i in 1..=SEARCH_WINDOW {
            let text = if i == SEARCH_WINDOW / 2 {
                "alpha alpha beta"
            } else {
                "alpha beta gamma delta epsilon"
            };
            tx.insert_entry(&entry(i, text))?;
        }
        Ok(())
    });
    let hits = read(&*store, |tx| {
        tx.search(&SearchQuery {
            project: PROJECT.into(),
            words: vec!["alpha".into()],
            kinds: vec![],
            limit: 3,
        })
    });
    let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    let middle = format!("e{:05}", SEARCH_WINDOW / 2);
    let newest = format!("e{SEARCH_WINDOW:05}");
    let next = format!("e{:05}", SEARCH_WINDOW - 1);
    assert_eq!(ids, [middle.as_str(), newest.as_str(), next.as_str()], "{hits:#?}");
}
