//! `jiancha case list`: the cases matching filters — org, item, status, due within the next
//! working days, overdue — evaluated at an instant, sorted by promised due date then stream.
//! The rows are `Projections::case_list`'s, as `GET /api/v1/cases` serves them.

use clap::builder::TypedValueParser as _;
use std::io::Write as _;
use std::sync::Arc;

use jiancha_projections::caselist::parse_status;
use jiancha_projections::names::status_code_name;
use jiancha_projections::{CaseQuery, CaseRow, Lang};
use jiancha_store::Clock;

use crate::cmd::replay;
use crate::error::user_error;
use crate::lang::{Align, Table};

/// The case kinds `--kind` takes: approval cases only, for now.
pub const KINDS: [&str; 1] = ["approval"];

/// Output formats of `jiancha case list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// Aligned text for people.
    Table,
    /// JSON for programs.
    Json,
    /// CSV for spreadsheets.
    Csv,
}

/// Arguments of `jiancha case list`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha case list --due-within 0\n  \
    jiancha case list --due-within 5 --org jiangjin/town-07 --format csv\n  \
    jiancha case list --overdue --item permit-01 --now 2026-03-20 --format json\n  \
    jiancha case list --status suspended --limit 20\n\n\
    --due-within N: open cases whose promised due date falls within the next N working days \
    of --now's date, by the case's calendar (0: due that day). --overdue: open cases past \
    their promised due date. --now takes an RFC 3339 instant, or a date meaning the end of \
    that day (24:00 +08:00); only events that occurred by then count. It defaults to the \
    system clock.\n\
    Rows are sorted by promised due date (cases without one last), then stream.\n\
    JSON: an array of objects with stream, item, org, status, promised_due_on, remaining_days, \
    overdue, open_alerts.")]
pub struct ListArgs {
    /// Only cases of orgs under this path (segment-wise: town-1 does not match town-10).
    #[arg(long, value_name = "PREFIX")]
    pub org: Option<String>,
    /// Only cases of this item code.
    #[arg(long, value_name = "CODE")]
    pub item: Option<String>,
    /// Only cases in this status: submitted, running, suspended, concluded, withdrawn or
    /// rejected.
    #[arg(long, value_name = "S")]
    pub status: Option<String>,
    /// Only open cases due within the next N working days (0: due today).
    #[arg(long, value_name = "N")]
    pub due_within: Option<u32>,
    /// Only open cases past their promised due date.
    #[arg(long)]
    pub overdue: bool,
    /// The kind of case: approval (the only kind so far).
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// The instant of evaluation (RFC 3339, or a date meaning its end); defaults to now.
    #[arg(long)]
    pub now: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    /// At most this many rows (the first by the sort order; 1 or more).
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    pub limit: Option<usize>,
}

impl ListArgs {
    /// The query the flags ask for, each flag checked.
    fn query(&self) -> anyhow::Result<CaseQuery> {
        if let Some(kind) = &self.kind {
            if !KINDS.contains(&kind.as_str()) {
                return Err(user_error(format!(
                    "--kind: {kind:?} is not a case kind this version lists (approval)"
                )));
            }
        }
        let status = match &self.status {
            None => None,
            Some(text) => Some(parse_status(text).ok_or_else(|| {
                user_error(format!(
                    "--status: {text:?}: use submitted, running, suspended, concluded, \
                     withdrawn or rejected"
                ))
            })?),
        };
        if let Some(org) = &self.org {
            jiancha_events::stream::check_org("--org", org)
                .map_err(|e| user_error(e.to_string()))?;
        }
        Ok(CaseQuery {
            org: self.org.clone(),
            item: self.item.clone(),
            status,
            due_within_days: self.due_within,
            overdue: self.overdue,
        })
    }
}

/// Runs `jiancha case list`.
pub async fn run(
    db: &str,
    clock: Arc<dyn Clock>,
    args: &ListArgs,
    lang: Lang,
) -> anyhow::Result<()> {
    let query = args.query()?;
    let now = replay::parse_now(args.now.as_deref(), &*clock)?;
    let store = crate::open_existing_store(db, clock).await?;
    let explicit = args.now.as_ref().map(|_| now);
    let projections =
        replay::current(&store, explicit, jiancha_projections::Scoring::default()).await?;
    store.close().await;
    let mut rows = projections.case_list(&query, now);
    rows.truncate(args.limit.unwrap_or(usize::MAX));
    let mut out = std::io::BufWriter::new(crate::stdout::lock());
    match args.format {
        ListFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?,
        ListFormat::Table => write_table(&mut out, &rows, lang)?,
        ListFormat::Csv => write_csv(&mut out, &rows)?,
    }
    out.flush()?;
    Ok(())
}

fn text<T: std::fmt::Display>(v: &Option<T>, none: &str) -> String {
    v.as_ref()
        .map_or_else(|| none.to_owned(), ToString::to_string)
}

fn write_table(out: &mut dyn std::io::Write, rows: &[CaseRow], lang: Lang) -> std::io::Result<()> {
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let mut table = Table::new([
        (l("案件编号", "CASE"), Align::Left),
        (l("事项", "ITEM"), Align::Left),
        (l("责任单位", "ORG"), Align::Left),
        (l("状态", "STATUS"), Align::Left),
        (l("承诺期限", "DUE"), Align::Left),
        (l("剩余工作日", "REMAINING"), Align::Right),
        (l("逾期", "OVERDUE"), Align::Left),
        (l("未解除预警", "ALERTS"), Align::Right),
    ]);
    for r in rows {
        table.row(vec![
            r.stream.clone(),
            r.item.clone(),
            r.org.clone(),
            status_code_name(r.status, lang).to_owned(),
            text(&r.promised_due_on, "-"),
            text(&r.remaining_days, "-"),
            if r.overdue {
                l("是", "yes")
            } else {
                l("否", "no")
            }
            .to_owned(),
            r.open_alerts.to_string(),
        ]);
    }
    table.write(out)?;
    match lang {
        Lang::Zh => writeln!(out, "共 {} 件", rows.len()),
        Lang::En => writeln!(out, "{} cases", rows.len()),
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn write_csv(out: &mut dyn std::io::Write, rows: &[CaseRow]) -> std::io::Result<()> {
    writeln!(
        out,
        "stream,item,org,status,promised_due_on,remaining_days,overdue,open_alerts"
    )?;
    for r in rows {
        writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            field(&r.stream),
            field(&r.item),
            field(&r.org),
            r.status,
            text(&r.promised_due_on, ""),
            text(&r.remaining_days, ""),
            r.overdue,
            r.open_alerts
        )?;
    }
    Ok(())
}
