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

/// The browser, killed when dropped.
pub(crate) struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts headless Chromium with a fresh profile; returns it and its DevTools port.
pub(crate) fn start_browser() -> (Browser, u16) {
    let profile = tempfile::tempdir().unwrap();
    let child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Debian's chromium is installed (apt-get install chromium; .ci/run does it)");
    let mut browser = Browser {
        child,
        _profile: profile,
    };
    let stderr = browser.child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("ws://127.0.0.1:").nth(1) {
                let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let _ = tx.send(port.parse::<u16>().unwrap());
            }
        }
    });
    let port = rx
        .recv_timeout(WAIT_MAX)
        .expect("chromium prints its DevTools address");
    (browser, port)
}

/// Prints the page at `url` to `pdf` with headless Chromium's own command line, as a user
/// prints a 监察建议书 (`jiancha notice --help`): A4 from the page's `@page` rule, without the
/// browser's header and footer (date, title, address).
pub(crate) fn print_to_pdf(url: &str, pdf: &std::path::Path) {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
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
    pub(crate) async fn attach(devtools_port: u16) -> Page {
        let list = reqwest::get(format!("http://127.0.0.1:{devtools_port}/json/list"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let list: Vec<Value> = serde_json::from_slice(&list).unwrap();
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

    let (browser, port) = start_browser();
    let mut page = Page::attach(port).await;
    for domain in ["Runtime.enable", "Log.enable", "Page.enable"] {
        page.call(domain, json!({})).await;
    }
    let url = server.url(&format!("/#token={SUPERVISOR}"));
    page.call("Page.navigate", json!({ "url": url })).await;
    page.wait_for(
        "the stream is live",
        "document.getElementById('status')?.dataset.state === 'live'",
    )
    .await;
    // The overview table is the board's top: the department's row counts its red card and
    // shows its name, with its path in the tooltip.
    const DEPT_ROW: &str = "#overview tr[data-org=\"jiangjin/center/dept-03\"]";
    page.wait_for(
        "the department's row counts the open card",
        &format!("document.querySelector('{DEPT_ROW} td.red')?.textContent === '1'"),
    )
    .await;
    page.wait_for(
        "the overview names the department",
        &format!("(() => {{ const n = document.querySelector('{DEPT_ROW} .named'); return !!n && n.textContent === '区市场监管局' && n.title === 'jiangjin/center/dept-03'; }})()"),
    )
    .await;
    // A click on the row lists its open cards.
    page.eval(&format!("document.querySelector('{DEPT_ROW}').click()"))
        .await;
    page.wait_for(
        "the open card is listed under its department",
        "!!document.querySelector('#cards .card[data-alert-id=\"case-d0/fee.mismatch/1\"]')",
    )
    .await;
    // The charts are drawn from the reports; a rate with no conclusion yet has no month to
    // draw (months without data are skipped, not drawn as 0%).
    page.wait_for(
        "the charts are drawn",
        "[...document.querySelectorAll('.chart')].every((c) => c.querySelector('svg, .empty'))",
    )
    .await;
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
    page.wait_for(
        "and on the overview under its town",
        "document.querySelector('#overview tr[data-org=\"jiangjin/town-7\"] td.red')?.textContent === '1'",
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

    // Case lookup shows the timeline.
    page.eval("document.getElementById('case-id').value = 'case-d1'; document.getElementById('case-form').requestSubmit()")
        .await;
    page.wait_for(
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

    let errors = page.errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    drop(page);
    drop(browser);
    server.stop().await;
}
