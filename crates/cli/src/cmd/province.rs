//! `jiancha province report`: districts side by side in one PostgreSQL database (a schema
//! each), rolled up without moving their logs: one row per district (its root org's figures,
//! as its own `report` gives them) and the province's total (counts summed, rates recomputed
//! from the sums, the score of a parent over every district's units). The roll-up is
//! `jiancha_engine::province`'s, which the server's `GET /api/v1/province/reports` shares.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use jiancha_engine::province::{check_districts, ProvinceQuery, ProvinceReport};
use jiancha_projections::report::Row;
use jiancha_projections::{AlertConfig, Lang, Period};
use jiancha_store::{Clock, StoreError};

use crate::cmd::replay;
use crate::cmd::report::{csv_field, load_scoring, text, COLUMNS};
use crate::error::user_error;
use crate::lang::{Align, Table};

/// Arguments of `jiancha province`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha --db postgres://jiancha@db.example/province province report --period 2026-03 \
    --districts jiangjin,yubei\n  \
    jiancha --db postgres://… province report --period 2026-Q1 --districts a,b,c --now \
    2026-04-10 --format csv\n\n\
    `jiancha province report --help` says how districts are rolled up.")]
pub struct ProvinceArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ProvinceCommand,
}

/// The province subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ProvinceCommand {
    /// One row per district and the province's total, from each district's own ledger.
    #[command(after_help = "Examples:\n  \
        jiancha --db postgres://jiancha@db.example/province province report --period 2026-03 \
        --districts jiangjin,yubei\n  \
        jiancha --db postgres://… province report --period 2026-H1 --districts a,b,c --format csv\n\n\
        Each district is a schema of the database --db names (jiancha --district NAME writes \
        it). A district's row is its root org's row of its own `report --by org`; the total \
        sums the districts' counts, recomputes the rates from the sums, and scores as a \
        parent over every district's units (accepted-weighted per month, then the mean of \
        the active months). Read only: nothing is appended to any district.")]
    Report(ReportArgs),
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text.
    Table,
    /// `{"period": …, "districts": [ … ], "total": { … }}`.
    Json,
    /// Comma-separated values: a line per district, then `total`.
    Csv,
}

/// Arguments of `jiancha province report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// YYYY-MM, YYYY-H1, YYYY-H2, YYYY-Q1..Q4 or YYYY.
    #[arg(long)]
    pub period: String,
    /// The districts (schemas of the database), comma-separated.
    #[arg(long, value_delimiter = ',', required = true, value_name = "A,B,C")]
    pub districts: Vec<String>,
    /// The instant of evaluation (RFC 3339, or a date meaning its end); defaults to now.
    #[arg(long)]
    pub now: Option<String>,
    /// With --now: fold each district's whole log (the events that occurred by then) instead of
    /// the cases its case index names: the audit path, which gives the same report.
    #[arg(long, requires = "now")]
    pub replay: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// A TOML scoring scheme replacing the default.
    #[arg(long, value_name = "FILE")]
    pub scoring: Option<PathBuf>,
}

/// Runs `jiancha province`.
pub async fn run(
    db: &str,
    clock: Arc<dyn Clock>,
    args: &ProvinceArgs,
    lang: Lang,
) -> anyhow::Result<()> {
    let ProvinceCommand::Report(args) = &args.command;
    if !(db.starts_with("postgres://") || db.starts_with("postgresql://")) {
        return Err(user_error(format!(
            "province report reads districts side by side in one PostgreSQL database; --db \
             {db} is not postgres://… (a SQLite district is its own file: report on it alone)"
        )));
    }
    let period = Period::parse(&args.period).map_err(|e| user_error(format!("--period: {e}")))?;
    let districts =
        check_districts(&args.districts).map_err(|e| user_error(format!("--districts: {e}")))?;
    let scoring = load_scoring(args.scoring.as_ref())?;
    let now = replay::parse_now(args.now.as_deref(), &*clock)?;
    let query = ProvinceQuery {
        districts,
        period,
        now,
        explicit_now: args.now.is_some(),
        replay: args.replay,
        alerts: AlertConfig::default(),
        scoring,
    };
    let report = match jiancha_engine::province::report(db, clock, &query).await {
        Ok(report) => report,
        Err(
            e @ (StoreError::NoDistrict { .. }
            | StoreError::EmptyDistrict { .. }
            | StoreError::BadUrl { .. }),
        ) => return Err(user_error(e.to_string())),
        Err(e) => return Err(anyhow::Error::new(e).context("cannot read the districts")),
    };
    let mut out = std::io::BufWriter::new(crate::stdout::lock());
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        Format::Csv => write_csv(&mut out, &report)?,
        Format::Table => write_table(&mut out, &report, lang)?,
    }
    out.flush()?;
    Ok(())
}

fn write_csv(out: &mut dyn std::io::Write, report: &ProvinceReport) -> std::io::Result<()> {
    let header: Vec<&str> = COLUMNS.iter().map(|(name, _, _)| *name).collect();
    writeln!(out, "district,org,name,{}", header.join(","))?;
    let rows = report
        .districts
        .iter()
        .map(|d| (d.district.as_str(), &d.row))
        .chain(std::iter::once(("total", &report.total)));
    for (district, r) in rows {
        let fields: Vec<String> = COLUMNS.iter().map(|(_, _, f)| f(r)).collect();
        writeln!(
            out,
            "{district},{},{},{}",
            csv_field(r.org.as_deref().unwrap_or_default()),
            csv_field(r.name.as_deref().unwrap_or_default()),
            fields.join(",")
        )?;
    }
    Ok(())
}

fn write_table(
    out: &mut dyn std::io::Write,
    report: &ProvinceReport,
    lang: Lang,
) -> std::io::Result<()> {
    let head: [&str; 11] = match lang {
        Lang::Zh => [
            "区县",
            "机构",
            "受理",
            "办结",
            "按时",
            "按时率",
            "满意率",
            "黄牌",
            "红牌",
            "在办超期",
            "得分",
        ],
        Lang::En => [
            "District", "Org", "ACC", "CONC", "ONTIME", "RATE", "SAT", "Y", "R", "OVERDUE", "Score",
        ],
    };
    let title = match lang {
        Lang::Zh => format!("全省汇总 {}", report.period),
        Lang::En => format!("Province report {}", report.period),
    };
    writeln!(out, "{title}")?;
    let mut table = Table::new(
        head.iter()
            .enumerate()
            .map(|(i, h)| (*h, if i < 2 { Align::Left } else { Align::Right })),
    );
    let total = lang.pick("合计", "total");
    let rows = report
        .districts
        .iter()
        .map(|d| (d.district.as_str(), &d.row))
        .chain(std::iter::once((total, &report.total)));
    for (district, r) in rows {
        table.row(cells(district, r));
    }
    table.write(out)
}

fn cells(district: &str, r: &Row) -> Vec<String> {
    let score = match (&r.score, r.grade) {
        (Some(s), Some(g)) => format!("{} {g}", s.get()),
        _ => String::new(),
    };
    vec![
        district.to_owned(),
        r.name.clone().or_else(|| r.org.clone()).unwrap_or_default(),
        r.accepted.to_string(),
        r.concluded.to_string(),
        r.on_time.to_string(),
        text(&r.on_time_rate).to_owned(),
        text(&r.satisfaction_rate).to_owned(),
        r.yellow.to_string(),
        r.red.to_string(),
        r.overdue_open.to_string(),
        score,
    ]
}
