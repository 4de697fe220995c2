//! Claims at the storage level: grants read back whole, the newest grant of an item, updates by id, the
//! database's own refusal of a second holder, and every filter of a claim query.

use baton_core::store::ClaimQuery;
use baton_core::{Claim, ClaimState, ReleaseStatus};

use super::*;

/// A grant reads back exactly as written; the newest grant of an item is the one with the highest token,
/// whatever order they were written in, and the newest of one session's is that session's highest.
pub fn store_claims_read_back_and_the_latest_has_the_highest_token(make: &MakeStore) {
    let store = open(make);
    let key = item("issue", "7");
    let mut first = grant("c1", &key, 1, "s1", 0);
    first.state = ClaimState::TakenOver;
    first.ended_at = Some(at(10));
    first.notes = Some("naïve \"notes\"".into());
    let mut third = grant("c3", &key, 3, "s1", 20);
    third.state = ClaimState::Released;
    third.release_status = Some(ReleaseStatus::Deferred);
    third.ended_at = Some(at(30));
    third.forced_by = Some("bob".into());
    third.loss_reported = true;
    let mut second = grant("c2", &key, 2, "s2", 10);
    second.state = ClaimState::Expired;
    let other = grant("c4", &item("issue", "8"), 1, "s1", 0);
    write(&*store, |tx| {
        for c in [&first, &third, &second, &other] {
            tx.insert_claim(c)?;
        }
        Ok(())
    });
    read(&*store, |tx| {
        assert_eq!(
            tx.latest_claim(&key)?,
            Some(third.clone()),
            "the highest token, every field as written"
        );
        assert_eq!(tx.session_claim_on(&key, "s1")?, Some(third.clone()));
        assert_eq!(tx.session_claim_on(&key, "s2")?, Some(second.clone()));
        assert_eq!(tx.session_claim_on(&key, "s9")?, None);
        assert_eq!(tx.latest_claim(&item("issue", "9"))?, None);
        assert_eq!(tx.latest_claim(&item("pr", "7"))?, None, "the type is part of the item");
        let mut elsewhere = key.clone();
        elsewhere.repo = "org/other".into();
        assert_eq!(tx.latest_claim(&elsewhere)?, None, "the repo is part of the item");
        Ok(())
    });
    // A write transaction sees its own grants, after locking the item as the rules do.
    write(&*store, |tx| {
        let fourth = grant("c5", &key, 4, "s2", 40);
        tx.lock_item(&key)?;
        assert_eq!(tx.latest_claim(&key)?, Some(third.clone()));
        tx.insert_claim(&fourth)?;
        assert_eq!(tx.latest_claim(&key)?, Some(fourth));
        Ok(())
    });
}

/// `update_claim` overwrites the mutable fields of the claim with the given id, and nothing else. The id
/// decides: a claim that shares another's item and token but not its id is no claim at all, and so is an
/// id given with another token; either is not found (exit 4), by the call or at the latest by the commit.
pub fn store_update_claim_is_by_id(make: &MakeStore) {
    let store = open(make);
    let key = item("issue", "7");
    let held = grant("c1", &key, 1, "s1", 0);
    write(&*store, |tx| tx.insert_claim(&held));

    let mut released = held.clone();
    released.state = ClaimState::Released;
    released.ttl_secs = 60;
    released.renewed_at = at(5);
    released.expires_at = at(65);
    released.ended_at = Some(at(70));
    released.release_status = Some(ReleaseStatus::Blocked);
    released.notes = Some("waiting on review".into());
    released.loss_reported = true;
    released.forced_by = Some("bob".into());
    write(&*store, |tx| tx.update_claim(&released));
    read(&*store, |tx| {
        assert_eq!(
            tx.latest_claim(&key)?,
            Some(released.clone()),
            "every mutable field is overwritten"
        );
        Ok(())
    });

    let mut impostor = released.clone();
    impostor.id = "c-other".into();
    impostor.notes = Some("not this claim".into());
    refused(
        &*store,
        "an update of an id no claim has, with another claim's item and token",
        4,
        |tx| tx.update_claim(&impostor),
    );
    read(&*store, |tx| {
        assert_eq!(
            tx.latest_claim(&key)?,
            Some(released.clone()),
            "the claim with that item and token is untouched"
        );
        Ok(())
    });

    // Item and token never change: an update naming the id with another token is no claim either.
    let mut moved = released.clone();
    moved.token = 9;
    moved.notes = Some("updated by id".into());
    refused(&*store, "an update of a claim's id with another token", 4, |tx| {
        tx.update_claim(&moved)
    });
    read(&*store, |tx| {
        assert_eq!(tx.latest_claim(&key)?, Some(released.clone()), "the claim is untouched");
        Ok(())
    });
}

/// The database itself refuses a second held grant of one item, and a second grant with the same token,
/// as conflicts (exit 3) whoever asks; nothing of the refused transaction is kept.
pub fn store_refuses_a_second_holder_as_a_conflict(make: &MakeStore) {
    let store = open(make);
    let key = item("issue", "7");
    write(&*store, |tx| tx.insert_claim(&grant("c1", &key, 1, "s1", 0)));
    refused(&*store, "a second held grant of one item", 3, |tx| {
        tx.insert_claim(&grant("c2", &key, 2, "s2", 10))
    });
    let mut released = grant("c3", &key, 1, "s2", 10);
    released.state = ClaimState::Released;
    refused(&*store, "a second grant with the same token", 3, |tx| {
        tx.insert_claim(&released)
    });
    refused(&*store, "a second holder after other writes", 3, |tx| {
        tx.insert_session(&session("s9", PROJECT, "bob", 0))?;
        tx.insert_claim(&grant("c4", &key, 2, "s9", 10))
    });
    read(&*store, |tx| {
        let all = tx.claims(&ClaimQuery::default())?;
        assert_eq!(ids(&all, |c| &c.id), ["c1"], "refused grants are not kept");
        assert_eq!(tx.session("s9")?, None, "nothing of a refused transaction is kept");
        Ok(())
    });
    // Held grants of other items, and grants that are not held, are fine.
    write(&*store, |tx| {
        tx.insert_claim(&grant("c5", &item("issue", "8"), 1, "s2", 10))?;
        let mut expired = grant("c6", &key, 2, "s2", 20);
        expired.state = ClaimState::Expired;
        tx.insert_claim(&expired)
    });
}

/// Every filter of a claim query narrows the list, they combine, and results come oldest grant first
/// (ties by id), cut at the limit.
pub fn store_claim_queries_filter_and_order(make: &MakeStore) {
    let store = open(make);
    let mut rows: Vec<Claim> = Vec::new();
    let mut c = |id: &str, key: baton_core::ItemKey, session: &str, state: ClaimState, secs: i64| {
        let mut g = grant(id, &key, 1, session, secs);
        g.state = state;
        rows.push(g);
    };
    c("a", item("issue", "1"), "s1", ClaimState::Held, 30);
    c("b", item("pr", "2"), "s1", ClaimState::Released, 10);
    c("c", item("issue", "3"), "s2", ClaimState::Expired, 20);
    c("e", item("issue", "4"), "s2", ClaimState::Held, 20);
    c("d", item("issue", "5"), "s2", ClaimState::Held, 20);
    let mut elsewhere = item("issue", "1");
    elsewhere.project = "github.com/org/other".into();
    c("f", elsewhere, "s3", ClaimState::Held, 0);
    write(&*store, |tx| rows.iter().try_for_each(|c| tx.insert_claim(c)));

    let q = |query: ClaimQuery| {
        read(&*store, |tx| tx.claims(&query))
            .iter()
            .map(|c| c.id.clone())
            .collect::<Vec<_>>()
    };
    let project = Some(PROJECT.to_string());
    assert_eq!(
        q(ClaimQuery::default()),
        ["f", "b", "c", "d", "e", "a"],
        "oldest grant first, ties by id"
    );
    assert_eq!(
        q(ClaimQuery {
            project: project.clone(),
            ..Default::default()
        }),
        ["b", "c", "d", "e", "a"]
    );
    assert_eq!(
        q(ClaimQuery {
            session_id: Some("s1".into()),
            ..Default::default()
        }),
        ["b", "a"]
    );
    assert_eq!(
        q(ClaimQuery {
            item_type: Some("pr".into()),
            ..Default::default()
        }),
        ["b"]
    );
    assert_eq!(
        q(ClaimQuery {
            project: project.clone(),
            states: vec![ClaimState::Held, ClaimState::Expired],
            ..Default::default()
        }),
        ["c", "d", "e", "a"]
    );
    assert_eq!(
        q(ClaimQuery {
            session_id: Some("s2".into()),
            states: vec![ClaimState::Held],
            ..Default::default()
        }),
        ["d", "e"]
    );
    assert_eq!(
        q(ClaimQuery {
            expires_before: Some(at(20 + 1800)),
            ..Default::default()
        }),
        ["f", "b"],
        "lease ran out strictly before the time"
    );
    assert_eq!(
        q(ClaimQuery {
            project,
            limit: Some(2),
            ..Default::default()
        }),
        ["b", "c"]
    );
    assert_eq!(
        q(ClaimQuery {
            states: vec![ClaimState::TakenOver],
            ..Default::default()
        }),
        Vec::<String>::new()
    );
}

/// A loss not reported yet is a grant its holder lost, to a takeover or to a release by someone else
/// (`forced_by`), whose holder's heartbeat has not reported it (`loss_reported` false): nothing else, in
/// whatever state it was asked with.
pub fn store_loss_unreported_is_a_lost_grant_not_yet_told(make: &MakeStore) {
    let store = open(make);
    let mut rows = Vec::new();
    let mut c = |id: &str, state: ClaimState, forced_by: Option<&str>, reported: bool| {
        let mut g = grant(id, &item("issue", id), 1, "s1", rows.len() as i64);
        g.state = state;
        g.forced_by = forced_by.map(str::to_string);
        g.loss_reported = reported;
        if state == ClaimState::Released {
            g.release_status = Some(ReleaseStatus::Completed);
        }
        rows.push(g);
    };
    c("taken", ClaimState::TakenOver, None, false);
    c("taken-told", ClaimState::TakenOver, None, true);
    c("forced", ClaimState::Released, Some("bob"), false);
    c("forced-told", ClaimState::Released, Some("bob"), true);
    c("released", ClaimState::Released, None, false);
    c("held", ClaimState::Held, None, false);
    c("expired", ClaimState::Expired, None, false);
    write(&*store, |tx| rows.iter().try_for_each(|c| tx.insert_claim(c)));
    let q = |states: Vec<ClaimState>| {
        let query = ClaimQuery {
            session_id: Some("s1".into()),
            states,
            loss_unreported: true,
            ..Default::default()
        };
        read(&*store, |tx| tx.claims(&query))
            .iter()
            .map(|c| c.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(q(vec![]), ["taken", "forced"]);
    assert_eq!(
        q(vec![ClaimState::TakenOver, ClaimState::Released]),
        ["taken", "forced"]
    );
    assert_eq!(q(vec![ClaimState::Released]), ["forced"]);
    assert_eq!(q(vec![ClaimState::Held, ClaimState::Expired]), Vec::<String>::new());
    // Reported through an update, it is no longer unreported.
    write(&*store, |tx| {
        let mut taken = tx.latest_claim(&item("issue", "taken"))?.expect("the grant");
        taken.loss_reported = true;
        tx.update_claim(&taken)
    });
    assert_eq!(q(vec![]), ["forced"]);
}
