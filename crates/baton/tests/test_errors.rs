//! Malformed input: the right exit code, a message naming the offending value, and no change to the store.

use serde_json::Value;

use crate::common::{Env, Run};

const UNKNOWN_SESSION: &str = "01900000-0000-7000-8000-0000000000aa";

fn kind_for(code: i32) -> &'static str {
    match code {
        1 => "internal",
        2 => "bad_input",
        3 => "conflict",
        4 => "not_found",
        other => panic!("no error kind for exit {other}"),
    }
}

/// What the store holds, as far as the CLI shows it.
fn snapshot(env: &Env) -> (Vec<Value>, Value) {
    let claims = env.run(&["claims", "--include-released", "--json"]);
    claims.ok();
    (env.all_events(), claims.json())
}

struct Case {
    args: Vec<String>,
    code: i32,
    needle: String,
}

fn case(args: &[&str], code: i32, needle: &str) -> Case {
    Case {
        args: args.iter().map(|s| s.to_string()).collect(),
        code,
        needle: needle.to_string(),
    }
}

/// Runs one case in text and in JSON mode; returns what did not hold.
fn check(env: &Env, c: &Case) -> Vec<String> {
    let mut failures = Vec::new();
    let args: Vec<&str> = c.args.iter().map(String::as_str).collect();
    let shown = shorten(&c.args.join(" "));
    let r: Run = env.run(&args);
    if r.code != c.code {
        failures.push(format!(
            "{shown}: exit {} (expected {})\nstderr: {}",
            r.code,
            c.code,
            shorten(&r.stderr)
        ));
    }
    if !r.stderr.contains(&c.needle) {
        failures.push(format!("{shown}: stderr lacks {:?}: {}", c.needle, shorten(&r.stderr)));
    }

    let mut with_json = args.clone();
    with_json.push("--json");
    let r = env.run(&with_json);
    if r.code != c.code {
        failures.push(format!("{shown} --json: exit {} (expected {})", r.code, c.code));
    }
    match serde_json::from_str::<Value>(r.stdout.trim()) {
        Err(e) => failures.push(format!(
            "{shown} --json: stdout is not one JSON object ({e}): {}",
            shorten(&r.stdout)
        )),
        Ok(j) => {
            if j["error"]["kind"] != kind_for(c.code) {
                failures.push(format!(
                    "{shown} --json: kind is not {}: {}",
                    kind_for(c.code),
                    shorten(&r.stdout)
                ));
            }
            let msg = j["error"]["message"].as_str().unwrap_or_default();
            if !msg.contains(&c.needle) {
                failures.push(format!(
                    "{shown} --json: error message lacks {:?}: {}",
                    c.needle,
                    shorten(msg)
                ));
            }
        }
    }
    failures
}

fn shorten(s: &str) -> String {
    if s.len() > 400 {
        format!("{}… ({} bytes)", s.chars().take(400).collect::<String>(), s.len())
    } else {
        s.to_string()
    }
}

#[test]
fn malformed_input_is_rejected_without_changing_anything() {
    let env = Env::new();
    // A session for the default agent, a claim, and an ended session of someone else.
    let mine = env.start("tester", "errors");
    env.run(&["claim", "issue", "1"]).ok();
    let ended = env.start("ender", "short");
    env.run_as("ender", &["session", "end", "--summary", "s"]).ok();
    env.start("holder", "h");
    env.run_as("holder", &["claim", "issue", "2"]).ok();

    let long_id = "x".repeat(201);
    let long_text = "a".repeat(65_537);
    let cases = vec![
        // Statuses.
        case(&["session", "list", "--status", "finished"], 2, "'finished'"),
        case(&["release", "issue", "1", "--status", "done"], 2, "'done'"),
        // --since: durations, times, cursors.
        case(&["changes", "--since", "yesterday"], 2, "'yesterday'"),
        case(&["changes", "--since", "10x"], 2, "'10x'"),
        case(&["changes", "--since", "1.5h"], 2, "'1.5h'"),
        case(
            &["changes", "--since", "2026-13-45T00:00:00Z"],
            2,
            "'2026-13-45T00:00:00Z'",
        ),
        case(&["changes", "--since", "2026-11-22 10:00"], 2, "'2026-11-22 10:00'"),
        case(
            &["changes", "--since", "99999999999999999999"],
            2,
            "'99999999999999999999'",
        ),
        case(&["changes", "--since=-5"], 2, "'-5'"),
        // --ttl.
        case(&["claim", "issue", "3", "--ttl", "5"], 2, "'5'"),
        case(&["claim", "issue", "3", "--ttl", "0s"], 2, "'0s'"),
        case(&["claim", "issue", "3", "--ttl", "31d"], 2, "'31d'"),
        case(&["claim", "issue", "3", "--ttl=-5m"], 2, "'-5m'"),
        case(&["claim", "issue", "3", "--ttl", "ten minutes"], 2, "'ten minutes'"),
        // Work ids and types.
        case(&["claim", "issue", ""], 2, "work id is empty"),
        case(&["claim", "issue", &long_id], 2, "201 characters"),
        case(&["claim", "issue", "a b"], 2, "'a b'"),
        case(&["claim", "Issue", "3"], 2, "'Issue'"),
        case(&["claim", "isue", "3"], 2, "did you mean 'issue'?"),
        case(&["claim", "issue", "3", "--repo", "org app"], 2, "'org app'"),
        case(&["release", "ISSUE", "1", "--status", "completed"], 2, "'ISSUE'"),
        case(&["claims", "--type", "PR"], 2, "'PR'"),
        // Text size.
        case(&["session", "log", "--progress", &long_text], 2, "65537 bytes"),
        case(&["session", "start", "--context", &long_text], 2, "65537 bytes"),
        case(&["session", "log", "--progress", "  "], 2, "progress is empty"),
        // Sessions: unknown (4) and malformed (2).
        case(
            &["session", "log", "--progress", "x", "--session", UNKNOWN_SESSION],
            4,
            UNKNOWN_SESSION,
        ),
        case(&["session", "view", UNKNOWN_SESSION], 4, UNKNOWN_SESSION),
        case(&["session", "resume", UNKNOWN_SESSION], 4, UNKNOWN_SESSION),
        case(&["heartbeat", "--session", UNKNOWN_SESSION], 4, UNKNOWN_SESSION),
        case(
            &["session", "log", "--progress", "x", "--session", "not-a-uuid"],
            2,
            "'not-a-uuid'",
        ),
        case(&["session", "view", "0190-zz"], 2, "'0190-zz'"),
        // changes filters and limits.
        case(&["changes", "--kind", "claims.granted"], 2, "'claims.granted'"),
        case(&["changes", "--kind", "bogus"], 2, "'bogus'"),
        case(&["changes", "--limit", "0"], 2, "'0'"),
        case(&["changes", "--limit", "1001"], 2, "'1001'"),
        case(&["session", "list", "--limit", "0"], 2, "'0'"),
        // Flags that go together, unknown flags, missing arguments.
        case(
            &["session", "log", "--progress", "x", "--rationale", "why"],
            2,
            "--rationale",
        ),
        case(
            &["release", "issue", "1", "--status", "completed", "--reason", "why"],
            2,
            "--reason",
        ),
        case(
            &["release", "issue", "2", "--status", "completed", "--force"],
            2,
            "--reason",
        ),
        case(&["session", "close", "--abandon"], 2, "--reason"),
        case(
            &["session", "close", "--abandon", "--reason", " "],
            2,
            "reason is empty",
        ),
        case(&["claims", "--frobnicate"], 2, "--frobnicate"),
        case(&["claim", "issue"], 2, "<ID>"),
        case(&["release", "issue", "1"], 2, "--status"),
        case(&["session", "log"], 2, "--progress"),
        case(&["session", "log", "--progress", "a", "--note", "b"], 2, "--note"),
        case(&["frobnicate"], 2, "frobnicate"),
        case(&["session"], 2, "baton session"),
        // Illegal state: writes to an ended session.
        case(
            &["session", "log", "--progress", "late", "--session", &ended],
            2,
            &ended,
        ),
        case(&["session", "end", "--session", &ended], 2, "illegal state transition"),
        case(&["session", "pause", "--session", &ended], 2, &ended),
        case(&["claim", "issue", "9", "--session", &ended], 2, &ended),
        // Conflicts and not-found that change nothing.
        case(&["release", "issue", "2", "--status", "completed"], 3, "not the holder"),
        case(
            &["release", "issue", "1", "--status", "completed", "--token", "7"],
            3,
            "stale fencing token 7",
        ),
        case(
            &["release", "issue", "404", "--status", "completed"],
            4,
            "issue org/app#404",
        ),
        // Names and keys.
        case(&["session", "start", "--name", "two words"], 2, "'two words'"),
        case(&["claim", "issue", "3", "--idempotency-key", "a b"], 2, "'a b'"),
        case(&["session", "list", "--agent", "bad agent"], 2, "'bad agent'"),
        case(&["session", "list", "--project", ""], 2, "invalid project"),
        // Database URL.
        case(&["claims", "--database-url", "mysql://db/baton"], 2, "'mysql'"),
    ];
    assert!(cases.len() >= 30);

    let before = snapshot(&env);
    let mut failures: Vec<String> = cases.iter().flat_map(|c| check(&env, c)).collect();
    // The store also refuses writes through BATON_DATABASE_URL with an unknown scheme.
    let r = crate::common::run_with_env(
        &env,
        &[("BATON_DATABASE_URL", "redis://cache")],
        &["claim", "issue", "5"],
    );
    r.code(2).stderr_has("'redis'");
    // A lock timeout must be a duration from 1s to 1h, from the environment or the config.
    for (value, needle) in [("0s", "'0s'"), ("2h", "'2h'"), ("soon", "'soon'")] {
        let r = crate::common::run_with_env(&env, &[("BATON_LOCK_TIMEOUT", value)], &["claim", "issue", "5"]);
        r.code(2).stderr_has(needle).stderr_has("BATON_LOCK_TIMEOUT");
    }

    // A config file with an unknown key is bad input that names the key.
    let cfg_dir = env.repo.join(".baton");
    std::fs::create_dir_all(&cfg_dir).unwrap();
    std::fs::write(cfg_dir.join("config.toml"), "colour = \"red\"\n").unwrap();
    failures.extend(check(&env, &case(&["claim", "issue", "3"], 2, "colour")));
    failures.extend(check(&env, &case(&["session", "log", "--progress", "x"], 2, "colour")));
    std::fs::write(cfg_dir.join("config.toml"), "claim_ttl = \"forever\"\n").unwrap();
    failures.extend(check(&env, &case(&["claim", "issue", "3"], 2, "'forever'")));
    std::fs::write(cfg_dir.join("config.toml"), "types = [\"Bad Type\"]\n").unwrap();
    failures.extend(check(&env, &case(&["claim", "issue", "3"], 2, "'Bad Type'")));
    std::fs::write(cfg_dir.join("config.toml"), "lock_timeout = \"0s\"\n").unwrap();
    failures.extend(check(&env, &case(&["claim", "issue", "3"], 2, "'0s'")));
    std::fs::write(cfg_dir.join("config.toml"), "database_url = \"mysql://db/x\"\n").unwrap();
    failures.extend(check(&env, &case(&["claim", "issue", "3"], 2, "'mysql'")));
    std::fs::remove_file(cfg_dir.join("config.toml")).unwrap();

    if snapshot(&env) != before {
        failures.push("a rejected command changed the store".to_string());
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // And the environment still works.
    let j = env
        .run(&["session", "log", "--progress", "still fine", "--json"])
        .json();
    assert_eq!(j["session_id"], mine.as_str());
}
