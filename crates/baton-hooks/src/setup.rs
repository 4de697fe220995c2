//! `baton setup`: merges baton's hooks and MCP server entry into a client's settings, and takes
//! exactly those out again with `--remove`. The user's own hooks, servers and keys are never touched.

use std::path::{Path, PathBuf};

use baton_core::{Error, Result};
use serde_json::{Map, Value, json};

use crate::input::Client;

/// Where settings go: the project (the repository's top) or the user's home.
#[derive(Debug, Clone)]
pub struct Scope {
    pub global: bool,
    pub home: PathBuf,
    pub project_dir: PathBuf,
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileChange {
    pub path: PathBuf,
    /// `created`, `updated`, `unchanged` or `deleted`.
    pub action: &'static str,
    /// What baton added or removed there, in words.
    pub what: String,
}

const MCP_COMMAND: &str = "baton";

/// The MCP server's arguments: the same agent name the hooks give sessions, so the server's default
/// session is the one the client's hooks started.
fn mcp_args(client: Client) -> [&'static str; 3] {
    ["mcp", "--agent", client.default_agent()]
}

fn hook_command(client: Client) -> String {
    format!("baton hook {client}")
}

/// Installs (or with `remove`, uninstalls) baton for `client`. Idempotent.
///
/// Every file is read and edited in memory first, so one the user must fix leaves all of them untouched.
pub fn apply(client: Client, scope: &Scope, remove: bool) -> Result<Vec<FileChange>> {
    let base = if scope.global {
        scope.home.clone()
    } else {
        scope.project_dir.clone()
    };
    let mut out = Vec::new();
    match client {
        Client::Claude => {
            let settings = base.join(".claude/settings.json");
            out.push(edit_json(&settings, |doc| hooks_edit(doc, client, remove, |_| 10))?);
            let mcp = if scope.global {
                scope.home.join(".claude.json")
            } else {
                scope.project_dir.join(".mcp.json")
            };
            out.push(edit_json(&mcp, |doc| mcp_edit(doc, client, remove))?);
        }
        Client::Codex => {
            let hooks = base.join(".codex/hooks.json");
            out.push(edit_json(&hooks, |doc| hooks_edit(doc, client, remove, |_| 10))?);
            out.push(edit_codex_toml(&base.join(".codex/config.toml"), client, remove)?);
        }
        Client::Gemini => {
            let settings = base.join(".gemini/settings.json");
            // Gemini CLI counts hook timeouts in milliseconds; it does not wait for SessionEnd at all.
            out.push(edit_json(&settings, |doc| {
                let mut what = hooks_edit(doc, client, remove, |_| 10_000)?;
                let more = mcp_edit(doc, client, remove)?;
                if !more.is_empty() {
                    what = if what.is_empty() {
                        more
                    } else {
                        format!("{what}; {more}")
                    };
                }
                Ok(what)
            })?);
        }
    }
    out.into_iter().map(Planned::commit).collect()
}

/// A file's new state, decided before anything is written.
struct Planned {
    change: FileChange,
    /// The new text for `created` and `updated`.
    text: Option<String>,
}

impl Planned {
    fn unchanged(path: &Path, what: &str) -> Planned {
        Planned {
            change: FileChange {
                path: path.to_path_buf(),
                action: "unchanged",
                what: what.into(),
            },
            text: None,
        }
    }

    fn commit(self) -> Result<FileChange> {
        let path = &self.change.path;
        match (self.change.action, &self.text) {
            ("deleted", _) => {
                std::fs::remove_file(path)
                    .map_err(|e| Error::internal(format!("cannot remove {}: {e}", path.display())))?;
                remove_client_dir_if_empty(path);
            }
            (_, Some(text)) => write_atomic(path, text)?,
            _ => {}
        }
        Ok(self.change)
    }
}

/// Reads a JSON settings file (missing → `{}`) and lets `edit` change it; the write is left to `commit`.
fn edit_json(path: &Path, edit: impl FnOnce(&mut Map<String, Value>) -> Result<String>) -> Result<Planned> {
    let existing = match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::internal(format!("cannot read {}: {e}", path.display()))),
    };
    let mut doc: Map<String, Value> = match existing.as_deref() {
        None => Map::new(),
        Some(t) if t.trim().is_empty() => Map::new(),
        Some(t) => match serde_json::from_str::<Value>(t) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                return Err(Error::bad_input(format!(
                    "{} is not a JSON object; fix or move it, then run setup again (nothing was changed)",
                    path.display()
                )));
            }
            Err(e) => {
                return Err(Error::bad_input(format!(
                    "{}:{}:{}: not valid JSON ({e}); fix it, then run setup again (nothing was changed)",
                    path.display(),
                    e.line(),
                    e.column()
                )));
            }
        },
    };
    let before = Value::Object(doc.clone());
    let what = edit(&mut doc)?;
    let after = Value::Object(doc);
    if after == before {
        return Ok(Planned::unchanged(path, "already as wanted"));
    }
    if existing.is_some() && after.as_object().is_some_and(Map::is_empty) {
        return Ok(Planned {
            change: FileChange {
                path: path.to_path_buf(),
                action: "deleted",
                what,
            },
            text: None,
        });
    }
    let text = serde_json::to_string_pretty(&after).map_err(|e| Error::internal(e.to_string()))? + "\n";
    let action = if existing.is_some() { "updated" } else { "created" };
    Ok(Planned {
        change: FileChange {
            path: path.to_path_buf(),
            action,
            what,
        },
        text: Some(text),
    })
}

/// The folders setup creates for a client's settings.
const CLIENT_DIRS: &[&str] = &[".claude", ".codex", ".gemini"];

/// Once setup took out the last file of a client's settings folder, the folder goes too (never the
/// repository or the home folder itself, and never a folder with anything left in it).
fn remove_client_dir_if_empty(file: &Path) {
    let Some(dir) = file.parent() else { return };
    let ours = dir
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| CLIENT_DIRS.contains(&n));
    if ours {
        // Fails, and leaves it, when anything is still inside.
        let _ = std::fs::remove_dir(dir);
    }
}

fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::internal(format!("cannot create {}: {e}", dir.display())))?;
    let tmp = dir.join(format!(
        ".{}.baton-tmp-{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    std::fs::write(&tmp, text).map_err(|e| Error::internal(format!("cannot write {}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::internal(format!("cannot replace {}: {e}", path.display()))
    })
}

fn is_ours(hook: &Value, command: &str) -> bool {
    hook.get("command").and_then(Value::as_str) == Some(command)
}

/// Adds (or removes) one matcher group per event whose only hook is `baton hook <client>`.
fn hooks_edit(
    doc: &mut Map<String, Value>,
    client: Client,
    remove: bool,
    timeout: impl Fn(&str) -> u64,
) -> Result<String> {
    let command = hook_command(client);
    let hooks = doc.entry("hooks").or_insert_with(|| Value::Object(Map::new()));
    let Some(hooks) = hooks.as_object_mut() else {
        return Err(Error::bad_input(
            "the settings' \"hooks\" is not an object; fix it, then run setup again",
        ));
    };
    let mut touched = Vec::new();
    for event in client.events() {
        let groups = hooks.entry(event.to_string()).or_insert_with(|| Value::Array(vec![]));
        let Some(groups) = groups.as_array_mut() else {
            return Err(Error::bad_input(format!(
                "the settings' hooks.{event} is not a list; fix it, then run setup again"
            )));
        };
        let present = groups.iter().any(|g| {
            g.get("hooks")
                .and_then(Value::as_array)
                .is_some_and(|hs| hs.iter().any(|h| is_ours(h, &command)))
        });
        if remove {
            if present {
                for g in groups.iter_mut() {
                    if let Some(hs) = g.get_mut("hooks").and_then(Value::as_array_mut) {
                        hs.retain(|h| !is_ours(h, &command));
                    }
                }
                // Drop the groups that held only our hook.
                groups.retain(|g| g.get("hooks").and_then(Value::as_array).is_none_or(|hs| !hs.is_empty()));
                touched.push(*event);
            }
        } else if !present {
            let mut hook = json!({"type": "command", "command": command, "timeout": timeout(event)});
            if client == Client::Gemini
                && let Some(h) = hook.as_object_mut()
            {
                h.insert("name".into(), json!("baton"));
            }
            groups.push(json!({"matcher": "", "hooks": [hook]}));
            touched.push(*event);
        }
    }
    // Leave no empty lists or objects behind that baton created.
    hooks.retain(|_, v| v.as_array().is_none_or(|a| !a.is_empty()));
    if hooks.is_empty() {
        doc.shift_remove("hooks");
    }
    Ok(if touched.is_empty() {
        String::new()
    } else {
        format!(
            "{} hooks for {}",
            if remove { "removed" } else { "added" },
            touched.join(", ")
        )
    })
}

/// Adds (or removes) `mcpServers.baton`; removes it only when it is exactly what setup adds.
fn mcp_edit(doc: &mut Map<String, Value>, client: Client, remove: bool) -> Result<String> {
    let wanted = json!({"command": MCP_COMMAND, "args": mcp_args(client)});
    let servers = doc.entry("mcpServers").or_insert_with(|| Value::Object(Map::new()));
    let Some(servers) = servers.as_object_mut() else {
        return Err(Error::bad_input(
            "the settings' \"mcpServers\" is not an object; fix it, then run setup again",
        ));
    };
    let what = if remove {
        if servers.get("baton") == Some(&wanted) {
            servers.shift_remove("baton");
            "removed MCP server baton".to_string()
        } else {
            String::new()
        }
    } else if servers.contains_key("baton") {
        String::new()
    } else {
        servers.insert("baton".into(), wanted);
        "added MCP server baton".to_string()
    };
    if servers.is_empty() {
        doc.shift_remove("mcpServers");
    }
    Ok(what)
}

/// Codex keeps MCP servers in TOML; edited with `toml_edit` so comments and layout survive.
fn edit_codex_toml(path: &Path, client: Client, remove: bool) -> Result<Planned> {
    let existing = match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::internal(format!("cannot read {}: {e}", path.display()))),
    };
    let mut doc: toml_edit::DocumentMut = existing.as_deref().unwrap_or("").parse().map_err(|e| {
        Error::bad_input(format!(
            "{}: not valid TOML ({e}); fix it, then run setup again (nothing was changed)",
            path.display()
        ))
    })?;
    let ours = |t: &toml_edit::Table| {
        t.get("command").and_then(|c| c.as_str()) == Some(MCP_COMMAND)
            && t.get("args").and_then(|a| a.as_array()).is_some_and(|a| {
                a.iter()
                    .map(|v| v.as_str())
                    .eq(mcp_args(client).iter().map(|w| Some(*w)))
            })
    };
    let has = doc.get("mcp_servers").and_then(|s| s.get("baton")).is_some();
    let what = if remove {
        let is_ours = doc
            .get("mcp_servers")
            .and_then(|s| s.get("baton"))
            .and_then(|b| b.as_table())
            .is_some_and(ours);
        if !is_ours {
            return Ok(Planned::unchanged(path, "nothing of baton's"));
        }
        if let Some(servers) = doc.get_mut("mcp_servers").and_then(|s| s.as_table_mut()) {
            servers.remove("baton");
            if servers.is_empty() {
                doc.remove("mcp_servers");
            }
        }
        "removed [mcp_servers.baton]"
    } else {
        if has {
            return Ok(Planned::unchanged(path, "already as wanted"));
        }
        let servers = doc.entry("mcp_servers").or_insert_with(|| {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            toml_edit::Item::Table(t)
        });
        let Some(servers) = servers.as_table_mut() else {
            return Err(Error::bad_input(format!(
                "{}: mcp_servers is not a table; fix it, then run setup again",
                path.display()
            )));
        };
        let mut t = toml_edit::Table::new();
        t.insert("command", toml_edit::value(MCP_COMMAND));
        let mut args = toml_edit::Array::new();
        for a in mcp_args(client) {
            args.push(a);
        }
        t.insert("args", toml_edit::value(args));
        servers.insert("baton", toml_edit::Item::Table(t));
        "added [mcp_servers.baton]"
    };
    let text = doc.to_string();
    let deleted = existing.is_some() && text.trim().is_empty();
    let action = match (deleted, existing.is_some()) {
        (true, _) => "deleted",
        (false, true) => "updated",
        (false, false) => "created",
    };
    Ok(Planned {
        change: FileChange {
            path: path.to_path_buf(),
            action,
            what: what.into(),
        },
        text: (!deleted).then_some(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(dir: &Path) -> Scope {
        Scope {
            global: false,
            home: dir.join("home"),
            project_dir: dir.join("proj"),
        }
    }

    #[test]
    fn claude_merge_keeps_user_settings_and_remove_restores_them() {
        let dir = tempfile::tempdir().unwrap();
        let s = scope(dir.path());
        let settings = s.project_dir.join(".claude/settings.json");
        std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
        let original = r#"{
  "permissions": {"allow": ["Bash(ls)"]},
  "hooks": {
    "Stop": [{"matcher": "", "hooks": [{"type": "command", "command": "say done"}]}]
  }
}"#;
        std::fs::write(&settings, original).unwrap();
        let changes = apply(Client::Claude, &s, false).unwrap();
        assert_eq!(changes[0].action, "updated");
        assert_eq!(changes[1].action, "created");
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
        assert_eq!(v["permissions"]["allow"][0], "Bash(ls)");
        assert_eq!(v["hooks"]["Stop"].as_array().unwrap().len(), 2);
        assert_eq!(v["hooks"]["Stop"][0]["hooks"][0]["command"], "say done");
        assert_eq!(
            v["hooks"]["SessionStart"][0]["hooks"][0]["command"],
            "baton hook claude"
        );
        // Idempotent.
        let again = apply(Client::Claude, &s, false).unwrap();
        assert!(again.iter().all(|c| c.action == "unchanged"), "{again:?}");
        // Remove takes out exactly what was added.
        apply(Client::Claude, &s, true).unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
        let want: Value = serde_json::from_str(original).unwrap();
        assert_eq!(v, want);
        assert!(!s.project_dir.join(".mcp.json").exists());
    }

    #[test]
    fn codex_toml_keeps_comments() {
        let dir = tempfile::tempdir().unwrap();
        let s = Scope {
            global: true,
            ..scope(dir.path())
        };
        let cfg = s.home.join(".codex/config.toml");
        std::fs::create_dir_all(cfg.parent().unwrap()).unwrap();
        let original = "# my settings\nmodel = \"o4\"\n\n[mcp_servers.other]\ncommand = \"x\"\n";
        std::fs::write(&cfg, original).unwrap();
        apply(Client::Codex, &s, false).unwrap();
        let text = std::fs::read_to_string(&cfg).unwrap();
        assert!(text.starts_with("# my settings\nmodel = \"o4\""), "{text}");
        assert!(text.contains("[mcp_servers.baton]"), "{text}");
        apply(Client::Codex, &s, true).unwrap();
        assert_eq!(std::fs::read_to_string(&cfg).unwrap(), original);
        assert!(!s.home.join(".codex/hooks.json").exists());
    }

    #[test]
    fn malformed_settings_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = scope(dir.path());
        let settings = s.project_dir.join(".gemini/settings.json");
        std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
        std::fs::write(&settings, "{\n  \"a\": 1,\n  oops\n}").unwrap();
        let e = apply(Client::Gemini, &s, false).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("settings.json:3:"), "{e}");
        assert_eq!(std::fs::read_to_string(&settings).unwrap(), "{\n  \"a\": 1,\n  oops\n}");
    }
}
