//! The rules' integrity checks, the same on every backend.

use baton_core::integrity;
use baton_core::store::EnumColumn;
use baton_core::{ClaimState, ReleaseStatus};

use super::*;

/// A healthy store has no problems; a grant still live under a newer token of its item is one, named the
/// same way on every backend; enum columns of rows the rules wrote hold no unknown value.
pub fn store_integrity_finds_a_live_grant_under_a_newer_token(make: &MakeStore) {
    let store = open(make);
    let key = item("issue", "7");
    let mut released = grant("c1", &item("issue", "8"), 1, "s1", 0);
    released.state = ClaimState::Released;
    released.release_status = Some(ReleaseStatus::Completed);
    write(&*store, |tx| {
        tx.insert_session(&session("s1", PROJECT, "claude-code", 0))?;
        tx.insert_claim(&released)?;
        tx.insert_claim(&grant("c2", &item("issue", "8"), 2, "s1", 10))?;
        tx.insert_claim(&grant("c3", &key, 1, "s1", 0))
    });
    assert_eq!(
        ok(integrity::problems(&*store)),
        Vec::<String>::new(),
        "a healthy store"
    );
    write(&*store, |tx| {
        let mut old = tx.latest_claim(&key)?.expect("the grant");
        old.state = ClaimState::Expired;
        tx.update_claim(&old)?;
        tx.insert_claim(&grant("c4", &key, 2, "s1", 20))
    });
    assert_eq!(
        ok(integrity::problems(&*store)),
        [format!(
            "issue {REPO}#7 in project {PROJECT}: grant with token 1 is still expired although a newer grant exists"
        )]
    );
    read(&*store, |tx| {
        for column in EnumColumn::ALL {
            assert_eq!(tx.unknown_values(*column, 5)?, Vec::<String>::new(), "{column:?}");
        }
        Ok(())
    });
}
