//! The real Gemini CLI (`gemini -p`) running baton's hooks, with a scripted stand-in for the Gemini API
//! (`models/*:streamGenerateContent?alt=sse`) on 127.0.0.1, which the client reaches through
//! `GOOGLE_GEMINI_BASE_URL` with an API key. The stand-in records every request, so a test reads exactly
//! what the client sent to the model.
//!
//! The client comes from `BATON_TEST_GEMINI`, else from `target/clients/node_modules/.bin/gemini`
//! (what `.ci/run` installs). Without either when the tests are built, `cargo test` lists them as
//! ignored, with the reason (see build.rs); in CI (`CI=true`) they run, and a missing client fails them.
//!
//! What Gemini CLI 0.61.0 does, as seen through these tests (`gemini -p`, `--yolo`):
//! - `GOOGLE_GEMINI_BASE_URL` alone selects the "gateway" auth type, which print mode refuses ("Invalid
//!   auth method selected."); with `security.auth.selectedType = "gemini-api-key"` in the user settings and
//!   `GEMINI_API_KEY` set, the base URL is still used. Print mode refuses an untrusted folder unless
//!   `GEMINI_CLI_TRUST_WORKSPACE=true` (or `--skip-trust`). Hooks need no flag.
//! - Every turn is preceded by a routing request (`generateContent` with no tools, asking for a
//!   complexity score as JSON); the stand-in answers it, not from the script.
//! - Events seen: SessionStart (source "startup"), BeforeAgent, PreCompress, AfterTool (shell commands as
//!   `tool_name` "run_shell_command", `tool_response` `{llmContent, returnDisplay}`), AfterAgent, SessionEnd
//!   (reason "exit"). The hook env has `GEMINI_SESSION_ID`, `GEMINI_PROJECT_DIR`, `GEMINI_CWD` and also
//!   `CLAUDE_PROJECT_DIR`.
//! - SessionStart's `additionalContext` is put before the first prompt, as `<hook_context>…</hook_context>`
//!   in the same user text — and BeforeAgent's `prompt` carries it too (baton now takes the prompt after
//!   those blocks, so the goal is the person's words). BeforeAgent's `additionalContext` reaches the model
//!   as a further `<hook_context>` text part of that user turn. `systemMessage` (PreCompress, AfterAgent)
//!   is printed to the user ("Hook system message: ...") only.
//! - AfterTool's `additionalContext` is appended to the tool's result (the `functionResponse` of the next
//!   request) as `<hook_context>…</hook_context>`; the client escapes `<` and `>` inside it.
//! - AfterAgent `{"decision":"deny","reason":...}` (the client takes "block" the same way) makes it send the
//!   reason as a new user turn, which passes BeforeAgent as its `prompt`; the AfterAgent after it says
//!   `stop_hook_active: true`. The `--output-format json` result lists "Agent execution blocked: REASON" under
//!   `warnings`, and its `response` joins both answers.
//! - PreCompress (trigger "auto") fires before every model request of a turn, ahead of the client's own
//!   check whether compression is due, so most PreCompress events are not followed by a compression.
//!   baton counts each as a compaction (`compaction_count` grows by one per request).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::stand_in::{
    Answer, Api, ClientRun, Recorded, ShellReply, StandIn, Step, assert_told, baton_session_in, client_path, clip,
    fixed, in_session, path_with_baton, run_bounded, text, texts,
};
use crate::common::{Env, assert_has, assert_held, assert_only_session, entries, sessions, view};

/// The Gemini CLI release `.ci/run` installs and these tests were written against.
const GEMINI_VERSION: &str = "0.61.0";
/// The longest one `gemini -p` run may take before it is killed.
const GEMINI_DEADLINE: Duration = Duration::from_secs(120);

fn gemini_client() -> PathBuf {
    let install =
        format!("npm install --prefix target/clients --no-audit --no-fund @google/gemini-cli@{GEMINI_VERSION}");
    let default = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/clients/node_modules/.bin/gemini");
    client_path("BATON_TEST_GEMINI", &default, "Gemini CLI", &install)
}

// ---------------------------------------------------------------------------------------------
// The stand-in for the Gemini API

struct Gemini;

fn generates(r: &Recorded) -> bool {
    r.method == "POST" && (r.route().ends_with(":streamGenerateContent") || r.route().ends_with(":generateContent"))
}

fn candidate(part: Value) -> Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 10, "totalTokenCount": 110},
    })
}

impl Api for Gemini {
    type Reply = ShellReply;

    fn is_turn(&self, r: &Recorded) -> bool {
        generates(r) && r.body["tools"].as_array().is_some_and(|t| !t.is_empty())
    }

    fn turn(&self, r: &Recorded, reply: ShellReply, _n: usize) -> Answer {
        let part = match reply {
            ShellReply::Text(t) => json!({"text": t}),
            ShellReply::Shell(command) => json!({"functionCall": {
                "name": "run_shell_command",
                "args": {"command": command, "description": "Record the work in baton"},
            }}),
        };
        let body = candidate(part);
        if r.path.contains("alt=sse") {
            Answer::sse(&[(None, body)])
        } else {
            Answer::json(&body)
        }
    }

    fn fallback(&self, text: &str) -> ShellReply {
        ShellReply::Text(text.to_string())
    }

    fn side(&self, r: &Recorded) -> Answer {
        if r.route().ends_with(":countTokens") {
            return Answer::json(&json!({"totalTokens": 100}));
        }
        if generates(r) {
            // The client's own questions (the router's complexity score), answered as the schema asks.
            let text = json!({"complexity_reasoning": "a small change", "complexity_score": 10});
            return Answer::json(&candidate(json!({"text": text.to_string()})));
        }
        Answer::json(&json!({}))
    }

    fn describe(&self, body: &Value) -> Vec<String> {
        body["contents"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let role = c["role"].as_str().unwrap_or("?");
                format!("[{role}] {}", clip(&texts(&c["parts"]).join(" | "), 1500))
            })
            .collect()
    }
}

/// The texts a request carries from hooks: `<hook_context>` blocks in the conversation's user turns.
fn hook_texts(req: &Value) -> Vec<String> {
    texts(&req["contents"])
        .into_iter()
        .filter_map(|t| t.find("<hook_context>").map(|i| t[i..].to_string()))
        .collect()
}

fn hook_session_id(req: &Value) -> Option<String> {
    hook_texts(req).iter().find_map(|t| baton_session_in(t))
}

fn shell_in_session(command: impl FnOnce(&str) -> String + Send + 'static) -> Step<ShellReply> {
    in_session(
        hook_session_id,
        |req| texts(&req["contents"]),
        move |id| ShellReply::Shell(command(id)),
    )
}

/// What the shell commands printed, as the last user turn of a request reports it.
fn tool_outputs(req: &Value) -> Vec<String> {
    let Some(last) = req["contents"].as_array().and_then(|c| c.last()) else {
        return Vec::new();
    };
    last["parts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("functionResponse"))
        .map(|f| texts(&f["response"]).join("\n"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Running the client

/// `baton setup gemini` in the repository, and user settings that select API-key auth.
fn setup_gemini(env: &Env) {
    env.run(&["setup", "gemini"]).ok();
    let settings = std::fs::read_to_string(env.repo.join(".gemini/settings.json")).expect("settings written");
    assert!(settings.contains("baton hook gemini"), "{settings}");
    let dir = env.home.path().join(".gemini");
    std::fs::create_dir_all(&dir).expect("~/.gemini");
    let user = json!({
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "privacy": {"usageStatisticsEnabled": false},
    });
    std::fs::write(dir.join("settings.json"), user.to_string()).expect("write ~/.gemini/settings.json");
}

/// `gemini -p PROMPT` in the repo, against the stand-in, with the baton store of `env`.
fn run_gemini(env: &Env, gemini: &Path, stand_in: &StandIn<Gemini>, prompt: &str) -> ClientRun {
    let mut cmd = Command::new(gemini);
    // --yolo: the scripted shell commands run without a confirmation (print mode has nobody to ask).
    cmd.args(["--yolo", "--output-format", "json", "-p", prompt])
        .current_dir(&env.repo)
        .env_clear()
        .env("PATH", path_with_baton())
        .env("HOME", env.home.path())
        .env("USER", "tester")
        .env("BATON_HOME", env.baton_home())
        .env("GOOGLE_GEMINI_BASE_URL", stand_in.base_url())
        .env("GEMINI_API_KEY", "dummy")
        .env("GEMINI_CLI_TRUST_WORKSPACE", "true");
    run_bounded(cmd, GEMINI_DEADLINE)
}

// ---------------------------------------------------------------------------------------------
// Tests

const NEXT: &str = "wire the limiter into the router";
const BLOCKER: &str = "need the Redis URL for staging";

/// Conversation one logs its work through the hooks' session; a new conversation picks it up.
#[test]
#[cfg_attr(
    not(baton_test_gemini),
    ignore = "needs Gemini CLI: set BATON_TEST_GEMINI=/path/to/gemini (install: see README)"
)]
fn a_new_conversation_continues_where_the_last_one_left_off() {
    let gemini = gemini_client();
    let env = Env::new();
    setup_gemini(&env);

    let stand_in = StandIn::start(
        Gemini,
        vec![
            shell_in_session(|id| {
                format!(
                    "baton session log --session {id} --next \"{NEXT}\" && baton session log --session {id} --blocker \"{BLOCKER}\""
                )
            }),
            shell_in_session(|id| format!("baton claim issue 42 --session {id}")),
            text("The limiter skeleton is in; wiring it into the router is next."),
        ],
    );
    let run = run_gemini(&env, &gemini, &stand_in, "Add rate limiting to the API");
    let served = stand_in.finish();
    let one = run.json("gemini -p");
    assert_eq!(
        one["response"], "The limiter skeleton is in; wiring it into the router is next.",
        "{one}"
    );
    let turns = served.turns(&Gemini);
    assert_eq!(turns.len(), 3, "three turns\n{}", served.dump(&Gemini));
    assert_eq!((served.unscripted, served.left), (0, 0), "{}", served.dump(&Gemini));

    // SessionStart's answer reached the model before the prompt, in the prompt's own text.
    let id = hook_session_id(turns[0]).unwrap_or_else(|| panic!("no hook context\n{}", served.dump(&Gemini)));
    let first = hook_texts(turns[0]);
    assert!(
        first[0].starts_with(&format!("<hook_context>baton session {id} started"))
            && first[0].ends_with("</hook_context>\n\nAdd rate limiting to the API"),
        "{first:?}"
    );
    assert_only_session(
        &env,
        &id,
        "gemini-cli",
        "Add rate limiting to the API",
        "the person's first prompt is the goal, not the hook context the client put before it",
    );

    for (i, turn) in turns.iter().enumerate().skip(1) {
        let outputs = tool_outputs(turn);
        assert_eq!(outputs.len(), 1, "turn {i}\n{}", served.dump(&Gemini));
        assert!(
            outputs[0].contains(&id) || outputs[0].contains("Claimed issue org/app#42"),
            "turn {i}: {}",
            outputs[0]
        );
    }

    // SessionEnd paused the session; the journal and the claim are there.
    let v = view(&env, &id);
    assert_eq!(v["session"]["status"], "paused", "{v}");
    assert_has("next steps", &entries(&v, "next_steps"), NEXT);
    assert_has("blockers", &entries(&v, "blockers"), BLOCKER);
    assert_held(&v, "issue", "42");

    // Conversation two: a new `gemini -p`.
    let stand_in = StandIn::start(Gemini, vec![text("Picking up the router wiring.")]);
    let run = run_gemini(&env, &gemini, &stand_in, "continue where we left off");
    let served = stand_in.finish();
    let two = run.json("gemini -p");
    assert_ne!(two["session_id"], one["session_id"], "a new conversation");
    let turns = served.turns(&Gemini);
    assert_eq!(turns.len(), 1, "{}", served.dump(&Gemini));
    let told = hook_texts(turns[0]).join("\n");
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
    let listed = sessions(&env);
    assert_eq!(listed.len(), 1, "no second session: {listed:?}");
    assert_eq!(listed[0]["status"], "paused", "{listed:?}");
}

/// What another agent tells this session while its tool runs.
const NEWS: &str = "AuthContext is merged in src/auth/context.py";
/// What another agent asks of this session before it stops.
const ASK: &str = "review the auth PR #16";

/// The `<hook_context>…</hook_context>` blocks of a request's conversation, each whole.
fn hook_blocks(req: &Value) -> Vec<String> {
    const OPEN: &str = "<hook_context>";
    const CLOSE: &str = "</hook_context>";
    let mut out = Vec::new();
    for t in texts(&req["contents"]) {
        let mut rest = t.as_str();
        while let Some(at) = rest.find(OPEN) {
            let after = &rest[at + OPEN.len()..];
            let end = after.find(CLOSE).unwrap_or(after.len());
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    out
}

/// A message that arrives while a tool runs reaches the model with the next request, through the AfterTool
/// hook's `additionalContext` (the client appends it to the tool's result), once: the request after the next
/// tool does not carry it again.
#[test]
#[cfg_attr(
    not(baton_test_gemini),
    ignore = "needs Gemini CLI: set BATON_TEST_GEMINI=/path/to/gemini (install: see README)"
)]
fn a_message_sent_while_a_tool_runs_reaches_the_model_once() {
    let gemini = gemini_client();
    let env = Env::new();
    setup_gemini(&env);
    let bob = env.start("bob", "auth API");
    let stand_in = StandIn::start(
        Gemini,
        vec![
            // Another agent's message to this session arrives while this tool runs.
            shell_in_session(move |id| {
                format!("BATON_AGENT=bob baton send --session {bob} --to {id} --type interface_ready \"{NEWS}\"")
            }),
            fixed(ShellReply::Shell("echo working".into())),
            text("Using the merged AuthContext."),
        ],
    );
    let run = run_gemini(&env, &gemini, &stand_in, "Wire the login page to the auth API");
    let served = stand_in.finish();
    let out = run.json("gemini -p");
    assert_eq!(out["response"], "Using the merged AuthContext.", "{out}");
    let turns = served.turns(&Gemini);
    assert_eq!(turns.len(), 3, "three turns\n{}", served.dump(&Gemini));
    assert_eq!((served.unscripted, served.left), (0, 0), "{}", served.dump(&Gemini));
    let told = |i: usize| -> Vec<String> { hook_blocks(turns[i]).into_iter().filter(|b| b.contains(NEWS)).collect() };
    assert!(told(0).is_empty(), "not before it was sent\n{}", served.dump(&Gemini));
    let once = told(1);
    assert_eq!(
        once.len(),
        1,
        "the AfterTool hook's answer reached the model with the next request, once\n{}",
        served.dump(&Gemini)
    );
    assert!(
        once[0].contains("from bob") && once[0].contains("[interface_ready]"),
        "{}",
        once[0]
    );
    // It came with the result of the tool that ran when it arrived.
    assert!(
        tool_outputs(turns[1])
            .iter()
            .any(|o| o.contains(NEWS) && o.contains("<hook_context>")),
        "{}",
        served.dump(&Gemini)
    );
    assert_eq!(
        told(2).len(),
        1,
        "told once: the next tool's hook added nothing more\n{}",
        served.dump(&Gemini)
    );
}

/// A request addressed to the session that is pending when the model ends its turn keeps Gemini CLI going
/// once: the AfterAgent hook's `{"decision":"deny"}` sends the model the reason as a new prompt, and the
/// second stop goes through. That prompt passes BeforeAgent too, and is not taken for the person's.
#[test]
#[cfg_attr(
    not(baton_test_gemini),
    ignore = "needs Gemini CLI: set BATON_TEST_GEMINI=/path/to/gemini (install: see README)"
)]
fn a_pending_request_holds_the_stop_once() {
    let gemini = gemini_client();
    let env = std::sync::Arc::new(Env::new());
    setup_gemini(&env);
    let bob = env.start("bob", "auth API");
    let asker = env.clone();
    let stand_in = StandIn::start(
        Gemini,
        vec![
            // While the model writes its last answer, another agent asks this session for a review.
            in_session(
                hook_session_id,
                |req| texts(&req["contents"]),
                move |id| {
                    asker
                        .run_as(
                            "bob",
                            &["request", "--session", &bob, "--to", id, "--type", "review", ASK],
                        )
                        .ok();
                    ShellReply::Text("The login page is wired.".into())
                },
            ),
            text("Accepted the review request."),
        ],
    );
    // A prompt that sets no goal, so that the reason coming back as the next prompt would show as one.
    let run = run_gemini(&env, &gemini, &stand_in, "continue");
    let served = stand_in.finish();
    let out = run.json("gemini -p");
    assert!(
        out["response"]
            .as_str()
            .is_some_and(|r| r.contains("Accepted the review request.")),
        "the run ends with the second answer: {out}"
    );
    let held = |req: &Value| {
        texts(&req["contents"])
            .into_iter()
            .filter(|t| t.contains("before you stop") && t.contains(ASK))
            .collect::<Vec<_>>()
    };
    served.assert_stop_held_once(&Gemini, "AfterAgent", held);
    // The client sent the reason back through BeforeAgent as the prompt: baton's words, not the person's.
    let first = served.turns(&Gemini)[0];
    let id = hook_session_id(first).unwrap_or_else(|| panic!("no hook context\n{}", served.dump(&Gemini)));
    let v = view(&env, &id);
    assert!(v["session"]["context"].is_null(), "the reason is not the goal: {v}");
}
