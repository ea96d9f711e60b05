//! The public's pages, without a login and without JavaScript: server-rendered HTML and one
//! style sheet, under a Content Security Policy that allows no script at all.
//!
//! - `/public/` (公示): for every **closed** period, each unit's figures as the period was closed
//!   — on-time, early and satisfaction rates, 差评整改率, cases open past due, grade — with the
//!   rates drawn as inline SVG bars. The figures are the report `jiancha report --period P
//!   --as-closed` prints (the log replayed up to the close, evaluated at its instant, its digest
//!   checked: `closing::reproduce`), so an open month is never published and a published figure
//!   never changes. Each closed report is computed once and kept.
//! - `/public/lookup` (办件查询): the progress lookup as a form for a citizen's phone; with
//!   `receipt` and `code` it answers what `GET /public/v1/cases/{receipt}` answers, through the
//!   same function and the same per-address allowance.
//!
//! Both are in Chinese; `?lang=en` switches to English.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Query, State as StateExtractor};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use jiancha_engine::closing::{self, Closed};
use jiancha_projections::names::status_code_name;
use jiancha_projections::report::{Report, Row};
use jiancha_projections::{Lang, Period};
use serde::Deserialize;

use crate::listen::ClientAddr;
use crate::notice::esc;
use crate::public::{self, PublicCase, Refusal};
use crate::State;

const PUBLIC_CSS: &str = include_str!("../assets/public.css");

/// No script at all; styles and images from this origin (and the empty icon).
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Where the pages find their style sheet.
const CSS_PATH: &str = "/public/public.css";

/// Adds the public pages' routes (GET only).
pub(crate) fn routes(router: Router<Arc<State>>) -> Router<Arc<State>> {
    router
        .route("/public/", get(disclosure))
        .route("/public", get(disclosure))
        .route("/public/lookup", get(lookup_page))
        .route(
            CSS_PATH,
            get(|| async {
                (
                    [
                        (
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("text/css; charset=utf-8"),
                        ),
                        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                    ],
                    PUBLIC_CSS,
                )
            }),
        )
}

/// The closed reports computed so far (a close never changes, so neither does its report).
/// Which periods are closed is the engine's fold's (`Projections::closed_periods`): no read of
/// the log per page.
#[derive(Debug, Default)]
pub(crate) struct Disclosed {
    reports: Mutex<HashMap<String, Arc<Result<Report, String>>>>,
    /// One computation of a closed report at a time; the others wait and find it kept.
    fill: tokio::sync::Mutex<()>,
}

impl Disclosed {
    fn reports(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Result<Report, String>>>> {
        self.reports.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every close the engine has folded in, as the report's `closed` object names it.
    fn closes(state: &State) -> Vec<Closed> {
        state
            .engine
            .read()
            .closed_periods()
            .values()
            .map(|c| Closed {
                period: c.period.clone(),
                position: c.position,
                digest: c.digest.clone(),
                closed_at: jiancha_projections::instant::format(c.closed_at),
                at: c.closed_at,
                event_position: c.closed_by,
            })
            .collect()
    }

    /// The report of a closed period as closed: kept, or computed now (waiting for the replay
    /// slot rather than refusing, as a citizen's page should).
    async fn report(
        &self,
        state: &State,
        period: &Period,
        closed: &Closed,
    ) -> Arc<Result<Report, String>> {
        if let Some(found) = self.reports().get(&closed.period) {
            return found.clone();
        }
        let _fill = self.fill.lock().await;
        if let Some(found) = self.reports().get(&closed.period) {
            return found.clone();
        }
        // The close as the log holds it (the engine's fold may come from a snapshot taken
        // before the log was altered), as `as_closed=true` reads it.
        let from_log = match state.closes.find(state, &closed.period).await {
            Ok(Some(c)) => c,
            Ok(None) => closed.clone(),
            Err(e) => {
                let failed = Arc::new(Err(e.message));
                self.reports().insert(closed.period.clone(), failed.clone());
                return failed;
            }
        };
        let closed = &from_log;
        // The figures the close keeps, else the log replayed up to the close.
        let kept = jiancha_engine::closing::kept_report(&*state.store, closed).await;
        let computed = match kept {
            Ok(Some(report)) => Ok(report),
            Err(jiancha_engine::closing::KeptError::Store(e)) => Err(e.to_string()),
            // Kept figures that are not the closed ones: the replay, proven by the digest.
            Ok(None) | Err(jiancha_engine::closing::KeptError::Mismatch { .. }) => {
                match state.verifications.clone().acquire_owned().await {
                    Ok(_slot) => match crate::closing::reproduce(state, period, closed).await {
                        Ok(r) => r.kept.map_or_else(
                            || {
                                r.projections
                                    .report(&closing::canonical_query(period.clone()), closed.at)
                                    .ok_or_else(|| {
                                        "the replay keeps no assessment ledger".to_owned()
                                    })
                            },
                            Ok,
                        ),
                        Err(e) => Err(e.message),
                    },
                    Err(_) => Err("the server is stopping".to_owned()),
                }
            }
        };
        if let Err(why) = &computed {
            tracing::warn!(period = %closed.period, %why, "a closed period is not published");
        }
        let computed = Arc::new(computed);
        self.reports()
            .insert(closed.period.clone(), computed.clone());
        computed
    }
}

/// `?lang=`.
#[derive(Debug, Deserialize)]
pub(crate) struct LangQuery {
    lang: Option<String>,
}

fn lang_of(text: Option<&str>) -> Lang {
    text.and_then(Lang::parse).unwrap_or(Lang::Zh)
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            ),
        ],
        body,
    )
        .into_response()
}

/// The head of a page and its banner, with the language switch pointing at `other`.
fn open_page(out: &mut String, lang: Lang, title: &str, other: &str) {
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<link rel=\"icon\" href=\"data:,\">\n\
         <link rel=\"stylesheet\" href=\"{CSS_PATH}\">\n</head>\n<body>\n<header>\n\
         <h1>{}</h1>\n<nav><a href=\"/public/\">{}</a> <a href=\"/public/lookup\">{}</a> \
         <a id=\"lang\" href=\"{}\" hreflang=\"{}\">{}</a></nav>\n</header>\n<main>\n",
        lang.pick("zh-CN", "en"),
        esc(title),
        esc(title),
        lang.pick("绩效公示", "Disclosure"),
        lang.pick("办件查询", "Case lookup"),
        esc(other),
        lang.pick("en", "zh-CN"),
        lang.pick("English", "中文"),
    );
}

fn close_page(out: &mut String) {
    out.push_str("</main>\n</body>\n</html>\n");
}

/// `GET /public/`: every closed period's figures per unit.
pub(crate) async fn disclosure(
    StateExtractor(state): StateExtractor<Arc<State>>,
    query: Result<Query<LangQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let lang = lang_of(query.ok().and_then(|Query(q)| q.lang).as_deref());
    crate::caught_up(&state).await;
    let closes = Disclosed::closes(&state);
    let mut periods: Vec<(Period, &Closed)> = closes
        .iter()
        .filter_map(|c| Period::parse(&c.period).ok().map(|p| (p, c)))
        .collect();
    // The latest period first; a month before the quarter or year that ends with it.
    periods.sort_by(|(a, _), (b, _)| {
        (b.months.last(), a.months.len(), &a.label).cmp(&(
            a.months.last(),
            b.months.len(),
            &b.label,
        ))
    });
    let mut out = String::new();
    let title = lang.pick(
        "政务服务绩效公示",
        "Public disclosure of service performance",
    );
    open_page(&mut out, lang, title, lang.pick("?lang=en", "?lang=zh"));
    let _ = writeln!(
        out,
        "<p class=\"intro\">{}</p>",
        lang.pick(
            "以下为已关账考核期内各单位的办件绩效。数据在关账时固定，不再变动；尚未关账的月份不予公示。",
            "The figures of each unit for every closed assessment period. They were fixed when \
             the period was closed and never change; a month not yet closed is not published."
        )
    );
    if periods.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"empty\" id=\"no-periods\">{}</p>",
            lang.pick("暂无已关账的考核期。", "No period has been closed yet.")
        );
    }
    for (period, closed) in &periods {
        let report = state.disclosed.report(&state, period, closed).await;
        write_period(&mut out, lang, closed, &report);
    }
    close_page(&mut out);
    let mut response = html(StatusCode::OK, out);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The rates a row shows, in order: (field, Chinese heading, English heading).
const RATES: [(&str, &str, &str); 4] = [
    ("on_time_rate", "按时办结率", "On-time rate"),
    ("early_rate", "提前办结率", "Early rate"),
    ("satisfaction_rate", "满意率", "Satisfaction rate"),
    ("rectification_rate", "差评整改率", "Bad ratings rectified"),
];

fn rate_of<'a>(row: &'a Row, field: &str) -> Option<&'a str> {
    let raw = match field {
        "on_time_rate" => &row.on_time_rate,
        "early_rate" => &row.early_rate,
        "satisfaction_rate" => &row.satisfaction_rate,
        "rectification_rate" => &row.rectification_rate,
        _ => return None,
    };
    raw.as_deref().map(serde_json::value::RawValue::get)
}

/// A rate's ten-thousandths, read from its 4-decimal text (`0.9500` → 9500).
fn ten_thousandths(text: &str) -> Option<u32> {
    let (int, frac) = text.split_once('.').unwrap_or((text, "0"));
    let frac: String = frac.chars().chain(std::iter::repeat('0')).take(4).collect();
    Some(int.parse::<u32>().ok()? * 10_000 + frac.parse::<u32>().ok()?)
}

fn grade_name(grade: &str, lang: Lang) -> &str {
    match (grade, lang) {
        (_, Lang::Zh) => grade,
        ("优秀", Lang::En) => "Excellent",
        ("良好", Lang::En) => "Good",
        ("合格", Lang::En) => "Pass",
        ("不合格", Lang::En) => "Fail",
        (other, Lang::En) => other,
    }
}

fn write_period(out: &mut String, lang: Lang, closed: &Closed, report: &Result<Report, String>) {
    let _ = write!(
        out,
        "<section class=\"period\" data-period=\"{p}\">\n<h2>{p}</h2>\n<p class=\"closed\">{} \
         {}</p>\n",
        esc(lang.pick("关账时间", "Closed at")),
        esc(&closed.closed_at),
        p = esc(&closed.period),
    );
    let report = match report {
        Ok(r) => r,
        Err(_) => {
            let _ = writeln!(
                out,
                "<p class=\"unavailable\">{}</p>\n</section>",
                lang.pick(
                    "本期数据暂不可用（关账报告未能复核）。",
                    "The figures of this period are not available (its closed report did not \
                     reproduce)."
                )
            );
            return;
        }
    };
    out.push_str("<div class=\"scroll\"><table>\n<thead><tr>");
    let _ = write!(out, "<th>{}</th>", lang.pick("单位", "Unit"));
    for (_, zh, en) in RATES {
        let _ = write!(out, "<th>{}</th>", lang.pick(zh, en));
    }
    let _ = write!(
        out,
        "<th>{}</th><th>{}</th></tr></thead>\n<tbody>\n",
        lang.pick("超期件数", "Overdue cases"),
        lang.pick("等级", "Grade")
    );
    for row in &report.rows {
        let Some(org) = row.org.as_deref() else {
            continue;
        };
        let depth = org.split('/').count().min(6);
        let name = row.name.as_deref().unwrap_or(org);
        let _ = write!(
            out,
            "<tr data-org=\"{}\"><th scope=\"row\" class=\"unit depth-{depth}\" title=\"{}\">{}</th>",
            esc(org),
            esc(org),
            esc(name)
        );
        for (field, _, _) in RATES {
            write_rate(out, field, rate_of(row, field));
        }
        let _ = write!(
            out,
            "<td data-field=\"overdue_open\" data-value=\"{0}\" class=\"count\">{0}</td>",
            row.overdue_open
        );
        match row.grade {
            Some(g) => {
                let _ = write!(
                    out,
                    "<td data-field=\"grade\" data-value=\"{}\" class=\"grade\">{}</td>",
                    esc(g),
                    esc(grade_name(g, lang))
                );
            }
            None => out.push_str("<td data-field=\"grade\" data-value=\"\" class=\"grade\">—</td>"),
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table></div>\n</section>\n");
}

/// A rate's cell: the percentage and a bar (inline SVG, 0–100), its exact value in
/// `data-value`; a dash when there is nothing to divide.
fn write_rate(out: &mut String, field: &str, rate: Option<&str>) {
    let Some(text) = rate else {
        let _ = write!(
            out,
            "<td data-field=\"{field}\" data-value=\"\" class=\"rate\">—</td>"
        );
        return;
    };
    let n = ten_thousandths(text).unwrap_or(0).min(10_000);
    let percent = format!("{}.{:02}", n / 100, n % 100);
    let _ = write!(
        out,
        "<td data-field=\"{field}\" data-value=\"{}\" class=\"rate\"><span>{percent}%</span>\
         <svg class=\"bar\" viewBox=\"0 0 100 8\" width=\"80\" height=\"8\" role=\"img\" \
         aria-label=\"{percent}%\"><rect class=\"track\" width=\"100\" height=\"8\"/>\
         <rect class=\"fill\" width=\"{percent}\" height=\"8\"/></svg></td>",
        esc(text)
    );
}

/// The query of `/public/lookup`.
#[derive(Debug, Deserialize)]
pub(crate) struct LookupQuery {
    receipt: Option<String>,
    code: Option<String>,
    lang: Option<String>,
}

/// Percent-encodes a query value.
fn query_value(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `GET /public/lookup[?receipt=&code=][&lang=]`: the form, and the answer when asked.
pub(crate) async fn lookup_page(
    StateExtractor(state): StateExtractor<Arc<State>>,
    peer: Option<Extension<ClientAddr>>,
    headers: axum::http::HeaderMap,
    query: Result<Query<LookupQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = query.ok().map(|Query(q)| q).unwrap_or(LookupQuery {
        receipt: None,
        code: None,
        lang: None,
    });
    let lang = lang_of(q.lang.as_deref());
    let receipt = q.receipt.unwrap_or_default().trim().to_owned();
    let code = q.code.unwrap_or_default().trim().to_owned();
    let asked = !receipt.is_empty() || !code.is_empty();
    let answer = if asked {
        let client = public::client_of(&state, peer, &headers);
        Some(public::lookup(&state, client, &receipt, &code).await)
    } else {
        None
    };
    let other_lang = lang.pick("en", "zh");
    let other = if asked {
        format!(
            "?receipt={}&code={}&lang={other_lang}",
            query_value(&receipt),
            query_value(&code)
        )
    } else {
        format!("?lang={other_lang}")
    };
    let mut out = String::new();
    let title = lang.pick("办件进度查询", "Case progress lookup");
    open_page(&mut out, lang, title, &other);
    let _ = write!(
        out,
        "<form class=\"lookup\" method=\"get\" action=\"/public/lookup\">\n\
         <label>{}<input name=\"receipt\" id=\"receipt\" value=\"{}\" autocomplete=\"off\" \
         required placeholder=\"case-2026-000101\"></label>\n\
         <label>{}<input name=\"code\" id=\"code\" value=\"{}\" autocomplete=\"off\" required \
         maxlength=\"16\" autocapitalize=\"characters\"></label>\n\
         <input type=\"hidden\" name=\"lang\" value=\"{}\">\n\
         <button type=\"submit\">{}</button>\n</form>\n\
         <p class=\"hint\">{}</p>\n",
        lang.pick("受理单号", "Receipt number"),
        esc(&receipt),
        lang.pick("查询码", "Query code"),
        esc(&code),
        lang.code(),
        lang.pick("查询", "Look up"),
        lang.pick(
            "受理单号和查询码印在受理回执上。",
            "The receipt number and the query code are printed on the acceptance receipt."
        ),
    );
    let status = match answer {
        None => StatusCode::OK,
        Some(Ok(found)) => {
            write_case(&mut out, lang, &found);
            StatusCode::OK
        }
        Some(Err(Refusal::NotFound)) => {
            let _ = writeln!(
                out,
                "<p class=\"refused\" id=\"not-found\">{}</p>",
                lang.pick(
                    "未找到与该受理单号和查询码相符的办件，请核对受理回执。",
                    "No case matches this receipt number and query code: check both on the \
                     acceptance receipt."
                )
            );
            StatusCode::NOT_FOUND
        }
        Some(Err(Refusal::Limited(secs))) => {
            let _ = writeln!(
                out,
                "<p class=\"refused\" id=\"limited\">{}</p>",
                match lang {
                    Lang::Zh => format!("查询过于频繁，请 {secs} 秒后再试。"),
                    Lang::En => format!("Too many lookups: try again in {secs} s."),
                }
            );
            close_page(&mut out);
            let mut response = html(StatusCode::TOO_MANY_REQUESTS, out);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            public::no_store(&mut response);
            return response;
        }
        Some(Err(Refusal::Internal(e))) => return e.into_response(),
    };
    close_page(&mut out);
    let mut response = html(status, out);
    public::no_store(&mut response);
    response
}

fn date_text(date: Option<chrono::NaiveDate>) -> String {
    date.map_or_else(|| "—".to_owned(), |d| d.to_string())
}

fn write_case(out: &mut String, lang: Lang, c: &PublicCase) {
    let mut due = date_text(c.promised_due_on);
    if c.due_provisional && c.promised_due_on.is_some() {
        due.push_str(lang.pick("（暂定）", " (provisional)"));
    }
    let on_time = match c.on_time {
        Some(true) => lang.pick("按时办结", "on time"),
        Some(false) => lang.pick("超期办结", "late"),
        None => "—",
    };
    let _ = write!(
        out,
        "<section class=\"case\" id=\"case\" data-receipt=\"{}\">\n<h2>{}</h2>\n<dl>\n",
        esc(&c.receipt),
        esc(&c.receipt)
    );
    let facts: [(&str, &str, String); 7] = [
        ("item", lang.pick("事项", "Item"), c.item_name.clone()),
        (
            "unit",
            lang.pick("办理单位", "Handled by"),
            c.unit_name.clone(),
        ),
        (
            "status",
            lang.pick("状态", "Status"),
            status_code_name(c.status, lang).to_owned(),
        ),
        (
            "accepted",
            lang.pick("受理日期", "Accepted on"),
            date_text(c.accepted_on),
        ),
        ("due", lang.pick("承诺办结日期", "Promised by"), due),
        (
            "concluded",
            lang.pick("办结日期", "Concluded on"),
            date_text(c.concluded_on),
        ),
        (
            "on-time",
            lang.pick("是否按时", "On time"),
            on_time.to_owned(),
        ),
    ];
    for (key, label, value) in facts {
        let _ = writeln!(
            out,
            "<div data-fact=\"{key}\"><dt>{}</dt><dd>{}</dd></div>",
            esc(label),
            esc(&value)
        );
    }
    out.push_str("</dl>\n");
    let _ = writeln!(
        out,
        "<h3>{}</h3>",
        lang.pick("已完成环节", "Steps completed")
    );
    if c.steps.is_empty() {
        let _ = writeln!(out, "<p class=\"empty\">—</p>");
    } else {
        out.push_str("<ol class=\"steps\">\n");
        for s in &c.steps {
            let _ = writeln!(
                out,
                "<li><span class=\"step\">{}</span> <time>{}</time></li>",
                esc(&s.step),
                s.completed_on
            );
        }
        out.push_str("</ol>\n");
    }
    let _ = writeln!(
        out,
        "<p class=\"as-of\">{} {}</p>\n</section>",
        lang.pick("查询时间", "As of"),
        esc(&c.as_of)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_reads_as_its_ten_thousandths() {
        assert_eq!(ten_thousandths("0.9500"), Some(9_500));
        assert_eq!(ten_thousandths("1.0000"), Some(10_000));
        assert_eq!(ten_thousandths("0.0007"), Some(7));
        assert_eq!(ten_thousandths("1"), Some(10_000));
        assert_eq!(ten_thousandths("x"), None);
    }

    #[test]
    fn a_query_value_is_percent_encoded() {
        assert_eq!(query_value("case-1.a_b~"), "case-1.a_b~");
        assert_eq!(query_value("a b&c=\"<"), "a%20b%26c%3D%22%3C");
    }
}
