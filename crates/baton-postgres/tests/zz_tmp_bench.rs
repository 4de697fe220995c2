use baton_core::config::Policy;
use baton_core::model::ReleaseStatus;
use baton_core::{Baton, Caller, ClaimRequest, Project, ReleaseRequest, StartRequest};
use baton_postgres::PgStore;
use std::sync::{Arc, Barrier};
use std::time::Instant;
#[test]
fn bench() {
    let url = std::env::var("BATON_TEST_DATABASE_URL").unwrap();
    let clients: usize = std::env::var("CLIENTS").unwrap().parse().unwrap();
    let schema = format!("baton_bench_{}", std::process::id());
    drop(PgStore::open_in_schema(&url, &schema).unwrap());
    let n = 300;
    let barrier = Arc::new(Barrier::new(clients + 1));
    let hs: Vec<_> = (0..clients)
        .map(|i| {
            let (url, schema, barrier) = (url.clone(), schema.clone(), barrier.clone());
            std::thread::spawn(move || {
                let b = Baton::new(
                    Box::new(PgStore::open_in_schema(&url, &schema).unwrap()),
                    Policy::default(),
                );
                let mut c = Caller {
                    project: Project::detect(&std::env::temp_dir(), Some("bench/p")),
                    agent: format!("a{i}"),
                    session: None,
                };
                c.session = Some(b.start_session(&c, StartRequest::default()).unwrap().session_id);
                barrier.wait();
                for k in 0..n {
                    let id = format!("{i}-{}", k % 20);
                    assert!(
                        b.claim(
                            &c,
                            ClaimRequest {
                                item_type: "task".into(),
                                item_id: id.clone(),
                                repo: None,
                                ttl: None,
                                idempotency_key: None
                            }
                        )
                        .unwrap()
                        .claimed
                    );
                    b.release(
                        &c,
                        ReleaseRequest {
                            item_type: "task".into(),
                            item_id: id,
                            repo: None,
                            status: ReleaseStatus::Completed,
                            notes: None,
                            force: false,
                            reason: None,
                            token: None,
                            idempotency_key: None,
                        },
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    barrier.wait();
    let t = Instant::now();
    for h in hs {
        h.join().unwrap();
    }
    let el = t.elapsed();
    eprintln!(
        "BENCH clients={clients} {} pairs in {:?}: {:.0} pairs/s",
        clients * n,
        el,
        (clients * n) as f64 / el.as_secs_f64()
    );
    let mut cl = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    cl.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).unwrap();
}
