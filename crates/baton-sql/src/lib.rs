//! What baton's SQL stores share beyond their dialects, written once: the column lists both schemas have,
//! where each enum is stored, the predicates whose meaning the storage contract fixes, and the errors a
//! refused write turns into. Each store keeps only its dialect: placeholders, types, locks, plans.
//!
//! Nothing here talks to a database; it depends on the core alone.

mod decisions;
mod filter;
mod interfaces;
mod messages;
mod row;
mod search;

pub use decisions::*;
pub use filter::{Filter, Placeholder, insert_sql, update_sql, update_values};
pub use interfaces::*;
pub use messages::*;
pub use row::{
    Columns, Value, claim, claim_values, decision, entry, entry_values, event, idempotency, idempotency_values,
    new_event_values, search_hit, session, session_values,
};
pub use search::*;

use baton_core::store::EnumColumn;
use baton_core::{Claim, Error};
use serde_json::json;

/// The columns of `sessions`, in the order the stores read and insert them.
pub const SESSION_COLS: &str = "id, project, agent, name, role, context, task_ids, status, git_branch, git_commit, \
     worktree, created_at, updated_at, last_seen, ended_at, compaction_count, summary, handoff";
/// The columns of `claims`, in the order the stores read and insert them.
pub const CLAIM_COLS: &str = "id, project, item_type, repo, item_id, token, session_id, agent, state, ttl_secs, \
     granted_at, renewed_at, expires_at, ended_at, release_status, notes, loss_reported, forced_by";
/// The columns of `journal_entries`, in the order the stores read and insert them.
pub const ENTRY_COLS: &str = "id, session_id, kind, text, rationale, created_at, supersedes";
/// What a search query selects, in this order: the hit's kind (`decision`, `journal`, `handoff`), its id, its
/// entry kind (NULL for a handoff), session id, agent, time, snippet and rank (higher is better).
pub const SEARCH_HIT_COLS: &str = "kind, id, entry_kind, session_id, agent, time, snippet, rank";
/// The columns of `events`, in the order the stores read them.
pub const EVENT_COLS: &str = "seq, time, project, agent, session_id, kind, target, data";
/// The columns of `events` an insert names (the store numbers `seq`).
pub const NEW_EVENT_COLS: &str = "time, project, agent, session_id, kind, target, data";
/// The columns of `sessions` an update may change.
pub const SESSION_SET: &str = "name, role, context, task_ids, status, git_branch, git_commit, worktree, updated_at, \
     last_seen, ended_at, compaction_count, summary, handoff";
/// The columns of `claims` an update may change.
pub const CLAIM_SET: &str =
    "state, ttl_secs, renewed_at, expires_at, ended_at, release_status, notes, loss_reported, forced_by";
/// The columns an update of a claim matches: its id, and its item and token (so a row that was somehow
/// given another grant's id is never overwritten).
pub const CLAIM_MATCH: &str = "id, project, item_type, repo, item_id, token";

/// The statement that updates a session (`update_values(SESSION_COLS, session_values(s), SESSION_SET, "id")`
/// binds it).
pub fn update_session_sql(style: Placeholder) -> String {
    update_sql(style, "sessions", SESSION_SET, "id")
}

/// The parameters of [`update_session_sql`].
pub fn update_session_values(s: &baton_core::Session) -> baton_core::Result<Vec<Value>> {
    Ok(update_values(SESSION_COLS, session_values(s)?, SESSION_SET, "id"))
}

/// The statement that updates a claim.
pub fn update_claim_sql(style: Placeholder) -> String {
    update_sql(style, "claims", CLAIM_SET, CLAIM_MATCH)
}

/// The parameters of [`update_claim_sql`].
pub fn update_claim_values(c: &Claim) -> Vec<Value> {
    update_values(CLAIM_COLS, claim_values(c), CLAIM_SET, CLAIM_MATCH)
}

/// The columns of `idempotency`, in the order the stores read and insert them.
pub const IDEMPOTENCY_COLS: &str = "project, scope, key, command, request, result, created_at";

/// `cols` with each column qualified by `alias` (`e.id, e.session_id, ...`).
pub fn qualified(alias: &str, cols: &str) -> String {
    cols.split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The table and column that hold an enum's names.
pub fn enum_column(column: EnumColumn) -> (&'static str, &'static str) {
    match column {
        EnumColumn::SessionStatus => ("sessions", "status"),
        EnumColumn::ClaimState => ("claims", "state"),
        EnumColumn::ReleaseStatus => ("claims", "release_status"),
        EnumColumn::EntryKind => ("journal_entries", "kind"),
        EnumColumn::RequestStatus => ("requests", "status"),
        EnumColumn::RequestKind => ("requests", "kind"),
    }
}

/// `ClaimQuery::loss_unreported`: a grant its holder lost, to a takeover or to someone else's release, and
/// was not told of yet.
pub const LOSS_UNREPORTED: &str = "(state = 'taken_over' OR forced_by IS NOT NULL) AND NOT loss_reported";

/// The condition of `EventQuery::kind`: an exact kind when it has a dot, else the family (the kind itself
/// and every `kind.*`), compared as written in both dialects (no LIKE, whose wildcards and case rules
/// differ). `text` binds a text parameter and returns its placeholder.
pub fn kind_condition(kind: &str, mut text: impl FnMut(String) -> String) -> String {
    if kind.contains('.') {
        return format!("kind = {}", text(kind.to_string()));
    }
    let exact = text(kind.to_string());
    let prefix = text(format!("{kind}."));
    format!("(kind = {exact} OR substr(kind, 1, length({prefix})) = {prefix})")
}

/// `column IN ('a', 'b')` over names of the model's own (never user input): the stores' partial indexes of
/// open rows are used only by queries that name their states.
pub fn one_of(column: &str, names: impl Iterator<Item = &'static str>) -> String {
    let quoted: Vec<String> = names
        .map(|n| {
            debug_assert!(n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            format!("'{n}'")
        })
        .collect();
    format!("{column} IN ({})", quoted.join(", "))
}

/// A grant the database refused: a second held grant of its item, or (`duplicate_token`) a second grant
/// with its token.
pub fn refused_claim(claim: &Claim, duplicate_token: bool) -> Error {
    let label = claim.key().label();
    let message = if duplicate_token {
        format!(
            "{label} already has a grant with token {}: the database refused a duplicate",
            claim.token
        )
    } else {
        format!("{label} is already held: the database refused a second grant")
    };
    Error::conflict(message, json!({"item": claim.key(), "token": claim.token}))
}

/// An entry the database refused: one with an id already used (`duplicate_id`), or a second decision
/// superseding the same one.
pub fn refused_entry(entry: &baton_core::JournalEntry, duplicate_id: bool) -> Error {
    if duplicate_id {
        return Error::conflict(
            format!(
                "journal entry '{}' already exists: the database refused a duplicate",
                entry.id
            ),
            json!({"entry": entry.id}),
        );
    }
    let old = entry.supersedes.as_deref().unwrap_or_default();
    Error::conflict(
        format!("decision '{old}' was already superseded by another decision: the database refused a second"),
        json!({"entry": old}),
    )
}

/// A second idempotency record for one caller and key.
pub fn refused_idempotency_key(key: &str) -> Error {
    Error::conflict(
        format!("idempotency key '{key}' was used by a concurrent request; retry to get its result"),
        json!({"idempotency_key": key}),
    )
}

/// The error of an update that found no claim with this id (and its item and token).
pub fn no_claim_to_update(id: &str) -> Error {
    Error::not_found(format!("no claim with id '{id}' to update"))
}

/// The error of an update that found no session with this id.
pub fn no_session_to_update(id: &str) -> Error {
    Error::not_found(format!("no session '{id}' to update"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_with_a_dot_is_exact_and_one_without_is_a_family() {
        let mut bound = Vec::new();
        let mut n = 0;
        let mut text = |v: String| {
            bound.push(v);
            n += 1;
            format!("${n}")
        };
        assert_eq!(kind_condition("claim.granted", &mut text), "kind = $1");
        assert_eq!(
            kind_condition("a_b", &mut text),
            "(kind = $2 OR substr(kind, 1, length($3)) = $3)"
        );
        assert_eq!(bound, ["claim.granted", "a_b", "a_b."]);
    }

    #[test]
    fn columns_are_qualified_one_by_one() {
        assert_eq!(qualified("e", "id, kind"), "e.id, e.kind");
        assert_eq!(
            qualified("e", ENTRY_COLS),
            "e.id, e.session_id, e.kind, e.text, e.rationale, e.created_at, e.supersedes"
        );
    }
}
