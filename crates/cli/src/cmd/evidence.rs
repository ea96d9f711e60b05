//! `jiancha evidence`: one case's evidence pack for supervision and appeals — its events exactly
//! as stored, each checked by the store's chain verifier against its stored bytes and the row
//! before it (never a re-encoding, so an imported event checks too), the log head they chain
//! to, the calendar days its limits counted, the rules and limits in force, its cards, its
//! ledger entries and who was told of them (its notifications).

use std::io::Write as _;
use std::sync::Arc;

use chrono::NaiveDate;
use jiancha_events::StoredEvent;
use jiancha_projections::{instant, Projections, Scoring};
use jiancha_store::verify::check_against;
use jiancha_store::{Clock, EventStore};
use serde_json::json;

use crate::cmd::replay;
use crate::error::user_error;

/// Days listed in the calendar part of a pack, at most (from the clock start on).
pub const CALENDAR_DAYS_MAX: i64 = 400;

/// Arguments of `jiancha evidence`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha evidence case-2026-000102 > pack.json\n  \
    jiancha evidence case-2026-000102 --now 2026-04-30 > pack.json\n\n\
    The pack is JSON: events (each as stored, with prev_hash and hash, and whether its hash \
    checks out), the log head, the item definition and alert thresholds in force, the \
    calendar days from the clock start to the due date or conclusion (working or not, and \
    why), the case's state, its cards, its ledger entries and its notifications (who was told \
    what and when: each NotificationSent or NotificationFailed with its recording instant).")]
pub struct EvidenceArgs {
    /// The case stream.
    pub case: String,
    /// The instant of evaluation (RFC 3339, or a date meaning its end); defaults to now.
    #[arg(long)]
    pub now: Option<String>,
}

/// Each of `events` as stored, with whether it holds against the stored row before it
/// (`jiancha_store::verify::check_against`: its hash over its stored bytes, its link, and
/// that it reads), as export-shaped JSON.
async fn stored_events(
    store: &dyn EventStore,
    events: &[&StoredEvent],
) -> anyhow::Result<Vec<serde_json::Value>> {
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
        let mut v: serde_json::Value = serde_json::from_str(&line).unwrap_or(json!({}));
        v["hash_checks"] = json!(holds.is_ok());
        if let Err(b) = holds {
            v["chain_break"] = json!(b.to_string());
        }
        out.push(v);
    }
    Ok(out)
}

fn calendar_days(p: &Projections, case: &str, now: i64) -> serde_json::Value {
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
fn notifications(events: &[StoredEvent]) -> Vec<serde_json::Value> {
    use jiancha_events::EventData;
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

/// The notification records about a case known by `now`, read from the supervision stream:
/// the SQL stores' index of supervision events by case does not cover notification ids.
async fn notification_records(
    store: &dyn EventStore,
    case: &str,
    now: i64,
) -> anyhow::Result<Vec<StoredEvent>> {
    let mut events = store
        .read_stream(jiancha_events::SUPERVISION_STREAM)
        .await?;
    events.retain(|e| {
        matches!(
            e.data,
            jiancha_events::EventData::NotificationSent(_)
                | jiancha_events::EventData::NotificationFailed(_)
        ) && e.data.concerns_case() == Some(case)
            && jiancha_projections::asof::known_by(e, now)
    });
    Ok(events)
}

/// Runs `jiancha evidence`.
pub async fn run(db: &str, clock: Arc<dyn Clock>, args: &EvidenceArgs) -> anyhow::Result<()> {
    let now = replay::parse_now(args.now.as_deref(), &*clock)?;
    let store = crate::open_existing_store(db, clock).await?;
    let head = store.head().await?;
    let events = replay::case_events(&store, &args.case).await?;
    let known: Vec<StoredEvent> = events
        .into_iter()
        .filter(|e| jiancha_projections::asof::known_by(e, now))
        .collect();
    let own: Vec<&StoredEvent> = known
        .iter()
        .filter(|e| e.stream == args.case || e.stream == jiancha_events::SUPERVISION_STREAM)
        .collect();
    let case_events = stored_events(&*store, &own).await;
    let told = notification_records(&*store, &args.case, now).await;
    store.close().await;
    let case_events = case_events?;
    let mut p = Projections::default().with_ledger(Scoring::default());
    for e in &known {
        p.apply(e);
    }
    let state = p
        .case_view(&args.case, now)
        .ok_or_else(|| user_error(format!("no case {:?} had been recorded by then", args.case)))?;
    let item = p.case(&args.case).and_then(|c| c.def.as_deref().cloned());
    let ledger: Vec<_> = p
        .ledger()
        .map(|l| {
            l.entries()
                .iter()
                .filter(|e| &*e.case == args.case.as_str())
                .map(|e| l.view(e))
                .collect()
        })
        .unwrap_or_default();
    let cards = p
        .case(&args.case)
        .map(|c| p.case_alerts(&args.case, c, now))
        .unwrap_or_default();
    let pack = json!({
        "case": args.case,
        "evaluated_at": instant::format(now),
        "log_head": {"position": head.position, "hash": head.hash.to_string()},
        "events": case_events,
        "item": item,
        "alert_config": p.config,
        "calendar": calendar_days(&p, &args.case, now),
        "state": state,
        "cards": cards,
        "ledger": ledger,
        "notifications": notifications(&told?),
    });
    let mut out = crate::stdout::lock();
    writeln!(out, "{}", serde_json::to_string_pretty(&pack)?)?;
    Ok(())
}
