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
