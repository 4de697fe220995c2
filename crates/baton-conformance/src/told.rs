//! An agent is told what it must act on: a second active session of its own, a paused session it writes to
//! or renews, several sessions it could mean by "resume", and a work type it likely misspelled.

use baton_core::Warning;
use baton_core::config::Policy;
use baton_core::words::{CommandLine, Words};
use baton_core::{ClaimRequest, EntryKind, ReleaseRequest, ReleaseStatus, SessionStatus};

use crate::harness::*;

/// Starting a second active session of the same agent in a project warns, naming the first.
pub fn second_active_session_of_an_agent_warns(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("alice");
    let first = h.start_with(&me, "auth refactor");
    assert!(
        first.warnings.is_empty(),
        "the first session starts quietly: {:?}",
        first.warnings
    );
    assert!(
        h.start(&caller("bob")).warnings.is_empty(),
        "another agent's session is no reason to warn"
    );
    let second = h.start(&me);
    assert_eq!(second.warnings.len(), 1, "{:?}", second.warnings);
    let Warning::OthersActive { agent, sessions, more } = &second.warnings[0] else {
        panic!("a warning of other active sessions: {:?}", second.warnings);
    };
    assert_eq!((agent.as_str(), *more), ("alice", false));
    let named: Vec<(&str, Option<&str>)> = sessions.iter().map(|s| (s.id.as_str(), s.context.as_deref())).collect();
    assert_eq!(named, [(first.session_id.as_str(), Some("auth refactor"))]);
    let w = CommandLine.warning(&second.warnings[0]);
    for needle in [first.session_id.as_str(), "auth refactor", "--session", "alice"] {
        assert!(w.contains(needle), "the warning names {needle:?}: {w}");
    }
    assert!(
        !second.warnings[0].neutral().contains("--"),
        "the core's own sentence names no flag"
    );
    // The warning is no error: both sessions are there, active.
    let listed = ok(h.baton.list_sessions(&me, Some(SessionStatus::Active), false, None));
    assert_eq!(listed.sessions.len(), 3);
}

/// A heartbeat that brings a paused session back says so; on an active session it does not.
pub fn heartbeat_of_a_paused_session_says_it_resumed_it(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("alice");
    let sid = h.start(&me).session_id;
    assert!(!ok(h.baton.heartbeat(&me)).resumed);
    ok(h.baton.pause(&me, None));
    let beat = ok(h.baton.heartbeat(&in_session("alice", &sid)));
    assert!(beat.resumed, "{beat:?}");
    assert_eq!(ok(h.baton.view(&me, None)).session.status, SessionStatus::Active);
    assert!(h.kinds_after(0).contains(&"session.resumed".to_string()));
    assert!(!ok(h.baton.heartbeat(&me)).resumed);
}

/// With no active session but a paused one, a write that names no session says which session is paused and
/// how to resume it; naming it writes to it, and the result says it is paused.
pub fn writes_without_a_session_name_the_paused_one(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("alice");
    let sid = h.start(&me).session_id;
    ok(h.baton.pause(&me, None));
    let resume = format!("baton session resume {sid}");
    h.refused(
        "log with the only session paused",
        4,
        &[&sid, &resume, "paused"],
        || h.baton.log(&me, log_req(EntryKind::Progress, "p")),
    );
    let err = h.refused("claim with the only session paused", 4, &[&sid, &resume], || {
        h.baton.claim(&me, claim_req("issue", "1"))
    });
    assert_eq!(
        err.hint(),
        Some(&baton_core::Hint::ResumeOrNameSession {
            session: sid.to_string(),
            verb: "claim for".to_string()
        }),
        "{err}"
    );
    let logged = ok(h
        .baton
        .log(&in_session("alice", &sid), log_req(EntryKind::Progress, "p")));
    assert!(logged.paused, "{logged:?}");
    assert_eq!(
        ok(h.baton.view(&in_session("alice", &sid), None)).session.status,
        SessionStatus::Paused
    );
    // An agent with no session at all is told to start one, as before.
    h.refused("log with no session", 4, &["baton session start"], || {
        h.baton.log(&caller("bob"), log_req(EntryKind::Progress, "p"))
    });
}

/// `session resume` without an id resumes the agent's only candidate, and with several lists them.
pub fn resume_without_an_id_is_ambiguous_among_several(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("alice");
    let a = h.start_with(&me, "auth").session_id;
    ok(h.baton.pause(&me, None));
    let b = h.start_with(&me, "billing").session_id;
    ok(h.baton.pause(&me, None));
    let err = h.refused("resume with two paused sessions", 2, &[&a, &b, "ambiguous"], || {
        h.baton.resume(&me, None)
    });
    let facts = err.facts().expect("a bad input carries facts");
    assert_eq!(facts.hint, Some(baton_core::Hint::NameSession), "{err}");
    assert!(
        facts.candidates.contains(&a.to_string()) && facts.candidates.contains(&b.to_string()),
        "{:?}",
        facts.candidates
    );
    assert!(
        !err.to_string().contains("--session"),
        "the core's own message names no flag: {err}"
    );
    let r = ok(h.baton.resume(&me, Some(&a)));
    assert_eq!(r.session_id, a);
    ok(h.baton.end_session(&in_session("alice", &a), Default::default()));
    // One candidate left: it is the one resumed.
    assert_eq!(ok(h.baton.resume(&me, None)).session_id, b);
}

/// A work type neither built in nor declared is refused, with the type it likely misspells; declared in the
/// policy, or claimed as a new type, it is granted.
pub fn unknown_work_type_is_refused_with_a_suggestion(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("alice");
    h.start(&me);
    let err = h.refused(
        "a misspelled type",
        2,
        &["'isue'", "did you mean 'issue'?", "types = [\"isue\"]", "--new-type"],
        || h.baton.claim(&me, claim_req("isue", "15")),
    );
    let facts = err.facts().expect("a bad input carries facts");
    assert_eq!(facts.value.as_deref(), Some("isue"));
    assert!(facts.accepted.iter().any(|t| t == "issue"), "{:?}", facts.accepted);
    assert_eq!(
        facts.hint,
        Some(baton_core::Hint::DeclareType {
            item_type: "isue".to_string()
        })
    );
    let err = h.refused(
        "a type nobody declared",
        2,
        &["'epic'", "issue, pr, qa, task, session"],
        || h.baton.claim(&me, claim_req("epic", "1")),
    );
    assert!(
        !err.to_string().contains("did you mean"),
        "nothing is near 'epic': {err}"
    );
    let out = ok(h.baton.claim(
        &me,
        ClaimRequest {
            new_type: true,
            ..claim_req("epic", "1")
        },
    ));
    assert!(out.claimed, "{out:?}");

    let declared = Policy {
        types: vec!["epic".into(), "spike".into()],
        ..Policy::default()
    };
    let h = Harness::with_policy(make, declared);
    h.start(&me);
    assert!(h.claim(&me, "spike", "7").claimed, "a declared type needs no flag");
    h.refused("a misspelled declared type", 2, &["did you mean 'spike'?"], || {
        h.baton.claim(&me, claim_req("spkie", "7"))
    });
}

/// A claim released over its holder by force is reported to the holder like a lease lost to a takeover:
/// once by its heartbeat, and by its own release of it; claims it released itself report nothing.
pub fn forced_release_is_reported_to_the_holder_like_a_lost_lease(make: &MakeStore) {
    let h = Harness::open(make);
    let alice = caller("alice");
    h.start(&alice);
    h.grant(&alice, "issue", "1");
    h.grant(&alice, "issue", "2");
    ok(h.baton
        .release(&alice, release_req("issue", "2", ReleaseStatus::Completed)));
    let bob = caller("bob");
    h.start(&bob);
    ok(h.baton.release(
        &bob,
        ReleaseRequest {
            force: true,
            reason: Some("alice is away".into()),
            ..release_req("issue", "1", ReleaseStatus::Deferred)
        },
    ));

    let beat = ok(h.baton.heartbeat(&alice));
    assert_eq!(beat.lost.len(), 1, "only the forced release is a loss: {:?}", beat.lost);
    let lost = &beat.lost[0];
    assert_eq!((lost.item.item_id.as_str(), lost.your_token), ("1", 1));
    assert_eq!(lost.forced_by.as_deref(), Some("bob"));
    assert_eq!(lost.taken_by, None);
    assert!(
        lost.how().contains("agent 'bob' released it by force"),
        "{}",
        lost.how()
    );
    assert!(ok(h.baton.heartbeat(&alice)).lost.is_empty(), "reported once");

    h.refused(
        "the holder's own release after the force",
        3,
        &["lease lost", "by force", "'bob'"],
        || {
            h.baton
                .release(&alice, release_req("issue", "1", ReleaseStatus::Completed))
        },
    );
    // Claimed again since, the message names the new holder too.
    h.grant(&bob, "issue", "1");
    h.refused(
        "and after someone claimed it again",
        3,
        &["by force", "claimed it since"],
        || {
            h.baton
                .release(&alice, release_req("issue", "1", ReleaseStatus::Completed))
        },
    );
}

/// A session started without a goal takes the first one given, once, with a `session.goal_set` event; a
/// session that has one keeps it.
pub fn a_session_without_a_goal_takes_the_first_given(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("alice");
    let sid = h.start(&me).session_id;
    let before = h.last_seq();
    let s = ok(h.baton.set_goal_if_none(&me, "make the login test pass"));
    assert_eq!(s.context.as_deref(), Some("make the login test pass"));
    assert_eq!(h.kinds_after(before), ["session.goal_set"]);
    let e = h.events().pop().expect("event");
    assert_eq!(
        (e.target.as_str(), e.data["context"].as_str()),
        (sid.as_str(), Some("make the login test pass"))
    );
    let before = h.snapshot();
    let s = ok(h.baton.set_goal_if_none(&me, "something else"));
    assert_eq!(
        s.context.as_deref(),
        Some("make the login test pass"),
        "the first goal stays"
    );
    h.assert_unchanged(&before, "a second goal");
    assert_eq!(
        ok(h.baton.view(&me, None)).session.context.as_deref(),
        Some("make the login test pass")
    );
    h.refused("an empty goal", 2, &["goal"], || h.baton.set_goal_if_none(&me, "  "));
}

/// A new conversation continues the agent's paused session (bound to it from then on); a fresh active
/// session of the agent, which may be another window's, is not taken.
pub fn a_new_conversation_continues_the_paused_session(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("claude-code");
    let one = ok(h.baton.open_conversation(&me, "claude:one", true));
    assert!(matches!(one.how, baton_core::Bound::Started(_)), "{:?}", one.how);
    let sid = one.session.id.clone();
    let mine = crate::harness::in_session("claude-code", &sid);
    ok(h.baton.log(&mine, log_req(EntryKind::Next, "wire the router")));
    // Another window, while the first is live: a session of its own.
    let window = ok(h.baton.open_conversation(&me, "claude:window", true));
    assert_ne!(window.session.id, sid);
    assert!(
        ok(h.baton
            .end_conversation(&crate::harness::in_session("claude-code", &window.session.id)))
        .expect("ended")
        .folded
    );
    let ended = ok(h.baton.end_conversation(&mine)).expect("ended");
    assert!(!ended.folded);
    assert_eq!(ended.session.status, SessionStatus::Paused);

    let two = ok(h.baton.open_conversation(&me, "claude:two", true));
    assert_eq!(two.session.id, sid, "the paused session is continued");
    assert_eq!(two.session.status, SessionStatus::Active);
    assert!(matches!(
        two.how,
        baton_core::Bound::Continued {
            was: SessionStatus::Paused
        }
    ));
    // Bound from then on: the conversation's session without looking again.
    let again = ok(h.baton.conversation_session(&me, "claude:two")).expect("bound");
    assert_eq!(again.id, sid);
    let same = ok(h.baton.open_conversation(&me, "claude:two", true));
    assert_eq!(same.how, baton_core::Bound::Existing);
}

/// A conversation that recorded nothing is closed when it ends, and never continued.
pub fn an_empty_conversation_leaves_no_session(make: &MakeStore) {
    let h = Harness::open(make);
    let me = caller("codex");
    let one = ok(h.baton.open_conversation(&me, "codex:one", true));
    ok(h.baton
        .pause(&crate::harness::in_session("codex", &one.session.id), None));
    let two = ok(h.baton.open_conversation(&me, "codex:two", true));
    assert_ne!(
        two.session.id, one.session.id,
        "an empty paused session is not continued"
    );
    assert_eq!(two.folded, vec![one.session.id.clone()]);
    let listed = ok(h.baton.list_sessions(&me, Some(SessionStatus::Abandoned), false, None));
    assert_eq!(listed.sessions.len(), 1);
}

/// The handoff a session is shown is its line of work's: this agent's, not a newer unrelated one of another.
pub fn the_handoff_shown_is_of_this_line_of_work(make: &MakeStore) {
    let h = Harness::open(make);
    let end = |agent: &str, summary: &str| {
        let c = caller(agent);
        h.start(&c);
        ok(h.baton.end_session(
            &c,
            baton_core::EndRequest {
                summary: Some(summary.into()),
                ..Default::default()
            },
        ));
        h.advance(10);
    };
    end("alice", "alice's parser");
    end("bob", "bob's unrelated docs");
    assert_eq!(
        h.start(&caller("alice")).last_summary.as_deref(),
        Some("alice's parser")
    );
    assert_eq!(
        h.start(&caller("carol")).last_summary.as_deref(),
        Some("bob's unrelated docs")
    );
}
