//! Closing an assessment period (考核期关账): the period's canonical report — grouped by org at
//! every depth, as `jiancha report --period P --format json` prints it, evaluated at the
//! close's instant over the log up to a position — is fixed in the log by its SHA-256 in a
//! `PeriodClosed {period, digest, position}` supervision event, whose `occurred_at` is that
//! instant. Folding the log up to `position` again and evaluating at `occurred_at` reproduces
//! the report byte for byte, whatever was appended since; the digest proves it.
//!
//! A period is closed once: the event's id is `period-closed:<period>`, so the log itself
//! refuses a second close of the same period.

use jiancha_events::jsonl::EVENT_DATA_BYTES_MAX;
use jiancha_events::{EventData, NewEvent, PeriodClosed, StoredEvent, StreamName, Timestamp};
use jiancha_projections::ledger::Dimension;
use jiancha_projections::report::Report;
use jiancha_projections::{
    instant, AlertConfig, Millis, Period, Projections, ReportQuery, Scoring,
};
use jiancha_store::verify::check_against;
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

/// The report's figures as a close keeps them: compact JSON, whose pretty form is
/// [`report_text`].
pub fn kept_text(report: &Report) -> Result<String, serde_json::Error> {
    serde_json::to_string(report)
}

/// A closed report kept in its close that is not the report its digest fixes.
#[derive(Debug, thiserror::Error)]
pub enum KeptError {
    /// Reading the close.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The kept text is not a report, or does not hash to the digest.
    #[error("the report kept in the close of {period} (position {position}) {why}")]
    Mismatch {
        /// The period.
        period: String,
        /// Where the `PeriodClosed` event is.
        position: u64,
        /// What is wrong.
        why: String,
    },
}

/// The report kept in a close, checked against its digest; `None` for a close that keeps none
/// (written before reports were kept, or too large).
pub async fn kept_report(
    store: &dyn EventStore,
    closed: &Closed,
) -> Result<Option<Report>, KeptError> {
    // The close's own row must hold against its neighbours before its figures are trusted: a
    // close rewritten with figures and a digest of its own breaks the chain right there.
    let p = closed.event_position;
    let rows = store.read_raw_after(p.saturating_sub(2), 3).await?;
    let Some(raw) = rows.iter().find(|r| r.position == p) else {
        return Err(mismatch(
            closed,
            "cannot be read: no event is at that position".to_owned(),
        ));
    };
    let previous = rows.iter().find(|r| r.position + 1 == p);
    let next = rows.iter().find(|r| r.position == p + 1);
    let holds = check_against(previous, raw).and_then(|()| match next {
        Some(next) => check_against(Some(raw), next),
        None => Ok(()),
    });
    if let Err(b) = holds {
        return Err(mismatch(
            closed,
            format!("is not trusted: the chain breaks at {b}"),
        ));
    }
    let event = raw.decode().ok();
    match event.as_ref().and_then(Closed::of_event) {
        Some((c, kept)) if c.period == closed.period => {
            kept.map(|text| check_kept(closed, text)).transpose()
        }
        _ => Err(mismatch(
            closed,
            "cannot be read: no close of the period is at that position".to_owned(),
        )),
    }
}

/// Says (a warning) that the figures of `closed` are read from the close, because a replay
/// computed the digest `computed` instead of the recorded one.
pub fn warn_read_from_close(closed: &Closed, computed: &str) {
    tracing::warn!(
        period = %closed.period,
        recorded = %closed.digest,
        computed,
        "the closed figures are read from the close: a replay of the log computes the period \
         otherwise (another scoring, rules changed since the close, or the log before the \
         close altered: `jiancha verify` tells)"
    );
}

/// A kept report's text read back and checked against the close's digest.
pub fn check_kept(closed: &Closed, text: &str) -> Result<Report, KeptError> {
    let report =
        Report::from_json(text).map_err(|e| mismatch(closed, format!("is not a report: {e}")))?;
    let pretty = report_text(&report).map_err(|e| mismatch(closed, e.to_string()))?;
    let computed = digest(&pretty);
    if computed != closed.digest {
        return Err(mismatch(
            closed,
            format!(
                "does not hash to its digest: {} recorded, {computed} computed",
                closed.digest
            ),
        ));
    }
    Ok(report)
}

fn mismatch(closed: &Closed, why: String) -> KeptError {
    KeptError::Mismatch {
        period: closed.period.clone(),
        position: closed.event_position,
        why,
    }
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

impl Closed {
    /// The close a `PeriodClosed` event records, and the figures it keeps; `None` for any other
    /// event.
    pub fn of_event(e: &StoredEvent) -> Option<(Closed, Option<&str>)> {
        match &e.data {
            EventData::PeriodClosed(c) => Some((
                Closed {
                    period: c.period.clone(),
                    position: c.position,
                    digest: c.digest.clone(),
                    closed_at: jiancha_events::format_timestamp(&e.occurred_at),
                    at: e.occurred_at.timestamp_millis(),
                    event_position: e.position,
                },
                c.report.as_deref(),
            )),
            _ => None,
        }
    }
}

/// The close of the period labelled `label`, if it was closed (the first one in the log).
pub async fn find(store: &dyn EventStore, label: &str) -> Result<Option<Closed>, StoreError> {
    // The contexts of no case: the catalog, the calendar and the supervision acts naming no
    // case (a close among them), found by index instead of reading every act of the log.
    let uncased = store.read_contexts(&[]).await?;
    Ok(uncased
        .iter()
        .filter_map(Closed::of_event)
        .map(|(c, _)| c)
        .find(|c| c.period == label))
}

/// The `PeriodClosed` event fixing `digest` of the report of `period` over the log up to
/// `position`, evaluated at `at`, and keeping the report's figures (`kept`, from
/// [`kept_text`]); its id makes a second close of the period a refusal.
pub fn close_event(
    period: &str,
    (digest, position): (String, u64),
    kept: Option<String>,
    at: Timestamp,
    actor: &str,
    org: &str,
) -> Result<NewEvent, String> {
    let stream = StreamName::supervision();
    let mut close = PeriodClosed {
        period: period.to_owned(),
        digest,
        position,
        report: kept,
    };
    // A report too large for one event (a district of thousands of units) is not kept: the
    // close then stands on its digest alone, as closes did before reports were kept.
    let fits =
        |c: &PeriodClosed| serde_json::to_string(c).is_ok_and(|t| t.len() <= EVENT_DATA_BYTES_MAX);
    if close.report.is_some() && !fits(&close) {
        tracing::warn!(
            period,
            "the closed report is too large to keep in its close"
        );
        close.report = None;
    }
    let data = EventData::PeriodClosed(close);
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
