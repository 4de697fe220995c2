//! Every command explains itself with an example, and the version is printed.

use crate::common::Env;

/// The subcommands a help text lists under "Commands:" (without `help`).
fn subcommands(help: &str) -> Vec<String> {
    let Some(at) = help.find("\nCommands:\n") else {
        return Vec::new();
    };
    help[at + "\nCommands:\n".len()..]
        .lines()
        .take_while(|l| !l.trim().is_empty())
        // A command's line starts with two spaces and its name; a wrapped description starts further in.
        .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// Every command and subcommand, as `baton --help` and each command's help list them.
fn every_command(env: &Env) -> Vec<Vec<String>> {
    let mut all = vec![Vec::new()];
    let mut i = 0;
    while i < all.len() {
        let mut args = all[i].clone();
        args.push("--help".to_string());
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = env.run(&argv);
        for sub in subcommands(&r.stdout) {
            let mut cmd = all[i].clone();
            cmd.push(sub);
            all.push(cmd);
        }
        i += 1;
        assert!(all.len() < 200, "runaway command list: {all:?}");
    }
    all
}

#[test]
fn every_command_has_help_with_an_example() {
    let env = Env::new();
    let commands = every_command(&env);
    for name in [
        "session",
        "claim",
        "hook",
        "setup",
        "mcp",
        "doc",
        "doctor",
        "completions",
        "man",
    ] {
        assert!(
            commands.iter().any(|c| c.first().map(String::as_str) == Some(name)),
            "{name} is not found in the help: {commands:?}"
        );
    }
    assert!(commands.iter().any(|c| c == &["session", "start"]), "{commands:?}");
    for cmd in &commands {
        let mut args: Vec<&str> = cmd.iter().map(String::as_str).collect();
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

/// Completion scripts and the man page come from the same definitions as the parser, and are well formed.
#[test]
fn completions_and_man_page() {
    let env = Env::new();
    let bash = env.run(&["completions", "bash"]);
    bash.ok();
    for word in [
        "_baton()",
        "heartbeat",
        "--idempotency-key",
        "--new-type",
        "complete -F _baton",
    ] {
        assert!(bash.stdout.contains(word), "the bash script lacks {word}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("baton.bash");
    std::fs::write(&script, &bash.stdout).expect("write the script");
    let syntax = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("run bash -n");
    assert!(syntax.status.success(), "{}", String::from_utf8_lossy(&syntax.stderr));
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let r = env.run(&["completions", shell]);
        r.ok();
        assert!(r.stdout.contains("claim"), "{shell}");
    }
    env.run(&["completions", "tcsh"]).code(2).stderr_has("'tcsh'");
    let man = env.run(&["man"]);
    man.ok();
    for word in [".TH baton 1", ".SH NAME", "session", "BATON_DATABASE_URL"] {
        assert!(man.stdout.contains(word), "the man page lacks {word}");
    }
}
