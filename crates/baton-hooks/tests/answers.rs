//! Every hook answer, word for word: one conversation after another through each event, on a real store with a
//! clock the test moves. Session ids and the store's paths are replaced by stable names before comparing.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use baton_core::config::Policy;
use baton_core::{Baton, Caller, ClaimRequest, EndRequest, EntryKind, LogRequest, Project, StartRequest, Timestamp};
use baton_hooks::{handle, parse_input};
use insta::assert_snapshot;
use serde_json::{Value, json};

/// 2026-12-01T09:00:00Z
const T0: i64 = 1_764_579_600_000_000;

struct World {
    baton: Baton,
    caller: Caller,
    dir: tempfile::TempDir,
    clock: Arc<AtomicI64>,
    /// Session ids in the order they were first seen, named `<session 1>`, `<session 2>`…
    ids: std::cell::RefCell<Vec<String>>,
}

impl World {
    fn new(agent: &str) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = baton_sqlite::SqliteStore::open(&dir.path().join("baton.db")).expect("store");
        let clock = Arc::new(AtomicI64::new(T0));
        let read = clock.clone();
        let baton = Baton::new(Box::new(store), Policy::default())
            .with_clock(Arc::new(move || Timestamp(read.load(Ordering::SeqCst))));
        let caller = Caller {
            project: Project::resolve(dir.path(), None, Some("github.com/org/app")),
            agent: agent.to_string(),
            session: None,
        };
        World {
            baton,
            caller,
            dir,
            clock,
            ids: Default::default(),
        }
    }

    fn later(&self, minutes: i64) {
        self.clock.fetch_add(minutes * 60_000_000, Ordering::SeqCst);
    }

    /// Runs one hook call and returns its answer as the test reads it.
    fn hook(&self, client: &str, conversation: &str, event: &str, extra: Value) -> String {
        let mut p = json!({"session_id": conversation, "hook_event_name": event, "cwd": self.dir.path()});
        if let (Some(p), Some(extra)) = (p.as_object_mut(), extra.as_object()) {
            p.extend(extra.clone());
        }
        let input = parse_input(client, p.to_string().as_bytes(), None).expect("payload");
        let state = self.dir.path().join("hooks");
        let answer = handle(&self.baton, &self.caller, &input, &state).expect("hook");
        self.readable(&answer.stdout)
    }

    /// The session a conversation is on, for the commands the test runs as the agent.
    fn session(&self, n: usize) -> Caller {
        Caller {
            session: Some(self.ids.borrow()[n - 1].clone().into()),
            ..self.caller.clone()
        }
    }

    fn log(&self, n: usize, kind: EntryKind, text: &str) {
        let req = LogRequest {
            kind: kind.into(),
            text: text.to_string(),
            rationale: None,
            supersedes: None,
            idempotency_key: None,
        };
        self.baton.log(&self.session(n), req).expect("log");
    }

    fn claim(&self, n: usize, id: &str) {
        let req = ClaimRequest {
            item_type: "issue".to_string(),
            item_id: id.to_string(),
            repo: None,
            ttl: None,
            idempotency_key: None,
            new_type: false,
        };
        self.baton.claim(&self.session(n), req).expect("claim");
    }

    /// The JSON answer with its text unescaped, and ids and paths named.
    fn readable(&self, stdout: &str) -> String {
        let v: Value = serde_json::from_str(stdout).expect("one JSON object");
        let mut out = String::new();
        fn walk(v: &Value, path: &str, out: &mut String) {
            match v {
                Value::Object(m) if m.is_empty() => out.push_str(&format!("{path}{{}}\n")),
                Value::Object(m) => {
                    for (k, v) in m {
                        walk(v, &format!("{path}{k}."), out);
                    }
                }
                Value::String(s) => out.push_str(&format!("{}:\n{s}\n", path.trim_end_matches('.'))),
                other => out.push_str(&format!("{}: {other}\n", path.trim_end_matches('.'))),
            }
        }
        walk(&v, "", &mut out);
        self.name_ids(&out)
            .replace(&self.dir.path().display().to_string(), "<dir>")
    }

    fn name_ids(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some((at, id)) = find_uuid(rest) {
            out.push_str(&rest[..at]);
            let mut ids = self.ids.borrow_mut();
            let n = match ids.iter().position(|i| i == id) {
                Some(n) => n + 1,
                None => {
                    ids.push(id.to_string());
                    ids.len()
                }
            };
            out.push_str(&format!("<session {n}>"));
            rest = &rest[at + 36..];
        }
        out.push_str(rest);
        out
    }
}

fn find_uuid(s: &str) -> Option<(usize, &str)> {
    let b = s.as_bytes();
    (0..b.len().saturating_sub(35)).find_map(|i| {
        let w = s.get(i..i + 36)?;
        let shape = w.char_indices().all(|(j, c)| match j {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
        shape.then_some((i, w))
    })
}

fn none() -> Value {
    json!({})
}

#[test]
fn claude_code_from_one_conversation_to_the_next() {
    let w = World::new("claude-code");
    let start = |conv: &str, source: &str| w.hook("claude", conv, "SessionStart", json!({"source": source}));
    let prompt = |conv: &str, text: &str| w.hook("claude", conv, "UserPromptSubmit", json!({"prompt": text}));

    assert_snapshot!(start("c1", "startup"), @r#"
hookSpecificOutput.hookEventName:
SessionStart
hookSpecificOutput.additionalContext:
baton session <session 1> started for claude-code in github.com/org/app. Log with `baton session log --session <session 1> --progress TEXT` (or --decision, --next, --blocker), claim work with `baton claim TYPE ID --session <session 1>`, and end with `baton session end --session <session 1> --summary TEXT --handoff TEXT`; baton's MCP tools take session_id <session 1>.

Project github.com/org/app — digest for claude-code
This is the first session in this project: there is no handoff yet.
"#);
    // The first prompt becomes the goal; nothing new to say.
    assert_snapshot!(prompt("c1", "Teach the tokenizer escaped quotes"), @r#"{}"#);

    w.log(1, EntryKind::Progress, "escaped quotes tokenize");
    w.log(1, EntryKind::Decision, "keep the lexer hand-written");
    w.log(1, EntryKind::Blocker, "CI runner has no network");
    w.log(1, EntryKind::Next, "cover unicode escapes");
    w.claim(1, "15");
    w.later(3);
    assert_snapshot!(prompt("c1", "where were we?"), @r#"
hookSpecificOutput.hookEventName:
UserPromptSubmit
hookSpecificOutput.additionalContext:
baton: context of session <session 1>. Log with `baton session log --session <session 1> --progress TEXT` (or --decision, --next, --blocker), claim work with `baton claim TYPE ID --session <session 1>`, and end with `baton session end --session <session 1> --summary TEXT --handoff TEXT`; baton's MCP tools take session_id <session 1>.

Session <session 1> — claude-code — active
Started 3m ago, last seen 3m ago

Goal: Teach the tokenizer escaped quotes
TL;DR: Teach the tokenizer escaped quotes — 1 progress, 0 done, 1 decision, 1 blocker, 1 claim held; latest: escaped quotes tokenize; next: cover unicode escapes

Progress:
  - escaped quotes tokenize (3m ago)

Decisions:
  - keep the lexer hand-written (3m ago)

Blockers:
  - CI runner has no network (3m ago)

Next steps:
  - cover unicode escapes (3m ago)

Claims held:
  issue github.com/org/app#15  claude-code (session <session 1>)  token 1  since 3m ago  expires in 27m
"#);
    assert_snapshot!(w.hook("claude", "c1", "Stop", none()), @r#"
systemMessage:
baton: this session still holds 1 claim(s): issue github.com/org/app#15. Release finished work with `baton release TYPE ID --status completed --session <session 1>`; for work that goes on, log what is left with `baton session log --session <session 1> --next TEXT`.
"#);
    // Said once; with the next prompt the agent hears it too.
    assert_snapshot!(w.hook("claude", "c1", "Stop", none()), @r#"{}"#);
    assert_snapshot!(prompt("c1", "add a test for it"), @r#"
hookSpecificOutput.hookEventName:
UserPromptSubmit
hookSpecificOutput.additionalContext:
baton: this session still holds 1 claim(s): issue github.com/org/app#15. Release finished work with `baton release TYPE ID --status completed --session <session 1>`; for work that goes on, log what is left with `baton session log --session <session 1> --next TEXT`. (said at the end of your last turn)
"#);

    assert_snapshot!(w.hook("claude", "c1", "PreCompact", json!({"trigger": "auto"})), @r#"
systemMessage:
baton: checkpointed session <session 1> before compaction #1; its context goes back to the agent after the compaction.
"#);
    assert_snapshot!(start("c1", "compact"), @r#"
hookSpecificOutput.hookEventName:
SessionStart
hookSpecificOutput.additionalContext:
baton session <session 1> continues (compact). Log with `baton session log --session <session 1> --progress TEXT` (or --decision, --next, --blocker), claim work with `baton claim TYPE ID --session <session 1>`, and end with `baton session end --session <session 1> --summary TEXT --handoff TEXT`; baton's MCP tools take session_id <session 1>.

Session <session 1> — claude-code — active
Started 3m ago, last seen 0s ago

Goal: Teach the tokenizer escaped quotes
TL;DR: Teach the tokenizer escaped quotes — 1 progress, 0 done, 1 decision, 1 blocker, 1 claim held; latest: escaped quotes tokenize; next: cover unicode escapes

Progress:
  - escaped quotes tokenize (3m ago)

Decisions:
  - keep the lexer hand-written (3m ago)

Blockers:
  - CI runner has no network (3m ago)

Next steps:
  - cover unicode escapes (3m ago)

Claims held:
  issue github.com/org/app#15  claude-code (session <session 1>)  token 1  since 3m ago  expires in 27m

Project github.com/org/app — digest for claude-code
This is the first session in this project: there is no handoff yet.
"#);
    assert_snapshot!(w.hook("claude", "c1", "SessionEnd", json!({"reason": "other"})), @r#"{}"#);

    // A new conversation the next morning continues the paused session.
    w.later(14 * 60);
    assert_snapshot!(start("c2", "startup"), @r#"
hookSpecificOutput.hookEventName:
SessionStart
hookSpecificOutput.additionalContext:
baton session <session 1> continues: this conversation picks up claude-code's unfinished session (it was paused). Log with `baton session log --session <session 1> --progress TEXT` (or --decision, --next, --blocker), claim work with `baton claim TYPE ID --session <session 1>`, and end with `baton session end --session <session 1> --summary TEXT --handoff TEXT`; baton's MCP tools take session_id <session 1>.

Session <session 1> — claude-code — active
Started 14h 3m ago, last seen 0s ago

Goal: Teach the tokenizer escaped quotes
TL;DR: Teach the tokenizer escaped quotes — 1 progress, 0 done, 1 decision, 1 blocker, 0 claims held, 1 with an expired lease; latest: escaped quotes tokenize; next: cover unicode escapes

Progress:
  - escaped quotes tokenize (14h 3m ago)

Decisions:
  - keep the lexer hand-written (14h 3m ago)

Blockers:
  - CI runner has no network (14h 3m ago)

Next steps:
  - cover unicode escapes (14h 3m ago)

Claims whose lease expired (claim again before working on them; another session may take them):
  issue github.com/org/app#15  claude-code (session <session 1>)  token 1  since 14h 3m ago  EXPIRED 13h 33m ago

Project github.com/org/app — digest for claude-code
This is the first session in this project: there is no handoff yet.
"#);
    assert_snapshot!(prompt("c2", "continue"), @r#"
hookSpecificOutput.hookEventName:
UserPromptSubmit
hookSpecificOutput.additionalContext:
baton: context of session <session 1>. Log with `baton session log --session <session 1> --progress TEXT` (or --decision, --next, --blocker), claim work with `baton claim TYPE ID --session <session 1>`, and end with `baton session end --session <session 1> --summary TEXT --handoff TEXT`; baton's MCP tools take session_id <session 1>.

Session <session 1> — claude-code — active
Started 14h 3m ago, last seen 0s ago

Goal: Teach the tokenizer escaped quotes
TL;DR: Teach the tokenizer escaped quotes — 1 progress, 0 done, 1 decision, 1 blocker, 0 claims held, 1 with an expired lease; latest: escaped quotes tokenize; next: cover unicode escapes

Progress:
  - escaped quotes tokenize (14h 3m ago)

Decisions:
  - keep the lexer hand-written (14h 3m ago)

Blockers:
  - CI runner has no network (14h 3m ago)

Next steps:
  - cover unicode escapes (14h 3m ago)

Claims whose lease expired (claim again before working on them; another session may take them):
  issue github.com/org/app#15  claude-code (session <session 1>)  token 1  since 14h 3m ago  EXPIRED 13h 33m ago
"#);
}

#[test]
fn claude_code_lease_notices() {
    let w = World::new("claude-code");
    w.hook("claude", "c1", "SessionStart", json!({"source": "startup"}));
    w.claim(1, "15");
    w.later(26);
    let prompt = || w.hook("claude", "c1", "UserPromptSubmit", json!({"prompt": "next"}));
    assert_snapshot!(prompt(), @r#"
hookSpecificOutput.hookEventName:
UserPromptSubmit
hookSpecificOutput.additionalContext:
baton: your claim on issue github.com/org/app#15 expires in 4m; run `baton heartbeat --session <session 1>` to keep it.
"#);
    assert_snapshot!(prompt(), @r#"{}"#);
}

#[test]
fn a_handoff_left_while_the_conversation_runs_is_one_line() {
    let w = World::new("claude-code");
    w.hook("claude", "c1", "SessionStart", json!({"source": "startup"}));
    let prompt = || w.hook("claude", "c1", "UserPromptSubmit", json!({"prompt": "next"}));
    assert_snapshot!(prompt(), @r#"{}"#);
    // Another agent works beside it and ends with a handoff.
    w.later(5);
    let bob = Caller {
        agent: "bob".to_string(),
        ..w.caller.clone()
    };
    let start = StartRequest {
        context: Some("schema migration".to_string()),
        name: None,
        task_ids: vec![],
        role: None,
        idempotency_key: None,
    };
    let started = w.baton.start_session(&bob, start).expect("bob starts");
    let end = EndRequest {
        summary: Some("migrated the users table".to_string()),
        handoff: Some("run the backfill before deploying".to_string()),
        next: vec![],
        blockers: vec![],
        done: vec![],
        idempotency_key: None,
    };
    let bob = Caller {
        session: Some(started.session_id),
        ..bob
    };
    w.baton.end_session(&bob, end).expect("bob ends");
    w.later(1);
    assert_snapshot!(prompt(), @r#"
hookSpecificOutput.hookEventName:
UserPromptSubmit
hookSpecificOutput.additionalContext:
baton: bob ended a session here: run the backfill before deploying
"#);
    assert_snapshot!(prompt(), @r#"{}"#);
}

#[test]
fn codex_compaction_comes_back_with_the_next_prompt() {
    let w = World::new("codex");
    assert_snapshot!(w.hook("codex", "x1", "SessionStart", json!({"source": "startup"})), @r#"
hookSpecificOutput.hookEventName:
SessionStart
hookSpecificOutput.additionalContext:
baton session <session 1> started for codex in github.com/org/app. Log with `baton session log --session <session 1> --progress TEXT` (or --decision, --next, --blocker), claim work with `baton claim TYPE ID --session <session 1>`, and end with `baton session end --session <session 1> --summary TEXT --handoff TEXT`; baton's MCP tools take session_id <session 1>.

Project github.com/org/app — digest for codex
This is the first session in this project: there is no handoff yet.
"#);
    w.log(1, EntryKind::Progress, "split the lexer");
    w.log(1, EntryKind::Next, "merge the lexer branch");
    assert_snapshot!(w.hook("codex", "x1", "PreCompact", json!({"trigger": "auto"})), @r#"
systemMessage:
baton: checkpointed session <session 1> before compaction #1; its context goes back to the agent after the compaction.
"#);
    assert_snapshot!(w.hook("codex", "x1", "PostCompact", json!({"trigger": "auto"})), @r#"{}"#);
    assert_snapshot!(w.hook("codex", "x1", "UserPromptSubmit", json!({"prompt": "go on with the merge"})), @r#"
hookSpecificOutput.hookEventName:
UserPromptSubmit
hookSpecificOutput.additionalContext:
baton: the conversation was compacted; session <session 1> continues. Log with `baton session log --session <session 1> --progress TEXT` (or --decision, --next, --blocker), claim work with `baton claim TYPE ID --session <session 1>`, and end with `baton session end --session <session 1> --summary TEXT --handoff TEXT`; baton's MCP tools take session_id <session 1>.

Session <session 1> — codex — active
Started 0s ago, last seen 0s ago

Goal: (none given)
TL;DR: (no goal given) — 1 progress, 0 done, 0 decisions, 0 blockers, 0 claims held; latest: split the lexer; next: merge the lexer branch

Progress:
  - split the lexer (0s ago)

Next steps:
  - merge the lexer branch (0s ago)
"#);
    assert_snapshot!(w.hook("codex", "x1", "Stop", none()), @r#"{}"#);
}

#[test]
fn codex_continue_right_after_the_last_conversation_takes_up_its_session() {
    // Codex sends no end of conversation: the last session is still active when the next conversation starts.
    let w = World::new("codex");
    w.hook("codex", "x1", "SessionStart", json!({"source": "startup"}));
    w.hook(
        "codex",
        "x1",
        "UserPromptSubmit",
        json!({"prompt": "Add rate limiting"}),
    );
    w.log(1, EntryKind::Progress, "limiter skeleton");
    w.log(1, EntryKind::Next, "wire the limiter into the router");
    w.later(2);
    assert_snapshot!(w.hook("codex", "x2", "SessionStart", json!({"source": "startup"})), @r#"
hookSpecificOutput.hookEventName:
SessionStart
hookSpecificOutput.additionalContext:
baton session <session 2> started for codex in github.com/org/app. Log with `baton session log --session <session 2> --progress TEXT` (or --decision, --next, --blocker), claim work with `baton claim TYPE ID --session <session 2>`, and end with `baton session end --session <session 2> --summary TEXT --handoff TEXT`; baton's MCP tools take session_id <session 2>.

Project github.com/org/app — digest for codex
No session of this project has left a handoff yet.

Other open sessions:
  codex [active] Add rate limiting — seen 2m ago (session <session 1>)

0 changes since your previous session here (2m ago).
"#);
    assert_snapshot!(w.hook("codex", "x2", "UserPromptSubmit", json!({"prompt": "continue where we left off"})), @r#"
hookSpecificOutput.hookEventName:
UserPromptSubmit
hookSpecificOutput.additionalContext:
baton session <session 1> continues: this conversation picks up codex's unfinished session (it was active). Log with `baton session log --session <session 1> --progress TEXT` (or --decision, --next, --blocker), claim work with `baton claim TYPE ID --session <session 1>`, and end with `baton session end --session <session 1> --summary TEXT --handoff TEXT`; baton's MCP tools take session_id <session 1>.

Session <session 1> — codex — active
Started 2m ago, last seen 0s ago

Goal: Add rate limiting
TL;DR: Add rate limiting — 1 progress, 0 done, 0 decisions, 0 blockers, 0 claims held; latest: limiter skeleton; next: wire the limiter into the router

Progress:
  - limiter skeleton (2m ago)

Next steps:
  - wire the limiter into the router (2m ago)

Project github.com/org/app — digest for codex
This is the first session in this project: there is no handoff yet.

0 changes since your previous session here (0s ago).
"#);
    // The empty session the second conversation started was folded, not left behind.
    let list = w.baton.list_sessions(&w.caller, None, false, None).expect("list");
    let states: Vec<String> = list
        .sessions
        .iter()
        .map(|s| format!("{} {}", w.name_ids(&s.id), s.status))
        .collect();
    assert_eq!(states, ["<session 2> abandoned", "<session 1> active"]);
}

#[test]
fn gemini_cli_answers_in_its_own_event_names() {
    let w = World::new("gemini-cli");
    assert_snapshot!(w.hook("gemini", "g1", "SessionStart", json!({"source": "startup"})), @r#"
hookSpecificOutput.hookEventName:
SessionStart
hookSpecificOutput.additionalContext:
baton session <session 1> started for gemini-cli in github.com/org/app. Log with `baton session log --session <session 1> --progress TEXT` (or --decision, --next, --blocker), claim work with `baton claim TYPE ID --session <session 1>`, and end with `baton session end --session <session 1> --summary TEXT --handoff TEXT`; baton's MCP tools take session_id <session 1>.

Project github.com/org/app — digest for gemini-cli
This is the first session in this project: there is no handoff yet.
"#);
    w.log(1, EntryKind::Progress, "split the lexer");
    assert_snapshot!(w.hook("gemini", "g1", "BeforeAgent", json!({"prompt": "resume"})), @r#"
hookSpecificOutput.hookEventName:
BeforeAgent
hookSpecificOutput.additionalContext:
baton: context of session <session 1>. Log with `baton session log --session <session 1> --progress TEXT` (or --decision, --next, --blocker), claim work with `baton claim TYPE ID --session <session 1>`, and end with `baton session end --session <session 1> --summary TEXT --handoff TEXT`; baton's MCP tools take session_id <session 1>.

Session <session 1> — gemini-cli — active
Started 0s ago, last seen 0s ago

Goal: (none given)
TL;DR: (no goal given) — 1 progress, 0 done, 0 decisions, 0 blockers, 0 claims held; latest: split the lexer

Progress:
  - split the lexer (0s ago)
"#);
    // Gemini CLI sends this before every model request: not a compaction.
    assert_snapshot!(w.hook("gemini", "g1", "PreCompress", json!({"trigger": "auto"})), @r#"{}"#);
    assert_snapshot!(w.hook("gemini", "g1", "PreCompress", json!({"trigger": "manual"})), @r#"
systemMessage:
baton: checkpointed session <session 1> before compaction #1; its context goes back to the agent after the compaction.
"#);
    assert_snapshot!(w.hook("gemini", "g1", "BeforeAgent", json!({"prompt": "and now?"})), @r#"
hookSpecificOutput.hookEventName:
BeforeAgent
hookSpecificOutput.additionalContext:
baton: the conversation was compacted; session <session 1> continues. Log with `baton session log --session <session 1> --progress TEXT` (or --decision, --next, --blocker), claim work with `baton claim TYPE ID --session <session 1>`, and end with `baton session end --session <session 1> --summary TEXT --handoff TEXT`; baton's MCP tools take session_id <session 1>.

Session <session 1> — gemini-cli — active
Started 0s ago, last seen 0s ago

Goal: (none given)
TL;DR: (no goal given) — 1 progress, 0 done, 0 decisions, 0 blockers, 0 claims held; latest: split the lexer

Progress:
  - split the lexer (0s ago)
"#);
    assert_snapshot!(w.hook("gemini", "g1", "AfterAgent", none()), @r#"
systemMessage:
baton: session <session 1> has no next steps or handoff yet; log what is left with `baton session log --session <session 1> --next TEXT` so the next conversation can pick it up, or end it with `baton session end --session <session 1> --summary TEXT --handoff TEXT` when the work is done.
"#);
    assert_snapshot!(w.hook("gemini", "g1", "SessionEnd", json!({"reason": "exit"})), @r#"{}"#);
}

#[test]
fn paths_and_ids_are_named() {
    let w = World::new("a");
    let text = "x 0193aaaa-bbbb-7ccc-8ddd-eeeeffff0000 y 0193aaaa-bbbb-7ccc-8ddd-eeeeffff0001 z 0193aaaa-bbbb-7ccc-8ddd-eeeeffff0000";
    assert_eq!(w.name_ids(text), "x <session 1> y <session 2> z <session 1>");
}
