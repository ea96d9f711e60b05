//! `jiancha report close --period P` and `jiancha report --period P --as-closed`: closing an
//! assessment period fixes its report (by org, every depth, evaluated at the clock's now over
//! the log as it stands) in a `PeriodClosed` event by the SHA-256 of its JSON text; as-closed
//! folds the log up to the close's position again, evaluates at the close's instant, checks the
//! digest and prints the report as it was closed. The close keeps the report's figures too: when
//! the replay no longer gives them (another scoring, or rules a later build corrected),
//! as-closed prints the kept figures, checked against the digest, and says so on stderr.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use jiancha_engine::closing::{self, Closed};
use jiancha_events::EventData;
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
    now; its SHA-256 is recorded in a PeriodClosed event with the last position it covers, \
    and the figures themselves beside it (unless the report is larger than an event may be), so \
    that --as-closed can still print them when a later build computes the period otherwise. \
    The event's org defaults to the first segment of the report's first org.")]
pub struct CloseArgs {
    /// YYYY-MM, YYYY-H1, YYYY-H2, YYYY-Q1..Q4 or YYYY.
    #[arg(long)]
    pub period: String,
    /// A TOML scoring scheme replacing the default (as-closed should be given the same: with
    /// another, only the figures kept in the close can be printed).
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
    let (closed, at, kept) = result?;
    let figures = if kept {
        "the figures kept in it"
    } else {
        "the figures not kept in it (too large for one event): --as-closed replays the log"
    };
    writeln!(
        crate::stdout::lock(),
        "closed {} at {} (position {}, digest {}); PeriodClosed at position {at}, {figures}",
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
) -> anyhow::Result<(Closed, u64, bool)> {
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
    let kept = closing::kept_text(&report)?;
    let event = closing::close_event(
        &period.label,
        (digest.clone(), position),
        Some(kept),
        at,
        actor,
        &org,
    )
    .map_err(user_error)?;
    let kept = matches!(&event.data, EventData::PeriodClosed(c) if c.report.is_some());
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
    Ok((closed, at, kept))
}

fn canonical(projections: &Projections, period: &Period, now: i64) -> anyhow::Result<Report> {
    projections
        .report(&closing::canonical_query(period.clone()), now)
        .ok_or_else(|| anyhow::anyhow!("the assessment ledger was not kept"))
}

/// A closed period as `report --as-closed` reads it: the log replayed up to the close, and,
/// when that replay no longer gives the closed figures (a later build computes the period
/// otherwise), the report the close keeps.
#[derive(Debug)]
pub struct AsClosed {
    /// The log folded up to the close.
    pub projections: Projections,
    /// The close.
    pub closed: Closed,
    /// The figures kept in the close, when the replay does not reproduce them.
    pub kept: Option<Report>,
}

/// A closed period's projections and close, with the digest checked; for `report --as-closed`.
/// A replay that does not reproduce the digest is answered from the report the close keeps
/// (checked against the digest); a close that keeps none fails the check (exit 1).
pub async fn as_closed(
    store: &Arc<dyn EventStore>,
    period: &Period,
    scoring: jiancha_projections::Scoring,
) -> anyhow::Result<AsClosed> {
    let Some(closed) = closing::find(&**store, &period.label).await? else {
        // A range (--from/--to) is never closed: only a month, quarter, half-year or year is.
        let hint = if period.label.contains("..") {
            " (a month, quarter, half-year or year is closed, never a range)".to_owned()
        } else {
            format!(" (jiancha report close --period {})", period.label)
        };
        return Err(user_error(format!(
            "period {} was never closed{hint}",
            period.label
        )));
    };
    let alerts = jiancha_projections::AlertConfig::default();
    let projections = closing::fold_closed(&**store, alerts, scoring, &closed).await?;
    let text = closing::report_text(&canonical(&projections, period, closed.at)?)?;
    let computed = closing::digest(&text);
    if computed == closed.digest {
        // The replay proves itself; kept figures that are not the closed ones are an integrity
        // problem of their own (`verify` fails on them), said here too.
        if let Err(e @ closing::KeptError::Mismatch { .. }) =
            closing::kept_report(&**store, &closed).await
        {
            tracing::warn!(why = %e, "the figures the close keeps are not the closed ones: the replay's are printed");
        }
        return Ok(AsClosed {
            projections,
            closed,
            kept: None,
        });
    }
    let kept = closing::kept_report(&**store, &closed)
        .await
        .map_err(|e| match e {
            closing::KeptError::Store(e) => anyhow::Error::new(e),
            e @ closing::KeptError::Mismatch { .. } => {
                anyhow::Error::new(CheckFailed(e.to_string()))
            }
        })?;
    match kept {
        Some(report) => {
            closing::warn_read_from_close(&closed, &computed);
            Ok(AsClosed {
                projections,
                closed,
                kept: Some(report),
            })
        }
        None => Err(anyhow::Error::new(CheckFailed(format!(
            "the closed report of {} does not reproduce: digest {} was recorded, {computed} \
             computed (another --scoring than at the close?), and the close keeps no report",
            period.label, closed.digest
        )))),
    }
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
