//! The dashboard in headless Chromium (Debian's `chromium`, started here and driven over the
//! DevTools protocol): the page loads without console errors, counts the open cards in its
//! overview and lists them under their department, and an alert raised by an append appears on
//! it, live, and the charts are fetched again; warnings are listed apart from the cards, and the
//! selected month says whether it is closed. Also the helpers the other browser tests share.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::server_api::{case_jsonl, LiveServer, CENTER, SUPERVISOR, WAIT_MAX};
use crate::support::token_entry;

/// The flags of every headless Chromium the tests start: no sandbox, no GPU, no first-run
/// page, no traffic of its own.
const HEADLESS: [&str; 7] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// The browser, killed when dropped.
pub(crate) struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    devtools_port: u16,
}

impl Browser {
    /// The browser's DevTools targets now (its pages and windows), as `/json/list` lists them.
    pub(crate) async fn targets(&self) -> Vec<Value> {
        devtools_targets(self.devtools_port).await
    }
}

/// The DevTools targets of the browser listening on `devtools_port`.
async fn devtools_targets(devtools_port: u16) -> Vec<Value> {
    let list = reqwest::get(format!("http://127.0.0.1:{devtools_port}/json/list"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    serde_json::from_slice(&list).unwrap()
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts headless Chromium with a fresh profile.
fn start_browser() -> Browser {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new("chromium")
        .args(HEADLESS)
        .args([
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Debian's chromium is installed (apt-get install chromium; .ci/run does it)");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("ws://127.0.0.1:").nth(1) {
                let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let _ = tx.send(port.parse::<u16>().unwrap());
            }
        }
    });
    // Owned before the wait, so a browser that never says its address is still killed.
    let mut browser = Browser {
        child,
        _profile: profile,
        devtools_port: 0,
    };
    browser.devtools_port = rx
        .recv_timeout(WAIT_MAX)
        .expect("chromium prints its DevTools address");
    browser
}

/// Prints the page at `url` to `pdf` with headless Chromium's own command line, as a user
/// prints a 监察建议书 (`jiancha notice --help`): A4 from the page's `@page` rule, without the
/// browser's header and footer (date, title, address).
pub(crate) fn print_to_pdf(url: &str, pdf: &std::path::Path) {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new("chromium")
        .args(HEADLESS)
        .arg("--no-pdf-header-footer")
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Debian's chromium is installed (apt-get install chromium; .ci/run does it)");
    // Read as it comes, so a chatty browser cannot fill the pipe and stall.
    let mut stderr = child.stderr.take().unwrap();
    let said = std::thread::spawn(move || {
        let mut said = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut said);
        said
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > WAIT_MAX {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not print {url} within {WAIT_MAX:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let said = said.join().unwrap();
    assert!(
        status.success(),
        "chromium --print-to-pdf {url}: {status}\n{said}"
    );
    assert!(
        pdf.metadata().is_ok_and(|m| m.len() > 0),
        "chromium wrote no PDF for {url}\n{said}"
    );
}

/// A DevTools session on one page, keeping the events that arrive between calls.
pub(crate) struct Page {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next_id: u64,
    events: Vec<Value>,
}

impl Page {
    async fn attach(devtools_port: u16) -> Page {
        let list = devtools_targets(devtools_port).await;
        let page = list
            .iter()
            .find(|t| t["type"] == "page")
            .expect("a page target");
        let url = page["webSocketDebuggerUrl"].as_str().unwrap();
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Page {
            ws,
            next_id: 0,
            events: Vec::new(),
        }
    }

    pub(crate) async fn call(&mut self, method: &str, params: Value) -> Value {
        match self.try_call(method, params).await {
            Ok(result) => result,
            Err(error) => panic!("{method}: {error}"),
        }
    }

    /// Sends a DevTools command and returns its result, or the answer carrying its error.
    async fn try_call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let request = json!({"id": id, "method": method, "params": params});
        self.ws
            .send(Message::Text(request.to_string().into()))
            .await
            .unwrap();
        tokio::time::timeout(WAIT_MAX, async {
            loop {
                let message = self.ws.next().await.expect("devtools answers").unwrap();
                let Message::Text(text) = message else {
                    continue;
                };
                let value: Value = serde_json::from_str(text.as_str()).unwrap();
                if value["id"] == id {
                    return if value["error"].is_null() {
                        Ok(value["result"].clone())
                    } else {
                        Err(value)
                    };
                }
                self.events.push(value);
            }
        })
        .await
        .expect("devtools answers in time")
    }

    /// Sets the page's size in CSS pixels, as a screen of that size (`mobile`: a phone's) shows it.
    pub(crate) async fn set_viewport(&mut self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        )
        .await;
    }

    /// Evaluates an expression in the page and returns its value.
    pub(crate) async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true}),
            )
            .await;
        result["result"]["value"].clone()
    }

    /// Waits until an expression is true.
    pub(crate) async fn wait_for(&mut self, what: &str, expression: &str) {
        let start = Instant::now();
        // A page navigating away answers an evaluation with an error: not yet, ask again.
        let params = json!({"expression": expression, "returnByValue": true});
        while self
            .try_call("Runtime.evaluate", params.clone())
            .await
            .map(|r| r["result"]["value"].clone())
            != Ok(json!(true))
        {
            assert!(
                start.elapsed() < WAIT_MAX,
                "{what}: page text: {}\nconsole: {:?}",
                self.eval("document.body.innerText").await,
                self.errors()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Forgets the events seen so far (a new page load starts with no console errors).
    pub(crate) fn clear_events(&mut self) {
        self.events.clear();
    }

    /// Console errors, uncaught exceptions and failed loads seen so far.
    pub(crate) fn errors(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.events {
            let p = &e["params"];
            match e["method"].as_str() {
                Some("Runtime.exceptionThrown") => out.push(p["exceptionDetails"].to_string()),
                Some("Runtime.consoleAPICalled")
                    if p["type"] == "error" || p["type"] == "assert" =>
                {
                    out.push(p["args"].to_string())
                }
                Some("Log.entryAdded") if p["entry"]["level"] == "error" => {
                    out.push(p["entry"].to_string())
                }
                _ => {}
            }
        }
        out
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_an_alert_raised_by_an_append() {
    let server = LiveServer::start().await;
    let named = r#"{"stream":"catalog","type":"OrgDefined","occurred_at":"2026-03-02T08:00:00+08:00","org":"jiangjin/center","data":{"path":"jiangjin/center/dept-03","name":"区市场监管局","kind":"department"}}"#;
    let (status, body) = server.post(CENTER, named).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = server
        .post(CENTER, &case_jsonl("case-d0", "jiangjin/center/dept-03", 1))
        .await;
    assert_eq!(status, 201, "{body}");
    // February has ended on 2 March: the bureau closes it.
    let closed = reqwest::Client::new()
        .post(server.url("/api/v1/reports/close?period=2026-02"))
        .bearer_auth(SUPERVISOR)
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status().as_u16(), 201);

    let (browser, mut page) = browser_page().await;
    navigate_as(&mut page, &server, SUPERVISOR).await;
    wait_status(&mut page, "the stream is live", "live").await;
    // The overview table is the board's top: the department's row counts its red card and
    // shows its name, with its path in the tooltip.
    const DEPT: &str = "jiangjin/center/dept-03";
    wait_red(
        &mut page,
        "the department's row counts the open card",
        DEPT,
        1,
    )
    .await;
    page.wait_for(
        "the overview names the department",
        &format!("(() => {{ const n = document.querySelector('{} .named'); return !!n && n.textContent === '区市场监管局' && n.title === '{DEPT}'; }})()", row(DEPT)),
    )
    .await;
    // A click on the row lists its open cards.
    click_row(
        &mut page,
        DEPT,
        "the open card is listed under its department",
        "!!document.querySelector('#cards .card[data-alert-id=\"case-d0/fee.mismatch/1\"]')",
    )
    .await;
    // The charts are drawn from the reports; a rate with no conclusion yet has no month to
    // draw (months without data are skipped, not drawn as 0%).
    page.wait_for("the charts are drawn", CHARTS_DRAWN).await;
    assert_eq!(
        page.eval("document.querySelector('#chart-on-time .empty')?.textContent")
            .await,
        json!("暂无数据")
    );
    // The token left the address bar.
    assert_eq!(page.eval("location.hash").await, json!(""));

    let drawn = page.eval("state.chartsDrawn").await.as_u64().unwrap();
    assert!(drawn >= 1);
    let (status, body) = server
        .post(CENTER, &case_jsonl("case-d1", "jiangjin/town-7", 2))
        .await;
    assert_eq!(status, 201, "{body}");
    page.wait_for(
        "the new alert appears live",
        "!!document.querySelector('#live li[data-alert-id=\"case-d1/fee.mismatch/1\"].flash')",
    )
    .await;
    page.wait_for(
        "the charts are fetched again after the live alert",
        &format!("state.chartsDrawn > {drawn}"),
    )
    .await;
    wait_red(
        &mut page,
        "and on the overview under its town",
        "jiangjin/town-7",
        1,
    )
    .await;

    // The selected month says whether it is closed.
    let month = |m: &str| {
        format!("(() => {{ const s = document.getElementById('month'); s.value = '{m}'; s.dispatchEvent(new Event('change')); const b = document.getElementById('month-state'); return b.dataset.state + ' ' + b.textContent; }})()")
    };
    page.wait_for(
        "the months are listed",
        "!!document.querySelector('#month option[value=\"2026-02\"]')",
    )
    .await;
    assert_eq!(page.eval(&month("2026-02")).await, json!("closed 已关账"));
    assert_eq!(page.eval(&month("2026-03")).await, json!("open 未关账"));

    // A warning is a prompt, listed apart from the cards.
    page.eval(
        "dispatch({ type: 'alerts', id: null, data: [JSON.stringify({ position: 1000000, changes: [{ kind: 'raised', alert: { id: 'case-d1/deadline.promised.warning/1', case: 'case-d1', rule: 'deadline.promised.warning', severity: 'warning', raised_at: '2026-03-02T00:00:00+08:00', closed_at: null, org: 'jiangjin/town-7' } }] })] })",
    )
    .await;
    page.wait_for(
        "the warning is listed as a prompt",
        "!!document.querySelector('#prompts li[data-alert-id=\"case-d1/deadline.promised.warning/1\"]')",
    )
    .await;
    assert_eq!(
        page.eval("document.querySelectorAll('#cards [data-alert-id$=\"warning/1\"]').length")
            .await,
        json!(0),
        "not on the card board"
    );

    // Chinese by default; the switch turns the labels to English.
    assert_eq!(
        page.eval("document.querySelector('h1').textContent").await,
        json!("行政审批电子监察")
    );
    page.eval("document.getElementById('lang').click()").await;
    assert_eq!(
        page.eval("document.querySelector('h1').textContent").await,
        json!("Approval supervision")
    );
    assert_eq!(page.eval(&month("2026-02")).await, json!("closed closed"));
    // The live alerts too, without another request.
    let live = page
        .eval("document.querySelector('#live li[data-alert-id=\"case-d1/fee.mismatch/1\"]').textContent")
        .await;
    assert!(
        live.as_str()
            .unwrap()
            .starts_with("red Fee mismatch · case-d1 raised "),
        "{live}"
    );

    // Case lookup shows the timeline.
    look_up_case(
        &mut page,
        "case-d1",
        "the timeline",
        "document.querySelectorAll('#timeline li').length >= 3",
    )
    .await;
    // In English now: the event names too (the catalog's definitions are in the case's
    // context, before its own events).
    assert_eq!(
        page.eval("[...document.querySelectorAll('#timeline li strong')].map((s) => s.textContent).filter((n) => n !== 'Item defined' && n !== 'Org defined')")
            .await,
        json!(["Submitted", "Accepted", "Fee charged", "Card issued"])
    );

    assert_no_console_errors(&page);
    close(page, browser, server).await;
}

// ---- the workbench across tokens, refusals, outages, names and widths ---------------------------

const WINDOW: &str = "e2e-window";
const VILLAGE: &str = "e2e-village";
const EVALUATOR: &str = "e2e-evaluator";
/// The center's token at the center's own org (the shared [`CENTER`] is the district's).
const CENTER_OWN: &str = "e2e-center-own";
const WINDOW_ORG: &str = "jiangjin/center/dept-03/window-1";
const VILLAGE_ORG: &str = "jiangjin/town-7/village-2";

/// A server in this process over a scratch log ([`LiveServer::start_with`]), with a token per
/// role: the bureau, the center (the district's, and one at `jiangjin/center`), a window of a
/// department, a village point of a town and an evaluator; the clock stands at 2026-03-02T10:00+08:00. The catalog names the department, the
/// window, the town and the village; the item is `permit-01` (promised 2 working days). Each
/// (case, org) of `red_cards` is a case charged the wrong fee: a red card each.
async fn roles_server(red_cards: &[(&str, &str)]) -> LiveServer {
    let mut text = String::new();
    for (name, role, token, org) in [
        ("bureau", "supervisor", SUPERVISOR, Some("jiangjin/bureau")),
        ("center", "center", CENTER, Some("jiangjin")),
        ("center-own", "center", CENTER_OWN, Some("jiangjin/center")),
        ("window", "unit", WINDOW, Some(WINDOW_ORG)),
        ("village", "unit", VILLAGE, Some(VILLAGE_ORG)),
        ("evaluator", "evaluator", EVALUATOR, None),
    ] {
        text.push_str(&token_entry(name, role, org, token));
    }
    let server = LiveServer::start_with(jiancha_server::Auth::parse(&text).unwrap()).await;
    let catalog = [
        org_defined("jiangjin/center/dept-03", "区市场监管局", "department"),
        org_defined(WINDOW_ORG, "窗口一", "window"),
        org_defined("jiangjin/town-7", "鼎山街道", "town"),
        org_defined(VILLAGE_ORG, "二村", "village"),
    ]
    .join("\n");
    let (status, body) = server.post(CENTER, &catalog).await;
    assert_eq!(status, 201, "{body}");
    for (case, org) in red_cards {
        let (status, body) = server.post(CENTER, &case_jsonl(case, org, 2)).await;
        assert_eq!(status, 201, "{body}");
    }
    server
}

/// A [`roles_server`] with `red_cards`, and a browser on its dashboard signed in with `token`
/// ([`open_as`]).
async fn dashboard_as(token: &str, red_cards: &[(&str, &str)]) -> (LiveServer, Browser, Page) {
    let server = roles_server(red_cards).await;
    let (browser, mut page) = browser_page().await;
    open_as(&mut page, &server, token).await;
    (server, browser, page)
}

fn org_defined(path: &str, name: &str, kind: &str) -> String {
    format!(
        r#"{{"stream":"catalog","type":"OrgDefined","occurred_at":"2026-03-01T08:00:00+08:00","org":"jiangjin/center","data":{{"path":"{path}","name":"{name}","kind":"{kind}"}}}}"#
    )
}

/// True once every chart is drawn, or says it has no data.
const CHARTS_DRAWN: &str =
    "[...document.querySelectorAll('.chart')].every((c) => c.querySelector('svg, .empty'))";

/// The overview's row of `org`, as a CSS selector.
fn row(org: &str) -> String {
    format!("#overview tr[data-org=\"{org}\"]")
}

/// True once the overview's row of `org` counts `red` open red cards.
fn red_count(org: &str, red: u32) -> String {
    format!(
        "document.querySelector('{} td.red')?.textContent === '{red}'",
        row(org)
    )
}

/// Waits until the overview's row of `org` counts `red` open red cards.
async fn wait_red(page: &mut Page, what: &str, org: &str, red: u32) {
    page.wait_for(what, &red_count(org, red)).await;
}

/// Clicks the overview's row of `org` and waits until `listed` (its cards, as the list shows
/// them) is true.
async fn click_row(page: &mut Page, org: &str, what: &str, listed: &str) {
    page.eval(&format!("document.querySelector('{}').click()", row(org)))
        .await;
    page.wait_for(what, listed).await;
}

/// Waits until the header's status is `state` (`live`, `polling`, `offline`…).
async fn wait_status(page: &mut Page, what: &str, state: &str) {
    page.wait_for(
        what,
        &format!("document.getElementById('status')?.dataset.state === '{state}'"),
    )
    .await;
}

/// Looks up `case` through the case form.
/// Looks `case` up in the case form, then waits until `condition` (a JavaScript expression)
/// holds, failing with `what`.
async fn look_up_case(page: &mut Page, case: &str, what: &str, condition: &str) {
    page.eval(&format!("document.getElementById('case-id').value = '{case}'; document.getElementById('case-form').requestSubmit()"))
        .await;
    page.wait_for(what, condition).await;
}

/// Navigates to the dashboard signed in with `token` (`/#token=…`), waiting for nothing.
async fn navigate_as(page: &mut Page, server: &LiveServer, token: &str) {
    let url = server.url(&format!("/#token={token}"));
    page.call("Page.navigate", json!({ "url": url })).await;
}

/// Fails on any console error, uncaught exception or failed load the page has seen.
#[track_caller]
fn assert_no_console_errors(page: &Page) {
    let errors = page.errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

/// Closes the page and the browser, then stops the server.
async fn close(page: Page, browser: Browser, server: LiveServer) {
    drop(page);
    drop(browser);
    server.stop().await;
}

/// A browser with a page attached, its console and log followed.
pub(crate) async fn browser_page() -> (Browser, Page) {
    let browser = start_browser();
    let mut page = Page::attach(browser.devtools_port).await;
    for domain in ["Runtime.enable", "Log.enable", "Page.enable"] {
        page.call(domain, json!({})).await;
    }
    (browser, page)
}

/// Loads the dashboard signed in with `token` (`/#token=…`) and waits for its overview.
async fn open_as(page: &mut Page, server: &LiveServer, token: &str) {
    page.call("Page.navigate", json!({"url": "about:blank"}))
        .await;
    page.clear_events();
    navigate_as(page, server, token).await;
    page.wait_for(
        "the overview is filled",
        "document.querySelectorAll('#overview tbody tr').length > 0",
    )
    .await;
}

/// Signs in with another token through the header's form, and waits until the page says who it
/// is now (`role`: the role's label, as the header shows it) with its overview read.
async fn switch_token(page: &mut Page, token: &str, role: &str) {
    page.eval(&format!(
        "document.getElementById('token').value = '{token}'; document.getElementById('token-form').requestSubmit()"
    ))
    .await;
    page.wait_for(
        "the page says who the new token is, with its overview",
        &format!("document.getElementById('whoami').textContent.startsWith('{role}') && document.querySelectorAll('#overview tbody tr').length > 0"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_token_starts_afresh_without_the_previous_tokens_cards_case_or_depth() {
    let (server, browser, mut page) = dashboard_as(
        SUPERVISOR,
        &[("case-t7", "jiangjin/town-7"), ("case-w1", WINDOW_ORG)],
    )
    .await;
    // The bureau opens the town's cards and one of its cases.
    wait_red(
        &mut page,
        "the town's row counts its card",
        "jiangjin/town-7",
        1,
    )
    .await;
    click_row(
        &mut page,
        "jiangjin/town-7",
        "the town's card is listed with its acknowledge button",
        "!!document.querySelector('#cards .card[data-alert-id=\"case-t7/fee.mismatch/1\"] button[data-act=\"acknowledge\"]')",
    )
    .await;
    look_up_case(
        &mut page,
        "case-t7",
        "the town's case is open",
        "document.querySelectorAll('#timeline li').length >= 3",
    )
    .await;
    // And filters the board by a rule and a severity.
    page.eval("for (const [id, v] of [['filter-rule', 'deadline.promised.overdue'], ['filter-severity', 'red']]) { const s = document.getElementById(id); s.value = v; s.dispatchEvent(new Event('change')); }")
        .await;
    const FILTERS: &str = "[...['filter-org', 'filter-rule', 'filter-severity'].map((id) => document.getElementById(id).value), state.filters]";
    assert_eq!(
        page.eval(FILTERS).await,
        json!(["", "deadline.promised.overdue", "red", {"org": "", "rule": "deadline.promised.overdue", "severity": "red"}])
    );

    // The window signs in: nothing of the bureau's stays.
    switch_token(&mut page, WINDOW, "单位").await;
    wait_status(&mut page, "the window's stream is live", "live").await;
    assert_eq!(
        page.eval(FILTERS).await,
        json!(["", "", "", {"org": "", "rule": "", "severity": ""}]),
        "the filters show what the board is filtered by: nothing"
    );
    assert_eq!(
        page.eval("[document.querySelectorAll('#cards .card').length, state.cards.org, document.getElementById('cards-org').textContent]")
            .await,
        json!([0, null, ""]),
        "no card of the town is listed for the window"
    );
    assert_eq!(
        page.eval("[document.querySelectorAll('#case-view dd, #timeline li, #case-alerts li').length, document.getElementById('evidence').hidden, state.caseDoc]")
            .await,
        json!([0, true, null]),
        "the town's case is gone"
    );
    assert_eq!(
        page.eval("document.getElementById('depth').value").await,
        json!("4"),
        "the window's own depth"
    );
    // Its own row lists its own card.
    click_row(
        &mut page,
        WINDOW_ORG,
        "the window's card is listed",
        "!!document.querySelector('#cards .card[data-alert-id=\"case-w1/fee.mismatch/1\"]')",
    )
    .await;

    // An evaluator after the window: the depth starts at the towns again.
    switch_token(&mut page, EVALUATOR, "考核").await;
    assert_eq!(
        page.eval("[document.getElementById('depth').value, state.cards.org, document.querySelectorAll('#cards .card').length]")
            .await,
        json!(["2", null, 0])
    );
    assert_no_console_errors(&page);
    close(page, browser, server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_live_stream_is_said_and_the_figures_are_read_on_a_timer() {
    let server = roles_server(&[("case-t7", "jiangjin/town-7")]).await;
    // The center's token already holds every live stream it may.
    let mut held = Vec::new();
    for _ in 0..32 {
        held.push(crate::server_api::Stream::connect(&server.url(""), Some(CENTER), None).await);
    }
    let (browser, mut page) = browser_page().await;
    navigate_as(&mut page, &server, CENTER).await;
    page.wait_for(
        "the refusal is shown in the page's language with the server's words",
        "(() => { const m = document.getElementById('message'); return !m.hidden && m.textContent.startsWith('实时预警暂不可用') && m.textContent.includes('请求过多，请稍后再试（this token already holds 32 live alert streams'); })()",
    )
    .await;
    page.wait_for(
        "the figures are read all the same",
        &format!("{} && {CHARTS_DRAWN}", red_count("jiangjin/town-7", 1)),
    )
    .await;
    wait_status(
        &mut page,
        "the status says the figures are polled, not connecting",
        "polling",
    )
    .await;
    assert_eq!(
        page.eval("[document.getElementById('orders-empty').hidden, document.getElementById('orders-count').textContent]")
            .await,
        json!([false, "0"]),
        "the orders were read: none is open"
    );
    // English words the refusal again, the server's words kept.
    page.eval("document.getElementById('lang').click()").await;
    let message = page
        .eval("document.getElementById('message').textContent")
        .await;
    assert!(
        message.as_str().unwrap().starts_with(
            "Live alerts unavailable, refreshing every 30 s: Too many requests: try again later (this token already holds 32"
        ),
        "{message}"
    );
    drop(held);
    close(page, browser, server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_centers_own_row_lists_only_the_centers_own_cards() {
    let (server, browser, mut page) = dashboard_as(
        SUPERVISOR,
        &[
            ("case-c0", "jiangjin/center"),
            ("case-c1", "jiangjin/center"),
            ("case-d0", "jiangjin/center/dept-03"),
            ("case-d1", "jiangjin/center/dept-03"),
            ("case-d2", "jiangjin/center/dept-03"),
        ],
    )
    .await;
    wait_red(
        &mut page,
        "the center's row counts its own two cards",
        "jiangjin/center",
        2,
    )
    .await;
    click_row(
        &mut page,
        "jiangjin/center",
        "the center's cards are listed",
        "document.querySelectorAll('#cards .card').length > 0",
    )
    .await;
    assert_eq!(
        page.eval("[[...document.querySelectorAll('#cards .card')].map((c) => c.dataset.alertId), document.getElementById('cards-org').textContent]")
            .await,
        json!([
            ["case-c0/fee.mismatch/1", "case-c1/fee.mismatch/1"],
            "jiangjin/center · 2"
        ]),
        "the list and its count are the row's: not the departments'"
    );
    // The department's row lists its own three.
    click_row(
        &mut page,
        "jiangjin/center/dept-03",
        "the department's cards are listed",
        "document.getElementById('cards-org').textContent === '区市场监管局 · 3' && document.querySelectorAll('#cards .card').length === 3",
    )
    .await;
    assert_no_console_errors(&page);
    close(page, browser, server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evaluators_org_filter_narrows_only_what_it_reads() {
    let (server, browser, mut page) = dashboard_as(
        EVALUATOR,
        &[
            ("case-t7", "jiangjin/town-7"),
            ("case-d0", "jiangjin/center/dept-03"),
        ],
    )
    .await;
    page.wait_for(
        "the ranking lists the town and the center",
        "(() => { const orgs = [...document.querySelectorAll('#report tbody tr')].map((r) => r.dataset.org); return orgs.includes('jiangjin/town-7') && orgs.includes('jiangjin/center'); })()",
    )
    .await;
    const TOWN_RANK: &str =
        "document.querySelector('#report tr[data-org=\"jiangjin/town-7\"] td').textContent";
    let rank = page.eval(TOWN_RANK).await;
    assert_ne!(rank, json!("1"), "the town ranks below the center");
    page.eval("(() => { const s = document.getElementById('filter-org'); s.value = 'jiangjin/town-7'; s.dispatchEvent(new Event('change')); })()")
        .await;
    assert_eq!(
        page.eval(TOWN_RANK).await,
        rank,
        "the filter hides rows, the town keeps its rank"
    );
    // A request would have been answered by now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        page.eval("[[...document.querySelectorAll('#overview tbody tr')].map((r) => r.dataset.org), [...document.querySelectorAll('#report tbody tr')].map((r) => r.dataset.org)]")
            .await,
        json!([["jiangjin/town-7"], ["jiangjin/town-7"]]),
        "the overview and the ranking are the town's"
    );
    assert_eq!(
        page.eval("[performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/v1/alerts')).length, document.getElementById('message').hidden]")
            .await,
        json!([0, true]),
        "no alert list was asked for, nothing was refused"
    );
    assert_no_console_errors(&page);
    close(page, browser, server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_header_wraps_at_a_phones_width() {
    let server = roles_server(&[("case-w1", WINDOW_ORG)]).await;
    let (browser, mut page) = browser_page().await;
    for width in [375_u32, 430] {
        page.set_viewport(width, 800, false).await;
        for token in [SUPERVISOR, WINDOW] {
            open_as(&mut page, &server, token).await;
            for lang in ["zh", "en"] {
                if page.eval("document.documentElement.lang").await
                    != json!(if lang == "zh" { "zh-CN" } else { "en" })
                {
                    page.eval("document.getElementById('lang').click()").await;
                }
                let measure = page
                    .eval("[window.innerWidth, document.documentElement.scrollWidth, document.querySelector('header').scrollWidth]")
                    .await;
                assert_eq!(measure[0], json!(width), "{measure}");
                assert!(
                    measure[1].as_u64().unwrap() <= u64::from(width)
                        && measure[2].as_u64().unwrap() <= u64::from(width),
                    "{token} in {lang} at {width} px: [viewport, page, header] = {measure}"
                );
            }
        }
    }
    close(page, browser, server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_and_the_message_follow_the_reads_through_an_outage() {
    let (server, browser, mut page) =
        dashboard_as(EVALUATOR, &[("case-t7", "jiangjin/town-7")]).await;
    // No stream: the figures are read on a timer, and the status says so.
    wait_status(
        &mut page,
        "the evaluator's figures are read, polled",
        "polling",
    )
    .await;
    assert_eq!(
        page.eval("document.getElementById('status').textContent")
            .await,
        json!("定时刷新")
    );
    // The server is away: every read fails, as a fetch does when nothing answers.
    page.eval("window.realFetch = window.fetch; window.fetch = () => Promise.reject(new TypeError('Failed to fetch')); loadAll(); true")
        .await;
    page.wait_for(
        "a failed poll says offline and why, in the page's language",
        "document.getElementById('status').dataset.state === 'offline' && document.getElementById('status').textContent === '离线' && document.getElementById('message').textContent === '无法连接服务器'",
    )
    .await;
    // It is back: the next poll's reads succeed.
    page.eval("window.fetch = window.realFetch; loadAll(); true")
        .await;
    page.wait_for(
        "a good poll says polling and clears the failure",
        "document.getElementById('status').dataset.state === 'polling' && document.getElementById('message').hidden",
    )
    .await;
    close(page, browser, server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_and_a_village_point_are_shown_by_their_names() {
    let server = roles_server(&[("case-w1", WINDOW_ORG), ("case-v1", VILLAGE_ORG)]).await;
    let (browser, mut page) = browser_page().await;
    for (token, org, name) in [
        (WINDOW, WINDOW_ORG, "窗口一"),
        (VILLAGE, VILLAGE_ORG, "二村"),
    ] {
        open_as(&mut page, &server, token).await;
        page.wait_for(
            "the header names the token's org, its path in the tooltip",
            &format!("(() => {{ const n = document.querySelector('#whoami .named'); return !!n && n.textContent === '{name}' && n.title === '{org}'; }})()"),
        )
        .await;
        page.wait_for(
            "so does its own overview row",
            &format!("document.querySelector('#overview tr[data-org=\"{org}\"] .named')?.textContent === '{name}'"),
        )
        .await;
        // The cases due this week: the org by its name, the code in the tooltip.
        page.eval("document.getElementById('due-week').click()")
            .await;
        page.wait_for(
            "the due cases name their org",
            &format!("(() => {{ const n = document.querySelector('#due li .named[data-code=\"{org}\"]'); return !!n && n.textContent === '{name}' && n.title === '{org}'; }})()"),
        )
        .await;
        // And their item, by the name the case list gives.
        assert_eq!(
            page.eval("[...document.querySelectorAll('#due li .named[data-code=\"permit-01\"]')].map((n) => [n.textContent, n.title])")
                .await,
            json!([["许可", "permit-01"]]),
            "{token}: the due case's item by its name"
        );
        assert_no_console_errors(&page);
    }
    close(page, browser, server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_grades_and_warnings_are_worded_in_the_pages_language() {
    let server = roles_server(&[("case-t7", "jiangjin/town-7")]).await;
    let (browser, mut page) = browser_page().await;
    // A token the server does not know: its own words, not a request for a token.
    navigate_as(&mut page, &server, "no-such-token").await;
    page.wait_for(
        "the server's refusal of the token",
        "document.getElementById('message').textContent.startsWith('请求失败: 令牌无效（unknown token')",
    )
    .await;
    page.clear_events();
    switch_token(&mut page, SUPERVISOR, "监察").await;
    assert_eq!(
        page.eval("document.getElementById('message').hidden").await,
        json!(true)
    );
    // A case id the server refuses: the kind named, the server's words beside.
    look_up_case(&mut page, "case-a!b", "the refusal names its kind",
        "document.getElementById('message').textContent.startsWith('请求失败: 请求有误（bad case stream')").await;
    // A broken chain's warning, as the server marks every answer.
    page.eval("window.realFetch = window.fetch; window.fetch = async (...args) => { const r = await window.realFetch(...args); const h = new Headers(r.headers); h.set('x-jiancha-chain-broken', '7'); return new Response(await r.blob(), { status: r.status, headers: h }); }; loadOverview(); true")
        .await;
    page.wait_for(
        "the warning is shown",
        "document.getElementById('chain-broken').textContent.startsWith('警告：日志哈希链在第 7 条处断裂')",
    )
    .await;
    page.wait_for(
        "the insight's org filter is filled",
        "document.querySelectorAll('#insight-org option').length > 1",
    )
    .await;
    // In English: the shown refusal, the warning, the insight's filter and the grades too,
    // without another request.
    page.eval("document.getElementById('lang').click()").await;
    assert_eq!(
        page.eval("[document.getElementById('message').textContent.startsWith('Request failed: Invalid request (bad case stream'), document.getElementById('chain-broken').textContent.startsWith('Warning: the log\\'s hash chain is broken at position 7'), document.querySelector('#insight-org option[value=\"\"]').textContent]")
            .await,
        json!([true, true, "All"])
    );
    let grades = page
        .eval("(() => { const month = document.getElementById('month').value; const row = (org, grade) => ({ org, accepted: 1, concluded: 1, on_time_rate: 1, rated: 1, satisfaction_rate: 1, red: 0, yellow: 0, score: 90, grade }); state.reports.set(month, { rows: [row('jiangjin/town-1', '优秀'), row('jiangjin/town-2', '良好'), row('jiangjin/town-3', '合格'), row('jiangjin/town-4', '不合格')] }); renderReport(); return [...document.querySelectorAll('#report tbody tr td:last-child')].map((td) => td.textContent); })()")
        .await;
    assert_eq!(grades, json!(["Excellent", "Good", "Pass", "Fail"]));
    // A case read: the earlier lookup's refusal is over.
    look_up_case(&mut page, "case-t7", "the case is read and the lookup's refusal gone",
        "!!state.caseDoc && document.querySelectorAll('#timeline li').length >= 3 && document.getElementById('message').hidden").await;
    // Another lookup fails, then a case is read: a message not about a case stays.
    look_up_case(
        &mut page,
        "case-none",
        "the case is not found",
        "document.getElementById('message').textContent === 'No such case'",
    )
    .await;
    look_up_case(
        &mut page,
        "case-t7",
        "the case is read again",
        "!!state.caseDoc",
    )
    .await;
    assert_eq!(
        page.eval("document.getElementById('message').hidden").await,
        json!(true)
    );
    page.eval("showMessage('unrelated'); document.getElementById('case-id').value = 'case-t7'; document.getElementById('case-form').requestSubmit()")
        .await;
    page.wait_for("the case is read once more", "!!state.caseDoc")
        .await;
    assert_eq!(
        page.eval("document.getElementById('message').textContent")
            .await,
        json!("unrelated")
    );
    close(page, browser, server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_districts_own_row_is_the_districts_for_the_bureau_and_the_center() {
    // A case entered at the district itself, one at the bureau, one at the center.
    let server = roles_server(&[
        ("case-j0", "jiangjin"),
        ("case-b0", "jiangjin/bureau"),
        ("case-c0", "jiangjin/center"),
    ])
    .await;
    let (browser, mut page) = browser_page().await;
    for (token, own) in [
        (SUPERVISOR, "jiangjin/bureau"),
        (CENTER_OWN, "jiangjin/center"),
    ] {
        open_as(&mut page, &server, token).await;
        wait_red(
            &mut page,
            &format!("{token}: the district's row is its own"),
            "jiangjin",
            1,
        )
        .await;
        wait_red(
            &mut page,
            &format!("{token}: so is the token's own org's"),
            own,
            1,
        )
        .await;
        assert_eq!(
            page.eval(&format!("[document.querySelectorAll('{}').length, document.querySelector('{} .named').dataset.code]", row(own), row("jiangjin")))
                .await,
            json!([1, "jiangjin"]),
            "{token}: one row of the token's org; the district's row names the district"
        );
        click_row(
            &mut page,
            "jiangjin",
            &format!("{token}: the district's card is listed"),
            "document.querySelectorAll('#cards .card').length > 0",
        )
        .await;
        assert_eq!(
            page.eval("[[...document.querySelectorAll('#cards .card')].map((c) => c.dataset.alertId), state.cards.org]")
                .await,
            json!([["case-j0/fee.mismatch/1"], "jiangjin"]),
            "{token}: the row's card, not the token's org's"
        );
        assert_no_console_errors(&page);
    }
    close(page, browser, server).await;
}

/// Installed before the page's own script: a fetch that fails while `window.away` (as a fetch
/// does when nothing answers) and whose live streams the test can break (`breakStreams()`).
const BREAKABLE_FETCH: &str = r#"
window.away = false;
window.streams = [];
window.breakStreams = () => {
  for (const s of window.streams.splice(0)) {
    s.controller.error(new TypeError('network error'));
    s.reader.cancel().catch(() => {});
  }
};
window.holding = null;
window.held = [];
const realFetch = window.fetch;
window.fetch = async (url, options) => {
  if (window.away) throw new TypeError('Failed to fetch');
  // A read of the path `holding` names waits until released (`held`), then reaches the server.
  if (window.holding && String(url).includes(window.holding)) {
    await new Promise((release) => window.held.push(release));
  }
  const res = await realFetch(url, options);
  if (!String(url).includes('/alerts/stream') || !res.ok || !res.body) return res;
  const reader = res.body.getReader();
  const body = new ReadableStream({
    start(controller) { window.streams.push({ controller, reader }); },
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) controller.close(); else controller.enqueue(value);
      } catch (e) {
        controller.error(e);
      }
    },
  });
  return new Response(body, { status: res.status, headers: res.headers });
};
"#;

/// A supervisor's page live on a server with one town's red card, its `fetch` breakable
/// ([`BREAKABLE_FETCH`]).
async fn live_with_breakable_fetch() -> (LiveServer, Browser, Page) {
    let server = roles_server(&[("case-t7", "jiangjin/town-7")]).await;
    let (browser, mut page) = browser_page().await;
    page.call(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": BREAKABLE_FETCH }),
    )
    .await;
    open_as(&mut page, &server, SUPERVISOR).await;
    wait_status(&mut page, "the stream is live", "live").await;
    wait_red(
        &mut page,
        "the town's card is counted",
        "jiangjin/town-7",
        1,
    )
    .await;
    (server, browser, page)
}

/// A read begun before the server went away and answered after the drop's read failed says
/// nothing of the failure: the message stays (before: it cleared the message while the page
/// said offline, a race the slow machine of a CI run met).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_begun_before_a_drop_does_not_clear_its_failure() {
    let (server, browser, mut page) = live_with_breakable_fetch().await;
    // A full read whose overview is held on its way, then the server goes away.
    page.eval("window.holding = '/api/v1/overview'; loadAll(); true")
        .await;
    page.wait_for("the overview read is held", "window.held.length === 1")
        .await;
    page.eval("window.holding = null; window.away = true; window.breakStreams(); true")
        .await;
    let failure = "document.getElementById('status').dataset.state === 'offline' && !document.getElementById('message').hidden && document.getElementById('message').textContent === '无法连接服务器'";
    page.wait_for("the drop's read failed: offline, and why", failure)
        .await;
    // The held read reaches the server and is answered.
    page.eval("window.held.splice(0).forEach((release) => release()); true")
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(page.eval(failure).await, json!(true));
    close(page, browser, server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_live_stream_reads_the_figures_and_says_offline_until_it_is_back() {
    let (server, browser, mut page) = live_with_breakable_fetch().await;
    // The server goes away: the stream breaks and nothing answers.
    page.eval("window.away = true; window.breakStreams(); true")
        .await;
    page.wait_for(
        "the figures are read, and the failed read says offline and why",
        "document.getElementById('status').dataset.state === 'offline' && document.getElementById('status').textContent === '离线' && !document.getElementById('message').hidden && document.getElementById('message').textContent === '无法连接服务器'",
    )
    .await;
    // Still trying the stream, still offline.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        page.eval("document.getElementById('status').dataset.state")
            .await,
        json!("offline")
    );
    page.eval("document.getElementById('lang').click()").await;
    assert_eq!(
        page.eval("[document.getElementById('status').textContent, document.getElementById('message').textContent]")
            .await,
        json!(["offline", "Cannot reach the server"])
    );
    // It is back: the stream opens again, its figures are read, the failure is over.
    page.eval("window.away = false; true").await;
    page.wait_for(
        "live again, the message gone",
        "document.getElementById('status').dataset.state === 'live' && document.getElementById('message').hidden",
    )
    .await;
    close(page, browser, server).await;
}
