//! One case's evidence pack for supervision and appeals, the one builder behind `jiancha
//! evidence` and `GET /api/v1/cases/{id}/evidence`: its events exactly as stored, each checked
//! by the store's chain verifier against its stored bytes and the row before it (never a
//! re-encoding, so an imported event checks too), the log head they chain to, the calendar days
//! its limits counted, the rules and limits in force, its cards, its ledger entries and who was
//! told of them (its notifications).
//!
//! The pack is read from the log and folded afresh at the instant given (the events that had
//! occurred and been recorded by then), never from a live fold, so the CLI and the server give
//! the same JSON value for the same log and instant.

use chrono::NaiveDate;
use jiancha_events::{EventData, StoredEvent, SUPERVISION_STREAM};
use jiancha_projections::{asof, instant, Millis, Projections, Scoring};
use jiancha_store::verify::check_against;
use jiancha_store::{EventStore, StoreError};
use serde_json::{json, Value};

/// Days listed in the calendar part of a pack, at most (from the clock start on).
pub const CALENDAR_DAYS_MAX: i64 = 400;

/// Why a pack could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// The log holds no submission of the case known by the instant (or no such case at all).
    #[error("no case {case:?} had been recorded by then")]
    NoSuchCase {
        /// The case stream asked for.
        case: String,
    },
    /// Reading the log failed.
    #[error("cannot read the event log: {0}")]
    Store(#[from] StoreError),
    /// A part of the pack could not be encoded as JSON (a bug of this build).
    #[error("cannot encode the evidence pack: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The evidence pack of `case` evaluated at `now`, as the JSON value `jiancha evidence` prints:
/// `case`, `evaluated_at`, `log_head`, `events` (each as stored with `hash_checks` and, when it
/// does not hold, `chain_break`; the definitions of the workflow's limits among them),
/// `item`, `alert_config` (in force at `now`), `calendar`, `state`, `cards`,
/// `ledger` and `notifications`. A procurement project's `state` is its project view, and its
/// context holds the thresholds and every project's registration (which `proc.split` reads).
pub async fn pack(store: &dyn EventStore, case: &str, now: Millis) -> Result<Value, EvidenceError> {
    let head = store.head().await?;
    let known: Vec<StoredEvent> = store
        .read_case_context(case)
        .await?
        .into_iter()
        .filter(|e| asof::known_by(e, now))
        .collect();
    // The case's own events and the acts on it, and the definitions of the workflow's limits
    // its cards were judged by.
    let own: Vec<&StoredEvent> = known
        .iter()
        .filter(|e| {
            e.stream == case
                || e.stream == SUPERVISION_STREAM
                || matches!(e.data, jiancha_events::EventData::WorkflowLimitsDefined(_))
        })
        .collect();
    let case_events = stored_events(store, &own).await?;
    let told = notification_records(store, case, now).await?;
    let mut p = Projections::default().with_ledger(Scoring::default());
    for e in &known {
        p.apply(e);
    }
    // An approval case's deadline state, or a project's (its windows and due dates, each in
    // the unit its rule counts in, its bonds, award and contract).
    let state = match p.case_view(case, now) {
        Some(view) => serde_json::to_value(view)?,
        None => serde_json::to_value(p.project_view(case, now).ok_or_else(|| {
            EvidenceError::NoSuchCase {
                case: case.to_owned(),
            }
        })?)?,
    };
    let item = p.case(case).and_then(|c| c.def.as_deref().cloned());
    let ledger: Vec<_> = p
        .ledger()
        .map(|l| p.case_entries(case).iter().map(|e| l.view(e)).collect())
        .unwrap_or_default();
    let cards = p
        .case(case)
        .map(|c| p.case_alerts(case, c, now))
        .unwrap_or_default();
    Ok(json!({
        "case": case,
        "evaluated_at": instant::format(now),
        "log_head": {"position": head.position, "hash": head.hash.to_string()},
        "events": case_events,
        "item": serde_json::to_value(item)?,
        "alert_config": serde_json::to_value(p.config_at(now))?,
        "calendar": calendar_days(&p, case, now),
        "state": state,
        "cards": serde_json::to_value(cards)?,
        "ledger": serde_json::to_value(ledger)?,
        "notifications": notifications(&told),
    }))
}

/// Each of `events` as stored, with whether it holds against the stored row before it
/// (`jiancha_store::verify::check_against`: its hash over its stored bytes, its link, and
/// that it reads), as export-shaped JSON.
async fn stored_events(
    store: &dyn EventStore,
    events: &[&StoredEvent],
) -> Result<Vec<Value>, StoreError> {
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        // The row before it too, to check the link (there is none before position 1).
        let (after, rows) = match e.position {
            0 | 1 => (0, 1),
            p => (p - 2, 2),
        };
        let rows = store.read_raw_after(after, rows).await?;
        let Some(raw) = rows.iter().find(|r| r.position == e.position) else {
            continue;
        };
        let previous = rows.iter().find(|r| r.position + 1 == e.position);
        let holds = check_against(previous, raw);
        let mut line = String::new();
        jiancha_events::write_export_line(raw, &mut line);
        let mut v: Value = serde_json::from_str(&line).unwrap_or(json!({}));
        v["hash_checks"] = json!(holds.is_ok());
        if let Err(b) = holds {
            v["chain_break"] = json!(b.to_string());
        }
        out.push(v);
    }
    Ok(out)
}

/// The calendar days from the clock start to the latest of the statutory due date, the
/// conclusion and `now` (at most [`CALENDAR_DAYS_MAX`]): working or not, counted or not,
/// suspended or not.
fn calendar_days(p: &Projections, case: &str, now: Millis) -> Value {
    let (Some(view), Some(state)) = (p.case_view(case, now), p.case(case)) else {
        return json!([]);
    };
    let Some(start) = view.clock_start_on else {
        return json!([]);
    };
    let end = [
        view.statutory_due_on,
        view.concluded_on,
        Some(instant::date_of(now)),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(start);
    let calendar = p.calendar_of(state);
    let mut days = Vec::new();
    let mut d = start;
    let mut n = 0;
    while d <= end && n < CALENDAR_DAYS_MAX {
        let working = calendar.is_workday(d).unwrap_or(false);
        let suspended = state
            .suspensions
            .iter()
            .any(|s| d > s.from && s.to.is_none_or(|t| d <= t));
        days.push(json!({"date": d, "working": working, "counted": working && d > start && !suspended, "suspended": suspended}));
        d = d.succ_opt().unwrap_or(NaiveDate::MAX);
        n += 1;
    }
    json!({"jurisdiction": calendar.jurisdiction(), "from": start, "to": end, "days": days})
}

/// Who was told what and when: each `NotificationSent` and `NotificationFailed` about the case,
/// in log order, with its recording instant.
fn notifications(events: &[StoredEvent]) -> Vec<Value> {
    let at = |e: &StoredEvent| jiancha_events::format_timestamp(&e.recorded_at);
    events
        .iter()
        .filter_map(|e| match &e.data {
            EventData::NotificationSent(n) => Some(json!({
                "notification": n.notification,
                "recipient": n.recipient,
                "outcome": "sent",
                "attempts": n.attempts,
                "recorded_at": at(e),
                "position": e.position,
            })),
            EventData::NotificationFailed(n) => Some(json!({
                "notification": n.notification,
                "recipient": n.recipient,
                "outcome": "failed",
                "error": n.error,
                "recorded_at": at(e),
                "position": e.position,
            })),
            _ => None,
        })
        .collect()
}

/// The notification records about a case known by `now`: among the supervision acts naming it
/// (a notification id begins with its alert's, which begins with the case), found by index.
async fn notification_records(
    store: &dyn EventStore,
    case: &str,
    now: Millis,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut events = store.read_concerning(case).await?;
    events.retain(|e| {
        matches!(
            e.data,
            EventData::NotificationSent(_) | EventData::NotificationFailed(_)
        ) && e.data.concerns_case() == Some(case)
            && asof::known_by(e, now)
    });
    Ok(events)
}
