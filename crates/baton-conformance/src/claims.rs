//! Claims: grants, holders, renewals, releases, leases that run out and are taken over,
//! and idempotent retries.

use baton_core::{
    ClaimRequest, ClaimState, ClaimsRequest, EntryKind, Holder, ItemKey, LogRequest, LostLease, ReleaseStatus,
    StartRequest,
};
use serde_json::json;

use crate::harness::*;

const TTL: i64 = 30 * 60;

fn item(item_type: &str, item_id: &str) -> ItemKey {
    ItemKey {
        project: PROJECT.into(),
        item_type: item_type.into(),
        repo: REPO.into(),
        item_id: item_id.into(),
    }
}

/// A first claim is granted with fencing token 1, the default lease and a `claim.granted` event.
pub fn claim_grants_token_one(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    let sid = h.start(&me).session_id;
    let before = h.last_seq();
    let out = h.claim(&me, "issue", "15");
    assert!(out.claimed);
    assert!(!out.renewed);
    assert_eq!(out.claimed_by, None);
    assert_eq!(out.taken_over_from, None);
    assert_eq!(out.item, item("issue", "15"));
    let c = out.claim.expect("granted");
    assert_eq!(c.key(), item("issue", "15"));
    assert_eq!(c.token, 1);
    assert_eq!(c.session_id, sid);
    assert_eq!(c.agent, "claude-code");
    assert_eq!(c.state, ClaimState::Held);
    assert_eq!(c.ttl_secs, TTL);
    assert_eq!(c.renewed_at, c.granted_at);
    assert_eq!(c.expires_at, c.granted_at.plus_secs(TTL));
    assert_eq!((c.ended_at, c.release_status, c.notes.as_deref()), (None, None, None));

    assert_eq!(h.kinds_after(before), ["claim.granted"]);
    let e = h.events().pop().expect("event");
    assert_eq!(e.target, "issue org/app#15");
    assert_eq!(e.agent, "claude-code");
    assert_eq!(e.session_id.as_deref(), Some(sid.as_str()));
    assert_eq!(e.time, c.granted_at);
    assert_eq!(e.data["token"], 1);
    assert_eq!(e.data["expires_at"], json!(c.expires_at));

    let list = ok(h.baton.claims(&me, ClaimsRequest::default()));
    assert_eq!(list.project, PROJECT);
    assert_eq!(list.claims.len(), 1);
    assert_eq!(list.claims[0].claim, c, "the stored claim reads back exactly");
    assert!(list.claims[0].mine);
    assert!(!list.claims[0].expired);

    let short = ok(h.baton.claim(
        &me,
        ClaimRequest {
            ttl: Some("10m".into()),
            ..claim_req("pr", "3")
        },
    ));
    let c = short.claim.expect("granted");
    assert_eq!((c.token, c.ttl_secs), (1, 600));
    assert_eq!(c.expires_at, c.granted_at.plus_secs(600));
    let mine = ok(h.baton.claims(
        &me,
        ClaimsRequest {
            mine: true,
            item_type: Some("pr".into()),
            ..Default::default()
        },
    ));
    assert_eq!(
        mine.claims.iter().map(|v| v.claim.id.as_str()).collect::<Vec<_>>(),
        [c.id.as_str()]
    );
}

/// An item held by another session is a normal answer naming the holder, and changes nothing.
pub fn claim_held_by_other_reports_holder(make: &MakeStore) {
    let h = Harness::open(make);
    let a = caller("claude-code");
    let sa = h.start(&a).session_id;
    let held = h.grant(&a, "issue", "15");
    let holder = Holder {
        agent: "claude-code".into(),
        session: sa.clone(),
        since: held.granted_at,
        expires_at: held.expires_at,
        token: 1,
    };
    let b = caller("codex");
    h.start(&b);
    let before = h.snapshot();
    let out = h.claim(&b, "issue", "15");
    assert!(!out.claimed);
    assert!(!out.renewed);
    assert_eq!(out.claim, None);
    assert_eq!(out.item, item("issue", "15"));
    assert_eq!(out.claimed_by, Some(holder.clone()));
    h.assert_unchanged(&before, "claim of a held item");

    // Another session of the same agent is another holder too.
    let sa2 = ok(h.baton.start_session(&a, StartRequest::default())).session_id;
    let out = h.claim(&in_session("claude-code", &sa2), "issue", "15");
    assert!(!out.claimed);
    assert_eq!(out.claimed_by, Some(holder));
    let list = ok(h.baton.claims(&b, ClaimsRequest::default()));
    assert_eq!(list.claims.len(), 1);
    assert!(!list.claims[0].mine);
}

/// Claiming an item the session already holds renews the lease and keeps the token.
pub fn claim_by_holder_renews(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    h.start(&me);
    let first = h.grant(&me, "issue", "15");
    h.advance(600);
    let before = h.last_seq();
    let out = h.claim(&me, "issue", "15");
    assert_eq!(h.kinds_after(before), ["claim.renewed"]);
    assert!(out.claimed);
    assert!(out.renewed);
    assert_eq!(out.taken_over_from, None);
    let c = out.claim.expect("renewed claim");
    assert_eq!(c.id, first.id);
    assert_eq!(c.token, 1);
    assert_eq!(c.granted_at, first.granted_at);
    assert!(c.renewed_at > first.renewed_at);
    assert_eq!(c.expires_at, c.renewed_at.plus_secs(TTL));
    assert!(c.expires_at > first.expires_at);
    let all = ok(h.baton.claims(
        &me,
        ClaimsRequest {
            include_released: true,
            ..Default::default()
        },
    ));
    assert_eq!(all.claims.len(), 1);
    assert_eq!(all.claims[0].claim, c);
}

/// Items are per project and per repo: the same id elsewhere is another item.
pub fn claims_are_scoped_by_project_and_repo(make: &MakeStore) {
    let h = Harness::open(make);
    let a = caller("claude-code");
    let b = other_project("codex");
    h.start(&a);
    h.start(&b);
    assert_eq!(h.grant(&a, "issue", "15").token, 1);
    let there = h.grant(&b, "issue", "15");
    assert_eq!(
        (there.token, there.project.as_str(), there.repo.as_str()),
        (1, "github.com/org/other", "org/other")
    );
    let lib = ok(h.baton.claim(
        &a,
        ClaimRequest {
            repo: Some("org/lib".into()),
            ..claim_req("issue", "15")
        },
    ));
    let lib = lib.claim.expect("granted");
    assert_eq!((lib.token, lib.repo.as_str()), (1, "org/lib"));
    assert_eq!(h.grant(&a, "pr", "15").token, 1, "the type is part of the item");
    assert_eq!(ok(h.baton.claims(&a, ClaimsRequest::default())).claims.len(), 3);
    assert_eq!(ok(h.baton.claims(&b, ClaimsRequest::default())).claims.len(), 1);
    let prs = ok(h.baton.claims(
        &a,
        ClaimsRequest {
            item_type: Some("pr".into()),
            ..Default::default()
        },
    ));
    assert_eq!(prs.claims.len(), 1);
    assert_eq!(prs.claims[0].claim.item_type, "pr");
}

/// Malformed claim requests are refused and change nothing.
pub fn claim_rejects_bad_input(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    h.start(&me);
    h.grant(&me, "issue", "1");
    let cases: Vec<(&str, ClaimRequest, &str)> = vec![
        ("uppercase type", claim_req("Issue", "2"), "'Issue'"),
        ("empty type", claim_req("", "2"), "work type"),
        ("empty id", claim_req("issue", ""), "work id"),
        ("id with a space", claim_req("issue", "a b"), "work id"),
        ("long id", claim_req("issue", &"x".repeat(201)), "201"),
        (
            "repo with a space",
            ClaimRequest {
                repo: Some("org app".into()),
                ..claim_req("issue", "2")
            },
            "repo",
        ),
        (
            "zero ttl",
            ClaimRequest {
                ttl: Some("0s".into()),
                ..claim_req("issue", "2")
            },
            "'0s'",
        ),
        (
            "ttl over 30d",
            ClaimRequest {
                ttl: Some("31d".into()),
                ..claim_req("issue", "2")
            },
            "'31d'",
        ),
        (
            "ttl not a duration",
            ClaimRequest {
                ttl: Some("soon".into()),
                ..claim_req("issue", "2")
            },
            "'soon'",
        ),
        (
            "idempotency key with a space",
            ClaimRequest {
                idempotency_key: Some("a b".into()),
                ..claim_req("issue", "2")
            },
            "idempotency key",
        ),
    ];
    for (what, req, needle) in cases {
        h.refused(what, 2, &[needle], || h.baton.claim(&me, req));
    }
    h.refused("bad type filter", 2, &["'PR'"], || {
        h.baton.claims(
            &me,
            ClaimsRequest {
                item_type: Some("PR".into()),
                ..Default::default()
            },
        )
    });
}

/// The holder releases as completed, blocked or deferred, with notes; the next grant gets the next token.
pub fn release_by_holder_each_status(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    let sid = h.start(&me).session_id;
    for (id, status) in [
        ("1", ReleaseStatus::Completed),
        ("2", ReleaseStatus::Blocked),
        ("3", ReleaseStatus::Deferred),
    ] {
        let held = h.grant(&me, "issue", id);
        let before = h.last_seq();
        let notes = format!("{status} notes");
        let out = ok(h.baton.release(
            &me,
            baton_core::ReleaseRequest {
                notes: Some(notes.clone()),
                ..release_req("issue", id, status)
            },
        ));
        assert_eq!(h.kinds_after(before), ["claim.released"]);
        assert!(out.released);
        assert!(!out.forced);
        assert_eq!(out.claim.id, held.id);
        assert_eq!(out.claim.state, ClaimState::Released);
        assert_eq!(out.claim.release_status, Some(status));
        assert_eq!(out.claim.notes.as_deref(), Some(notes.as_str()));
        let e = h.events().pop().expect("event");
        assert_eq!(out.claim.ended_at, Some(e.time));
        assert_eq!(e.target, format!("issue org/app#{id}"));
        assert_eq!(e.session_id.as_deref(), Some(sid.as_str()));
        assert_eq!(e.data["status"], status.as_str());
        assert_eq!(e.data["notes"], notes.as_str());
        assert_eq!(e.data["token"], 1);
        assert_eq!(e.data["forced"], false);
    }
    assert!(ok(h.baton.claims(&me, ClaimsRequest::default())).claims.is_empty());
    let all = ok(h.baton.claims(
        &me,
        ClaimsRequest {
            include_released: true,
            ..Default::default()
        },
    ));
    let statuses: Vec<_> = all
        .claims
        .iter()
        .map(|v| (v.claim.item_id.as_str(), v.claim.release_status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("1", Some(ReleaseStatus::Completed)),
            ("2", Some(ReleaseStatus::Blocked)),
            ("3", Some(ReleaseStatus::Deferred)),
        ]
    );
    assert!(
        all.claims
            .iter()
            .all(|v| v.claim.state == ClaimState::Released && !v.expired)
    );

    let again = h.grant(&me, "issue", "1");
    assert_eq!(again.token, 2, "every grant of an item grows its token");
    ok(h.baton
        .release(&me, release_req("issue", "1", ReleaseStatus::Completed)));
    assert_eq!(h.grant(&me, "issue", "1").token, 3);
}

/// Only the holder may release without force.
pub fn release_by_non_holder_is_conflict(make: &MakeStore) {
    let h = Harness::open(make);
    let a = caller("claude-code");
    let sa = h.start(&a).session_id;
    h.grant(&a, "issue", "15");
    let b = caller("codex");
    h.start(&b);
    let err = h.refused(
        "release by another session",
        3,
        &["not the holder", "claude-code", &sa, "issue org/app#15"],
        || {
            h.baton
                .release(&b, release_req("issue", "15", ReleaseStatus::Completed))
        },
    );
    let details = err.details().expect("a conflict carries details");
    assert_eq!(details["claimed_by"]["session"], sa.as_str());
    assert_eq!(details["claimed_by"]["token"], 1);
}

/// Force needs a reason, and a reason needs force.
pub fn release_force_needs_reason(make: &MakeStore) {
    let h = Harness::open(make);
    let a = caller("claude-code");
    h.start(&a);
    h.grant(&a, "issue", "15");
    let b = caller("codex");
    h.start(&b);
    h.refused("force without a reason", 2, &["--reason"], || {
        h.baton.release(
            &b,
            baton_core::ReleaseRequest {
                force: true,
                ..release_req("issue", "15", ReleaseStatus::Deferred)
            },
        )
    });
    h.refused("force with a blank reason", 2, &["reason"], || {
        h.baton.release(
            &b,
            baton_core::ReleaseRequest {
                force: true,
                reason: Some("  ".into()),
                ..release_req("issue", "15", ReleaseStatus::Deferred)
            },
        )
    });
    h.refused("reason without force", 2, &["--force"], || {
        h.baton.release(
            &b,
            baton_core::ReleaseRequest {
                reason: Some("why".into()),
                ..release_req("issue", "15", ReleaseStatus::Deferred)
            },
        )
    });
}

/// A forced release with a reason works for anyone, and its event records that it was forced and why.
pub fn release_force_with_reason_records_it(make: &MakeStore) {
    let h = Harness::open(make);
    let a = caller("claude-code");
    let sa = h.start(&a).session_id;
    let held = h.grant(&a, "issue", "15");
    let b = caller("codex");
    let sb = h.start(&b).session_id;
    let before = h.last_seq();
    let out = ok(h.baton.release(
        &b,
        baton_core::ReleaseRequest {
            force: true,
            reason: Some("holder went away".into()),
            ..release_req("issue", "15", ReleaseStatus::Deferred)
        },
    ));
    assert_eq!(h.kinds_after(before), ["claim.released"]);
    assert!(out.released);
    assert!(out.forced);
    assert_eq!(out.claim.id, held.id);
    assert_eq!(out.claim.session_id, sa, "the grant released is the holder's");
    assert_eq!(out.claim.state, ClaimState::Released);
    assert_eq!(out.claim.release_status, Some(ReleaseStatus::Deferred));
    let e = h.events().pop().expect("event");
    assert_eq!(e.agent, "codex");
    assert_eq!(e.session_id.as_deref(), Some(sb.as_str()));
    assert_eq!(e.data["forced"], true);
    assert_eq!(e.data["reason"], "holder went away");
    assert_eq!(e.data["holder"]["session"], sa.as_str());
    assert!(ok(h.baton.claims(&a, ClaimsRequest::default())).claims.is_empty());

    // Someone with no session at all may force a release too.
    let held = h.grant(&a, "issue", "16");
    let nobody = caller("alice");
    let out = ok(h.baton.release(
        &nobody,
        baton_core::ReleaseRequest {
            force: true,
            reason: Some("cleanup".into()),
            ..release_req("issue", "16", ReleaseStatus::Blocked)
        },
    ));
    assert!(out.forced);
    assert_eq!(out.claim.id, held.id);
    let e = h.events().pop().expect("event");
    assert_eq!((e.agent.as_str(), e.session_id.as_deref()), ("alice", None));
    assert_eq!(e.data["forced"], true);

    // The holder forcing its own release is not a forced release.
    h.grant(&a, "issue", "17");
    let out = ok(h.baton.release(
        &a,
        baton_core::ReleaseRequest {
            force: true,
            reason: Some("tidy".into()),
            ..release_req("issue", "17", ReleaseStatus::Completed)
        },
    ));
    assert!(!out.forced);
}

/// Releasing what is not claimed is not found.
pub fn release_of_unclaimed_is_not_found(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    h.start(&me);
    h.refused("release of a never claimed item", 4, &["issue org/app#99"], || {
        h.baton
            .release(&me, release_req("issue", "99", ReleaseStatus::Completed))
    });
    h.grant(&me, "issue", "1");
    ok(h.baton
        .release(&me, release_req("issue", "1", ReleaseStatus::Completed)));
    h.refused("second release", 4, &["issue org/app#1", "not claimed"], || {
        h.baton
            .release(&me, release_req("issue", "1", ReleaseStatus::Completed))
    });
    let b = caller("codex");
    h.start(&b);
    h.refused("forced release of a released item", 4, &["issue org/app#1"], || {
        h.baton.release(
            &b,
            baton_core::ReleaseRequest {
                force: true,
                reason: Some("why".into()),
                ..release_req("issue", "1", ReleaseStatus::Completed)
            },
        )
    });
}

/// A release that names a fencing token fails once the item's token moved on.
pub fn release_with_stale_token_is_conflict(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    h.start(&me);
    h.grant(&me, "issue", "1");
    h.refused(
        "release with a token that is not the current one",
        3,
        &["stale fencing token", "2"],
        || {
            h.baton.release(
                &me,
                baton_core::ReleaseRequest {
                    token: Some(2),
                    ..release_req("issue", "1", ReleaseStatus::Completed)
                },
            )
        },
    );
    let out = ok(h.baton.release(
        &me,
        baton_core::ReleaseRequest {
            token: Some(1),
            ..release_req("issue", "1", ReleaseStatus::Completed)
        },
    ));
    assert_eq!(out.claim.token, 1);
}

/// Sets up an expired lease of `claude-code` on issue 7 taken over by `codex`.
/// Returns (holder's session, taker's session, the old grant, the new grant).
fn taken_over(h: &Harness) -> (String, String, baton_core::Claim, baton_core::Claim) {
    let sa = h.start(&caller("claude-code")).session_id;
    let sb = h.start(&caller("codex")).session_id;
    let old = h.grant(&caller("claude-code"), "issue", "7");
    h.advance(TTL + 60);
    let out = h.claim(&caller("codex"), "issue", "7");
    assert!(out.claimed, "an expired lease can be taken: {out:?}");
    (sa.to_string(), sb.to_string(), old, out.claim.expect("granted"))
}

/// A lease that ran out can be taken by another session, with the next token and an event naming the old holder.
pub fn expired_lease_is_taken_over(make: &MakeStore) {
    let h = Harness::open(make);
    let a = caller("claude-code");
    let b = caller("codex");
    let sa = h.start(&a).session_id;
    let sb = h.start(&b).session_id;
    let old = h.grant(&a, "issue", "7");
    h.advance(TTL + 60);
    let listed = ok(h.baton.claims(&b, ClaimsRequest::default()));
    assert_eq!(listed.claims.len(), 1);
    assert!(listed.claims[0].expired, "a run-out lease is listed as expired");

    let before = h.last_seq();
    let out = h.claim(&b, "issue", "7");
    assert_eq!(h.kinds_after(before), ["claim.taken_over"]);
    assert!(out.claimed);
    assert!(!out.renewed);
    assert_eq!(out.claimed_by, None);
    let previous = Holder {
        agent: "claude-code".into(),
        session: sa.clone(),
        since: old.granted_at,
        expires_at: old.expires_at,
        token: 1,
    };
    assert_eq!(out.taken_over_from, Some(previous));
    let new = out.claim.expect("granted");
    assert_eq!(new.token, 2);
    assert_eq!(new.session_id, sb);
    assert_eq!(new.agent, "codex");
    assert_eq!(new.state, ClaimState::Held);
    let e = h.events().pop().expect("event");
    assert_eq!(e.target, "issue org/app#7");
    assert_eq!(e.agent, "codex");
    assert_eq!(e.data["token"], 2);
    assert_eq!(e.data["previous"]["session"], sa.as_str());
    assert_eq!(e.data["previous"]["token"], 1);

    let open = ok(h.baton.claims(&b, ClaimsRequest::default()));
    assert_eq!(
        open.claims.iter().map(|v| v.claim.id.as_str()).collect::<Vec<_>>(),
        [new.id.as_str()]
    );
    let all = ok(h.baton.claims(
        &b,
        ClaimsRequest {
            include_released: true,
            ..Default::default()
        },
    ));
    let old_now = all
        .claims
        .iter()
        .find(|v| v.claim.id == old.id)
        .expect("old grant kept");
    assert_eq!(old_now.claim.state, ClaimState::TakenOver);
    assert_eq!(old_now.claim.ended_at, Some(new.granted_at));
}

/// The old holder's release after a takeover is a conflict that says the lease was lost.
pub fn lost_lease_release_is_conflict(make: &MakeStore) {
    let h = Harness::open(make);
    let (_, sb, _, new) = taken_over(&h);
    let a = caller("claude-code");
    let err = h.refused(
        "release of a lost lease",
        3,
        &["lease lost", "issue org/app#7", "token 1", "codex", &sb],
        || h.baton.release(&a, release_req("issue", "7", ReleaseStatus::Completed)),
    );
    let details = err.details().expect("details");
    assert_eq!(details["your_token"], 1);
    assert_eq!(details["taken_by"]["session"], sb.as_str());
    assert_eq!(details["taken_by"]["token"], 2);
    // Claiming it back while the new lease is live is a normal "held by" answer.
    let out = h.claim(&a, "issue", "7");
    assert!(!out.claimed);
    assert_eq!(out.claimed_by.map(|c| c.token), Some(new.token));
}

/// The old holder's heartbeat reports the lost lease once, and only once.
pub fn heartbeat_reports_lost_lease_once(make: &MakeStore) {
    let h = Harness::open(make);
    let (sa, sb, _, new) = taken_over(&h);
    let a = caller("claude-code");
    let before = h.last_seq();
    let beat = ok(h.baton.heartbeat(&a));
    assert_eq!(h.kinds_after(before), ["session.heartbeat"]);
    assert_eq!(beat.session_id, sa);
    assert!(
        beat.renewed.is_empty(),
        "a lost lease is not renewed: {:?}",
        beat.renewed
    );
    let taker = Holder {
        agent: "codex".into(),
        session: sb.into(),
        since: new.granted_at,
        expires_at: new.expires_at,
        token: 2,
    };
    assert_eq!(
        beat.lost,
        vec![LostLease {
            item: item("issue", "7"),
            your_token: 1,
            taken_by: Some(taker),
            forced_by: None,
        }]
    );
    let e = h.events().pop().expect("event");
    assert_eq!(e.data["lost"], json!(["issue org/app#7"]));

    let again = ok(h.baton.heartbeat(&a));
    assert!(again.lost.is_empty(), "a lost lease is reported once: {:?}", again.lost);
    let theirs = ok(h.baton.heartbeat(&caller("codex")));
    assert!(theirs.lost.is_empty());
    assert_eq!(
        theirs.renewed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [new.id.as_str()]
    );
}

/// A heartbeat renews the session and the lease of every claim it holds.
pub fn heartbeat_renews_claims(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    let sid = h.start(&me).session_id;
    let c1 = h.grant(&me, "issue", "1");
    let c2 = ok(h.baton.claim(
        &me,
        ClaimRequest {
            ttl: Some("10m".into()),
            ..claim_req("issue", "2")
        },
    ))
    .claim
    .expect("granted");
    h.advance(300);
    let before = h.last_seq();
    let beat = ok(h.baton.heartbeat(&me));
    assert_eq!(h.kinds_after(before), ["session.heartbeat"]);
    let e = h.events().pop().expect("event");
    assert_eq!(beat.session_id, sid);
    assert_eq!(beat.last_seen, e.time);
    assert!(beat.lost.is_empty());
    assert_eq!(e.data["renewed"], json!(["issue org/app#1", "issue org/app#2"]));
    let renewed: Vec<_> = beat
        .renewed
        .iter()
        .map(|c| (c.id.clone(), c.renewed_at, c.expires_at))
        .collect();
    assert_eq!(
        renewed,
        [
            (c1.id.clone(), beat.last_seen, beat.last_seen.plus_secs(TTL)),
            (c2.id.clone(), beat.last_seen, beat.last_seen.plus_secs(600)),
        ]
    );
    let listed = ok(h.baton.claims(&me, ClaimsRequest::default()));
    let stored: Vec<_> = listed
        .claims
        .iter()
        .map(|v| (v.claim.id.clone(), v.claim.renewed_at, v.claim.expires_at))
        .collect();
    assert_eq!(stored, renewed, "renewals are stored");
    assert_eq!(ok(h.baton.view(&me, None)).session.last_seen, beat.last_seen);

    // Past the first lease's original end, the renewed lease still holds the item.
    h.advance(TTL - 240);
    assert!(h.peek() > c1.expires_at);
    let b = caller("codex");
    h.start(&b);
    let out = h.claim(&b, "issue", "1");
    assert!(!out.claimed, "the heartbeat renewed the lease: {out:?}");
}

/// A retried claim with the same idempotency key returns the first answer and grants once.
pub fn idempotent_claim_replays(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    h.start(&me);
    let req = || ClaimRequest {
        idempotency_key: Some("claim-15".into()),
        ..claim_req("issue", "15")
    };
    let first = ok(h.baton.claim(&me, req()));
    assert!(first.claimed);
    h.advance(60);
    let before = h.snapshot();
    let second = ok(h.baton.claim(&me, req()));
    assert_eq!(second, first, "a retry returns the first outcome exactly");
    h.assert_unchanged(&before, "retried claim");
    assert_eq!(h.events().iter().filter(|e| e.kind == "claim.granted").count(), 1);
    let all = ok(h.baton.claims(
        &me,
        ClaimsRequest {
            include_released: true,
            ..Default::default()
        },
    ));
    assert_eq!(all.claims.len(), 1);
}

/// An idempotency key used for one request cannot be reused for another.
pub fn idempotency_key_reused_is_bad_input(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    h.start(&me);
    ok(h.baton.claim(
        &me,
        ClaimRequest {
            idempotency_key: Some("k1".into()),
            ..claim_req("issue", "15")
        },
    ));
    h.refused("same key, other item", 2, &["'k1'"], || {
        h.baton.claim(
            &me,
            ClaimRequest {
                idempotency_key: Some("k1".into()),
                ..claim_req("issue", "16")
            },
        )
    });
    h.refused("same key, other ttl", 2, &["'k1'"], || {
        h.baton.claim(
            &me,
            ClaimRequest {
                idempotency_key: Some("k1".into()),
                ttl: Some("5m".into()),
                ..claim_req("issue", "15")
            },
        )
    });
    h.refused("same key, other command", 2, &["'k1'"], || {
        h.baton.log(
            &me,
            LogRequest {
                idempotency_key: Some("k1".into()),
                ..log_req(EntryKind::Progress, "p")
            },
        )
    });
}

/// A retried log entry or session start with the same idempotency key is written once.
pub fn idempotent_log_and_start_write_once(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    let start = || StartRequest {
        context: Some("goal".into()),
        idempotency_key: Some("start-1".into()),
        ..Default::default()
    };
    let s1 = ok(h.baton.start_session(&me, start()));
    let s2 = ok(h.baton.start_session(&me, start()));
    assert_eq!(s2.session_id, s1.session_id);
    assert_eq!(h.events().iter().filter(|e| e.kind == "session.started").count(), 1);

    let req = || LogRequest {
        idempotency_key: Some("log-1".into()),
        ..log_req(EntryKind::Progress, "tests pass")
    };
    let first = ok(h.baton.log(&me, req()));
    let before = h.snapshot();
    let second = ok(h.baton.log(&me, req()));
    assert_eq!(second, first);
    h.assert_unchanged(&before, "retried log");
    assert_eq!(ok(h.baton.view(&me, None)).journal.progress.len(), 1);
    h.refused("same key, other text", 2, &["'log-1'"], || {
        h.baton.log(
            &me,
            LogRequest {
                idempotency_key: Some("log-1".into()),
                ..log_req(EntryKind::Progress, "other")
            },
        )
    });
}
