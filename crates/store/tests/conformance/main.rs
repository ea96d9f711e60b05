//! The store conformance suite: every `EventStore` implementation must pass the same checks.
//! Each check is written once, as a function of a fresh store, and run against every backend:
//! memory, SQLite and PostgreSQL. The PostgreSQL tests use the server `JIANCHA_TEST_PG` names
//! (default [`PG_DEFAULT`]), each test in a fresh schema dropped afterwards, and fail with a
//! clear message when it is unreachable: they never skip.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code: a failed unwrap is a failed test"
)]

mod checks;
mod index;
mod ownership;
mod postgres;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use jiancha_store::{EventStore, ManualClock};

/// A fresh store of one backend, with the files it needs kept alive.
#[derive(Debug)]
pub struct Fixture {
    pub store: Arc<dyn EventStore>,
    pub clock: ManualClock,
    _dir: Option<tempfile::TempDir>,
    _schema: Option<postgres::Schema>,
}

pub fn start_instant() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T01:00:00Z")
        .unwrap()
        .to_utc()
}

/// A fresh store at `url`, keeping alive what it lives in.
async fn fixture(
    url: &str,
    dir: Option<tempfile::TempDir>,
    schema: Option<postgres::Schema>,
) -> Fixture {
    let clock = ManualClock::new(start_instant());
    let store = jiancha_store::open(url, Arc::new(clock.clone()))
        .await
        .unwrap();
    Fixture {
        store,
        clock,
        _dir: dir,
        _schema: schema,
    }
}

pub async fn memory() -> Fixture {
    fixture("memory:", None, None).await
}

pub async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("log.db").display());
    fixture(&url, Some(dir), None).await
}

/// The PostgreSQL server of the tests when `JIANCHA_TEST_PG` is not set.
pub const PG_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";

pub async fn postgres() -> Fixture {
    let schema = postgres::Schema::create().await;
    let url = schema.url();
    fixture(&url, None, Some(schema)).await
}

macro_rules! conformance {
    ($($check:ident),* $(,)?) => {
        mod memory_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    crate::checks::$check(crate::memory().await).await;
                }
            )*
        }
        mod sqlite_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    crate::checks::$check(crate::sqlite().await).await;
                }
            )*
        }
        mod postgres_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    crate::checks::$check(crate::postgres().await).await;
                }
            )*
        }
    };
}

conformance!(
    appends_get_gap_free_positions_and_versions,
    a_version_conflict_names_the_stream_and_both_versions,
    a_retried_id_returns_the_original_positions_and_writes_nothing,
    a_reused_id_with_other_content_is_refused,
    an_actor_or_org_a_line_may_not_carry_is_refused,
    a_batch_is_all_or_nothing,
    a_case_event_needs_a_submitted_case,
    reads_after_a_position_and_by_stream,
    pages_cross_page_boundaries_and_read_at_finds_a_position,
    concurrent_writers_lose_nothing_and_leave_no_gap,
    an_import_commits_everything_or_nothing,
    a_moved_log_reproduces_every_field,
    an_import_onto_existing_streams_counts_on_from_their_versions,
    a_retried_import_of_a_moved_log_appends_nothing,
    queued_chunks_planned_ahead_survive_a_retried_chunk,
    a_later_chunk_with_stored_ids_keeps_the_earlier_chunks,
    a_moved_event_must_land_where_it_was,
    the_stored_chain_verifies,
    a_snapshot_is_kept_and_replaced,
    the_supervision_acts_on_a_case_are_found_by_it,
    a_large_snapshot_is_kept_in_parts,
    a_case_context_holds_what_the_case_depends_on,
    a_project_context_holds_the_thresholds_and_the_registrations,
    a_large_chunk_refused_at_its_end_is_written_once,
    an_import_keeps_every_byte_of_the_text,
    a_stored_event_inside_a_run_of_chunks_is_found,
    a_second_submitted_is_refused,
    a_scoped_append_writes_only_to_cases_its_org_handles,
    a_transfer_outside_the_district_is_refused,
    a_scoped_batch_opens_projects_of_its_own_purchasers_only,
    an_id_tells_a_scoped_batch_nothing_of_another_orgs_case,
    racing_submissions_never_hand_a_case_to_another_org,
    a_scope_is_judged_in_log_order_within_a_group,
    a_historical_import_declares_its_own_positions_first,
    a_historical_import_holds_exactly_its_new_events,
    exported_events_continue_a_log_only_when_moved_is_asked,
    the_case_index_round_trips,
    kept_alerts_follow_their_rows,
    an_index_is_reset_only_from_the_state_read,
    a_stale_or_ahead_index_write_writes_nothing,
    index_marks_come_before_the_rows,
    a_large_index_write_round_trips,
    the_contexts_of_streams_are_what_the_filter_keeps,
    the_contexts_of_thousands_of_cases_are_read_by_index,
    racing_index_writes_from_one_position_write_once,
);
