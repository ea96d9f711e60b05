//! `jiancha report close --period P` and `jiancha report --period P --as-closed`: closing an
//! assessment period fixes its report (by org, every depth, evaluated at the clock's now over
//! the log as it stands) in a `PeriodClosed` event by the SHA-256 of its JSON text; as-closed
//! folds the log up to the close's position again, evaluates at the close's instant, checks the
//! digest and prints the report as it was closed.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use jiancha_engine::closing::{self, Closed};
use jiancha_projections::{Period, Projections, Report};
use jiancha_store::{Clock, EventStore, RejectionKind, StoreError};

use crate::cmd::replay;
use crate::error::{user_error, CheckFailed};

/// The actor of a close when `--actor` is not given.
pub const DEFAULT_CLOSE_ACTOR: &str = "report";

/// Arguments of `jiancha report close`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha report close --period 2026-03\n  \
    jiancha report close --period 2026-Q1 --scoring scoring.toml --actor bureau-1\n  \
    jiancha report --period 2026-03 --as-closed\n\n\
    The period must have ended (its last day's 24:00, +08:00) and not be closed yet (exit 2). \
    The closed report is `report --period P --format json` (by org, every depth) evaluated \
    now; its SHA-256 is recorded in a PeriodClosed event with the last position it covers. \
    The event's org defaults to the first segment of the report's first org.")]
pub struct CloseArgs {
    /// YYYY-MM, YYYY-H1, YYYY-H2, YYYY-Q1..Q4 or YYYY.
    #[arg(long)]
    pub period: String,
    /// A TOML scoring scheme replacing the default (as-closed must be given the same).
    #[arg(long, value_name = "FILE")]
    pub scoring: Option<PathBuf>,
    /// The close's actor (default "report").
    #[arg(long)]
    pub actor: Option<String>,
    /// The close's org path (default the first segment of the report's first org).
    #[arg(long)]
    pub org: Option<String>,
}

fn parse_period(text: &str) -> anyhow::Result<Period> {
    Period::parse(text).map_err(|e| user_error(format!("--period: {e}")))
}

fn already_closed(c: &Closed) -> anyhow::Error {
    user_error(format!(
        "period {} was already closed at {} (position {}, digest {})",
        c.period, c.closed_at, c.position, c.digest
    ))
}

/// Runs `jiancha report close`.
pub async fn close(db: &str, clock: Arc<dyn Clock>, args: &CloseArgs) -> anyhow::Result<()> {
    let period = parse_period(&args.period)?;
    let scoring = super::report::load_scoring(args.scoring.as_ref())?;
    let now_utc = clock.now();
    let now = now_utc.timestamp_millis();
    if !closing::has_ended(&period, now) {
        return Err(user_error(format!(
            "period {} has not ended yet: it ends at {}",
            period.label,
            closing::end_text(&period)
        )));
    }
    // Closing a period of a log that does not exist would create one to hold the close.
    let store = crate::open_existing_store(db, clock).await?;
    let result = close_in(&store, &period, scoring, now_utc, args).await;
    store.close().await;
    let (closed, at) = result?;
    writeln!(
        crate::stdout::lock(),
        "closed {} at {} (position {}, digest {}); PeriodClosed at position {at}",
        closed.period,
        closed.closed_at,
        closed.position,
        closed.digest
    )?;
    Ok(())
}

async fn close_in(
    store: &Arc<dyn EventStore>,
    period: &Period,
    scoring: jiancha_projections::Scoring,
    now_utc: chrono::DateTime<chrono::Utc>,
    args: &CloseArgs,
) -> anyhow::Result<(Closed, u64)> {
    if let Some(c) = closing::find(&**store, &period.label).await? {
        return Err(already_closed(&c));
    }
    let now = now_utc.timestamp_millis();
    let projections = replay::current(store, None, scoring).await?;
    let report = canonical(&projections, period, now)?;
    let text = closing::report_text(&report)?;
    let digest = closing::digest(&text);
    let position = projections.position();
    let org = match (
        &args.org,
        report.rows.first().and_then(|r| r.org.as_deref()),
    ) {
        (Some(org), _) => org.clone(),
        (None, Some(first)) => first.split('/').next().unwrap_or(first).to_owned(),
        (None, None) => {
            return Err(user_error(
                "--org: the period has no figures to take the district from: give it (--org \
                 DISTRICT, e.g. --org jiangjin)",
            ))
        }
    };
    let actor = args.actor.as_deref().unwrap_or(DEFAULT_CLOSE_ACTOR);
    let at = now_utc.with_timezone(&jiancha_events::time::CHINA);
    let event = closing::close_event(&period.label, (digest.clone(), position), at, actor, &org)
        .map_err(user_error)?;
    let appended = match store.append(vec![event]).await {
        Ok(outcome) => outcome,
        Err(StoreError::Rejected(r)) if matches!(r.kind, RejectionKind::IdReused { .. }) => {
            // Closed a moment ago by someone else.
            return match closing::find(&**store, &period.label).await? {
                Some(c) => Err(already_closed(&c)),
                None => Err(user_error(r.to_string())),
            };
        }
        Err(StoreError::Rejected(r)) => {
            return Err(user_error(format!("{}: {}", r.field, r.message)))
        }
        Err(e) => return Err(e.into()),
    };
    let closed = Closed {
        period: period.label.clone(),
        position,
        digest,
        closed_at: jiancha_events::format_timestamp(&at),
        at: now,
        event_position: appended.positions.first().copied().unwrap_or_default(),
    };
    let at = closed.event_position;
    Ok((closed, at))
}

fn canonical(projections: &Projections, period: &Period, now: i64) -> anyhow::Result<Report> {
    projections
        .report(&closing::canonical_query(period.clone()), now)
        .ok_or_else(|| anyhow::anyhow!("the assessment ledger was not kept"))
}

/// A closed period's projections and close, with the digest checked; for `report --as-closed`.
pub async fn as_closed(
    store: &Arc<dyn EventStore>,
    period: &Period,
    scoring: jiancha_projections::Scoring,
) -> anyhow::Result<(Projections, Closed)> {
    let Some(closed) = closing::find(&**store, &period.label).await? else {
        return Err(user_error(format!(
            "period {} was never closed (jiancha report close --period {})",
            period.label, period.label
        )));
    };
    let alerts = jiancha_projections::AlertConfig::default();
    let projections = closing::fold_closed(&**store, alerts, scoring, &closed).await?;
    let text = closing::report_text(&canonical(&projections, period, closed.at)?)?;
    let computed = closing::digest(&text);
    if computed != closed.digest {
        return Err(anyhow::Error::new(CheckFailed(format!(
            "the closed report of {} does not reproduce: digest {} was recorded, {computed} \
             computed (another --scoring than at the close?)",
            period.label, closed.digest
        ))));
    }
    Ok((projections, closed))
}

/// The JSON text of a report of a closed period: the report's fields and a `closed` object.
pub fn json_with_close(report: &Report, closed: &Closed) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&closing::ClosedReport { report, closed })
}

/// The table's line about the close.
pub fn close_line(closed: &Closed, lang: jiancha_projections::names::Lang) -> String {
    match lang {
        jiancha_projections::names::Lang::Zh => format!(
            "已关账：{}（截至位置 {}，摘要 {}）",
            closed.closed_at, closed.position, closed.digest
        ),
        jiancha_projections::names::Lang::En => format!(
            "closed at {} (position {}, digest {})",
            closed.closed_at, closed.position, closed.digest
        ),
    }
}
