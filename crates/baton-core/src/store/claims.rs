//! Claims: leased grants of work items, one row per grant.

use crate::error::Result;
use crate::model::{Claim, ClaimState, ItemKey, SessionId};
use crate::time::Timestamp;

/// Which claims to list. Results are ordered by `granted_at`, oldest first, ties by id. Filters combine.
#[derive(Debug, Clone, Default)]
pub struct ClaimQuery {
    pub project: Option<String>,
    pub session_id: Option<SessionId>,
    pub item_type: Option<String>,
    /// Empty means any state.
    pub states: Vec<ClaimState>,
    /// Only claims whose lease ran out before this time.
    pub expires_before: Option<Timestamp>,
    /// Only grants their holder lost, taken over (`taken_over`) or released by someone else (`forced_by`
    /// set), whose loss the holder has not been told yet (`loss_reported` false). Combines with `states`.
    pub loss_unreported: bool,
    pub limit: Option<u32>,
}

/// Grants of work items: the newest grant of an item decides who holds it. Part of [`super::Tx`].
pub trait ClaimTx {
    /// Serialises claim decisions on one item for the rest of the transaction: `latest_claim` of the item,
    /// called after this, sees every decision on it committed before. A store may take the lock as late as
    /// just before that read (PostgreSQL sends both with the transaction's next read).
    fn lock_item(&mut self, key: &ItemKey) -> Result<()>;
    /// The grant with the highest token for this item.
    fn latest_claim(&mut self, key: &ItemKey) -> Result<Option<Claim>>;
    /// The newest grant of this item to this session.
    fn session_claim_on(&mut self, key: &ItemKey, session_id: &str) -> Result<Option<Claim>>;
    /// Records a grant. A second held grant of one item, or a second grant of an item with the same token,
    /// is refused by the database itself as [`crate::Error::Conflict`].
    fn insert_claim(&mut self, claim: &Claim) -> Result<()>;
    /// Overwrites the mutable fields (state, lease, end, release status, notes, `loss_reported`,
    /// `forced_by`) of the claim with this id. Its item and token never change and must be those it was
    /// inserted with; when no claim has this id with them, [`crate::Error::NotFound`].
    fn update_claim(&mut self, claim: &Claim) -> Result<()>;
    fn claims(&mut self, query: &ClaimQuery) -> Result<Vec<Claim>>;
}
