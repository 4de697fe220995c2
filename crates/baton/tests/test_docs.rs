//! Session documents through the real binary: rendering each layout, `--all`, determinism, lint exit codes,
//! import (agents and sessions documents, idempotent, all or nothing) and re-rendering after changes.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{Env, kinds};

/// Every file under `dir` (relative paths, sorted) with its bytes.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(list) = std::fs::read_dir(dir) else { return };
        for e in list.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap_or(&p).display().to_string();
                out.push((rel, std::fs::read(&p).expect("read file")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn read(env: &Env, rel: &str) -> String {
    std::fs::read_to_string(env.repo.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The paths a `doc render --json` wrote.
fn written(r: &Value) -> Vec<String> {
    r["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["path"].as_str().expect("path").to_string())
        .collect()
}

/// A session of claude-code with a claim and a bit of everything in its journal.
fn busy_session(env: &Env) -> String {
    let id = env.start("claude-code", "Auth refactor: JWT + refresh tokens");
    let log = |args: &[&str]| {
        let mut all = vec!["session", "log"];
        all.extend_from_slice(args);
        env.run_as("claude-code", &all).ok();
    };
    env.run_as("claude-code", &["claim", "issue", "15"]).ok();
    log(&[
        "--decision",
        "JWT for tokens",
        "--rationale",
        "stateless\n## not a heading",
    ]);
    log(&["--progress", "login endpoint returns tokens"]);
    log(&["--done", "schema migrated"]);
    log(&["--discovery", "old cookie code is dead"]);
    log(&["--blocker", "staging DB down"]);
    log(&["--next", "refresh-token tests"]);
    log(&["--note", "```\ncode\n```"]);
    env.run_as("claude-code", &["session", "checkpoint", "--note", "tests green"])
        .ok();
    id
}

#[test]
fn renders_each_layout() {
    let env = Env::new();
    let id = busy_session(&env);

    let r = env.run_as("claude-code", &["doc", "render", "--json"]);
    r.ok();
    let j = r.json();
    assert_eq!(j["layout"], "baton");
    assert_eq!(written(&j), [format!(".baton/sessions/{id}.md")]);
    let doc = read(&env, &format!(".baton/sessions/{id}.md"));
    assert!(
        doc.starts_with(&format!(
            "---\nid: {id}\nproject: github.com/org/app\nagent: claude-code\nstatus: active\n"
        )),
        "{doc}"
    );
    assert!(doc.contains("\n## Decisions\n\n- "), "{doc}");
    assert!(
        doc.contains(" — JWT for tokens\n  Rationale: stateless\n  \\## not a heading\n"),
        "{doc}"
    );
    assert!(
        doc.contains("\n## Claims\n\n- issue org/app#15 — held, token 1,"),
        "{doc}"
    );

    let r = env.run_as("claude-code", &["doc", "render", "--layout", "agents", "--json"]);
    r.ok();
    let files = written(&r.json());
    assert_eq!(files.len(), 1);
    let name = files[0].strip_prefix(".agents/sessions/").expect("agents dir");
    assert!(
        name.ends_with("-auth-refactor-jwt-refresh-tokens.md") && name.len() == 15 + 1 + 32 + 3,
        "{name}"
    );
    let doc = read(&env, &files[0]);
    assert!(
        doc.starts_with("---\nsession:\n  title: \"Auth refactor: JWT + refresh tokens\"\n  status: in_progress\n"),
        "{doc}"
    );
    assert!(doc.contains(&format!("  id: {id}\n  agent: claude-code\norchestration:\n  current_task: issue org/app#15\n  spawned_agents: []\n---\n")), "{doc}");
    let headings: Vec<&str> = doc.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(
        headings,
        [
            "## Context",
            "## Current State",
            "## Execution Progress",
            "## Decisions",
            "## Blockers",
            "## Next Steps",
            "## Session Log"
        ]
    );
    assert!(doc.contains(" - claude-code/checkpoint\n\ntests green\n"), "{doc}");

    let r = env.run_as("claude-code", &["doc", "render", "--layout", "sessions", "--json"]);
    r.ok();
    let files = written(&r.json());
    let short = "auth-refactor-jwt-refresh-tokens";
    assert_eq!(files[0], format!(".sessions/active/{short}-{id}.md"));
    assert_eq!(files[1], format!(".sessions/journal/{id}/progress.md"));
    assert_eq!(files.len(), 2 + 8, "one file per journal entry: {files:?}");
    let doc = read(&env, &files[0]);
    assert!(
        doc.contains(&format!(
            "---\nid: {id}\nshortname: {short}\nstatus: active\ntask_ids: []\n"
        )),
        "{doc}"
    );
    assert!(doc.contains("## TL;DR\n\nProgress: 1/2 steps done\n- [x] schema migrated\n- [ ] refresh-token tests <- CURRENT\n\nBlocker: staging DB down\n"), "{doc}");
    assert!(doc.contains("\ngit_branch: main\n"), "{doc}");
}

#[test]
fn renders_all_sessions_and_moves_ended_ones_to_the_archive() {
    let env = Env::new();
    let first = env.start("alice", "first task");
    env.run_as(
        "alice",
        &["session", "end", "--summary", "done", "--next", "second task"],
    )
    .ok();
    let second = env.start("bob", "second task");

    let r = env.run(&["doc", "render", "--all", "--layout", "sessions", "--json"]);
    r.ok();
    let j = r.json();
    assert_eq!(j["sessions"], 2);
    let files = written(&j);
    assert!(
        files.contains(&format!(".sessions/archive/first-task-{first}.md")),
        "{files:?}"
    );
    assert!(
        files.contains(&format!(".sessions/active/second-task-{second}.md")),
        "{files:?}"
    );
    let archived = read(&env, &format!(".sessions/archive/first-task-{first}.md"));
    assert!(
        archived.contains("\nsummary: done\nhandoff:\n  next:\n  - second task\n"),
        "{archived}"
    );

    // When the second session ends, its document moves from active/ to archive/.
    env.run_as("bob", &["session", "close", "--complete"]).ok();
    let r = env.run(&["doc", "render", "--all", "--layout", "sessions", "--json"]);
    r.ok();
    let actions: Vec<(String, String)> = r.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["action"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        actions.contains(&("removed".into(), format!(".sessions/active/second-task-{second}.md"))),
        "{actions:?}"
    );
    assert!(
        env.repo
            .join(format!(".sessions/archive/second-task-{second}.md"))
            .exists()
    );
    assert!(
        !env.repo
            .join(format!(".sessions/active/second-task-{second}.md"))
            .exists()
    );

    let r = env.run(&["doc", "render", "--all", "--json"]);
    r.ok();
    assert_eq!(
        written(&r.json()),
        [
            format!(".baton/sessions/{first}.md"),
            format!(".baton/sessions/{second}.md")
        ]
    );
    // One session, named by argument or by --session.
    let r = env.run(&["doc", "render", &second, "--json"]);
    assert_eq!(written(&r.json()), [format!(".baton/sessions/{second}.md")]);
    let r = env.run(&["doc", "render", "--session", &first, "--json"]);
    assert_eq!(written(&r.json()), [format!(".baton/sessions/{first}.md")]);
    // Text output names the files written.
    let r = env.run(&["doc", "render", "--all", "--layout", "agents"]);
    r.ok()
        .stdout_has("Rendered 2 sessions in the agents layout")
        .stdout_has("written   .agents/sessions/");
}

#[test]
fn rendering_twice_gives_the_same_bytes() {
    let env = Env::new();
    busy_session(&env);
    env.start("bob", "another");
    for layout in ["baton", "agents", "sessions"] {
        env.run(&["doc", "render", "--all", "--layout", layout]).ok();
    }
    let before = tree(&env.repo.join(".sessions"));
    let before_agents = tree(&env.repo.join(".agents"));
    let before_baton = tree(&env.repo.join(".baton"));
    for layout in ["baton", "agents", "sessions"] {
        let r = env.run(&["doc", "render", "--all", "--layout", layout, "--json"]);
        r.ok();
        for f in r.json()["files"].as_array().unwrap() {
            assert_eq!(f["action"], "unchanged", "{layout}: {f}");
        }
    }
    assert_eq!(tree(&env.repo.join(".sessions")), before);
    assert_eq!(tree(&env.repo.join(".agents")), before_agents);
    assert_eq!(tree(&env.repo.join(".baton")), before_baton);
    // Run from a subdirectory, documents still land at the top of the working tree.
    let sub = env.repo.join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    let r = crate::common::Run::from(
        env.cmd(&["doc", "render", "--all", "--layout", "agents", "--json"])
            .current_dir(&sub)
            .output()
            .unwrap(),
    );
    r.ok();
    assert!(!sub.join(".agents").exists());
    assert_eq!(tree(&env.repo.join(".agents")), before_agents);
}

#[test]
fn render_errors() {
    let env = Env::new();
    env.run(&["doc", "render", "--layout", "wiki"])
        .code(2)
        .stderr_has("unknown document layout 'wiki': expected one of baton, agents, sessions");
    env.run(&["doc", "render"]).code(4).stderr_has("no active session");
    env.run(&["doc", "render", "not-a-uuid"])
        .code(2)
        .stderr_has("invalid session id 'not-a-uuid'");
    env.run(&["doc", "render", "019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b"])
        .code(4);
    let r = env.run(&["doc", "render", "--layout", "wiki", "--json"]);
    r.code(2);
    assert_eq!(r.json()["error"]["kind"], "bad_input");
}

const BROKEN: &str = "---
session:
  title: Payments
  status: finished
  created: 2026-10-01T09:00:00Z
  last_updated: 2026-10-01T10:00:00Z
orchestration:
  current_task: null
  spawned_agents: []
---

# Payments

## Context

Retries.

## Next Steps

- backoff
";

#[test]
fn lint_exit_codes_and_problems() {
    let env = Env::new();
    busy_session(&env);
    // Nothing to lint yet is not a failure.
    env.run(&["doc", "lint"]).ok().stdout_has("No documents to lint");
    env.run(&["doc", "render", "--all", "--layout", "agents"]).ok();
    env.run(&["doc", "lint"])
        .ok()
        .stdout_has("1 document checked: no problems.");

    let dir = env.repo.join(".agents/sessions");
    std::fs::write(dir.join("payments.md"), BROKEN).unwrap();
    let r = env.run(&["doc", "lint"]);
    r.code(2)
        .stdout_has(".agents/sessions/payments.md:1: file name 'payments.md' is not YYYYMMDD-HHMMSS-<slug>.md")
        .stdout_has(".agents/sessions/payments.md:4: unknown status 'finished' in `session.status`: expected one of in_progress, paused, completed [allowed-value]")
        .stdout_has(".agents/sessions/payments.md:20: the document has no `## Current State` section [required-section]")
        .stdout_has("2 documents checked: 3 problems.");

    let r = env.run(&["doc", "lint", ".agents/sessions/payments.md", "--json"]);
    r.code(2);
    let j = r.json();
    assert_eq!(j["files_checked"], 1);
    let problems: Vec<(u64, String)> = j["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["file"], ".agents/sessions/payments.md");
            assert!(p["message"].as_str().is_some_and(|m| !m.is_empty()));
            (p["line"].as_u64().unwrap(), p["rule"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(
        problems,
        [
            (1, "file-name".to_string()),
            (4, "allowed-value".to_string()),
            (20, "required-section".to_string())
        ]
    );

    std::fs::remove_file(dir.join("payments.md")).unwrap();
    let r = env.run(&["doc", "lint", "--json"]);
    r.ok();
    assert_eq!(r.json()["problems"], Value::Array(vec![]));
    env.run(&["doc", "lint", "missing.md"])
        .code(4)
        .stderr_has("no such file or directory: missing.md");
}

const HAND_WRITTEN: &str = "---
session:
  title: Payments retry logic
  status: paused
  created: 2026-10-01T09:00:00Z
  last_updated: 2026-10-02T17:30:00Z
  linear_issue: PAY-7
  linear_url: https://linear.app/acme/issue/PAY-7
orchestration:
  current_task: backoff schedule
  spawned_agents:
    - agent: test-writer
      task: property tests for backoff
      status: completed
      summary: 12 tests added
---

# Payments retry logic

## Context

Retries are ad hoc; make them exponential with jitter.

## Current State

Backoff works; waiting on review.

## Execution Progress

- [x] backoff function
- benchmarks run

## Decisions

- Full jitter
  Rationale: AWS article

## Blockers

_None._

## Next Steps

- wire into the client

## Session Log

### 2026-10-01 09:00 - claude/progress
Started reading the client.

### 2026-10-01 10:15 - claude/decision
Full jitter
Rationale: AWS article
";

/// Copies the files of `from` under `rel` into `to` at the same place.
fn copy_tree(from: &Path, to: &Path, rel: &str) -> Vec<PathBuf> {
    let mut copied = Vec::new();
    for (path, bytes) in tree(&from.join(rel)) {
        let dest = to.join(rel).join(&path);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(&dest, bytes).unwrap();
        copied.push(PathBuf::from(rel).join(path));
    }
    copied
}

#[test]
fn import_then_render_gives_back_the_same_documents() {
    // A team renders its sessions in both layouts; another store imports those files and renders them again.
    let a = Env::new();
    busy_session(&a);
    a.run_as(
        "bob",
        &["session", "start", "--context", "billing", "--name", "billing"],
    )
    .ok();
    a.run_as("bob", &["session", "log", "--progress", "invoices"]).ok();
    a.run_as(
        "bob",
        &[
            "session",
            "end",
            "--summary",
            "billing done",
            "--handoff",
            "ship on Monday",
            "--next",
            "deploy",
        ],
    )
    .ok();
    a.run(&["doc", "render", "--all", "--layout", "agents"]).ok();
    a.run(&["doc", "render", "--all", "--layout", "sessions"]).ok();

    for layout in ["agents", "sessions"] {
        let b = Env::new();
        let dir = if layout == "agents" { ".agents" } else { ".sessions" };
        copy_tree(&a.repo, &b.repo, dir);
        let sources = if layout == "agents" {
            vec![".agents/sessions".to_string()]
        } else {
            vec![".sessions/active".to_string(), ".sessions/archive".to_string()]
        };
        let mut args = vec!["doc", "import"];
        args.extend(sources.iter().map(String::as_str));
        args.push("--json");
        let r = b.run(&args);
        r.ok();
        let imported = r.json()["sessions"].as_array().unwrap().clone();
        assert_eq!(imported.len(), 2, "{layout}");
        assert!(imported.iter().all(|s| s["imported"] == true));

        // The journal came along, with its entries.
        let list = b.run(&["session", "list", "--json"]).json();
        assert_eq!(list["sessions"].as_array().unwrap().len(), 2);

        std::fs::remove_dir_all(b.repo.join(dir)).unwrap();
        b.run(&["doc", "render", "--all", "--layout", layout]).ok();
        assert_eq!(tree(&b.repo.join(dir)), tree(&a.repo.join(dir)), "{layout}");

        // Importing the same documents again changes nothing.
        let r = b.run(&args);
        r.ok();
        assert!(
            r.json()["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["imported"] == false)
        );
        let list = b.run(&["session", "list", "--json"]).json();
        assert_eq!(list["sessions"].as_array().unwrap().len(), 2);
        let imports: Vec<String> = kinds(&b.all_events())
            .into_iter()
            .filter(|k| k == "session.imported")
            .collect();
        assert_eq!(imports.len(), 2, "{layout}: one event per imported session");
    }
}

#[test]
fn import_hand_written_agents_document() {
    let env = Env::new();
    let dir = env.repo.join(".agents/sessions");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("20261001-090000-payments-retry.md");
    std::fs::write(&file, HAND_WRITTEN).unwrap();
    let r = env.run(&[
        "doc",
        "import",
        ".agents/sessions/20261001-090000-payments-retry.md",
        "--json",
    ]);
    r.ok();
    let s = &r.json()["sessions"][0];
    assert_eq!(s["imported"], true);
    assert_eq!(s["entries"], 5);
    let id = s["session_id"].as_str().unwrap().to_string();

    let view = env.run(&["session", "view", &id, "--json"]).json();
    assert_eq!(view["session"]["agent"], "claude");
    assert_eq!(view["session"]["status"], "paused");
    assert_eq!(view["session"]["created_at"], "2026-10-01T09:00:00Z");
    assert_eq!(view["session"]["task_ids"], serde_json::json!(["PAY-7"]));
    assert_eq!(view["session"]["summary"], "Backoff works; waiting on review.");
    assert_eq!(view["decisions"][0]["rationale"], "AWS article");

    // Importing it again (under any form of its path) does not duplicate it.
    let r = env.run(&["doc", "import", ".agents/sessions/", "--json"]);
    r.ok();
    assert_eq!(r.json()["sessions"][0]["imported"], false);
    assert_eq!(r.json()["sessions"][0]["session_id"], id.as_str());
    let list = env.run(&["session", "list", "--json"]).json();
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1);

    // Rendered back, it keeps everything it had; rendering that again is stable.
    std::fs::remove_file(&file).unwrap();
    env.run(&["doc", "render", &id, "--layout", "agents"]).ok();
    let doc = std::fs::read_to_string(&file).expect("same file name");
    for needle in [
        "  title: Payments retry logic\n  status: paused\n  created: \"2026-10-01T09:00:00Z\"\n  last_updated: \"2026-10-02T17:30:00Z\"\n  linear_issue: PAY-7\n  linear_url: https://linear.app/acme/issue/PAY-7\n",
        "  current_task: backoff schedule\n  spawned_agents:\n  - agent: test-writer\n    task: property tests for backoff\n    status: completed\n    summary: 12 tests added\n",
        "## Current State\n\nBackoff works; waiting on review.\n",
        "## Execution Progress\n\n- Started reading the client.\n- [x] backoff function\n- benchmarks run\n",
        "### 2026-10-01 10:15 - claude/decision\n\nFull jitter\nRationale: AWS article\n",
    ] {
        assert!(doc.contains(needle), "missing {needle:?} in\n{doc}");
    }
    env.run(&["doc", "lint"]).ok();
}

#[test]
fn malformed_documents_import_nothing() {
    let env = Env::new();
    let dir = env.repo.join("docs");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("20261001-090000-good.md"), HAND_WRITTEN).unwrap();
    std::fs::write(dir.join("20261001-090000-yaml.md"), "---\nsession:\n  title: [x\n---\n").unwrap();
    let r = env.run(&["doc", "import", "docs"]);
    r.code(2)
        .stderr_has("docs/20261001-090000-yaml.md:3: malformed YAML frontmatter");
    assert_eq!(
        env.run(&["session", "list", "--json"]).json()["sessions"],
        Value::Array(vec![])
    );

    std::fs::write(dir.join("20261001-090000-yaml.md"), BROKEN).unwrap();
    let r = env.run(&["doc", "import", "docs", "--json"]);
    r.code(2);
    let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        msg.starts_with("docs/20261001-090000-yaml.md:4: unknown status 'finished'"),
        "{msg}"
    );

    std::fs::write(
        dir.join("20261001-090000-yaml.md"),
        HAND_WRITTEN.replace("## Current State", "## Status"),
    )
    .unwrap();
    env.run(&["doc", "import", "docs"])
        .code(2)
        .stderr_has("the document has no `## Current State` section [required-section]");
    env.run(&["doc", "import", "nowhere.md"]).code(4);
    env.run(&["doc", "import", "docs", "--layout", "baton"])
        .code(2)
        .stderr_has("not imported");
    assert_eq!(
        env.run(&["session", "list", "--json"]).json()["sessions"],
        Value::Array(vec![])
    );
}

#[test]
fn documents_follow_changes_when_auto_is_on() {
    let env = Env::new();
    std::fs::create_dir_all(env.repo.join(".baton")).unwrap();
    std::fs::write(
        env.repo.join(".baton/config.toml"),
        "[docs]\nauto = true\nlayout = \"agents\"\n",
    )
    .unwrap();
    let id = env.start("claude-code", "auto docs");
    let dir = env.repo.join(".agents/sessions");
    let file = || {
        let files = tree(&dir);
        assert_eq!(files.len(), 1, "{files:?}");
        dir.join(&files[0].0)
    };
    let doc = std::fs::read_to_string(file()).unwrap();
    assert!(
        doc.contains(&format!("  id: {id}\n")) && doc.contains("Nothing logged yet."),
        "{doc}"
    );

    env.run_as("claude-code", &["session", "log", "--progress", "step one"])
        .ok();
    assert!(
        std::fs::read_to_string(file()).unwrap().contains("Latest progress ("),
        "rendered after log"
    );
    env.run_as("claude-code", &["claim", "issue", "7"]).ok();
    assert!(
        std::fs::read_to_string(file())
            .unwrap()
            .contains("current_task: issue org/app#7")
    );
    env.run_as("claude-code", &["release", "issue", "7", "--status", "completed"])
        .ok();
    assert!(std::fs::read_to_string(file()).unwrap().contains("current_task: null"));
    env.run_as("claude-code", &["session", "end", "--summary", "all done"])
        .ok();
    let doc = std::fs::read_to_string(file()).unwrap();
    assert!(
        doc.contains("  status: completed\n") && doc.contains("## Current State\n\nall done\n"),
        "{doc}"
    );

    // Reading commands write nothing.
    std::fs::remove_file(file()).unwrap();
    env.run(&["session", "list"]).ok();
    env.run(&["digest"]).ok();
    assert!(tree(&dir).is_empty());

    // A document that cannot be written warns; the command still succeeds.
    std::fs::remove_dir_all(env.repo.join(".agents")).unwrap();
    std::fs::write(env.repo.join(".agents"), "not a directory").unwrap();
    env.start("claude-code", "second");
    let r = env.run_as("claude-code", &["session", "log", "--progress", "still works"]);
    r.ok()
        .stderr_has("warning: the command succeeded, but its session documents were not rendered");

    // Without auto, nothing is written.
    let env = Env::new();
    env.start("claude-code", "no docs");
    env.run_as("claude-code", &["session", "log", "--progress", "x"]).ok();
    assert!(!env.repo.join(".baton/sessions").exists());
    assert!(!env.repo.join(".agents").exists());
}

const LEGACY_SESSIONS_DOC: &str = "---
id: legacy-42
shortname: billing
status: completed
task_ids: [42]
created_at: 2026-09-01T08:00:00Z
updated_at: 2026-09-01T12:00:00Z
compaction_count: 3
git_branch: feat/billing
git_last_commit: abc123
---

# billing

## TL;DR

Invoices are generated nightly.

Progress: 1/2 steps done
- [x] invoice model
- [ ] retries <- CURRENT

Blocker: none

## Context

Monthly invoices.

## Progress

- invoice model

## Decisions

- Nightly batch
  Rationale: fewer locks

## Discoveries

_None._

## Blockers

_None._

## Next Steps

- retries
";

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn import_and_render_on_postgres() {
    let env = Env::with_backend(crate::common::Backend::postgres());
    let agents = env.repo.join(".agents/sessions");
    std::fs::create_dir_all(&agents).unwrap();
    std::fs::write(agents.join("20261001-090000-payments-retry.md"), HAND_WRITTEN).unwrap();
    let legacy = env.repo.join(".sessions/archive");
    std::fs::create_dir_all(&legacy).unwrap();
    std::fs::write(legacy.join("billing-legacy-42.md"), LEGACY_SESSIONS_DOC).unwrap();

    let r = env.run(&["doc", "import", ".agents/sessions", ".sessions/archive", "--json"]);
    r.ok();
    let sessions = r.json()["sessions"].as_array().unwrap().clone();
    assert!(sessions.iter().all(|s| s["imported"] == true), "{sessions:?}");
    let billing = sessions[1]["session_id"].as_str().unwrap().to_string();
    let view = env.run(&["session", "view", &billing, "--json"]).json();
    assert_eq!(view["session"]["status"], "completed");
    assert_eq!(view["session"]["compaction_count"], 3);
    assert_eq!(view["session"]["summary"], "Invoices are generated nightly.");
    assert_eq!(view["session"]["task_ids"], serde_json::json!(["42"]));
    assert_eq!(view["done"][0]["text"], "invoice model");

    let r = env.run(&["doc", "import", ".agents/sessions", ".sessions/archive", "--json"]);
    r.ok();
    assert!(
        r.json()["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["imported"] == false)
    );

    env.run(&["doc", "render", "--all", "--layout", "sessions"]).ok();
    let doc = read(&env, &format!(".sessions/archive/billing-{billing}.md"));
    assert!(doc.contains("status: completed\ntask_ids:\n- \"42\"\n"), "{doc}");
    assert!(doc.contains("## TL;DR\n\nInvoices are generated nightly.\n\nProgress: 1/2 steps done\n- [x] invoice model\n- [ ] retries <- CURRENT\n"), "{doc}");
    let first = tree(&env.repo.join(".sessions"));
    env.run(&["doc", "render", "--all", "--layout", "sessions"]).ok();
    assert_eq!(tree(&env.repo.join(".sessions")), first);
}

#[test]
fn a_sweep_re_renders_the_sessions_it_paused() {
    let env = Env::new();
    std::fs::create_dir_all(env.repo.join(".baton")).unwrap();
    std::fs::write(
        env.repo.join(".baton/config.toml"),
        "stale_after = \"1s\"\n\n[docs]\nauto = true\nlayout = \"sessions\"\n",
    )
    .unwrap();
    let id = env.start("claude-code", "goes stale");
    let doc = || std::fs::read_to_string(env.repo.join(format!(".sessions/active/goes-stale-{id}.md"))).unwrap();
    assert!(doc().contains("\nstatus: active\n"));
    std::thread::sleep(std::time::Duration::from_millis(1500));
    env.run(&["doctor", "--sweep"]).ok();
    assert!(doc().contains("\nstatus: paused\n"), "{}", doc());
}

/// With `docs.auto`, every command that commits a change re-renders what it touched, not only the commands once
/// known to change sessions: an import writes the imported session's document in the configured layout.
#[test]
fn an_import_renders_the_imported_session_when_auto_is_on() {
    let env = Env::new();
    std::fs::create_dir_all(env.repo.join(".baton")).unwrap();
    std::fs::write(
        env.repo.join(".baton/config.toml"),
        "[docs]\nauto = true\nlayout = \"sessions\"\n",
    )
    .unwrap();
    let agents = env.repo.join(".agents/sessions");
    std::fs::create_dir_all(&agents).unwrap();
    std::fs::write(agents.join("20261001-090000-payments-retry.md"), HAND_WRITTEN).unwrap();

    let r = env.run(&["doc", "import", ".agents/sessions", "--json"]);
    r.ok();
    assert_eq!(r.stderr, "", "no warning");
    let id = r.json()["sessions"][0]["session_id"].as_str().unwrap().to_string();
    let rendered: Vec<String> = tree(&env.repo.join(".sessions"))
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let main: Vec<&String> = rendered
        .iter()
        .filter(|name| name.starts_with("active/") && name.ends_with(&format!("-{id}.md")))
        .collect();
    assert_eq!(
        main.len(),
        1,
        "the paused session's document, in the sessions layout: {rendered:?}"
    );
    assert!(read(&env, &format!(".sessions/{}", main[0])).contains(&format!("\nid: {id}\n")));
    // The imported file, of another layout, is left as it was.
    assert_eq!(
        std::fs::read_to_string(agents.join("20261001-090000-payments-retry.md")).unwrap(),
        HAND_WRITTEN
    );

    // What the import wrote is what rendering gives.
    let first = tree(&env.repo.join(".sessions"));
    env.run(&["doc", "render", "--all"]).ok();
    assert_eq!(tree(&env.repo.join(".sessions")), first);
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn documents_follow_changes_on_postgres() {
    let env = Env::with_backend(crate::common::Backend::postgres());
    env.auto_docs();
    let id = env.start("claude-code", "auto docs on postgres");
    assert!(env.only_agents_document().1.contains(&format!("  id: {id}\n")));
    env.run_as("claude-code", &["session", "log", "--progress", "step one"])
        .ok();
    assert!(env.only_agents_document().1.contains("Latest progress ("));
}
