//! Messages between sessions and requests: who a message reaches, read and ack state per recipient, threads,
//! paging, refusals that change nothing, and requests answered only by whom they address.

use baton_core::store::{self, DeliveryQuery};
use baton_core::{
    Address, AnswerRequest, Caller, InboxRequest, MakeRequest, RequestKind, RequestStatus, RequestsQuery, SendRequest,
    SessionId, StartRequest, Wire,
};

use crate::harness::*;

fn send(to: &str, text: &str) -> SendRequest {
    SendRequest {
        to: to.into(),
        text: text.into(),
        ..Default::default()
    }
}

fn start_as(h: &Harness, agent: &str, role: Option<&str>) -> (Caller, SessionId) {
    let c = caller(agent);
    let sid = ok(h.baton.start_session(
        &c,
        StartRequest {
            role: role.map(Into::into),
            ..Default::default()
        },
    ))
    .session_id;
    (in_session(agent, &sid), sid)
}

fn texts(h: &Harness, c: &Caller, req: InboxRequest) -> Vec<String> {
    ok(h.baton.inbox(c, req))
        .messages
        .into_iter()
        .map(|i| i.message.text)
        .collect()
}

fn all() -> InboxRequest {
    InboxRequest {
        all: true,
        ..Default::default()
    }
}

/// A message reaches the session, agent, role or everyone it is addressed to, and no one else; a message to a
/// role or to all also reaches sessions that start while it is open.
pub fn messages_reach_whom_they_are_addressed_to(make: &MakeStore) {
    let h = Harness::open(make);
    let (alice, _) = start_as(&h, "alice", Some("implementer"));
    let (bob, bob_sid) = start_as(&h, "bob", Some("reviewer"));
    let (carol, _) = start_as(&h, "carol", None);
    let before = h.last_seq();
    let direct = ok(h.baton.send(&alice, send(&bob_sid, "to bob's session")));
    assert_eq!(direct.delivered_to, [Address::Session(bob_sid.clone())]);
    assert_eq!(direct.message.kind, "fyi");
    ok(h.baton.send(&alice, send("bob", "to bob the agent")));
    let role = ok(h.baton.send(&alice, send("role:reviewer", "to reviewers")));
    assert_eq!(role.delivered_to, [Address::Session(bob_sid.clone())]);
    let everyone = ok(h.baton.send(&alice, send("all", "to everyone")));
    assert_eq!(
        everyone.delivered_to.len(),
        2,
        "everyone but the sender: {:?}",
        everyone.delivered_to
    );
    assert_eq!(
        h.kinds_after(before),
        ["message.sent", "message.sent", "message.sent", "message.sent"]
    );
    assert_eq!(
        texts(&h, &bob, all()),
        ["to bob's session", "to bob the agent", "to reviewers", "to everyone"]
    );
    assert_eq!(texts(&h, &carol, all()), ["to everyone"]);
    assert!(
        texts(&h, &alice, all()).is_empty(),
        "a sender does not receive its own message"
    );
    // Sessions that start later get what is still open to them.
    let (dave, _) = start_as(&h, "dave", Some("reviewer"));
    assert_eq!(texts(&h, &dave, all()), ["to reviewers", "to everyone"]);
    let (erin, _) = start_as(&h, "erin", None);
    assert_eq!(texts(&h, &erin, all()), ["to everyone"]);
}

/// A message to an agent with no open session waits for its next session, and one of its sessions reading
/// it reads it for the agent.
pub fn a_message_to_an_agent_waits_for_its_next_session(make: &MakeStore) {
    let h = Harness::open(make);
    let (alice, _) = start_as(&h, "alice", None);
    let (bob, _) = start_as(&h, "bob", None);
    ok(h.baton.end_session(&bob, Default::default()));
    ok(h.baton.send(&alice, send("bob", "read this when you are back")));
    let (bob2, _) = start_as(&h, "bob", None);
    let page = ok(h.baton.inbox(&bob2, InboxRequest::default()));
    assert_eq!(page.messages.len(), 1);
    assert!(page.messages[0].new);
    assert_eq!(page.messages[0].recipient, Address::Agent("bob".into()));
}

/// Each message is new exactly once for each recipient; an ack is idempotent, hides the message from the
/// default inbox and writes one event.
pub fn a_message_is_new_once_and_an_ack_is_idempotent(make: &MakeStore) {
    let h = Harness::open(make);
    let (alice, _) = start_as(&h, "alice", None);
    let (bob, bob_sid) = start_as(&h, "bob", None);
    let (carol, carol_sid) = start_as(&h, "carol", None);
    let m = ok(h.baton.send(&alice, send("all", "hello"))).message;
    let first = ok(h.baton.inbox(&bob, InboxRequest::default()));
    assert_eq!(first.messages.iter().map(|i| i.new).collect::<Vec<_>>(), [true]);
    assert_eq!(first.unread_left, 0);
    let again = ok(h.baton.inbox(&bob, InboxRequest::default()));
    assert_eq!(again.messages.iter().map(|i| i.new).collect::<Vec<_>>(), [false]);
    let unread = InboxRequest {
        unread_only: true,
        ..Default::default()
    };
    assert!(ok(h.baton.inbox(&bob, unread.clone())).messages.is_empty());
    // Carol's copy is her own: still new for her.
    assert_eq!(ok(h.baton.inbox(&carol, unread)).messages.len(), 1);
    let before = h.last_seq();
    let acked = ok(h.baton.ack(&bob, &[m.id.to_string()]));
    assert_eq!((acked.acked.len(), acked.already.len()), (1, 0));
    let twice = ok(h.baton.ack(&bob, &[m.id.to_string()]));
    assert_eq!((twice.acked.len(), twice.already.len()), (0, 1));
    assert_eq!(
        h.kinds_after(before),
        ["message.acked"],
        "one event for the first ack only"
    );
    assert!(ok(h.baton.inbox(&bob, InboxRequest::default())).messages.is_empty());
    let shown = ok(h.baton.inbox(&bob, all()));
    assert!(shown.messages[0].acked_at.is_some());
    // The sender sees who read and acked.
    let sent = ok(h.baton.sent(&alice, None));
    let mut states: Vec<(String, bool, bool)> = sent.messages[0]
        .recipients
        .iter()
        .map(|r| (r.recipient.to_string(), r.read_at.is_some(), r.acked_at.is_some()))
        .collect();
    states.sort();
    let mut want = vec![
        (format!("session:{bob_sid}"), true, true),
        (format!("session:{carol_sid}"), true, false),
    ];
    want.sort();
    assert_eq!(states, want);
}

/// A message to everyone stops reaching new sessions when it expires, or once every recipient acked it.
pub fn open_messages_close_when_expired_or_acked_by_all(make: &MakeStore) {
    let h = Harness::open(make);
    let (alice, _) = start_as(&h, "alice", None);
    let (bob, _) = start_as(&h, "bob", None);
    ok(h.baton.send(
        &alice,
        SendRequest {
            expires: Some("1h".into()),
            ..send("all", "for the next hour")
        },
    ));
    let lasting = ok(h.baton.send(&alice, send("all", "until everyone acked"))).message;
    let (carol, _) = start_as(&h, "carol", None);
    assert_eq!(texts(&h, &carol, all()), ["for the next hour", "until everyone acked"]);
    ok(h.baton.ack(&bob, &[lasting.id.to_string()]));
    ok(h.baton.ack(&carol, &[lasting.id.to_string()]));
    h.advance(2 * 3600);
    let (dave, _) = start_as(&h, "dave", None);
    assert!(
        texts(&h, &dave, all()).is_empty(),
        "expired and fully acked messages reach no new session"
    );
}

/// Paging an inbox by cursor visits every message once, in order.
pub fn inbox_pages_by_cursor_without_skips_or_repeats(make: &MakeStore) {
    let h = Harness::open(make);
    let (alice, _) = start_as(&h, "alice", None);
    let (bob, bob_sid) = start_as(&h, "bob", None);
    for i in 0..25 {
        ok(h.baton.send(&alice, send(&bob_sid, &format!("m{i}"))));
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = ok(h.baton.inbox(
            &bob,
            InboxRequest {
                all: true,
                after,
                limit: Some(10),
                ..Default::default()
            },
        ));
        assert!(page.messages.len() <= 10);
        seen.extend(page.messages.iter().map(|i| i.message.text.clone()));
        match page.next_cursor {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    let want: Vec<String> = (0..25).map(|i| format!("m{i}")).collect();
    assert_eq!(seen, want);
    assert_eq!(ok(h.baton.inbox(&bob, InboxRequest::default())).unread_left, 0);
}

/// Replies join their thread; only a session that sent or received a message sees its thread.
pub fn replies_form_threads_seen_by_their_participants(make: &MakeStore) {
    let h = Harness::open(make);
    let (alice, _) = start_as(&h, "alice", None);
    let (bob, bob_sid) = start_as(&h, "bob", None);
    let (carol, _) = start_as(&h, "carol", None);
    let q = ok(h.baton.send(&alice, send(&bob_sid, "is the API ready?"))).message;
    let a = ok(h.baton.send(
        &bob,
        SendRequest {
            reply_to: Some(q.id.to_string()),
            ..send("alice", "yes, merged")
        },
    ))
    .message;
    assert_eq!(a.thread, q.id);
    let thread = ok(h.baton.thread(&alice, &a.id));
    let shown: Vec<&str> = thread.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(shown, ["is the API ready?", "yes, merged"]);
    h.refused("a thread of others", 4, &[q.id.as_str()], || {
        h.baton.thread(&carol, &q.id)
    });
    let (outsider, _) = {
        let c = other_project("zed");
        let sid = ok(h.baton.start_session(&c, StartRequest::default())).session_id;
        let mut c = c;
        c.session = Some(sid.clone());
        (c, sid)
    };
    h.refused("a reply across projects", 2, &["project"], || {
        h.baton.send(
            &outsider,
            SendRequest {
                reply_to: Some(q.id.to_string()),
                ..send("zed", "hi")
            },
        )
    });
}

/// Bad input is refused with the value and what is accepted, and changes nothing.
pub fn sending_refuses_bad_input_and_changes_nothing(make: &MakeStore) {
    let h = Harness::open(make);
    let (alice, _) = start_as(&h, "alice", None);
    let (bob, bob_sid) = start_as(&h, "bob", None);
    h.refused("empty text", 2, &["empty"], || h.baton.send(&alice, send("bob", "  ")));
    let long = "x".repeat(64 * 1024 + 1);
    h.refused("oversized text", 2, &["64 KiB"], || {
        h.baton.send(&alice, send("bob", &long))
    });
    h.refused("unknown agent", 4, &["nobody", "role:ROLE"], || {
        h.baton.send(&alice, send("nobody", "hi"))
    });
    h.refused("unknown session", 4, &[UNKNOWN_SESSION], || {
        h.baton.send(&alice, send(UNKNOWN_SESSION, "hi"))
    });
    h.refused("unknown role", 4, &["wizard", "reviewer"], || {
        h.baton.send(&alice, send("role:wizard", "hi"))
    });
    h.refused("malformed address", 2, &["team:x", "agent:NAME"], || {
        h.baton.send(&alice, send("team:x", "hi"))
    });
    h.refused("bad type", 2, &["Not A Word", "fyi"], || {
        h.baton.send(
            &alice,
            SendRequest {
                kind: Some("Not A Word".into()),
                ..send("bob", "hi")
            },
        )
    });
    h.refused("reserved type", 2, &["request"], || {
        h.baton.send(
            &alice,
            SendRequest {
                kind: Some("request".into()),
                ..send("bob", "hi")
            },
        )
    });
    h.refused("expiry of a direct message", 2, &["role or to all"], || {
        h.baton.send(
            &alice,
            SendRequest {
                expires: Some("1h".into()),
                ..send("bob", "hi")
            },
        )
    });
    h.refused("bad expiry", 2, &["soon"], || {
        h.baton.send(
            &alice,
            SendRequest {
                expires: Some("soon".into()),
                ..send("all", "hi")
            },
        )
    });
    h.refused("unknown reply", 4, &[UNKNOWN_SESSION], || {
        h.baton.send(
            &alice,
            SendRequest {
                reply_to: Some(UNKNOWN_SESSION.into()),
                ..send("bob", "hi")
            },
        )
    });
    ok(h.baton.end_session(&bob, Default::default()));
    h.refused("an ended session", 3, &[bob_sid.as_str(), "bob"], || {
        h.baton.send(&alice, send(&bob_sid, "hi"))
    });
    // A custom type is a lowercase word of the sender's.
    let m = ok(h.baton.send(
        &alice,
        SendRequest {
            kind: Some("api_changed".into()),
            ..send("bob", "v2")
        },
    ));
    assert_eq!(m.message.kind, "api_changed");
}

/// A session acks only what was sent to it or its agent; acking something else changes nothing.
pub fn only_recipients_ack(make: &MakeStore) {
    let h = Harness::open(make);
    let (alice, _) = start_as(&h, "alice", None);
    let (bob, bob_sid) = start_as(&h, "bob", None);
    let (carol, _) = start_as(&h, "carol", None);
    let m = ok(h.baton.send(&alice, send(&bob_sid, "for bob"))).message;
    h.refused("ack of another's message", 4, &[m.id.as_str()], || {
        h.baton.ack(&carol, &[m.id.to_string()])
    });
    h.refused("ack with one unknown id among known", 4, &["nope"], || {
        h.baton.ack(&bob, &[m.id.to_string(), "nope".into()])
    });
    h.refused("ack of nothing", 2, &["message"], || h.baton.ack(&bob, &[]));
}

/// A request is answered only by whom it addresses, moves forward only, and the requester hears the answer.
pub fn requests_are_answered_by_their_addressee(make: &MakeStore) {
    let h = Harness::open(make);
    let (alice, _) = start_as(&h, "alice", None);
    let (bob, _) = start_as(&h, "bob", Some("reviewer"));
    let (carol, _) = start_as(&h, "carol", None);
    let before = h.last_seq();
    let made = ok(h.baton.request(
        &alice,
        MakeRequest {
            to: "role:reviewer".into(),
            kind: Wire::text("review"),
            text: "review the auth PR".into(),
            idempotency_key: None,
        },
    ));
    assert_eq!(made.request.status, RequestStatus::Pending);
    assert_eq!(made.request.kind, RequestKind::Review);
    assert_eq!(h.kinds_after(before), ["message.sent", "request.created"]);
    let for_bob = ok(h.baton.requests(
        &bob,
        RequestsQuery {
            for_me: true,
            ..Default::default()
        },
    ));
    assert_eq!(for_bob.requests.len(), 1);
    let answer = |status: &str, response: Option<&str>| AnswerRequest {
        id: made.request.id.to_string(),
        status: Wire::text(status),
        response: response.map(Into::into),
    };
    h.refused("someone else's request", 3, &["role:reviewer"], || {
        h.baton.answer(&carol, answer("accepted", None))
    });
    h.refused("an unknown status", 2, &["approved", "accepted"], || {
        h.baton.answer(&bob, answer("approved", None))
    });
    h.refused("back to pending", 2, &["pending"], || {
        h.baton.answer(&bob, answer("pending", None))
    });
    ok(h.baton.answer(&bob, answer("accepted", Some("on it"))));
    h.refused("declining an accepted request", 2, &["accepted", "declined"], || {
        h.baton.answer(&bob, answer("declined", None))
    });
    let done = ok(h.baton.answer(&bob, answer("completed", Some("LGTM"))));
    assert_eq!(done.status, RequestStatus::Completed);
    assert_eq!(done.response.as_deref(), Some("LGTM"));
    let mine = ok(h.baton.requests(
        &alice,
        RequestsQuery {
            mine: true,
            statuses: vec![Wire::text("completed")],
            ..Default::default()
        },
    ));
    assert_eq!(mine.requests.len(), 1);
    // The requester was told of each answer, in the request's thread.
    let told = ok(h.baton.inbox(&alice, InboxRequest::default()));
    let kinds: Vec<(&str, &str)> = told
        .messages
        .iter()
        .map(|i| (i.message.kind.as_str(), i.message.text.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [("response", "accepted: on it"), ("response", "completed: LGTM")]
    );
    assert!(
        told.messages
            .iter()
            .all(|i| i.message.thread == made.request.message_id)
    );
    h.refused("an unknown request", 4, &["nope"], || {
        h.baton.answer(
            &bob,
            AnswerRequest {
                id: "nope".into(),
                ..answer("accepted", None)
            },
        )
    });
}

/// A hook is told of each message once; after that, or once it was read, never again.
pub fn hooks_are_told_of_each_message_once(make: &MakeStore) {
    let h = Harness::open(make);
    let (alice, _) = start_as(&h, "alice", None);
    let (bob, bob_sid) = start_as(&h, "bob", None);
    let (_, nothing, _) = ok(h.baton.notifications(&bob, 3));
    assert!(nothing.is_empty());
    for i in 0..5 {
        ok(h.baton.send(&alice, send(&bob_sid, &format!("n{i}"))));
    }
    let (_, told, more) = ok(h.baton.notifications(&bob, 3));
    assert_eq!(
        told.iter().map(|i| i.message.text.as_str()).collect::<Vec<_>>(),
        ["n0", "n1", "n2"]
    );
    assert_eq!(more, 2);
    // Reading tells as much as a hook: what was read is never told.
    let read = ok(h.baton.inbox(
        &bob,
        InboxRequest {
            unread_only: true,
            limit: Some(4),
            ..Default::default()
        },
    ));
    assert_eq!(read.messages.len(), 4);
    let (_, rest, more) = ok(h.baton.notifications(&bob, 3));
    assert_eq!(rest.iter().map(|i| i.message.text.as_str()).collect::<Vec<_>>(), ["n4"]);
    assert_eq!(more, 0);
    assert!(ok(h.baton.notifications(&bob, 3)).1.is_empty());
}

/// The storage contract of deliveries: one per message and recipient, placed in order, updated by message and
/// recipient; updates of what is missing are not found.
pub fn store_deliveries_are_kept_once_and_placed_in_order(make: &MakeStore) {
    let h = Harness::open(make);
    let (alice, _) = start_as(&h, "alice", None);
    let (_, bob_sid) = start_as(&h, "bob", None);
    let a = ok(h.baton.send(&alice, send(&bob_sid, "first"))).message;
    let b = ok(h.baton.send(&alice, send(&bob_sid, "second"))).message;
    let bob_inbox = Address::Session(bob_sid.clone());
    // A session is found by id without locking it, in a write too.
    let by_id = ok(store::write(h.baton.store(), |tx| {
        tx.sessions(&baton_core::store::SessionQuery {
            id: Some(bob_sid.clone()),
            unlocked: true,
            ..Default::default()
        })
    }));
    assert_eq!(by_id.iter().map(|s| &s.id).collect::<Vec<_>>(), [&bob_sid]);
    // Messages are locked in any order given, ids no message has passed over; deliveries are read without
    // locking them, in a write too.
    let unlocked = ok(store::write(h.baton.store(), |tx| {
        tx.lock_messages(&[b.id.to_string(), "nope".into(), a.id.to_string(), b.id.to_string()])?;
        tx.deliveries(&DeliveryQuery {
            recipients: vec![bob_inbox.clone()],
            unlocked: true,
            ..Default::default()
        })
    }));
    assert_eq!(
        unlocked.iter().map(|d| &d.message_id).collect::<Vec<_>>(),
        [&a.id, &b.id]
    );
    ok(store::write(h.baton.store(), |tx| tx.deliver(&a.id, &bob_inbox)));
    let found = ok(store::read(h.baton.store(), |tx| {
        tx.deliveries(&DeliveryQuery {
            recipients: vec![bob_inbox.clone()],
            ..Default::default()
        })
    }));
    assert_eq!(
        found.len(),
        2,
        "a second delivery of one message to one inbox keeps the first"
    );
    assert_eq!(found[0].message_id, a.id);
    assert!(found[0].pos < found[1].pos);
    let after = ok(store::read(h.baton.store(), |tx| {
        tx.deliveries(&DeliveryQuery {
            recipients: vec![bob_inbox.clone()],
            after_pos: found[0].pos,
            ..Default::default()
        })
    }));
    assert_eq!(after.iter().map(|d| &d.message_id).collect::<Vec<_>>(), [&b.id]);
    let mut missing = found[0].clone();
    missing.recipient = Address::Agent("nobody".into());
    expect_err(
        store::write(h.baton.store(), |tx| tx.update_delivery(&missing)),
        4,
        &[],
        "update of a missing delivery",
    );
    expect_err(
        store::write(h.baton.store(), |tx| tx.close_message("nope")),
        4,
        &[],
        "close of a missing message",
    );
    expect_err(
        store::write(h.baton.store(), |tx| tx.insert_message(&a)),
        3,
        &[],
        "a second message with one id",
    );
    let mut r = ok(h.baton.request(
        &alice,
        MakeRequest {
            to: bob_sid.to_string(),
            kind: Wire::text("help"),
            text: "help".into(),
            idempotency_key: None,
        },
    ))
    .request;
    r.id = "nope".into();
    expect_err(
        store::write(h.baton.store(), |tx| tx.update_request(&r)),
        4,
        &[],
        "update of a missing request",
    );
}

fn export_req(name: &str, file: &str, description: &str) -> baton_core::ExportRequest {
    baton_core::ExportRequest {
        name: name.into(),
        file: Some(file.into()),
        description: Some(description.into()),
    }
}

fn need_req(name: &str, from: &str) -> baton_core::NeedRequest {
    baton_core::NeedRequest {
        name: name.into(),
        from: from.into(),
    }
}

/// A session that needs an interface is sent `interface_ready` when its exporter declares it and each time it
/// updates it; a declaration again updates the one there is; the project lists what is available.
pub fn needing_an_interface_tells_when_it_is_declared(make: &MakeStore) {
    let h = Harness::open(make);
    let (alice, alice_sid) = start_as(&h, "alice", None);
    let (bob, _) = start_as(&h, "bob", None);
    let (carol, _) = start_as(&h, "carol", None);
    let before = h.last_seq();
    let needed = ok(h.baton.need(&bob, need_req("AuthContext", "alice")));
    assert!(needed.available.is_none());
    assert_eq!(needed.dependency.from, Address::Agent("alice".into()));
    ok(h.baton.need(&carol, need_req("AuthContext", &alice_sid)));
    assert_eq!(h.kinds_after(before), ["interface.needed", "interface.needed"]);
    let before = h.last_seq();
    let first = ok(h.baton.export(
        &alice,
        export_req("AuthContext", "src/auth/context.py", "who is calling"),
    ));
    assert!(!first.updated);
    assert_eq!(first.told.len(), 2, "{:?}", first.told);
    assert_eq!(
        h.kinds_after(before),
        ["message.sent", "message.sent", "interface.declared"]
    );
    let told = ok(h.baton.inbox(&bob, InboxRequest::default()));
    assert_eq!(told.messages.len(), 1);
    assert_eq!(told.messages[0].message.kind, "interface_ready");
    assert_eq!(
        told.messages[0].message.text,
        "AuthContext is ready in src/auth/context.py: who is calling"
    );
    let again = ok(h.baton.export(
        &alice,
        baton_core::ExportRequest {
            description: Some("who is calling, and their scopes".into()),
            ..export_req("AuthContext", "src/auth/context.py", "")
        },
    ));
    assert!(again.updated);
    assert_eq!(again.interface.id, first.interface.id, "one declaration, updated");
    assert_eq!(texts(&h, &carol, all()).len(), 2, "told again on the update");
    let listed = ok(h.baton.interfaces(&bob, None));
    assert_eq!(listed.interfaces.len(), 1);
    assert_eq!(
        listed.interfaces[0].description.as_deref(),
        Some("who is calling, and their scopes")
    );
    // A need of what is there already says so.
    let (dave, _) = start_as(&h, "dave", None);
    let late = ok(h.baton.need(&dave, need_req("AuthContext", "alice")));
    assert_eq!(late.available.map(|i| i.name), Some("AuthContext".to_string()));
    // Another exporter's interface of the same name tells no one who needs it from alice.
    let (erin, _) = start_as(&h, "erin", None);
    let other = ok(h
        .baton
        .export(&erin, export_req("AuthContext", "lib/auth.rs", "another one")));
    assert!(other.told.is_empty());
    assert_eq!(ok(h.baton.interfaces(&bob, None)).interfaces.len(), 2);
}

/// Needs and declarations refuse bad input and change nothing.
pub fn interfaces_refuse_bad_input_and_change_nothing(make: &MakeStore) {
    let h = Harness::open(make);
    let (alice, alice_sid) = start_as(&h, "alice", None);
    h.refused("an empty name", 2, &["interface name"], || {
        h.baton.export(&alice, export_req("", "f", "d"))
    });
    h.refused("a name with spaces", 2, &["interface name"], || {
        h.baton.export(&alice, export_req("Auth Context", "f", "d"))
    });
    h.refused("an empty file", 2, &["file"], || {
        h.baton.export(&alice, export_req("A", " ", "d"))
    });
    h.refused("a need of one's own", 2, &["own"], || {
        h.baton.need(&alice, need_req("A", &alice_sid))
    });
    h.refused("a need from everyone", 2, &["session or an agent"], || {
        h.baton.need(&alice, need_req("A", "all"))
    });
    h.refused("a need from an unknown agent", 4, &["nobody"], || {
        h.baton.need(&alice, need_req("A", "nobody"))
    });
    h.refused("interfaces of a malformed session", 2, &["nope"], || {
        h.baton.interfaces(&alice, Some("nope"))
    });
}

/// A session's role is a built-in one or one the config defines; another is refused and changes nothing; roles
/// show in the digest and address messages.
pub fn roles_are_built_in_or_configured(make: &MakeStore) {
    let cfg = baton_core::config::ConfigFile::parse(
        "[roles.docs-writer]\ndescription = \"writes the user guide\"\nallow = [\"edit:docs/**\"]\n",
        "test config",
    )
    .expect("a config with a role");
    let policy = baton_core::config::Policy::from_config(&cfg).expect("policy");
    assert_eq!(
        policy.role("docs-writer").map(|r| r.allow.clone()),
        Some(vec!["edit:docs/**".to_string()])
    );
    let h = Harness::with_policy(make, policy);
    let start = |agent: &str, role: &str| {
        h.baton.start_session(
            &caller(agent),
            StartRequest {
                role: Some(role.into()),
                ..Default::default()
            },
        )
    };
    h.refused("an unknown role", 2, &["wizard", "reviewer", "docs-writer"], || {
        start("alice", "wizard")
    });
    let writer = ok(start("alice", "docs-writer")).session_id;
    ok(start("bob", "tester"));
    let digest = ok(h.baton.digest(&caller("bob")));
    let brief = digest
        .active_sessions
        .iter()
        .find(|b| b.session_id == writer)
        .expect("alice's session in bob's digest");
    assert_eq!(brief.role.as_deref(), Some("docs-writer"));
    let (carol, _) = start_as(&h, "carol", None);
    let sent = ok(h
        .baton
        .send(&carol, send("role:docs-writer", "the guide needs a page on roles")));
    assert_eq!(sent.delivered_to, [Address::Session(writer)]);
}

/// `context` adds what bears on an instruction (interfaces that share its words, unread messages, decisions,
/// requests) without marking anything read; `recommend` picks the open session whose role, goal, claims or
/// interfaces tie it to the instruction, and says so, or the role a new session needs.
pub fn instructions_get_their_context_and_a_session(make: &MakeStore) {
    let h = Harness::open(make);
    let (alice, alice_sid) = start_as(&h, "alice", Some("implementer"));
    let (bob, bob_sid) = start_as(&h, "bob", Some("reviewer"));
    ok(h.baton.export(
        &alice,
        export_req("AuthContext", "src/auth/context.py", "who is calling"),
    ));
    ok(h.baton
        .export(&alice, export_req("BillingClient", "src/billing.py", "invoices")));
    h.log(&alice, baton_core::EntryKind::Decision, "JWT for tokens");
    ok(h.baton.send(&alice, send("bob", "the API is merged")));
    ok(h.baton.request(
        &alice,
        MakeRequest {
            to: "role:reviewer".into(),
            kind: Wire::text("review"),
            text: "review PR #16".into(),
            idempotency_key: None,
        },
    ));
    let before = h.snapshot();
    let c = ok(h
        .baton
        .instruction_context(&bob, "wire the login page to AuthContext", 5));
    h.assert_unchanged(&before, "context reads only");
    assert_eq!(c.session_id.as_ref(), Some(&bob_sid));
    assert_eq!(
        c.interfaces.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
        ["AuthContext"]
    );
    assert_eq!(c.unread_count, 2, "the message and the request's announcement");
    assert_eq!(
        c.decisions.iter().map(|d| d.text.as_str()).collect::<Vec<_>>(),
        ["JWT for tokens"]
    );
    assert_eq!(c.requests.len(), 1);
    h.refused("an empty instruction", 2, &["instruction"], || {
        h.baton.instruction_context(&bob, " ", 5)
    });
    h.refused("too many decisions", 2, &["1 to 100"], || {
        h.baton.instruction_context(&bob, "x", 0)
    });

    let review = ok(h.baton.recommend(&alice, "please review the login change"));
    assert_eq!(
        (review.role.as_str(), review.session_id.as_ref()),
        ("reviewer", Some(&bob_sid))
    );
    assert!(review.reasons[0].contains("reviewer"), "{:?}", review.reasons);
    let build = ok(h.baton.recommend(&bob, "use AuthContext in the login page"));
    assert_eq!(build.session_id.as_ref(), Some(&alice_sid));
    assert!(
        build.reasons.iter().any(|r| r.contains("AuthContext")),
        "{:?}",
        build.reasons
    );
    assert_eq!(
        ok(h.baton.recommend(&bob, "use AuthContext in the login page")),
        build,
        "the same answer every time"
    );
    let audit = ok(h.baton.recommend(&bob, "audit the upload handler for XSS"));
    assert_eq!((audit.role.as_str(), audit.session_id), ("security", None));
    assert!(
        audit.reasons[0].contains("start a new session with role security"),
        "{:?}",
        audit.reasons
    );
}

/// A context file's sessions and interfaces come into the store once: a second import changes nothing, and a
/// file of another project is refused.
pub fn a_team_context_is_imported_once(make: &MakeStore) {
    let h = Harness::open(make);
    let (alice, alice_sid) = start_as(&h, "alice", None);
    let mut c = ok(h.baton.team_context(&alice));
    c.interfaces.insert(
        "auth".into(),
        vec![baton_core::ContextInterface {
            session: alice_sid.to_string(),
            agent: "alice".into(),
            name: "AuthContext".into(),
            file: Some("src/auth/context.py".into()),
            description: None,
        }],
    );
    c.decisions.push(baton_core::ContextDecision {
        date: "2026-11-20".into(),
        session: "billing-work".into(),
        agent: "codex".into(),
        decision: "invoices in cents".into(),
        rationale: None,
    });
    let first = ok(h.baton.import_team_context(&alice, &c, "context.yaml"));
    assert_eq!((first.interfaces, first.decisions, first.sessions.len()), (1, 1, 1));
    let before = h.snapshot();
    let again = ok(h.baton.import_team_context(&alice, &c, "context.yaml"));
    assert_eq!((again.interfaces, again.decisions), (0, 0));
    h.assert_unchanged(&before, "a second import");
    let shared = ok(h.baton.team_context(&alice));
    assert_eq!(
        shared.decisions.iter().map(|d| d.session.as_str()).collect::<Vec<_>>(),
        ["billing-work"]
    );
    assert_eq!(shared.interfaces["auth"][0].name, "AuthContext");
    let mut elsewhere = c.clone();
    elsewhere.project = "github.com/org/other".into();
    h.refused("another project's file", 2, &["github.com/org/other"], || {
        h.baton.import_team_context(&alice, &elsewhere, "context.yaml")
    });
}
