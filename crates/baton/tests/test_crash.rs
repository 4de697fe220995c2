//! Processes killed mid-claim leave a healthy store: every acknowledged claim is there, and no item has two holders.

use std::collections::HashMap;
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::{Backend, Env};

const BATCHES: usize = 4;
const PER_BATCH: usize = 40;

/// A small xorshift generator; the seed is printed so a failing run can be told apart.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

#[test]
fn killed_claimers_leave_a_consistent_store_sqlite() {
    killed_claimers(Env::new());
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn killed_claimers_leave_a_consistent_store_postgres() {
    killed_claimers(Env::with_backend(Backend::postgres()));
}

fn killed_claimers(env: Env) {
    let sessions = [env.start("crash-a", "a"), env.start("crash-b", "b")];
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    eprintln!("crash test seed {seed}");
    let mut rng = Rng(seed);

    // item id -> session that was told it holds it.
    let mut acknowledged: HashMap<String, String> = HashMap::new();
    let mut killed = 0;
    for batch in 0..BATCHES {
        let mut runs = Vec::new();
        for i in 0..PER_BATCH {
            let item = format!("{}", batch * 1000 + i);
            let sid = sessions[(i + batch) % 2].clone();
            let mut child: Child = env
                .cmd(&["claim", "issue", &item, "--session", &sid, "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn baton");
            // About half are killed, each after its own delay from spawn: some before they open
            // the store, some mid-transaction, some after they answered.
            let kill_after = rng
                .next()
                .is_multiple_of(2)
                .then(|| Duration::from_micros(rng.next() % 25_000));
            runs.push(std::thread::spawn(move || {
                if let Some(d) = kill_after {
                    std::thread::sleep(d);
                    let _ = child.kill();
                }
                let out = child.wait_with_output().expect("wait");
                (item, sid, out)
            }));
        }
        for run in runs {
            let (item, sid, out) = run.join().expect("claimer thread");
            match out.status.code() {
                // Exit 0 with `claimed: true` on stdout is an acknowledgement, killed or not.
                Some(0) => {
                    let j: Value = serde_json::from_slice(&out.stdout)
                        .unwrap_or_else(|e| panic!("item {item}: exit 0 without JSON ({e}): {:?}", out.stdout));
                    assert_eq!(j["claimed"], true, "item {item}: {j}");
                    assert_eq!(j["claim"]["session_id"], sid.as_str());
                    acknowledged.insert(item, sid);
                }
                None => killed += 1,
                Some(code) => panic!(
                    "item {item}: exit {code} (no one else claims it)\nstdout: {}\nstderr: {}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            }
        }
    }
    eprintln!(
        "{} acknowledged, {killed} killed before they exited",
        acknowledged.len()
    );
    assert!(!acknowledged.is_empty(), "no claim finished: the test proves nothing");
    assert!(
        killed > 0,
        "no process was killed before it exited: the test proves nothing"
    );

    let r = env.run(&["doctor", "--json"]);
    r.ok();
    let d = r.json();
    assert_eq!(d["healthy"], true, "{d}");
    assert_eq!(d["problems"], serde_json::json!([]));

    let listed = env.run(&["claims", "--json"]).json();
    let claims = listed["claims"].as_array().cloned().unwrap_or_default();
    let mut holders: HashMap<String, Vec<String>> = HashMap::new();
    for c in &claims {
        holders
            .entry(c["item_id"].as_str().unwrap().to_string())
            .or_default()
            .push(c["session_id"].as_str().unwrap().to_string());
        assert_eq!(c["token"], 1, "{c}");
        assert_eq!(c["state"], "held", "{c}");
    }
    for (item, h) in &holders {
        assert_eq!(h.len(), 1, "item {item} has {} holders: {h:?}", h.len());
    }
    for (item, sid) in &acknowledged {
        assert_eq!(
            holders.get(item),
            Some(&vec![sid.clone()]),
            "acknowledged claim on {item} is missing"
        );
    }

    // Each grant and its event were written together: one claim.granted per claim, and nothing else.
    let events = env.all_events();
    let mut granted: Vec<String> = events
        .iter()
        .filter(|e| e["kind"] == "claim.granted")
        .map(|e| {
            e["target"]
                .as_str()
                .unwrap()
                .rsplit_once('#')
                .expect("a label with #")
                .1
                .to_string()
        })
        .collect();
    granted.sort();
    let mut held: Vec<String> = holders.keys().cloned().collect();
    held.sort();
    assert_eq!(granted, held);

    // The store still takes writes from both sessions.
    for sid in &sessions {
        let r = env.run(&["claim", "issue", &format!("after-{sid}"), "--session", sid, "--json"]);
        r.ok();
    }
    let r = env.run(&["doctor", "--json"]);
    r.ok();
}
