//! The `baton` binary: parses arguments, calls the core, prints.

mod cli;
mod commands;
mod exit;
mod output;
mod settings;

use clap::Parser;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = exit::Mode::of_args(&args);
    let code = match cli::Cli::try_parse_from(&args) {
        Ok(cli) => commands::run(&cli.global, cli.command).unwrap_or_else(|e| exit::report(&e, &mode)),
        Err(e) => exit::report_arguments(&e, &mode),
    };
    std::process::exit(code);
}
