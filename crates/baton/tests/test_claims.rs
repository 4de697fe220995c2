//! Claims: grants, conflicts, releases, forced releases, leases and takeovers, heartbeats, idempotency, listing.

use std::time::Duration;

use serde_json::Value;

use crate::common::{Backend, Env, micros};

fn events_of(env: &Env, kind: &str) -> Vec<Value> {
    env.all_events().into_iter().filter(|e| e["kind"] == kind).collect()
}

#[test]
fn claim_grants_token_one_with_a_lease() {
    let env = Env::new();
    let sid = env.start("alice", "g");
    let r = env.run_as("alice", &["claim", "issue", "15", "--json"]);
    r.ok();
    let j = r.json();
    assert_eq!(j["claimed"], true);
    assert_eq!(j["claim"]["token"], 1);
    assert_eq!(j["claim"]["session_id"], sid.as_str());
    assert_eq!(j["claim"]["repo"], "org/app");
    assert_eq!(j["claim"]["state"], "held");
    let granted = micros(j["claim"]["granted_at"].as_str().unwrap());
    let expires = micros(j["claim"]["expires_at"].as_str().unwrap());
    assert_eq!(expires - granted, 30 * 60 * 1_000_000, "default lease is 30 minutes");
    let ev = events_of(&env, "claim.granted");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["target"], "issue org/app#15");
    assert_eq!(ev[0]["data"]["token"], 1);

    // Text mode says what was claimed.
    env.run_as("alice", &["claim", "pr", "3", "--ttl", "2h"])
        .ok()
        .stdout_has("Claimed pr org/app#3: token 1");
    // Claiming again what one holds renews it and keeps the token.
    let j = env.run_as("alice", &["claim", "issue", "15", "--json"]).json();
    assert_eq!(j["renewed"], true);
    assert_eq!(j["claim"]["token"], 1);
}

#[test]
fn claim_held_by_another_exits_3_and_names_the_holder() {
    let env = Env::new();
    let a = env.start("alice", "g");
    env.start("bob", "g");
    let held = env.run_as("alice", &["claim", "issue", "15", "--json"]).json();
    let r = env.run_as("bob", &["claim", "issue", "15"]);
    r.code(3)
        .stderr_has("agent 'alice'")
        .stderr_has(&a)
        .stderr_has("expires");
    let r = env.run_as("bob", &["claim", "issue", "15", "--json"]);
    r.code(3);
    let j = r.json();
    assert_eq!(j["claimed"], false);
    assert_eq!(j["claimed_by"]["agent"], "alice");
    assert_eq!(j["claimed_by"]["session"], a.as_str());
    assert_eq!(j["claimed_by"]["expires_at"], held["claim"]["expires_at"]);
    assert_eq!(events_of(&env, "claim.granted").len(), 1);
}

#[test]
fn release_by_holder_and_by_non_holder() {
    let env = Env::new();
    let a = env.start("alice", "g");
    env.start("bob", "g");
    env.run_as("alice", &["claim", "issue", "15"]).ok();

    let r = env.run_as("bob", &["release", "issue", "15", "--status", "completed"]);
    r.code(3)
        .stderr_has("not the holder")
        .stderr_has("agent 'alice'")
        .stderr_has(&a);

    let r = env.run_as(
        "alice",
        &[
            "release",
            "issue",
            "15",
            "--status",
            "completed",
            "--notes",
            "PR #16",
            "--json",
        ],
    );
    r.ok();
    let j = r.json();
    assert_eq!(j["released"], true);
    assert_eq!(j["forced"], false);
    assert_eq!(j["claim"]["release_status"], "completed");
    assert_eq!(j["claim"]["notes"], "PR #16");
    let ev = events_of(&env, "claim.released");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["data"]["status"], "completed");
    assert_eq!(ev[0]["data"]["forced"], false);

    // Releasing again: nothing to release.
    env.run_as("alice", &["release", "issue", "15", "--status", "completed"])
        .code(4)
        .stderr_has("issue org/app#15");
    // Now bob can have it, with the next token.
    assert_eq!(
        env.run_as("bob", &["claim", "issue", "15", "--json"]).json()["claim"]["token"],
        2
    );
}

#[test]
fn forced_release_needs_a_reason_and_is_logged() {
    let env = Env::new();
    let a = env.start("alice", "g");
    let b = env.start("bob", "g");
    env.run_as("alice", &["claim", "issue", "15"]).ok();

    let r = env.run_as("bob", &["release", "issue", "15", "--status", "deferred", "--force"]);
    r.code(2).stderr_has("--reason");
    assert_eq!(env.run(&["claims", "--json"]).json()["claims"][0]["state"], "held");

    let r = env.run_as(
        "bob",
        &[
            "release",
            "issue",
            "15",
            "--status",
            "deferred",
            "--force",
            "--reason",
            "holder crashed",
            "--json",
        ],
    );
    r.ok();
    let j = r.json();
    assert_eq!(j["forced"], true);
    assert_eq!(j["claim"]["session_id"], a.as_str());
    let ev = events_of(&env, "claim.released");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["data"]["forced"], true);
    assert_eq!(ev[0]["data"]["reason"], "holder crashed");
    assert_eq!(ev[0]["data"]["status"], "deferred");
    assert_eq!(ev[0]["agent"], "bob");
    assert_eq!(ev[0]["session_id"], b.as_str());
    assert_eq!(ev[0]["data"]["holder"]["session"], a.as_str());
    assert_eq!(env.run(&["claims", "--json"]).json()["claims"], serde_json::json!([]));

    // The holder learns it like a lost lease: its heartbeat exits 3 once, and so does its own release.
    let beat = env.run_as("alice", &["heartbeat"]);
    beat.code(3)
        .stderr_has("lease lost on")
        .stderr_has("agent 'bob' released it by force");
    env.run_as("alice", &["heartbeat"]).ok();
    env.run_as("alice", &["release", "issue", "15", "--status", "completed"])
        .code(3)
        .stderr_has("released by force by agent 'bob'");
}

/// The label baton gives an issue of this environment's project, like `issue org/app#15`.
fn issue(env: &Env, id: &str) -> String {
    let d = env.run(&["doctor", "--json"]).json();
    format!("issue {}#{id}", d["repo"].as_str().expect("repo"))
}

#[test]
fn expired_lease_is_taken_over_and_the_old_holder_learns_it_sqlite() {
    takeover(Env::new());
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn expired_lease_is_taken_over_and_the_old_holder_learns_it_postgres() {
    takeover(Env::with_backend(Backend::postgres()));
}

fn takeover(env: Env) {
    let label = issue(&env, "15");
    let a = env.start("alice", "g");
    let b = env.start("bob", "g");
    env.run_as("alice", &["claim", "issue", "15", "--ttl", "1s"]).ok();
    env.run_as("alice", &["claim", "issue", "16"]).ok();
    std::thread::sleep(Duration::from_millis(1300));

    let r = env.run_as("bob", &["claim", "issue", "15", "--json"]);
    r.ok();
    let j = r.json();
    assert_eq!(j["claimed"], true);
    assert_eq!(j["claim"]["token"], 2);
    assert_eq!(j["claim"]["session_id"], b.as_str());
    assert_eq!(j["taken_over_from"]["agent"], "alice");
    assert_eq!(j["taken_over_from"]["session"], a.as_str());
    assert_eq!(j["taken_over_from"]["token"], 1);
    let ev = events_of(&env, "claim.taken_over");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["target"], label.as_str());
    assert_eq!(ev[0]["data"]["token"], 2);
    assert_eq!(ev[0]["data"]["previous"]["session"], a.as_str());

    // The old holder cannot release what it lost.
    let r = env.run_as("alice", &["release", "issue", "15", "--status", "completed"]);
    r.code(3).stderr_has("lease lost").stderr_has(&label);
    assert_eq!(
        env.run(&["claims", "--json"]).json()["claims"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Its next heartbeat reports the loss once, and still renews the claims it kept.
    let r = env.run_as("alice", &["heartbeat"]);
    r.code(3).stderr_has(&format!("lease lost on {label}")).stderr_has(&b);
    assert!(!r.stderr.contains("#16"), "{}", r.stderr);
    let r = env.run_as("alice", &["heartbeat", "--json"]);
    r.ok();
    let j = r.json();
    assert_eq!(j["lost"], serde_json::json!([]));
    let renewed: Vec<&str> = j["renewed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["item_id"].as_str().unwrap())
        .collect();
    assert_eq!(renewed, ["16"]);
    // bob still holds 15.
    let claims = env.run(&["claims", "--json"]).json();
    let c15 = claims["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["item_id"] == "15")
        .cloned()
        .unwrap();
    assert_eq!(c15["session_id"], b.as_str());
    assert_eq!(c15["token"], 2);
}

#[test]
fn heartbeat_extends_the_lease() {
    let env = Env::new();
    env.start("alice", "g");
    let first = env
        .run_as("alice", &["claim", "issue", "15", "--ttl", "10m", "--json"])
        .json();
    let before = micros(first["claim"]["expires_at"].as_str().unwrap());
    std::thread::sleep(Duration::from_millis(20));
    let r = env.run_as("alice", &["heartbeat", "--json"]);
    r.ok();
    let hb = r.json();
    let renewed = &hb["renewed"][0];
    assert_eq!(renewed["item_id"], "15");
    let after = micros(renewed["expires_at"].as_str().unwrap());
    assert!(
        after > before,
        "heartbeat should move expires_at forward: {before} -> {after}"
    );
    assert_eq!(
        after - micros(hb["last_seen"].as_str().unwrap()),
        600 * 1_000_000,
        "renewed by its own ttl"
    );
    let listed = env.run(&["claims", "--json"]).json();
    assert_eq!(micros(listed["claims"][0]["expires_at"].as_str().unwrap()), after);
    assert_eq!(listed["claims"][0]["token"], 1, "renewal keeps the token");
}

#[test]
fn idempotency_key_replays_the_first_answer() {
    let env = Env::new();
    env.start("alice", "g");
    let args = ["claim", "issue", "15", "--idempotency-key", "k-15", "--json"];
    let r1 = env.run_as("alice", &args);
    r1.ok();
    let r2 = env.run_as("alice", &args);
    r2.ok();
    assert_eq!(r1.json(), r2.json());
    assert_eq!(r2.json()["renewed"], false);
    assert_eq!(events_of(&env, "claim.granted").len(), 1);
    assert_eq!(events_of(&env, "claim.renewed").len(), 0);

    let before = env.all_events();
    let r = env.run_as(
        "alice",
        &["claim", "issue", "16", "--idempotency-key", "k-15", "--json"],
    );
    r.code(2);
    let j = r.json();
    assert_eq!(j["error"]["kind"], "bad_input");
    assert!(j["error"]["message"].as_str().unwrap().contains("k-15"), "{j}");
    assert_eq!(env.all_events(), before);
    assert_eq!(
        env.run(&["claims", "--json"]).json()["claims"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// Bob reusing Alice's key is Bob's own request: he is told Alice holds the item, and his log entry is written.
#[test]
fn another_sessions_idempotency_key_is_its_own_request() {
    let env = Env::new();
    let alice = env.start("alice", "auth");
    let bob = env.start("bob", "billing");
    let claim = ["claim", "issue", "15", "--idempotency-key", "claim-issue-15", "--json"];
    env.run_as("alice", &claim).ok();

    let r = env.run_as("bob", &claim);
    r.code(3);
    let j = r.json();
    assert_eq!(j["claimed"], false, "{j}");
    assert_eq!(j["claimed_by"]["session"], alice.as_str(), "{j}");
    let mine = env.run_as("bob", &["claims", "--mine", "--json"]);
    mine.ok();
    assert_eq!(mine.json()["claims"], serde_json::json!([]));

    let log = |agent: &str, text: &str| {
        let r = env.run_as(
            agent,
            &[
                "session",
                "log",
                "--progress",
                text,
                "--idempotency-key",
                "log-1",
                "--json",
            ],
        );
        r.ok();
        r.json()
    };
    assert_eq!(log("alice", "login works")["session_id"], alice.as_str());
    let logged = log("bob", "invoices render");
    assert_eq!(logged["session_id"], bob.as_str());
    let view = env.run_as("bob", &["session", "view", "--json"]);
    view.ok();
    assert_eq!(view.json()["progress"][0]["text"], "invoices render");
}

/// Work types beyond the built-in ones are declared in the config, or claimed with --new-type.
#[test]
fn declared_and_new_work_types() {
    let env = Env::new();
    env.start("alice", "g");
    let r = env.run_as("alice", &["claim", "epic", "7"]);
    r.code(2)
        .stderr_has("unknown work type 'epic'")
        .stderr_has("--new-type");
    env.run_as("alice", &["claim", "epic", "7", "--new-type"]).ok();
    std::fs::create_dir_all(env.repo.join(".baton")).expect("config dir");
    std::fs::write(env.repo.join(".baton/config.toml"), "types = [\"spike\"]\n").expect("config");
    env.run_as("alice", &["claim", "spike", "1"]).ok();
    env.run_as("alice", &["claim", "spkie", "2"])
        .code(2)
        .stderr_has("did you mean 'spike'?");
    let listed = env.run(&["claims", "--json"]).json();
    let types: Vec<&str> = listed["claims"]
        .as_array()
        .expect("claims")
        .iter()
        .map(|c| c["item_type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(types, ["epic", "spike"]);
}

#[test]
fn listing_claims() {
    let env = Env::new();
    let a = env.start("alice", "g");
    let b = env.start("bob", "g");
    env.run_as("alice", &["claim", "issue", "1"]).ok();
    env.run_as("alice", &["claim", "pr", "2"]).ok();
    env.run_as("bob", &["claim", "issue", "3"]).ok();
    env.run_as("bob", &["claim", "task", "4"]).ok();
    env.run_as("bob", &["release", "task", "4", "--status", "blocked"]).ok();

    let ids = |j: &Value| -> Vec<String> {
        let mut v: Vec<String> = j["claims"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["item_id"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let all = env.run_as("alice", &["claims", "--json"]).json();
    assert_eq!(ids(&all), ["1", "2", "3"]);
    for c in all["claims"].as_array().unwrap() {
        assert_eq!(c["mine"], c["session_id"] == a.as_str(), "{c}");
    }
    let mine = env.run_as("alice", &["claims", "--mine", "--json"]).json();
    assert_eq!(ids(&mine), ["1", "2"]);
    let mine = env.run_as("bob", &["claims", "--mine", "--json"]).json();
    assert_eq!(ids(&mine), ["3"]);
    assert!(
        mine["claims"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["session_id"] == b.as_str())
    );
    assert_eq!(
        ids(&env.run(&["claims", "--type", "issue", "--json"]).json()),
        ["1", "3"]
    );
    assert_eq!(ids(&env.run(&["claims", "--type", "pr", "--json"]).json()), ["2"]);
    let with = env.run(&["claims", "--include-released", "--json"]).json();
    assert_eq!(ids(&with), ["1", "2", "3", "4"]);
    let four = with["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["item_id"] == "4")
        .unwrap();
    assert_eq!(four["state"], "released");
    assert_eq!(four["release_status"], "blocked");
    let r = env.run_as("alice", &["claims"]);
    r.ok().stdout_has("issue org/app#1").stdout_has("issue org/app#3");
    assert!(!r.stdout.contains("#4"), "{}", r.stdout);
}

#[test]
fn stale_fencing_token_is_a_conflict() {
    let env = Env::new();
    env.start("alice", "g");
    env.start("bob", "g");
    env.run_as("alice", &["claim", "issue", "15"]).ok();
    env.run_as("alice", &["release", "issue", "15", "--status", "deferred"])
        .ok();
    env.run_as("bob", &["claim", "issue", "15"]).ok();
    env.run_as("bob", &["release", "issue", "15", "--status", "deferred"])
        .ok();
    assert_eq!(
        env.run_as("alice", &["claim", "issue", "15", "--json"]).json()["claim"]["token"],
        3
    );

    let before = env.all_events();
    let r = env.run_as(
        "alice",
        &[
            "release",
            "issue",
            "15",
            "--status",
            "completed",
            "--token",
            "2",
            "--json",
        ],
    );
    r.code(3);
    let j = r.json();
    assert_eq!(j["error"]["kind"], "conflict");
    let msg = j["error"]["message"].as_str().unwrap();
    assert!(msg.contains("stale fencing token 2") && msg.contains('3'), "{msg}");
    assert_eq!(env.all_events(), before);
    env.run_as(
        "alice",
        &["release", "issue", "15", "--status", "completed", "--token", "3"],
    )
    .ok();
}
