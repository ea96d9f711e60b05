//! `jiancha history`: a case's timeline — its recorded events interleaved with the changes each
//! one caused (clock started, due dates set or moved, status, cards raised and closed, ledger
//! entries) — as the log stood at an instant: only what had been recorded by then, evaluated
//! then, so it shows exactly what `case show --now T` and `alerts --now T` printed at T.

use std::io::Write as _;
use std::sync::Arc;

use jiancha_events::StoredEvent;
use jiancha_projections::{instant, AlertView, CaseView, Millis, Projections, Scoring};
use jiancha_store::Clock;
use serde::Serialize;

use crate::cmd::case::Format;
use crate::cmd::replay;
use crate::error::user_error;

/// Arguments of `jiancha history`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha history case-2026-000102\n  \
    jiancha history case-2026-000102 --as-of 2026-03-20T12:00:00+08:00 --format json\n\n\
    --as-of T keeps only the events recorded (and occurred) by T and evaluates the case at T: \
    the state and alerts it prints are what `case show --now T` and `alerts --now T` showed \
    at that moment. Each derived change names the position that caused it.")]
pub struct HistoryArgs {
    /// The case stream.
    pub case: String,
    /// The instant to look back to (RFC 3339, or a date meaning its end); defaults to now.
    #[arg(long = "as-of", value_name = "T")]
    pub as_of: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// One derived change.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// What changed: clock_started, promised_due, statutory_due, status, alert_raised,
    /// alert_closed, ledger_entry.
    pub change: &'static str,
    /// The old value, when something moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The new value.
    pub to: String,
    /// The position of the event that caused it.
    pub caused_by: u64,
}

/// One recorded event and what it caused.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    position: u64,
    #[serde(rename = "type")]
    event_type: &'static str,
    stream: String,
    occurred_at: String,
    recorded_at: String,
    actor: String,
    org: String,
    data: serde_json::Value,
    derived: Vec<Change>,
}

/// The whole history.
#[derive(Debug, Serialize)]
pub struct History {
    case: String,
    as_of: String,
    events: Vec<Step>,
    /// Alerts the clock raised after the last event, by the instant.
    clock: Vec<Change>,
    /// The case at the instant, as `case show --now` prints it.
    state: CaseView,
    /// The case's alerts at the instant, as `alerts --now` prints them.
    alerts: Vec<AlertView>,
}

/// Runs `jiancha history`.
pub async fn run(db: &str, clock: Arc<dyn Clock>, args: &HistoryArgs) -> anyhow::Result<()> {
    let as_of = replay::parse_now(args.as_of.as_deref(), &*clock)?;
    let store = crate::open_existing_store(db, clock).await?;
    let events = replay::case_events(&store, &args.case).await?;
    store.close().await;
    let known: Vec<StoredEvent> = events
        .into_iter()
        .filter(|e| replay::known_by(e, as_of))
        .collect();
    let history = build(&args.case, &known, as_of)
        .ok_or_else(|| user_error(format!("no case {:?} had been recorded by then", args.case)))?;
    let mut out = std::io::BufWriter::new(crate::stdout::lock());
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&history)?)?,
        Format::Table => write_table(&mut out, &history)?,
    }
    out.flush()?;
    Ok(())
}

fn due_changes(before: Option<&CaseView>, after: &CaseView, position: u64, out: &mut Vec<Change>) {
    let pairs = [
        (
            "clock_started",
            before.and_then(|b| b.clock_start_on),
            after.clock_start_on,
        ),
        (
            "promised_due",
            before.and_then(|b| b.promised_due_on),
            after.promised_due_on,
        ),
        (
            "statutory_due",
            before.and_then(|b| b.statutory_due_on),
            after.statutory_due_on,
        ),
    ];
    for (change, from, to) in pairs {
        if from != to {
            if let Some(to) = to {
                out.push(Change {
                    change,
                    from: from.map(|d| d.to_string()),
                    to: to.to_string(),
                    caused_by: position,
                });
            }
        }
    }
    let status_before = before.map(|b| b.status);
    if status_before != Some(after.status) {
        out.push(Change {
            change: "status",
            from: status_before.map(str::to_owned),
            to: after.status.to_owned(),
            caused_by: position,
        });
    }
}

fn alert_change(
    change: &'static str,
    case: &str,
    a: &jiancha_projections::Alert,
    position: u64,
) -> Change {
    let at = if change == "alert_raised" {
        a.raised_at
    } else {
        a.closed_at.unwrap_or(a.raised_at)
    };
    Change {
        change,
        from: None,
        to: format!(
            "{} ({}) at {}",
            jiancha_projections::alert_id(case, a),
            a.rule.severity().as_str(),
            instant::format(at)
        ),
        caused_by: position,
    }
}

/// Folds the events one by one, recording what each changed.
pub fn build(case: &str, events: &[StoredEvent], as_of: Millis) -> Option<History> {
    let mut p = Projections::default().with_ledger(Scoring::default());
    let mut steps = Vec::new();
    let mut before: Option<CaseView> = None;
    for e in events {
        let entries_before = p.ledger().map_or(0, |l| l.entries().len());
        let applied = p.apply(e);
        let mut derived = Vec::new();
        if applied.case.as_deref() == Some(case) {
            for a in &applied.raised {
                derived.push(alert_change("alert_raised", case, a, e.position));
            }
            for a in &applied.closed {
                derived.push(alert_change("alert_closed", case, a, e.position));
            }
            if let Some(after) = p.case_view(case, e.occurred_at.timestamp_millis()) {
                due_changes(before.as_ref(), &after, e.position, &mut derived);
                before = Some(after);
            }
        }
        for entry in p
            .ledger()
            .map_or(&[][..], |l| &l.entries()[entries_before..])
        {
            let sign = if entry.amount < 0 { "-" } else { "+" };
            let to = format!(
                "{} {sign}{} {} {} {}",
                entry.key(),
                entry.measure.as_str(),
                entry.org,
                entry.month,
                entry.rule
            );
            derived.push(Change {
                change: "ledger_entry",
                from: None,
                to,
                caused_by: e.position,
            });
        }
        steps.push(Step {
            position: e.position,
            event_type: e.data.type_name(),
            stream: e.stream.clone(),
            occurred_at: jiancha_events::format_timestamp(&e.occurred_at),
            recorded_at: jiancha_events::format_timestamp(&e.recorded_at),
            actor: e.actor.clone(),
            org: e.org.clone(),
            data: serde_json::from_str(&e.data.to_json()).unwrap_or(serde_json::Value::Null),
            derived,
        });
    }
    let state = p.case_view(case, as_of)?;
    let last = events.last().map_or(0, |e| e.position);
    let clock = p
        .pending_alerts(case, as_of)
        .iter()
        .map(|a| Change {
            change: "alert_raised",
            from: None,
            to: format!("{} ({}) at {}", a.id, a.severity, a.raised_at),
            caused_by: last,
        })
        .collect();
    let alerts = p
        .case(case)
        .map(|c| p.case_alerts(case, c, as_of))
        .unwrap_or_default();
    Some(History {
        case: case.to_owned(),
        as_of: instant::format(as_of),
        events: steps,
        clock,
        state,
        alerts,
    })
}

fn write_table(out: &mut dyn std::io::Write, h: &History) -> std::io::Result<()> {
    writeln!(out, "history of {} as of {}", h.case, h.as_of)?;
    for s in &h.events {
        writeln!(
            out,
            "#{:<6} {:<22} {} (recorded {})  {} @ {}  {}",
            s.position, s.event_type, s.occurred_at, s.recorded_at, s.actor, s.org, s.data
        )?;
        for d in &s.derived {
            let from = d
                .from
                .as_deref()
                .map(|f| format!("{f} -> "))
                .unwrap_or_default();
            writeln!(out, "         {:<14} {from}{}", d.change, d.to)?;
        }
    }
    for d in &h.clock {
        writeln!(out, "clock    {:<14} {}", d.change, d.to)?;
    }
    let v = &h.state;
    let show = |d: Option<chrono::NaiveDate>| d.map_or_else(|| "-".to_owned(), |d| d.to_string());
    writeln!(
        out,
        "state: {} | promised due {} | statutory due {} | used {} | remaining {}",
        v.status,
        show(v.promised_due_on),
        show(v.statutory_due_on),
        v.used_days.map_or("-".into(), |u| u.to_string()),
        v.remaining_days.map_or("-".into(), |r| r.to_string())
    )?;
    for a in &h.alerts {
        writeln!(
            out,
            "alert: {} {} raised {} {}",
            a.id,
            a.severity,
            a.raised_at,
            a.closed_at
                .as_deref()
                .map_or("open".to_owned(), |c| format!("closed {c}"))
        )?;
    }
    Ok(())
}
