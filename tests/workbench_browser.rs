//! The dashboard as a workbench in headless Chromium, role × language: over a demo-sized
//! district (`simulate` as `demo` runs it) with 2,000 more open red cards in one town, served on
//! a frozen clock with a token per role, at 1366×768, each of supervisor, center, unit and
//! evaluator in Chinese and in English —
//!
//! - loads without console errors (a fetch answered 403 is one) and without horizontal scroll;
//! - shows the sections, headings, table columns and buttons of its committed layout
//!   expectation (`tests/expect/layout/ROLE-LANG.json`; `UPDATE_EXPECT=1` rewrites them and the
//!   screenshots `tests/expect/screens/ROLE-LANG.png`, which are for people and are not
//!   compared: pixels differ across machines and fonts);
//! - offers only the acts `GET /api/v1/me` lists for the role, and an offered act succeeds;
//! - keeps the board within one screen with 2,000 open cards, a page of cards at a time;
//! - opens a card's case: its state, its timeline with Chinese event names, its alerts, its
//!   ledger entries and the download;
//! - shows the simulated clock in the header.
//!
//! The first paint and the time until the overview is filled are measured and printed (the
//! BENCHMARKS.md row), not asserted.

use std::path::PathBuf;

use chrono::Datelike as _;

use serde_json::{json, Value};

use crate::server_api::{get_json, Served};
use crate::server_dashboard::{browser_page, Page};
use crate::support::{token_entry, Workspace};

/// The org of the 2,000 extra open red cards, and of the unit token.
const BUSY_TOWN: &str = "jiangjin/town-90";
const BUSY_CARDS: usize = 2_000;
const WIDTH: u32 = 1366;
const HEIGHT: u32 = 768;

const ROLES: [(&str, &str, Option<&str>); 4] = [
    ("supervisor", "wb-supervisor", Some("jiangjin/supervision")),
    ("center", "wb-center", Some("jiangjin")),
    ("unit", "wb-unit", Some(BUSY_TOWN)),
    ("evaluator", "wb-evaluator", None),
];

/// The `occurred_at` of a JSONL line.
fn occurred(line: &str) -> chrono::DateTime<chrono::FixedOffset> {
    let v: Value = serde_json::from_str(line).unwrap();
    chrono::DateTime::parse_from_rfc3339(v["occurred_at"].as_str().unwrap()).unwrap()
}

/// The demo's district (3,000 cases from 2026-01-05, 30 a working day, seed 7, entered as
/// history) and, on the day after its last event, 2,000 cases in [`BUSY_TOWN`] each charged the wrong fee (a red card
/// each); the instant the server's clock is frozen at.
fn district(ws: &Workspace) -> String {
    let sim = ws.run(
        &[
            "simulate",
            "--cases",
            "3000",
            "--seed",
            "7",
            "--per-day",
            "30",
            "--start",
            "2026-01-05",
        ],
        "",
    );
    assert_eq!(sim.code, 0, "{sim:?}");
    let last = sim.stdout.lines().map(occurred).max().unwrap();
    let day = (last + chrono::Duration::days(1)).date_naive();
    let at = |time: &str| format!("{day}T{time}+08:00");
    let mut lines: Vec<String> = vec![
        format!(
            r#"{{"stream":"catalog","type":"OrgDefined","occurred_at":"{}","actor":"admin","org":"jiangjin/center","data":{{"path":"{BUSY_TOWN}","name":"测试镇","kind":"town"}}}}"#,
            at("08:00:00")
        ),
        format!(
            r#"{{"stream":"catalog","type":"ItemDefined","occurred_at":"{}","actor":"admin","org":"jiangjin/center","data":{{"code":"WB-1","name":"测试事项","org":"{BUSY_TOWN}","statutory_days":20,"promised_days":10,"fee_cents":1000,"steps":["审查"],"required_materials":["身份证"],"in_center":false}}}}"#,
            at("08:00:00")
        ),
    ];
    for n in 0..BUSY_CARDS {
        let case = format!("case-wb-{n:05}");
        let event = |ty: &str, time: &str, data: &str| {
            format!(
                r#"{{"stream":"{case}","type":"{ty}","occurred_at":"{}","actor":"clerk-9","org":"{BUSY_TOWN}","data":{data}}}"#,
                at(time)
            )
        };
        lines.push(event(
            "Submitted",
            "09:00:00",
            r#"{"item":"WB-1","channel":"window","materials":["身份证"]}"#,
        ));
        lines.push(event("Accepted", "09:10:00", "{}"));
        lines.push(event("FeeCharged", "09:20:00", r#"{"amount_cents":1500}"#));
    }
    let input = format!("{}\n{}\n", sim.stdout.trim_end(), lines.join("\n"));
    let clock = at("18:00:00");
    // Entered as history, as `demo` records each event at its own instant: a conclusion counts
    // in the month it occurred, not the month of the import.
    let imported = ws.run_at(&clock, &["import", "--historical", "-"], &input);
    assert_eq!(imported.code, 0, "{imported:?}");
    clock
}

fn tokens(ws: &Workspace) -> PathBuf {
    let mut text = String::new();
    for (role, token, org) in ROLES {
        text.push_str(&token_entry(&format!("wb-{role}"), role, org, token));
    }
    ws.write("tokens.toml", &text)
}

/// What the page shows, compared with the committed expectation: the visible sections, their
/// headings, the columns of the visible tables and the distinct visible buttons (text and act).
const LAYOUT: &str = r#"(() => {
  const visible = (n) => !!n && n.offsetParent !== null && getComputedStyle(n).visibility !== 'hidden';
  const sections = [...document.querySelectorAll('main section')].filter(visible).map((s) => s.id);
  const headings = [...document.querySelectorAll('main h2, main h3')].filter(visible)
    .map((h) => [...h.querySelectorAll('[data-i18n]')].map((s) => s.textContent).join(' ') || h.textContent);
  const columns = {};
  for (const table of document.querySelectorAll('main table')) {
    if (visible(table)) columns[table.id] = [...table.tHead.rows[0].cells].map((c) => c.textContent);
  }
  const buttons = [...new Set([...document.querySelectorAll('button, a.button')].filter(visible)
    .map((b) => (b.dataset.act ? b.dataset.act + ': ' : '') + b.textContent.trim()))].sort();
  return { sections, headings, columns, buttons };
})()"#;

fn expect_path(dir: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("expect")
        .join(dir)
        .join(name)
}

/// Standard base64, as DevTools sends a screenshot.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut bits, mut n) = (0u32, 0u32);
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c).unwrap() as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out
}

async fn screenshot(page: &mut Page, path: &std::path::Path) {
    let shot = page
        .call(
            "Page.captureScreenshot",
            json!({"format": "png", "clip": {"x": 0, "y": 0, "width": WIDTH, "height": HEIGHT, "scale": 0.5}}),
        )
        .await;
    let bytes = base64_decode(shot["data"].as_str().unwrap());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Loads the page afresh as `token` in `lang`.
async fn open(page: &mut Page, served: &Served, token: &str, lang: &str) {
    page.call("Page.navigate", json!({"url": "about:blank"}))
        .await;
    page.clear_events();
    let url = served.url(&format!("/#token={token}&lang={lang}"));
    page.call("Page.navigate", json!({ "url": url })).await;
    page.wait_for(
        "the overview is filled",
        "document.querySelectorAll('#overview tbody tr').length > 0",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_in_each_language_sees_its_workbench() {
    let ws = Workspace::new();
    let clock = district(&ws);
    let tokens = tokens(&ws);
    let served = Served::start_with(
        &ws.db(),
        &[("JIANCHA_CLOCK", &clock)],
        &["--auth", tokens.to_str().unwrap()],
    );
    let update = std::env::var_os("UPDATE_EXPECT").is_some();

    let (browser, mut page) = browser_page().await;
    page.set_viewport(WIDTH, HEIGHT, false).await;

    let mut failures = Vec::new();
    for (role, token, _) in ROLES {
        let (status, me) = get_json(&served.url("/api/v1/me"), Some(token)).await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(me["role"], role, "{me}");
        assert_eq!(me["clock"]["simulated"], true, "{me}");
        let acts: Vec<&str> = me["acts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        for lang in ["zh", "en"] {
            let what = format!("{role}-{lang}");
            open(&mut page, &served, token, lang).await;
            if role != "evaluator" {
                // The live stream's first load is done when the prompts are counted.
                page.wait_for(
                    &format!("{what}: the stream is live"),
                    "document.getElementById('status').dataset.state === 'live'",
                )
                .await;
            }
            page.wait_for(
                &format!("{what}: the charts are drawn"),
                "[...document.querySelectorAll('.chart')].every((c) => c.querySelector('svg, .empty'))",
            )
            .await;
            page.wait_for(
                &format!("{what}: the ranking is filled"),
                "document.querySelectorAll('#report tbody tr').length > 0",
            )
            .await;
            let paint = page
                .eval("(() => { const p = performance.getEntriesByName('first-contentful-paint')[0]; const o = performance.getEntriesByName('jiancha:overview')[0]; return [p ? p.startTime : null, o ? o.startTime : null]; })()")
                .await;
            println!(
                "workbench {what}: first contentful paint {} ms, overview filled {} ms",
                paint[0], paint[1]
            );

            // The simulated clock in the header.
            let header = page
                .eval("[document.getElementById('clock').dataset.simulated, document.getElementById('clock').textContent]")
                .await;
            let label = if lang == "zh" {
                "模拟时钟"
            } else {
                "Simulated clock"
            };
            assert_eq!(header[0], "true", "{what}: {header}");
            assert!(
                header[1].as_str().unwrap().starts_with(label),
                "{what}: {header}"
            );

            // No horizontal scroll at 1366×768.
            let widths = page
                .eval("[document.scrollingElement.scrollWidth, innerWidth]")
                .await;
            assert!(
                widths[0].as_u64() <= widths[1].as_u64(),
                "{what}: horizontal scroll {widths}"
            );

            // Only the acts the role may perform are offered.
            if role != "evaluator" {
                page.eval(&format!(
                    "document.querySelector('#overview tr[data-org=\"{BUSY_TOWN}\"]').click()"
                ))
                .await;
                page.wait_for(
                    &format!("{what}: the busy town's first page of cards"),
                    "document.querySelectorAll('#cards .card').length === 12",
                )
                .await;
                let offered = page
                    .eval("[...new Set([...document.querySelectorAll('[data-act]')].map((b) => b.dataset.act))]")
                    .await;
                for act in offered.as_array().unwrap() {
                    assert!(
                        acts.contains(&act.as_str().unwrap()),
                        "{what}: offers {act}, /me lists {acts:?}"
                    );
                }
                assert_eq!(
                    offered.as_array().unwrap().is_empty(),
                    !acts.contains(&"acknowledge"),
                    "{what}: acknowledge offered iff allowed: {offered}"
                );
                // The board holds 2,000 open cards within one screen.
                let board = page
                    .eval("[document.getElementById('board-section').getBoundingClientRect().height, document.querySelector('#overview tr[data-org=\"jiangjin/town-90\"] td.red').textContent, document.getElementById('cards-next').disabled]")
                    .await;
                assert!(
                    board[0].as_f64().unwrap() <= f64::from(HEIGHT),
                    "{what}: the board is {board} px tall"
                );
                assert!(
                    board[1].as_str().unwrap().parse::<usize>().unwrap() >= BUSY_CARDS,
                    "{what}: {board}"
                );
                assert_eq!(board[2], false, "{what}: a next page of cards");
            } else {
                assert_eq!(
                    page.eval("document.querySelectorAll('#overview tr.clickable, #cards .card, .case-link').length")
                        .await,
                    json!(0),
                    "{what}: an evaluator reads figures, no case"
                );
            }

            let layout = page.eval(LAYOUT).await;
            let expected = expect_path("layout", &format!("{what}.json"));
            if update {
                std::fs::create_dir_all(expected.parent().unwrap()).unwrap();
                std::fs::write(
                    &expected,
                    serde_json::to_string_pretty(&layout).unwrap() + "\n",
                )
                .unwrap();
                screenshot(&mut page, &expect_path("screens", &format!("{what}.png"))).await;
            }
            let committed: Value = std::fs::read_to_string(&expected)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(Value::Null);
            if committed != layout {
                failures.push(format!(
                    "{what}: the layout differs from {} (UPDATE_EXPECT=1 rewrites it):\n{}",
                    expected.display(),
                    serde_json::to_string_pretty(&layout).unwrap()
                ));
            }

            // An offered act succeeds: the first card acknowledged.
            if acts.contains(&"acknowledge") && lang == "zh" {
                let card = page
                    .eval("(() => { const b = document.querySelector('#cards .card button[data-act=\"acknowledge\"]'); b.click(); return b.closest('.card').dataset.alertId; })()")
                    .await;
                let card = card.as_str().unwrap();
                page.wait_for(
                    &format!("{what}: the acknowledgement of {card} is recorded"),
                    &format!("(() => {{ const c = document.querySelector('#cards .card[data-alert-id=\"{card}\"]'); return !!c && !c.querySelector('button[data-act]') && c.textContent.includes('已确认'); }})()"),
                )
                .await;
                // The log has it: the act succeeded for this role.
                let (_, list) = get_json(
                    &served.url(&format!(
                        "/api/v1/alerts?org={BUSY_TOWN}&open=true&limit=12"
                    )),
                    Some(token),
                )
                .await;
                let acked = list["alerts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["id"] == card)
                    .map(|a| a["acknowledged"].clone());
                assert_eq!(acked, Some(json!(true)), "{what}: {list}");
                assert_eq!(
                    page.eval("document.getElementById('message').hidden").await,
                    json!(true),
                    "{what}: {}",
                    page.eval("document.getElementById('message').textContent")
                        .await
                );
            }

            // The charts leave months without data out, give every point its n and draw the
            // 95% and 100% targets.
            let charts = page
                .eval("[...document.querySelectorAll('.chart svg')].map((svg) => [svg.querySelectorAll('line.target').length, [...svg.querySelectorAll('circle')].every((c) => Number(c.dataset.n) > 0), svg.querySelectorAll('circle').length === svg.querySelectorAll('text.n').length])")
                .await;
            let charts = charts.as_array().unwrap();
            // The busy town concluded nothing: its unit has no rate to chart.
            assert_eq!(charts.is_empty(), role == "unit", "{what}: {charts:?}");
            for chart in charts {
                assert_eq!(chart, &json!([2, true, true]), "{what}: {charts:?}");
            }

            // Sorted by a column, filtered by severity.
            if role == "supervisor" && lang == "zh" {
                page.eval("document.querySelector('#overview th[data-sort=\"yellow\"]').click()")
                    .await;
                let yellow = page
                    .eval("[...document.querySelectorAll('#overview tbody tr td:nth-child(3)')].map((td) => Number(td.textContent))")
                    .await;
                let yellow: Vec<u64> = yellow
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap())
                    .collect();
                assert!(
                    yellow.windows(2).all(|w| w[0] >= w[1]),
                    "{what}: {yellow:?}"
                );
                assert!(yellow[0] > 0, "{what}: {yellow:?}");
                page.eval("(() => { const s = document.getElementById('filter-severity'); s.value = 'yellow'; s.dispatchEvent(new Event('change')); })()")
                    .await;
                // No red counted (the busy town, red only, leaves the table), yellow still.
                page.wait_for(
                    &format!("{what}: yellow cards only"),
                    "(() => { const col = (n) => [...document.querySelectorAll(`#overview tbody td:nth-child(${n})`)].map((td) => Number(td.textContent)); return col(2).every((v) => v === 0) && col(3).some((v) => v > 0); })()",
                )
                .await;
                page.eval("(() => { const s = document.getElementById('filter-severity'); s.value = ''; s.dispatchEvent(new Event('change')); })()")
                    .await;
                page.wait_for(
                    &format!("{what}: every severity again"),
                    &format!("document.querySelector('#overview tr[data-org=\"{BUSY_TOWN}\"] td:nth-child(2)')?.textContent !== '0' && document.querySelectorAll('#cards .card').length === 12"),
                )
                .await;
            }

            // A card opens its case: state, timeline in Chinese, alerts, ledger, download.
            if role != "evaluator" && lang == "zh" {
                page.eval("document.querySelector('#cards .card .case-link').click()")
                    .await;
                page.wait_for(
                    &format!("{what}: the case opens"),
                    "document.querySelectorAll('#timeline li').length >= 3 && document.querySelectorAll('#case-ledger li[data-entry]').length > 0",
                )
                .await;
                let case = page
                    .eval("[[...document.querySelectorAll('#timeline li strong')].map((s) => s.textContent), document.querySelector('#case-alerts li[data-alert-id]')?.textContent, document.getElementById('evidence').hidden, document.querySelectorAll('#case-view dt').length]")
                    .await;
                // The case's own events in order, among the catalog and supervision events
                // of its context, every one by its Chinese name.
                let names: Vec<&str> = case[0]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_str().unwrap())
                    .collect();
                let own: Vec<&str> = names
                    .iter()
                    .copied()
                    .filter(|n| ["申请", "受理", "收费"].contains(n))
                    .collect();
                assert_eq!(own, ["申请", "受理", "收费"], "{what}: {case}");
                assert!(
                    names.iter().all(|n| !n.is_ascii()),
                    "{what}: an event without its Chinese name: {case}"
                );
                assert!(
                    case[1].as_str().unwrap_or_default().contains("收费不符"),
                    "{what}: {case}"
                );
                assert_eq!(case[2], false, "{what}: the download is offered");
                assert_eq!(case[3], 8, "{what}: {case}");
                // The download is the server's evidence pack, fetched with the token in a
                // header and saved through a Blob URL.
                page.eval("(() => { window.__pack = null; window.__packFetch = null; const fetched = window.fetch; window.fetch = (url, options) => { if (String(url).includes('/evidence')) { window.__packFetch = [String(url), Boolean(options?.headers?.Authorization)]; window.fetch = fetched; } return fetched(url, options); }; const create = URL.createObjectURL; URL.createObjectURL = (blob) => { URL.createObjectURL = create; blob.text().then((text) => { window.__pack = text; }); return create(blob); }; document.getElementById('evidence').click(); })()")
                    .await;
                page.wait_for(
                    &format!("{what}: the evidence pack downloads"),
                    "window.__pack !== null",
                )
                .await;
                let pack = page
                    .eval("(() => { const p = JSON.parse(window.__pack); return [window.__packFetch, p.case, p.events.every((e) => e.hash_checks === true), p.log_head.position > 0, document.getElementById('evidence').textContent]; })()")
                    .await;
                let case_id = pack[1].as_str().unwrap_or_default();
                assert!(case_id.starts_with("case-"), "{what}: {pack}");
                assert_eq!(
                    pack[0],
                    serde_json::json!([format!("/api/v1/cases/{case_id}/evidence"), true]),
                    "{what}: {pack}"
                );
                assert_eq!(pack[2], true, "{what}: {pack}");
                assert_eq!(pack[3], true, "{what}: {pack}");
                assert_eq!(pack[4], "证据包", "{what}: {pack}");
            }

            // The evaluator's Excel download is the server's workbook of the month's report,
            // fetched with the token in a header: a zip (`PK`) of the xlsx content type.
            if role == "evaluator" && lang == "zh" {
                page.eval("(() => { window.__book = null; const create = URL.createObjectURL; URL.createObjectURL = (blob) => { URL.createObjectURL = create; blob.arrayBuffer().then((b) => { const head = new Uint8Array(b.slice(0, 2)); window.__book = [blob.type, String.fromCharCode(head[0], head[1]), b.byteLength]; }); return create(blob); }; document.getElementById('report-xlsx').click(); })()")
                    .await;
                page.wait_for(
                    &format!("{what}: the workbook downloads"),
                    "window.__book !== null",
                )
                .await;
                let book = page.eval("window.__book").await;
                assert_eq!(
                    book[0], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    "{what}: {book}"
                );
                assert_eq!(book[1], "PK", "{what}: {book}");
                assert!(book[2].as_u64().unwrap_or(0) > 1000, "{what}: {book}");
            }

            let errors = page.errors();
            assert!(errors.is_empty(), "{what}: console errors: {errors:#?}");
        }
    }
    // A unit's overview holds its own town only.
    let (status, unit) = get_json(&served.url("/api/v1/overview"), Some("wb-unit")).await;
    assert_eq!(status, 200);
    let orgs: Vec<&str> = unit["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["org"].as_str().unwrap())
        .collect();
    assert_eq!(orgs, [BUSY_TOWN]);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    drop(page);
    drop(browser);
    drop(served);
}

/// A district of about eighteen months (6,000 cases from 2025-01-02, 16 a working day, seed 11,
/// entered as history), so the forecast has a year-earlier base for its months ahead and its
/// backtest; the instant the server's clock is frozen at (the day after its last event).
fn long_district(ws: &Workspace) -> String {
    let sim = ws.run(
        &[
            "simulate",
            "--cases",
            "6000",
            "--seed",
            "11",
            "--per-day",
            "16",
            "--start",
            "2025-01-02",
        ],
        "",
    );
    assert_eq!(sim.code, 0, "{sim:?}");
    let last = sim.stdout.lines().map(occurred).max().unwrap();
    let clock = format!(
        "{}T18:00:00+08:00",
        (last + chrono::Duration::days(1)).date_naive()
    );
    let imported = ws.run_at(&clock, &["import", "--historical", "-"], &sim.stdout);
    assert_eq!(imported.code, 0, "{imported:?}");
    clock
}

/// The month before the clock's: the period the insight section opens on.
fn previous_month(clock: &str) -> String {
    let day = chrono::NaiveDate::parse_from_str(&clock[..10], "%Y-%m-%d").unwrap();
    let first = day.with_day(1).unwrap();
    first.pred_opt().unwrap().format("%Y-%m").to_string()
}

/// A bar's label as the chart prints it: the name cut to 16 characters, then n.
fn bar_label(name: &str, n: u64) -> String {
    let chars: Vec<char> = name.chars().collect();
    let name = if chars.len() > 16 {
        chars[..15].iter().collect::<String>() + "…"
    } else {
        name.to_owned()
    };
    format!("{name} (n={n})")
}

/// The bottleneck chart's bars the JSON calls for: the rows slowest first (p90, p50, then the
/// most conclusions, then the key), ten at most, each as (key, label, p50, p90).
fn expected_bars(rows: &[Value], by: &str) -> Vec<Value> {
    let mut bars: Vec<(String, String, &Value, &Value, u64)> = rows
        .iter()
        .map(|r| {
            let n = r["n"].as_u64().unwrap();
            let (key, name) = if by == "steps" {
                let step = match r["step"].as_str().unwrap() {
                    "(conclusion)" => "（至办结）",
                    step => step,
                };
                let item = r["item_name"].as_str().or(r["item"].as_str()).unwrap();
                (
                    format!("{}#{}", r["item"].as_str().unwrap(), r["step_index"]),
                    format!("{item} · {step}"),
                )
            } else {
                let code = r["item"].as_str().unwrap().to_owned();
                (code.clone(), r["name"].as_str().unwrap_or(&code).to_owned())
            };
            (key, bar_label(&name, n), &r["p50"], &r["p90"], n)
        })
        .collect();
    let days = |v: &Value| v.as_f64().unwrap();
    bars.sort_by(|a, b| {
        days(b.3)
            .total_cmp(&days(a.3))
            .then(days(b.2).total_cmp(&days(a.2)))
            .then(b.4.cmp(&a.4))
            .then(a.0.cmp(&b.0))
    });
    bars.into_iter()
        .take(10)
        .map(|(key, label, p50, p90, _)| json!([key, label, p50, p90]))
        .collect()
}

/// The bars the page draws, as (key, label, p50, p90).
const BARS: &str = "[...document.querySelectorAll('#chart-bottlenecks g.bar')].map((g) => [g.dataset.key, g.querySelector('text.label').textContent, Number(g.dataset.p50), Number(g.dataset.p90)])";

/// The insight section (辅助决策) as an evaluator, over a district long enough for a forecast:
/// one bar per top item, labelled from the JSON of `GET /api/v1/insights` (and per top step
/// after the toggle); the forecast chart's points are the JSON's months ahead and its backtest
/// points the JSON's backtest; the backtest error printed is the JSON's; the tables hold the
/// JSON's rows; the Excel link downloads the server's workbook; no console errors. A
/// department, a unit and a page without a token see no insight section and never ask for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evaluator_reads_the_insight_charts_and_others_do_not_see_them() {
    let ws = Workspace::new();
    let clock = long_district(&ws);
    let tokens = tokens(&ws);
    let served = Served::start_with(
        &ws.db(),
        &[("JIANCHA_CLOCK", &clock)],
        &["--auth", tokens.to_str().unwrap()],
    );
    let period = previous_month(&clock);
    let (status, insight) = get_json(
        &served.url(&format!("/api/v1/insights?period={period}")),
        Some("wb-evaluator"),
    )
    .await;
    assert_eq!(status, 200, "{insight}");
    let items = insight["bottlenecks"]["items"].as_array().unwrap();
    assert!(items.len() > 1, "{insight}");
    let all = insight["forecast"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["dimension"] == "all")
        .unwrap()
        .clone();
    // Enough months: a year-earlier base for each month ahead, and an error to print.
    assert!(
        all["months"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["base"].as_u64().unwrap() > 0),
        "{all}"
    );
    let rate = all["backtest_error_rate"].as_f64().unwrap();
    // Items with a year of conclusions enough for a recommendation, orgs whose cards rose.
    assert!(
        !insight["recommendations"].as_array().unwrap().is_empty()
            && !insight["hot_spots"]["orgs"].as_array().unwrap().is_empty(),
        "{insight}"
    );

    let (browser, mut page) = browser_page().await;
    page.set_viewport(WIDTH, HEIGHT, false).await;

    open(&mut page, &served, "wb-evaluator", "zh").await;
    page.wait_for(
        "the insight is drawn",
        &format!("document.getElementById('insight-label').textContent === '{period}' && document.querySelectorAll('#chart-bottlenecks g.bar').length > 0 && !!document.querySelector('#chart-forecast svg')"),
    )
    .await;
    assert_eq!(
        page.eval("document.getElementById('insight-section').hidden")
            .await,
        json!(false)
    );

    // One bar per top item, labelled from the JSON; then per top step.
    let bars = page.eval(BARS).await;
    assert_eq!(bars, json!(expected_bars(items, "items")), "items");
    page.eval("document.querySelector('#bottleneck-by button[data-by=\"steps\"]').click()")
        .await;
    let steps = insight["bottlenecks"]["steps"].as_array().unwrap();
    assert!(!steps.is_empty(), "{insight}");
    page.wait_for(
        "the step bars",
        "document.querySelector('#chart-bottlenecks g.bar')?.dataset.key.includes('#')",
    )
    .await;
    assert_eq!(
        page.eval(BARS).await,
        json!(expected_bars(steps, "steps")),
        "steps"
    );

    // The forecast of all accepted cases: its months ahead, its backtest, its error.
    let forecast = page
        .eval("[document.getElementById('forecast-series').value, [...document.querySelectorAll('#chart-forecast circle.forecast')].map((c) => [c.dataset.month, Number(c.dataset.value)]), [...document.querySelectorAll('#chart-forecast circle.backtest')].map((c) => [c.dataset.month, Number(c.dataset.forecast), Number(c.dataset.actual)]), Number(document.getElementById('forecast-error').dataset.rate), document.getElementById('forecast-error').textContent]")
        .await;
    assert_eq!(forecast[0], "all:", "{forecast}");
    let months: Vec<Value> = all["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| json!([m["month"], m["accepted"]]))
        .collect();
    assert_eq!(forecast[1], json!(months), "the months ahead");
    let backtest: Vec<Value> = all["backtest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| json!([b["month"], b["forecast"], b["actual"]]))
        .collect();
    assert_eq!(forecast[2], json!(backtest), "the backtest");
    assert_eq!(forecast[3].as_f64(), Some(rate), "{forecast}");
    let shown = forecast[4].as_str().unwrap();
    assert!(
        shown.starts_with(&format!("回测误差率 {:.2}%", rate * 100.0))
            && shown.contains(&format!(
                "误差合计 {} 件",
                all["backtest_abs_error"].as_u64().unwrap()
            )),
        "{shown} for {rate}"
    );

    // The tables: a row per recommendation, per rising org, per item asked twice.
    let tables = page
        .eval("['recommendations', 'hot-orgs', 'hot-items'].map((id) => [...document.querySelectorAll(`#${id} tbody tr:not(.empty)`)].map((tr) => tr.dataset.item ?? tr.dataset.org))")
        .await;
    let keys = |list: &Value, key: &str, take: usize| -> Value {
        list.as_array()
            .unwrap()
            .iter()
            .filter(|r| key != "item" || r.get("repeated").is_none_or(|n| n.as_u64() > Some(0)))
            .take(take)
            .map(|r| r[key].clone())
            .collect()
    };
    assert_eq!(
        tables,
        json!([
            keys(&insight["recommendations"], "item", usize::MAX),
            keys(&insight["hot_spots"]["orgs"], "org", usize::MAX),
            keys(&insight["hot_spots"]["items"], "item", 10),
        ])
    );

    // The Excel link: the server's workbook of the same insight, fetched with the token.
    page.eval("(() => { window.__book = null; const create = URL.createObjectURL; URL.createObjectURL = (blob) => { URL.createObjectURL = create; blob.arrayBuffer().then((b) => { const head = new Uint8Array(b.slice(0, 2)); window.__book = [blob.type, String.fromCharCode(head[0], head[1])]; }); return create(blob); }; document.getElementById('insight-xlsx').click(); })()")
        .await;
    page.wait_for("the insight workbook downloads", "window.__book !== null")
        .await;
    assert_eq!(
        page.eval("window.__book").await,
        json!([
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "PK"
        ])
    );
    let errors = page.errors();
    assert!(errors.is_empty(), "evaluator: console errors: {errors:#?}");

    // No insight read, no insight section, no request for it.
    let asked =
        "performance.getEntriesByType('resource').some((e) => e.name.includes('/api/v1/insights'))";
    for token in ["wb-center", "wb-unit"] {
        // The unit's town has no case here: its overview is empty, so the page is waited on
        // until it has filled it (the mark) with the stream live.
        page.call("Page.navigate", json!({"url": "about:blank"}))
            .await;
        page.clear_events();
        let url = served.url(&format!("/#token={token}&lang=zh"));
        page.call("Page.navigate", json!({ "url": url })).await;
        page.wait_for(
            &format!("{token}: the overview is filled and the stream is live"),
            "performance.getEntriesByName('jiancha:overview').length > 0 && document.getElementById('status').dataset.state === 'live'",
        )
        .await;
        let seen = page
            .eval(&format!(
                "[document.getElementById('insight-section').hidden, {asked}]"
            ))
            .await;
        assert_eq!(seen, json!([true, false]), "{token}");
        let errors = page.errors();
        assert!(errors.is_empty(), "{token}: console errors: {errors:#?}");
    }
    page.eval("sessionStorage.clear()").await;
    page.call("Page.navigate", json!({"url": "about:blank"}))
        .await;
    page.call("Page.navigate", json!({ "url": served.url("/") }))
        .await;
    page.wait_for(
        "no token: asked for one",
        "document.getElementById('status').dataset.state === 'idle' && !document.getElementById('message').hidden",
    )
    .await;
    assert_eq!(
        page.eval(&format!(
            "[document.getElementById('insight-section').hidden, {asked}]"
        ))
        .await,
        json!([true, false]),
        "no token"
    );
    drop(page);
    drop(browser);
    drop(served);
}

/// The board lists procurement cards apart: on a district with projects (every violation at a
/// high rate), a click on an org's procurement column lists only project cards, the toggle
/// back lists only case cards, and a project's card opens the project with its due dates. No
/// console errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_lists_procurement_cards_apart() {
    let ws = Workspace::new();
    let rates: serde_json::Map<String, Value> = [
        "proc_window_short",
        "proc_opening_mismatch",
        "proc_contract_late",
        "proc_experts_designated",
    ]
    .into_iter()
    .map(|r| (r.to_owned(), json!(0.4)))
    .collect();
    let rates = ws.write("rates.json", &Value::Object(rates).to_string());
    let sim = ws.run(
        &[
            "simulate",
            "--cases",
            "600",
            "--projects",
            "120",
            "--seed",
            "5",
            "--per-day",
            "6",
            "--start",
            "2026-01-05",
            "--rates",
            rates.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(sim.code, 0, "{sim:?}");
    let last = sim.stdout.lines().map(occurred).max().unwrap();
    let clock = format!(
        "{}T18:00:00+08:00",
        (last + chrono::Duration::days(1)).date_naive()
    );
    let imported = ws.run_at(&clock, &["import", "--historical", "-"], &sim.stdout);
    assert_eq!(imported.code, 0, "{imported:?}");
    let tokens = tokens(&ws);
    let served = Served::start_with(
        &ws.db(),
        &[("JIANCHA_CLOCK", &clock)],
        &["--auth", tokens.to_str().unwrap()],
    );
    // The org with the most open procurement red cards, by the overview.
    let (status, overview) = get_json(&served.url("/api/v1/overview"), Some("wb-supervisor")).await;
    assert_eq!(status, 200, "{overview}");
    let busiest = overview["rows"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|r| r["proc_red"].as_u64().unwrap())
        .unwrap();
    assert!(busiest["proc_red"].as_u64().unwrap() > 0, "{overview}");
    let org = busiest["org"].as_str().unwrap();

    let (browser, mut page) = browser_page().await;
    open(&mut page, &served, "wb-supervisor", "zh").await;
    page.eval(&format!(
        "document.querySelector('#overview tr[data-org=\"{org}\"] td[data-kind=\"procurement\"]').click()"
    ))
    .await;
    page.wait_for(
        "the org's procurement cards",
        "document.querySelectorAll('#cards .card').length > 0 && [...document.querySelectorAll('#cards .case-link')].every((a) => a.dataset.case.startsWith('proc-'))",
    )
    .await;
    let selected = page
        .eval("document.querySelector('#cards-kind button.selected').dataset.kind")
        .await;
    assert_eq!(selected, "procurement");
    // A project's card opens the project: its due dates, each in its unit.
    page.eval("document.querySelector('#cards .case-link').click()")
        .await;
    page.wait_for(
        "the project opens with its due dates",
        "[...document.querySelectorAll('#case-view dt')].some((d) => d.textContent === '法定期限')",
    )
    .await;
    // Back to the cases' cards: none of a project.
    page.eval("document.querySelector('#cards-kind button[data-kind=\"approval\"]').click()")
        .await;
    page.wait_for(
        "the org's case cards",
        "document.querySelector('#cards-kind button.selected').dataset.kind === 'approval' && [...document.querySelectorAll('#cards .case-link')].every((a) => a.dataset.case.startsWith('case-'))",
    )
    .await;
    let errors = page.errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    drop(page);
    drop(browser);
    drop(served);
}
