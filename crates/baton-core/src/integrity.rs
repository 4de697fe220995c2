//! The rules' own integrity, checked the same way on every backend: what `baton doctor` reports besides
//! the database's own checks ([`Store::integrity_check`]).

use std::collections::BTreeMap;

use crate::error::Result;
use crate::model::{ClaimState, ItemKey};
use crate::store::{self, ClaimQuery, EnumColumn, Store};

/// How many problems of one kind are listed at most.
const MAX_LISTED: usize = 20;

/// Every problem found: the database's own ([`Store::integrity_check`]), then the rules' (one live holder
/// per item, no live grant under a newer token, only known names in enum columns). Empty when healthy.
pub fn problems(store: &dyn Store) -> Result<Vec<String>> {
    let mut problems = store.integrity_check()?;
    problems.extend(store::read(store, |tx| {
        let mut found = Vec::new();
        for column in EnumColumn::ALL {
            for value in tx.unknown_values(*column, 5)? {
                found.push(format!("{} hold the unknown value '{value}'", column.holder()));
            }
        }
        let live = tx.claims(&ClaimQuery {
            states: vec![ClaimState::Held, ClaimState::Expired],
            ..Default::default()
        })?;
        let mut held: BTreeMap<String, (ItemKey, usize)> = BTreeMap::new();
        for c in live.iter().filter(|c| c.state == ClaimState::Held) {
            let key = c.key();
            held.entry(format!("{key:?}")).or_insert((key, 0)).1 += 1;
        }
        for (key, n) in held.values().filter(|(_, n)| *n > 1).take(MAX_LISTED) {
            found.push(format!(
                "{} {}#{} in project {} has {n} held grants",
                key.item_type, key.repo, key.item_id, key.project
            ));
        }
        let mut superseded = 0;
        for c in &live {
            if superseded == MAX_LISTED {
                break;
            }
            if tx.latest_claim(&c.key())?.is_some_and(|l| l.token > c.token) {
                superseded += 1;
                found.push(format!(
                    "{} {}#{} in project {}: grant with token {} is still {} although a newer grant exists",
                    c.item_type, c.repo, c.item_id, c.project, c.token, c.state
                ));
            }
        }
        Ok(found)
    })?);
    Ok(problems)
}
