//! Rebuilding the projections from the log for a command: the whole log, or just what one case
//! needs (the catalog, the calendar amendments, its own stream and the supervision events that
//! name it), folded in position order and evaluated at an instant.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate};
use jiancha_events::StoredEvent;
use jiancha_projections::{instant, Millis, Projections};
use jiancha_store::{Clock, EventStore};

use crate::error::user_error;

/// Parses `--now`: an RFC 3339 instant with its offset, or a date meaning the end of that day
/// (24:00, +08:00); absent, the clock's now.
pub fn parse_now(text: Option<&str>, clock: &dyn Clock) -> anyhow::Result<Millis> {
    let Some(text) = text else {
        return Ok(clock.now().timestamp_millis());
    };
    if let Ok(ts) = DateTime::parse_from_rfc3339(text) {
        return Ok(ts.timestamp_millis());
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(instant::end_of(date));
    }
    Err(user_error(format!(
        "--now: {text:?} is neither an RFC 3339 instant with offset (2026-03-31T17:00:00+08:00) nor a date (2026-03-31)"
    )))
}

/// Whether an event had happened by `now` (business time).
fn by(event: &StoredEvent, now: Millis) -> bool {
    jiancha_projections::instant::occurred_by(event, now)
}

/// Folds the whole log, events that occurred by `now`.
pub async fn whole_log(store: &Arc<dyn EventStore>, now: Millis) -> anyhow::Result<Projections> {
    fold_log(store, now, Projections::default()).await
}

/// Folds the whole log into the projections with the assessment ledger, events that occurred
/// by `now`.
pub async fn assessment(
    store: &Arc<dyn EventStore>,
    now: Millis,
    scoring: jiancha_projections::Scoring,
) -> anyhow::Result<Projections> {
    fold_log(store, now, Projections::default().with_ledger(scoring)).await
}

/// Folds every event of the log that occurred by `now` into `projections`, page by page.
async fn fold_log(
    store: &Arc<dyn EventStore>,
    now: Millis,
    mut projections: Projections,
) -> anyhow::Result<Projections> {
    let mut pages = store.pages(0);
    while let Some(page) = pages.next().await? {
        for event in page.iter().filter(|e| by(e, now)) {
            projections.apply(event);
        }
    }
    Ok(projections)
}

/// The events one case's state depends on: the catalog, the calendar amendments, its own
/// stream and the supervision events that name it, in position order.
pub async fn case_events(
    store: &Arc<dyn EventStore>,
    case: &str,
) -> anyhow::Result<Vec<StoredEvent>> {
    Ok(store.read_case_context(case).await?)
}

/// Events replayed past a snapshot before a read command keeps a fresh one.
pub const SNAPSHOT_AFTER_EVENTS: u64 = 10_000;

/// The whole log's projections with the ledger, for a command evaluated at the current
/// instant: from the snapshot kept beside the log plus the events after it (keeping a fresh
/// snapshot when the tail was long). An explicit `--now` replays instead, so that only events
/// that had occurred by then count.
pub async fn current(
    store: &Arc<dyn EventStore>,
    explicit_now: Option<Millis>,
    scoring: jiancha_projections::Scoring,
) -> anyhow::Result<Projections> {
    if let Some(now) = explicit_now {
        return assessment(store, now, scoring).await;
    }
    let alerts = jiancha_projections::AlertConfig::default();
    let (p, how) = jiancha_engine::snapshots::restore_or_replay(&**store, alerts, scoring).await?;
    if how.replayed >= SNAPSHOT_AFTER_EVENTS {
        jiancha_engine::snapshots::save(&**store, &p).await?;
    }
    Ok(p)
}

/// Folds what one case needs, events that occurred by `now`.
pub async fn one_case(
    store: &Arc<dyn EventStore>,
    case: &str,
    now: Millis,
) -> anyhow::Result<Projections> {
    let events = case_events(store, case).await?;
    let mut projections = Projections::default();
    for event in events.iter().filter(|e| by(e, now)) {
        projections.apply(event);
    }
    Ok(projections)
}

/// Whether an event had been recorded and had occurred by `as_of`: what the log showed then.
pub fn known_by(event: &StoredEvent, as_of: Millis) -> bool {
    by(event, as_of) && event.recorded_at.timestamp_millis() <= as_of
}
