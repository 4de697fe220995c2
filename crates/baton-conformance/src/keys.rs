//! Idempotency keys belong to their caller: a retry by the same session (or, before there is a session,
//! the same agent) replays the first result; the same key from anyone else is that caller's own request.

use baton_core::{
    ClaimRequest, ClaimState, ClaimsRequest, EndRequest, EntryKind, LogRequest, ReleaseRequest, ReleaseStatus,
    SessionStatus, StartRequest,
};

use crate::harness::*;

fn keyed_claim(item_id: &str, key: &str) -> ClaimRequest {
    ClaimRequest {
        idempotency_key: Some(key.into()),
        ..claim_req("issue", item_id)
    }
}

fn keyed_release(item_id: &str, key: &str) -> ReleaseRequest {
    ReleaseRequest {
        idempotency_key: Some(key.into()),
        ..release_req("issue", item_id, ReleaseStatus::Completed)
    }
}

fn keyed_log(text: &str, key: &str) -> LogRequest {
    LogRequest {
        idempotency_key: Some(key.into()),
        ..log_req(EntryKind::Progress, text)
    }
}

fn keyed_end(summary: &str, key: &str) -> EndRequest {
    EndRequest {
        summary: Some(summary.into()),
        idempotency_key: Some(key.into()),
        ..Default::default()
    }
}

/// Another session's claim with the same key is its own claim: it is told who holds the item, never that it
/// holds it. That holds for another agent and for another session of the same agent.
pub fn claim_key_of_another_session_is_not_replayed(make: &MakeStore) {
    let h = Harness::open(make);
    let alice = caller("alice");
    let alice_sid = h.start(&alice).session_id;
    let first = ok(h.baton.claim(&alice, keyed_claim("15", "claim-issue-15")));
    assert!(first.claimed);

    let bob = caller("bob");
    h.start(&bob);
    let out = ok(h.baton.claim(&bob, keyed_claim("15", "claim-issue-15")));
    assert!(!out.claimed, "bob must not be told he holds alice's item: {out:?}");
    assert_eq!(out.claimed_by.map(|c| c.session), Some(alice_sid.clone()));
    let mine = ok(h.baton.claims(
        &bob,
        ClaimsRequest {
            mine: true,
            ..Default::default()
        },
    ));
    assert!(mine.claims.is_empty(), "bob holds nothing: {mine:?}");

    // A second session of the same agent, named explicitly, is another caller too.
    let again = h.start(&caller("alice")).session_id;
    let twin = in_session("alice", &again);
    let out = ok(h.baton.claim(&twin, keyed_claim("15", "claim-issue-15")));
    assert!(!out.claimed, "another session of alice is not the holder: {out:?}");
    assert_eq!(out.claimed_by.map(|c| c.session), Some(alice_sid.clone()));

    // And the same key for another item is that caller's fresh claim, granted to it.
    let out = ok(h.baton.claim(&twin, keyed_claim("16", "claim-issue-15")));
    assert!(out.claimed);
    assert_eq!(out.claim.map(|c| c.session_id), Some(again));

    // The first caller's retry still replays its own answer, and its reuse for another request is refused.
    let retried = ok(h
        .baton
        .claim(&in_session("alice", &alice_sid), keyed_claim("15", "claim-issue-15")));
    assert_eq!(retried, first);
    h.refused("alice's key for another item", 2, &["'claim-issue-15'"], || {
        h.baton
            .claim(&in_session("alice", &alice_sid), keyed_claim("17", "claim-issue-15"))
    });
}

/// Another session's release with the same key releases its own claim; a retry by the first replays.
pub fn release_key_of_another_session_is_not_replayed(make: &MakeStore) {
    let h = Harness::open(make);
    let alice = caller("alice");
    h.start(&alice);
    h.grant(&alice, "issue", "1");
    let bob = caller("bob");
    h.start(&bob);
    h.grant(&bob, "issue", "2");

    let first = ok(h.baton.release(&alice, keyed_release("1", "done")));
    assert!(first.released);
    let before = h.snapshot();
    assert_eq!(ok(h.baton.release(&alice, keyed_release("1", "done"))), first);
    h.assert_unchanged(&before, "alice's retried release");

    let out = ok(h.baton.release(&bob, keyed_release("2", "done")));
    assert_eq!(out.claim.item_id, "2", "bob's release is his own: {out:?}");
    assert_eq!(out.claim.state, ClaimState::Released);
    let held = ok(h.baton.claims(&bob, ClaimsRequest::default()));
    assert!(held.claims.is_empty(), "both claims are released: {held:?}");
    let released = h.events().iter().filter(|e| e.kind == "claim.released").count();
    assert_eq!(released, 2);
}

/// Another session's log entry with the same key is written to its own journal.
pub fn log_key_of_another_session_is_not_replayed(make: &MakeStore) {
    let h = Harness::open(make);
    let alice = caller("alice");
    h.start(&alice);
    let bob = caller("bob");
    let bob_sid = h.start(&bob).session_id;

    let first = ok(h.baton.log(&alice, keyed_log("login works", "log-1")));
    let out = ok(h.baton.log(&bob, keyed_log("billing works", "log-1")));
    assert_eq!(out.session_id, bob_sid);
    assert_ne!(out.entry.id, first.entry.id);
    let texts: Vec<String> = ok(h.baton.view(&bob, None))
        .journal
        .progress
        .into_iter()
        .map(|e| e.text)
        .collect();
    assert_eq!(texts, ["billing works"], "bob's entry is written");
    // The same text under the same key, from bob, is his own entry too (not alice's result).
    let mine = ok(h.baton.log(&bob, keyed_log("login works", "log-2")));
    assert_eq!(mine.session_id, bob_sid);
    assert_eq!(ok(h.baton.view(&alice, None)).journal.progress.len(), 1);
}

/// A session start's key belongs to its agent: another agent's start with it opens that agent's own session.
pub fn start_key_of_another_agent_is_not_replayed(make: &MakeStore) {
    let h = Harness::open(make);
    let start = || StartRequest {
        context: Some("goal".into()),
        idempotency_key: Some("conversation-1".into()),
        ..Default::default()
    };
    let a = ok(h.baton.start_session(&caller("alice"), start()));
    let b = ok(h.baton.start_session(&caller("bob"), start()));
    assert_ne!(a.session_id, b.session_id);
    assert_eq!(b.session.agent, "bob");
    assert_eq!(
        ok(h.baton.start_session(&caller("alice"), start())).session_id,
        a.session_id,
        "alice's retry replays her start"
    );
    let found = ok(h.baton.session_for_key(&caller("bob"), "conversation-1")).map(|s| s.id);
    assert_eq!(found, Some(b.session_id));
    assert_eq!(h.events().iter().filter(|e| e.kind == "session.started").count(), 2);
}

/// Another session's end with the same key ends that session; the first caller's retry, with or without its
/// session named, replays its own end.
pub fn end_key_of_another_session_is_not_replayed(make: &MakeStore) {
    let h = Harness::open(make);
    let alice = caller("alice");
    let alice_sid = h.start(&alice).session_id;
    let bob = caller("bob");
    let bob_sid = h.start(&bob).session_id;

    let first = ok(h.baton.end_session(&alice, keyed_end("alice done", "end-1")));
    assert_eq!(first.session.id, alice_sid);
    let before = h.snapshot();
    assert_eq!(ok(h.baton.end_session(&alice, keyed_end("alice done", "end-1"))), first);
    assert_eq!(
        ok(h.baton
            .end_session(&in_session("alice", &alice_sid), keyed_end("alice done", "end-1"))),
        first
    );
    h.assert_unchanged(&before, "alice's retried end");
    h.refused("alice's end key for another summary", 2, &["'end-1'"], || {
        h.baton.end_session(&alice, keyed_end("other", "end-1"))
    });

    let out = ok(h.baton.end_session(&bob, keyed_end("bob done", "end-1")));
    assert_eq!(out.session.id, bob_sid);
    assert_eq!(out.session.status, SessionStatus::Completed);
    assert_eq!(out.session.summary.as_deref(), Some("bob done"));

    // With no open session and a key nobody of this agent ended a session with, it is still "not found".
    h.refused("a fresh end key with no open session", 4, &["alice"], || {
        h.baton.end_session(&alice, keyed_end("alice done", "end-2"))
    });

    // A session started since is not what a late retry ends: the retry replays the end it repeats.
    let later = h.start(&alice).session_id;
    assert_eq!(ok(h.baton.end_session(&alice, keyed_end("alice done", "end-1"))), first);
    assert_eq!(
        ok(h.baton.view(&in_session("alice", &later), None)).session.status,
        SessionStatus::Active
    );
}
