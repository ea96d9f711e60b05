//! Rebuilding the projections from the log for a command: the whole log, or just what one case
//! needs (the catalog, the calendar amendments, its own stream and the supervision events that
//! name it), folded in position order and evaluated at an instant.

use std::sync::Arc;

use jiancha_events::StoredEvent;
use jiancha_projections::{asof, Millis, Projections};
use jiancha_store::{Clock, EventStore};

use crate::error::user_error;

/// Parses `--now`: an RFC 3339 instant with its offset, or a date meaning the end of that day
/// (24:00, +08:00); absent, the clock's now.
pub fn parse_now(text: Option<&str>, clock: &dyn Clock) -> anyhow::Result<Millis> {
    parse_instant_flag("--now", text, clock)
}

/// An instant given with `flag` (`--now`, `--as-of`), or the clock's now when absent; the
/// error names the flag.
pub fn parse_instant_flag(
    flag: &str,
    text: Option<&str>,
    clock: &dyn Clock,
) -> anyhow::Result<Millis> {
    let Some(text) = text else {
        return Ok(clock.now().timestamp_millis());
    };
    asof::parse_instant(text).map_err(|e| user_error(format!("{flag}: {e}")))
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

/// Folds every event of the log that occurred by `now` into `projections`, page by page, with
/// a progress bar on a terminal (a replay of a large log takes minutes).
async fn fold_log(
    store: &Arc<dyn EventStore>,
    now: Millis,
    mut projections: Projections,
) -> anyhow::Result<Projections> {
    let head = store.head().await?.position;
    let bar = crate::progress::bar(Some(head), "replay");
    let mut pages = store.pages(0);
    while let Some(page) = pages.next().await? {
        bar.inc(page.len() as u64);
        projections = asof::fold_occurred(projections, &page, now);
    }
    bar.finish_and_clear();
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
    Ok(asof::fold_occurred(Projections::default(), &events, now))
}

/// Brings the case index up to the log before a question at an instant, with a progress bar
/// over the log on a terminal (a first catch-up after a large import folds the whole district).
pub async fn index(store: &Arc<dyn EventStore>) -> anyhow::Result<()> {
    let state = store.index_state().await?;
    let head = store.head().await?.position;
    let current = state.fold_format == jiancha_projections::snapshot::SNAPSHOT_FORMAT;
    if state.position >= head && (state.position == 0 || current) {
        return Ok(());
    }
    // An index of another fold is built again from the start.
    let from = if current { state.position } else { 0 };
    let bar = crate::progress::bar(Some(head.saturating_sub(from)), "index");
    jiancha_engine::index::catch_up_reporting(
        &**store,
        jiancha_engine::index::BULK_AFTER_EVENTS,
        &mut |at| bar.set_position(at.saturating_sub(from)),
    )
    .await?;
    bar.finish_and_clear();
    Ok(())
}
