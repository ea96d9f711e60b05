//! `jiancha insight`: the leadership's 辅助决策 view of a period — where the working days go
//! (per item, org and step), which promised limits could be shorter, the workload forecast with
//! its backtest error, and the hot spots — as a table for people, JSON, or an Excel workbook.
//! The figures are `jiancha_projections::insight`'s; this only prints them.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use jiancha_projections::insight::{Forecast, Insight, InsightQuery, Spread, CONCLUSION_STEP};
use jiancha_projections::{Lang, Period, Scoring};
use jiancha_store::Clock;

use crate::cmd::replay;
use crate::error::user_error;
use crate::lang::{Align, Table};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text, one table per view.
    Table,
    /// The whole insight as JSON (field names are a contract).
    Json,
    /// An Excel workbook, one sheet per view (with --output).
    Xlsx,
}

/// Arguments of `jiancha insight`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha insight --period 2026-03\n  \
    jiancha insight --period 2026-Q1 --org jiangjin/town-07 --format json\n  \
    jiancha insight --period 2026-03 --format xlsx --output insight-2026-03.xlsx\n\n\
    Bottlenecks: the working days the period's conclusions used (p50, p90, max) per item and \
    org, and per step the working days from the previous step (or the clock start) to it; \
    (conclusion) is the last step to the conclusion; OVERRAN counts the conclusions whose \
    promised limit ran out during the step. Percentiles are of the empirical distribution, \
    averaged at its steps: integers or halves.\n\
    Promises: items with at least 30 conclusions in the 12 months ending with the period's \
    last month; a shorter promise of max(1, ceil(p90)) working days is suggested when p90 is at \
    most 60% of the current one; an on-time rate below 95% flags the promise as unrealistic or \
    the unit as short of capacity.\n\
    Forecast: accepted cases in each of the 3 months after the period = the same month a year \
    earlier x (the last 12 months ÷ the 12 before), rounded; its backtest forecasts each of the \
    last 6 known months from the months before it and prints the error beside it: a guess, \
    not a fact.\n\
    Hot spots: orgs whose cards (yellow and red) per 100 accepted cases rose three months in a \
    row; items by the share of their applications asked for corrections twice \
    (intake.correction.repeated).")]
pub struct InsightArgs {
    /// YYYY-MM, YYYY-H1, YYYY-H2, YYYY-Q1..Q4 or YYYY.
    #[arg(long)]
    pub period: String,
    /// Only cases whose accountable org is under this path (segment-wise).
    #[arg(long, value_name = "PREFIX")]
    pub org: Option<String>,
    /// The instant of evaluation (RFC 3339, or a date meaning its end); defaults to now.
    #[arg(long)]
    pub now: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// The file to write the workbook to (with --format xlsx).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs `jiancha insight`.
pub async fn run(
    db: &str,
    clock: Arc<dyn Clock>,
    args: &InsightArgs,
    lang: Lang,
) -> anyhow::Result<()> {
    let period = Period::parse(&args.period).map_err(|e| user_error(format!("--period: {e}")))?;
    check_output(args.format == Format::Xlsx, args.output.as_ref())?;
    if let Some(org) = &args.org {
        // As `GET /insights?org=` refuses it: an empty or malformed path names no org.
        jiancha_events::stream::check_org("--org", org).map_err(|e| user_error(e.to_string()))?;
    }
    let now = replay::parse_now(args.now.as_deref(), &*clock)?;
    let explicit = args.now.as_ref().map(|_| now);
    let store = crate::open_existing_store(db, clock).await?;
    let folded = replay::current(&store, explicit, Scoring::default()).await;
    store.close().await;
    let projections = folded?;
    let query = InsightQuery {
        period,
        org: args.org.clone(),
    };
    let spinner = crate::progress::spinner("insight");
    let insight = projections.insight(&query, now);
    spinner.finish_and_clear();
    match args.format {
        Format::Json => {
            let mut out = std::io::BufWriter::new(crate::stdout::lock());
            writeln!(out, "{}", serde_json::to_string_pretty(&insight)?)?;
            out.flush()?;
        }
        Format::Xlsx => {
            let doc = serde_json::to_value(&insight)?;
            let bytes = jiancha_xlsx::workbook(
                &doc,
                &jiancha_xlsx::insight_sheets(),
                jiancha_xlsx::Created::from_unix_millis(now),
            )?;
            write_file(args.output.as_ref(), &bytes)?;
        }
        Format::Table => {
            let mut out = std::io::BufWriter::new(crate::stdout::lock());
            write_table(&mut out, &insight, lang)?;
            out.flush()?;
        }
    }
    Ok(())
}

/// `--output` goes with `--format xlsx`, and it needs one: the other formats go to standard
/// output (an `--output` beside them would be silently ignored).
pub(crate) fn check_output(xlsx: bool, output: Option<&PathBuf>) -> anyhow::Result<()> {
    match (xlsx, output) {
        (true, None) => Err(user_error("--format xlsx needs --output FILE")),
        (false, Some(_)) => Err(user_error(
            "--output goes with --format xlsx; the other formats are written to standard \
             output (redirect it to a file)",
        )),
        _ => Ok(()),
    }
}

/// Writes a workbook to `--output`.
pub(crate) fn write_file(path: Option<&PathBuf>, bytes: &[u8]) -> anyhow::Result<()> {
    let Some(path) = path else {
        return Err(user_error("--format xlsx needs --output FILE"));
    };
    crate::output::write("--output", path, bytes)
}

fn raw(v: &Option<Box<serde_json::value::RawValue>>) -> String {
    v.as_deref().map_or("-", |r| r.get()).to_owned()
}

fn name_or_dash(name: &Option<String>) -> String {
    name.clone().unwrap_or_else(|| "-".to_owned())
}

fn spreads(
    out: &mut dyn std::io::Write,
    title: &str,
    key: &str,
    rows: &[Spread],
    lang: Lang,
) -> std::io::Result<()> {
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    writeln!(out, "\n{title}")?;
    let mut table = Table::new([
        (key, Align::Left),
        (l("名称", "NAME"), Align::Left),
        ("N", Align::Right),
        (l("按时率", "ON-TIME"), Align::Right),
        ("P50", Align::Right),
        ("P90", Align::Right),
        ("MAX", Align::Right),
        (l("承诺时限", "LIMIT"), Align::Right),
    ]);
    for r in rows {
        table.row(vec![
            r.item.clone().or_else(|| r.org.clone()).unwrap_or_default(),
            name_or_dash(&r.name),
            r.n.to_string(),
            raw(&r.on_time_rate),
            r.p50.get().to_owned(),
            r.p90.get().to_owned(),
            r.max.to_string(),
            r.promised_limit_days
                .map_or_else(|| "-".to_owned(), |d| d.to_string()),
        ]);
    }
    table.write(out)
}

fn forecast_cells(f: &Forecast) -> Vec<String> {
    let mut cells = vec![
        f.dimension.to_owned(),
        if f.key.is_empty() {
            "*".to_owned()
        } else {
            f.key.clone()
        },
    ];
    for m in &f.months {
        cells.push(format!(
            "{} {}",
            jiancha_projections::insight::month_text(m.month),
            m.accepted
        ));
    }
    cells.push(format!("{}/{}", f.trend_recent, f.trend_prior));
    cells.push(f.backtest_abs_error.to_string());
    cells.push(raw(&f.backtest_error_rate));
    cells
}

/// The insight as tables for people.
pub fn write_table(
    out: &mut dyn std::io::Write,
    insight: &Insight,
    lang: Lang,
) -> std::io::Result<()> {
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    writeln!(
        out,
        "{} {}  ({} {})",
        l("期间", "period"),
        insight.period,
        l("评估时点", "as of"),
        insight.now
    )?;
    if let Some(org) = &insight.org {
        writeln!(out, "{} {org}", l("单位范围", "org"))?;
    }
    let b = &insight.bottlenecks;
    spreads(
        out,
        l(
            "用时瓶颈：事项（工作日）",
            "bottlenecks by item (working days)",
        ),
        l("事项", "ITEM"),
        &b.items,
        lang,
    )?;
    spreads(
        out,
        l(
            "用时瓶颈：单位（工作日）",
            "bottlenecks by org (working days)",
        ),
        l("单位", "ORG"),
        &b.orgs,
        lang,
    )?;
    writeln!(
        out,
        "\n{}",
        l(
            "用时瓶颈：环节（工作日）",
            "bottlenecks by step (working days)"
        )
    )?;
    let mut steps = Table::new([
        (l("事项", "ITEM"), Align::Left),
        (l("环节", "STEP"), Align::Left),
        ("N", Align::Right),
        (l("合计", "TOTAL"), Align::Right),
        (l("占比", "SHARE"), Align::Right),
        ("P50", Align::Right),
        ("P90", Align::Right),
        ("MAX", Align::Right),
        (l("超时环节", "OVERRAN"), Align::Right),
    ]);
    for s in &b.steps {
        let step = if s.step == CONCLUSION_STEP {
            l("（至办结）", "(conclusion)").to_owned()
        } else {
            s.step.clone()
        };
        steps.row(vec![
            s.item.clone(),
            step,
            s.n.to_string(),
            s.days_total.to_string(),
            raw(&s.share),
            s.p50.get().to_owned(),
            s.p90.get().to_owned(),
            s.max.to_string(),
            s.overran.to_string(),
        ]);
    }
    steps.write(out)?;
    writeln!(
        out,
        "\n{}",
        l(
            "承诺时限建议（近 12 个月，至少 30 件办结）",
            "promised limits (last 12 months, at least 30 conclusions)"
        )
    )?;
    let mut recs = Table::new([
        (l("事项", "ITEM"), Align::Left),
        (l("名称", "NAME"), Align::Left),
        ("N", Align::Right),
        ("P50", Align::Right),
        ("P90", Align::Right),
        (l("按时率", "ON-TIME"), Align::Right),
        (l("现时限", "LIMIT"), Align::Right),
        (l("建议", "SUGGEST"), Align::Right),
        (l("提示", "FLAG"), Align::Left),
    ]);
    for r in &insight.recommendations {
        recs.row(vec![
            r.item.clone(),
            name_or_dash(&r.name),
            r.n.to_string(),
            r.p50.get().to_owned(),
            r.p90.get().to_owned(),
            raw(&r.on_time_rate),
            r.promised_limit_days.to_string(),
            r.suggested_promise_days
                .map_or_else(|| "-".to_owned(), |d| d.to_string()),
            match r.flag {
                Some(_) => {
                    l("✗ 承诺不实或人手不足", "✗ unrealistic or short of capacity").to_owned()
                }
                None => String::new(),
            },
        ]);
    }
    recs.write(out)?;
    writeln!(
        out,
        "\n{}",
        l(
            "业务量预测（受理件数；回测误差为近 6 个已知月）",
            "workload forecast (accepted cases; backtest error over the last 6 known months)"
        )
    )?;
    let mut fc = Table::new([
        (l("维度", "BY"), Align::Left),
        (l("键", "KEY"), Align::Left),
        (l("+1 月", "+1"), Align::Right),
        (l("+2 月", "+2"), Align::Right),
        (l("+3 月", "+3"), Align::Right),
        (l("近12/前12", "TREND"), Align::Right),
        (l("回测误差", "BT_ERR"), Align::Right),
        (l("误差率", "BT_RATE"), Align::Right),
    ]);
    for f in &insight.forecast {
        fc.row(forecast_cells(f));
    }
    fc.write(out)?;
    writeln!(
        out,
        "\n{}",
        l(
            "热点：每百件红黄牌连续三个月上升的单位",
            "hot spots: orgs whose cards per 100 accepted rose three months in a row"
        )
    )?;
    let mut hot = Table::new([
        (l("单位", "ORG"), Align::Left),
        (l("名称", "NAME"), Align::Left),
        (
            l("每百件红黄牌（4 个月）", "CARDS PER 100 (4 MONTHS)"),
            Align::Left,
        ),
    ]);
    for t in &insight.hot_spots.orgs {
        let trend: Vec<String> = t.months.iter().map(|m| raw(&m.per_100)).collect();
        hot.row(vec![
            t.org.clone(),
            name_or_dash(&t.name),
            trend.join(" → "),
        ]);
    }
    hot.write(out)?;
    writeln!(
        out,
        "\n{}",
        l(
            "热点：二次补正率最高的事项（办事指南可能有误导）",
            "hot spots: items by repeated correction requests (a misleading guide?)"
        )
    )?;
    let mut items = Table::new([
        (l("事项", "ITEM"), Align::Left),
        (l("名称", "NAME"), Align::Left),
        (l("申请", "SUBMITTED"), Align::Right),
        (l("二次补正", "REPEATED"), Align::Right),
        (l("比率", "RATE"), Align::Right),
    ]);
    for i in &insight.hot_spots.items {
        items.row(vec![
            i.item.clone(),
            name_or_dash(&i.name),
            i.submitted.to_string(),
            i.repeated.to_string(),
            raw(&i.rate),
        ]);
    }
    items.write(out)
}
