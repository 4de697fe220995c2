//! Client hooks through the real binary: recorded Claude Code, Codex CLI and Gemini CLI payloads
//! (`tests/hooks/<client>/<Event>.json`), the answers in each client's format, failures that never
//! block the client, `baton setup`, and the Claude Code plugin folder.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Backend, Env, Run, run_with_env};

const CLIENTS: [&str; 3] = ["claude", "codex", "gemini"];

/// Claude Code reads at most this many characters of a hook's output.
const CAP: usize = 10_000;

/// Fixture names (and event names) of one client, in baton's terms.
struct Events {
    agent: &'static str,
    start: &'static str,
    prompt: &'static str,
    pre_compact: &'static str,
    tool: &'static str,
    stop: &'static str,
    end: Option<&'static str>,
}

fn events(client: &str) -> Events {
    match client {
        "claude" => Events {
            agent: "claude-code",
            start: "SessionStart.startup",
            prompt: "UserPromptSubmit",
            pre_compact: "PreCompact",
            tool: "PostToolUse",
            stop: "Stop",
            end: Some("SessionEnd"),
        },
        "codex" => Events {
            agent: "codex",
            start: "SessionStart",
            prompt: "UserPromptSubmit",
            pre_compact: "PreCompact",
            tool: "PostToolUse",
            stop: "Stop",
            end: None,
        },
        "gemini" => Events {
            agent: "gemini-cli",
            start: "SessionStart",
            prompt: "BeforeAgent",
            pre_compact: "PreCompress",
            tool: "AfterTool",
            stop: "AfterAgent",
            end: Some("SessionEnd"),
        },
        other => panic!("no fixtures for client {other}"),
    }
}

/// The events whose answer may carry `hookSpecificOutput.additionalContext`; the clients' schemas
/// accept only `systemMessage` (or nothing) for the others.
fn takes_context(client: &str, event: &str) -> bool {
    match client {
        "gemini" => matches!(event, "SessionStart" | "BeforeAgent" | "AfterTool"),
        _ => matches!(event, "SessionStart" | "UserPromptSubmit" | "PostToolUse"),
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// A recorded payload, with `cwd` pointing at the test repository.
fn payload(env: &Env, client: &str, name: &str) -> Value {
    let mut v = read_json(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/hooks")
            .join(client)
            .join(format!("{name}.json")),
    );
    assert_eq!(
        v["cwd"], "/home/dev/projects/app",
        "{client}/{name}: fixtures use one cwd"
    );
    v["cwd"] = json!(env.repo.to_str().expect("utf-8 path"));
    v
}

/// The client's event before a compaction. Gemini CLI's recorded one (`trigger: "auto"`) fires before every model
/// request, compaction or not, and is not acted on; its `/compress` (`trigger: "manual"`) is.
fn compaction(env: &Env, client: &str) -> Value {
    let p = payload(env, client, events(client).pre_compact);
    if client == "gemini" {
        with(p, "trigger", "manual")
    } else {
        p
    }
}

fn with(mut v: Value, key: &str, value: &str) -> Value {
    v[key] = json!(value);
    v
}

/// Runs `baton hook ARGS` with `stdin`, from outside the repository (only the payload's cwd places it).
fn hook_run(env: &Env, args: &[&str], stdin: &[u8], vars: &[(&str, &str)]) -> (Run, Duration) {
    let mut all = vec!["hook"];
    all.extend_from_slice(args);
    let mut cmd = env.cmd(&all);
    cmd.current_dir(env.home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn baton");
    let mut pipe = child.stdin.take().expect("stdin");
    // A hook that fails early may not read everything; that is not the test's concern.
    let _ = pipe.write_all(stdin);
    drop(pipe);
    let out = child.wait_with_output().expect("wait for baton");
    (Run::from(out), started.elapsed())
}

/// What a hook answered.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    Context(String),
    Message(String),
    /// Stop answered "not yet", with the reason the model reads.
    Block(String),
    Nothing,
}

impl Answer {
    fn context(self) -> String {
        match self {
            Answer::Context(c) => c,
            other => panic!("expected additionalContext, got {other:?}"),
        }
    }
    fn message(self) -> String {
        match self {
            Answer::Message(m) => m,
            other => panic!("expected a systemMessage, got {other:?}"),
        }
    }
}

/// Checks a successful hook run printed exactly one JSON object, nothing else, in the client's format.
fn answer(client: &str, event: &str, r: &Run) -> Answer {
    assert_eq!(
        r.code, 0,
        "{client} {event}: expected exit 0\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    assert!(r.stderr.is_empty(), "{client} {event}: stderr: {}", r.stderr);
    assert!(
        r.stdout.starts_with('{') && r.stdout.ends_with("}\n") && r.stdout.matches('\n').count() == 1,
        "{client} {event}: stdout must be one JSON object on one line: {:?}",
        r.stdout
    );
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{client} {event}: stdout is not one JSON value ({e}): {}", r.stdout));
    assert!(
        r.stdout.chars().count() <= CAP,
        "{client} {event}: output over {CAP} characters"
    );
    let obj = v.as_object().expect("a JSON object");
    if let Some(h) = obj.get("hookSpecificOutput") {
        assert!(
            takes_context(client, event),
            "{client} {event} does not accept hookSpecificOutput: {v}"
        );
        assert_eq!(obj.len(), 1, "{client} {event}: {v}");
        assert_eq!(h["hookEventName"], event, "{client} {event}: {v}");
        assert_eq!(h.as_object().map(|o| o.len()), Some(2), "{client} {event}: {v}");
        let ctx = h["additionalContext"].as_str().expect("additionalContext is a string");
        assert!(!ctx.trim().is_empty(), "{client} {event}: empty context");
        return Answer::Context(ctx.to_string());
    }
    if let Some(d) = obj.get("decision") {
        assert!(
            matches!(event, "Stop" | "AfterAgent"),
            "{client} {event}: only a stop may be refused: {v}"
        );
        // Gemini CLI retries the turn on "deny"; Claude Code and Codex keep going on "block".
        let want = if client == "gemini" { "deny" } else { "block" };
        assert_eq!(d, want, "{client} {event}: {v}");
        assert_eq!(obj.len(), 2, "{client} {event}: {v}");
        let reason = obj["reason"].as_str().expect("reason is a string");
        return Answer::Block(reason.to_string());
    }
    if let Some(m) = obj.get("systemMessage") {
        assert_eq!(obj.len(), 1, "{client} {event}: {v}");
        let m = m.as_str().expect("systemMessage is a string");
        assert!(!m.trim().is_empty(), "{client} {event}: empty message");
        return Answer::Message(m.to_string());
    }
    assert!(obj.is_empty(), "{client} {event}: unexpected answer {v}");
    Answer::Nothing
}

/// Sends a payload to `baton hook <client>` and checks the answer's format.
fn hook(env: &Env, client: &str, p: &Value) -> Answer {
    hook_with(env, client, p, &[])
}

fn hook_with(env: &Env, client: &str, p: &Value, vars: &[(&str, &str)]) -> Answer {
    let event = p["hook_event_name"].as_str().expect("hook_event_name");
    let (r, _) = hook_run(env, &[client], p.to_string().as_bytes(), vars);
    answer(client, event, &r)
}

fn sessions(env: &Env) -> Vec<Value> {
    let r = env.run(&["session", "list", "--json"]);
    r.ok();
    r.json()["sessions"].as_array().cloned().unwrap_or_default()
}

/// The one session of this project, which a hook started.
fn only_session(env: &Env) -> Value {
    let list = sessions(env);
    assert_eq!(list.len(), 1, "expected exactly one session: {list:?}");
    list[0].clone()
}

fn view(env: &Env, id: &str) -> Value {
    let r = env.run(&["session", "view", id, "--json"]);
    r.ok();
    r.json()
}

/// Runs `baton ARGS` the way an agent inside the client does: with the exported BATON_SESSION.
fn in_session(env: &Env, id: &str, args: &[&str]) -> Run {
    let r = run_with_env(env, &[("BATON_SESSION", id)], args);
    r.ok();
    r
}

fn assert_one_line(what: &str, text: &str) {
    assert!(
        !text.trim().is_empty() && !text.trim().contains('\n'),
        "{what} should be one line: {text:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The whole lifecycle, per client.

#[test]
fn claude_lifecycle_sqlite() {
    lifecycle(&Env::new(), "claude");
}

#[test]
fn codex_lifecycle_sqlite() {
    lifecycle(&Env::new(), "codex");
}

#[test]
fn gemini_lifecycle_sqlite() {
    lifecycle(&Env::new(), "gemini");
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn lifecycle_postgres() {
    let b = Backend::postgres();
    for client in CLIENTS {
        lifecycle(&Env::with_backend(b.clone()), client);
    }
}

/// Start, an ordinary prompt, compaction, stop and end: every recorded payload answered in format.
fn lifecycle(env: &Env, client: &str) {
    let ev = events(client);
    let ctx = hook(env, client, &payload(env, client, ev.start)).context();
    let s = only_session(env);
    let id = s["id"].as_str().expect("id").to_string();
    assert_eq!(s["agent"], ev.agent, "{client}");
    assert_eq!(s["status"], "active", "{client}");
    assert!(ctx.contains(&id), "{client}: start context names the session: {ctx}");
    assert!(
        ctx.contains("digest"),
        "{client}: start context carries the digest: {ctx}"
    );

    // Nothing new: an ordinary prompt gets nothing.
    assert_eq!(
        hook(env, client, &payload(env, client, ev.prompt)),
        Answer::Nothing,
        "{client}"
    );

    in_session(
        env,
        &id,
        &["session", "log", "--progress", "taught the tokenizer escaped quotes"],
    );
    in_session(env, &id, &["session", "log", "--next", "cover unicode escapes"]);

    // PreCompact's answer reaches only the person; the context comes back after the compaction.
    let m = hook(env, client, &compaction(env, client)).message();
    assert!(
        m.contains("checkpointed") && m.contains(&id),
        "{client} {}: {m}",
        ev.pre_compact
    );
    assert_eq!(view(env, &id)["session"]["compaction_count"], 1, "{client}");
    if client == "codex" {
        // Codex passes nothing of PostCompact to the model: the next prompt carries the context.
        assert_eq!(
            hook(env, client, &payload(env, client, "PostCompact")),
            Answer::Nothing,
            "{client}"
        );
    }
    if client == "claude" {
        // Claude Code starts again with source "compact"; that answer carries the context.
        let ctx = hook(env, client, &with(payload(env, client, ev.start), "source", "compact")).context();
        assert!(
            ctx.contains("cover unicode escapes"),
            "{client} SessionStart(compact): {ctx}"
        );
    } else {
        let ctx = hook(env, client, &payload(env, client, ev.prompt)).context();
        for want in [
            "compacted",
            "TL;DR",
            "taught the tokenizer escaped quotes",
            "cover unicode escapes",
        ] {
            assert!(
                ctx.contains(want),
                "{client}: the prompt after compaction lacks {want:?}: {ctx}"
            );
        }
    }
    // Given once: the prompt after that gets nothing.
    assert_eq!(
        hook(env, client, &payload(env, client, ev.prompt)),
        Answer::Nothing,
        "{client}"
    );

    // Next steps are logged and nothing is claimed: stopping needs no reminder.
    assert_eq!(
        hook(env, client, &payload(env, client, ev.stop)),
        Answer::Nothing,
        "{client}"
    );

    if let Some(end) = ev.end {
        assert_eq!(
            hook(env, client, &payload(env, client, end)),
            Answer::Nothing,
            "{client}"
        );
        assert_eq!(view(env, &id)["session"]["status"], "paused", "{client}");
        // The next start of the same conversation resumes the same session.
        let ctx = hook(env, client, &with(payload(env, client, ev.start), "source", "resume")).context();
        assert!(ctx.contains(&id), "{client}: {ctx}");
        assert_eq!(only_session(env)["status"], "active", "{client}");
    }
    assert_eq!(sessions(env).len(), 1, "{client}: one conversation, one session");
}

// ---------------------------------------------------------------------------------------------
// SessionStart

#[test]
fn claude_start_resume_compact_and_clear_continue_one_session() {
    let env = Env::new();
    let env_file = env.home.path().join("claude-env");
    let file = env_file.to_str().expect("utf-8 path");
    let mut ids = Vec::new();
    for source in ["startup", "resume", "compact", "clear"] {
        let p = payload(&env, "claude", &format!("SessionStart.{source}"));
        assert_eq!(p["source"], source);
        let ctx = hook_with(&env, "claude", &p, &[("CLAUDE_ENV_FILE", file)]).context();
        let s = only_session(&env);
        let id = s["id"].as_str().expect("id").to_string();
        assert_eq!(s["status"], "active");
        assert!(ctx.contains(&id), "{source}: {ctx}");
        if source != "startup" {
            assert!(ctx.contains(&format!("continues ({source})")), "{source}: {ctx}");
        }
        ids.push(id);
    }
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "one session for one conversation: {ids:?}"
    );
    // Every start exports the session to the client's later shell commands.
    let exported = std::fs::read_to_string(&env_file).expect("CLAUDE_ENV_FILE written");
    let want = format!("export BATON_SESSION={}\nexport BATON_AGENT=claude-code\n", ids[0]);
    assert_eq!(exported, want.repeat(4));

    // Without CLAUDE_ENV_FILE the hook still answers.
    let p = payload(&env, "claude", "SessionStart.resume");
    hook(&env, "claude", &p).context();
}

#[test]
fn another_conversation_gets_its_own_session() {
    let env = Env::new();
    for client in CLIENTS {
        let ev = events(client);
        let p = payload(&env, client, ev.start);
        hook(&env, client, &p);
        hook(&env, client, &with(p.clone(), "source", "resume"));
        hook(
            &env,
            client,
            &with(p, "session_id", &format!("{client}-second-conversation")),
        );
    }
    let list = sessions(&env);
    assert_eq!(list.len(), 6, "{list:?}");
    for agent in ["claude-code", "codex", "gemini-cli"] {
        assert_eq!(list.iter().filter(|s| s["agent"] == agent).count(), 2, "{agent}");
    }
}

#[test]
fn compact_context_has_tldr_progress_and_next_steps() {
    let env = Env::new();
    hook(&env, "claude", &payload(&env, "claude", "SessionStart.startup"));
    let id = only_session(&env)["id"].as_str().expect("id").to_string();
    in_session(
        &env,
        &id,
        &["session", "log", "--progress", "parser handles nested groups"],
    );
    in_session(&env, &id, &["session", "log", "--next", "benchmark the parser"]);
    let ctx = hook(&env, "claude", &payload(&env, "claude", "SessionStart.compact")).context();
    for want in ["TL;DR", "parser handles nested groups", "benchmark the parser"] {
        assert!(ctx.contains(want), "compact context lacks {want:?}: {ctx}");
    }
}

// ---------------------------------------------------------------------------------------------
// UserPromptSubmit / BeforeAgent

#[test]
fn continue_prompts_inject_context_and_others_at_most_one_line() {
    for client in CLIENTS {
        let env = Env::new();
        let ev = events(client);
        hook(&env, client, &payload(&env, client, ev.start));
        let id = only_session(&env)["id"].as_str().expect("id").to_string();
        in_session(
            &env,
            &id,
            &["session", "log", "--progress", "wired the lexer to the parser"],
        );
        for prompt in [
            "continue",
            "Continue.",
            "where were we?",
            "let's pick up where we left off",
            "resume",
        ] {
            let p = with(payload(&env, client, ev.prompt), "prompt", prompt);
            let ctx = hook(&env, client, &p).context();
            assert!(
                ctx.contains(&id) && ctx.contains("wired the lexer to the parser"),
                "{client} {prompt:?}: {ctx}"
            );
        }
        for prompt in [
            "Add a test for the tokenizer's handling of escaped quotes",
            "continue using tabs in the parser module from now on",
        ] {
            let p = with(payload(&env, client, ev.prompt), "prompt", prompt);
            match hook(&env, client, &p) {
                Answer::Nothing => {}
                Answer::Context(c) => assert_one_line(&format!("{client} notice for {prompt:?}"), &c),
                Answer::Message(m) | Answer::Block(m) => panic!("{client} {prompt:?}: unexpected answer {m}"),
            }
        }
    }
}

#[test]
fn a_claim_about_to_expire_is_noticed_exactly_once() {
    for client in CLIENTS {
        let env = Env::new();
        let ev = events(client);
        hook(&env, client, &payload(&env, client, ev.start));
        let id = only_session(&env)["id"].as_str().expect("id").to_string();
        // A claim far from expiry is not news.
        in_session(&env, &id, &["claim", "issue", "8"]);
        let prompt = payload(&env, client, ev.prompt);
        assert_eq!(hook(&env, client, &prompt), Answer::Nothing, "{client}");

        in_session(&env, &id, &["claim", "issue", "7", "--ttl", "4m"]);
        let notices: Vec<Answer> = (0..2).map(|_| hook(&env, client, &prompt)).collect();
        let first = notices[0].clone().context();
        assert_one_line("expiry notice", &first);
        assert!(first.contains("#7") && first.contains("expires"), "{client}: {first}");
        assert_eq!(notices[1], Answer::Nothing, "{client}: the same notice twice");
    }
}

#[test]
fn a_conversations_first_prompt_becomes_its_goal() {
    for client in CLIENTS {
        let env = Env::new();
        let ev = events(client);
        hook(&env, client, &payload(&env, client, ev.start));
        assert_eq!(only_session(&env)["context"], Value::Null, "{client}");
        let mut prompt = payload(&env, client, ev.prompt);
        prompt["prompt"] = json!("continue where we left off");
        hook(&env, client, &prompt);
        assert_eq!(
            only_session(&env)["context"],
            Value::Null,
            "{client}: a continuation is no goal"
        );
        prompt["prompt"] = json!("\n  Make the login test pass\nthen tidy up");
        hook(&env, client, &prompt);
        assert_eq!(only_session(&env)["context"], "Make the login test pass", "{client}");
        prompt["prompt"] = json!("now the logout test");
        hook(&env, client, &prompt);
        assert_eq!(
            only_session(&env)["context"],
            "Make the login test pass",
            "{client}: the first stays"
        );
    }
}

#[test]
fn a_claim_released_over_the_holder_is_noticed_exactly_once() {
    for client in CLIENTS {
        let env = Env::new();
        let ev = events(client);
        hook(&env, client, &payload(&env, client, ev.start));
        let id = only_session(&env)["id"].as_str().expect("id").to_string();
        in_session(&env, &id, &["claim", "issue", "9"]);
        env.start("bob", "triage");
        env.run_as(
            "bob",
            &[
                "release", "issue", "9", "--status", "deferred", "--force", "--reason", "stuck",
            ],
        )
        .ok();
        let prompt = payload(&env, client, ev.prompt);
        let notices: Vec<Answer> = (0..2).map(|_| hook(&env, client, &prompt)).collect();
        let first = notices[0].clone().context();
        assert_one_line("forced release notice", &first);
        assert!(
            first.contains("#9") && first.contains("agent 'bob'") && first.contains("by force"),
            "{client}: {first}"
        );
        assert_eq!(notices[1], Answer::Nothing, "{client}: the same notice twice");
    }
}

#[test]
fn messages_and_requests_are_told_once_when_they_arrive() {
    for client in CLIENTS {
        let env = Env::new();
        let ev = events(client);
        let tool = payload(&env, client, ev.tool);
        assert_eq!(
            hook(&env, client, &tool),
            Answer::Nothing,
            "{client}: no session, nothing to tell"
        );
        hook(&env, client, &payload(&env, client, ev.start));
        let id = only_session(&env)["id"].as_str().expect("id").to_string();
        assert_eq!(hook(&env, client, &tool), Answer::Nothing, "{client}: nothing new");
        env.start("bob", "auth");
        env.run_as(
            "bob",
            &[
                "send",
                "--to",
                ev.agent,
                "--type",
                "interface_ready",
                "AuthContext is ready",
            ],
        )
        .ok();
        let told = hook(&env, client, &tool).context();
        assert!(
            told.contains("AuthContext is ready") && told.contains("[interface_ready]") && told.contains("from bob"),
            "{client}: {told}"
        );
        assert!(
            told.contains(&format!("--session {id}")),
            "{client}: says how to answer: {told}"
        );
        env.run_as("bob", &["send", "--to", &id, "second news"]).ok();
        // A prompt tells of what is new (the tool hook waits a minute between notices), never what was told.
        let prompt = payload(&env, client, ev.prompt);
        let next = hook(&env, client, &prompt).context();
        assert!(next.contains("second news"), "{client}: {next}");
        assert!(!next.contains("AuthContext"), "{client}: told twice: {next}");
        assert_eq!(hook(&env, client, &prompt), Answer::Nothing, "{client}: nothing new");
        assert_eq!(hook(&env, client, &tool), Answer::Nothing, "{client}: nothing new");
        // A request waiting at the end of a turn keeps the agent going once, with what to do.
        env.run_as(
            "bob",
            &["request", "--to", &id, "--type", "review", "review the auth PR"],
        )
        .ok();
        let stop = payload(&env, client, ev.stop);
        let reason = match hook(&env, client, &stop) {
            Answer::Block(r) => r,
            other => panic!("{client}: expected the stop refused once, got {other:?}"),
        };
        assert!(
            reason.contains("review the auth PR") && reason.contains("baton request accept"),
            "{client}: {reason}"
        );
        assert!(
            !matches!(hook(&env, client, &stop), Answer::Block(_)),
            "{client}: a stop refused twice for one request"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// PreCompact, Stop, SessionEnd

#[test]
fn pre_compact_checkpoints_and_counts_compactions() {
    for client in CLIENTS {
        let env = Env::new();
        let ev = events(client);
        hook(&env, client, &payload(&env, client, ev.start));
        let id = only_session(&env)["id"].as_str().expect("id").to_string();
        in_session(&env, &id, &["session", "log", "--progress", "split the lexer"]);
        in_session(&env, &id, &["session", "log", "--next", "merge the lexer branch"]);
        for n in 1..=2 {
            let m = hook(&env, client, &compaction(&env, client)).message();
            assert_one_line("pre-compact", &m);
            assert!(m.contains(&format!("compaction #{n}")), "{client}: {m}");
            let v = view(&env, &id);
            assert_eq!(v["session"]["compaction_count"], n, "{client}");
            assert_eq!(v["checkpoints"].as_array().map(Vec::len), Some(n), "{client}: {v}");
        }
    }
}

#[test]
fn gemini_auto_pre_compress_is_not_a_compaction() {
    let env = Env::new();
    hook(&env, "gemini", &payload(&env, "gemini", "SessionStart"));
    let id = only_session(&env)["id"].as_str().expect("id").to_string();
    in_session(&env, &id, &["session", "log", "--progress", "split the lexer"]);
    for _ in 0..3 {
        assert_eq!(
            hook(&env, "gemini", &payload(&env, "gemini", "PreCompress")),
            Answer::Nothing
        );
    }
    let v = view(&env, &id);
    assert_eq!(v["session"]["compaction_count"], 0, "{v}");
    assert_eq!(v["checkpoints"].as_array().map(Vec::len), Some(0), "{v}");
    // Nothing waits for the next prompt either.
    assert_eq!(
        hook(&env, "gemini", &payload(&env, "gemini", "BeforeAgent")),
        Answer::Nothing
    );
}

#[test]
fn pre_compact_without_a_session_answers_nothing() {
    for client in CLIENTS {
        let env = Env::new();
        let ev = events(client);
        assert_eq!(hook(&env, client, &compaction(&env, client)), Answer::Nothing);
        assert_eq!(hook(&env, client, &payload(&env, client, ev.stop)), Answer::Nothing);
        assert!(sessions(&env).is_empty(), "{client}: these events start nothing");
    }
}

#[test]
fn stop_with_a_held_claim_reminds_once() {
    for client in CLIENTS {
        let env = Env::new();
        let ev = events(client);
        hook(&env, client, &payload(&env, client, ev.start));
        let id = only_session(&env)["id"].as_str().expect("id").to_string();
        in_session(&env, &id, &["claim", "issue", "15"]);
        let stop = payload(&env, client, ev.stop);
        let m = hook(&env, client, &stop).message();
        assert_one_line("stop reminder", &m);
        assert!(m.contains("#15") && m.contains("baton release"), "{client}: {m}");
        assert_eq!(hook(&env, client, &stop), Answer::Nothing, "{client}: reminded twice");
        // The claim is still held: a reminder never blocks or releases anything.
        let claims = env.run(&["claims", "--json"]).json();
        assert_eq!(claims["claims"].as_array().map(Vec::len), Some(1), "{client}");
    }
}

#[test]
fn stop_reminders_reach_the_model_with_the_next_prompt() {
    for client in CLIENTS {
        let env = Env::new();
        let ev = events(client);
        hook(&env, client, &payload(&env, client, ev.start));
        let id = only_session(&env)["id"].as_str().expect("id").to_string();
        let stop = payload(&env, client, ev.stop);
        let prompt = payload(&env, client, ev.prompt);
        // Nothing recorded yet: nothing to remind.
        assert_eq!(hook(&env, client, &stop), Answer::Nothing, "{client}");

        // Progress but no next step: the person sees the reminder now, the agent with the next prompt.
        in_session(&env, &id, &["session", "log", "--progress", "split the lexer"]);
        let m = hook(&env, client, &stop).message();
        assert!(
            m.contains("no next steps") && m.contains(&format!("--session {id} --next")),
            "{client}: {m}"
        );
        let ctx = hook(&env, client, &prompt).context();
        assert!(
            ctx.contains(&m) && ctx.contains("end of your last turn"),
            "{client}: {ctx}"
        );
        assert_eq!(
            hook(&env, client, &prompt),
            Answer::Nothing,
            "{client}: passed on twice"
        );

        // A claim: reminded; released before the next prompt, the reminder no longer holds and is not passed on.
        in_session(&env, &id, &["claim", "issue", "15"]);
        let m = hook(&env, client, &stop).message();
        assert!(m.contains("#15"), "{client}: {m}");
        in_session(&env, &id, &["release", "issue", "15", "--status", "completed"]);
        assert_eq!(
            hook(&env, client, &prompt),
            Answer::Nothing,
            "{client}: a stale reminder"
        );
    }
}

/// Gemini CLI sends the reason of a held AfterAgent back through BeforeAgent as the next prompt (seen in
/// `test_gemini_cli`): baton does not take its own words for the person's, so they neither become the goal nor
/// ask to continue, whatever the request says.
#[test]
fn a_held_stops_reason_coming_back_as_the_prompt_is_not_the_persons() {
    let env = Env::new();
    hook(&env, "gemini", &payload(&env, "gemini", "SessionStart"));
    let prompt = |text: &str| with(payload(&env, "gemini", "BeforeAgent"), "prompt", text);
    // "continue" sets no goal.
    hook(&env, "gemini", &prompt("continue"));
    let id = only_session(&env)["id"].as_str().expect("id").to_string();
    env.start("bob", "auth");
    let mine = || {
        sessions(&env)
            .into_iter()
            .find(|s| s["id"] == id.as_str())
            .expect("the conversation's session")
    };
    let stop = payload(&env, "gemini", "AfterAgent");
    for ask in [
        "review the auth PR #16",
        "resume the rate limiter review where we left off",
    ] {
        env.run_as("bob", &["request", "--to", &id, "--type", "review", ask])
            .ok();
        let reason = match hook(&env, "gemini", &stop) {
            Answer::Block(r) => r,
            other => panic!("expected the stop held, got {other:?}"),
        };
        assert!(reason.contains(ask), "{reason}");
        // The client's next turn: the reason as the prompt. What is new is told; nothing else happens.
        let told = hook(&env, "gemini", &prompt(&reason)).context();
        assert!(told.contains("baton: new for you") && told.contains(ask), "{told}");
        assert!(
            !told.contains("context of session"),
            "not a request to continue: {told}"
        );
        let s = mine();
        assert!(s["context"].is_null(), "the reason is not the goal: {s}");
    }
    // The person's own next prompt is theirs again.
    hook(&env, "gemini", &prompt("Add rate limiting to the API"));
    assert_eq!(mine()["context"], "Add rate limiting to the API");
}

#[test]
fn stop_after_the_session_ended_with_a_handoff_says_nothing() {
    let env = Env::new();
    hook(&env, "claude", &payload(&env, "claude", "SessionStart.startup"));
    let id = only_session(&env)["id"].as_str().expect("id").to_string();
    in_session(
        &env,
        &id,
        &["session", "end", "--summary", "lexer done", "--handoff", "parser next"],
    );
    assert_eq!(hook(&env, "claude", &payload(&env, "claude", "Stop")), Answer::Nothing);
    let s = only_session(&env);
    assert_eq!(
        s["status"], "completed",
        "Stop neither reopens nor starts a session: {s}"
    );
}

#[test]
fn session_end_pauses_within_the_budget() {
    for client in ["claude", "gemini"] {
        let env = Env::new();
        let ev = events(client);
        hook(&env, client, &payload(&env, client, ev.start));
        let before = only_session(&env);
        let id = before["id"].as_str().expect("id").to_string();
        // A session that recorded something is paused for the next conversation; see
        // `session_end_folds_an_empty_session` for one that did not.
        env.run(&["session", "log", "--session", &id, "--progress", "p"]).ok();
        let before = view(&env, &id)["session"].clone();
        std::thread::sleep(Duration::from_millis(20));
        let (r, took) = hook_run(
            &env,
            &[client],
            payload(&env, client, "SessionEnd").to_string().as_bytes(),
            &[],
        );
        assert_eq!(answer(client, "SessionEnd", &r), Answer::Nothing);
        assert!(took < Duration::from_millis(1500), "{client}: SessionEnd took {took:?}");
        let after = view(&env, &id)["session"].clone();
        assert_eq!(after["status"], "paused", "{client}");
        assert!(
            crate::common::micros(after["last_seen"].as_str().expect("last_seen"))
                > crate::common::micros(before["last_seen"].as_str().expect("last_seen")),
            "{client}: last_seen moves on: {before} / {after}"
        );
        // Ending twice is harmless.
        assert_eq!(
            hook(&env, client, &payload(&env, client, "SessionEnd")),
            Answer::Nothing
        );
    }
}

#[test]
fn explicit_event_argument_works_without_hook_event_name() {
    let env = Env::new();
    hook(&env, "claude", &payload(&env, "claude", "SessionStart.startup"));
    let id = only_session(&env)["id"].as_str().expect("id").to_string();
    env.run(&["session", "log", "--session", &id, "--progress", "p"]).ok();
    let mut p = payload(&env, "claude", "SessionEnd");
    p.as_object_mut().expect("object").remove("hook_event_name");

    // Without the argument the event is unknown: a non-blocking failure that says what to do.
    let (r, _) = hook_run(&env, &["claude"], p.to_string().as_bytes(), &[]);
    r.code(1).stderr_has("hook_event_name").stderr_has("baton hook claude");
    assert_eq!(view(&env, &id)["session"]["status"], "active");

    let (r, _) = hook_run(&env, &["claude", "SessionEnd"], p.to_string().as_bytes(), &[]);
    assert_eq!(answer("claude", "SessionEnd", &r), Answer::Nothing);
    assert_eq!(view(&env, &id)["session"]["status"], "paused");

    // The argument names the event for the other clients too, and wins over the payload's.
    let gp = payload(&env, "gemini", "SessionStart");
    let (r, _) = hook_run(&env, &["gemini", "SessionStart"], gp.to_string().as_bytes(), &[]);
    answer("gemini", "SessionStart", &r).context();
    let (r, _) = hook_run(&env, &["gemini", "PreCompress"], gp.to_string().as_bytes(), &[]);
    assert!(answer("gemini", "PreCompress", &r).message().contains("checkpointed"));
}

// ---------------------------------------------------------------------------------------------
// Failures never block the client.

/// Asserts a non-blocking failure: exit 1, nothing on stdout, one line on stderr.
fn assert_non_blocking_failure(what: &str, client: &str, r: &Run) {
    assert_eq!(
        r.code, 1,
        "{what}: expected exit 1\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    assert!(r.stdout.is_empty(), "{what}: stdout must stay empty: {:?}", r.stdout);
    assert!(
        r.stderr.ends_with('\n') && r.stderr.matches('\n').count() == 1,
        "{what}: stderr must be one line: {:?}",
        r.stderr
    );
    assert!(
        r.stderr.starts_with(&format!("baton hook {client}: ")),
        "{what}: {:?}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{what}: {}", r.stderr);
}

#[test]
fn malformed_input_fails_without_blocking() {
    let env = Env::new();
    for client in CLIENTS {
        let cases: [(&str, &[u8]); 8] = [
            ("truncated JSON", b"{\"session_id\": \"abc\", \"hook_"),
            ("not JSON", b"SessionStart"),
            ("an array", b"[{\"session_id\": \"abc\"}]"),
            ("empty stdin", b""),
            ("not UTF-8", b"\xff\xfe{}"),
            ("no session_id", b"{\"hook_event_name\": \"SessionStart\"}"),
            (
                "session_id not a string",
                b"{\"hook_event_name\": \"SessionStart\", \"session_id\": 7}",
            ),
            (
                "control characters in session_id",
                b"{\"hook_event_name\": \"SessionStart\", \"session_id\": \"a\\nb\"}",
            ),
        ];
        for (what, stdin) in cases {
            let (r, _) = hook_run(&env, &[client], stdin, &[]);
            assert_non_blocking_failure(&format!("{client}: {what}"), client, &r);
        }
    }
    // Nothing was started by any of them.
    assert!(sessions(&env).is_empty());
}

/// Global flags may come before `hook`: it is still a hook, whose stdout belongs to the client, and whose
/// failures, the argument parser's included, exit 1.
#[test]
fn global_flags_before_hook_keep_it_a_hook() {
    let env = Env::new();
    let p = payload(&env, "claude", "SessionStart.startup").to_string();
    let run = |args: &[&str], stdin: &[u8]| {
        let mut child = env
            .cmd(args)
            .current_dir(env.home.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn baton");
        let _ = child.stdin.take().expect("stdin").write_all(stdin);
        Run::from(child.wait_with_output().expect("wait for baton"))
    };
    let r = run(&["--json", "hook", "claude", "--bogus"], p.as_bytes());
    assert_non_blocking_failure("an unknown flag after --json hook", "claude", &r);
    assert!(r.stderr.contains("--bogus"), "{}", r.stderr);
    let r = run(&["--json", "--agent", "hook", "hook", "claude"], b"not JSON");
    assert_non_blocking_failure("malformed input after --json --agent hook", "claude", &r);
    let r = run(&["--json", "hook", "claude"], p.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        serde_json::from_str::<Value>(&r.stdout).is_ok(),
        "a hook answer: {}",
        r.stdout
    );
    assert!(!r.stdout.contains("\"error\""), "{}", r.stdout);
    assert!(sessions(&env).len() == 1, "the valid payload started one session");
}

#[test]
fn an_unknown_client_fails_without_blocking() {
    let env = Env::new();
    let p = payload(&env, "claude", "SessionStart.startup");
    let (r, _) = hook_run(&env, &["cursor"], p.to_string().as_bytes(), &[]);
    assert_non_blocking_failure("unknown client", "cursor", &r);
    assert!(r.stderr.contains("claude, codex or gemini"), "{}", r.stderr);
}

#[test]
fn unreachable_store_fails_quickly_without_blocking() {
    let env = Env::new();
    let url = [("BATON_DATABASE_URL", "postgres://x@127.0.0.1:1/x")];
    for client in CLIENTS {
        let ev = events(client);
        let mut names = vec![ev.start, ev.prompt, ev.pre_compact, ev.stop];
        names.extend(ev.end);
        for name in names {
            let (r, took) = hook_run(
                &env,
                &[client],
                payload(&env, client, name).to_string().as_bytes(),
                &url,
            );
            assert_non_blocking_failure(&format!("{client} {name}"), client, &r);
            assert!(r.stderr.contains("PostgreSQL"), "{}", r.stderr);
            assert!(took < Duration::from_secs(5), "{client} {name}: took {took:?}");
        }
    }
}

#[test]
fn a_store_that_never_answers_cannot_hold_session_end_past_its_budget() {
    let env = Env::new();
    // Accepts connections (the kernel does) but never speaks.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("postgres://x@{}/x", silent.local_addr().expect("addr"));
    for client in ["claude", "gemini"] {
        let p = payload(&env, client, "SessionEnd");
        let (r, took) = hook_run(
            &env,
            &[client],
            p.to_string().as_bytes(),
            &[("BATON_DATABASE_URL", &url)],
        );
        assert_non_blocking_failure(&format!("{client} SessionEnd"), client, &r);
        assert!(took < Duration::from_millis(1500), "{client}: SessionEnd took {took:?}");
    }
    drop(silent);
}

// ---------------------------------------------------------------------------------------------
// Output cap

#[test]
fn long_output_is_capped_and_says_what_it_cut() {
    let env = Env::new();
    // Another agent, active with a long goal, and an earlier one that left a long handoff.
    let long = |word: &str, n: usize| format!("{word} ").repeat(n);
    let done = env.start("alice", &long("goal", 4_000));
    run_with_env(
        &env,
        &[("BATON_SESSION", &done)],
        &[
            "session",
            "end",
            "--summary",
            &long("summary", 3_000),
            "--handoff",
            &long("handoff", 3_000),
        ],
    )
    .ok();
    env.start("bob", &long("goal", 4_000));

    for client in CLIENTS {
        let ev = events(client);
        hook(&env, client, &payload(&env, client, ev.start));
        let id = sessions(&env)
            .into_iter()
            .find(|s| s["agent"] == ev.agent)
            .and_then(|s| s["id"].as_str().map(str::to_string))
            .expect("the hook's session");
        // About 60 KB of progress.
        for i in 0..30 {
            let text = format!("step {i}: {}", "progress ".repeat(220));
            in_session(&env, &id, &["session", "log", "--progress", &text]);
        }
        in_session(&env, &id, &["session", "log", "--next", "ship the parser"]);

        let mut contexts = vec![
            hook(
                &env,
                client,
                &with(payload(&env, client, ev.prompt), "prompt", "continue"),
            )
            .context(),
        ];
        let start = with(payload(&env, client, ev.start), "source", "resume");
        contexts.push(hook(&env, client, &start).context());
        if client != "gemini" {
            let compact = with(payload(&env, client, ev.start), "source", "compact");
            let ctx = hook(&env, client, &compact).context();
            for want in ["TL;DR", "Next steps", "ship the parser"] {
                assert!(ctx.contains(want), "{client} compact context lacks {want:?}");
            }
            contexts.push(ctx);
        }
        for ctx in contexts {
            // The newest progress and the next step stay; the oldest progress goes, and the text says so.
            for want in [
                "Next steps",
                "ship the parser",
                "step 29:",
                "older progress",
                "baton session view",
            ] {
                assert!(ctx.contains(want), "{client}: lacks {want:?}: {ctx}");
            }
            assert!(!ctx.contains("step 0:"), "{client}: kept the oldest progress");
            // No section twice: the TL;DR, the claims and the blockers appear once.
            assert_eq!(ctx.matches("TL;DR").count(), 1, "{client}: {ctx}");
        }
        // After a compaction the next prompt (or SessionStart(compact)) brings it back within the cap too.
        hook(&env, client, &compaction(&env, client)).message();
        if client != "claude" {
            let ctx = hook(&env, client, &payload(&env, client, ev.prompt)).context();
            assert!(
                ctx.contains("ship the parser") && ctx.contains("step 29:"),
                "{client}: {ctx}"
            );
        }
    }
}

#[test]
fn one_long_entry_cannot_eat_the_budget() {
    let env = Env::new();
    let client = "claude";
    let ev = events(client);
    hook(&env, client, &payload(&env, client, ev.start));
    let id = only_session(&env)["id"].as_str().expect("id").to_string();
    in_session(&env, &id, &["claim", "issue", "7"]);
    in_session(
        &env,
        &id,
        &["session", "log", "--decision", "keep the lexer hand-written"],
    );
    in_session(&env, &id, &["session", "log", "--blocker", "CI runner has no network"]);
    in_session(
        &env,
        &id,
        &["session", "log", "--progress", &"wall of text ".repeat(2_000)],
    );
    in_session(&env, &id, &["session", "log", "--next", "ship the parser"]);
    let ctx = hook(
        &env,
        client,
        &with(payload(&env, client, ev.prompt), "prompt", "continue"),
    )
    .context();
    for want in [
        "ship the parser",
        "CI runner has no network",
        "keep the lexer hand-written",
        "issue",
        "#7",
        "wall of text",
    ] {
        assert!(ctx.contains(want), "lacks {want:?}: {ctx}");
    }
    assert!(
        ctx.chars().count() < 4_000,
        "a 26,000-character entry was not clipped: {} chars",
        ctx.len()
    );
}

// ---------------------------------------------------------------------------------------------
// baton setup

/// A settings file as the user wrote it (pretty JSON, 2-space indent, trailing newline).
fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("json") + "\n"
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Whether everything in `old` is still in `new` (objects by key, lists by element).
fn keeps(old: &Value, new: &Value) -> bool {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => o.iter().all(|(k, v)| n.get(k).is_some_and(|nv| keeps(v, nv))),
        (Value::Array(o), Value::Array(n)) => o.iter().all(|v| n.contains(v)),
        _ => old == new,
    }
}

/// Checks `doc.hooks` has exactly one `baton hook <client>` handler for each of the client's events.
fn assert_baton_hooks(doc: &Value, client: &str, timeout: u64) {
    let command = format!("baton hook {client}");
    let all_events: &[&str] = match client {
        "claude" => &[
            "SessionStart",
            "UserPromptSubmit",
            "PostToolUse",
            "PreCompact",
            "Stop",
            "SessionEnd",
        ],
        "codex" => &[
            "SessionStart",
            "UserPromptSubmit",
            "PostToolUse",
            "PreCompact",
            "PostCompact",
            "Stop",
        ],
        _ => &[
            "SessionStart",
            "BeforeAgent",
            "AfterTool",
            "PreCompress",
            "AfterAgent",
            "SessionEnd",
        ],
    };
    for event in all_events {
        let ours: Vec<&Value> = doc["hooks"][event]
            .as_array()
            .unwrap_or_else(|| panic!("{client}: no hooks.{event} in {doc}"))
            .iter()
            .flat_map(|g| g["hooks"].as_array().into_iter().flatten())
            .filter(|h| h["command"] == command.as_str())
            .collect();
        assert_eq!(ours.len(), 1, "{client} {event}: {doc}");
        assert_eq!(ours[0]["type"], "command");
        assert_eq!(ours[0]["timeout"], timeout, "{client} {event}");
    }
}

fn setup(env: &Env, args: &[&str]) -> Run {
    let mut all = vec!["setup"];
    all.extend_from_slice(args);
    Run::from(
        env.cmd(&all)
            .current_dir(env.repo.join("src"))
            .output()
            .expect("run baton"),
    )
}

fn user_hook(command: &str) -> Value {
    json!([{"matcher": "", "hooks": [{"type": "command", "command": command}]}])
}

#[test]
fn setup_merges_with_the_users_settings_and_remove_restores_them() {
    let env = Env::new();
    std::fs::create_dir_all(env.repo.join("src")).expect("mkdir");
    let root = &env.repo;

    let claude_settings = json!({
        "permissions": {"allow": ["Bash(cargo test:*)"], "deny": ["Read(./.env)"]},
        "hooks": {
            "Stop": user_hook("notify-send 'Claude is done'"),
            "PostToolUse": [{"matcher": "Edit|Write", "hooks": [{"type": "command", "command": "cargo fmt"}]}]
        },
        "env": {"RUST_LOG": "info"}
    });
    let claude_mcp = json!({"mcpServers": {"github": {"command": "github-mcp-server", "args": ["stdio"]}}});
    let codex_hooks = json!({"hooks": {
        "SessionStart": user_hook("echo hello"),
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "guard.sh", "timeout": 5}]}]
    }});
    let codex_toml = "# my Codex settings\nmodel = \"gpt-5.2-codex\"\n\n[features]\nhooks = true\n\n[mcp_servers.github]\ncommand = \"github-mcp-server\"\nargs = [\"stdio\"]\n";
    let gemini_settings = json!({
        "general": {"vimMode": true},
        "hooks": {"BeforeTool": [{"matcher": "run_shell_command", "hooks": [{"type": "command", "command": "guard.sh", "timeout": 5000}]}]},
        "mcpServers": {"github": {"command": "github-mcp-server", "args": ["stdio"]}}
    });
    let files: Vec<(PathBuf, String)> = vec![
        (root.join(".claude/settings.json"), pretty(&claude_settings)),
        (root.join(".mcp.json"), pretty(&claude_mcp)),
        (root.join(".codex/hooks.json"), pretty(&codex_hooks)),
        (root.join(".codex/config.toml"), codex_toml.to_string()),
        (root.join(".gemini/settings.json"), pretty(&gemini_settings)),
    ];
    for (path, text) in &files {
        write(path, text);
    }

    for client in CLIENTS {
        let r = setup(&env, &[client, "--json"]);
        r.ok();
        let j = r.json();
        let actions: Vec<&str> = j["files"]
            .as_array()
            .expect("files")
            .iter()
            .map(|f| f["action"].as_str().unwrap_or(""))
            .collect();
        assert!(actions.iter().all(|a| *a == "updated"), "{client}: {j}");
        // Again: nothing to do.
        let r = setup(&env, &[client]);
        r.ok();
        let lines: Vec<&str> = r.stdout.lines().collect();
        let (last, per_file) = lines.split_last().expect("output");
        assert!(last.starts_with("baton is set up for"), "{client}: {}", r.stdout);
        assert!(
            !per_file.is_empty() && per_file.iter().all(|l| l.starts_with("unchanged ")),
            "{client}: {}",
            r.stdout
        );
    }

    let claude = read_json(&root.join(".claude/settings.json"));
    assert!(keeps(&claude_settings, &claude), "{claude}");
    assert_baton_hooks(&claude, "claude", 10);
    let mcp = read_json(&root.join(".mcp.json"));
    assert!(keeps(&claude_mcp, &mcp), "{mcp}");
    assert_eq!(
        mcp["mcpServers"]["baton"],
        json!({"command": "baton", "args": ["mcp", "--agent", "claude-code"]})
    );
    let hooks = read_json(&root.join(".codex/hooks.json"));
    assert!(keeps(&codex_hooks, &hooks), "{hooks}");
    assert_baton_hooks(&hooks, "codex", 10);
    let toml = read(&root.join(".codex/config.toml"));
    assert!(toml.starts_with(codex_toml), "{toml}");
    assert!(
        toml.contains("[mcp_servers.baton]\ncommand = \"baton\"\nargs = [\"mcp\", \"--agent\", \"codex\"]"),
        "{toml}"
    );
    let gemini = read_json(&root.join(".gemini/settings.json"));
    assert!(keeps(&gemini_settings, &gemini), "{gemini}");
    assert_baton_hooks(&gemini, "gemini", 10_000);
    assert_eq!(
        gemini["mcpServers"]["baton"],
        json!({"command": "baton", "args": ["mcp", "--agent", "gemini-cli"]})
    );

    for client in CLIENTS {
        setup(&env, &[client, "--remove"]).ok();
        // Removing again changes nothing.
        let r = setup(&env, &[client, "--remove", "--json"]);
        r.ok();
        assert!(
            r.json()["files"]
                .as_array()
                .expect("files")
                .iter()
                .all(|f| f["action"] == "unchanged"),
            "{client}: {}",
            r.stdout
        );
    }
    for (path, text) in &files {
        assert_eq!(&read(path), text, "{} is not restored byte for byte", path.display());
    }
}

/// A Gemini CLI settings file read as the client reads it: comments and trailing commas allowed.
fn read_jsonc(path: &Path) -> Value {
    let text = read(path);
    let options = jsonc_parser::ParseOptions {
        allow_comments: true,
        allow_trailing_commas: true,
        ..Default::default()
    };
    jsonc_parser::cst::CstRootNode::parse(&text, &options)
        .unwrap_or_else(|e| panic!("{} is not valid JSON with comments: {e}\n{text}", path.display()))
        .value()
        .and_then(|v| v.to_serde_value())
        .unwrap_or_else(|| panic!("{} holds no value:\n{text}", path.display()))
}

#[test]
fn setup_gemini_keeps_the_users_comments_and_remove_restores_them() {
    let env = Env::new();
    std::fs::create_dir_all(env.repo.join("src")).expect("mkdir");
    let path = env.repo.join(".gemini/settings.json");
    // What Gemini CLI takes: line and block comments, trailing commas, the user's own layout.
    let original = r#"// Team settings for Gemini CLI.
{
    /* UI */
    "general": { "vimMode": true, }, // I like vim
    "hooks": {
        // Keep the shell honest.
        "BeforeTool": [
            {"matcher": "run_shell_command", "hooks": [{"type": "command", "command": "guard.sh", "timeout": 5000}]},
        ],
    },
    "mcpServers": {
        "github": { "command": "github-mcp-server", "args": ["stdio"] }, /* read-only token */
    },
}
"#;
    write(&path, original);
    let user = read_jsonc(&path);

    let r = setup(&env, &["gemini", "--json"]);
    r.ok();
    assert_eq!(r.json()["files"][0]["action"], "updated", "{}", r.stdout);
    let text = read(&path);
    for comment in [
        "// Team settings for Gemini CLI.",
        "/* UI */",
        "// I like vim",
        "// Keep the shell honest.",
        "/* read-only token */",
    ] {
        assert!(text.contains(comment), "lost {comment:?}:\n{text}");
    }
    assert!(text.starts_with("// Team settings for Gemini CLI.\n{\n    /* UI */\n    \"general\": { \"vimMode\": true, }, // I like vim\n"), "{text}");
    let merged = read_jsonc(&path);
    assert!(keeps(&user, &merged), "{merged}");
    assert_baton_hooks(&merged, "gemini", 10_000);
    assert_eq!(
        merged["mcpServers"]["baton"],
        json!({"command": "baton", "args": ["mcp", "--agent", "gemini-cli"]})
    );
    // baton's entries follow the file's indentation.
    assert!(text.contains("\n        \"SessionStart\": [\n"), "{text}");

    // Again: nothing to do, not a byte changes.
    let r = setup(&env, &["gemini", "--json"]);
    r.ok();
    assert_eq!(r.json()["files"][0]["action"], "unchanged", "{}", r.stdout);
    assert_eq!(read(&path), text);

    setup(&env, &["gemini", "--remove"]).ok();
    assert_eq!(read(&path), original, "not restored byte for byte");
}

#[test]
fn setup_creates_files_and_remove_deletes_them() {
    let env = Env::new();
    std::fs::create_dir_all(env.repo.join("src")).expect("mkdir");
    let paths = [
        ".claude/settings.json",
        ".mcp.json",
        ".codex/hooks.json",
        ".codex/config.toml",
        ".gemini/settings.json",
    ];
    for client in CLIENTS {
        setup(&env, &[client])
            .ok()
            .stdout_has(&format!("baton setup {client} --remove"));
    }
    for p in paths {
        assert!(env.repo.join(p).is_file(), "{p} created at the repository's top");
    }
    assert!(!env.repo.join("src/.claude").exists(), "not in the current directory");
    assert_eq!(
        read_json(&env.repo.join(".mcp.json")),
        json!({"mcpServers": {"baton": {"command": "baton", "args": ["mcp", "--agent", "claude-code"]}}})
    );
    for client in CLIENTS {
        setup(&env, &[client, "--remove"]).ok();
    }
    for p in paths {
        assert!(!env.repo.join(p).exists(), "{p} removed");
    }
    for dir in [".claude", ".codex", ".gemini"] {
        assert!(!env.repo.join(dir).exists(), "{dir}/ that setup created is removed too");
    }
    // A folder that holds something else of the user's stays.
    write(&env.repo.join(".claude/commands/review.md"), "review the diff\n");
    setup(&env, &["claude"]).ok();
    setup(&env, &["claude", "--remove"]).ok();
    assert!(env.repo.join(".claude/commands/review.md").is_file());
}

#[test]
fn setup_global_writes_under_home() {
    let env = Env::new();
    std::fs::create_dir_all(env.repo.join("src")).expect("mkdir");
    let home = env.home.path();
    // Claude Code keeps its own state in ~/.claude.json.
    let state = json!({"numStartups": 12, "projects": {"/home/dev/app": {"allowedTools": []}}});
    write(&home.join(".claude.json"), &pretty(&state));
    for client in CLIENTS {
        setup(&env, &[client, "--global"]).ok();
    }
    assert_baton_hooks(&read_json(&home.join(".claude/settings.json")), "claude", 10);
    let claude_json = read_json(&home.join(".claude.json"));
    assert!(keeps(&state, &claude_json));
    assert_eq!(claude_json["mcpServers"]["baton"]["command"], "baton");
    assert_baton_hooks(&read_json(&home.join(".codex/hooks.json")), "codex", 10);
    assert!(read(&home.join(".codex/config.toml")).contains("[mcp_servers.baton]"));
    assert_baton_hooks(&read_json(&home.join(".gemini/settings.json")), "gemini", 10_000);
    for p in [".claude", ".mcp.json", ".codex", ".gemini"] {
        assert!(!env.repo.join(p).exists(), "--global wrote {p} into the repository");
    }
    for client in CLIENTS {
        setup(&env, &[client, "--global", "--remove"]).ok();
    }
    assert_eq!(read(&home.join(".claude.json")), pretty(&state));
    for p in [
        ".claude/settings.json",
        ".codex/hooks.json",
        ".codex/config.toml",
        ".gemini/settings.json",
    ] {
        assert!(!home.join(p).exists(), "{p} left behind");
    }
}

#[test]
fn setup_refuses_malformed_settings_and_changes_nothing() {
    // (client, file, text, what the error names: the file and, where there is one, the position)
    let cases: [(&str, &str, &str, &str); 6] = [
        (
            "claude",
            ".claude/settings.json",
            "{\n  \"permissions\": {\"allow\": [\"Bash(ls)\"]},\n  oops\n}\n",
            ".claude/settings.json:3:3",
        ),
        (
            "claude",
            ".mcp.json",
            "{\"mcpServers\": {\"github\": }\n",
            ".mcp.json:1:",
        ),
        (
            "codex",
            ".codex/hooks.json",
            "[\"not an object\"]\n",
            ".codex/hooks.json is not a JSON object",
        ),
        (
            "codex",
            ".codex/config.toml",
            "model = \"gpt-5.2-codex\"\n[mcp_servers\n",
            ".codex/config.toml",
        ),
        // Comments and trailing commas are fine in Gemini CLI's settings; an unclosed comment is not,
        // nor a missing comma.
        (
            "gemini",
            ".gemini/settings.json",
            "{\n  // mine\n  \"mcpServers\": {\"github\": {\"command\": \"x\"},},\n  /* unclosed\n}\n",
            ".gemini/settings.json:4:3",
        ),
        (
            "gemini",
            ".gemini/settings.json",
            "{\n  // mine\n  \"general\": {\"vimMode\": true}\n  \"ui\": {}\n}\n",
            ".gemini/settings.json:3:",
        ),
    ];
    for (client, file, text, named) in cases {
        let env = Env::new();
        std::fs::create_dir_all(env.repo.join("src")).expect("mkdir");
        let path = env.repo.join(file);
        write(&path, text);
        let before = tree(&env.repo);
        let r = setup(&env, &[client]);
        r.code(2).stderr_has(named).stderr_has("nothing was changed");
        assert_eq!(read(&path), text, "{client}: {file} changed");
        assert_eq!(
            tree(&env.repo),
            before,
            "{client}: setup failed on {file} but changed other files"
        );
    }
}

/// Every file under `dir` (but .git) with its bytes.
fn tree(dir: &Path) -> std::collections::BTreeMap<PathBuf, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("list").filter_map(|e| e.ok()) {
            let p = e.path();
            if p.is_dir() {
                if e.file_name() != ".git" {
                    todo.push(p);
                }
            } else {
                out.insert(
                    p.clone(),
                    String::from_utf8_lossy(&std::fs::read(&p).expect("read")).into_owned(),
                );
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The Claude Code plugin folder

#[test]
fn plugin_folder_installs_what_setup_installs() {
    let root = repo_root();
    let manifest = read_json(&root.join("plugin/.claude-plugin/plugin.json"));
    assert_eq!(manifest["name"], "baton");
    assert_eq!(
        manifest["version"],
        env!("CARGO_PKG_VERSION"),
        "plugin version follows the crate"
    );
    assert!(manifest["description"].as_str().is_some_and(|d| !d.is_empty()));

    let env = Env::new();
    std::fs::create_dir_all(env.repo.join("src")).expect("mkdir");
    setup(&env, &["claude"]).ok();
    let installed = read_json(&env.repo.join(".claude/settings.json"));
    let plugin_hooks = read_json(&root.join("plugin/hooks/hooks.json"));
    assert_eq!(
        plugin_hooks["hooks"], installed["hooks"],
        "plugin hooks differ from `baton setup claude`"
    );
    assert_baton_hooks(&plugin_hooks, "claude", 10);
    assert_eq!(
        read_json(&root.join("plugin/.mcp.json")),
        read_json(&env.repo.join(".mcp.json")),
        "plugin MCP server differs from `baton setup claude`"
    );

    // The marketplace at the repository's top lists the plugin by a relative path.
    let market = read_json(&root.join(".claude-plugin/marketplace.json"));
    assert!(
        market["name"]
            .as_str()
            .is_some_and(|n| !n.is_empty() && !n.contains(' '))
    );
    assert!(market["owner"]["name"].as_str().is_some_and(|n| !n.is_empty()));
    let plugins = market["plugins"].as_array().expect("plugins");
    let entry = plugins
        .iter()
        .find(|p| p["name"] == "baton")
        .expect("baton in the marketplace");
    let source = entry["source"].as_str().expect("a relative source");
    assert!(source.starts_with("./") && !source.contains(".."), "{source}");
    assert_eq!(
        read_json(&root.join(source).join(".claude-plugin/plugin.json")),
        manifest
    );
}

/// Each recorded payload carries the fields its client documents.
#[test]
fn recorded_payloads_follow_the_documented_schemas() {
    let base: &[&str] = &["session_id", "transcript_path", "cwd", "hook_event_name"];
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "claude",
            "SessionStart.startup",
            &["permission_mode", "source", "model"],
        ),
        ("claude", "SessionStart.resume", &["permission_mode", "source", "model"]),
        (
            "claude",
            "SessionStart.compact",
            &["permission_mode", "source", "model"],
        ),
        ("claude", "SessionStart.clear", &["permission_mode", "source", "model"]),
        ("claude", "UserPromptSubmit", &["permission_mode", "prompt"]),
        (
            "claude",
            "PreCompact",
            &["permission_mode", "trigger", "custom_instructions"],
        ),
        (
            "claude",
            "Stop",
            &["permission_mode", "stop_hook_active", "last_assistant_message"],
        ),
        ("claude", "SessionEnd", &["permission_mode", "reason"]),
        (
            "claude",
            "PostToolUse",
            &[
                "permission_mode",
                "tool_name",
                "tool_input",
                "tool_response",
                "tool_use_id",
            ],
        ),
        (
            "codex",
            "PostToolUse",
            &[
                "model",
                "turn_id",
                "permission_mode",
                "tool_name",
                "tool_input",
                "tool_response",
                "tool_use_id",
            ],
        ),
        (
            "gemini",
            "AfterTool",
            &["timestamp", "tool_name", "tool_input", "tool_response"],
        ),
        ("codex", "SessionStart", &["model", "permission_mode", "source"]),
        (
            "codex",
            "UserPromptSubmit",
            &["model", "turn_id", "permission_mode", "prompt"],
        ),
        ("codex", "PreCompact", &["model", "turn_id", "trigger"]),
        ("codex", "PostCompact", &["model", "turn_id", "trigger"]),
        (
            "codex",
            "Stop",
            &[
                "model",
                "turn_id",
                "permission_mode",
                "stop_hook_active",
                "last_assistant_message",
            ],
        ),
        ("gemini", "SessionStart", &["timestamp", "source"]),
        ("gemini", "BeforeAgent", &["timestamp", "prompt"]),
        ("gemini", "PreCompress", &["timestamp", "trigger"]),
        (
            "gemini",
            "AfterAgent",
            &["timestamp", "prompt", "prompt_response", "stop_hook_active"],
        ),
        ("gemini", "SessionEnd", &["timestamp", "reason"]),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hooks");
    let mut seen = 0;
    for (client, name, extra) in cases {
        let v = read_json(&dir.join(client).join(format!("{name}.json")));
        let obj = v.as_object().expect("object");
        let event = name.split('.').next().expect("event");
        assert_eq!(v["hook_event_name"], event, "{client}/{name}");
        for f in base.iter().chain(extra.iter()) {
            assert!(obj.contains_key(*f), "{client}/{name} lacks {f}");
        }
        assert_eq!(obj.len(), base.len() + extra.len(), "{client}/{name}: {v}");
        if let Some(source) = name.split('.').nth(1) {
            assert_eq!(v["source"], source, "{client}/{name}");
        }
        seen += 1;
    }
    // Every fixture on disk is checked here.
    let on_disk: usize = CLIENTS
        .iter()
        .map(|c| std::fs::read_dir(dir.join(c)).expect("fixtures").count())
        .sum();
    assert_eq!(on_disk, seen);
}

/// With `docs.auto`, what a hook changes shows in the session's document, as after a CLI command.
#[test]
fn hooks_keep_session_documents_up_to_date_when_auto_is_on() {
    let env = Env::new();
    env.auto_docs();
    let ev = events("claude");
    hook(&env, "claude", &payload(&env, "claude", ev.start));
    let id = only_session(&env)["id"].as_str().expect("id").to_string();
    let (_, started) = env.only_agents_document();
    // The agents layout names an active session "in_progress".
    assert!(
        started.contains(&format!("  id: {id}\n")) && started.contains("  status: in_progress\n"),
        "{started}"
    );

    hook(
        &env,
        "claude",
        &payload(&env, "claude", ev.end.expect("claude has SessionEnd")),
    );
    assert_ne!(
        view(&env, &id)["session"]["status"],
        "active",
        "SessionEnd changes the session"
    );
    let (_, ended) = env.only_agents_document();
    assert!(!ended.contains("  status: in_progress\n"), "{ended}");
}

/// The README's promise in its most common case: a conversation logs, claims and ends; the next conversation
/// of the same client (a new conversation id) continues that session and shows what it left, in all three
/// clients, and the commands it suggests work as printed.
#[test]
fn a_new_conversation_continues_the_unfinished_session() {
    for client in CLIENTS {
        let env = Env::new();
        let ev = events(client);
        let one = with(payload(&env, client, ev.start), "session_id", "conversation-one");
        let ctx = hook(&env, client, &one).context();
        let id = only_session(&env)["id"].as_str().expect("id").to_string();
        // The suggested commands name the session, so they work from any client's shell as printed.
        assert!(
            ctx.contains(&format!("baton session log --session {id} --progress TEXT")),
            "{client}: {ctx}"
        );
        for args in [
            vec![
                "session",
                "log",
                "--session",
                &id,
                "--next",
                "wire the limiter into the router",
            ],
            vec![
                "session",
                "log",
                "--session",
                &id,
                "--blocker",
                "need the Redis URL for staging",
            ],
            vec![
                "session",
                "log",
                "--session",
                &id,
                "--decision",
                "token bucket per API key",
            ],
            vec!["claim", "issue", "42", "--session", &id],
        ] {
            env.run(&args).ok();
        }
        // The claim is the session's agent's, whatever name the shell had.
        let claims = env.run(&["claims", "--json"]).json();
        assert_eq!(claims["claims"][0]["agent"], ev.agent, "{client}: {claims}");
        if let Some(end) = ev.end {
            hook(
                &env,
                client,
                &with(payload(&env, client, end), "session_id", "conversation-one"),
            );
            assert_eq!(view(&env, &id)["session"]["status"], "paused", "{client}");
        } else {
            // Codex sends no SessionEnd: a session active within the last 15 minutes may belong to a
            // conversation still open in another window, so it is continued only once paused or quiet.
            let two = with(payload(&env, client, ev.start), "session_id", "window-two");
            let ctx = hook(&env, client, &two).context();
            assert!(ctx.contains("started for"), "{client}: {ctx}");
            let other = sessions(&env)
                .into_iter()
                .find(|s| s["id"] != id.as_str())
                .expect("window two");
            let other = other["id"].as_str().expect("id").to_string();
            env.run(&[
                "session",
                "close",
                "--session",
                &other,
                "--abandon",
                "--reason",
                "unused",
            ])
            .ok();
            env.run(&["session", "pause", "--session", &id]).ok();
        }

        let two = with(payload(&env, client, ev.start), "session_id", "conversation-two");
        let ctx = hook(&env, client, &two).context();
        assert!(
            ctx.contains(&format!("baton session {id} continues")),
            "{client}: {ctx}"
        );
        for want in [
            "wire the limiter into the router",
            "need the Redis URL for staging",
            "token bucket per API key",
            "issue org/app#42",
        ] {
            assert!(ctx.contains(want), "{client}: {want} missing from {ctx}");
        }
        assert!(
            !ctx.contains("Claimed by others"),
            "{client}: own claim shown as others': {ctx}"
        );
        let active = || -> Vec<Value> { sessions(&env).into_iter().filter(|s| s["status"] == "active").collect() };
        assert_eq!(
            active().len(),
            1,
            "{client}: one session, continued: {:?}",
            sessions(&env)
        );
        assert_eq!(active()[0]["id"], id.as_str(), "{client}");
        // The prompt hook of conversation two acts on the same session.
        let p = with(payload(&env, client, ev.prompt), "session_id", "conversation-two");
        let ctx = hook(&env, client, &with(p, "prompt", "continue where we left off")).context();
        assert!(ctx.contains("need the Redis URL for staging"), "{client}: {ctx}");
        assert_eq!(active().len(), 1, "{client}");
    }
}

/// A conversation that recorded nothing leaves no session behind, and two windows open at once are two
/// sessions whose own commands are never ambiguous.
#[test]
fn empty_conversations_fold_and_two_windows_stay_apart() {
    let env = Env::new();
    let start = |conv: &str| with(payload(&env, "claude", "SessionStart.startup"), "session_id", conv);
    hook(&env, "claude", &start("empty"));
    let empty = only_session(&env)["id"].as_str().expect("id").to_string();
    hook(
        &env,
        "claude",
        &with(payload(&env, "claude", "SessionEnd"), "session_id", "empty"),
    );
    assert_eq!(view(&env, &empty)["session"]["status"], "abandoned");

    // The next conversation does not pick up the empty one: it starts afresh, and the digest does not list it.
    let ctx = hook(&env, "claude", &start("window-a")).context();
    assert!(ctx.contains("started for claude-code"), "{ctx}");
    assert!(!ctx.contains(&empty), "{ctx}");
    let a = sessions(&env)
        .into_iter()
        .find(|s| s["status"] == "active")
        .expect("window a")["id"]
        .as_str()
        .expect("id")
        .to_string();
    env.run(&["session", "log", "--session", &a, "--progress", "a works"])
        .ok();
    // A second window while the first is live: its own session, not the first one's.
    let ctx = hook(&env, "claude", &start("window-b")).context();
    assert!(ctx.contains("started for claude-code"), "{ctx}");
    let b = sessions(&env)
        .into_iter()
        .find(|s| s["status"] == "active" && s["id"] != a.as_str())
        .expect("window b")["id"]
        .as_str()
        .expect("id")
        .to_string();
    env.run(&["session", "log", "--session", &b, "--progress", "b works"])
        .ok();
    assert_eq!(view(&env, &a)["progress"].as_array().map(Vec::len), Some(1));
    assert_eq!(view(&env, &b)["progress"].as_array().map(Vec::len), Some(1));
}

/// `agent = "alice"` in the repository's config does not split the hooks' session from the agent's commands.
#[test]
fn config_agent_does_not_split_hooks_and_commands() {
    let env = Env::new();
    std::fs::create_dir_all(env.repo.join(".baton")).expect("dir");
    std::fs::write(env.repo.join(".baton/config.toml"), "agent = \"alice\"\n").expect("config");
    hook(&env, "claude", &payload(&env, "claude", "SessionStart.startup"));
    let s = only_session(&env);
    assert_eq!(s["agent"], "claude-code");
    let id = s["id"].as_str().expect("id");
    // A command naming the session acts as its agent, without BATON_AGENT.
    let r = env
        .cmd(&["claim", "issue", "7", "--session", id, "--json"])
        .env_remove("BATON_AGENT")
        .output()
        .expect("run");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let j: Value = serde_json::from_slice(&r.stdout).expect("json");
    assert_eq!(j["claim"]["agent"], "claude-code", "{j}");
}
