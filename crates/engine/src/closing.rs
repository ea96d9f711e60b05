//! Closing an assessment period (考核期关账): the period's canonical report — grouped by org at
//! every depth, as `jiancha report --period P --format json` prints it, evaluated at the
//! close's instant over the log up to a position — is fixed in the log by its SHA-256 in a
//! `PeriodClosed {period, digest, position}` supervision event, whose `occurred_at` is that
//! instant. Folding the log up to `position` again and evaluating at `occurred_at` reproduces
//! the report byte for byte, whatever was appended since; the digest proves it.
//!
//! A period is closed once: the event's id is `period-closed:<period>`, so the log itself
//! refuses a second close of the same period.

use jiancha_events::{EventData, NewEvent, PeriodClosed, StreamName, Timestamp};
use jiancha_projections::ledger::Dimension;
use jiancha_projections::report::Report;
use jiancha_projections::{
    instant, AlertConfig, Millis, Period, Projections, ReportQuery, Scoring,
};
use jiancha_store::{EventStore, StoreError};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

/// The id prefix of a `PeriodClosed` event; the period's label follows.
pub const CLOSE_ID_PREFIX: &str = "period-closed:";

/// A period's close, as recorded in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Closed {
    /// The period's label.
    pub period: String,
    /// The last position the closed report covers.
    pub position: u64,
    /// SHA-256 (hex) of the canonical report text.
    pub digest: String,
    /// The instant the report was evaluated at (the event's `occurred_at`, RFC 3339).
    pub closed_at: String,
    /// The same instant, in milliseconds.
    #[serde(skip)]
    pub at: Millis,
    /// Where the `PeriodClosed` event itself is.
    #[serde(skip)]
    pub event_position: u64,
}

/// A report of a closed period: the report's own fields, and beside its rows the close
/// (`closed`: period, position, digest, closed_at), unchanged rows.
#[derive(Debug, Serialize)]
pub struct ClosedReport<'a> {
    /// The report.
    #[serde(flatten)]
    pub report: &'a Report,
    /// Its period's close.
    pub closed: &'a Closed,
}

/// The query of a period's canonical report: by org, at every depth.
pub fn canonical_query(period: Period) -> ReportQuery {
    ReportQuery {
        period,
        by: Dimension::Org,
        depth: None,
    }
}

/// A report as `jiancha report --format json` prints it: pretty JSON and a newline.
pub fn report_text(report: &Report) -> Result<String, serde_json::Error> {
    Ok(format!("{}\n", serde_json::to_string_pretty(report)?))
}

/// SHA-256 of a text, lowercase hex.
pub fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The canonical report's text of `period` from `projections` at `now`; `None` when the
/// projections keep no ledger.
pub fn canonical_text(
    projections: &Projections,
    period: &Period,
    now: Millis,
) -> Option<Result<String, serde_json::Error>> {
    let report = projections.report(&canonical_query(period.clone()), now)?;
    Some(report_text(&report))
}

/// The close of the period labelled `label`, if it was closed (the first one in the log).
pub async fn find(store: &dyn EventStore, label: &str) -> Result<Option<Closed>, StoreError> {
    // The contexts of no case: the catalog, the calendar and the supervision acts naming no
    // case (a close among them), found by index instead of reading every act of the log.
    let uncased = store.read_contexts(&[]).await?;
    Ok(uncased.iter().find_map(|e| match &e.data {
        EventData::PeriodClosed(c) if c.period == label => Some(Closed {
            period: c.period.clone(),
            position: c.position,
            digest: c.digest.clone(),
            closed_at: jiancha_events::format_timestamp(&e.occurred_at),
            at: e.occurred_at.timestamp_millis(),
            event_position: e.position,
        }),
        _ => None,
    }))
}

/// The `PeriodClosed` event fixing `digest` of the report of `period` over the log up to
/// `position`, evaluated at `at`; its id makes a second close of the period a refusal.
pub fn close_event(
    period: &str,
    (digest, position): (String, u64),
    at: Timestamp,
    actor: &str,
    org: &str,
) -> Result<NewEvent, String> {
    let stream = StreamName::supervision();
    let data = EventData::PeriodClosed(PeriodClosed {
        period: period.to_owned(),
        digest,
        position,
    });
    data.check().map_err(|e| e.to_string())?;
    Ok(NewEvent::new(stream, at, actor, org, data).with_id(format!("{CLOSE_ID_PREFIX}{period}")))
}

/// The projections a closed report was computed from: the log folded up to the close's
/// position (an earlier snapshot helps, a later one cannot).
pub async fn fold_closed(
    store: &dyn EventStore,
    alerts: AlertConfig,
    scoring: Scoring,
    closed: &Closed,
) -> Result<Projections, StoreError> {
    let (projections, _) =
        crate::snapshots::restore_until(store, alerts, scoring, closed.position).await?;
    Ok(projections)
}

/// Whether a period has ended by `now` (its last day's 24:00, +08:00).
pub fn has_ended(period: &Period, now: Millis) -> bool {
    period.end() <= now
}

/// The instant a period ends, RFC 3339 (for messages).
pub fn end_text(period: &Period) -> String {
    instant::format(period.end())
}
