//! `jiancha case show`: one case's deadline state — clock start, limits, due dates, used and
//! remaining working days, status and outcome — evaluated at an instant; for a procurement
//! project (`proc-…`), its facts, due dates and items (`Projections::project_view`), read from
//! the whole log (a project's split sums and thresholds are the district's). `jiancha case list`:
//! the cases matching filters at an instant (`Projections::case_list`), by due date.

use std::io::Write as _;
use std::sync::Arc;

use jiancha_projections::kinds::procurement::view::{DayUnit, ProjectView};
use jiancha_projections::names::{channel_name, rule_name, severity_code_name, status_code_name};
use jiancha_projections::{AlertView, CaseView, Lang};
use jiancha_store::Clock;

pub use crate::cmd::case_list::ListArgs;
use crate::cmd::replay;
use crate::error::user_error;
use crate::lang::{write_labelled, Align, Table};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text for people.
    Table,
    /// JSON for programs.
    Json,
}

/// Arguments of `jiancha case`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha case show case-2026-000102 --now 2026-03-20\n  \
    jiancha case list --due-within 5 --org jiangjin/town-07\n  \
    jiancha case show proc-2026-0007 --format json\n\n\
    `jiancha case show --help` and `jiancha case list --help` say more.")]
pub struct CaseArgs {
    /// What to do with the case.
    #[command(subcommand)]
    pub command: CaseCommand,
}

/// The case subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CaseCommand {
    /// Show a case's deadline state at an instant.
    Show(ShowArgs),
    /// List the cases matching filters at an instant, by promised due date then stream.
    List(ListArgs),
}

/// Arguments of `jiancha case show`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha case show case-2026-000102\n  \
    jiancha case show case-2026-000102 --now 2026-03-20 --format json\n  \
    jiancha case show case-2026-000102 --now 2026-03-20T09:00:00+08:00\n  \
    jiancha case show proc-2026-0007 --now 2026-04-30 --format json\n\n\
    --now takes an RFC 3339 instant, or a date meaning the end of that day (24:00 +08:00); \
    only events that occurred by then count. It defaults to the system clock.\n\
    JSON fields: stream, item, item_name (when the catalog names it), org, org_name (when an \
    OrgDefined names it), status, clock_start_on, promised_limit_days, \
    statutory_limit_days, promised_due_on, statutory_due_on (null while suspended), \
    provisional, used_days, remaining_days, concluded_on, on_time, statutory_on_time, early, \
    and more. A procurement project (proc-…) shows its facts instead: project, regime, \
    method, budget_cents, org, status (running, closed), round, deadlines [{what, rule, due_on, \
    days, unit (natural, working), done_on, met}], bonds, award, contract, objections, \
    enquiries, complaints (each with due_on, unit, answered_on, met) and alerts.")]
pub struct ShowArgs {
    /// The case stream, e.g. case-2026-000123, or a procurement project, e.g. proc-2026-0007.
    pub case: String,
    /// The instant of evaluation.
    #[arg(long)]
    pub now: Option<String>,
    /// Fold the whole log (the events that occurred by the instant) instead of the case's own
    /// context: the audit path, which gives the same answer.
    #[arg(long)]
    pub replay: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Runs `jiancha case`.
pub async fn run(
    db: &str,
    clock: Arc<dyn Clock>,
    args: &CaseArgs,
    lang: Lang,
) -> anyhow::Result<()> {
    match &args.command {
        CaseCommand::Show(show) => run_show(db, clock, show, lang).await,
        CaseCommand::List(list) => crate::cmd::case_list::run(db, clock, list, lang).await,
    }
}

/// Runs `jiancha case show`.
async fn run_show(
    db: &str,
    clock: Arc<dyn Clock>,
    show: &ShowArgs,
    lang: Lang,
) -> anyhow::Result<()> {
    let now = replay::parse_now(show.now.as_deref(), &*clock)?;
    let store = crate::open_existing_store(db, clock).await?;
    // The case's context holds what its rules read (for a project, also the thresholds and
    // every project's registration, which proc.split reads).
    let projections = if show.replay {
        replay::whole_log(&store, now).await?
    } else {
        replay::one_case(&store, &show.case, now).await?
    };
    store.close().await;
    let mut out = crate::stdout::lock();
    if jiancha_projections::kinds::kind_of_stream(&show.case).is_some() {
        let view = projections.project_view(&show.case, now).ok_or_else(|| {
            user_error(format!(
                "no project {:?} had been registered by then",
                show.case
            ))
        })?;
        match show.format {
            Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&view)?)?,
            Format::Table => write_project(&mut out, &view, lang)?,
        }
        return Ok(());
    }
    let view = projections.case_view(&show.case, now).ok_or_else(|| {
        user_error(format!(
            "no case {:?} had been submitted by then",
            show.case
        ))
    })?;
    match show.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&view)?)?,
        Format::Table => {
            let alerts: Vec<AlertView> = projections
                .alerts(now)
                .into_iter()
                .filter(|a| a.case == show.case)
                .collect();
            write_table(&mut out, &view, &alerts, lang)?
        }
    }
    Ok(())
}

fn show<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "-".to_owned(), ToString::to_string)
}

/// A yes/no answer, or `-` before there is one.
fn yes_no(v: Option<bool>, lang: Lang) -> String {
    match v {
        Some(true) => lang.pick("是", "true").to_owned(),
        Some(false) => lang.pick("否", "false").to_owned(),
        None => "-".to_owned(),
    }
}

/// Amounts in cents as yuan with two decimals.
fn yuan(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// A period's length and unit: `20 natural days`, `5 个工作日`.
fn period(days: u32, unit: DayUnit, lang: Lang) -> String {
    match (lang, unit) {
        (Lang::Zh, DayUnit::Natural) => format!("{days} 日"),
        (Lang::Zh, DayUnit::Working) => format!("{days} 个工作日"),
        (Lang::En, DayUnit::Natural) => format!("{days} natural days"),
        (Lang::En, DayUnit::Working) => format!("{days} working days"),
    }
}

/// Whether a date was kept: yes, no, or `-` while open.
fn kept(met: Option<bool>, lang: Lang) -> String {
    match met {
        Some(true) => lang.pick("按期", "met").to_owned(),
        Some(false) => lang.pick("逾期", "missed").to_owned(),
        None => "-".to_owned(),
    }
}

/// A project's labelled facts, its due dates, items and alerts.
fn write_project(out: &mut dyn std::io::Write, v: &ProjectView, lang: Lang) -> std::io::Result<()> {
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let org = match &v.org_name {
        Some(n) => format!("{} {n}", v.org),
        None => v.org.clone(),
    };
    let status = match v.status {
        "closed" => l("已结束", "closed"),
        _ => l("进行中", "running"),
    };
    let rows = [
        (l("项目编号", "project"), v.stream.clone()),
        (l("项目名称", "name"), v.project.clone()),
        (l("适用法律", "regime"), v.regime.to_owned()),
        (l("采购方式", "method"), v.method.to_owned()),
        (l("品目", "category"), v.category.clone()),
        (l("预算（元）", "budget (yuan)"), yuan(v.budget_cents)),
        (l("采购人", "purchaser"), org),
        (l("状态", "status"), status.to_owned()),
        (l("登记日期", "registered on"), v.registered_on.to_string()),
        (l("重新招标", "retenders"), v.retenders.to_string()),
        (l("发出文件", "documents issued"), show(&v.round.issued_at)),
        (l("发售截止", "on sale until"), show(&v.round.on_sale_until)),
        (l("投标截止", "bid deadline"), show(&v.round.bid_deadline)),
        (l("开标", "opened"), show(&v.round.opened_at)),
        (l("投标人数", "bidders"), show(&v.round.bidders)),
        (
            l("中标", "award"),
            v.award.as_ref().map_or_else(
                || "-".to_owned(),
                |a| format!("{} {} #{} {}", a.on, a.winner, a.rank, yuan(a.amount_cents)),
            ),
        ),
        (
            l("合同", "contract"),
            v.contract.as_ref().map_or_else(
                || "-".to_owned(),
                |c| format!("{} {}", c.signed_on, yuan(c.amount_cents)),
            ),
        ),
        (l("结束日期", "closed on"), show(&v.closed_on)),
        (l("评估时刻", "evaluated at"), v.now.clone()),
    ];
    write_labelled(out, &rows)?;
    writeln!(out)?;
    writeln!(out, "{}", l("期限：", "deadlines:"))?;
    let mut table = Table::new([
        (l("事项", "WHAT"), Align::Left),
        (l("规则代码", "RULE"), Align::Left),
        (l("期限", "DUE"), Align::Left),
        (l("计算", "PERIOD"), Align::Left),
        (l("完成", "DONE"), Align::Left),
        (l("结果", "MET"), Align::Left),
    ]);
    for d in &v.deadlines {
        table.row(vec![
            d.what.to_owned(),
            d.rule.to_owned(),
            d.due_on.to_string(),
            period(d.days, d.unit, lang),
            show(&d.done_on),
            kept(d.met, lang),
        ]);
    }
    let items = [
        (l("异议", "objection"), "proc.objection.late", &v.objections),
        (l("质疑", "enquiry"), "proc.enquiry.late", &v.enquiries),
        (l("投诉", "complaint"), "proc.complaint.late", &v.complaints),
    ];
    for (what, rule, list) in items {
        for i in list {
            table.row(vec![
                format!("{what} {}", i.id),
                rule.to_owned(),
                show(&i.due_on),
                period(i.days, i.unit, lang),
                show(&i.answered_on),
                kept(i.met, lang),
            ]);
        }
    }
    for line in table.lines() {
        writeln!(out, "  {line}")?;
    }
    writeln!(out)?;
    write_alerts(out, &v.alerts, lang)
}

/// The case's labelled facts, then its alerts with their rules by name and code.
fn write_table(
    out: &mut dyn std::io::Write,
    v: &CaseView,
    alerts: &[AlertView],
    lang: Lang,
) -> std::io::Result<()> {
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let provisional = if v.provisional {
        l("（暂定）", " (provisional)")
    } else {
        ""
    };
    let named = |code: &str, name: &Option<String>| match name {
        Some(n) => format!("{code} {n}"),
        None => code.to_owned(),
    };
    let days = |n: String| match lang {
        Lang::Zh if n == "-" => n,
        Lang::Zh => format!("{n} 个工作日"),
        Lang::En => format!("{n} working days"),
    };
    let rows = [
        (l("案件编号", "case"), v.stream.clone()),
        (l("审批事项", "item"), named(&v.item, &v.item_name)),
        (l("责任单位", "org"), named(&v.org, &v.org_name)),
        (
            l("办理状态", "status"),
            status_code_name(v.status, lang).to_owned(),
        ),
        (
            l("办理渠道", "channel"),
            channel_name(v.channel, lang).to_owned(),
        ),
        (l("申请日期", "submitted on"), v.submitted_on.to_string()),
        (l("受理日期", "accepted on"), show(&v.accepted_on)),
        (
            l("起算日", "clock start"),
            format!(
                "{}{}",
                show(&v.clock_start_on),
                if v.deemed_accepted {
                    l(
                        "（视为受理，行政许可法第三十二条）",
                        " (deemed accepted, Art. 32)",
                    )
                } else {
                    ""
                }
            ),
        ),
        (
            l("承诺时限", "promised limit"),
            days(show(&v.promised_limit_days)),
        ),
        (
            l("法定时限", "statutory limit"),
            days(show(&v.statutory_limit_days)),
        ),
        (
            l("承诺期限", "promised due"),
            format!("{}{provisional}", show(&v.promised_due_on)),
        ),
        (
            l("法定期限", "statutory due"),
            format!("{}{provisional}", show(&v.statutory_due_on)),
        ),
        (l("已用", "used"), days(show(&v.used_days))),
        (l("剩余", "remaining"), days(show(&v.remaining_days))),
        (l("办结日期", "concluded on"), show(&v.concluded_on)),
        (l("按时办结", "on time"), yes_no(v.on_time, lang)),
        (
            l("法定时限内办结", "statutory on time"),
            yes_no(v.statutory_on_time, lang),
        ),
        (l("提前办结", "early"), yes_no(v.early, lang)),
        (l("延期次数", "extensions"), v.extensions.to_string()),
        (l("免于考核", "exempted"), yes_no(Some(v.exempted), lang)),
        (l("评估时刻", "evaluated at"), v.now.clone()),
    ];
    write_labelled(out, &rows)?;
    writeln!(out)?;
    write_alerts(out, alerts, lang)
}

/// The alerts with their rules by name and code.
fn write_alerts(
    out: &mut dyn std::io::Write,
    alerts: &[AlertView],
    lang: Lang,
) -> std::io::Result<()> {
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    if alerts.is_empty() {
        return writeln!(out, "{}", l("预警：无", "alerts: none"));
    }
    writeln!(out, "{}", l("预警：", "alerts:"))?;
    let mut table = Table::new([
        (l("规则", "RULE"), Align::Left),
        (l("规则代码", "CODE"), Align::Left),
        (l("等级", "SEVERITY"), Align::Left),
        (l("发出时间", "RAISED"), Align::Left),
        (l("解除时间", "CLOSED"), Align::Left),
    ]);
    for a in alerts {
        table.row(vec![
            rule_name(a.rule, lang).to_owned(),
            a.rule.to_owned(),
            severity_code_name(a.severity, lang).to_owned(),
            a.raised_at.clone(),
            a.closed_at
                .clone()
                .unwrap_or_else(|| l("未解除", "open").to_owned()),
        ]);
    }
    for line in table.lines() {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}
