//! `jiancha evidence`: one case's evidence pack for supervision and appeals — its events exactly
//! as stored, with their hashes re-checked, the log head they chain to, the calendar days its
//! limits counted, the rules and limits in force, its cards and its ledger entries.

use std::io::Write as _;
use std::sync::Arc;

use chrono::NaiveDate;
use jiancha_events::{format_timestamp, RawEvent, StoredEvent};
use jiancha_projections::{instant, Projections, Scoring};
use jiancha_store::Clock;
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
    why), the case's state, its cards and its ledger entries.")]
pub struct EvidenceArgs {
    /// The case stream.
    pub case: String,
    /// The instant of evaluation (RFC 3339, or a date meaning its end); defaults to now.
    #[arg(long)]
    pub now: Option<String>,
}

/// The stored form of an event, rebuilt to re-check its hash.
fn raw_of(e: &StoredEvent) -> RawEvent {
    RawEvent {
        position: e.position,
        stream: e.stream.clone(),
        version: e.version,
        id: e.id.clone(),
        event_type: e.data.type_name().to_owned(),
        schema: jiancha_events::current_schema(e.data.type_name()).unwrap_or(1),
        occurred_at: format_timestamp(&e.occurred_at),
        recorded_at: format_timestamp(&e.recorded_at),
        actor: e.actor.clone(),
        org: e.org.clone(),
        data: e.data.to_json(),
        prev_hash: e.prev_hash,
        hash: e.hash,
    }
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

/// Runs `jiancha evidence`.
pub async fn run(db: &str, clock: Arc<dyn Clock>, args: &EvidenceArgs) -> anyhow::Result<()> {
    let now = replay::parse_now(args.now.as_deref(), &*clock)?;
    let store = crate::open_store(db, clock).await?;
    let head = store.head().await?;
    let events = replay::case_events(&store, &args.case).await?;
    store.close().await;
    let known: Vec<StoredEvent> = events
        .into_iter()
        .filter(|e| replay::known_by(e, now))
        .collect();
    let mut p = Projections::default().with_ledger(Scoring::default());
    for e in &known {
        p.apply(e);
    }
    let state = p
        .case_view(&args.case, now)
        .ok_or_else(|| user_error(format!("no case {:?} had been recorded by then", args.case)))?;
    let case_events: Vec<serde_json::Value> = known
        .iter()
        .filter(|e| e.stream == args.case || e.stream == "supervision")
        .map(|e| {
            let raw = raw_of(e);
            let mut line = String::new();
            jiancha_events::write_export_line(&raw, &mut line);
            let mut v: serde_json::Value = serde_json::from_str(&line).unwrap_or(json!({}));
            v["hash_checks"] = json!(raw.compute_hash() == e.hash);
            v
        })
        .collect();
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
    });
    let mut out = crate::stdout::lock();
    writeln!(out, "{}", serde_json::to_string_pretty(&pack)?)?;
    Ok(())
}
