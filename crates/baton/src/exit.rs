//! The one place where an error, baton's or the argument parser's, becomes output and an exit code.
//!
//! A command reports on stderr, and with `--json` also as one `{"error": ...}` object on stdout; its exit code
//! is the error kind's (see the README's table), 2 for arguments the parser refused. A hook reports one line
//! on stderr and exits 1 whatever went wrong: stdout belongs to the client, and exit 2 would block it.

use baton_core::Error;
use baton_core::words::{CommandLine, Words};
use clap::CommandFactory;
use clap::error::ErrorKind;
use serde_json::json;

use crate::cli::Cli;
use crate::output::print_json;

/// Who reads the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// A person or a script, in text or with `--json`.
    Command { json: bool },
    /// A coding client running `baton hook CLIENT`.
    Hook { client: String },
}

impl Mode {
    /// The mode of these arguments (the program name first), read without the parser so that arguments it
    /// refuses are still reported the right way: `baton --json hook claude` is a hook.
    pub fn of_args(args: &[String]) -> Mode {
        let cmd = Cli::command();
        let takes_value = |name: &str| {
            cmd.get_arguments().any(|a| {
                (a.get_long() == Some(name) || (name.len() == 1 && a.get_short() == name.chars().next()))
                    && a.get_action().takes_values()
            })
        };
        let mut json = false;
        let mut positional = Vec::new();
        let mut rest = args.iter().skip(1);
        while let Some(a) = rest.next() {
            if a == "--" {
                positional.extend(rest.by_ref().cloned());
                break;
            }
            if let Some(flag) = a.strip_prefix("--") {
                if flag == "json" {
                    json = true;
                } else if !flag.contains('=') && takes_value(flag) {
                    rest.next();
                }
            } else if let Some(short) = a.strip_prefix('-').filter(|s| !s.is_empty()) {
                if short.len() == 1 && takes_value(short) {
                    rest.next();
                }
            } else {
                positional.push(a.clone());
            }
        }
        match positional.first().map(String::as_str) {
            Some("hook") => Mode::Hook {
                client: positional.get(1).cloned().unwrap_or_default(),
            },
            _ => Mode::Command { json },
        }
    }
}

/// Reports `e` and returns the exit code.
pub fn report(e: &Error, mode: &Mode) -> i32 {
    let text = CommandLine.error(e);
    match mode {
        Mode::Hook { client } => {
            eprintln!("baton hook {client}: {}", text.replace('\n', " "));
            1
        }
        Mode::Command { json } => {
            if *json {
                let mut obj = json!({"kind": e.kind(), "message": text, "exit_code": e.exit_code()});
                if let (Some(details), Some(map)) = (e.details(), obj.as_object_mut())
                    && let Some(d) = details.as_object()
                {
                    for (k, v) in d {
                        map.insert(k.clone(), v.clone());
                    }
                }
                let _ = print_json(&json!({"error": obj}));
            }
            eprintln!("error: {text}");
            e.exit_code()
        }
    }
}

/// Reports what the argument parser said (help and the version are answers, not errors) and returns the
/// exit code.
pub fn report_arguments(e: &clap::Error, mode: &Mode) -> i32 {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            0
        }
        _ => {
            // What the parser said, on one line without the usage that follows it.
            let said = || {
                let text = e.render().to_string();
                let lines: Vec<&str> = text
                    .lines()
                    .take_while(|l| !l.starts_with("Usage:"))
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect();
                lines.join(" ").trim_start_matches("error: ").to_string()
            };
            match mode {
                Mode::Hook { client } => {
                    eprintln!("baton hook {client}: {}", said());
                    // A hook must never block its client, and exit 2 blocks on blocking events.
                    1
                }
                Mode::Command { json } => {
                    if *json && e.kind() != ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                        let _ = print_json(&json!({
                            "error": {"kind": "bad_input", "message": said(), "exit_code": 2}
                        }));
                    }
                    let _ = e.print();
                    2
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(args: &str) -> Mode {
        let args: Vec<String> = args.split_whitespace().map(str::to_string).collect();
        Mode::of_args(&args)
    }

    #[test]
    fn a_hook_is_a_hook_whatever_flags_come_first() {
        let hook = |c: &str| Mode::Hook { client: c.to_string() };
        assert_eq!(mode("baton hook claude"), hook("claude"));
        assert_eq!(mode("baton --json hook claude SessionStart"), hook("claude"));
        assert_eq!(mode("baton --agent hook hook codex"), hook("codex"));
        assert_eq!(mode("baton --project=p hook gemini"), hook("gemini"));
        assert_eq!(mode("baton hook"), hook(""));
    }

    #[test]
    fn other_commands_say_whether_json_was_asked() {
        assert_eq!(mode("baton --json claims"), Mode::Command { json: true });
        assert_eq!(mode("baton claims --json"), Mode::Command { json: true });
        assert_eq!(mode("baton --session hook claims"), Mode::Command { json: false });
        assert_eq!(mode("baton session start hook"), Mode::Command { json: false });
    }
}
