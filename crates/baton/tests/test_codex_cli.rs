//! The real Codex CLI (`codex exec`) running baton's hooks, with a scripted stand-in for the OpenAI
//! Responses API on 127.0.0.1 (a `[model_providers]` entry with `base_url` and `wire_api = "responses"`
//! in a throwaway `~/.codex/config.toml`). The stand-in records every request, so a test reads exactly
//! what the client sent to the model.
//!
//! The client comes from `BATON_TEST_CODEX`, else from `target/clients/node_modules/.bin/codex`
//! (what `.ci/run` installs). Without either when the tests are built, `cargo test` lists them as
//! ignored, with the reason (see build.rs); in CI (`CI=true`) they run, and a missing client fails them.
//!
//! What Codex CLI 0.171.0 does, as seen through these tests (`codex exec`):
//! - Hooks (feature `hooks`, stable and on) run only from a trusted project (`[projects."<dir>"]
//!   trust_level = "trusted"`, or `codex exec --trust`) and only once the hooks themselves are trusted:
//!   hooks nobody reviewed are skipped without a word in `codex exec`. These tests pass
//!   `--dangerously-bypass-hook-trust`, meant for automation that vets its hooks.
//! - Events seen: SessionStart (source "startup"), UserPromptSubmit (with `turn_id`), PostToolUse (shell
//!   commands as `tool_name` "Bash", `tool_input` `{"command": "..."}`, `tool_response` the output as a
//!   string), Stop (with `last_assistant_message`). There is no SessionEnd: a conversation's session stays
//!   active after it.
//! - PostToolUse `hookSpecificOutput.additionalContext` reaches the model with the next request, as a developer
//!   message between the `function_call` and its `function_call_output`.
//! - Stop `{"decision":"block","reason":...}` makes Codex take another turn: the reason arrives as a user
//!   message `<hook_prompt hook_run_id="stop:...">REASON</hook_prompt>` (no UserPromptSubmit for it), and the
//!   next Stop says `stop_hook_active: true`.
//! - SessionStart and UserPromptSubmit `hookSpecificOutput.additionalContext` reach the model as a
//!   `{"role":"developer"}` message of `input`: SessionStart's before the prompt, UserPromptSubmit's after it.
//!   Stop's `systemMessage` is shown to the user only (the `--json` events do not carry it either).
//! - Nothing like `CLAUDE_ENV_FILE`: shell commands do not see `BATON_SESSION`, so the agent passes
//!   `--session` as the hook context tells it to.
//! - The shell tool is `exec_command` (`{"cmd": ...}`); its output comes back as a `function_call_output`.
//!   Commands run in a login shell unless `allow_login_shell = false`, and a login shell's profile resets
//!   PATH, so `baton` would not be found there.
//! - Because there is no SessionEnd, SessionStart continues the last conversation's session only once that
//!   session has been quiet for 15 minutes (before that, it may be a window still open) and starts a new
//!   one sooner; a "continue where we left off" prompt in that new, empty session then takes up the last
//!   one and folds the empty one. One test moves the first session's `last_seen` back 16 minutes to stand
//!   for the time between conversations; the other asks at once.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::stand_in::{
    Answer, Api, ClientRun, Recorded, ShellReply, StandIn, Step, assert_told, baton_session_in, client_path, clip,
    fixed, in_session, path_with_baton, run_bounded, text, texts,
};
use crate::common::{Env, assert_has, assert_held, assert_only_session, entries, sessions, view};

/// The Codex CLI release `.ci/run` installs and these tests were written against.
const CODEX_VERSION: &str = "0.171.0";
/// The longest one `codex exec` run may take before it is killed.
const CODEX_DEADLINE: Duration = Duration::from_secs(120);

fn codex_client() -> PathBuf {
    let install = format!("npm install --prefix target/clients --no-audit --no-fund @openai/codex@{CODEX_VERSION}");
    let default = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/clients/node_modules/.bin/codex");
    client_path("BATON_TEST_CODEX", &default, "Codex CLI", &install)
}

// ---------------------------------------------------------------------------------------------
// The stand-in for the Responses API

struct Responses;

impl Api for Responses {
    type Reply = ShellReply;

    fn is_turn(&self, r: &Recorded) -> bool {
        r.method == "POST" && r.route() == "/v1/responses" && r.body["input"].is_array()
    }

    fn turn(&self, r: &Recorded, reply: ShellReply, n: usize) -> Answer {
        let model = r.body["model"].as_str().unwrap_or("stand-in");
        let id = format!("{}_{n}", std::process::id());
        let item = match reply {
            ShellReply::Text(t) => json!({
                "type": "message", "id": format!("msg_{id}"), "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": t, "annotations": []}],
            }),
            ShellReply::Shell(cmd) => json!({
                "type": "function_call", "id": format!("fc_{id}"), "call_id": format!("call_{id}"),
                "name": "exec_command", "arguments": json!({"cmd": cmd}).to_string(), "status": "completed",
            }),
        };
        let response = |status: &str, output: Value| {
            json!({
                "id": format!("resp_{id}"), "object": "response", "status": status, "model": model, "output": output,
                "usage": {"input_tokens": 100, "output_tokens": 10, "total_tokens": 110,
                          "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}},
            })
        };
        Answer::sse(&[
            (
                Some("response.created"),
                json!({"type": "response.created", "response": response("in_progress", json!([]))}),
            ),
            (
                Some("response.output_item.added"),
                json!({"type": "response.output_item.added", "output_index": 0, "item": item}),
            ),
            (
                Some("response.output_item.done"),
                json!({"type": "response.output_item.done", "output_index": 0, "item": item}),
            ),
            (
                Some("response.completed"),
                json!({"type": "response.completed", "response": response("completed", json!([item]))}),
            ),
        ])
    }

    fn fallback(&self, text: &str) -> ShellReply {
        ShellReply::Text(text.to_string())
    }

    fn side(&self, _: &Recorded) -> Answer {
        Answer::json(&json!({"data": [], "models": []}))
    }

    fn describe(&self, body: &Value) -> Vec<String> {
        body["input"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|item| {
                let kind = item["role"].as_str().or(item["type"].as_str()).unwrap_or("?");
                format!("[{kind}] {}", clip(&texts(item).join(" | "), 1500))
            })
            .collect()
    }
}

/// The developer messages of a request: where Codex puts what hooks add to the context.
fn developer_texts(req: &Value) -> Vec<String> {
    req["input"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["type"] == "message" && i["role"] == "developer")
        .flat_map(|i| texts(&i["content"]))
        .collect()
}

/// The baton session named by the hook context of a request (the first developer message naming one).
fn hook_session_id(req: &Value) -> Option<String> {
    developer_texts(req).iter().find_map(|t| baton_session_in(t))
}

/// A shell turn whose command names the baton session the hooks reported.
fn shell_in_session(command: impl FnOnce(&str) -> String + Send + 'static) -> Step<ShellReply> {
    in_session(hook_session_id, developer_texts, move |id| {
        ShellReply::Shell(command(id))
    })
}

/// The outputs of the shell commands a request reports back to the model.
fn tool_outputs(req: &Value) -> Vec<String> {
    req["input"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["type"] == "function_call_output")
        .map(|i| texts(&i["output"]).join("\n"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Running the client

/// `baton setup codex` in the repository, and a throwaway `~/.codex/config.toml` that points Codex at
/// the stand-in and trusts the repository.
fn setup_codex(env: &Env, base_url: &str) {
    env.run(&["setup", "codex"]).ok();
    let hooks = std::fs::read_to_string(env.repo.join(".codex/hooks.json")).expect("hooks written");
    assert!(hooks.contains("baton hook codex"), "{hooks}");
    let dir = env.home.path().join(".codex");
    std::fs::create_dir_all(&dir).expect("~/.codex");
    let repo = env.repo.display().to_string();
    let config = format!(
        r#"model = "gpt-5"
model_provider = "stand-in"
# A login shell's profile would reset PATH, and with it the test's baton.
allow_login_shell = false
check_for_update_on_startup = false

[model_providers.stand-in]
name = "stand-in"
base_url = "{base_url}/v1"
wire_api = "responses"
env_key = "STAND_IN_API_KEY"

[projects.{repo}]
trust_level = "trusted"
"#,
        repo = toml_string(&repo)
    );
    std::fs::write(dir.join("config.toml"), config).expect("write ~/.codex/config.toml");
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string")
}

/// Points the user config at another stand-in (each conversation gets its own).
fn repoint(env: &Env, base_url: &str) {
    let path = env.home.path().join(".codex/config.toml");
    let text = std::fs::read_to_string(&path).expect("config");
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("base_url = ") {
                format!("base_url = \"{base_url}/v1\"")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&path, text).expect("write config");
}

/// `codex exec PROMPT` in the repo, with the baton store of `env`.
fn run_codex(env: &Env, codex: &Path, prompt: &str) -> ClientRun {
    let mut cmd = Command::new(codex);
    cmd.arg("exec")
        // Hooks nobody reviewed are skipped in `codex exec`; these are the ones `baton setup` wrote.
        .arg("--dangerously-bypass-hook-trust")
        // The scripted commands run without a prompt and outside Codex's sandbox (baton writes its store).
        .arg("--dangerously-bypass-approvals-and-sandbox")
        .arg("--json")
        .arg(prompt)
        .current_dir(&env.repo)
        .env_clear()
        .env("PATH", path_with_baton())
        .env("HOME", env.home.path())
        .env("USER", "tester")
        .env("BATON_HOME", env.baton_home())
        .env("STAND_IN_API_KEY", "dummy");
    run_bounded(cmd, CODEX_DEADLINE)
}

/// Moves a session's `last_seen` back, as if its conversation had been over for `secs`.
fn age_session(env: &Env, id: &str, secs: i64) {
    let db = env.baton_home().join("baton.db");
    let conn = rusqlite::Connection::open(&db).expect("open the store");
    let n = conn
        .execute(
            "UPDATE sessions SET last_seen = last_seen - ?2, updated_at = updated_at - ?2 WHERE id = ?1",
            rusqlite::params![id, secs * 1_000_000],
        )
        .expect("age the session");
    assert_eq!(n, 1, "session {id} in {}", db.display());
}

// ---------------------------------------------------------------------------------------------
// Tests

const NEXT: &str = "wire the limiter into the router";
const BLOCKER: &str = "need the Redis URL for staging";

/// Conversation one logs its work through the hooks' session; a later conversation picks it up.
#[test]
#[cfg_attr(
    not(baton_test_codex),
    ignore = "needs Codex CLI: set BATON_TEST_CODEX=/path/to/codex (install: see README)"
)]
fn a_new_conversation_continues_where_the_last_one_left_off() {
    conversation_one_then_two(Some(16 * 60));
}

/// Codex sends no SessionEnd, so the last session is still active and recent when the user opens a new
/// conversation at once and asks to continue: the prompt hook takes that session up and folds the new, empty one.
#[test]
#[cfg_attr(
    not(baton_test_codex),
    ignore = "needs Codex CLI: set BATON_TEST_CODEX=/path/to/codex (install: see README)"
)]
fn continue_right_after_the_last_conversation_takes_up_its_session() {
    conversation_one_then_two(None);
}

/// Conversation one logs a next step and a blocker and claims an item; conversation two, `gap` seconds later
/// (or at once), asks to continue.
fn conversation_one_then_two(gap: Option<i64>) {
    let codex = codex_client();
    let env = Env::new();

    // Conversation one: the model records its work with baton's CLI through the shell tool.
    let stand_in = StandIn::start(
        Responses,
        vec![
            shell_in_session(|id| {
                format!(
                    "baton session log --session {id} --next \"{NEXT}\" && baton session log --session {id} --blocker \"{BLOCKER}\""
                )
            }),
            shell_in_session(|id| {
                format!("baton claim issue 42 --session {id} && echo \"BATON_SESSION=$BATON_SESSION\"")
            }),
            text("The limiter skeleton is in; wiring it into the router is next."),
        ],
    );
    setup_codex(&env, &stand_in.base_url());
    let run = run_codex(&env, &codex, "Add rate limiting to the API");
    let served = stand_in.finish();
    run.ok("codex exec");
    assert!(
        run.stdout.contains("wiring it into the router is next"),
        "the last reply is printed: {}",
        run.stdout
    );
    let turns = served.turns(&Responses);
    assert_eq!(turns.len(), 3, "three turns\n{}", served.dump(&Responses));
    assert_eq!((served.unscripted, served.left), (0, 0), "{}", served.dump(&Responses));

    // SessionStart's answer reached the model as a developer message before the prompt.
    let id = hook_session_id(turns[0]).unwrap_or_else(|| panic!("no hook context\n{}", served.dump(&Responses)));
    let input = turns[0]["input"].as_array().expect("input");
    let at = |pred: &dyn Fn(&Value) -> bool| input.iter().position(pred);
    let context_at = at(&|i| {
        i["role"] == "developer"
            && texts(i)
                .iter()
                .any(|t| t.contains(&format!("baton session {id} started")))
    });
    let prompt_at = at(&|i| i["role"] == "user" && texts(i).iter().any(|t| t == "Add rate limiting to the API"));
    assert!(
        matches!((context_at, prompt_at), (Some(c), Some(p)) if c < p),
        "the SessionStart context comes before the prompt\n{}",
        served.dump(&Responses)
    );
    assert_only_session(
        &env,
        &id,
        "codex",
        "Add rate limiting to the API",
        "the first prompt is the goal",
    );

    // Both commands ran and said so to the model; the shell has no BATON_SESSION (no env file in Codex).
    for (i, turn) in turns.iter().enumerate().skip(1) {
        let outputs = tool_outputs(turn);
        let last = outputs
            .last()
            .unwrap_or_else(|| panic!("turn {i} reports a command\n{}", served.dump(&Responses)));
        assert!(last.contains("exited with code 0"), "turn {i}: {last}");
        assert!(last.contains(&id) || last.contains("org/app#42"), "turn {i}: {last}");
    }
    assert!(
        tool_outputs(turns[2])
            .last()
            .is_some_and(|o| o.contains("BATON_SESSION=\n")),
        "{:?}",
        tool_outputs(turns[2])
    );

    // No SessionEnd: the session is still active; the journal and the claim are there.
    let v = view(&env, &id);
    assert_eq!(v["session"]["status"], "active", "{v}");
    assert_has("next steps", &entries(&v, "next_steps"), NEXT);
    assert_has("blockers", &entries(&v, "blockers"), BLOCKER);
    assert_held(&v, "issue", "42");

    // Conversation two: after a while (then SessionStart continues the quiet session), or at once (then the
    // "continue" prompt does).
    if let Some(secs) = gap {
        age_session(&env, &id, secs);
    }
    let stand_in = StandIn::start(Responses, vec![text("Picking up the router wiring.")]);
    repoint(&env, &stand_in.base_url());
    let run = run_codex(&env, &codex, "continue where we left off");
    let served = stand_in.finish();
    run.ok("codex exec");
    let turns = served.turns(&Responses);
    assert_eq!(turns.len(), 1, "{}", served.dump(&Responses));
    // What the hooks told the model last: right after the prompt.
    let told = developer_texts(turns[0])
        .into_iter()
        .filter(|t| t.contains("baton"))
        .collect::<Vec<_>>()
        .join("\n");
    let told = match told.rfind(&format!("baton session {id} continues")) {
        Some(at) => told[at..].to_string(),
        None => told,
    };
    assert!(
        told.contains(&format!("baton session {id} continues")),
        "conversation two continues baton session {id}:\n{}",
        clip(&told, 8000)
    );
    assert_told(&told, &[NEXT, BLOCKER, "issue org/app#42"]);
    assert!(
        !told.contains("Claimed by others"),
        "its own claim is not someone else's:\n{told}"
    );
    // No second session is left behind: conversation two's empty one, if it started one, was folded.
    let open: Vec<Value> = sessions(&env)
        .into_iter()
        .filter(|s| s["status"] != "abandoned")
        .collect();
    assert_eq!(open.len(), 1, "no second session: {open:?}");
    assert_eq!(open[0]["id"], id.as_str(), "{open:?}");
    assert_eq!(open[0]["status"], "active", "{open:?}");
}

/// What another agent tells this session while its tool runs.
const NEWS: &str = "AuthContext is merged in src/auth/context.py";
/// What another agent asks of this session before it stops.
const ASK: &str = "review the auth PR #16";

/// How many developer messages of a request carry `needle`: hook context, not tool output.
fn told_count(req: &Value, needle: &str) -> usize {
    developer_texts(req).iter().filter(|t| t.contains(needle)).count()
}

/// A message that arrives while a tool runs reaches the model with the next request, through the PostToolUse
/// hook's `additionalContext`, once: the request after the next tool does not carry it again.
#[test]
#[cfg_attr(
    not(baton_test_codex),
    ignore = "needs Codex CLI: set BATON_TEST_CODEX=/path/to/codex (install: see README)"
)]
fn a_message_sent_while_a_tool_runs_reaches_the_model_once() {
    let codex = codex_client();
    let env = Env::new();
    let bob = env.start("bob", "auth API");
    let stand_in = StandIn::start(
        Responses,
        vec![
            // Another agent's message to this session arrives while this tool runs.
            shell_in_session(move |id| {
                format!("BATON_AGENT=bob baton send --session {bob} --to {id} --type interface_ready \"{NEWS}\"")
            }),
            fixed(ShellReply::Shell("echo working".into())),
            text("Using the merged AuthContext."),
        ],
    );
    setup_codex(&env, &stand_in.base_url());
    let run = run_codex(&env, &codex, "Wire the login page to the auth API");
    let served = stand_in.finish();
    run.ok("codex exec");
    let turns = served.turns(&Responses);
    assert_eq!(turns.len(), 3, "three turns\n{}", served.dump(&Responses));
    assert_eq!((served.unscripted, served.left), (0, 0), "{}", served.dump(&Responses));
    let sent = tool_outputs(turns[1]);
    assert!(
        sent.last().is_some_and(|o| o.contains("exited with code 0")),
        "the send ran: {sent:?}"
    );
    assert_eq!(
        told_count(turns[0], NEWS),
        0,
        "not before it was sent\n{}",
        served.dump(&Responses)
    );
    let told: Vec<String> = developer_texts(turns[1])
        .into_iter()
        .filter(|t| t.contains(NEWS))
        .collect();
    assert_eq!(
        told.len(),
        1,
        "the PostToolUse hook's answer reached the model with the next request, once\n{}",
        served.dump(&Responses)
    );
    assert!(
        told[0].contains("from bob") && told[0].contains("[interface_ready]"),
        "{}",
        told[0]
    );
    assert_eq!(
        told_count(turns[2], NEWS),
        1,
        "told once: the next tool's hook added nothing more\n{}",
        served.dump(&Responses)
    );
}

/// A request addressed to the session that is pending when the model ends its turn keeps Codex going once:
/// the Stop hook's `{"decision":"block"}` sends the model another request with the reason, and the second
/// stop goes through.
#[test]
#[cfg_attr(
    not(baton_test_codex),
    ignore = "needs Codex CLI: set BATON_TEST_CODEX=/path/to/codex (install: see README)"
)]
fn a_pending_request_holds_the_stop_once() {
    let codex = codex_client();
    let env = std::sync::Arc::new(Env::new());
    let bob = env.start("bob", "auth API");
    let asker = env.clone();
    let stand_in = StandIn::start(
        Responses,
        vec![
            // While the model writes its last answer, another agent asks this session for a review.
            in_session(hook_session_id, developer_texts, move |id| {
                asker
                    .run_as(
                        "bob",
                        &["request", "--session", &bob, "--to", id, "--type", "review", ASK],
                    )
                    .ok();
                ShellReply::Text("The login page is wired.".into())
            }),
            text("Accepted the review request."),
        ],
    );
    setup_codex(&env, &stand_in.base_url());
    let run = run_codex(&env, &codex, "Wire the login page to the auth API");
    let served = stand_in.finish();
    run.ok("codex exec");
    assert!(
        run.stdout.contains("Accepted the review request."),
        "the run ends with the second answer: {}",
        run.stdout
    );
    let held = |req: &Value| {
        texts(&req["input"])
            .into_iter()
            .filter(|t| t.contains("before you stop") && t.contains(ASK))
            .collect::<Vec<_>>()
    };
    served.assert_stop_held_once(&Responses, "Stop", held);
}
