//! `.baton/context.yaml`: what a project's sessions share (interfaces by area, decisions, open requests),
//! written from the store, the same bytes for the same state, through a temporary file and a rename.

use std::path::{Path, PathBuf};

use baton_core::TeamContext;

use crate::frontmatter::to_yaml;
use crate::write::write_atomic;

/// Where the file goes, under the project's root.
pub const CONTEXT_FILE: &str = ".baton/context.yaml";

/// The file's text.
pub fn render_team_context(c: &TeamContext) -> String {
    format!(
        "# What the sessions of {} share, written by `baton context render` from baton's store.\n# Change it through baton (export, session log --decision, request); edits here are overwritten.\n{}",
        c.project,
        to_yaml(c)
    )
}

/// Writes the file under `root` unless it already holds exactly this; returns its path and whether it was
/// written.
pub fn write_team_context(root: &Path, c: &TeamContext) -> std::io::Result<(PathBuf, bool)> {
    let path = root.join(CONTEXT_FILE);
    let text = render_team_context(c);
    if std::fs::read(&path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok((path, false));
    }
    write_atomic(&path, text.as_bytes())?;
    Ok((path, true))
}

/// The shapes a hand-written file may take beside the one `render_team_context` writes: interfaces as a list
/// (each with an `area`) or by area, a decision's text as `decision` or `text`, a todo's as `message` or `text`,
/// and `session` or `agent` left out.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    #[serde(default)]
    project: Option<String>,
    #[serde(default)]
    interfaces: Option<Interfaces>,
    #[serde(default)]
    decisions: Vec<DecisionShape>,
    #[serde(default)]
    todos: Vec<TodoShape>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Interfaces {
    ByArea(std::collections::BTreeMap<String, Vec<InterfaceShape>>),
    List(Vec<InterfaceShape>),
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct InterfaceShape {
    #[serde(default)]
    area: Option<String>,
    #[serde(default)]
    session: Option<String>,
    #[serde(default)]
    agent: Option<String>,
    name: String,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionShape {
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    session: Option<String>,
    #[serde(default)]
    agent: Option<String>,
    #[serde(alias = "text")]
    decision: String,
    #[serde(default)]
    rationale: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TodoShape {
    from: String,
    to: String,
    #[serde(alias = "text")]
    message: String,
    #[serde(default)]
    status: Option<String>,
}

/// Reads a context file, in the shape baton writes or a hand-written one; `file` names it in errors. What
/// names no session is the agent's, else `context`.
pub fn parse_team_context(file: &str, text: &str, project: &str) -> baton_core::Result<TeamContext> {
    let shape: FileShape = serde_saphyr::from_str(text)
        .map_err(|e| baton_core::Error::bad_input(format!("{file}: not a context file: {e}")))?;
    let label = |session: Option<String>, agent: &Option<String>| {
        session
            .or_else(|| agent.clone())
            .unwrap_or_else(|| "context".to_string())
    };
    let mut interfaces: std::collections::BTreeMap<String, Vec<baton_core::ContextInterface>> = Default::default();
    let listed: Vec<(Option<String>, InterfaceShape)> = match shape.interfaces {
        None => Vec::new(),
        Some(Interfaces::List(l)) => l.into_iter().map(|i| (None, i)).collect(),
        Some(Interfaces::ByArea(m)) => m
            .into_iter()
            .flat_map(|(area, l)| l.into_iter().map(move |i| (Some(area.clone()), i)))
            .collect(),
    };
    for (area, i) in listed {
        let area = area
            .or(i.area.clone())
            .unwrap_or_else(|| baton_core::interface_area(i.file.as_deref()));
        interfaces.entry(area).or_default().push(baton_core::ContextInterface {
            session: label(i.session, &i.agent),
            agent: i.agent.unwrap_or_default(),
            name: i.name,
            file: i.file,
            description: i.description,
        });
    }
    Ok(TeamContext {
        project: shape.project.unwrap_or_else(|| project.to_string()),
        interfaces,
        decisions: shape
            .decisions
            .into_iter()
            .map(|d| baton_core::ContextDecision {
                date: d.date.unwrap_or_default(),
                session: label(d.session, &d.agent),
                agent: d.agent.unwrap_or_default(),
                decision: d.decision,
                rationale: d.rationale,
            })
            .collect(),
        todos: shape
            .todos
            .into_iter()
            .map(|t| baton_core::ContextTodo {
                from: t.from,
                to: t.to,
                message: t.message,
                status: t.status.unwrap_or_else(|| "pending".to_string()),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::{ContextDecision, ContextInterface, ContextTodo};

    fn sample() -> TeamContext {
        let mut interfaces = std::collections::BTreeMap::new();
        interfaces.insert(
            "auth".to_string(),
            vec![ContextInterface {
                session: "auth-refactor".into(),
                agent: "claude-code".into(),
                name: "AuthContext".into(),
                file: Some("src/auth/context.py".into()),
                description: Some("who is calling".into()),
            }],
        );
        TeamContext {
            project: "github.com/acme/app".into(),
            interfaces,
            decisions: vec![ContextDecision {
                date: "2026-12-07".into(),
                session: "auth-refactor".into(),
                agent: "claude-code".into(),
                decision: "JWT for tokens".into(),
                rationale: Some("stateless".into()),
            }],
            todos: vec![ContextTodo {
                from: "claude-code".into(),
                to: "role:reviewer".into(),
                message: "review PR #16".into(),
                status: "pending".into(),
            }],
        }
    }

    #[test]
    fn the_file_is_the_same_for_the_same_state_and_reads_back() {
        let c = sample();
        let text = render_team_context(&c);
        assert_eq!(text, render_team_context(&c.clone()));
        for needle in [
            "auth:",
            "name: AuthContext",
            "file: src/auth/context.py",
            "rationale: stateless",
            "to: role:reviewer",
        ] {
            assert!(text.contains(needle), "{needle} in:\n{text}");
        }
        let back: TeamContext = serde_saphyr::from_str(&text).expect("the file reads back");
        assert_eq!(back, c);
        let dir = tempfile::tempdir().unwrap();
        let (path, written) = write_team_context(dir.path(), &c).unwrap();
        assert!(written && path.ends_with(CONTEXT_FILE));
        assert!(
            !write_team_context(dir.path(), &c).unwrap().1,
            "unchanged: not written again"
        );
    }
}
