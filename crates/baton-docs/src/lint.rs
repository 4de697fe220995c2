//! Checks files of the `agents` layout: the file name, the frontmatter's required keys and allowed values,
//! the required sections and the Session Log's entry headings. Every problem names its line and rule.
//!
//! Rules: `file-name`, `encoding`, `frontmatter`, `required-key`, `allowed-value`, `bad-value`,
//! `required-section`, `log-entry`.

use std::path::Path;

use serde_json::Value;

use crate::agents::{self, REQUIRED_SECTIONS, STATUSES};
use crate::frontmatter::{self, Reader};
use crate::markdown;
use crate::{Problem, text};

/// Lints one file read from disk; `file` is how problems name it.
pub fn lint_file(path: &Path) -> Vec<Problem> {
    let file = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => lint_text(&file, &bytes),
        Err(e) => vec![Problem::new(&file, 1, "encoding", format!("cannot read the file: {e}"))],
    }
}

/// Lints a document's bytes; `file` is its path (its last part is checked as the file name).
pub fn lint_text(file: &str, bytes: &[u8]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let name = Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name_ok = agents::parse_file_name(&name).is_some_and(|(_, slug)| text::is_slug(slug));
    if !name_ok {
        problems.push(Problem::new(
            file,
            1,
            "file-name",
            format!(
                "file name '{name}' is not YYYYMMDD-HHMMSS-<slug>.md (a UTC time, then lowercase letters, digits and dashes)"
            ),
        ));
    }
    let text = match crate::decode(file, bytes) {
        Ok(t) => t,
        Err(p) => {
            problems.push(p);
            return problems;
        }
    };
    let (body, body_line) = match frontmatter::split(file, &text) {
        Ok(split) => {
            match frontmatter::parse(file, &split) {
                Ok(map) => check_frontmatter(file, &split, &map, &mut problems),
                Err(p) => problems.push(p),
            }
            (split.body, split.body_line)
        }
        Err(p) => {
            problems.push(p);
            (text.as_str(), 1)
        }
    };
    let parsed = markdown::parse_body(body, body_line);
    for required in REQUIRED_SECTIONS {
        if parsed.section(required).is_none() {
            problems.push(Problem::new(
                file,
                parsed.last_line,
                "required-section",
                format!("the document has no `## {required}` section"),
            ));
        }
    }
    if let Some(log) = parsed.section("Session Log") {
        for (n, line) in &log.lines {
            if line.starts_with("### ")
                && let Err(m) = agents::parse_log_heading(line)
            {
                problems.push(Problem::new(file, *n, "log-entry", m));
            }
        }
    }
    problems.sort_by(|a, b| (a.line, a.rule).cmp(&(b.line, b.rule)));
    problems
}

fn check_frontmatter(
    file: &str,
    split: &frontmatter::Split<'_>,
    map: &serde_json::Map<String, Value>,
    problems: &mut Vec<Problem>,
) {
    let top = Reader {
        file,
        split,
        path: vec![],
        map,
    };
    match top.mapping("session") {
        Err(p) => problems.push(p),
        Ok(None) => problems.push(top.missing("session")),
        Ok(Some(session)) => {
            if let Err(p) = session.required_text("title") {
                problems.push(p);
            }
            match session.required_text("status") {
                Err(p) => problems.push(p),
                Ok(s) if !STATUSES.contains(&s.as_str()) => problems.push(session.problem(
                    "status",
                    "allowed-value",
                    format!(
                        "unknown status '{s}' in `session.status`: expected one of {}",
                        STATUSES.join(", ")
                    ),
                )),
                Ok(_) => {}
            }
            for key in ["created", "last_updated"] {
                if let Err(p) = session.time(key, true) {
                    problems.push(p);
                }
            }
            for key in ["linear_issue", "linear_url"] {
                if let Err(p) = session.text(key) {
                    problems.push(p);
                }
            }
            if let Err(p) = session.handoff("handoff") {
                problems.push(p);
            }
        }
    }
    match top.mapping("orchestration") {
        Err(p) => problems.push(p),
        Ok(None) => problems.push(top.missing("orchestration")),
        Ok(Some(o)) => {
            if !o.map.contains_key("current_task") {
                problems.push(o.missing("current_task"));
            } else if let Err(p) = o.text("current_task") {
                problems.push(p);
            }
            match o.map.get("spawned_agents") {
                None => problems.push(o.missing("spawned_agents")),
                Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        let at = frontmatter::item_line(split, o.line("spawned_agents"), i);
                        match item {
                            Value::Object(m) => {
                                for key in ["agent", "task", "status"] {
                                    if m.get(key).is_none_or(Value::is_null) {
                                        problems.push(Problem::new(
                                            file,
                                            at,
                                            "required-key",
                                            format!("`orchestration.spawned_agents` item {} has no `{key}`", i + 1),
                                        ));
                                    }
                                }
                            }
                            other => problems.push(Problem::new(
                                file,
                                at,
                                "bad-value",
                                format!(
                                    "`orchestration.spawned_agents` item {} is a {}, expected a mapping with agent, task, status and summary",
                                    i + 1,
                                    frontmatter::kind_of(other)
                                ),
                            )),
                        }
                    }
                }
                Some(other) => problems.push(o.problem(
                    "spawned_agents",
                    "bad-value",
                    format!(
                        "`orchestration.spawned_agents` is a {}, expected a list",
                        frontmatter::kind_of(other)
                    ),
                )),
            }
        }
    }
}
