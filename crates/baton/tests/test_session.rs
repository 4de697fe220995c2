//! Sessions: start, handoff, journal, resume, pause, close, listing, git info, and which session a command acts on.

use serde_json::Value;

use crate::common::{Backend, Env, Run, git, kinds, run_with_env};

/// Every value of `field` in a list of journal entries.
fn texts(entries: &Value) -> Vec<String> {
    entries
        .as_array()
        .expect("entry list")
        .iter()
        .map(|e| e["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn first_session_says_so() {
    let env = Env::new();
    let r = env.run(&["session", "start", "--context", "first"]);
    r.ok().stdout_has("This is the first session in this project");
    assert!(r.stdout.contains("export BATON_SESSION="), "{}", r.stdout);

    let env = Env::new();
    let r = env.run(&["session", "start", "--context", "first", "--json"]);
    r.ok();
    let j = r.json();
    let id = j["session_id"].as_str().expect("session_id");
    assert_eq!(id.len(), 36, "a whole UUID: {id}");
    assert_eq!(j["digest"]["first_session"], true);
    assert_eq!(j["handoff_notes"], Value::Null);
    assert_eq!(j["last_summary"], Value::Null);
    assert_eq!(j["session"]["status"], "active");
    assert_eq!(j["session"]["context"], "first");

    // A second session while the first is still open is no longer the first.
    let j = env.run_as("other", &["session", "start", "--json"]).json();
    assert_eq!(j["digest"]["first_session"], false);
    assert_eq!(j["digest"]["active_sessions"][0]["session_id"], id);
}

#[test]
fn handoff_reaches_the_next_session() {
    let env = Env::new();
    let first = env.start("alice", "auth refactor");
    env.run_as(
        "alice",
        &[
            "session",
            "end",
            "--summary",
            "login endpoint done",
            "--handoff",
            "refresh tokens are next",
            "--next",
            "write refresh tests",
            "--next",
            "update docs",
        ],
    )
    .ok();

    let r = env.run_as("bob", &["session", "start", "--context", "continue auth"]);
    r.ok()
        .stdout_has(&format!("Handoff from alice (session {first}"))
        .stdout_has("Summary: login endpoint done")
        .stdout_has("Notes: refresh tokens are next")
        .stdout_has("Next: write refresh tests")
        .stdout_has("Next: update docs");
    assert!(
        !r.stdout.contains("This is the first session in this project"),
        "{}",
        r.stdout
    );
    // bob now has an active session; end it so the JSON start below is unambiguous for him too.
    env.run_as("bob", &["session", "close", "--complete"]).ok();

    let r = env.run_as("carol", &["session", "start", "--json"]);
    r.ok();
    let j = r.json();
    // The newest ended session is bob's, which left no notes: it does not hide alice's real handoff.
    assert_eq!(j["handoff_notes"], "refresh tokens are next");
    assert_eq!(j["last_handoff"]["agent"], "alice");

    let env = Env::new();
    env.start("alice", "auth refactor");
    env.run_as(
        "alice",
        &[
            "session",
            "end",
            "--summary",
            "S1",
            "--handoff",
            "H1",
            "--next",
            "N1",
            "--next",
            "N2",
        ],
    )
    .ok();
    let j = env.run_as("bob", &["session", "start", "--json"]).json();
    assert_eq!(j["handoff_notes"], "H1");
    assert_eq!(j["last_summary"], "S1");
    assert_eq!(j["last_handoff"]["handoff"]["next"], serde_json::json!(["N1", "N2"]));
    assert_eq!(j["digest"]["last_handoff"]["summary"], "S1");
    assert_eq!(j["digest"]["first_session"], false);
}

#[test]
fn every_log_kind_is_kept_and_resume_shows_them() {
    let env = Env::new();
    let id = env.start("alice", "ship the login page");
    let logs: &[&[&str]] = &[
        &["--progress", "form renders"],
        &["--decision", "JWT for tokens", "--rationale", "stateless servers"],
        &["--discovery", "the CSRF middleware is off in tests"],
        &["--blocker", "staging DB down"],
        &["--next", "wire the submit button"],
        &["--done", "layout"],
        &["--note", "pair with bob tomorrow"],
    ];
    for extra in logs {
        let mut args = vec!["session", "log", "--json"];
        args.extend_from_slice(extra);
        let r = env.run_as("alice", &args);
        r.ok();
        let j = r.json();
        assert_eq!(j["session_id"], id.as_str());
        assert_eq!(j["entry"]["kind"], extra[0].trim_start_matches("--"));
        assert_eq!(j["entry"]["text"], extra[1]);
    }

    let j = env.run_as("alice", &["session", "view", "--json"]).json();
    assert_eq!(texts(&j["progress"]), ["form renders"]);
    assert_eq!(texts(&j["decisions"]), ["JWT for tokens"]);
    assert_eq!(j["decisions"][0]["rationale"], "stateless servers");
    assert_eq!(texts(&j["discoveries"]), ["the CSRF middleware is off in tests"]);
    assert_eq!(texts(&j["blockers"]), ["staging DB down"]);
    assert_eq!(texts(&j["next_steps"]), ["wire the submit button"]);
    assert_eq!(texts(&j["done"]), ["layout"]);
    assert_eq!(texts(&j["notes"]), ["pair with bob tomorrow"]);

    let events = env.all_events();
    let k = kinds(&events);
    for kind in ["progress", "decision", "discovery", "blocker", "next", "done", "note"] {
        assert_eq!(
            k.iter().filter(|x| **x == format!("journal.{kind}")).count(),
            1,
            "journal.{kind} in {k:?}"
        );
    }
    let decision = events
        .iter()
        .find(|e| e["kind"] == "journal.decision")
        .expect("decision event");
    assert_eq!(decision["data"]["rationale"], "stateless servers");
    assert_eq!(decision["session_id"], id.as_str());

    let r = env.run_as("alice", &["session", "resume"]);
    r.ok()
        .stdout_has(&format!("export BATON_SESSION={id}"))
        .stdout_has("Goal: ship the login page")
        .stdout_has("TL;DR: ship the login page")
        .stdout_has("Progress:")
        .stdout_has("form renders")
        .stdout_has("Decisions:")
        .stdout_has("JWT for tokens")
        .stdout_has("because: stateless servers")
        .stdout_has("Discoveries:")
        .stdout_has("the CSRF middleware is off in tests")
        .stdout_has("Blockers:")
        .stdout_has("staging DB down")
        .stdout_has("Next steps:")
        .stdout_has("wire the submit button");
}

#[test]
fn view_decisions_shows_only_decisions() {
    let env = Env::new();
    env.start("alice", "g");
    env.run_as("alice", &["session", "log", "--progress", "PROGRESS-TEXT"])
        .ok();
    env.run_as(
        "alice",
        &[
            "session",
            "log",
            "--decision",
            "DECISION-TEXT",
            "--rationale",
            "WHY-TEXT",
        ],
    )
    .ok();
    let r = env.run_as("alice", &["session", "view", "--decisions"]);
    r.ok()
        .stdout_has("Decisions:")
        .stdout_has("DECISION-TEXT")
        .stdout_has("because: WHY-TEXT");
    assert!(!r.stdout.contains("PROGRESS-TEXT"), "{}", r.stdout);
    let r = env.run_as("alice", &["session", "view", "--progress"]);
    r.ok().stdout_has("PROGRESS-TEXT");
    assert!(!r.stdout.contains("DECISION-TEXT"), "{}", r.stdout);
}

#[test]
fn pause_then_resume() {
    let env = Env::new();
    let id = env.start("alice", "g");
    let r = env.run_as("alice", &["session", "pause", "--note", "lunch", "--json"]);
    r.ok();
    assert_eq!(r.json()["session"]["status"], "paused");
    assert_eq!(
        env.run_as("alice", &["session", "view", &id, "--json"]).json()["session"]["status"],
        "paused"
    );
    // Pausing twice is an illegal transition.
    let r = env.run_as("alice", &["session", "pause", "--session", &id]);
    r.code(2).stderr_has("illegal state transition").stderr_has(&id);

    let r = env.run_as("alice", &["session", "resume", "--json"]);
    r.ok();
    let j = r.json();
    assert_eq!(j["session_id"], id.as_str());
    assert_eq!(j["context"]["session"]["status"], "active");
    assert_eq!(texts(&j["context"]["notes"]), ["lunch"]);
    let k = kinds(&env.all_events());
    let paused = k.iter().position(|x| x == "session.paused").expect("session.paused");
    let resumed = k.iter().position(|x| x == "session.resumed").expect("session.resumed");
    assert!(paused < resumed, "{k:?}");
    // The session takes writes again without naming it.
    env.run_as("alice", &["session", "log", "--progress", "back"]).ok();
}

#[test]
fn list_and_status_filter() {
    let env = Env::new();
    let a = env.start("alice", "a");
    let b = env.start("bob", "b");
    let c = env.start("carol", "c");
    env.run_as("bob", &["session", "pause"]).ok();
    env.run_as("carol", &["session", "end", "--summary", "done"]).ok();

    let j = env.run(&["session", "list", "--json"]).json();
    let ids: Vec<&str> = j["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [c.as_str(), b.as_str(), a.as_str()], "newest first");

    for (status, want) in [("active", &a), ("paused", &b), ("completed", &c)] {
        let j = env.run(&["session", "list", "--status", status, "--json"]).json();
        let list = j["sessions"].as_array().expect("sessions");
        assert_eq!(list.len(), 1, "{status}: {j}");
        assert_eq!(list[0]["id"], want.as_str());
        assert_eq!(list[0]["status"], status);
    }
    let j = env.run(&["session", "list", "--status", "abandoned", "--json"]).json();
    assert_eq!(j["sessions"], serde_json::json!([]));
    env.run(&["session", "list"])
        .ok()
        .stdout_has(&a)
        .stdout_has(&b)
        .stdout_has(&c);
}

#[test]
fn list_shows_one_agents_sessions_with_the_agent_flag_only() {
    let env = Env::new();
    let a1 = env.start("alice", "first");
    env.run_as("alice", &["session", "end", "--summary", "done"]).ok();
    let b = env.start("bob", "b");
    let a2 = env.start("alice", "second");
    let ids = |r: &Run| -> Vec<String> {
        r.json()["sessions"]
            .as_array()
            .expect("sessions")
            .iter()
            .map(|s| s["id"].as_str().expect("id").to_string())
            .collect()
    };

    let r = env.run(&["session", "list", "--agent", "alice", "--json"]);
    r.ok();
    assert_eq!(ids(&r), [a2.as_str(), a1.as_str()], "alice's, newest first");
    let r = env.run(&["session", "list", "--agent", "alice", "--limit", "1", "--json"]);
    assert_eq!(ids(&r), [a2.as_str()]);
    let r = env.run(&["session", "list", "--agent", "alice", "--status", "completed", "--json"]);
    assert_eq!(ids(&r), [a1.as_str()]);
    let r = env.run(&["session", "list", "--agent", "bob", "--all-projects", "--json"]);
    assert_eq!(ids(&r), [b.as_str()]);
    let r = env.run(&["session", "list", "--agent", "nobody", "--json"]);
    assert_eq!(ids(&r), Vec::<String>::new());
    env.run(&["session", "list", "--agent", "bob"]).ok().stdout_has(&b);
    assert!(!env.run(&["session", "list", "--agent", "bob"]).stdout.contains(&a2));

    // BATON_AGENT says who is working, not what to list: everyone's sessions still show.
    let r = env.run_as("alice", &["session", "list", "--json"]);
    assert_eq!(ids(&r), [a2.as_str(), b.as_str(), a1.as_str()]);

    // A bad agent name is bad input, as everywhere.
    env.run(&["session", "list", "--agent", "", "--json"]).code(2);
}

/// The one `warning:` line of a run's stderr about project `key`, if any.
fn project_warning(r: &Run, key: &str) -> Option<String> {
    let lines: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with(&format!("warning: project '{key}'")))
        .collect();
    assert!(lines.len() <= 1, "one line at most: {}", r.stderr);
    lines.first().map(|l| l.to_string())
}

#[test]
fn a_mistyped_project_key_warns_naming_the_known_one() {
    let env = Env::new();
    let real = "github.com/org/app";
    let typo = "github.com/org/ap";
    env.start("alice", "the real one");
    let read_commands: [&[&str]; 4] = [&["session", "list"], &["claims"], &["changes"], &["digest"]];

    // The real key, named explicitly, is known: no warning anywhere.
    for cmd in read_commands {
        let mut args = vec!["--project", real];
        args.extend_from_slice(cmd);
        let r = env.run(&args);
        r.ok();
        assert!(!r.stderr.contains("warning"), "{args:?}: {}", r.stderr);
    }
    let r = env.run(&["--project", real, "session", "start", "--agent", "bob", "--json"]);
    assert_eq!(r.json().get("warnings"), None, "{}", r.stderr);

    // A typo finds nothing, and says why it may have: one line naming the key, the known one, how to list them.
    for cmd in read_commands {
        for json in [false, true] {
            let mut args = vec!["--project", typo];
            args.extend_from_slice(cmd);
            if json {
                args.push("--json");
            }
            let r = env.run(&args);
            r.ok();
            if json {
                r.json(); // stdout stays one JSON object
            }
            let w = project_warning(&r, typo).unwrap_or_else(|| panic!("{args:?} does not warn: {}", r.stderr));
            assert!(w.contains(&format!("'{real}'")), "{w}");
            assert!(w.contains("baton session list --all-projects"), "{w}");
        }
    }
    // BATON_PROJECT is as explicit as --project.
    let r = run_with_env(&env, &[("BATON_PROJECT", typo)], &["session", "list"]);
    assert!(project_warning(&r, typo).is_some(), "{}", r.stderr);

    // Starting the typo's first session warns on stderr, and in --json among the answer's warnings.
    let r = run_with_env(
        &env,
        &[("BATON_PROJECT", typo), ("BATON_AGENT", "carol")],
        &["session", "start", "--json"],
    );
    r.ok();
    let j = r.json();
    assert_eq!(j["digest"]["first_session"], true);
    let w = project_warning(&r, typo).expect("session start warns");
    assert_eq!(j["warnings"], serde_json::json!([w.trim_start_matches("warning: ")]));
    // Once the project has a session it is known.
    let r = run_with_env(&env, &[("BATON_PROJECT", typo)], &["session", "list"]);
    assert_eq!(project_warning(&r, typo), None, "{}", r.stderr);

    // A key found from the directory, not named, never warns, new or not.
    let elsewhere = env.home.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    for cmd in read_commands {
        let r = Run::from(env.cmd(cmd).current_dir(&elsewhere).output().expect("run baton"));
        r.ok();
        assert!(!r.stderr.contains("warning"), "{cmd:?}: {}", r.stderr);
    }

    // With many projects: the nearest five, nearest first, and a sign there are more.
    for p in ["p1", "p2", "p3", "p4", "p5", "p6"] {
        env.run(&["--project", p, "session", "start", "--agent", "dave"]).ok();
    }
    let r = env.run(&["--project", "github.com/org/appx", "claims"]);
    let w = project_warning(&r, "github.com/org/appx").expect("warns");
    let named = w.split("nearest first: ").nth(1).expect("names them");
    assert!(named.starts_with(&format!("'{real}', '{typo}', ")), "{w}");
    assert_eq!(named.matches('\'').count(), 10, "five keys: {w}");
    assert!(named.contains("…"), "{w}");
}

/// On PostgreSQL, whose test store holds many projects: the nearest key is found among them, and named first.
#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn a_mistyped_project_key_warns_naming_the_known_one_postgres() {
    let env = Env::with_backend(Backend::postgres());
    env.start("alice", "the real one");
    // The environment names its project with BATON_PROJECT; now it has a session, it is known.
    let r = env.run(&["claims"]);
    r.ok();
    assert_eq!(project_warning(&r, &env.project), None, "{}", r.stderr);
    let typo = format!("{}x", env.project);
    let r = env.run(&["--project", &typo, "changes", "--json"]);
    r.ok();
    r.json();
    let w = project_warning(&r, &typo).unwrap_or_else(|| panic!("no warning: {}", r.stderr));
    assert!(w.contains(&format!("nearest first: '{}'", env.project)), "{w}");
}

#[test]
fn git_branch_and_commit_are_recorded() {
    let env = Env::new();
    std::fs::write(env.repo.join("a.txt"), "a").unwrap();
    git(&env.repo, &["add", "a.txt"]);
    git(&env.repo, &["commit", "-q", "-m", "one"]);
    let head = rev_parse(&env);
    let r = env.run(&["session", "start", "--json"]);
    r.ok();
    let s = &r.json()["session"];
    assert_eq!(s["git_branch"], "main");
    assert_eq!(s["git_commit"], head.as_str());

    // A later commit on another branch is picked up by the next write to the session.
    git(&env.repo, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(env.repo.join("b.txt"), "b").unwrap();
    git(&env.repo, &["add", "b.txt"]);
    git(&env.repo, &["commit", "-q", "-m", "two"]);
    let head2 = rev_parse(&env);
    assert_ne!(head, head2);
    env.run(&["session", "checkpoint"]).ok();
    let s = env.run(&["session", "view", "--json"]).json()["session"].clone();
    assert_eq!(s["git_branch"], "feature");
    assert_eq!(s["git_commit"], head2.as_str());
}

fn rev_parse(env: &Env) -> String {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(&env.repo)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn abandon_releases_claims_as_deferred() {
    let env = Env::new();
    let id = env.start("alice", "g");
    env.run_as("alice", &["claim", "issue", "7"]).ok();
    env.run_as("alice", &["claim", "pr", "8"]).ok();
    let r = env.run_as(
        "alice",
        &[
            "session",
            "close",
            "--abandon",
            "--reason",
            "superseded by #18",
            "--json",
        ],
    );
    r.ok();
    let j = r.json();
    assert_eq!(j["session"]["status"], "abandoned");
    assert_eq!(j["released"].as_array().map(Vec::len), Some(2));

    let events = env.all_events();
    let released: Vec<&Value> = events.iter().filter(|e| e["kind"] == "claim.released").collect();
    assert_eq!(released.len(), 2, "{events:?}");
    for e in &released {
        assert_eq!(e["data"]["status"], "deferred");
        assert_eq!(e["session_id"], id.as_str());
        assert!(
            e["data"]["notes"]
                .as_str()
                .unwrap_or_default()
                .contains("superseded by #18"),
            "{e}"
        );
    }
    let mut targets: Vec<&str> = released.iter().map(|e| e["target"].as_str().unwrap()).collect();
    targets.sort();
    assert_eq!(targets, ["issue org/app#7", "pr org/app#8"]);
    assert!(kinds(&events).contains(&"session.abandoned".to_string()));

    assert_eq!(env.run(&["claims", "--json"]).json()["claims"], serde_json::json!([]));
    let all = env.run(&["claims", "--include-released", "--json"]).json();
    for c in all["claims"].as_array().expect("claims") {
        assert_eq!(c["state"], "released");
        assert_eq!(c["release_status"], "deferred");
    }
    // Another session can take the items now.
    env.start("bob", "g");
    let r = env.run_as("bob", &["claim", "issue", "7", "--json"]);
    r.ok();
    assert_eq!(r.json()["claim"]["token"], 2);
}

#[test]
fn explicit_session_wins() {
    let env = Env::new();
    let a = env.start("alice", "a");
    let b = env.start("alice", "b");

    // Two active sessions and no choice: exit 2, naming both.
    let r = env.run_as("alice", &["session", "log", "--progress", "x"]);
    r.code(2).stderr_has("ambiguous session").stderr_has(&a).stderr_has(&b);
    let r = env.run_as("alice", &["claim", "issue", "1", "--json"]);
    r.code(2);
    let j = r.json();
    assert_eq!(j["error"]["kind"], "bad_input");
    let msg = j["error"]["message"].as_str().unwrap();
    assert!(msg.contains(&a) && msg.contains(&b), "{msg}");

    env.run_as("alice", &["session", "log", "--progress", "via flag", "--session", &a])
        .ok();
    let r = run_with_env(
        &env,
        &[("BATON_AGENT", "alice"), ("BATON_SESSION", &b)],
        &["session", "log", "--progress", "via env"],
    );
    r.ok();
    // The flag beats the environment.
    let r = run_with_env(
        &env,
        &[("BATON_AGENT", "alice"), ("BATON_SESSION", &b)],
        &["session", "log", "--progress", "flag over env", "--session", &a],
    );
    r.ok();
    // Another agent may name a session explicitly too.
    env.run_as("bob", &["session", "log", "--note", "from bob", "--session", &b])
        .ok();

    let va = env.run(&["session", "view", &a, "--json"]).json();
    let vb = env.run(&["session", "view", &b, "--json"]).json();
    assert_eq!(texts(&va["progress"]), ["via flag", "flag over env"]);
    assert_eq!(texts(&vb["progress"]), ["via env"]);
    assert_eq!(texts(&vb["notes"]), ["from bob"]);
}

fn one_object(r: &Run, what: &str) -> Value {
    let lines: Vec<&str> = r.stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: expected one line of JSON on stdout, got {:?}",
        r.stdout
    );
    let v: Value = serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", r.stdout));
    assert!(v.is_object(), "{what}: not an object: {v}");
    v
}

#[test]
fn every_command_prints_one_json_object() {
    let env = Env::new();
    let other = env.start("bob", "other");
    env.run_as("bob", &["claim", "task", "9"]).ok();
    let runs: &[(&[&str], i32)] = &[
        (&["session", "start", "--context", "json", "--json"], 0),
        (&["session", "log", "--progress", "p", "--json"], 0),
        (&["session", "checkpoint", "--note", "c", "--json"], 0),
        (&["session", "view", "--json"], 0),
        (&["session", "list", "--json"], 0),
        (&["claim", "issue", "1", "--json"], 0),
        (&["claim", "task", "9", "--json"], 3),
        (&["claims", "--json"], 0),
        (&["heartbeat", "--json"], 0),
        (&["release", "issue", "1", "--status", "completed", "--json"], 0),
        (&["changes", "--json"], 0),
        (&["digest", "--json"], 0),
        (&["doctor", "--json"], 0),
        (&["session", "pause", "--json"], 0),
        (&["session", "resume", "--json"], 0),
        (&["session", "end", "--summary", "s", "--json"], 0),
    ];
    for (args, code) in runs {
        let r = env.run_as("alice", args);
        r.code(*code);
        let v = one_object(&r, &args.join(" "));
        assert!(v.get("error").is_none(), "{}: {v}", args.join(" "));
    }
    let r = env.run_as("bob", &["session", "close", "--abandon", "--reason", "r", "--json"]);
    r.ok();
    assert_eq!(one_object(&r, "close")["session"]["id"], other.as_str());

    // Errors: one object {"error": {"kind", "message"}} on stdout, and the message on stderr.
    let unknown = "01900000-0000-7000-8000-000000000000";
    let errors: &[(&[&str], i32, &str)] = &[
        (&["claim", "Issue", "1", "--json"], 2, "bad_input"),
        (&["session", "view", unknown, "--json"], 4, "not_found"),
        (&["session", "log", "--progress", "x", "--json"], 4, "not_found"),
        (&["session", "list", "--status", "nope", "--json"], 2, "bad_input"),
        (&["claims", "--bogus-flag", "--json"], 2, "bad_input"),
        (
            &[
                "release",
                "task",
                "9",
                "--status",
                "completed",
                "--json",
                "--session",
                &other,
            ],
            2,
            "bad_input",
        ),
    ];
    for (args, code, kind) in errors {
        let r = env.run_as("alice", args);
        r.code(*code);
        let v = one_object(&r, &args.join(" "));
        assert_eq!(v["error"]["kind"], *kind, "{}: {v}", args.join(" "));
        let msg = v["error"]["message"].as_str().unwrap_or_default();
        assert!(!msg.is_empty(), "{v}");
        assert!(
            r.stderr.contains(msg),
            "stderr {:?} lacks the message {msg:?}",
            r.stderr
        );
    }
    // A conflict error carries its kind too.
    env.start("carol", "c");
    env.run_as("carol", &["claim", "task", "10"]).ok();
    env.start("dave", "d");
    let r = env.run_as("dave", &["release", "task", "10", "--status", "completed", "--json"]);
    r.code(3);
    let v = one_object(&r, "release by non-holder");
    assert_eq!(v["error"]["kind"], "conflict");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("not the holder"),
        "{v}"
    );
}

/// `eval "$(baton session start --print-env)"` sets the session and agent for the commands that follow.
#[test]
fn print_env_is_fit_for_eval() {
    let env = crate::common::Env::new();
    let bin = crate::common::baton_bin();
    let script = format!(
        "eval \"$('{0}' session start --agent alice --context 'auth refactor' --print-env)\" && '{0}' session log --progress 'first step' --json && echo \"agent=$BATON_AGENT\"",
        bin.display()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .current_dir(&env.repo)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", env.home.path())
        .env("BATON_HOME", env.baton_home())
        .env("USER", "tester")
        .output()
        .expect("run sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stderr.contains("digest for alice"),
        "the digest goes to stderr: {stderr}"
    );
    let logged: serde_json::Value =
        serde_json::from_str(stdout.lines().next().unwrap_or_default()).expect("the log's JSON");
    let listed = env.run_as("alice", &["session", "list", "--json"]).json();
    assert_eq!(
        listed["sessions"][0]["id"], logged["session_id"],
        "logged to the session it started"
    );
    assert!(stdout.contains("agent=alice"), "{stdout}");
}

/// `session resume` shows the session's claims and blockers once: the digest after its context leaves
/// out what the context already shows, and keeps what it does not (another session's blocker).
#[test]
fn resume_shows_each_section_once() {
    let env = crate::common::Env::new();
    env.start("alice", "auth");
    env.run_as("alice", &["claim", "issue", "15"]).ok();
    env.run_as("alice", &["session", "log", "--blocker", "staging DB is down"])
        .ok();
    env.start("bob", "billing");
    env.run_as("bob", &["session", "log", "--blocker", "waiting for keys"])
        .ok();
    env.run_as("alice", &["session", "pause"]).ok();
    let r = env.run_as("alice", &["session", "resume"]);
    r.ok();
    let out = &r.stdout;
    assert_eq!(out.matches("staging DB is down").count(), 1, "{out}");
    assert_eq!(out.matches("#15").count(), 1, "{out}");
    assert!(!out.contains("Your claims"), "{out}");
    assert_eq!(
        out.matches("waiting for keys").count(),
        1,
        "another session's blocker stays: {out}"
    );
}
