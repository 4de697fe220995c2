//! The storage conformance suite on PostgreSQL, one fresh schema per case.
//!
//! Runs when `BATON_TEST_DATABASE_URL` is set, and always in CI (`CI=true`); elsewhere without it
//! `cargo test` lists every case as ignored, with the reason (see build.rs). When the cases run, a
//! missing variable or a server that cannot be reached is a failure.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use baton_core::Result;
use baton_core::store::{Store, Tx};
use baton_postgres::PgStore;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A store in its own schema, dropped with the store.
struct SchemaStore {
    store: Option<PgStore>,
    url: String,
    schema: String,
}

impl SchemaStore {
    fn store(&self) -> &PgStore {
        self.store.as_ref().expect("the store lives until drop")
    }
}

impl Store for SchemaStore {
    fn backend(&self) -> &'static str {
        self.store().backend()
    }
    fn location(&self) -> String {
        self.store().location()
    }
    fn read(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.store().read(f)
    }
    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.store().write(f)
    }
    fn integrity_check(&self) -> Result<Vec<String>> {
        self.store().integrity_check()
    }
}

impl Drop for SchemaStore {
    fn drop(&mut self) {
        // Close the store's connections first so dropping the schema does not wait on them.
        self.store.take();
        if let Ok(mut client) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.schema));
        }
    }
}

fn fresh_store() -> Box<dyn Store> {
    let url = std::env::var("BATON_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .expect(NO_URL);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let schema = format!(
        "conf_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let store = PgStore::open_in_schema(&url, &schema)
        .unwrap_or_else(|e| panic!("cannot open PostgreSQL schema {schema} at BATON_TEST_DATABASE_URL: {e}"));
    assert_eq!(store.backend(), "postgres");
    Box::new(SchemaStore {
        store: Some(store),
        url,
        schema,
    })
}

/// Why a case built to run on PostgreSQL cannot.
const NO_URL: &str = "BATON_TEST_DATABASE_URL is not set, yet these tests were built to run on PostgreSQL \
                      (the variable was set at build time, or CI=true, where they must not be skipped)";

baton_conformance::conformance_suite!(
    #[cfg_attr(
        not(baton_test_postgres),
        ignore = "needs PostgreSQL: set BATON_TEST_DATABASE_URL=postgres://..."
    )]
    fresh_store
);
