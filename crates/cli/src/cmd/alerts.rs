//! `jiancha alerts`: every alert of the log evaluated at an instant — raised by events, or by
//! the clock passing a threshold — filtered by state, org, rule and kind of case.

use std::io::Write as _;
use std::sync::Arc;

use jiancha_projections::names::{rule_name, severity_code_name};
use jiancha_projections::{AlertView, Lang, Rule};
use jiancha_store::Clock;

use crate::cmd::case::Format;
use crate::cmd::replay;
use crate::error::user_error;
use crate::lang::{Align, Table};

/// Every rule code, in the order of the rules' reference, joined by `sep`.
fn rule_codes(sep: &str) -> String {
    jiancha_projections::RULES
        .iter()
        .map(|r| r.code())
        .collect::<Vec<_>>()
        .join(sep)
}

/// Arguments of `jiancha alerts`.
#[derive(Debug, clap::Args)]
#[command(after_help = format!("Examples:\n  \
    jiancha alerts --open\n  \
    jiancha alerts --now 2026-03-31 --org jiangjin/town-07 --format json\n  \
    jiancha alerts --now 2026-03-31 --replay\n  \
    jiancha alerts --rule deadline.promised.overdue\n  \
    jiancha alerts --open --severity yellow,red\n  \
    jiancha alerts --kind procurement --open\n\n\
    JSON: an array of objects with id, case, rule, severity, raised_at, closed_at, org, and \
    raised_by / closed_by (the positions of the events behind them).\n\n\
    Rules (--rule; `jiancha docs rules` says what each means):\n  \
    {rules}", rules = rule_codes("\n  ")))]
pub struct AlertsArgs {
    /// Only alerts still open at the instant.
    #[arg(long)]
    pub open: bool,
    /// The instant of evaluation (RFC 3339, or a date meaning its end); defaults to now.
    #[arg(long)]
    pub now: Option<String>,
    /// Fold the whole log (the events that occurred by the instant) instead of reading the
    /// snapshot (without --now) or the cases the case index names (with --now): the audit
    /// path, which gives the same answer.
    #[arg(long)]
    pub replay: bool,
    /// Only alerts of orgs under this path (segment-wise: town-1 does not match town-10).
    #[arg(long, value_name = "PREFIX")]
    pub org: Option<String>,
    /// Only alerts of this rule code.
    #[arg(long, value_name = "CODE")]
    pub rule: Option<String>,
    /// Only alerts of these severities (repeat it, or a comma list): warning (a prompt, 预警提示),
    /// yellow, red (cards).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub severity: Vec<SeverityArg>,
    /// Only alerts on this kind of case: approval (case-…) or procurement (proc-…: its proc.*
    /// rules and the card lifecycle's on its cards); both when absent.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// The kinds of case `--kind` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    /// Approval cases (行政审批).
    Approval,
    /// Procurement and tendering projects (政府采购, 招投标).
    Procurement,
}

impl KindArg {
    /// The name `AlertView::kind` gives.
    pub fn as_str(self) -> &'static str {
        match self {
            KindArg::Approval => "approval",
            KindArg::Procurement => "procurement",
        }
    }
}

/// The severities `--severity` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SeverityArg {
    /// A prompt before a deadline (预警提示), not a card.
    Warning,
    /// A yellow card.
    Yellow,
    /// A red card.
    Red,
}

impl SeverityArg {
    /// The alert JSON's `severity` string.
    pub fn as_str(self) -> &'static str {
        match self {
            SeverityArg::Warning => "warning",
            SeverityArg::Yellow => "yellow",
            SeverityArg::Red => "red",
        }
    }
}

/// Runs `jiancha alerts`.
pub async fn run(
    db: &str,
    clock: Arc<dyn Clock>,
    args: &AlertsArgs,
    lang: Lang,
) -> anyhow::Result<()> {
    if let Some(code) = &args.rule {
        if Rule::from_code(code).is_none() {
            return Err(user_error(format!(
                "--rule: unknown rule code {code:?}; the codes are {}",
                rule_codes(", ")
            )));
        }
    }
    if let Some(org) = &args.org {
        // As `GET /alerts?org=` refuses it: an empty or malformed path names no org.
        jiancha_events::stream::check_org("--org", org).map_err(|e| user_error(e.to_string()))?;
    }
    let now = replay::parse_now(args.now.as_deref(), &*clock)?;
    let store = crate::open_existing_store(db, clock).await?;
    let scoring = jiancha_projections::Scoring::default();
    let all = if args.replay {
        replay::assessment(&store, now, scoring).await?.alerts(now)
    } else if args.now.is_some() {
        // Only the cases that can have an alert by then, from the case index.
        replay::index(&store).await?;
        jiancha_engine::travel::for_alerts(&*store, now)
            .await?
            .alerts(now)
    } else {
        replay::current(&store, None, scoring).await?.alerts(now)
    };
    store.close().await;
    let alerts: Vec<AlertView> = all
        .into_iter()
        .filter(|a| !args.open || a.is_open())
        .filter(|a| args.rule.as_deref().is_none_or(|r| a.rule == r))
        .filter(|a| {
            args.severity.is_empty() || args.severity.iter().any(|s| s.as_str() == a.severity)
        })
        .filter(|a| args.org.as_deref().is_none_or(|p| a.concerns_org(p)))
        .filter(|a| args.kind.is_none_or(|k| a.kind() == k.as_str()))
        .collect();
    let mut out = std::io::BufWriter::new(crate::stdout::lock());
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&alerts)?)?,
        Format::Table => write_table(&mut out, &alerts, lang)?,
    }
    out.flush()?;
    Ok(())
}

/// The alerts as a table for people: the rule by name beside its code (in the id), the
/// severity, when raised and closed, the org with its name.
fn write_table(
    out: &mut dyn std::io::Write,
    alerts: &[AlertView],
    lang: Lang,
) -> std::io::Result<()> {
    let l = |zh, en| lang.pick(zh, en);
    let mut table = Table::new([
        (l("编号", "ID"), Align::Left),
        (l("等级", "SEVERITY"), Align::Left),
        (l("规则", "RULE"), Align::Left),
        (l("发出时间", "RAISED"), Align::Left),
        (l("解除时间", "CLOSED"), Align::Left),
        (l("责任单位", "ORG"), Align::Left),
    ]);
    for a in alerts {
        let org = match &a.org_name {
            Some(name) => format!("{} {name}", a.org),
            None => a.org.clone(),
        };
        table.row(vec![
            a.id.clone(),
            severity_code_name(a.severity, lang).to_owned(),
            rule_name(a.rule, lang).to_owned(),
            a.raised_at.clone(),
            a.closed_at
                .clone()
                .unwrap_or_else(|| l("未解除", "open").to_owned()),
            org,
        ]);
    }
    table.write(out)?;
    match lang {
        Lang::Zh => writeln!(out, "共 {} 条（编号：案件/规则代码/序号）", alerts.len()),
        Lang::En => writeln!(out, "{} alerts (ID: case/rule code/number)", alerts.len()),
    }
}
