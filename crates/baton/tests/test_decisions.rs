//! `baton decisions`, `baton session log --decision --supersedes` and `baton search`: text and `--json`
//! answers, and the exit codes of refused input.

use serde_json::Value;

use crate::common::{Env, Run};

fn json_of(r: &Run) -> Value {
    r.ok();
    r.json()
}

fn decide(env: &Env, agent: &str, args: &[&str]) -> String {
    let mut all = vec!["session", "log", "--json", "--decision"];
    all.extend_from_slice(args);
    let r = env.run_as(agent, &all);
    json_of(&r)["entry"]["id"].as_str().expect("entry id").to_string()
}

fn texts(list: &Value) -> Vec<String> {
    list["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .map(|d| d["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn decisions_list_supersede_and_show_what_replaced_them() {
    let env = Env::new();
    let alice = env.start("alice", "auth");
    let bob = env.start("bob", "billing");
    let cookies = decide(&env, "alice", &["sessions in cookies", "--rationale", "one server"]);
    env.run_as("alice", &["session", "log", "--progress", "login form"])
        .ok();
    let ledger = decide(&env, "bob", &["a ledger table", "--rationale", "audits"]);

    let list = json_of(&env.run(&["decisions", "--json"]));
    assert_eq!(list["project"], "github.com/org/app");
    assert_eq!(texts(&list), ["a ledger table", "sessions in cookies"]);
    let first = &list["decisions"][0];
    assert_eq!(
        (&first["id"], &first["agent"], &first["session_id"], &first["rationale"]),
        (
            &Value::from(ledger.as_str()),
            &Value::from("bob"),
            &Value::from(bob.as_str()),
            &Value::from("audits")
        )
    );
    assert_eq!(first["superseded_by"], Value::Null);
    assert!(
        first["created_at"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{first}"
    );

    let r = env.run_as(
        "alice",
        &[
            "session",
            "log",
            "--decision",
            "JWT for tokens",
            "--rationale",
            "stateless",
            "--supersedes",
            &cookies,
        ],
    );
    r.ok().stdout_has(&format!("it supersedes decision {cookies}"));
    let jwt = json_of(&env.run(&["decisions", "--json"]))["decisions"][0].clone();
    assert_eq!(
        (&jwt["text"], &jwt["supersedes"]),
        (&Value::from("JWT for tokens"), &Value::from(cookies.as_str()))
    );
    assert_eq!(
        texts(&json_of(&env.run(&["decisions", "--json"]))),
        ["JWT for tokens", "a ledger table"]
    );
    let all = json_of(&env.run(&["decisions", "--all", "--json"]));
    assert_eq!(texts(&all), ["JWT for tokens", "a ledger table", "sessions in cookies"]);
    assert_eq!(all["decisions"][2]["superseded_by"], jwt["id"]);

    let text = env.run(&["decisions", "--all"]);
    text.ok()
        .stdout_has(&format!("alice  decision {cookies}  (session {alice})\n  sessions in cookies\n  Why: one server\n  Superseded by: {}", jwt["id"].as_str().unwrap()))
        .stdout_has(&format!("  JWT for tokens\n  Why: stateless\n  Supersedes: {cookies}"));
    assert!(
        !env.run(&["decisions"]).stdout.contains("cookies"),
        "superseded ones are hidden"
    );

    assert_eq!(
        texts(&json_of(&env.run(&["decisions", "--search", "TOKENS", "--json"]))),
        ["JWT for tokens"]
    );
    assert_eq!(
        texts(&json_of(&env.run(&[
            "decisions",
            "--since",
            "1h",
            "--limit",
            "1",
            "--json"
        ]))),
        ["JWT for tokens"]
    );
    assert_eq!(
        texts(&json_of(&env.run(&[
            "decisions",
            "--since",
            "2999-01-01T00:00:00Z",
            "--json"
        ]))),
        Vec::<String>::new()
    );
    env.run(&["decisions", "--since", "2999-01-01T00:00:00Z"])
        .ok()
        .stdout_has("No decisions in github.com/org/app.");

    // Every decision is also in the activity log, the replacement with an event of its own.
    let changes = json_of(&env.run(&["changes", "--kind", "decision.superseded", "--json"]));
    let events = changes["events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "{changes}");
    assert_eq!(
        (&events[0]["target"], &events[0]["data"]["superseded_by"]),
        (&Value::from(cookies.as_str()), &jwt["id"])
    );
}

#[test]
fn refused_supersedes_and_decisions_input_exit_with_their_codes_and_change_nothing() {
    let env = Env::new();
    env.start("alice", "auth");
    let old = decide(&env, "alice", &["old", "--rationale", "why"]);
    decide(&env, "alice", &["new", "--supersedes", &old]);
    let progress = json_of(&env.run_as("alice", &["session", "log", "--progress", "p", "--json"]))["entry"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = env.all_events().len();
    let cases: [(&[&str], i32, &str); 6] = [
        (
            &["session", "log", "--progress", "x", "--supersedes", &old],
            2,
            "--supersedes goes with a decision, not a progress entry",
        ),
        (
            &["session", "log", "--decision", "x", "--supersedes", "e1"],
            2,
            "invalid entry id 'e1'",
        ),
        (
            &[
                "session",
                "log",
                "--decision",
                "x",
                "--supersedes",
                "019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b",
            ],
            4,
            "no decision '019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b' in project github.com/org/app",
        ),
        (
            &["session", "log", "--decision", "x", "--supersedes", &progress],
            2,
            "is a progress entry, not a decision",
        ),
        (
            &["session", "log", "--decision", "x", "--supersedes", &old],
            3,
            "already superseded by decision",
        ),
        (
            &["decisions", "--since", "12"],
            2,
            "invalid --since '12': expected a duration (90s, 30m, 2h, 1d) or an RFC 3339 time",
        ),
    ];
    for (args, code, needle) in cases {
        env.run_as("alice", args).code(code).stderr_has(needle);
        let mut json = args.to_vec();
        json.push("--json");
        let r = env.run_as("alice", &json);
        r.code(code);
        let err = &r.json()["error"];
        assert_eq!(err["exit_code"], code, "{err}");
        assert!(err["message"].as_str().is_some_and(|m| m.contains(needle)), "{err}");
    }
    assert_eq!(env.all_events().len(), before, "refused calls write nothing");
    env.run(&["decisions", "--limit", "0"])
        .code(2)
        .stderr_has("invalid limit '0'");
}

#[test]
fn search_prints_kind_time_session_agent_and_snippet_best_first() {
    let env = Env::new();
    let alice = env.start("alice", "auth");
    let bob = env.start("bob", "billing");
    env.run_as("alice", &["session", "log", "--progress", "retry retry retry"])
        .ok();
    env.run_as(
        "alice",
        &[
            "session",
            "log",
            "--blocker",
            "deploys fail; a retry after a minute works",
        ],
    )
    .ok();
    decide(
        &env,
        "alice",
        &["retry failed webhooks", "--rationale", "partners resend nothing"],
    );
    env.run_as(
        "bob",
        &[
            "session",
            "end",
            "--summary",
            "invoices done",
            "--handoff",
            "retry the nightly export",
        ],
    )
    .ok();

    let all = json_of(&env.run(&["search", "retry", "--json"]));
    let hits = all["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 4, "{all}");
    assert_eq!(
        (&hits[0]["kind"], &hits[0]["entry_kind"]),
        (&Value::from("journal"), &Value::from("progress"))
    );
    assert_eq!(hits[0]["session_id"], alice.as_str());
    assert!(
        hits.windows(2).all(|w| w[0]["rank"].as_f64() >= w[1]["rank"].as_f64()),
        "{all}"
    );
    let handoff = hits.iter().find(|h| h["kind"] == "handoff").expect("the handoff");
    assert_eq!(
        (&handoff["id"], &handoff["agent"]),
        (&Value::from(bob.as_str()), &Value::from("bob"))
    );
    assert!(
        handoff["snippet"].as_str().is_some_and(|s| s.contains("[retry]")),
        "{handoff}"
    );

    let kinds = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["search", "--json"];
        all.extend_from_slice(args);
        json_of(&env.run(&all))["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .map(|h| h["kind"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(kinds(&["retry", "--kind", "decision"]), ["decision"]);
    assert_eq!(kinds(&["retry", "--kind", "handoff"]), ["handoff"]);
    assert_eq!(kinds(&["retry", "--kind", "journal"]).len(), 3);
    assert_eq!(kinds(&["retry", "--kind", "decision", "--kind", "handoff"]).len(), 2);
    assert_eq!(kinds(&["retry", "--limit", "1"]).len(), 1);
    assert_eq!(kinds(&["partners resend"]), ["decision"], "rationales are searched");

    let text = env.run(&["search", "retry", "--kind", "decision"]);
    text.ok();
    let line = text.stdout.lines().next().unwrap_or_default();
    assert!(line.starts_with("decision "), "{}", text.stdout);
    assert!(
        line.contains(&format!("  alice  session {alice}  entry ")),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("\n  [retry] failed webhooks"), "{}", text.stdout);
    env.run(&["search", "nowhere"])
        .ok()
        .stdout_has("No matches for 'nowhere' in github.com/org/app.");
}

#[test]
fn search_refuses_empty_text_unknown_kinds_and_limits_out_of_bounds() {
    let env = Env::new();
    let cases: [(&[&str], &str); 5] = [
        (&["search", ""], "search text is empty: expected one or more words"),
        (&["search", "?!"], "search text '?!' has no words"),
        (
            &["search", "x", "--kind", "message"],
            "unknown search kind 'message': expected one of decision, journal, handoff",
        ),
        (
            &["search", "x", "--limit", "1001"],
            "invalid limit '1001': expected 1 to 1000",
        ),
        (&["search", "x", "--limit", "0"], "invalid limit '0'"),
    ];
    for (args, needle) in cases {
        env.run(args).code(2).stderr_has(needle);
        let mut json = args.to_vec();
        json.push("--json");
        let r = env.run(&json);
        r.code(2);
        assert_eq!(r.json()["error"]["kind"], "bad_input");
    }
    env.run(&["search"]).code(2);
}
