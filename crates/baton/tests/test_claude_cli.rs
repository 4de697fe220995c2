//! The real Claude Code CLI (`claude -p`) running baton's hooks, with a scripted stand-in for the
//! Anthropic Messages API on 127.0.0.1.
//!
//! The stand-in speaks real HTTP and streams server-sent events the way the API does; it records
//! every request body, so a test reads exactly what the client sent to the model: where a hook's
//! answer ended up, and what the tools that the scripted replies asked for printed.
//!
//! The client comes from `BATON_TEST_CLAUDE`, else from `target/clients/node_modules/.bin/claude`
//! (what `.ci/run` installs). Without either when the tests are built, `cargo test` lists them as
//! ignored, with the reason (see build.rs); in CI (`CI=true`) they run, and a missing client fails them.
//!
//! What Claude Code 2.1.332 does, as seen through these tests (print mode, `-p`):
//! - Hook answers that reach the model: SessionStart and UserPromptSubmit `additionalContext`, as a
//!   `{"role":"system"}` entry of `messages` whose text begins "SessionStart hook additional
//!   context: " (after the prompt); after a compaction it is appended to the system text instead.
//!   `systemMessage` (Stop, PreCompact) is shown to the user only.
//! - Stop `{"decision":"block","reason":...}` makes it take another turn: the next request carries the reason
//!   as "Stop hook feedback:" in a user message, and again in a system entry ("Stop hook blocking error from
//!   command: ...").
//! - `CLAUDE_ENV_FILE` is set for SessionStart only; what SessionStart appends to it is sourced
//!   before every Bash command of that conversation.
//! - Every `claude -p` run ends with SessionEnd, reason "other".
//! - `/compact` (in print mode: `-p "/compact" --resume <id>`) sends PreCompact (trigger "manual"), then
//!   SessionStart (source "compact") under the same conversation id. `/clear` sends SessionEnd (reason
//!   "clear"), then SessionStart (source "clear") under a new conversation id.
//! - `--resume <id>` and `--continue` keep the conversation's session id; SessionStart says
//!   source "resume".
//! - The project's `.mcp.json` servers load only once approved (`enableAllProjectMcpServers` in
//!   `.claude/settings.local.json` stands for the user's one-time approval); their tools are offered behind
//!   the client's tool search (`ToolSearch`) unless `ENABLE_TOOL_SEARCH=false`. The stdio server is a child
//!   of the client, as the hooks are, and works on the hooks' session.
//! - Running as root, `--permission-mode bypassPermissions` is refused unless `IS_SANDBOX=1` is
//!   set; an allow rule like `Bash(baton:*)` is not enough for a command that expands a variable
//!   ("A variable in this command can't be checked before it runs").

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::stand_in::{
    Answer, Api, ClientRun, Recorded, StandIn, Step, assert_told, baton_session_in, client_path, clip, fixed,
    in_session, next_id, path_with_baton, run_bounded, texts,
};
use crate::common::{Backend, Env, assert_has, assert_held, assert_only_session, entries, sessions, view};

/// The Claude Code release `.ci/run` installs and these tests were written against.
const CLAUDE_VERSION: &str = "2.1.332";
/// The longest one `claude` run may take before it is killed.
const CLAUDE_DEADLINE: Duration = Duration::from_secs(120);

/// What precedes a SessionStart hook's `additionalContext` in the request the client sends.
const SESSION_START_CONTEXT: &str = "SessionStart hook additional context";

fn claude_client() -> PathBuf {
    let install =
        format!("npm install --prefix target/clients --no-audit --no-fund @anthropic-ai/claude-code@{CLAUDE_VERSION}");
    let default = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/clients/node_modules/.bin/claude");
    client_path("BATON_TEST_CLAUDE", &default, "Claude Code", &install)
}

// ---------------------------------------------------------------------------------------------
// The stand-in for the Messages API

/// One scripted model turn.
#[derive(Debug, Clone)]
enum Reply {
    Text(String),
    ToolUse { name: String, input: Value },
}

fn bash(command: &str) -> Reply {
    Reply::ToolUse {
        name: "Bash".to_string(),
        input: json!({"command": command, "description": "Record the work in baton"}),
    }
}

/// A Bash turn whose command names the baton session that the SessionStart hook reported.
fn bash_in_session(command: impl FnOnce(&str) -> String + Send + 'static) -> Step<Reply> {
    in_session(hook_session_id, texts, move |id| bash(&command(id)))
}

struct Messages;

impl Api for Messages {
    type Reply = Reply;

    /// A turn of the conversation (not a side request such as a token count, a title or a probe).
    fn is_turn(&self, r: &Recorded) -> bool {
        r.method == "POST" && r.route() == "/v1/messages" && r.body["tools"].as_array().is_some_and(|t| !t.is_empty())
    }

    fn turn(&self, r: &Recorded, reply: Reply, n: usize) -> Answer {
        // Unique across stand-ins: a resumed conversation holds the ids of earlier runs, and the
        // client treats a repeated tool_use id as a turn that is already over ("[Tool use interrupted]").
        let n = format!("{}_{n}", std::process::id());
        let body = &r.body;
        let model = body["model"].as_str().unwrap_or("claude-stand-in").to_string();
        let (block, stop_reason) = match &reply {
            Reply::Text(t) => (json!({"type": "text", "text": t}), "end_turn"),
            Reply::ToolUse { name, input } => (
                json!({"type": "tool_use", "id": format!("toolu_stand_in_{n}"), "name": name, "input": input}),
                "tool_use",
            ),
        };
        let usage = json!({"input_tokens": 100, "output_tokens": 10, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0});
        if body["stream"].as_bool() != Some(true) {
            let message = json!({
                "id": format!("msg_stand_in_{n}"), "type": "message", "role": "assistant", "model": model,
                "content": [block], "stop_reason": stop_reason, "stop_sequence": null, "usage": usage,
            });
            return Answer::json(&message);
        }
        let (start_block, delta) = match &reply {
            Reply::Text(t) => (
                json!({"type": "text", "text": ""}),
                json!({"type": "text_delta", "text": t}),
            ),
            Reply::ToolUse { name, input } => (
                json!({"type": "tool_use", "id": format!("toolu_stand_in_{n}"), "name": name, "input": {}}),
                json!({"type": "input_json_delta", "partial_json": input.to_string()}),
            ),
        };
        let events = [
            json!({"type": "message_start", "message": {
                "id": format!("msg_stand_in_{n}"), "type": "message", "role": "assistant", "model": model,
                "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": 100, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
            }}),
            json!({"type": "content_block_start", "index": 0, "content_block": start_block}),
            json!({"type": "content_block_delta", "index": 0, "delta": delta}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null}, "usage": {"output_tokens": 10}}),
            json!({"type": "message_stop"}),
        ];
        let events: Vec<(Option<&str>, Value)> = events.iter().map(|e| (e["type"].as_str(), e.clone())).collect();
        Answer::sse(&events)
    }

    fn fallback(&self, text: &str) -> Reply {
        Reply::Text(text.to_string())
    }

    fn side(&self, r: &Recorded) -> Answer {
        if r.method == "POST" && r.route() == "/v1/messages/count_tokens" {
            return Answer::json(&json!({"input_tokens": 100}));
        }
        if r.method == "POST" && r.route() == "/v1/messages" {
            // The client's own questions (titles, summaries): plain text, not from the script.
            return self.turn(r, Reply::Text("Done.".to_string()), next_id());
        }
        // Probes (HEAD /, GET ...) and anything else: an empty success.
        Answer::json(&json!({}))
    }

    fn describe(&self, body: &Value) -> Vec<String> {
        let mut out: Vec<String> = texts(&body["system"])
            .iter()
            .map(|t| format!("[system] {}", clip(t, 400)))
            .collect();
        for m in body["messages"].as_array().into_iter().flatten() {
            let role = m["role"].as_str().unwrap_or("?");
            match &m["content"] {
                Value::Array(blocks) => {
                    for b in blocks {
                        let kind = b["type"].as_str().unwrap_or("?");
                        let text = texts(b).join(" | ");
                        out.push(format!("[{role} {kind}] {}", clip(&text, 1500)));
                    }
                }
                other => out.push(format!("[{role}] {}", clip(&texts(other).join(" | "), 1500))),
            }
        }
        out
    }

    fn headers(&self) -> &'static [(&'static str, &'static str)] {
        &[("request-id", "req_stand_in")]
    }
}

// ---------------------------------------------------------------------------------------------
// Reading requests

/// What the client sent the model as conversation: `system` and `messages` (not the tool schemas).
fn conversation_texts(req: &Value) -> Vec<String> {
    let mut out = texts(&req["system"]);
    out.extend(texts(&req["messages"]));
    out
}

/// The texts of a request that carry a SessionStart hook's context.
fn session_start_contexts(req: &Value) -> Vec<String> {
    conversation_texts(req)
        .into_iter()
        .filter_map(|t| t.find(SESSION_START_CONTEXT).map(|i| t[i..].to_string()))
        .collect()
}

/// The baton session the latest SessionStart hook context in a request names.
fn hook_session_id(req: &Value) -> Option<String> {
    session_start_contexts(req)
        .iter()
        .rev()
        .find_map(|t| baton_session_in(t))
}

/// The tool results of a request's last message, as (is_error, text).
fn tool_results(req: &Value) -> Vec<(bool, String)> {
    let Some(last) = req["messages"].as_array().and_then(|m| m.last()) else {
        return Vec::new();
    };
    last["content"]
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter(|b| b["type"] == "tool_result")
                .map(|b| {
                    (
                        b["is_error"].as_bool().unwrap_or(false),
                        texts(&b["content"]).join("\n"),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Running the client

/// The `--output-format json` result object of a `claude -p` run, asserted successful.
fn claude_result(run: &ClientRun) -> Value {
    let v = run.json("claude -p");
    assert_eq!(v["is_error"], false, "claude reports an error: {v}");
    v
}

/// `baton setup claude` in the repository: hooks in `.claude/settings.json`.
fn setup_claude(env: &Env) {
    env.run(&["setup", "claude"]).ok();
    let settings = std::fs::read_to_string(env.repo.join(".claude/settings.json")).expect("settings written");
    assert!(settings.contains("baton hook claude"), "{settings}");
}

/// Runs `claude -p` in the repo with `args`, against the stand-in, with the baton store of `env`.
fn run_claude(env: &Env, claude: &Path, stand_in: &StandIn<Messages>, args: &[&str]) -> ClientRun {
    run_claude_with(env, claude, stand_in, args, &[])
}

/// [`run_claude`] with more environment variables for the client.
fn run_claude_with(
    env: &Env,
    claude: &Path,
    stand_in: &StandIn<Messages>,
    args: &[&str],
    vars: &[(&str, &str)],
) -> ClientRun {
    let mut cmd = Command::new(claude);
    cmd.arg("-p")
        .args(args)
        .args(["--output-format", "json"])
        // Lets the scripted Bash commands run without a permission prompt (print mode has nobody
        // to ask). Claude Code refuses this mode for root unless IS_SANDBOX=1 (below); an allow
        // rule such as `--allowedTools "Bash(baton:*)"` does not cover a command that expands a
        // variable, and one command here reads $BATON_SESSION.
        .args(["--permission-mode", "bypassPermissions"])
        .current_dir(&env.repo)
        .env_clear()
        .env("PATH", path_with_baton())
        .env("HOME", env.home.path())
        .env("USER", "tester")
        .env("BATON_HOME", env.baton_home())
        .env("ANTHROPIC_BASE_URL", stand_in.base_url())
        .env("ANTHROPIC_API_KEY", "dummy")
        .env("DISABLE_TELEMETRY", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("IS_SANDBOX", "1");
    if let Backend::Postgres(url) = &env.backend {
        cmd.env("BATON_DATABASE_URL", url).env("BATON_PROJECT", &env.project);
    }
    cmd.envs(vars.iter().copied());
    run_bounded(cmd, CLAUDE_DEADLINE)
}

// ---------------------------------------------------------------------------------------------
// Tests

const PROGRESS: &str = "rate limiter skeleton in api/limit.rs";
const NEXT: &str = "wire the limiter into the router";
const BLOCKER: &str = "need the Redis URL for staging";
const DECISION: &str = "token bucket per API key";
const DISCOVERY: &str = "the router already has a middleware slot";

/// Conversation one logs its work through the hooks' session; a new conversation picks it up.
#[test]
#[cfg_attr(
    not(baton_test_claude),
    ignore = "needs Claude Code: set BATON_TEST_CLAUDE=/path/to/claude (install: see README)"
)]
fn a_new_conversation_continues_where_the_last_one_left_off() {
    let claude = claude_client();
    let env = Env::new();
    setup_claude(&env);

    // Conversation one: the model records its work with baton's CLI through the Bash tool.
    let stand_in = StandIn::start(
        Messages,
        vec![
            bash_in_session(|id| format!("baton session log --session {id} --progress \"{PROGRESS}\"")),
            bash_in_session(|id| {
                format!(
                    "baton session log --session {id} --next \"{NEXT}\" && baton session log --session {id} --blocker \"{BLOCKER}\""
                )
            }),
            bash_in_session(|id| {
                format!(
                    "baton session log --session {id} --decision \"{DECISION}\" && baton claim issue 42 --session {id}"
                )
            }),
            // No --session: SessionStart exported BATON_SESSION through $CLAUDE_ENV_FILE.
            fixed(bash(&format!(
                "baton session log --discovery \"{DISCOVERY}\" && echo \"BATON_SESSION=$BATON_SESSION\""
            ))),
            fixed(Reply::Text(
                "The rate limiter skeleton is in; wiring it into the router is next.".into(),
            )),
        ],
    );
    let run = run_claude(&env, &claude, &stand_in, &["Add rate limiting to the API"]);
    let served = stand_in.finish();
    let result = claude_result(&run);
    assert_eq!(
        result["result"], "The rate limiter skeleton is in; wiring it into the router is next.",
        "{result}"
    );
    let turns = served.turns(&Messages);
    assert_eq!(turns.len(), 5, "five turns\n{}", served.dump(&Messages));
    assert_eq!((served.unscripted, served.left), (0, 0), "{}", served.dump(&Messages));

    // The SessionStart hook's answer reached the model, naming the conversation's baton session.
    let id = hook_session_id(turns[0]).unwrap_or_else(|| panic!("no hook context\n{}", served.dump(&Messages)));
    assert_only_session(
        &env,
        &id,
        "claude-code",
        "Add rate limiting to the API",
        "the first prompt is the goal",
    );

    // Every command ran, and succeeded; the one without --session found the session by $BATON_SESSION.
    for (i, turn) in turns.iter().enumerate().skip(1) {
        let results = tool_results(turn);
        assert_eq!(
            results.len(),
            1,
            "one tool result in turn {i}\n{}",
            served.dump(&Messages)
        );
        let (is_error, text) = &results[0];
        assert!(!is_error, "turn {i}: the command failed: {text}");
        assert!(text.contains(&id), "turn {i}: not about session {id}: {text}");
    }
    assert!(
        tool_results(turns[4])[0].1.contains(&format!("BATON_SESSION={id}")),
        "Bash commands see BATON_SESSION: {:?}",
        tool_results(turns[4])
    );

    // SessionEnd paused the session; the journal and the claim are there.
    let v = view(&env, &id);
    assert_eq!(v["session"]["status"], "paused", "{v}");
    assert_has("progress", &entries(&v, "progress"), PROGRESS);
    assert_has("next steps", &entries(&v, "next_steps"), NEXT);
    assert_has("blockers", &entries(&v, "blockers"), BLOCKER);
    assert_has("decisions", &entries(&v, "decisions"), DECISION);
    assert_has("discoveries", &entries(&v, "discoveries"), DISCOVERY);
    assert_held(&v, "issue", "42");

    // Conversation two: a new `claude -p`, not a resumed one.
    let stand_in = StandIn::start(
        Messages,
        vec![fixed(Reply::Text("Picking up the router wiring.".into()))],
    );
    let run = run_claude(&env, &claude, &stand_in, &["continue where we left off"]);
    let served = stand_in.finish();
    assert_ne!(
        claude_result(&run)["session_id"],
        result["session_id"],
        "a new conversation"
    );
    let turns = served.turns(&Messages);
    assert_eq!(turns.len(), 1, "{}", served.dump(&Messages));
    // What the model is told, from the hooks' answers (not only what claude printed).
    let hook_texts: Vec<String> = conversation_texts(turns[0])
        .into_iter()
        .filter(|t| t.contains("hook additional context"))
        .collect();
    let told = hook_texts.join("\n");
    assert_told(&told, &[NEXT, BLOCKER, "issue org/app#42"]);
    assert_eq!(
        hook_session_id(turns[0]).as_deref(),
        Some(id.as_str()),
        "conversation two continues baton session {id}:\n{}",
        clip(&told, 8000)
    );
    let listed = sessions(&env);
    assert_eq!(listed.len(), 1, "no second session: {listed:?}");
    assert_eq!(listed[0]["status"], "paused", "{listed:?}");
}

/// A first conversation that logs progress and a next step through the Bash tool and ends; returns the
/// client's conversation id and the baton session, which SessionEnd paused.
fn conversation_one(env: &Env, claude: &Path) -> (String, String) {
    let stand_in = StandIn::start(
        Messages,
        vec![
            bash_in_session(|id| {
                format!(
                    "baton session log --session {id} --progress \"{PROGRESS}\" && baton session log --session {id} --next \"{NEXT}\""
                )
            }),
            fixed(Reply::Text("Skeleton done.".into())),
        ],
    );
    let run = run_claude(env, claude, &stand_in, &["Add rate limiting to the API"]);
    let served = stand_in.finish();
    let conversation = claude_result(&run)["session_id"]
        .as_str()
        .expect("session_id")
        .to_string();
    let turns = served.turns(&Messages);
    assert_eq!(turns.len(), 2, "{}", served.dump(&Messages));
    let id = hook_session_id(turns[0]).unwrap_or_else(|| panic!("no hook context\n{}", served.dump(&Messages)));
    assert_eq!(view(env, &id)["session"]["status"], "paused");
    (conversation, id)
}

/// `claude -p --resume <id>` is the same conversation: the same baton session, resumed.
#[test]
#[cfg_attr(
    not(baton_test_claude),
    ignore = "needs Claude Code: set BATON_TEST_CLAUDE=/path/to/claude (install: see README)"
)]
fn a_resumed_conversation_keeps_its_baton_session() {
    let claude = claude_client();
    let env = Env::new();
    setup_claude(&env);

    let (conversation, id) = conversation_one(&env, &claude);

    // The same conversation again: its SessionStart (source "resume") resumes the same session, and
    // exports it again for the Bash tool.
    let stand_in = StandIn::start(
        Messages,
        vec![
            fixed(bash(
                "baton session log --progress \"limiter wired into the router\" && echo \"BATON_SESSION=$BATON_SESSION\"",
            )),
            fixed(Reply::Text("Wired.".into())),
        ],
    );
    let run = run_claude(&env, &claude, &stand_in, &["--resume", &conversation, "wire it in"]);
    let served = stand_in.finish();
    assert_eq!(
        claude_result(&run)["session_id"],
        conversation.as_str(),
        "the same conversation"
    );
    let turns = served.turns(&Messages);
    assert_eq!(turns.len(), 2, "{}", served.dump(&Messages));
    // The resumed history carries conversation one's hook context; the latest one is this start's.
    let contexts = session_start_contexts(turns[0]);
    assert_eq!(contexts.len(), 2, "one hook context per start: {contexts:?}");
    assert_eq!(hook_session_id(turns[0]).as_deref(), Some(id.as_str()), "{contexts:?}");
    assert!(
        contexts[1].contains(NEXT),
        "the resumed context shows the next step: {}",
        contexts[1]
    );
    let results = tool_results(turns[1]);
    assert_eq!(results.len(), 1, "{}", served.dump(&Messages));
    assert!(!results[0].0, "{results:?}");
    assert!(results[0].1.contains(&format!("BATON_SESSION={id}")), "{results:?}");

    let listed = sessions(&env);
    assert_eq!(listed.len(), 1, "one session: {listed:?}");
    let v = view(&env, &id);
    assert_eq!(v["session"]["status"], "paused", "{v}");
    let progress = entries(&v, "progress");
    assert_has("progress", &progress, PROGRESS);
    assert_has("progress", &progress, "limiter wired into the router");
}

/// The MCP server `baton setup claude` installs, started by the real client, works on the session the hooks
/// started for the conversation: a tool call without `session_id` logs there, and `session_start` continues it.
#[test]
#[cfg_attr(
    not(baton_test_claude),
    ignore = "needs Claude Code: set BATON_TEST_CLAUDE=/path/to/claude (install: see README)"
)]
fn the_mcp_server_works_on_the_session_the_hooks_started() {
    let claude = claude_client();
    let env = Env::new();
    setup_claude(&env);
    // Another window of the same client is at work here: without the hooks' session, a call that names no
    // session would be ambiguous.
    let other = env.run_as("claude-code", &["session", "start", "--context", "another window"]);
    other.ok();
    // Approve the project's MCP server the way a user does once, so print mode loads it.
    let local = env.repo.join(".claude/settings.local.json");
    std::fs::write(&local, json!({"enableAllProjectMcpServers": true}).to_string()).expect("approve .mcp.json");

    let tool = |name: &str, input: Value| Reply::ToolUse {
        name: format!("mcp__baton__{name}"),
        input,
    };
    let stand_in = StandIn::start(
        Messages,
        vec![
            fixed(tool("session_log", json!({"kind": "progress", "text": PROGRESS}))),
            fixed(tool("session_start", json!({"context": "rate limiting"}))),
            fixed(tool("claim_work", json!({"work_type": "issue", "work_id": "42"}))),
            fixed(Reply::Text("Logged.".into())),
        ],
    );
    // Offer the MCP tools to the model directly rather than behind the client's tool search.
    let vars = [("ENABLE_TOOL_SEARCH", "false")];
    let run = run_claude_with(&env, &claude, &stand_in, &["Add rate limiting to the API"], &vars);
    let served = stand_in.finish();
    claude_result(&run);
    let turns = served.turns(&Messages);
    assert_eq!(turns.len(), 4, "{}", served.dump(&Messages));
    let offered: Vec<&str> = turns[0]["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        offered.contains(&"mcp__baton__session_log"),
        "the client offers baton's MCP tools: {offered:?}"
    );
    let id = hook_session_id(turns[0]).unwrap_or_else(|| panic!("no hook context\n{}", served.dump(&Messages)));
    for (i, turn) in turns.iter().enumerate().skip(1) {
        let results = tool_results(turn);
        assert_eq!(results.len(), 1, "turn {i}\n{}", served.dump(&Messages));
        assert!(!results[0].0, "turn {i}: the tool failed: {results:?}");
        assert!(results[0].1.contains(&id), "turn {i} acts on session {id}: {results:?}");
    }
    assert!(
        tool_results(turns[2])[0].1.contains("no second session"),
        "{:?}",
        tool_results(turns[2])
    );
    let listed = sessions(&env);
    assert_eq!(
        listed.len(),
        2,
        "the other window's and this conversation's, no third: {listed:?}"
    );
    let v = view(&env, &id);
    assert_has("progress", &entries(&v, "progress"), PROGRESS);
    let claims = v["claims"].as_array().cloned().unwrap_or_default();
    assert!(claims.iter().any(|c| c["item_id"] == "42"), "{v}");
}

/// `/compact` keeps the conversation id and `/clear` starts a new one; both keep the conversation's baton session.
#[test]
#[cfg_attr(
    not(baton_test_claude),
    ignore = "needs Claude Code: set BATON_TEST_CLAUDE=/path/to/claude (install: see README)"
)]
fn compact_and_clear_keep_the_conversations_baton_session() {
    let claude = claude_client();
    let env = Env::new();
    setup_claude(&env);
    let (conversation, id) = conversation_one(&env, &claude);

    // /compact: PreCompact, then SessionStart(compact) under the same conversation id.
    let stand_in = StandIn::start(Messages, vec![]);
    let run = run_claude(&env, &claude, &stand_in, &["/compact", "--resume", &conversation]);
    stand_in.finish();
    assert_eq!(
        claude_result(&run)["session_id"],
        conversation.as_str(),
        "the same conversation"
    );
    let v = view(&env, &id);
    assert_eq!(v["session"]["compaction_count"], 1, "{v}");
    assert_only_session(
        &env,
        &id,
        "claude-code",
        "Add rate limiting to the API",
        "the first prompt is the goal",
    );

    // /clear: a new conversation id, which continues the same baton session.
    let stand_in = StandIn::start(Messages, vec![]);
    let run = run_claude(&env, &claude, &stand_in, &["/clear", "--resume", &conversation]);
    stand_in.finish();
    let cleared = claude_result(&run)["session_id"]
        .as_str()
        .expect("session_id")
        .to_string();
    assert_ne!(cleared, conversation, "/clear starts a new conversation");
    assert_only_session(
        &env,
        &id,
        "claude-code",
        "Add rate limiting to the API",
        "the first prompt is the goal",
    );

    // The cleared conversation, resumed, is on the same session and is told its next step.
    let stand_in = StandIn::start(Messages, vec![fixed(Reply::Text("Wiring it.".into()))]);
    let run = run_claude(&env, &claude, &stand_in, &["--resume", &cleared, "go on"]);
    let served = stand_in.finish();
    claude_result(&run);
    let turns = served.turns(&Messages);
    assert_eq!(turns.len(), 1, "{}", served.dump(&Messages));
    assert_eq!(
        hook_session_id(turns[0]).as_deref(),
        Some(id.as_str()),
        "{}",
        served.dump(&Messages)
    );
    assert!(
        session_start_contexts(turns[0]).iter().any(|c| c.contains(NEXT)),
        "{}",
        served.dump(&Messages)
    );
    assert_only_session(
        &env,
        &id,
        "claude-code",
        "Add rate limiting to the API",
        "the first prompt is the goal",
    );
}

/// A message that arrives while the model works reaches it with the next request, through the PostToolUse
/// hook's `additionalContext`, once: the request after that does not carry it again.
#[test]
#[cfg_attr(
    not(baton_test_claude),
    ignore = "needs Claude Code: set BATON_TEST_CLAUDE=/path/to/claude (install: see README)"
)]
fn a_message_sent_while_the_model_works_reaches_it_once() {
    let claude = claude_client();
    let env = Env::new();
    setup_claude(&env);
    let bob = env.start("bob", "auth API");
    const NEWS: &str = "AuthContext is merged in src/auth/context.py";
    let stand_in = StandIn::start(
        Messages,
        vec![
            // Another agent's message arrives while this turn's tool runs.
            fixed(bash(&format!(
                "BATON_AGENT=bob baton send --session {bob} --to claude-code --type interface_ready \"{NEWS}\""
            ))),
            fixed(bash("echo working")),
            fixed(Reply::Text("Using the merged AuthContext.".into())),
        ],
    );
    let run = run_claude(&env, &claude, &stand_in, &["Wire the login page to the auth API"]);
    let served = stand_in.finish();
    claude_result(&run);
    let turns = served.turns(&Messages);
    assert_eq!(turns.len(), 3, "three turns\n{}", served.dump(&Messages));
    let carries = |i: usize| {
        conversation_texts(turns[i])
            .iter()
            .filter(|t| t.contains("PostToolUse") && t.contains(NEWS) && t.contains("from bob"))
            .count()
    };
    assert_eq!(carries(0), 0, "not before it was sent\n{}", served.dump(&Messages));
    assert!(
        carries(1) >= 1,
        "the PostToolUse hook's answer reached the model with the next request\n{}",
        served.dump(&Messages)
    );
    assert_eq!(
        carries(2),
        carries(1),
        "told once: the next tool's hook added nothing more\n{}",
        served.dump(&Messages)
    );
}

/// A request addressed to the session that is pending when the model ends its turn keeps Claude Code going once:
/// the Stop hook's `{"decision":"block"}` sends the model another request with the reason, and the second stop
/// goes through.
#[test]
#[cfg_attr(
    not(baton_test_claude),
    ignore = "needs Claude Code: set BATON_TEST_CLAUDE=/path/to/claude (install: see README)"
)]
fn a_pending_request_holds_the_stop_once() {
    const ASK: &str = "review the auth PR #16";
    let claude = claude_client();
    let env = std::sync::Arc::new(Env::new());
    setup_claude(&env);
    let bob = env.start("bob", "auth API");
    let asker = env.clone();
    let stand_in = StandIn::start(
        Messages,
        vec![
            // While the model writes its last answer, another agent asks this session for a review.
            in_session(hook_session_id, texts, move |id| {
                asker
                    .run_as(
                        "bob",
                        &["request", "--session", &bob, "--to", id, "--type", "review", ASK],
                    )
                    .ok();
                Reply::Text("The login page is wired.".into())
            }),
            fixed(Reply::Text("Accepted the review request.".into())),
        ],
    );
    let run = run_claude(&env, &claude, &stand_in, &["Wire the login page to the auth API"]);
    let served = stand_in.finish();
    let result = claude_result(&run);
    assert_eq!(result["result"], "Accepted the review request.", "{result}");
    // The client passes the reason as "Stop hook feedback:" in a user message (and repeats it in a system
    // entry of the same request, "Stop hook blocking error from command: ...").
    let held = |req: &Value| {
        conversation_texts(req)
            .into_iter()
            .filter(|t| t.contains("Stop hook feedback:") && t.contains("before you stop") && t.contains(ASK))
            .collect::<Vec<_>>()
    };
    served.assert_stop_held_once(&Messages, "Stop", held);
}
