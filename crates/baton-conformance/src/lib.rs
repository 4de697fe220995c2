//! One storage conformance suite, written once and run against every backend.
//!
//! Most cases drive [`baton_core::Baton`] over a fresh, empty store and check behaviour users rely on:
//! exact results, exit codes, events, and that refused input changes nothing. The `store_` cases (the
//! storage contract, in `storage/`) drive each [`baton_core::store::Tx`] primitive directly. Time is a manual clock,
//! so leases run out and sessions go stale without sleeping.
//!
//! A backend runs the suite from an integration test:
//!
//! ```ignore
//! baton_conformance::conformance_suite!(|| -> Box<dyn baton_core::store::Store> {
//!     Box::new(MyStore::open_fresh().expect("open a fresh store"))
//! });
//! ```
//!
//! Attributes written before the factory go on every case. A backend that is not always available
//! marks its cases ignored where it is missing, so that `cargo test` counts them as ignored rather
//! than passed:
//!
//! ```ignore
//! baton_conformance::conformance_suite!(
//!     #[cfg_attr(not(my_store_available), ignore = "needs MyStore")]
//!     fresh_store
//! );
//! ```

mod claims;
mod decisions;
mod digest;
mod documents;
mod events;
mod harness;
mod keys;
mod messages;
mod observed;
mod search;
mod sessions;
mod storage;
mod told;

pub use claims::*;
pub use decisions::*;
pub use digest::*;
pub use documents::*;
pub use events::*;
pub use harness::{Harness, MakeStore, Snapshot};
pub use keys::*;
pub use messages::*;
pub use observed::*;
pub use search::*;
pub use sessions::*;
pub use storage::*;
pub use told::*;

/// Expands to one `#[test]` per conformance case, each calling `$make` for a fresh store.
///
/// `$make` is an expression usable as `&dyn Fn() -> Box<dyn baton_core::store::Store>`; after attributes,
/// which every case then carries, it is the path of such a function.
#[macro_export]
macro_rules! conformance_suite {
    // Internal: every case, each with the attributes in brackets.
    (@cases $attrs:tt $make:expr) => {
        $crate::__conformance_cases!($attrs $make;
            session_start_first_session,
            session_start_shows_last_handoff,
            session_start_rejects_bad_input,
            session_log_every_kind,
            session_log_rationale_only_with_decision,
            wire_fields_are_parsed_by_the_core,
            session_log_rejects_empty_and_oversized_text,
            session_log_to_ended_session,
            session_resolution_none_is_not_found,
            session_resolution_ambiguous_names_candidates,
            session_resolution_explicit_wins,
            session_resolution_unknown_id_is_not_found,
            session_resolution_malformed_id_is_bad_input,
            pause_and_resume_returns_context,
            pause_and_resume_illegal_transitions,
            close_abandon_releases_claims,
            close_complete,
            staleness_and_sweep,
            claim_grants_token_one,
            claim_held_by_other_reports_holder,
            claim_by_holder_renews,
            claims_are_scoped_by_project_and_repo,
            claim_rejects_bad_input,
            release_by_holder_each_status,
            release_by_non_holder_is_conflict,
            release_force_needs_reason,
            release_force_with_reason_records_it,
            release_of_unclaimed_is_not_found,
            release_with_stale_token_is_conflict,
            expired_lease_is_taken_over,
            lost_lease_release_is_conflict,
            heartbeat_reports_lost_lease_once,
            heartbeat_renews_claims,
            idempotent_claim_replays,
            idempotency_key_reused_is_bad_input,
            idempotent_log_and_start_write_once,
            claim_key_of_another_session_is_not_replayed,
            release_key_of_another_session_is_not_replayed,
            log_key_of_another_session_is_not_replayed,
            start_key_of_another_agent_is_not_replayed,
            end_key_of_another_session_is_not_replayed,
            second_active_session_of_an_agent_warns,
            a_new_conversation_continues_the_paused_session,
            an_empty_conversation_leaves_no_session,
            the_handoff_shown_is_of_this_line_of_work,
            heartbeat_of_a_paused_session_says_it_resumed_it,
            writes_without_a_session_name_the_paused_one,
            resume_without_an_id_is_ambiguous_among_several,
            unknown_work_type_is_refused_with_a_suggestion,
            forced_release_is_reported_to_the_holder_like_a_lost_lease,
            a_session_without_a_goal_takes_the_first_given,
            changes_oldest_first,
            changes_kind_filter,
            changes_agent_filter,
            changes_paging_visits_every_event_once,
            changes_since_duration_time_cursor,
            changes_rejects_bad_input,
            every_state_change_writes_an_event,
            digest_shows_others_claims_blockers,
            digest_counts_changes_since_previous_session,
            digest_fits_size_bound,
            digest_shortens_long_handoff,
            imported_document_fields_are_kept_with_the_session,
            session_documents_are_read_by_key_and_written_with_their_transaction,
            store_claims_read_back_and_the_latest_has_the_highest_token,
            store_update_claim_is_by_id,
            store_refuses_a_second_holder_as_a_conflict,
            store_claim_queries_filter_and_order,
            store_loss_unreported_is_a_lost_grant_not_yet_told,
            store_sessions_read_back_and_update_by_id,
            store_update_of_a_missing_session_is_not_found,
            store_session_queries_filter_and_order,
            store_project_keys_page_through_projects,
            store_entries_filter_and_order,
            store_events_get_growing_seqs_and_read_back,
            store_event_queries_filter,
            store_events_page_and_list_newest_first,
            store_event_counts_filter_and_stop_at_the_cap,
            store_first_seq_since_a_time,
            store_idempotency_records_are_kept_once_per_caller_and_key,
            store_session_documents_are_replaced_and_read_by_key,
            store_a_failed_transaction_keeps_nothing,
            store_integrity_finds_a_live_grant_under_a_newer_token,
            store_search_follows_the_rows_it_covers,
            store_search_ranks_the_newest_matches_only,
            store_a_decision_is_superseded_once,
            decisions_are_listed_newest_first_across_sessions,
            a_superseding_decision_replaces_the_older_one,
            superseding_is_refused_unless_the_older_one_is_a_current_decision_of_the_project,
            decisions_reject_bad_input,
            search_finds_entries_and_handoffs_best_first,
            search_kinds_narrow_and_limit_bounds,
            search_rejects_bad_input,
            observers_hear_each_commit_once_with_its_events,
            observers_hear_nothing_of_reads_and_refused_writes,
            a_write_run_twice_is_heard_once_with_what_committed,
            a_write_that_does_not_commit_is_not_heard,
            an_observer_that_fails_makes_a_warning,
            messages_reach_whom_they_are_addressed_to,
            a_message_to_an_agent_waits_for_its_next_session,
            a_message_is_new_once_and_an_ack_is_idempotent,
            open_messages_close_when_expired_or_acked_by_all,
            inbox_pages_by_cursor_without_skips_or_repeats,
            replies_form_threads_seen_by_their_participants,
            sending_refuses_bad_input_and_changes_nothing,
            only_recipients_ack,
            requests_are_answered_by_their_addressee,
            hooks_are_told_of_each_message_once,
            store_deliveries_are_kept_once_and_placed_in_order,
            needing_an_interface_tells_when_it_is_declared,
            interfaces_refuse_bad_input_and_change_nothing,
            roles_are_built_in_or_configured,
            instructions_get_their_context_and_a_session,
            a_team_context_is_imported_once,
        );
    };
    ($(#[$attr:meta])+ $make:path) => {
        $crate::conformance_suite!(@cases [$(#[$attr])+] $make);
    };
    ($make:expr) => {
        $crate::conformance_suite!(@cases [] $make);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($attrs:tt $make:expr; $($case:ident),+ $(,)?) => {
        $(
            $crate::__conformance_case!($attrs $make; $case);
        )+
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_case {
    ([$(#[$attr:meta])*] $make:expr; $case:ident) => {
        $(#[$attr])*
        #[test]
        fn $case() {
            $crate::$case(&$make)
        }
    };
}
