//! The storage conformance suite on SQLite, one fresh database file per case.

use baton_core::Result;
use baton_core::store::{Store, Tx};
use baton_sqlite::SqliteStore;

/// A store in a temporary directory that is removed when the store is dropped.
struct TempStore {
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

impl Store for TempStore {
    fn backend(&self) -> &'static str {
        self.store.backend()
    }
    fn location(&self) -> String {
        self.store.location()
    }
    fn read(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.store.read(f)
    }
    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.store.write(f)
    }
    fn integrity_check(&self) -> Result<Vec<String>> {
        self.store.integrity_check()
    }
}

fn fresh_store() -> Box<dyn Store> {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let store = SqliteStore::open(&dir.path().join("baton.db")).expect("open a fresh SQLite store");
    assert_eq!(store.backend(), "sqlite");
    Box::new(TempStore { store, _dir: dir })
}

baton_conformance::conformance_suite!(fresh_store);
