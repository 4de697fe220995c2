//! `baton setup`: merges baton's hooks and MCP server entry into a client's settings, and takes
//! exactly those out again with `--remove`. The user's own hooks, servers and keys are never touched.

use std::path::{Path, PathBuf};

use baton_core::{Error, Result};
use jsonc_parser::ParseOptions;
use jsonc_parser::cst::{CstArray, CstInputValue, CstNode, CstObject, CstRootNode};
use serde_json::{Value, json};

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
            out.push(edit_json(&settings, Dialect::Json, |doc| {
                hooks_edit(doc, client, remove, |_| 10)
            })?);
            let mcp = if scope.global {
                scope.home.join(".claude.json")
            } else {
                scope.project_dir.join(".mcp.json")
            };
            out.push(edit_json(&mcp, Dialect::Json, |doc| mcp_edit(doc, client, remove))?);
        }
        Client::Codex => {
            let hooks = base.join(".codex/hooks.json");
            out.push(edit_json(&hooks, Dialect::Json, |doc| {
                hooks_edit(doc, client, remove, |_| 10)
            })?);
            out.push(edit_codex_toml(&base.join(".codex/config.toml"), client, remove)?);
        }
        Client::Gemini => {
            let settings = base.join(".gemini/settings.json");
            // Gemini CLI counts hook timeouts in milliseconds; it does not wait for SessionEnd at all.
            out.push(edit_json(&settings, Dialect::Jsonc, |doc| {
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

/// Which JSON a client reads. Claude Code and Codex parse plain JSON; Gemini CLI also takes `//` and
/// `/* */` comments and trailing commas in `settings.json`, so baton takes them there too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Json,
    Jsonc,
}

impl Dialect {
    fn name(self) -> &'static str {
        match self {
            Dialect::Json => "JSON",
            Dialect::Jsonc => "JSON with comments",
        }
    }

    /// Exactly the extensions the client accepts; nothing of JSON5 (single quotes, bare keys, hex numbers).
    fn options(self) -> ParseOptions {
        let jsonc = self == Dialect::Jsonc;
        ParseOptions {
            allow_comments: jsonc,
            allow_trailing_commas: jsonc,
            allow_loose_object_property_names: false,
            allow_missing_commas: false,
            allow_single_quoted_strings: false,
            allow_hexadecimal_numbers: false,
            allow_unary_plus_numbers: false,
            allow_bare_decimal_point_numbers: false,
            allow_non_finite_numbers: false,
            allow_extended_string_escapes: false,
        }
    }
}

/// Reads a JSON settings file (missing → `{}`) and lets `edit` change it; the write is left to `commit`.
///
/// The file is edited as a syntax tree, so everything baton does not add or remove — the user's comments,
/// indentation, key order, trailing commas — stays byte for byte, and `--remove` after setup gives back the
/// file as it was.
fn edit_json(path: &Path, dialect: Dialect, edit: impl FnOnce(&CstObject) -> Result<String>) -> Result<Planned> {
    let existing = match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::internal(format!("cannot read {}: {e}", path.display()))),
    };
    let before = existing.as_deref().unwrap_or("");
    // The tree parser keeps comments whatever its options say, so plain JSON is checked by serde_json,
    // which is as strict as the clients that read it.
    if dialect == Dialect::Json
        && !before.trim().is_empty()
        && let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(before)
    {
        return Err(Error::bad_input(format!(
            "{}:{}:{}: not valid JSON ({e}); fix it, then run setup again (nothing was changed)",
            path.display(),
            e.line(),
            e.column()
        )));
    }
    let root = CstRootNode::parse(before, &dialect.options()).map_err(|e| {
        Error::bad_input(format!(
            "{}:{}:{}: not valid {} ({}); fix it, then run setup again (nothing was changed)",
            path.display(),
            e.line_display(),
            e.column_display(),
            dialect.name(),
            e.kind()
        ))
    })?;
    let doc = match root.value() {
        // Empty, or only comments.
        None => root.object_value_or_set(),
        Some(v) => v.as_object().ok_or_else(|| {
            Error::bad_input(format!(
                "{} is not a JSON object; fix or move it, then run setup again (nothing was changed)",
                path.display()
            ))
        })?,
    };
    let what = edit(&doc).map_err(|e| match e {
        e @ Error::BadInput { .. } => e.reworded(|m| format!("{}: {m}", path.display())),
        other => other,
    })?;
    let mut text = root.to_string();
    if existing.is_none() && !text.ends_with('\n') {
        text.push('\n');
    }
    // Every edit that changes something says what it did.
    if what.is_empty() || text == before {
        return Ok(Planned::unchanged(path, "already as wanted"));
    }
    // The tree editor promises valid output for these edits; check it rather than write a broken file.
    if CstRootNode::parse(&text, &dialect.options()).is_err() {
        return Err(Error::internal(format!(
            "editing {} went wrong, so it was left as it was; please report this",
            path.display()
        )));
    }
    // A file left as `{}` (no key, no comment) is one setup made, or that held only baton's entries. One
    // that keeps a comment stays, as `{}` after the comment.
    let bare: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if existing.is_some() && bare == "{}" {
        return Ok(Planned {
            change: FileChange {
                path: path.to_path_buf(),
                action: "deleted",
                what,
            },
            text: None,
        });
    }
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

/// `value` as the tree editor's input.
fn cst_value(value: &Value) -> CstInputValue {
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(a) => CstInputValue::Array(a.iter().map(cst_value).collect()),
        Value::Object(o) => CstInputValue::Object(o.iter().map(|(k, v)| (k.clone(), cst_value(v))).collect()),
    }
}

/// `obj[name]` as an object: `None` when absent, bad input when it is something else.
fn object_at(obj: &CstObject, name: &str, what: &str) -> Result<Option<CstObject>> {
    match obj.get(name) {
        None => Ok(None),
        Some(prop) => prop
            .object_value()
            .map(Some)
            .ok_or_else(|| Error::bad_input(format!("{what} is not an object; fix it, then run setup again"))),
    }
}

/// `obj[name]` as a list: `None` when absent, bad input when it is something else.
fn array_at(obj: &CstObject, name: &str, what: &str) -> Result<Option<CstArray>> {
    match obj.get(name) {
        None => Ok(None),
        Some(prop) => prop
            .array_value()
            .map(Some)
            .ok_or_else(|| Error::bad_input(format!("{what} is not a list; fix it, then run setup again"))),
    }
}

/// Takes out `obj[name]` when it is an empty object or list (one baton emptied).
fn remove_if_empty(obj: &CstObject, name: &str) {
    let Some(prop) = obj.get(name) else { return };
    let empty = match prop.value() {
        Some(v) => match (v.as_object(), v.as_array()) {
            (Some(o), _) => o.properties().is_empty(),
            (_, Some(a)) => a.elements().is_empty(),
            _ => false,
        },
        None => false,
    };
    if empty {
        prop.remove();
    }
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

fn is_ours(hook: &CstNode, command: &str) -> bool {
    hook.as_object()
        .and_then(|h| h.get("command"))
        .and_then(|c| c.value())
        .and_then(|v| v.as_string_lit())
        .and_then(|s| s.decoded_value().ok())
        .is_some_and(|c| c == command)
}

/// The `hooks` list of a matcher group, when it has one.
fn group_hooks(group: &CstNode) -> Option<CstArray> {
    group.as_object()?.get("hooks")?.array_value()
}

/// Adds (or removes) one matcher group per event whose only hook is `baton hook <client>`.
fn hooks_edit(doc: &CstObject, client: Client, remove: bool, timeout: impl Fn(&str) -> u64) -> Result<String> {
    let command = hook_command(client);
    let hooks = match object_at(doc, "hooks", "the settings' \"hooks\"")? {
        Some(h) => h,
        None if remove => return Ok(String::new()),
        None => doc.object_value_or_set("hooks"),
    };
    let mut touched = Vec::new();
    for event in client.events() {
        let what = format!("the settings' hooks.{event}");
        let groups = match array_at(&hooks, event, &what)? {
            Some(g) => g,
            None if remove => continue,
            None => hooks.array_value_or_set(event),
        };
        let present = groups
            .elements()
            .iter()
            .any(|g| group_hooks(g).is_some_and(|hs| hs.elements().iter().any(|h| is_ours(h, &command))));
        if remove {
            if present {
                for g in groups.elements() {
                    let Some(hs) = group_hooks(&g) else { continue };
                    let ours: Vec<CstNode> = hs.elements().into_iter().filter(|h| is_ours(h, &command)).collect();
                    if ours.is_empty() {
                        continue;
                    }
                    ours.into_iter().for_each(CstNode::remove);
                    // Drop the groups that held only our hook.
                    if hs.elements().is_empty() {
                        g.remove();
                    }
                }
                remove_if_empty(&hooks, event);
                touched.push(*event);
            }
        } else if !present {
            let mut hook = json!({"type": "command", "command": command, "timeout": timeout(event)});
            if client == Client::Gemini
                && let Some(h) = hook.as_object_mut()
            {
                h.insert("name".into(), json!("baton"));
            }
            groups.append(cst_value(&json!({"matcher": "", "hooks": [hook]})));
            touched.push(*event);
        }
    }
    // Leave no empty object behind that baton emptied.
    if !touched.is_empty() {
        remove_if_empty(doc, "hooks");
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
fn mcp_edit(doc: &CstObject, client: Client, remove: bool) -> Result<String> {
    let wanted = json!({"command": MCP_COMMAND, "args": mcp_args(client)});
    let servers = match object_at(doc, "mcpServers", "the settings' \"mcpServers\"")? {
        Some(s) => s,
        None if remove => return Ok(String::new()),
        None => doc.object_value_or_set("mcpServers"),
    };
    if remove {
        let Some(ours) = servers
            .get("baton")
            .filter(|b| b.value().and_then(|v| v.to_serde_value()).as_ref() == Some(&wanted))
        else {
            return Ok(String::new());
        };
        ours.remove();
        remove_if_empty(doc, "mcpServers");
        Ok("removed MCP server baton".to_string())
    } else if servers.get("baton").is_some() {
        Ok(String::new())
    } else {
        servers.append("baton", cst_value(&wanted));
        Ok("added MCP server baton".to_string())
    }
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
