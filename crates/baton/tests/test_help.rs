//! Every command explains itself with an example, and the version is printed.

use crate::common::Env;

const COMMANDS: &[&[&str]] = &[
    &[],
    &["session", "start"],
    &["session", "log"],
    &["session", "checkpoint"],
    &["session", "pause"],
    &["session", "resume"],
    &["session", "end"],
    &["session", "close"],
    &["session", "view"],
    &["session", "list"],
    &["claim"],
    &["release"],
    &["heartbeat"],
    &["claims"],
    &["changes"],
    &["digest"],
    &["doctor"],
];

#[test]
fn every_command_has_help_with_an_example() {
    let env = Env::new();
    for cmd in COMMANDS {
        let mut args = cmd.to_vec();
        args.push("--help");
        let r = env.run(&args);
        let shown = args.join(" ");
        assert_eq!(r.code, 0, "baton {shown}: exit {}\n{}", r.code, r.stderr);
        assert!(
            r.stdout.contains("Example"),
            "baton {shown} has no example:\n{}",
            r.stdout
        );
        assert!(r.stdout.contains("Usage: baton"), "baton {shown}:\n{}", r.stdout);
        if !cmd.is_empty() {
            // The usage line names the command, so the help is this command's and not the top level's.
            let usage = format!("Usage: baton {}", cmd.join(" "));
            assert!(
                r.stdout.contains(&usage),
                "baton {shown} lacks {usage:?}:\n{}",
                r.stdout
            );
        }
    }
    // `help` as a subcommand says the same as --help.
    let a = env.run(&["claim", "--help"]);
    let b = env.run(&["help", "claim"]);
    b.ok();
    assert_eq!(a.stdout, b.stdout);
    // Help never touches the store.
    assert!(!env.baton_home().join("baton.db").exists());
}

#[test]
fn top_level_help_lists_the_commands_and_exit_codes() {
    let r = Env::new().run(&["--help"]);
    r.ok();
    for word in [
        "session",
        "claim",
        "release",
        "heartbeat",
        "claims",
        "changes",
        "digest",
        "doctor",
        "Exit codes",
        "BATON_LOCK_TIMEOUT",
    ] {
        assert!(r.stdout.contains(word), "--help lacks {word}:\n{}", r.stdout);
    }
}

#[test]
fn version() {
    let env = Env::new();
    for flag in ["--version", "-V"] {
        let r = env.run(&[flag]);
        r.ok();
        assert_eq!(r.stdout.trim(), format!("baton {}", env!("CARGO_PKG_VERSION")));
    }
}
