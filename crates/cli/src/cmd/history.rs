//! `jiancha history`: a case's timeline — its recorded events interleaved with the changes each
//! one caused (clock started, due dates set or moved, status, cards raised and closed, ledger
//! entries) — as the log stood at an instant: only what had been recorded by then, evaluated
//! then, so it shows exactly what `case show --now T` and `alerts --now T` printed at T. The
//! document is built by `jiancha_projections::asof`; this prints it.

use std::io::Write as _;
use std::sync::Arc;

use jiancha_projections::asof::{self, History};
use jiancha_projections::AlertConfig;
use jiancha_store::Clock;

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

/// Runs `jiancha history`.
pub async fn run(db: &str, clock: Arc<dyn Clock>, args: &HistoryArgs) -> anyhow::Result<()> {
    let as_of = replay::parse_instant_flag("--as-of", args.as_of.as_deref(), &*clock)?;
    let store = crate::open_existing_store(db, clock).await?;
    let events = replay::case_events(&store, &args.case).await?;
    store.close().await;
    let history = asof::history(AlertConfig::default(), &args.case, &events, as_of)
        .ok_or_else(|| user_error(format!("no case {:?} had been recorded by then", args.case)))?;
    let mut out = std::io::BufWriter::new(crate::stdout::lock());
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&history)?)?,
        Format::Table => write_table(&mut out, &history)?,
    }
    out.flush()?;
    Ok(())
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
    let show = |d: Option<chrono::NaiveDate>| d.map_or_else(|| "-".to_owned(), |d| d.to_string());
    if let Some(v) = &h.state {
        writeln!(
            out,
            "state: {} | promised due {} | statutory due {} | used {} | remaining {}",
            v.status,
            show(v.promised_due_on),
            show(v.statutory_due_on),
            v.used_days.map_or("-".into(), |u| u.to_string()),
            v.remaining_days.map_or("-".into(), |r| r.to_string())
        )?;
    }
    if let Some(v) = &h.project {
        writeln!(out, "project: {} | {} | {}", v.status, v.regime, v.method)?;
        for d in &v.deadlines {
            let unit = match d.unit {
                jiancha_projections::kinds::procurement::view::DayUnit::Natural => "natural",
                jiancha_projections::kinds::procurement::view::DayUnit::Working => "working",
            };
            writeln!(
                out,
                "due: {:<24} {} ({} {unit} days, {}){}",
                d.what,
                d.due_on,
                d.days,
                d.rule,
                d.done_on.map_or(String::new(), |on| format!(" done {on}"))
            )?;
        }
    }
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
