//! The README's walkthrough, run as written in a fresh repository: every command prints what the README shows,
//! ids and times aside.

use std::path::Path;

use crate::common::{Env, baton_bin};

/// The `console` blocks of the README's walkthrough, as (command, expected output) pairs.
fn walkthrough() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
        .expect("read the README");
    let start = readme.find("## Walkthrough").expect("a walkthrough section");
    let end = start + readme[start..].find("### Commands").expect("the commands after it");
    let mut steps: Vec<(String, String)> = Vec::new();
    let mut in_block = false;
    for line in readme[start..end].lines() {
        if line.starts_with("```console") {
            in_block = true;
        } else if line.starts_with("```") {
            in_block = false;
        } else if in_block {
            match line.strip_prefix("$ ") {
                Some(cmd) => steps.push((cmd.to_string(), String::new())),
                None => {
                    let (_, out) = steps.last_mut().expect("output follows a command");
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
    }
    steps
}

/// Ids become `<ID1>`, `<ID2>`… in the order they first appear, and times `<TIME>`.
fn normalize(text: &str) -> String {
    let mut ids: Vec<String> = Vec::new();
    let mut out = String::new();
    for token in split_keep(text) {
        // A sentence's full stop is not part of the id or time before it.
        let word = token.trim_end_matches('.');
        let stop = &token[word.len()..];
        if is_uuid(word) {
            let n = match ids.iter().position(|i| i == word) {
                Some(n) => n,
                None => {
                    ids.push(word.to_string());
                    ids.len() - 1
                }
            };
            out.push_str(&format!("<ID{}>{stop}", n + 1));
        } else if is_time(word) {
            out.push_str(&format!("<TIME>{stop}"));
        } else if is_duration(word) {
            // "0s ago" may be "1s ago" on a loaded machine, "in 29m" may be "in 30m".
            out.push_str(&format!("<DURATION>{stop}"));
        } else {
            out.push_str(&token);
        }
    }
    out.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_string()
}

/// `0s`, `29m`, `3h`, `2d`.
fn is_duration(w: &str) -> bool {
    let digits = w.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && ["s", "m", "h", "d"].contains(&&w[digits..])
}

/// Splits into runs of id-and-time characters and everything else, keeping both.
fn split_keep(text: &str) -> Vec<String> {
    let token = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '.');
    let mut parts: Vec<String> = Vec::new();
    for c in text.chars() {
        match parts.last_mut() {
            Some(last) if last.chars().next().is_some_and(token) == token(c) => last.push(c),
            _ => parts.push(c.to_string()),
        }
    }
    parts
}

fn is_uuid(w: &str) -> bool {
    let groups: Vec<&str> = w.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `2026-11-22T03:25:20Z` or `2026-11-22T03:25:20.130567Z`.
fn is_time(w: &str) -> bool {
    w.len() >= 20 && w.as_bytes()[4] == b'-' && w.as_bytes()[10] == b'T' && w.ends_with('Z')
}

#[test]
fn readme_walkthrough_runs_as_written() {
    let steps = walkthrough();
    assert!(steps.len() >= 10, "the walkthrough has its commands: {steps:?}");
    let env = Env::new();
    // One shell for the whole walkthrough, so that its `export`s hold for what follows.
    let mut script = String::new();
    for (cmd, _) in &steps {
        // The marker keeps the last exit status, for the walkthrough's `echo $?`.
        script.push_str(&format!("__s=$?; printf '@@step@@\\n'; (exit $__s)\n{cmd} 2>&1\n"));
    }
    let bin_dir = baton_bin().parent().expect("the binary's folder").to_path_buf();
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .current_dir(&env.repo)
        .env_clear()
        .env(
            "PATH",
            format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default()),
        )
        .env("HOME", env.home.path())
        .env("BATON_HOME", env.baton_home())
        .env("USER", "tester")
        .output()
        .expect("run the walkthrough");
    let printed = String::from_utf8_lossy(&out.stdout);
    let actual: Vec<&str> = printed.split("@@step@@\n").skip(1).collect();
    assert_eq!(actual.len(), steps.len(), "every step ran: {printed}");
    // Ids are numbered across the whole walkthrough, so one id means the same session everywhere.
    let expected_all: String = steps.iter().map(|(c, o)| format!("$ {c}\n{o}")).collect();
    let actual_all: String = steps
        .iter()
        .zip(&actual)
        .map(|((c, _), a)| format!("$ {c}\n{a}"))
        .collect();
    let (expected_all, actual_all) = (normalize(&expected_all), normalize(&actual_all));
    // Step by step; the blank lines the README puts between steps are not output.
    let expected: Vec<&str> = expected_all.split("\n$ ").collect();
    let actual: Vec<&str> = actual_all.split("\n$ ").collect();
    assert_eq!(expected.len(), actual.len(), "{actual_all}");
    for (e, a) in expected.iter().zip(&actual) {
        assert_eq!(a.trim_end(), e.trim_end(), "the README's walkthrough says otherwise");
    }
}

#[test]
fn normalizing_ids_and_times() {
    assert_eq!(
        normalize(
            "Session 01a20148-d64c-7f7e-a0b5-4f3c8f3f1d2e started; expires 2026-11-22T03:55:20Z (in 29m).\nagain 01a20148-d64c-7f7e-a0b5-4f3c8f3f1d2e, other 01a20148-e0a1-7c55-8e3b-0d6c2b8d9a41 at 2026-11-22T03:55:20.130567Z   \n\n"
        ),
        "Session <ID1> started; expires <TIME> (in <DURATION>).\nagain <ID1>, other <ID2> at <TIME>"
    );
}
