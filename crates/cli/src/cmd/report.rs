//! `jiancha report`: the evaluators' figures per org, item or channel for a month, a range of
//! months, a half-year or a year — from the assessment ledger — with the supervision targets
//! (every case on time, satisfaction of at least 95%); `report explain` lists the entries
//! behind a row, `report items` the share of items handled in the center (进驻率).

use clap::builder::TypedValueParser as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use jiancha_projections::ledger::Dimension;
use jiancha_projections::names::channel_name;
use jiancha_projections::report::{items_in_center, rate, Row};
use jiancha_projections::{Lang, Period, Report, ReportQuery, Scoring};
use jiancha_store::Clock;

use crate::cmd::{replay, report_close};
use crate::error::user_error;
use crate::lang::{wrap, Align, Table};
use jiancha_engine::closing::Closed;

/// The on-time target: every concluded case on time.
const ON_TIME_TARGET: &str = "1.0000";
/// Satisfaction of at least 95%, in basis points.
const SATISFACTION_TARGET_BP: i64 = 9_500;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text with the targets marked.
    Table,
    /// Comma-separated values with a header line.
    Csv,
    /// `{"period": …, "rows": [ … ]}`.
    Json,
    /// An Excel workbook of the rows (with --output): Chinese headers, rates as percentages,
    /// missed targets highlighted.
    Xlsx,
}

/// Which kind of case a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Approval cases: the assessment report.
    Approval,
    /// Procurement projects: per purchaser org and month, projects, awards, contracts on time,
    /// violations and the score.
    Procurement,
}

/// Groupings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    /// One row per org path, at every level of the tree.
    Org,
    /// One row per item code.
    Item,
    /// One row per channel.
    Channel,
}

/// Arguments of `jiancha report`.
#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  \
    jiancha report --period 2026-03\n  \
    jiancha report --period 2026-03 --by org --depth 3 --format json\n  \
    jiancha report --period 2026-H1 --by item --format csv\n  \
    jiancha report --from 2026-01 --to 2026-03 --scoring scoring.toml\n  \
    jiancha report explain --org jiangjin/town-07 --period 2026-03\n  \
    jiancha report items\n\n\
    Counts are by the month of the event that decides them: accepted by the acceptance date, \
    concluded/on_time/early/statutory_on_time by the conclusion date (a conclusion entered more \
    than 48 hours late by the date it was recorded), rated and satisfied by the rating date, \
    cards and warnings by the instant raised. Rates are integer ratios printed with 4 decimals, \
    null when the denominator is 0, never above 1. A unit's month scores 100, -5 per yellow \
    card, -10 per red card, -3 per third warning, +1 per full 10% of conclusions that were \
    early (a --scoring TOML file changes any of base_points, yellow_points, red_points, \
    warning_points, warning_step, early_step_percent, early_step_points, floor_points, \
    excellent_points, good_points, pass_points); a parent row's month is the mean of its active \
    units' scores weighted by accepted cases; a longer period's score is the mean of its months \
    with activity. Grades: 优秀 >= 90, 良好 >= 80, 合格 >= 60, 不合格 below.\n\
    Targets: on-time completion 100% (missed too by any case open past its promised due date), \
    satisfaction at least 95%, items handled in the center 100%."
)]
pub struct ReportArgs {
    /// A breakdown of the figures.
    #[command(subcommand)]
    pub command: Option<ReportCommand>,
    /// What to report.
    #[command(flatten)]
    pub run: RunArgs,
}

/// The report subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// List the ledger entries behind an org's row, with the events that caused each.
    Explain(ExplainArgs),
    /// The share of the catalog's items handled in the center (进驻率).
    Items(ItemsArgs),
    /// Close a period: fix its report in the log (PeriodClosed with the report's SHA-256).
    Close(crate::cmd::report_close::CloseArgs),
}

/// The period, instant and scoring of a report.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// YYYY-MM, YYYY-H1, YYYY-H2, YYYY-Q1..Q4 or YYYY.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub period: Option<String>,
    /// First month of a range (YYYY-MM), with --to.
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// Last month of a range (YYYY-MM), with --from.
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// Approval cases, or procurement projects (per purchaser org and month).
    #[arg(long, value_enum, default_value_t = Kind::Approval)]
    pub kind: Kind,
    /// With --kind procurement: only the purchasers at or under this org path.
    #[arg(long, value_name = "PREFIX", requires = "kind")]
    pub org: Option<String>,
    /// Rows per org path, item or channel.
    #[arg(long, value_enum, default_value_t = By::Org)]
    pub by: By,
    /// Keep org paths of at most N segments (1 or more).
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    pub depth: Option<usize>,
    /// The instant of evaluation (RFC 3339, or a date meaning its end); defaults to now.
    #[arg(long)]
    pub now: Option<String>,
    /// Fold the whole log (the events that occurred by the instant) instead of reading the
    /// snapshot (without --now) or the cases the case index names (with --now): the audit
    /// path, which gives the same report.
    #[arg(long, conflicts_with = "as_closed")]
    pub replay: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// A TOML scoring scheme replacing the default.
    #[arg(long, value_name = "FILE")]
    pub scoring: Option<PathBuf>,
    /// The report as the period was closed: the log up to the close, at the close's instant
    /// (the figures kept in the close when this build computes the period otherwise).
    #[arg(long, requires = "period", conflicts_with = "now")]
    pub as_closed: bool,
    /// The file to write the workbook to (with --format xlsx).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Arguments of `jiancha report explain`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha report explain --org jiangjin/town-07 --period 2026-03\n  \
    jiancha report explain --org jiangjin/center/dept-03 --period 2026-Q1 --format json\n  \
    jiancha report explain --org jiangjin --period 2026-03 --now 2026-03-15\n  \
    jiancha report explain --kind procurement --org jiangjin/center/dept-05 --period 2026-03\n  \
    jiancha report explain --org jiangjin --period 2026-03 --scoring scoring.toml")]
pub struct ExplainArgs {
    /// Approval cases (the row of --org in `report --by org`), or procurement projects (the
    /// rows of the purchasers at or under --org in `report --kind procurement`).
    #[arg(long, value_enum, default_value_t = Kind::Approval)]
    pub kind: Kind,
    /// The org path (segment-wise: its entries and those of the units below it).
    #[arg(long)]
    pub org: String,
    /// The period: a month (2026-03), a quarter (2026-Q1), a half (2026-H1) or a year (2026).
    #[arg(long)]
    pub period: String,
    /// The instant of evaluation; defaults to now.
    #[arg(long)]
    pub now: Option<String>,
    /// Table or JSON (csv and xlsx are for the report itself).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// A TOML scoring scheme replacing the default, as the report's: the entries' points and
    /// the row's score are those the report with this scheme shows.
    #[arg(long, value_name = "FILE")]
    pub scoring: Option<PathBuf>,
}

/// Arguments of `jiancha report items`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha report items\n  \
    jiancha report items --format json")]
pub struct ItemsArgs {
    /// Table or JSON (csv and xlsx are for the report itself).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub(crate) fn load_scoring(path: Option<&PathBuf>) -> anyhow::Result<Scoring> {
    let Some(path) = path else {
        return Ok(Scoring::default());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| user_error(format!("--scoring: cannot read {}: {e}", path.display())))?;
    let scoring: Scoring = toml::from_str(&text)
        .map_err(|e| user_error(format!("--scoring: {}: {e}", path.display())))?;
    scoring
        .check()
        .map_err(|e| user_error(format!("--scoring: {}: {e}", path.display())))?;
    Ok(scoring)
}

fn period_of(run: &RunArgs) -> anyhow::Result<Period> {
    match (&run.period, &run.from, &run.to) {
        (Some(p), _, _) => Period::parse(p).map_err(|e| user_error(format!("--period: {e}"))),
        (None, Some(f), Some(t)) => {
            Period::range(f, t).map_err(|e| user_error(e.naming("--from", "--to")))
        }
        _ => Err(user_error(
            "give --period YYYY-MM (or YYYY-H1, YYYY) or --from YYYY-MM --to YYYY-MM",
        )),
    }
}

/// Runs `jiancha report`.
pub async fn run(
    db: &str,
    clock: Arc<dyn Clock>,
    args: &ReportArgs,
    lang: Lang,
) -> anyhow::Result<()> {
    match &args.command {
        Some(ReportCommand::Explain(e)) => return explain(db, clock, e).await,
        Some(ReportCommand::Items(i)) => return items(db, clock, i).await,
        Some(ReportCommand::Close(c)) => return report_close::close(db, clock, c).await,
        None => {}
    }
    let run = &args.run;
    let period = period_of(run)?;
    if run.kind == Kind::Procurement {
        // One row per purchaser org and month: nothing to roll up or regroup.
        if run.depth.is_some() {
            return Err(user_error(
                "--depth: the procurement report has one row per purchaser org and month and \
                 is not rolled up; choose purchasers with --org PREFIX",
            ));
        }
        if run.by != By::Org {
            return Err(user_error(
                "--by: the procurement report is by purchaser org only",
            ));
        }
    } else if run.org.is_some() {
        // Accepted and ignored before: the approval report's rows are every org path; its
        // depth and `report explain --org` narrow it.
        return Err(user_error(
            "--org: only with --kind procurement (the approval report lists every org path; \
             narrow it with --depth, or see one row's entries with `report explain --org`)",
        ));
    }
    if run.depth.is_some() && run.by != By::Org {
        return Err(user_error(
            "--depth: keeps org paths of at most N segments, with --by org only",
        ));
    }
    crate::cmd::insight::check_output(run.format == Format::Xlsx, run.output.as_ref())?;
    let scoring = load_scoring(run.scoring.as_ref())?;
    let mut now = replay::parse_now(run.now.as_deref(), &*clock)?;
    let explicit = run.now.as_ref().map(|_| now);
    let store = crate::open_existing_store(db, clock).await?;
    let how = Fold {
        now,
        explicit: explicit.is_some(),
        replay: run.replay,
        as_closed: run.as_closed,
    };
    let folded = fold_for_report(&store, &period, how, scoring).await;
    store.close().await;
    let (projections, closed) = folded?;
    let mut kept = None;
    let (closed, at_close) = match closed {
        Some(Closing::AsClosed(c, k)) => {
            now = c.at;
            kept = k;
            (None, None)
        }
        Some(Closing::Marked(c, at_close)) => (Some(c), Some(at_close)),
        None => (None, None),
    };
    if run.kind == Kind::Procurement {
        return procurement(&projections, &period, run, now, lang);
    }
    let by = match run.by {
        By::Org => Dimension::Org,
        By::Item => Dimension::Item,
        By::Channel => Dimension::Channel,
    };
    let query = ReportQuery {
        period,
        by,
        depth: run.depth,
    };
    let report = match kept {
        // The replay computes the closed period otherwise: the figures as closed are the ones
        // the close keeps, which are by org.
        Some(kept) if query.by == Dimension::Org => {
            let mut report = *kept;
            if let Some(depth) = query.depth {
                report.keep_depth(depth);
            }
            report
        }
        Some(_) => {
            return Err(anyhow::Error::new(crate::error::CheckFailed(format!(
                "the closed report of {} does not reproduce with this build and scoring, and its close keeps \
                 the figures by org only: give --by org",
                query.period.label
            ))))
        }
        None => projections
            .report(&query, now)
            .ok_or_else(|| anyhow::anyhow!("the assessment ledger was not kept"))?,
    };
    // The entries recorded after the close, against the closed figures.
    let adjustments = match (&closed, &at_close) {
        (Some(c), Some(p)) => jiancha_projections::report::adjustments_after_close(
            &query.period,
            (p, c.at),
            (&projections, now),
        ),
        _ => Vec::new(),
    };
    let mut out = std::io::BufWriter::new(crate::stdout::lock());
    match (run.format, &closed) {
        (Format::Json, None) => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        (Format::Json, Some(c)) => {
            let mut doc = serde_json::to_value(jiancha_engine::closing::ClosedReport {
                report: &report,
                closed: c,
            })?;
            doc["adjustments_after_close"] = serde_json::to_value(&adjustments)?;
            writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?
        }
        (Format::Csv, _) => write_csv(&mut out, &report.rows)?,
        (Format::Xlsx, _) => {
            let bytes = jiancha_xlsx::workbook(
                &serde_json::to_value(&report)?,
                &jiancha_xlsx::report_sheets(),
                jiancha_xlsx::Created::from_unix_millis(now),
            )?;
            crate::cmd::insight::write_file(run.output.as_ref(), &bytes)?;
        }
        (Format::Table, _) => {
            let items = items_in_center(&projections);
            write_table(&mut out, &report.period, &report.rows, items, lang)?;
            if let Some(c) = &closed {
                writeln!(out, "{}", report_close::close_line(c, lang))?;
                let more = if adjustments.is_empty() { "" } else { ":" };
                match lang {
                    Lang::Zh => writeln!(out, "关账后调整 {} 条{more}", adjustments.len())?,
                    Lang::En => writeln!(
                        out,
                        "{} adjustments after the close{more}",
                        adjustments.len()
                    )?,
                }
                for a in &adjustments {
                    let e = &a.entry;
                    writeln!(
                        out,
                        "  {:<9} {:>16} {} {} {} {:+} ({})",
                        a.change, e.id, e.month, e.org, e.measure, e.amount, e.rule
                    )?;
                }
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// `report --kind procurement`: the procurement report's rows.
fn procurement(
    projections: &jiancha_projections::Projections,
    period: &Period,
    run: &RunArgs,
    now: i64,
    lang: Lang,
) -> anyhow::Result<()> {
    use jiancha_projections::kinds::procurement::report::procurement_report;
    let org = run.org.as_deref().unwrap_or_default();
    let report = procurement_report(projections, period, org, now)
        .ok_or_else(|| anyhow::anyhow!("the assessment ledger was not kept"))?;
    let mut out = std::io::BufWriter::new(crate::stdout::lock());
    match run.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        Format::Xlsx => {
            return Err(user_error(
                "--kind procurement writes table, csv or json; the workbook is the approval \
                 report's",
            ))
        }
        Format::Csv => {
            writeln!(
                out,
                "org,month,projects,awards,contracts,contracts_on_time,contract_on_time_rate,yellow,red,violations,score,grade"
            )?;
            for r in &report.rows {
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{},{},{},{}",
                    csv_field(&r.org),
                    r.month,
                    r.projects,
                    r.awards,
                    r.contracts,
                    r.contracts_on_time,
                    text(&r.contract_on_time_rate),
                    r.yellow,
                    r.red,
                    r.violations,
                    r.score,
                    r.grade
                )?;
            }
        }
        Format::Table => {
            let head: [&str; 10] = match lang {
                Lang::Zh => [
                    "采购单位",
                    "月份",
                    "项目",
                    "中标",
                    "合同",
                    "按时签订",
                    "按时率",
                    "黄牌",
                    "红牌",
                    "得分",
                ],
                Lang::En => [
                    "Purchaser",
                    "Month",
                    "Projects",
                    "Awards",
                    "Contracts",
                    "On time",
                    "On-time rate",
                    "Yellow",
                    "Red",
                    "Score",
                ],
            };
            let title = match lang {
                Lang::Zh => format!("政府采购监察报表 {}", report.period),
                Lang::En => format!("Procurement report {}", report.period),
            };
            writeln!(out, "{title}")?;
            let mut table = Table::new(
                head.iter()
                    .enumerate()
                    .map(|(i, h)| (*h, if i == 0 { Align::Left } else { Align::Right })),
            );
            for r in &report.rows {
                table.row(vec![
                    r.org_name.clone().unwrap_or_else(|| r.org.clone()),
                    r.month.to_string(),
                    r.projects.to_string(),
                    r.awards.to_string(),
                    r.contracts.to_string(),
                    r.contracts_on_time.to_string(),
                    text(&r.contract_on_time_rate).to_owned(),
                    r.yellow.to_string(),
                    r.red.to_string(),
                    format!("{} {}", r.score, r.grade),
                ]);
            }
            table.write(&mut out)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// How a report stands to its period's close.
enum Closing {
    /// `--as-closed`: folded up to the close, evaluated at its instant; with the figures the
    /// close keeps when that fold computes them otherwise.
    AsClosed(Closed, Option<Box<Report>>),
    /// The current figures of a closed period, which say so, with the fold the closed figures
    /// came from (to mark the entries recorded after the close).
    Marked(Closed, Box<jiancha_projections::Projections>),
}

/// How a report's projections are folded.
#[derive(Debug, Clone, Copy)]
struct Fold {
    /// The instant of evaluation.
    now: i64,
    /// Whether it was given with --now.
    explicit: bool,
    /// --replay: the whole log.
    replay: bool,
    /// --as-closed.
    as_closed: bool,
}

/// The projections a report reads, and its period's close: as the period was closed; the
/// whole log replayed (--replay); at an explicit instant, the cases the case index names (a
/// scoring with a default rating keeps more cases active than the index says: replayed); else
/// the snapshot and the events after it.
async fn fold_for_report(
    store: &Arc<dyn jiancha_store::EventStore>,
    period: &Period,
    how: Fold,
    scoring: Scoring,
) -> anyhow::Result<(jiancha_projections::Projections, Option<Closing>)> {
    if how.as_closed {
        let c = report_close::as_closed(store, period, scoring).await?;
        return Ok((
            c.projections,
            Some(Closing::AsClosed(c.closed, c.kept.map(Box::new))),
        ));
    }
    let projections = if how.replay {
        replay::assessment(store, how.now, scoring).await?
    } else if how.explicit && jiancha_engine::travel::serves_scoring(&scoring) {
        replay::index(store).await?;
        jiancha_engine::travel::for_report(&**store, period, how.now, scoring)
            .await?
            .projections
    } else {
        replay::current(store, how.explicit.then_some(how.now), scoring).await?
    };
    let Some(closed) = jiancha_engine::closing::find(&**store, &period.label).await? else {
        return Ok((projections, None));
    };
    let alerts = jiancha_projections::AlertConfig::default();
    let at_close = jiancha_engine::closing::fold_closed(&**store, alerts, scoring, &closed).await?;
    Ok((
        projections,
        Some(Closing::Marked(closed, Box::new(at_close))),
    ))
}

fn key(r: &Row) -> &str {
    r.org
        .as_deref()
        .or(r.item.as_deref())
        .or(r.channel.as_deref())
        .unwrap_or_default()
}

pub(crate) fn text(v: &Option<Box<serde_json::value::RawValue>>) -> &str {
    v.as_deref().map_or("", |r| r.get())
}

/// A column's table heading and legend line, in both languages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Heading {
    en: &'static str,
    zh: &'static str,
    en_legend: &'static str,
    zh_legend: &'static str,
}

impl Heading {
    fn text(&self, lang: Lang) -> &'static str {
        lang.pick(self.zh, self.en)
    }

    fn legend(&self, lang: Lang) -> &'static str {
        lang.pick(self.zh_legend, self.en_legend)
    }
}

const fn head(
    en: &'static str,
    zh: &'static str,
    en_legend: &'static str,
    zh_legend: &'static str,
) -> Option<Heading> {
    Some(Heading {
        en,
        zh,
        en_legend,
        zh_legend,
    })
}

/// A column the table shows: its heading and its text.
type Shown = (Heading, fn(&Row) -> String);

/// Every column of a row: its CSV name, its table heading and legend (`None`: CSV and JSON
/// only, to keep the table readable) and its text.
pub(crate) type Column = (&'static str, Option<Heading>, fn(&Row) -> String);

pub(crate) const COLUMNS: [Column; 30] = [
    (
        "accepted",
        head("ACC", "受理", "accepted", "受理件数"),
        |r| r.accepted.to_string(),
    ),
    (
        "concluded",
        head("CONC", "办结", "concluded", "办结件数"),
        |r| r.concluded.to_string(),
    ),
    (
        "on_time",
        head(
            "ONTIME",
            "按时",
            "concluded within the promised limit",
            "承诺时限内办结件数",
        ),
        |r| r.on_time.to_string(),
    ),
    (
        "on_time_rate",
        head("RATE", "按时率", "ONTIME ÷ CONC", "按时 ÷ 办结"),
        |r| text(&r.on_time_rate).to_owned(),
    ),
    (
        "early",
        head(
            "EARLY",
            "提前",
            "concluded before the promised due date",
            "提前办结件数",
        ),
        |r| r.early.to_string(),
    ),
    (
        "early_rate",
        head("E_RATE", "提前率", "EARLY ÷ CONC", "提前 ÷ 办结"),
        |r| text(&r.early_rate).to_owned(),
    ),
    (
        "statutory_on_time",
        head(
            "STAT",
            "法定内",
            "concluded within the statutory limit",
            "法定时限内办结件数",
        ),
        |r| r.statutory_on_time.to_string(),
    ),
    (
        "overdue_open",
        head(
            "OVERDUE",
            "在办超期",
            "open past the promised due date at the period's end",
            "期末在办且已超承诺期限件数",
        ),
        |r| r.overdue_open.to_string(),
    ),
    (
        "yellow",
        head("Y", "黄牌", "yellow cards", "黄牌数"),
        |r| r.yellow.to_string(),
    ),
    ("red", head("R", "红牌", "red cards", "红牌数"), |r| {
        r.red.to_string()
    }),
    (
        "rated",
        head("RATED", "评价", "ratings", "评价数"),
        |r| r.rated.to_string(),
    ),
    (
        "satisfied",
        head("SAT", "满意", "ratings of 4 or 5", "4、5 分评价数"),
        |r| r.satisfied.to_string(),
    ),
    (
        "satisfaction_rate",
        head("S_RATE", "满意率", "SAT ÷ RATED", "满意 ÷ 评价"),
        |r| text(&r.satisfaction_rate).to_owned(),
    ),
    (
        "bad_rated",
        head("BAD", "差评", "ratings of 1 or 2", "1、2 分评价数"),
        |r| r.bad_rated.to_string(),
    ),
    (
        "complaints",
        head("COMPL", "投诉", "complaints", "投诉件数"),
        |r| r.complaints.to_string(),
    ),
    (
        "warnings",
        head(
            "WARN",
            "预警",
            "warnings (prompts before a limit runs out, not cards)",
            "预警提示数（不是红黄牌）",
        ),
        |r| r.warnings.to_string(),
    ),
    (
        "unmonitored",
        head(
            "UNMON",
            "未监控",
            "cases of items not in the catalog",
            "事项未登记、无法监控的案件数",
        ),
        |r| r.unmonitored.to_string(),
    ),
    (
        "ordered",
        head(
            "ORDERED",
            "督办",
            "correction orders received (督办)",
            "收到的督办数",
        ),
        |r| r.ordered.to_string(),
    ),
    ("corrected_on_time", None, |r| {
        r.corrected_on_time.to_string()
    }),
    (
        "correction_rate",
        head(
            "CORR",
            "整改率",
            "orders corrected on time ÷ ORDERED",
            "按时整改的督办 ÷ 督办",
        ),
        |r| text(&r.correction_rate).to_owned(),
    ),
    (
        "correction_overdue",
        head(
            "ORD_LATE",
            "督办逾期",
            "orders past due without a report-back",
            "逾期未回告的督办数",
        ),
        |r| r.correction_overdue.to_string(),
    ),
    ("bad_valid", None, |r| r.bad_valid.to_string()),
    ("rectified_on_time", None, |r| {
        r.rectified_on_time.to_string()
    }),
    (
        "rectification_rate",
        head(
            "RECTIFY",
            "差评整改",
            "valid bad ratings rectified on time ÷ valid bad ratings",
            "按时整改的属实差评 ÷ 属实差评",
        ),
        |r| text(&r.rectification_rate).to_owned(),
    ),
    ("callback_satisfied", None, |r| {
        r.callback_satisfied.to_string()
    }),
    ("defaulted", None, |r| r.defaulted.to_string()),
    (
        "complaints_upheld",
        head("UPHELD", "投诉属实", "complaints upheld", "投诉属实件数"),
        |r| r.complaints_upheld.to_string(),
    ),
    ("complaints_late", None, |r| r.complaints_late.to_string()),
    (
        "score",
        head(
            "SCORE",
            "得分",
            "the score (100, -5 per yellow, -10 per red card, …; see --help)",
            "考核得分（100 分起，黄牌 -5，红牌 -10 等，见 --help）",
        ),
        |r| text(&r.score).to_owned(),
    ),
    (
        "grade",
        head(
            "GRADE",
            "等级",
            "优秀 >= 90, 良好 >= 80, 合格 >= 60, 不合格 below",
            "优秀 ≥ 90，良好 ≥ 80，合格 ≥ 60，以下不合格",
        ),
        |r| r.grade.unwrap_or_default().to_owned(),
    ),
];

fn write_csv(out: &mut dyn std::io::Write, rows: &[Row]) -> std::io::Result<()> {
    let first = rows.first().map_or("org", |r| {
        if r.item.is_some() {
            "item"
        } else if r.channel.is_some() {
            "channel"
        } else {
            "org"
        }
    });
    let header: Vec<&str> = COLUMNS.iter().map(|(name, _, _)| *name).collect();
    // Orgs and items have names; channels have none, so their report has no name column.
    let named = first != "channel";
    let name_head = if named { "name," } else { "" };
    writeln!(out, "{first},{name_head}{}", header.join(","))?;
    for r in rows {
        let k = csv_field(key(r));
        let name = if named {
            format!("{},", csv_field(r.name.as_deref().unwrap_or_default()))
        } else {
            String::new()
        };
        let fields: Vec<String> = COLUMNS.iter().map(|(_, _, f)| f(r)).collect();
        writeln!(out, "{k},{name}{}", fields.join(","))?;
    }
    Ok(())
}

/// A CSV field, quoted when it holds a comma or a quote.
pub(crate) fn csv_field(text: &str) -> String {
    if text.contains([',', '"']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// What a row falls short of, if anything.
fn shortfalls(r: &Row, lang: Lang) -> String {
    let mut out = Vec::new();
    if misses_on_time(r) {
        out.push(lang.pick("按时办结率 < 100%", "on-time < 100%"));
    }
    if misses_satisfaction(r) {
        out.push(lang.pick("满意率 < 95%", "satisfaction < 95%"));
    }
    out.join(lang.pick("，", ", "))
}

/// Whether a row misses the on-time target: every case on time, and none open past its
/// promised due date (which misses it too).
pub(crate) fn misses_on_time(r: &Row) -> bool {
    r.on_time_rate
        .as_deref()
        .is_some_and(|v| v.get() != ON_TIME_TARGET)
        || r.overdue_open > 0
}

/// Whether a row misses the satisfaction target (at least 95% of its ratings satisfied).
pub(crate) fn misses_satisfaction(r: &Row) -> bool {
    let c = &r.counts;
    c.rated > 0 && c.satisfied * 10_000 < SATISFACTION_TARGET_BP * c.rated
}

/// The targets line of a report.
pub(crate) fn targets_line(lang: Lang) -> &'static str {
    lang.pick(
        "目标：按时办结率 100%，满意率 ≥ 95%，事项进驻率 100%",
        "targets: on-time completion 100%, satisfaction >= 95%, items handled in the center 100%",
    )
}

/// The share of items handled in the center, marked when below its target of 100%.
pub(crate) fn items_line((inside, all): (i64, i64), lang: Lang) -> String {
    let share = rate(inside, all).unwrap_or_else(|| "-".into());
    let below = inside < all;
    match lang {
        Lang::Zh => format!(
            "事项进驻率：{all} 项中 {inside} 项进驻中心（{share}）{}",
            if below { "  ✗ 未达标" } else { "" }
        ),
        Lang::En => format!(
            "items handled in the center: {inside} of {all} ({share}){}",
            if below { "  ✗ below target" } else { "" }
        ),
    }
}

pub(crate) fn write_table(
    out: &mut dyn std::io::Write,
    period: &str,
    rows: &[Row],
    items: (i64, i64),
    lang: Lang,
) -> std::io::Result<()> {
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    writeln!(out, "{} {period}", l("考核期", "period"))?;
    writeln!(out, "{}", targets_line(lang))?;
    writeln!(out, "{}", items_line(items, lang))?;
    // A name column for orgs and items, and for channels in Chinese (their codes are English).
    let channels = rows.iter().any(|r| r.channel.is_some());
    let named = !channels || lang == Lang::Zh;
    let shown: Vec<Shown> = COLUMNS
        .iter()
        .filter_map(|(_, h, f)| h.map(|h| (h, *f)))
        .collect();
    let key_head = match rows.first() {
        Some(r) if r.item.is_some() => l("事项", "KEY"),
        Some(r) if r.channel.is_some() => l("渠道", "KEY"),
        _ => l("单位", "KEY"),
    };
    let mut columns = vec![(key_head, Align::Left)];
    if named {
        columns.push((l("名称", "NAME"), Align::Left));
    }
    columns.extend(shown.iter().map(|(h, _)| (h.text(lang), Align::Right)));
    columns.push((l("未达标", "SHORT OF TARGET"), Align::Left));
    let mut table = Table::new(columns);
    for r in rows {
        let mut cells = vec![key(r).to_owned()];
        if named {
            cells.push(match (&r.name, &r.channel) {
                (Some(name), _) => name.clone(),
                (None, Some(channel)) => channel_name(channel, lang).to_owned(),
                (None, None) => "-".to_owned(),
            });
        }
        cells.extend(shown.iter().map(|(_, f)| f(r)));
        let short = shortfalls(r, lang);
        cells.push(if short.is_empty() {
            String::new()
        } else {
            format!("✗ {short}")
        });
        table.row(cells);
    }
    table.write(out)?;
    match lang {
        Lang::Zh => writeln!(out, "共 {} 行", rows.len())?,
        Lang::En => writeln!(out, "{} rows", rows.len())?,
    }
    write_legend(out, &shown, lang)
}

/// What each column of the table means, wrapped to 100 terminal cells.
fn write_legend(out: &mut dyn std::io::Write, shown: &[Shown], lang: Lang) -> std::io::Result<()> {
    let mut entries: Vec<String> = shown
        .iter()
        .map(|(h, _)| format!("{} = {}", h.text(lang), h.legend(lang)))
        .collect();
    entries.push(
        lang.pick(
            "未达标 = 未达到的目标（✗）",
            "SHORT OF TARGET = the targets the row misses (✗)",
        )
        .to_owned(),
    );
    let first = lang.pick("说明：", "legend: ");
    let mut entries = entries.into_iter();
    let mut all: Vec<String> = entries
        .next()
        .map(|e| format!("{first}{e}"))
        .into_iter()
        .collect();
    all.extend(entries);
    for line in wrap(&all, lang.pick("；", "; "), 100, "  ") {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

async fn explain(db: &str, clock: Arc<dyn Clock>, args: &ExplainArgs) -> anyhow::Result<()> {
    if matches!(args.format, Format::Xlsx | Format::Csv) {
        return Err(user_error(
            "--format: report explain is a table or JSON (csv and xlsx are for the report itself)",
        ));
    }
    let period = Period::parse(&args.period).map_err(|e| user_error(format!("--period: {e}")))?;
    let now = replay::parse_now(args.now.as_deref(), &*clock)?;
    let scoring = load_scoring(args.scoring.as_ref())?;
    let store = crate::open_existing_store(db, clock).await?;
    let projections = replay::assessment(&store, now, scoring).await?;
    store.close().await;
    let Some(ledger) = projections.ledger() else {
        return Ok(());
    };
    if args.kind == Kind::Procurement {
        return explain_procurement(&projections, ledger, (&period, now), args);
    }
    let explanation =
        jiancha_projections::report::explain(ledger, &projections, &period, &args.org, now);
    let entries: Vec<_> = explanation.entries.iter().map(|e| ledger.view(e)).collect();
    let mut out = std::io::BufWriter::new(crate::stdout::lock());
    if args.format == Format::Json {
        let row = ("row", serde_json::to_value(&explanation.row)?);
        let head = (explanation.period.as_str(), explanation.org.as_str());
        write_explanation_json(&mut out, head, &entries, &explanation.totals, row)?;
    } else {
        write_entries(&mut out, &entries)?;
        // Every measure the entries count, as the JSON's `totals` has them.
        let totals: Vec<String> = explanation
            .totals
            .named()
            .into_iter()
            .map(|(name, n)| match name {
                "points" => format!("card points {n}"),
                _ => format!("{name} {n}"),
            })
            .collect();
        writeln!(
            out,
            "{} entries; total: {}",
            entries.len(),
            totals.join(", ")
        )?;
        if let Some(row) = &explanation.row {
            let score = row.score.as_deref().map_or("-", |s| s.get());
            writeln!(
                out,
                "row: score {score} ({}), overdue_open {}",
                row.grade.unwrap_or("-"),
                row.overdue_open
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

/// An explanation as JSON: its period and org, its entries, their totals and the row (or rows)
/// they explain, under `key`.
fn write_explanation_json(
    out: &mut dyn std::io::Write,
    (period, org): (&str, &str),
    entries: &[jiancha_projections::EntryView],
    totals: &impl serde::Serialize,
    (key, rows): (&str, serde_json::Value),
) -> anyhow::Result<()> {
    let mut doc = serde_json::json!({
        "period": period,
        "org": org,
        "entries": entries,
        "totals": totals,
    });
    doc[key] = rows;
    writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    Ok(())
}

/// The entries of an explanation, one line each.
fn write_entries(
    out: &mut dyn std::io::Write,
    entries: &[jiancha_projections::EntryView],
) -> anyhow::Result<()> {
    writeln!(
        out,
        "{:>16} {:>6} {:<34} {:<22} {:<17} {:>3} {:>4}  RULE / KIND / CAUSED BY",
        "ENTRY", "MONTH", "ORG", "CASE", "MEASURE", "AMT", "PTS"
    )?;
    for e in entries {
        let kind = serde_json::to_value(e.kind)?
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let kind = if e.pending {
            format!("{kind}, pending")
        } else {
            kind
        };
        let adjusts = e
            .adjusts
            .as_ref()
            .map(|a| format!(" reverses {a}"))
            .unwrap_or_default();
        writeln!(
            out,
            "{:>16} {:>6} {:<34} {:<22} {:<17} {:>3} {:>4}  {} / {kind} / #{}{adjusts}",
            e.id, e.month, e.org, e.case, e.measure, e.amount, e.points, e.rule, e.caused_by
        )?;
    }
    Ok(())
}

/// `report explain --kind procurement`: the entries behind the purchasers' rows, their totals
/// and the rows.
fn explain_procurement(
    projections: &jiancha_projections::Projections,
    ledger: &jiancha_projections::Ledger,
    (period, now): (&Period, jiancha_projections::Millis),
    args: &ExplainArgs,
) -> anyhow::Result<()> {
    use jiancha_projections::kinds::procurement::report::explain;
    let Some(explanation) = explain(projections, period, &args.org, now) else {
        return Ok(());
    };
    let entries: Vec<_> = explanation.entries.iter().map(|e| ledger.view(e)).collect();
    let mut out = std::io::BufWriter::new(crate::stdout::lock());
    if args.format == Format::Json {
        let rows = ("rows", serde_json::to_value(&explanation.rows)?);
        let head = (explanation.period.as_str(), explanation.org.as_str());
        write_explanation_json(&mut out, head, &entries, &explanation.totals, rows)?;
    } else {
        write_entries(&mut out, &entries)?;
        let t = &explanation.totals;
        writeln!(
            out,
            "{} entries; total: projects {}, awards {}, contracts {}, contracts_on_time {}, \
             yellow {}, red {}, card points {}",
            entries.len(),
            t.projects,
            t.awards,
            t.contracts,
            t.contracts_on_time,
            t.yellow,
            t.red,
            t.points
        )?;
        for row in &explanation.rows {
            writeln!(
                out,
                "row: {} {}: score {} ({})",
                row.org, row.month, row.score, row.grade
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

async fn items(db: &str, clock: Arc<dyn Clock>, args: &ItemsArgs) -> anyhow::Result<()> {
    if matches!(args.format, Format::Xlsx | Format::Csv) {
        return Err(user_error(
            "--format: report items is a table or JSON (csv and xlsx are for the report itself)",
        ));
    }
    let now = clock.now().timestamp_millis();
    let store = crate::open_existing_store(db, clock).await?;
    let projections = replay::whole_log(&store, now).await?;
    store.close().await;
    let (inside, all) = items_in_center(&projections);
    let outside: Vec<(String, String, String)> = projections
        .catalog
        .items()
        .filter(|d| !d.item.in_center)
        .map(|d| (d.item.code.clone(), d.item.name.clone(), d.item.org.clone()))
        .collect();
    let mut out = crate::stdout::lock();
    if args.format == Format::Json {
        let value = serde_json::json!({
            "items": all, "in_center": inside,
            "share": rate(inside, all).and_then(|r| serde_json::value::RawValue::from_string(r).ok()),
            "target": "1.0000",
            "outside": outside.iter().map(|(c, n, o)| serde_json::json!({"code": c, "name": n, "org": o})).collect::<Vec<_>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        let share = rate(inside, all).unwrap_or_else(|| "-".into());
        let mark = if inside < all {
            "  ✗ below the target of 100%"
        } else {
            ""
        };
        writeln!(
            out,
            "items handled in the center (进驻率): {inside} of {all} ({share}){mark}"
        )?;
        for (code, name, org) in outside {
            writeln!(out, "  not in the center: {code} {name} ({org})")?;
        }
    }
    Ok(())
}
