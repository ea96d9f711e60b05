//! The 监察建议书 (supervision notice) for an escalated card, as a printable HTML page (A4, in
//! Chinese, the official layout): `jiancha notice` writes it to a file, the dashboard serves it
//! at `/dashboard/notices/{alert id}`. Two pure steps: [`gather`] finds what the notice states
//! in the projections and the case's events (the escalated alert, its card, the case, the
//! correction order, the facts), [`render`] writes the page. Neither reads a clock: the issue
//! date is the instant of evaluation given.
//!
//! A notice is issued for an escalated alert only — one with `escalated_to`, named by its own
//! id or by the id of the card it is about; anything else is [`NoticeError::NotEscalated`].

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use jiancha_events::{EventData, StoredEvent};
use jiancha_projections::instant::{date_of, format};
use jiancha_projections::names::{event_zh, status_code_name, Lang};
use jiancha_projections::{parse_alert_id, AlertView, Millis, Projections, Rule};
use sha2::{Digest, Sha256};

/// Why no notice can be issued for an id. Each is the caller's to fix (exit 2, HTTP 4xx).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    /// The id is not an alert id: give `<case>/<rule>/<n>`.
    #[error("{0:?} is not an alert id (<case>/<rule>/<n>)")]
    NotAnAlert(String),
    /// No such alert in the log (by the instant of evaluation).
    #[error("no alert {0} in the log")]
    Unknown(String),
    /// The alert is not escalated, nor is any workflow alert about it: no notice is due.
    #[error(
        "alert {0} is not escalated: a 监察建议书 is issued only for an escalated card (an \
         alert with escalated_to, or a card one of whose supervision alerts is escalated)"
    )]
    NotEscalated(String),
}

/// An alert as the notice names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeAlert {
    /// `<case>/<rule>/<n>`.
    pub id: String,
    /// The rule code.
    pub rule: String,
    /// The accountable org.
    pub org: String,
    /// When it was raised (RFC 3339).
    pub raised_at: String,
}

impl NoticeAlert {
    fn of(a: &AlertView) -> Self {
        NoticeAlert {
            id: a.id.clone(),
            rule: a.rule.to_owned(),
            org: a.org.clone(),
            raised_at: a.raised_at.clone(),
        }
    }
}

/// The case as the notice states it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NoticeCase {
    /// The case stream.
    pub id: String,
    /// The item code.
    pub item: String,
    /// The accountable org.
    pub org: String,
    /// The submission date.
    pub submitted_on: Option<NaiveDate>,
    /// The acceptance date.
    pub accepted_on: Option<NaiveDate>,
    /// The promised due date.
    pub promised_due_on: Option<NaiveDate>,
    /// The statutory due date.
    pub statutory_due_on: Option<NaiveDate>,
    /// The status code (`running`, `concluded`, …).
    pub status: String,
}

/// One event the notice cites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    /// Its position in the log.
    pub position: u64,
    /// When it occurred (RFC 3339).
    pub occurred_at: String,
    /// Its type.
    pub kind: String,
    /// Who recorded it, for which org.
    pub actor: String,
    /// Its org.
    pub org: String,
    /// Its hash.
    pub hash: String,
}

/// The correction order the escalation is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeOrder {
    /// The position of the (last) order.
    pub position: Option<u64>,
    /// The date of the first order.
    pub ordered_on: NaiveDate,
    /// Working days allowed for a report-back.
    pub days: u32,
    /// The due date the order set and that passed.
    pub due_on: Option<NaiveDate>,
    /// Its round (1 for the first order).
    pub round: u16,
}

/// What a notice states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The document number (from the escalated alert's id).
    pub number: String,
    /// The escalated alert.
    pub alert: NoticeAlert,
    /// The org it is escalated to.
    pub escalated_to: String,
    /// The card it is about (the original violation), when known.
    pub card: Option<NoticeAlert>,
    /// The case.
    pub case: NoticeCase,
    /// The order, when one was made.
    pub order: Option<NoticeOrder>,
    /// The case's events and the supervision events concerning it, in log order.
    pub facts: Vec<Fact>,
    /// The issue date (the instant of evaluation's date).
    pub issued_on: NaiveDate,
    /// The date a report-back is required by: the order's days from the issue date, counted
    /// on the case's calendar.
    pub report_by: Option<NaiveDate>,
    /// The issuing org, `<district>/supervision`.
    pub issuer: String,
    /// The catalog's names of the org paths and the item code the notice mentions (a path or
    /// code the catalog does not name is shown as it is).
    pub names: std::collections::BTreeMap<String, String>,
}

/// Finds what a notice for `id` states: the escalated alert `id` names (or the escalated alert
/// about the card `id`), as `projections` evaluates it at `now`, with `events` (the case's
/// context, as `read_case_context` gives it) as the facts.
pub fn gather(
    p: &Projections,
    events: &[StoredEvent],
    id: &str,
    now: Millis,
) -> Result<Notice, NoticeError> {
    let (case_id, _, _) = parse_alert_id(id).ok_or_else(|| NoticeError::NotAnAlert(id.into()))?;
    let state = p
        .case(&case_id)
        .ok_or_else(|| NoticeError::Unknown(id.into()))?;
    let alerts = p.case_alerts(&case_id, state, now);
    let named = alerts
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| NoticeError::Unknown(id.into()))?;
    let escalated = if named.escalated_to.is_some() {
        named
    } else {
        alerts
            .iter()
            .rfind(|a| a.about.as_deref() == Some(id) && a.escalated_to.is_some())
            .ok_or_else(|| NoticeError::NotEscalated(id.into()))?
    };
    let escalated_to = escalated.escalated_to.clone().unwrap_or_default();
    let card_id = escalated
        .about
        .clone()
        .unwrap_or_else(|| escalated.id.clone());
    let card = alerts.iter().find(|a| a.id == card_id).map(NoticeAlert::of);
    let order = order_of(p, events, &card_id, now);
    let issued_on = date_of(now);
    let calendar = p.calendar_of(state);
    let report_by = order.as_ref().and_then(|o| {
        let due = calendar.add_working_days(issued_on, o.days).ok()?;
        Some(due.date)
    });
    let case = p
        .case_view(&case_id, now)
        .map(|v| NoticeCase {
            id: v.stream,
            item: v.item,
            org: v.org,
            submitted_on: Some(v.submitted_on),
            accepted_on: v.accepted_on,
            promised_due_on: v.promised_due_on,
            statutory_due_on: v.statutory_due_on,
            status: v.status.to_owned(),
        })
        .unwrap_or_default();
    let issuer = format!("{}/supervision", district_of(&escalated.org));
    let mut names = std::collections::BTreeMap::new();
    let card_org = card.as_ref().map_or(&escalated.org, |c| &c.org);
    for org in [&issuer, &escalated_to, card_org, &case.org] {
        if let Some(name) = p.catalog.org_name(org) {
            names.insert(org.clone(), name.to_owned());
        }
    }
    if let Some(def) = p.catalog.current(&case.item) {
        names.insert(case.item.clone(), def.item.name.clone());
    }
    Ok(Notice {
        number: number_of(&escalated.id, issued_on),
        alert: NoticeAlert::of(escalated),
        issuer,
        names,
        escalated_to,
        card,
        case,
        order,
        facts: facts_of(events, &case_id),
        issued_on,
        report_by,
    })
}

/// The district of an org path: its first segment.
fn district_of(org: &str) -> &str {
    org.split('/').next().unwrap_or(org)
}

/// 监建〔year〕 and eight hex digits of the alert id's SHA-256: the same alert, the same number.
fn number_of(alert: &str, issued_on: NaiveDate) -> String {
    let digest = hex::encode(Sha256::digest(alert.as_bytes()));
    let short = digest.get(..8).unwrap_or(&digest).to_uppercase();
    format!("监建〔{}〕{short}号", issued_on.year())
}

/// The card's correction order: the board's view when the fold has one, else the last
/// `CorrectionOrdered` naming the card.
fn order_of(
    p: &Projections,
    events: &[StoredEvent],
    card: &str,
    now: Millis,
) -> Option<NoticeOrder> {
    let last = events.iter().rev().find_map(|e| match &e.data {
        EventData::CorrectionOrdered(o) if o.alert == card => Some((e, o.days)),
        _ => None,
    });
    if let Some(o) = p.orders(now).into_iter().find(|o| o.card == card) {
        return Some(NoticeOrder {
            position: last.map(|(e, _)| e.position),
            ordered_on: o.ordered_on,
            days: o.days,
            due_on: o.due_on,
            round: o.round,
        });
    }
    let (event, days) = last?;
    Some(NoticeOrder {
        position: Some(event.position),
        ordered_on: event.occurred_at.date_naive(),
        days,
        due_on: None,
        round: 1,
    })
}

/// The case's own events and the supervision events concerning it.
fn facts_of(events: &[StoredEvent], case: &str) -> Vec<Fact> {
    events
        .iter()
        .filter(|e| e.stream == case || e.data.concerns_case() == Some(case))
        .map(|e| Fact {
            position: e.position,
            occurred_at: format(e.occurred_at.timestamp_millis()),
            kind: e.data.type_name().to_owned(),
            actor: e.actor.clone(),
            org: e.org.clone(),
            hash: e.hash.to_string(),
        })
        .collect()
}

/// How the page carries its style sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style<'a> {
    /// In a `<style>` element: a file that prints on its own (`jiancha notice`).
    Inline,
    /// Linked from this path: a page served under a Content Security Policy that allows
    /// style sheets of its own origin only (the dashboard).
    Linked(&'a str),
}

/// The notice's style sheet: A4 with margins, the official layout.
pub const NOTICE_CSS: &str = include_str!("../assets/notice.css");

/// The notice as a complete HTML page.
pub fn render(n: &Notice, style: Style<'_>) -> String {
    let mut out = String::with_capacity(8 * 1024 + n.facts.len() * 400);
    let style = match style {
        Style::Inline => format!("<style>\n{NOTICE_CSS}</style>"),
        Style::Linked(href) => format!("<link rel=\"stylesheet\" href=\"{}\">", esc(href)),
    };
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>监察建议书 {number}</title>\n{style}\n</head>\n<body>\n\
         <article class=\"notice\" data-alert=\"{alert}\">\n<header>\n\
         <p class=\"issuer\">{issuer}</p>\n<h1>监察建议书</h1>\n\
         <p class=\"number\">{number}</p>\n</header>\n",
        number = esc(&n.number),
        alert = esc(&n.alert.id),
        issuer = esc(name_of(n, &n.issuer)),
    );
    // Addressed to the unit that answers for the card; copies to the org it was escalated to
    // (when not the issuing bureau itself) and to the unit that holds the case now (when a
    // transfer moved it on).
    let card_org = n.card.as_ref().map_or(&n.alert.org, |c| &c.org);
    let _ = writeln!(
        out,
        "<p class=\"to\">主送：{}</p>",
        esc(&shown(n, card_org))
    );
    let mut copies: Vec<&String> = Vec::new();
    for org in [&n.escalated_to, &n.case.org] {
        if !org.is_empty() && *org != n.issuer && org != card_org && !copies.contains(&org) {
            copies.push(org);
        }
    }
    if !copies.is_empty() {
        let copies: Vec<String> = copies.iter().map(|o| esc(&shown(n, o))).collect();
        let _ = writeln!(out, "<p class=\"cc\">抄送：{}</p>", copies.join("；"));
    }
    let _ = writeln!(
        out,
        "<p class=\"lead\">经电子监察系统监测，你单位办理的案件 {} 存在下列问题，经督办逾期未整改回告，\
         现已升级督办。根据有关规定，提出如下监察建议：</p>",
        esc(&n.case.id)
    );
    render_case(&mut out, n);
    render_facts(&mut out, n);
    render_rules(&mut out, n);
    render_requirement(&mut out, n);
    let _ = write!(
        out,
        "<footer>\n<p class=\"seal\">{}</p>\n<p class=\"date\">{}</p>\n</footer>\n\
         </article>\n</body>\n</html>\n",
        esc(name_of(n, &n.issuer)),
        date_zh(n.issued_on)
    );
    out
}

/// The catalog's name of a path or code, else the path or code itself.
fn name_of<'a>(n: &'a Notice, code: &'a str) -> &'a str {
    n.names.get(code).map_or(code, String::as_str)
}

/// A name with its path or code beside it (`区人力社保局（jiangjin/center/dept-03）`), or the
/// path or code alone when the catalog names none.
fn shown(n: &Notice, code: &str) -> String {
    match n.names.get(code) {
        Some(name) => format!("{name}（{code}）"),
        None => code.to_owned(),
    }
}

fn render_case(out: &mut String, n: &Notice) {
    let c = &n.case;
    let rows: [(&str, String); 8] = [
        ("案件编号", c.id.clone()),
        ("审批事项", shown(n, &c.item)),
        ("责任单位", shown(n, &c.org)),
        ("申请日期", opt_date(c.submitted_on)),
        ("受理日期", opt_date(c.accepted_on)),
        ("承诺期限", opt_date(c.promised_due_on)),
        ("法定期限", opt_date(c.statutory_due_on)),
        ("办理状态", status_code_name(&c.status, Lang::Zh).to_owned()),
    ];
    out.push_str("<section class=\"case\">\n<h2>一、案件基本情况</h2>\n<table class=\"case\">\n");
    for (label, value) in rows {
        let _ = writeln!(out, "<tr><th>{label}</th><td>{}</td></tr>", esc(&value));
    }
    out.push_str("</table>\n</section>\n");
}

fn render_facts(out: &mut String, n: &Notice) {
    out.push_str(
        "<section class=\"facts\">\n<h2>二、事实</h2>\n<p>以下事件均取自电子监察日志，\
         其位置与哈希值可经 <code>jiancha verify</code> 核验：</p>\n<table class=\"events\">\n\
         <thead><tr><th>日志位置</th><th>发生时间</th><th>事件</th><th>记录人（单位）</th>\
         <th>哈希值</th></tr></thead>\n<tbody>\n",
    );
    for f in &n.facts {
        let _ = writeln!(
            out,
            "<tr data-position=\"{p}\"><td>{p}</td><td>{at}</td><td>{zh}<br><span class=\"code\">{kind}</span></td>\
             <td>{actor}<br><span class=\"code\">{org}</span></td><td class=\"hash\">{hash}</td></tr>",
            p = f.position,
            at = esc(&f.occurred_at),
            zh = event_zh(&f.kind),
            kind = esc(&f.kind),
            actor = esc(&f.actor),
            org = esc(&f.org),
            hash = esc(&f.hash),
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn render_rules(out: &mut String, n: &Notice) {
    out.push_str(
        "<section class=\"rules\">\n<h2>三、违反规定</h2>\n<table class=\"rules\">\n\
         <thead><tr><th>规则</th><th>名称</th><th>依据</th><th>预警</th></tr></thead>\n<tbody>\n",
    );
    let mut cited: Vec<&NoticeAlert> = n.card.iter().collect();
    if n.card.as_ref().is_none_or(|c| c.id != n.alert.id) {
        cited.push(&n.alert);
    }
    for a in cited {
        let _ = writeln!(
            out,
            "<tr><td class=\"code\">{code}</td><td class=\"name\">{name}</td><td>{basis}</td>\
             <td><span class=\"code id\">{id}</span><br>{raised}</td></tr>",
            code = esc(&a.rule),
            name = Rule::from_code(&a.rule).map_or("其他", |r| r.name(Lang::Zh)),
            basis = esc(&basis_of(&a.rule, n.order.as_ref())),
            id = esc(&a.id),
            raised = esc(&a.raised_at),
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn render_requirement(out: &mut String, n: &Notice) {
    out.push_str("<section class=\"requirement\">\n<h2>四、整改要求</h2>\n");
    let card_org = n.card.as_ref().map_or(&n.alert.org, |c| &c.org);
    let _ = write!(
        out,
        "<p>请 {} 立即纠正上述问题，依法依规办结或处置该案件，查明原因，",
        esc(name_of(n, card_org))
    );
    match (&n.order, n.report_by) {
        (Some(o), Some(by)) => {
            let _ = write!(
                out,
                "并于本建议书发出之日起 {days} 个工作日内（即 <strong class=\"deadline\">{by}</strong> \
                 前）向 {to} 书面回告整改情况。",
                days = o.days,
                by = date_zh(by),
                to = esc(name_of(n, &n.escalated_to)),
            );
        }
        _ => {
            let _ = write!(
                out,
                "并及时向 {} 书面回告整改情况。",
                esc(name_of(n, &n.escalated_to))
            );
        }
    }
    out.push_str("逾期未回告的，将依照有关规定追究相关人员责任。</p>\n");
    if let Some(o) = &n.order {
        let due = o
            .due_on
            .map_or_else(String::new, |d| format!("，原回告期限 {}", date_zh(d)));
        let _ = writeln!(
            out,
            "<p class=\"order\">原督办：{}发出，限 {} 个工作日回告（第 {} 轮{}）。</p>",
            date_zh(o.ordered_on),
            o.days,
            o.round,
            due
        );
    }
    out.push_str("</section>\n");
}

fn opt_date(d: Option<NaiveDate>) -> String {
    d.map_or_else(|| "—".to_owned(), date_zh)
}

/// 2026年3月20日.
fn date_zh(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// Text for HTML: `&`, `<`, `>`, `"` and `'` escaped.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The legal basis of a rule ([`jiancha_projections::Rule::legal_basis`]); for the workflow's
/// own rules with an order at hand, the correction order itself.
pub fn basis_of(rule: &str, order: Option<&NoticeOrder>) -> String {
    if let (Some(o), true) = (order, rule.starts_with("supervision.")) {
        let at = o
            .position
            .map_or_else(String::new, |p| format!("（日志位置 {p}）"));
        return format!(
            "本机关{}发出的督办通知{at}：限 {} 个工作日内整改并回告",
            date_zh(o.ordered_on),
            o.days
        );
    }
    jiancha_projections::Rule::from_code(rule).map_or_else(
        || jiancha_projections::rules::LICENSING_LAW.to_owned(),
        |r| r.legal_basis(),
    )
}

#[cfg(test)]
#[path = "notice_tests.rs"]
mod tests;
