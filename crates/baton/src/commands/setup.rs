//! `baton setup <client> [--global] [--remove]`

use baton_core::project::GitInfo;
use baton_core::{Error, Result};
use baton_hooks::Client;
use baton_hooks::setup::{Scope, apply};
use serde_json::json;

use crate::cli::{GlobalArgs, SetupArgs};
use crate::output::{print_json, println_out};

pub fn run(global: &GlobalArgs, a: SetupArgs) -> Result<i32> {
    let client: Client = a.client.parse()?;
    let cwd =
        std::env::current_dir().map_err(|e| Error::internal(format!("cannot read the current directory: {e}")))?;
    let project_dir = GitInfo::discover(&cwd).map(|g| g.worktree).unwrap_or(cwd);
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(std::path::PathBuf::from)
        .ok_or_else(|| Error::internal("HOME is not set, so the user's settings cannot be found"))?;
    let scope = Scope {
        global: a.global,
        home,
        project_dir,
    };
    let changes = apply(client, &scope, a.remove)?;
    if global.json {
        print_json(&json!({"client": client.as_str(), "global": a.global, "removed": a.remove, "files": changes}))?;
        return Ok(0);
    }
    let mut lines = Vec::new();
    for c in &changes {
        let what = if c.what.is_empty() {
            String::new()
        } else {
            format!(": {}", c.what)
        };
        lines.push(format!("{} {}{what}", c.action, c.path.display()));
    }
    if !a.remove {
        lines.push(format!(
            "baton is set up for {client}; its next session starts with the digest. Undo with `baton setup {client}{} --remove`.",
            if a.global { " --global" } else { "" }
        ));
    }
    println_out(&lines.join("\n"))?;
    Ok(0)
}
