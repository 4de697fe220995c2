//! Rendering, parsing and linting together: golden documents, round trips through import, errors with lines.

use baton_core::import::{DocumentSource, ImportedSession};
use baton_core::{EntryKind, Journal, JournalEntry, Session, SessionContext};

use crate::fixtures::{ID, ended, rich};
use crate::*;

/// What the store holds after importing `imp` (as `Baton::import_session` writes it), read back the way
/// `Baton::document_source` gives it.
fn as_stored(imp: ImportedSession) -> DocumentSource {
    let id = imp.id.clone().unwrap_or_else(|| ID.to_string());
    let entries: Vec<JournalEntry> = imp
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| JournalEntry {
            id: e
                .id
                .clone()
                .unwrap_or_else(|| format!("019a6f3e-0000-7000-8000-{i:012}"))
                .into(),
            session_id: id.clone().into(),
            kind: e.kind,
            text: e.text.clone(),
            rationale: e.rationale.clone(),
            supersedes: None,
            created_at: e.created_at,
        })
        .collect();
    DocumentSource {
        context: SessionContext {
            session: Session {
                id: id.into(),
                project: "github.com/org/app".into(),
                agent: imp.agent.clone().unwrap_or_else(|| "importer".into()),
                name: imp.name.clone(),
                role: imp.role.clone(),
                context: imp.context.clone(),
                task_ids: imp.task_ids.clone(),
                status: imp.status,
                stale: false,
                git_branch: imp.git_branch.clone(),
                git_commit: imp.git_commit.clone(),
                worktree: None,
                created_at: imp.created_at,
                updated_at: imp.updated_at,
                last_seen: imp.updated_at,
                ended_at: imp.ended_at,
                compaction_count: imp.compaction_count,
                summary: imp.summary.clone(),
                handoff: imp.handoff.clone(),
            },
            tldr: String::new(),
            journal: Journal::from_entries(entries),
            claims: vec![],
        },
        document: (!imp.document.is_null()).then(|| imp.document.clone()),
    }
}

/// Parses rendered files the way `baton doc import` reads them from disk.
fn reimport(layout: Layout, r: &Rendered) -> ImportedSession {
    let main = &r.files[0];
    let journal: Vec<(String, Vec<u8>)> = r
        .files
        .iter()
        .filter(|f| f.path.components().any(|c| c.as_os_str() == "entries"))
        .map(|f| (f.path.display().to_string(), f.content.clone().into_bytes()))
        .collect();
    parse_document(
        &main.path.display().to_string(),
        main.content.as_bytes(),
        Some(layout),
        &journal,
    )
    .unwrap_or_else(|p| panic!("{p}\n{}", main.content))
}

#[test]
fn agents_golden() {
    let r = render(Layout::Agents, &rich());
    assert_eq!(r.files.len(), 1);
    assert_eq!(
        r.files[0].path.to_str(),
        Some(".agents/sessions/20261122-032520-auth.md")
    );
    let doc = &r.files[0].content;
    let expected_front = "---
session:
  title: \"Auth refactor: JWT + refresh tokens\"
  status: in_progress
  created: \"2026-11-22T03:25:20Z\"
  last_updated: \"2026-11-22T04:10:05Z\"
  id: 019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b
  agent: claude-code
orchestration:
  current_task: issue org/app#15
  spawned_agents: []
---

# Auth refactor: JWT + refresh tokens
";
    assert!(doc.starts_with(expected_front), "{doc}");
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
    for needle in [
        "## Current State\n\nLatest progress (2026-11-22 03:50): login endpoint returns tokens\n\\# not a heading\n- not an item\n",
        "## Execution Progress\n\n- schema migrated\n- [x] login endpoint\n- login endpoint returns tokens\n  \\# not a heading\n  - not an item\n",
        "## Decisions\n\n- JWT for tokens\n  Rationale: stateless: no session table\n  \\Rationale: twice\n",
        "## Next Steps\n\n- refresh-token tests\n- update docs\n",
        "### 2026-11-22 03:31 - claude-code/decision\n\nJWT for tokens\nRationale: stateless: no session table\n\\Rationale: twice\n",
        "### 2026-11-22 04:05 - claude-code/note\n\n\\```\ncode in a note\n",
    ] {
        assert!(doc.contains(needle), "missing {needle:?} in\n{doc}");
    }
    assert!(doc.ends_with("### 2026-11-22 04:10 - claude-code/checkpoint\n\ncontext compacted\n"));

    let r = render(Layout::Agents, &ended());
    let doc = &r.files[0].content;
    assert!(doc.contains(
        "  status: completed
  created: \"2026-11-22T03:25:20Z\"
  last_updated: \"2026-11-22T05:00:00Z\"
  id: 019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8a9b
  agent: claude-code
  handoff:
    notes: |-
      refresh tokens are next
      see #16
    done:
    - \"PR #16 opened\"
    next:
    - ship it
orchestration:
  current_task: null
  spawned_agents: []
---
"
    ));
    assert!(doc.contains("## Current State\n\nlogin + JWT done\n"));
    assert!(doc.contains("- [x] PR #16 opened\n\n## Decisions"));
    assert!(doc.contains("## Next Steps\n\n- refresh-token tests\n- update docs\n- ship it\n"));
}

#[test]
fn sessions_golden() {
    let r = render(Layout::Sessions, &rich());
    let paths: Vec<String> = r.files.iter().map(|f| f.path.display().to_string()).collect();
    assert_eq!(paths[0], format!(".sessions/active/auth-{ID}.md"));
    assert_eq!(paths[1], format!(".sessions/journal/{ID}/progress.md"));
    assert_eq!(paths.len(), 2 + 10, "{paths:?}");
    assert!(paths.contains(&format!(".sessions/journal/{ID}/entries/20261122-040000-000000.md")));
    assert!(paths.contains(&format!(".sessions/journal/{ID}/entries/20261122-040000-000000-2.md")));
    assert_eq!(
        r.obsolete,
        [std::path::PathBuf::from(format!(".sessions/archive/auth-{ID}.md"))]
    );
    let doc = &r.files[0].content;
    let expected_front = format!(
        "---
id: {ID}
shortname: auth
status: active
task_ids:
- \"15\"
- ENG-42
created_at: \"2026-11-22T03:25:20.130567Z\"
updated_at: \"2026-11-22T04:10:05.5Z\"
compaction_count: 2
git_branch: feat/auth
git_last_commit: 0123456789abcdef0123456789abcdef01234567
agent: claude-code
role: implementer
---

# auth

## TL;DR

Progress: 1/3 steps done
- [x] login endpoint
- [ ] refresh-token tests <- CURRENT
- [ ] update docs

Blocker: staging DB down

## Context
"
    );
    assert!(doc.starts_with(&expected_front), "{doc}");
    let headings: Vec<&str> = doc.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(
        headings,
        [
            "## TL;DR",
            "## Context",
            "## Progress",
            "## Decisions",
            "## Discoveries",
            "## Blockers",
            "## Next Steps"
        ]
    );
    let decision = r
        .files
        .iter()
        .find(|f| f.path.ends_with("20261122-033100-000000.md"))
        .expect("decision entry file");
    assert_eq!(
        decision.content,
        "---
id: 019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8b02
kind: decision
created_at: \"2026-11-22T03:31:00Z\"
rationale: |-
  stateless: no session table
  Rationale: twice
---

JWT for tokens
"
    );

    let r = render(Layout::Sessions, &ended());
    assert_eq!(
        r.files[0].path.display().to_string(),
        format!(".sessions/archive/auth-{ID}.md")
    );
    assert_eq!(
        r.obsolete,
        [std::path::PathBuf::from(format!(".sessions/active/auth-{ID}.md"))]
    );
    assert!(r.files[0].content.contains(
        "## TL;DR\n\nlogin + JWT done\n\nProgress: 2/5 steps done\n- [x] login endpoint\n- [x] PR #16 opened\n- [ ] refresh-token tests <- CURRENT\n"
    ));
}

#[test]
fn baton_golden() {
    let r = render(Layout::Baton, &rich());
    assert_eq!(
        r.files[0].path.display().to_string(),
        format!(".baton/sessions/{ID}.md")
    );
    let doc = &r.files[0].content;
    assert!(doc.starts_with(&format!(
        "---
id: {ID}
project: github.com/org/app
agent: claude-code
name: auth
role: implementer
status: active
task_ids:
- \"15\"
- ENG-42
git_branch: feat/auth
git_commit: 0123456789abcdef0123456789abcdef01234567
created_at: \"2026-11-22T03:25:20.130567Z\"
updated_at: \"2026-11-22T04:10:05.5Z\"
compaction_count: 2
---

# Auth refactor: JWT + refresh tokens

Active session of claude-code, started 2026-11-22 03:25, last updated 2026-11-22 04:10.
"
    )));
    let headings: Vec<&str> = doc.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(
        headings,
        [
            "## Goal",
            "## Progress",
            "## Done",
            "## Decisions",
            "## Discoveries",
            "## Blockers",
            "## Next steps",
            "## Notes",
            "## Checkpoints",
            "## Claims"
        ]
    );
    assert!(doc.ends_with(
        "## Claims\n\n- issue org/app#15 — held, token 1, granted 2026-11-22T03:26:00Z, lease until 2026-11-22T04:40:05Z\n"
    ));
    // The machine-specific worktree path stays out of a committable file.
    assert!(!doc.contains("/home/alice"));
    let ended = render(Layout::Baton, &ended());
    assert!(ended.files[0].content.contains("## Summary\n\nlogin + JWT done\n\n## Handoff\n\nrefresh tokens are next\nsee #16\n\nDone:\n\n- PR #16 opened\n\nNext:\n\n- ship it\n"));
}

#[test]
fn rendering_is_deterministic() {
    for layout in [Layout::Baton, Layout::Agents, Layout::Sessions] {
        assert_eq!(render(layout, &rich()), render(layout, &rich()));
        // The order the store returns entries in does not matter.
        let mut shuffled = rich();
        shuffled.context.journal.progress.reverse();
        shuffled.context.journal.next_steps.reverse();
        assert_eq!(render(layout, &shuffled), render(layout, &rich()), "{layout}");
    }
}

#[test]
fn import_then_render_gives_back_the_same_files() {
    for src in [rich(), ended()] {
        for layout in [Layout::Agents, Layout::Sessions] {
            let first = render(layout, &src);
            let imported = reimport(layout, &first);
            assert_eq!(imported.id.as_deref(), Some(ID));
            assert_eq!(imported.agent.as_deref(), Some("claude-code"));
            let mut stored = as_stored(imported);
            // Claims are not part of documents; the one held shows as the current task in agents documents.
            stored.context.claims = src.context.claims.clone();
            let again = render(layout, &stored);
            for (a, b) in first.files.iter().zip(&again.files) {
                assert_eq!(a.path, b.path);
                assert_eq!(a.content, b.content, "{layout} {}", a.path.display());
            }
            assert_eq!(first.files.len(), again.files.len());
        }
    }
}

#[test]
fn sessions_import_keeps_the_journal_exactly() {
    let src = ended();
    let imported = reimport(Layout::Sessions, &render(Layout::Sessions, &src));
    let s = &src.context.session;
    assert_eq!(imported.created_at, s.created_at);
    assert_eq!(imported.updated_at, s.updated_at);
    assert_eq!(imported.ended_at, s.ended_at);
    assert_eq!(imported.summary, s.summary);
    assert_eq!(imported.handoff, s.handoff);
    assert_eq!(imported.role, s.role);
    assert_eq!(imported.compaction_count, 2);
    assert_eq!(imported.entries.len(), 10);
    let decision = imported.entries.iter().find(|e| e.kind == EntryKind::Decision).unwrap();
    assert_eq!(
        decision.rationale.as_deref(),
        Some("stateless: no session table\nRationale: twice")
    );
    assert_eq!(decision.id.as_deref(), Some("019a6f3e-8c1d-7b2a-9f00-4c5d6e7f8b02"));
}

const HAND_WRITTEN: &str = "---
session:
  title: Payments retry logic
  status: paused
  created: 2026-10-01T09:00:00Z
  last_updated: 2026-10-02 17:30
  linear_issue: PAY-7
  linear_url: https://linear.app/acme/issue/PAY-7
  owner: bob
orchestration:
  current_task: backoff schedule
  spawned_agents:
    - agent: test-writer
      task: property tests for backoff
      status: completed
      summary: 12 tests added
    - agent: reviewer
      task: review PR
      status: in_progress
tags: [payments]
---

# Payments retry logic

## Context

Retries are ad hoc; make them exponential with jitter.

## Current State

Backoff works; waiting on review.

## Execution Progress

- [x] backoff function
- [ ] wire into the client
- benchmarks run

## Decisions

- Full jitter
  Rationale: AWS article

## Blockers

None.

## Next Steps

- wire into the client
- ask ops about limits

## Session Log

### 2026-10-01 09:00 - claude/progress
Started reading the client.

### 2026-10-01 10:15 - claude/decision
Full jitter
Rationale: AWS article

### 2026-10-02 17:30 - test-writer/handoff
Tests are in.
";

#[test]
fn hand_written_agents_document_moves_in_without_loss() {
    let imp = parse_document(
        ".agents/sessions/20261001-090000-payments-retry.md",
        HAND_WRITTEN.as_bytes(),
        None,
        &[],
    )
    .unwrap();
    assert_eq!(imp.id, None);
    assert_eq!(imp.key, "agents:20261001-090000-payments-retry.md");
    assert_eq!(imp.agent.as_deref(), Some("claude"));
    assert_eq!(imp.name.as_deref(), Some("payments-retry"));
    assert_eq!(imp.status, baton_core::SessionStatus::Paused);
    assert_eq!(imp.task_ids, ["PAY-7"]);
    assert_eq!(imp.summary.as_deref(), Some("Backoff works; waiting on review."));
    assert_eq!(
        imp.context.as_deref(),
        Some("Retries are ad hoc; make them exponential with jitter.")
    );
    let texts: Vec<(EntryKind, &str)> = imp.entries.iter().map(|e| (e.kind, e.text.as_str())).collect();
    assert_eq!(
        texts,
        [
            (EntryKind::Progress, "Started reading the client."),
            (EntryKind::Decision, "Full jitter"),
            (EntryKind::Note, "test-writer/handoff: Tests are in."),
            (EntryKind::Done, "backoff function"),
            (EntryKind::Next, "wire into the client"),
            (EntryKind::Progress, "benchmarks run"),
            (EntryKind::Next, "ask ops about limits"),
        ]
    );
    assert_eq!(imp.entries[1].rationale.as_deref(), Some("AWS article"));
    // Times keep their order and never collide.
    assert!(imp.entries.windows(2).all(|w| w[0].created_at < w[1].created_at));

    // Rendering it keeps every field the document had, and rendering the result again changes nothing.
    let stored = as_stored(imp);
    let doc = render(Layout::Agents, &stored).files.remove(0);
    assert_eq!(
        doc.path.to_str(),
        Some(".agents/sessions/20261001-090000-payments-retry.md")
    );
    for needle in [
        "  title: Payments retry logic\n  status: paused\n",
        "  linear_issue: PAY-7\n  linear_url: https://linear.app/acme/issue/PAY-7\n",
        "  owner: bob\n",
        "  current_task: backoff schedule\n",
        "  - agent: test-writer\n    task: property tests for backoff\n    status: completed\n    summary: 12 tests added\n",
        "tags:\n- payments\n",
        "## Current State\n\nBackoff works; waiting on review.\n",
        "### 2026-10-02 17:30 - claude/note\n\ntest-writer/handoff: Tests are in.\n",
    ] {
        assert!(doc.content.contains(needle), "missing {needle:?} in\n{}", doc.content);
    }
    let again = render(
        Layout::Agents,
        &as_stored(reimport(
            Layout::Agents,
            &Rendered {
                session_id: String::new(),
                files: vec![doc.clone()],
                obsolete: vec![],
            },
        )),
    );
    assert_eq!(again.files[0].content, doc.content);
}

#[test]
fn parse_errors_name_file_and_line() {
    let cases: [(&str, usize, &str, &str); 6] = [
        (
            "---\nsession:\n  title: x\n  status: [\n---\n",
            4,
            "frontmatter",
            "malformed YAML",
        ),
        (
            "---\nsession:\n  title: x\n  status: done\n  created: 2026-01-01\n  last_updated: 2026-01-01\n---\n",
            4,
            "allowed-value",
            "unknown status 'done'",
        ),
        (
            "---\nsession:\n  title: x\n  status: paused\n  created: 2026-01-01\n  last_updated: 2026-01-01\n---\n\n## Context\n\nx\n\n## Current State\n\ny\n",
            15,
            "required-section",
            "no `## Next Steps` section",
        ),
        (
            "---\nsession:\n  title: x\n  status: paused\n  created: soon\n  last_updated: 2026-01-01\n---\n",
            5,
            "bad-value",
            "'soon', not a time",
        ),
        (
            "---\nsession:\n  title: x\n  status: paused\n  created: 2026-01-01\n  last_updated: 2026-01-01\n---\n## Context\n## Current State\n## Next Steps\n## Session Log\n### yesterday - me/progress\n",
            12,
            "log-entry",
            "'yesterday' is not YYYY-MM-DD HH:MM",
        ),
        ("no frontmatter\n", 1, "frontmatter", "does not start with"),
    ];
    for (text, line, rule, needle) in cases {
        let p = parse_document("doc.md", text.as_bytes(), Some(Layout::Agents), &[]).unwrap_err();
        assert_eq!((p.line, p.rule), (line, rule), "{p}");
        assert!(p.message.contains(needle), "{p}");
        assert!(p.to_string().starts_with(&format!("doc.md:{line}: ")), "{p}");
        let e: baton_core::Error = p.into();
        assert_eq!(e.exit_code(), 2);
    }
    let p = parse_document("s.md", b"---\nid: x\nshortname: s\nstatus: running\n---\n", None, &[]).unwrap_err();
    assert_eq!((p.line, p.rule), (4, "allowed-value"), "{p}");
    assert!(
        p.message
            .contains("expected one of drafting, planned, active, paused, completed, abandoned")
    );
    let p = parse_document("s.md", b"\xff\xfe", None, &[]).unwrap_err();
    assert_eq!(p.rule, "encoding");
    let p = parse_document("s.md", b"---\ntitle: x\n---\n", None, &[]).unwrap_err();
    assert_eq!(p.rule, "layout");
}

#[test]
fn lint_catches_each_rule_on_its_line() {
    let good = render(Layout::Agents, &rich()).files.remove(0);
    assert_eq!(lint_text(&good.path.display().to_string(), good.content.as_bytes()), []);
    assert_eq!(
        lint_text("x/20261001-090000-payments-retry.md", HAND_WRITTEN.as_bytes()),
        []
    );

    let rules = |file: &str, text: &str| -> Vec<(usize, &'static str)> {
        lint_text(file, text.as_bytes())
            .iter()
            .map(|p| (p.line, p.rule))
            .collect()
    };
    let ok_name = "20261001-090000-x.md";
    assert_eq!(rules("notes.md", HAND_WRITTEN), [(1, "file-name")]);
    assert_eq!(rules("20261001-0900-x.md", HAND_WRITTEN), [(1, "file-name")]);
    assert_eq!(rules("20261001-090000-Bad_Slug.md", HAND_WRITTEN), [(1, "file-name")]);
    let bad_status = HAND_WRITTEN.replace("status: paused", "status: blocked");
    assert_eq!(rules(ok_name, &bad_status), [(4, "allowed-value")]);
    let no_title = HAND_WRITTEN.replace("  title: Payments retry logic\n", "");
    assert_eq!(rules(ok_name, &no_title), [(2, "required-key")]);
    let bad_time = HAND_WRITTEN.replace("created: 2026-10-01T09:00:00Z", "created: last week");
    assert_eq!(rules(ok_name, &bad_time), [(5, "bad-value")]);
    let no_orchestration = HAND_WRITTEN.replace(
        "orchestration:\n  current_task: backoff schedule\n",
        "orchestration_:\n  current_task: backoff schedule\n",
    );
    assert_eq!(rules(ok_name, &no_orchestration), [(2, "required-key")]);
    let spawned = HAND_WRITTEN.replace("    - agent: reviewer\n", "    - name: reviewer\n");
    assert_eq!(rules(ok_name, &spawned), [(17, "required-key")]);
    let no_state = HAND_WRITTEN.replace("## Current State", "## State");
    let last = HAND_WRITTEN.lines().count();
    assert_eq!(rules(ok_name, &no_state), [(last, "required-section")]);
    let bad_log = HAND_WRITTEN.replace("### 2026-10-01 10:15 - claude/decision", "### 10:15 claude decided");
    assert_eq!(rules(ok_name, &bad_log), [(58, "log-entry")]);
    let bad_yaml = HAND_WRITTEN.replace("  owner: bob\n", "  owner: [bob\n");
    assert_eq!(rules(ok_name, &bad_yaml), [(10, "frontmatter")]);
    // Several problems at once, in line order.
    let many = bad_status.replace("## Next Steps", "## Later");
    assert_eq!(
        rules("notes.md", &many),
        [(1, "file-name"), (4, "allowed-value"), (last, "required-section")]
    );
}
