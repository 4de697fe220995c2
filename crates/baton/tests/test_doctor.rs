//! `baton doctor` runs the same integrity checks on every backend: the rules' checks live in the core,
//! and only the database's own checks differ.

use serde_json::json;

use crate::common::{Backend, Env, unique};

/// Damages a store the way no baton call would, through `exec` (raw SQL from outside), and checks what
/// `doctor --json` reports.
fn problems_after_damage(env: &Env, mut exec: impl FnMut(&str)) {
    env.start("alice", "auth");
    env.run_as("alice", &["session", "log", "--note", "a note"]).ok();
    for args in [
        &["claim", "issue", "1"][..],
        &["release", "issue", "1", "--status", "completed"],
        &["claim", "issue", "1"],
        &["claim", "issue", "2"],
        &["release", "issue", "2", "--status", "deferred"],
    ] {
        env.run_as("alice", args).ok();
    }
    let healthy = env.run(&["doctor", "--json"]);
    healthy.ok();
    assert_eq!(healthy.json()["problems"], json!([]));

    exec("UPDATE claims SET state = 'expired' WHERE item_id = '1' AND token = 1");
    exec("UPDATE claims SET release_status = 'abandoned' WHERE item_id = '2'");
    exec("UPDATE journal_entries SET kind = 'musing'");
    let r = env.run(&["doctor", "--json"]);
    r.code(1);
    // The report, then the error it ends with.
    let first = r.stdout.lines().next().expect("the report");
    let d: serde_json::Value = serde_json::from_str(first).expect("the report is JSON");
    assert_eq!(d["healthy"], false, "{d}");
    let (project, repo) = (
        d["project"].as_str().expect("project"),
        d["repo"].as_str().expect("repo"),
    );
    assert_eq!(
        d["problems"],
        json!([
            "claims' release statuses hold the unknown value 'abandoned'",
            "journal entries hold the unknown value 'musing'",
            format!(
                "issue {repo}#1 in project {project}: grant with token 1 is still expired although a newer grant exists"
            ),
        ])
    );
}

#[test]
fn doctor_reports_the_rules_problems_on_sqlite() {
    let env = Env::new();
    let db = env.baton_home().join("baton.db");
    problems_after_damage(&env, |sql| {
        let conn = rusqlite::Connection::open(&db).expect("open the store");
        conn.execute_batch(sql).expect("damage the store");
    });
    env.run(&["doctor"])
        .code(1)
        .stdout_has("Integrity: 3 problems\n  claims' release statuses hold the unknown value 'abandoned'");
}

#[test]
#[cfg_attr(
    not(baton_test_postgres),
    ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
)]
fn doctor_reports_the_same_problems_on_postgres() {
    let Backend::Postgres(url) = Backend::postgres() else {
        unreachable!("Backend::postgres is PostgreSQL");
    };
    // A schema of its own: the damage must not show in other tests' doctor runs.
    let schema = unique("doctor").replace('-', "_");
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect to PostgreSQL");
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .expect("create the schema");
    let sep = if url.contains('?') { '&' } else { '?' };
    let env = Env::with_backend(Backend::Postgres(format!("{url}{sep}options=-csearch_path%3D{schema}")));
    problems_after_damage(&env, |sql| {
        admin
            .batch_execute(&format!("SET search_path TO {schema}; {sql}"))
            .expect("damage the store");
    });
    let _ = admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
}
