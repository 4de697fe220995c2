//! Which baton session a client process's conversation is on, so that the MCP server the client started
//! uses the session its hooks started.
//!
//! A client runs its hooks and its stdio MCP servers as its own descendants. Each hook call writes the session
//! of its conversation under `$BATON_HOME/hooks/clients/`, once for each of its nearest ancestors, keyed by
//! process id and start time (so a reused pid never matches); the MCP server reads the record of its nearest
//! ancestor that has one, which is the client process itself. Two windows are two client processes, each
//! with its own record. Linux only (it reads `/proc`); elsewhere nothing is recorded and the MCP server falls
//! back to `--session`, `BATON_SESSION` or the agent's only active session.

use std::path::{Path, PathBuf};

/// How many ancestors a hook records and the MCP server looks at: the client may run either through a shell
/// (`sh -c "baton hook claude"`) or a launcher.
const DEPTH: usize = 3;

/// A process, as far as telling it apart from a later one with the same pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Proc {
    pid: u32,
    /// Start time in clock ticks after boot.
    start: u64,
}

/// `(parent pid, start time)` of a process, from `/proc/<pid>/stat`.
fn stat(pid: u32) -> Option<(u32, u64)> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

fn parse_stat(text: &str) -> Option<(u32, u64)> {
    // The command name may hold spaces and parentheses: fields are counted after its last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(3) ppid(4) … starttime(22).
    let ppid = fields.get(1)?.parse().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((ppid, start))
}

/// The nearest ancestors of this process, parent first, stopping before init.
fn ancestors() -> Vec<Proc> {
    let mut out = Vec::new();
    let Some((mut pid, _)) = stat(std::process::id()) else {
        return out;
    };
    while out.len() < DEPTH && pid > 1 {
        let Some((ppid, start)) = stat(pid) else { break };
        out.push(Proc { pid, start });
        pid = ppid;
    }
    out
}

fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("clients")
}

fn file(state_dir: &Path, p: Proc) -> PathBuf {
    dir(state_dir).join(format!("{}-{}", p.pid, p.start))
}

/// Records that the conversation of the client running this hook is on `session_id` of `agent`.
/// Best effort: a record that cannot be written only leaves the MCP server on its fallback.
pub fn record(state_dir: &Path, agent: &str, session_id: &str) {
    let procs = ancestors();
    if procs.is_empty() {
        return;
    }
    let d = dir(state_dir);
    if std::fs::create_dir_all(&d).is_err() {
        return;
    }
    let text = format!("{session_id} {agent}\n");
    for p in procs {
        let path = file(state_dir, p);
        if std::fs::read_to_string(&path).is_ok_and(|t| t == text) {
            continue;
        }
        let tmp = d.join(format!(".{}-{}.{}", p.pid, p.start, std::process::id()));
        if std::fs::write(&tmp, &text).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
}

/// The session recorded for this process's client with agent `agent`: the record of the nearest ancestor
/// that has one. Read on each call, so a conversation that moved to another session is followed.
pub fn lookup(state_dir: &Path, agent: &str) -> Option<String> {
    for p in ancestors() {
        let Ok(text) = std::fs::read_to_string(file(state_dir, p)) else {
            continue;
        };
        let mut parts = text.split_whitespace();
        let (Some(id), Some(who)) = (parts.next(), parts.next()) else {
            continue;
        };
        // The nearest record is the client's; one of another agent means this is not its MCP server.
        return (who == agent).then(|| id.to_string());
    }
    None
}

/// Removes the records of processes that are gone; run now and then (on SessionStart).
pub fn prune(state_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir(state_dir)) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let live = name
            .split_once('-')
            .and_then(|(pid, start)| Some((pid.parse::<u32>().ok()?, start.parse::<u64>().ok()?)))
            .is_some_and(|(pid, start)| stat(pid).is_some_and(|(_, s)| s == start));
        if !live {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn a_record_is_found_from_the_same_process_tree() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(lookup(dir.path(), "claude-code"), None);
        record(dir.path(), "claude-code", "0193-aaaa");
        assert_eq!(lookup(dir.path(), "claude-code").as_deref(), Some("0193-aaaa"));
        // Another client's MCP server does not take it.
        assert_eq!(lookup(dir.path(), "codex"), None);
        // The conversation moved on: the newest record wins.
        record(dir.path(), "claude-code", "0193-bbbb");
        assert_eq!(lookup(dir.path(), "claude-code").as_deref(), Some("0193-bbbb"));
        // Records of live processes survive pruning; a dead one's goes.
        std::fs::write(dir.path().join("clients").join("4194303-1"), "x y\n").unwrap();
        prune(dir.path());
        assert!(!dir.path().join("clients").join("4194303-1").exists());
        assert_eq!(lookup(dir.path(), "claude-code").as_deref(), Some("0193-bbbb"));
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn stat_reads_names_with_spaces_and_parentheses() {
        let (ppid, start) = stat(std::process::id()).unwrap();
        assert!(ppid > 0 && start > 0);
        let line = "4242 (node (x) y) S 4100 4242 4100 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 11 0 987654 1000 50";
        assert_eq!(parse_stat(line), Some((4100, 987654)));
        assert_eq!(parse_stat("4242 (node"), None);
    }
}
