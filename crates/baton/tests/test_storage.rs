//! The embedded store stays small and fast across many short-lived processes.

use crate::common::Env;

/// Every CLI call is a fresh process. Without trimming, SQLite's WAL would grow with history
/// (each process's auto-checkpoint starts from scratch), and every call's start-up with it.
#[test]
fn wal_stays_bounded_across_many_processes() {
    let env = Env::new();
    let sid = env.start("walker", "many writes");
    for i in 0..150 {
        let id = i.to_string();
        env.run(&["claim", "task", &id, "--session", &sid]).ok();
    }
    let wal = env.baton_home().join("baton.db-wal");
    let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(size < 3 * 1024 * 1024, "WAL grew to {size} bytes after 150 writes");
    let doctor = env.run(&["doctor", "--json"]);
    doctor.ok();
    assert_eq!(doctor.json()["healthy"], true);
}
