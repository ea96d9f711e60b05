//! The 预警纠错 workflow on paper and on screen, through the real binary and headless Chromium:
//! a correction order left unanswered twice is escalated, and its 监察建议书 (`jiancha notice`)
//! prints to a PDF that states the case, the rules broken and the deadline — the same page
//! `jiancha serve` gives at `/dashboard/notices/{id}`; and the dashboard's 督办 board lists the
//! overdue order first with its escalation, in Chinese and, after the switch, in English.

use std::process::Command;

use serde_json::{json, Value};

use crate::server_api::{Served, SUPERVISOR, WAIT_MAX};
use crate::server_dashboard::{browser_page, print_to_pdf};
use crate::support::Workspace;

/// The instant everything is evaluated at: the server's frozen clock and `notice --now`.
const NOW: &str = "2026-03-20T12:00:00+08:00";
/// Accepted Mon 03-02 (promised 2 working days: due 03-04, red card 03-05T00:00), never
/// acknowledged, ordered 03-05 for 3 working days (due 03-10) and never reported back:
/// supervision.correction.overdue 03-11T00:00 (to the parent org), and after 3 more working days
/// supervision.escalated 03-14T00:00 (to the district's supervision bureau).
const OVERDUE: &str = "case-2026-000330";
const ESCALATED: &str = "case-2026-000330/supervision.escalated/1";
const OVERDUE_CARD: &str = "case-2026-000330/deadline.promised.overdue/1";
/// Same card and order date, 2 working days (due 03-09, before the overdue one's), reported back
/// 03-06: awaiting verification, not overdue.
const REPORTED_CARD: &str = "case-2026-000310/deadline.promised.overdue/1";
/// Accepted Mon 03-16 (red card 03-19T00:00), ordered 03-19 for 5 working days: due 03-26.
const PENDING_CARD: &str = "case-2026-000320/deadline.promised.overdue/1";

const UNIT_ORG: &str = "jiangjin/center/dept-03/window-1";

/// One interchange line by a clerk of the unit or, for supervision acts, by an inspector.
fn event(stream: &str, ty: &str, at: &str, data: &str) -> String {
    let (actor, org) = if ty == "CorrectionOrdered" {
        ("inspector-1", "jiangjin/supervision")
    } else {
        ("clerk-1", UNIT_ORG)
    };
    format!(
        r#"{{"stream":"{stream}","type":"{ty}","occurred_at":"2026-03-{at}+08:00","actor":"{actor}","org":"{org}","data":{data}}}"#
    )
}

fn case_accepted(case: &str, day: &str) -> Vec<String> {
    vec![
        event(
            case,
            "Submitted",
            &format!("{day}T09:00:00"),
            r#"{"item":"WF-1","channel":"window","materials":["身份证"]}"#,
        ),
        event(case, "Accepted", &format!("{day}T09:10:00"), "{}"),
    ]
}

fn ordered(card: &str, at: &str, days: u32) -> String {
    let case = card.split('/').next().unwrap();
    event(
        "supervision",
        "CorrectionOrdered",
        at,
        &format!(r#"{{"case":"{case}","alert":"{card}","days":{days}}}"#),
    )
}

/// A log with the three orders, entered as history (`import --historical`).
fn workflow_log() -> Workspace {
    let mut lines = vec![
        r#"{"stream":"catalog","type":"ItemDefined","occurred_at":"2026-01-05T09:00:00+08:00","actor":"admin","org":"jiangjin/center","data":{"code":"WF-1","name":"测试事项","org":"jiangjin/center/dept-03","statutory_days":20,"promised_days":2,"fee_cents":0,"steps":["审查"],"required_materials":["身份证"],"in_center":true}}"#.to_owned(),
    ];
    lines.extend(case_accepted(OVERDUE, "02"));
    lines.extend(case_accepted("case-2026-000310", "02"));
    lines.push(ordered(OVERDUE_CARD, "05T10:00:00", 3));
    lines.push(ordered(REPORTED_CARD, "05T10:05:00", 2));
    lines.push(event(
        "supervision",
        "CorrectionCompleted",
        "06T10:00:00",
        &format!(r#"{{"case":"case-2026-000310","alert":"{REPORTED_CARD}","report":"已整改"}}"#),
    ));
    lines.extend(case_accepted("case-2026-000320", "16"));
    lines.push(event(
        "supervision",
        "AlertAcknowledged",
        "19T09:00:00",
        &format!(r#"{{"alert":"{PENDING_CARD}"}}"#),
    ));
    lines.push(ordered(PENDING_CARD, "19T10:00:00", 5));
    let ws = Workspace::new();
    let run = ws.run(&["import", "--historical", "-"], &(lines.join("\n") + "\n"));
    assert_eq!(run.code, 0, "{run:?}");
    ws
}

/// `jiancha serve` over the workspace's log with a supervisor token, its clock frozen at [`NOW`].
fn serve(ws: &Workspace) -> Served {
    let tokens = ws.write(
        "tokens.toml",
        &format!(
            "[[token]]\nname = \"bureau\"\nrole = \"supervisor\"\norg = \"jiangjin/bureau\"\nsha256 = \"{}\"\n",
            jiancha_server::token_hash(SUPERVISOR)
        ),
    );
    Served::start_with(
        &ws.db(),
        &[("JIANCHA_CLOCK", NOW)],
        &["--auth", tokens.to_str().unwrap()],
    )
}

/// The text of a PDF, as `pdftotext -layout` lays it out.
fn pdf_text(pdf: &std::path::Path) -> String {
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run pdftotext ({e}): install Debian's poppler-utils \
                 (apt-get install poppler-utils; .ci/run does it)"
            )
        });
    assert!(out.status.success(), "pdftotext {}: {out:?}", pdf.display());
    String::from_utf8(out.stdout).unwrap()
}

/// A page without its style sheet, which the file inlines and the dashboard links.
fn without_style(html: &str) -> String {
    let head_end = html.find("</head>").expect("a head");
    let title_end = html.find("</title>").expect("a title") + "</title>".len();
    format!("{}{}", &html[..title_end], &html[head_end..])
}

/// Writes the escalated order's notice at [`NOW`] to `output` with `jiancha notice`, which
/// must succeed.
fn write_notice(ws: &Workspace, output: &std::path::Path) {
    let run = ws.run(
        &[
            "notice",
            ESCALATED,
            "--output",
            output.to_str().unwrap(),
            "--now",
            NOW,
        ],
        "",
    );
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn the_notice_of_an_escalated_order_prints_to_pdf_and_is_served() {
    let ws = workflow_log();
    let html = ws.path("notice.html");
    write_notice(&ws, &html);

    let pdf = ws.path("out.pdf");
    print_to_pdf(&format!("file://{}", html.display()), &pdf);
    let text = pdf_text(&pdf);
    for expected in [
        "监察建议书",
        OVERDUE,
        // 三、违反规定: the card's rule and the escalation.
        "违反规定",
        "deadline.promised.overdue",
        "supervision.escalated",
        // Escalated to the district's bureau, which the report-back is due to.
        "jiangjin/supervision",
        // The order's 3 working days from the issue date, Fri 03-20: 03-23, 03-24, 03-25.
        "2026年3月25日",
        "整改要求",
    ] {
        assert!(
            text.contains(expected),
            "the PDF lacks {expected:?} (Chinese missing? Debian's fonts-wqy-microhei gives \
             Chromium the glyphs; .ci/run installs it):\n{text}"
        );
    }
    // Labels print whole, not a character a line in a squeezed column.
    for label in ["日志位置", "超承诺时限", "督办升级"] {
        assert!(text.contains(label), "the PDF breaks {label:?}:\n{text}");
    }

    // The dashboard serves the same notice (its style sheet linked, not inlined).
    let served = serve(&ws);
    let url = served.url(&format!(
        "/dashboard/notices/{}",
        ESCALATED.replace('/', "%2F")
    ));
    let alerts = served.url("/api/v1/alerts?open=true");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (status, page) = runtime.block_on(async {
        let client = reqwest::Client::new();
        // The server's engine cards the open alerts as it starts: the notice's facts list those
        // cards, so it is read once they are all in the log.
        let started = std::time::Instant::now();
        loop {
            let text = client
                .get(&alerts)
                .bearer_auth(SUPERVISOR)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let list: Value = serde_json::from_str(&text).unwrap();
            let all = list["alerts"].as_array().unwrap();
            if !all.is_empty() && all.iter().all(|a| a["delivered"] == true) {
                break;
            }
            assert!(
                started.elapsed() < WAIT_MAX,
                "the engine never carded the open alerts: {list}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let anonymous = client.get(&url).send().await.unwrap();
        assert_eq!(anonymous.status().as_u16(), 401);
        let response = client
            .get(&url)
            .bearer_auth(SUPERVISOR)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    });
    assert_eq!(status, 200, "{page}\n{}", served.stderr());
    assert!(page.contains(OVERDUE), "{page}");
    // The command, on the log as the server now has it, prints the same page.
    let again = ws.path("again.html");
    write_notice(&ws, &again);
    let file = std::fs::read_to_string(&again).unwrap();
    assert_eq!(without_style(&page), without_style(&file));
}

/// The board's rows: each order's card and text.
const ROWS: &str = "[...document.querySelectorAll('#orders li.order')].map((li) => [li.dataset.card, li.textContent])";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_orders_board_lists_the_overdue_order_first_with_its_escalation() {
    let ws = workflow_log();
    let served = serve(&ws);
    let (browser, mut page) = browser_page().await;
    let url = served.url(&format!("/#token={SUPERVISOR}"));
    page.call("Page.navigate", json!({ "url": url })).await;
    page.wait_for(
        "the 督办 board lists the three open orders",
        "document.querySelectorAll('#orders li.order').length === 3",
    )
    .await;

    let rows = page.eval(ROWS).await;
    let cards: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_str().unwrap())
        .collect();
    // Overdue first, though the reported order's report-back was due a day earlier.
    assert_eq!(cards, [OVERDUE_CARD, REPORTED_CARD, PENDING_CARD], "{rows}");
    let text = |rows: &Value, i: usize| rows[i][1].as_str().unwrap().to_owned();
    let first = text(&rows, 0);
    for expected in [
        "逾期",
        "已升级",
        "升级至 jiangjin/supervision",
        "超承诺时限",
        "监察建议书",
    ] {
        assert!(first.contains(expected), "{expected:?} in {first:?}");
    }
    for i in [1, 2] {
        let row = text(&rows, i);
        assert!(!row.contains("升级"), "{row:?}");
        assert!(!row.contains("逾期"), "{row:?}");
    }
    assert!(text(&rows, 1).contains("待核查"), "{rows}");
    assert!(text(&rows, 2).contains("回告期限 2026-03-26"), "{rows}");
    assert_eq!(
        page.eval(
            "document.querySelector('#orders-section h2 [data-i18n=\"orders\"]').textContent"
        )
        .await,
        json!("督办看板")
    );
    assert_eq!(
        page.eval("document.querySelector('#orders li.order a.notice-link')?.getAttribute('href')")
            .await,
        json!(format!(
            "/dashboard/notices/{}",
            OVERDUE_CARD.replace('/', "%2F")
        )),
        "only the escalated order links to its notice, by its card"
    );
    assert_eq!(
        page.eval("document.querySelectorAll('#orders a.notice-link').length")
            .await,
        json!(1)
    );

    // The correction rate of March (three orders, none verified yet: 0%) is charted beside
    // on-time and satisfaction; March rated no bad rating verified valid: nothing to chart.
    page.wait_for(
        "the correction-rate chart draws March",
        "document.querySelector('#chart-correction svg circle, #chart-correction svg polyline') !== null",
    )
    .await;
    assert_eq!(
        page.eval("document.querySelector('#chart-rectification svg circle, #chart-rectification svg polyline') === null")
            .await,
        json!(true)
    );

    // The English switch.
    page.eval("document.getElementById('lang').click()").await;
    page.wait_for(
        "the board in English",
        "document.querySelector('#orders-section h2 [data-i18n=\"orders\"]').textContent === 'Correction orders'",
    )
    .await;
    let rows = page.eval(ROWS).await;
    let first = text(&rows, 0);
    for expected in [
        "overdue",
        "escalated to jiangjin/supervision",
        "Past promised limit",
        "Supervision notice",
        "report back by 2026-03-10",
    ] {
        assert!(first.contains(expected), "{expected:?} in {first:?}");
    }
    assert!(text(&rows, 1).contains("awaiting verification"), "{rows}");
    assert!(
        !rows
            .to_string()
            .contains(|c: char| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "no Chinese left on the board: {rows}"
    );

    // The link opens the notice in a window of its own (a click is a user gesture).
    page.call(
        "Runtime.evaluate",
        json!({
            "expression": "document.querySelector('#orders a.notice-link').click()",
            "userGesture": true,
        }),
    )
    .await;
    let start = std::time::Instant::now();
    loop {
        let list = browser.targets().await;
        if list.iter().any(|t| {
            t["type"] == "page"
                && t["title"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("监察建议书"))
        }) {
            break;
        }
        assert!(
            start.elapsed() < WAIT_MAX,
            "no window with the notice: {list:#?}\nconsole: {:?}",
            page.errors()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let errors = page.errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    drop(page);
    drop(browser);
    drop(served);
}
