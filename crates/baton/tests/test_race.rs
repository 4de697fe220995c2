//! Real processes racing for the same items: exactly one winner per item, every loser exits 3.

use std::collections::HashMap;
use std::sync::Arc;

use crate::common::{Backend, Env, Run};

const RACERS: usize = 16;
const ITEMS: usize = 200;

fn rounds() -> usize {
    std::env::var("BATON_RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

/// A tiny deterministic shuffle so each racer walks the items in its own order.
fn order(seed: u64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..ITEMS).collect();
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let j = (x % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
    v
}

fn race(env: Env) {
    let env = Arc::new(env);
    for round in 0..rounds() {
        let sessions: Vec<String> = (0..RACERS)
            .map(|r| env.start(&format!("racer-{r}"), &format!("round {round}")))
            .collect();
        let mut handles = Vec::new();
        for (r, sid) in sessions.iter().cloned().enumerate() {
            let env = Arc::clone(&env);
            handles.push(std::thread::spawn(move || {
                let mut results = Vec::with_capacity(ITEMS);
                for item in order((round * RACERS + r) as u64 + 1) {
                    let id = format!("{}", round * 1000 + item);
                    let run: Run = env.run(&["claim", "issue", &id, "--session", &sid, "--json"]);
                    results.push((item, run));
                }
                (sid, results)
            }));
        }
        let mut winners: HashMap<usize, Vec<String>> = HashMap::new();
        for h in handles {
            let (sid, results) = h.join().expect("racer thread");
            for (item, run) in results {
                match run.code {
                    0 => {
                        let j = run.json();
                        assert_eq!(j["claimed"], true, "{}", run.stdout);
                        winners.entry(item).or_default().push(sid.clone());
                    }
                    3 => {
                        let j = run.json();
                        assert_eq!(j["claimed"], false, "{}", run.stdout);
                        assert!(j["claimed_by"]["session"].is_string(), "{}", run.stdout);
                        assert_ne!(j["claimed_by"]["session"], sid.as_str());
                    }
                    other => panic!(
                        "round {round} item {item}: exit {other} (expected 0 or 3)\nstdout: {}\nstderr: {}",
                        run.stdout, run.stderr
                    ),
                }
            }
        }
        for item in 0..ITEMS {
            let w = winners.get(&item).map(Vec::len).unwrap_or(0);
            assert_eq!(w, 1, "round {round} item {item}: {w} winners");
        }
        // The store agrees: each item has exactly the winner as holder.
        let claims = env.run(&["claims", "--json"]);
        claims.ok();
        let list = claims.json()["claims"].as_array().cloned().unwrap_or_default();
        for item in 0..ITEMS {
            let id = format!("{}", round * 1000 + item);
            let holders: Vec<&serde_json::Value> = list.iter().filter(|c| c["item_id"] == id.as_str()).collect();
            assert_eq!(holders.len(), 1, "round {round} item {id}: holders {holders:?}");
            assert_eq!(holders[0]["session_id"], winners[&item][0].as_str());
        }
    }
    let doctor = env.run(&["doctor", "--json"]);
    doctor.ok();
    assert_eq!(doctor.json()["healthy"], true);
}

#[test]
fn sixteen_processes_race_for_two_hundred_items_sqlite() {
    race(Env::new());
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn sixteen_processes_race_for_two_hundred_items_postgres() {
    race(Env::with_backend(Backend::postgres()));
}
