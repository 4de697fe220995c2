//! Decides at build time whether the PostgreSQL tests run, so that `cargo test` reports them as ignored,
//! with the reason, when there is no server to run them against.
//!
//! `baton_test_postgres` is set when `BATON_TEST_DATABASE_URL` is, and always in CI (`CI=true`): there a
//! missing variable makes the tests fail instead of being ignored.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=BATON_TEST_DATABASE_URL");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rustc-check-cfg=cfg(baton_test_postgres)");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let url = std::env::var("BATON_TEST_DATABASE_URL").is_ok_and(|v| !v.trim().is_empty());
    if url || ci {
        println!("cargo::rustc-cfg=baton_test_postgres");
    }
}
