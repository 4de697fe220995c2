//! Decides at build time which of the tests that need something from outside run, so that `cargo test`
//! reports the others as ignored, with the reason, instead of letting them pass without running.
//!
//! - `baton_test_postgres`: `BATON_TEST_DATABASE_URL` is set.
//! - `baton_test_claude`, `baton_test_codex`, `baton_test_gemini`: `BATON_TEST_CLAUDE`, `BATON_TEST_CODEX`,
//!   `BATON_TEST_GEMINI` is set, or Claude Code, Codex CLI, Gemini CLI is installed where `.ci/run` puts it.
//! - `baton_test_python_mcp`: `python3` imports the MCP SDK (looked for when this crate is built).
//!
//! In CI (`CI=true`) all of them are set: there a missing server or client makes its tests fail.

use std::path::Path;
use std::process::{Command, Stdio};

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    for var in [
        "CI",
        "BATON_TEST_DATABASE_URL",
        "BATON_TEST_CLAUDE",
        "BATON_TEST_CODEX",
        "BATON_TEST_GEMINI",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    for cfg in [
        "baton_test_postgres",
        "baton_test_claude",
        "baton_test_codex",
        "baton_test_gemini",
        "baton_test_python_mcp",
    ] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let set = |var: &str| std::env::var_os(var).is_some_and(|v| !v.to_string_lossy().trim().is_empty());

    if ci || set("BATON_TEST_DATABASE_URL") {
        println!("cargo::rustc-cfg=baton_test_postgres");
    }

    // The same places the client tests look when their variable is not set. Watched only while they
    // exist: a missing watched path would rebuild the crate on every build.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    // npm rewrites this file whenever it installs another client there.
    let clients = Path::new(&manifest).join("../../target/clients/package.json");
    if clients.is_file() {
        println!("cargo::rerun-if-changed={}", clients.display());
    }
    for (client, var, cfg) in [
        ("claude", "BATON_TEST_CLAUDE", "baton_test_claude"),
        ("codex", "BATON_TEST_CODEX", "baton_test_codex"),
        ("gemini", "BATON_TEST_GEMINI", "baton_test_gemini"),
    ] {
        let installed = Path::new(&manifest)
            .join("../../target/clients/node_modules/.bin")
            .join(client);
        if installed.is_file() {
            println!("cargo::rerun-if-changed={}", installed.display());
        }
        if ci || set(var) || installed.is_file() {
            println!("cargo::rustc-cfg={cfg}");
        }
    }

    let python_mcp = Command::new("python3")
        .args(["-c", "import mcp"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ci || python_mcp {
        println!("cargo::rustc-cfg=baton_test_python_mcp");
    }
}
