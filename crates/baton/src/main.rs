//! The `baton` binary: parses arguments, calls the core, prints.

mod cli;
mod commands;
mod output;
mod settings;

use clap::Parser;
use clap::error::ErrorKind;

fn main() {
    let code = match cli::Cli::try_parse() {
        Ok(cli) => match commands::run(&cli.global, cli.command) {
            Ok(code) => code,
            Err(e) => output::report_error(&e, cli.global.json),
        },
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                let _ = e.print();
                if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    2
                } else {
                    0
                }
            }
            _ => {
                if std::env::args().any(|a| a == "--json") {
                    let msg = e.render().to_string();
                    let first: Vec<&str> = msg
                        .lines()
                        .take_while(|l| !l.starts_with("Usage:"))
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .collect();
                    let first = first.join(" ").trim_start_matches("error: ").to_string();
                    let _ = output::print_json(&serde_json::json!({
                        "error": {"kind": "bad_input", "message": first, "exit_code": 2}
                    }));
                }
                let _ = e.print();
                // A hook must never block its client, and exit 2 blocks on blocking events.
                if std::env::args().nth(1).as_deref() == Some("hook") {
                    1
                } else {
                    2
                }
            }
        },
    };
    std::process::exit(code);
}
