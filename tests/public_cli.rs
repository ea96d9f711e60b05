//! The public's side through the binary: `jiancha receipt` prints the receipt number and query
//! code (and refuses without a usable secret), `jiancha serve --public-secret` answers the
//! lookup with that code (and without a secret answers every lookup with the same 404), the
//! disclosure page's figures equal `jiancha report --as-closed --format json`, and the pages
//! render in headless Chromium in Chinese and English, on a phone's width, without console
//! errors (screenshots in `tests/expect/screens/public-*.png`, rewritten with
//! `UPDATE_EXPECT=1`).

use serde_json::{json, Value};

use crate::disclosure_figures::{page_figures, report_figures};
use crate::server_api::{get_json, Served};
use crate::server_dashboard::{browser_page, Page};
use crate::support::*;

const CLOSE_AT: &str = "2026-04-02T10:00:00+08:00";
const LATER: &str = "2026-04-20T10:00:00+08:00";
const CASE: &str = "case-2026-000101";
const SECRET: &str = "a public secret of thirty-two b.\n";

/// The sample district (its units named), imported at the close's instant, March closed.
fn closed_district() -> Workspace {
    let ws = Workspace::new();
    let r = ws.run_at(CLOSE_AT, &["import"], &sample_district());
    assert_eq!(r.code, 0, "{r:?}");
    let r = ws.run_at(CLOSE_AT, &["report", "close", "--period", "2026-03"], "");
    assert_eq!(r.code, 0, "{r:?}");
    ws
}

/// `jiancha receipt CASE --public-secret FILE` → the code it prints.
fn receipt(ws: &Workspace, secret: &std::path::Path) -> String {
    let r = ws.run(
        &[
            "receipt",
            CASE,
            "--public-secret",
            secret.to_str().unwrap(),
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["receipt"], CASE);
    v["code"].as_str().unwrap().to_owned()
}

#[test]
fn receipt_prints_the_code_serve_answers_to() {
    let ws = closed_district();
    let secret = ws.write("public.secret", SECRET);
    let path = secret.to_str().unwrap();
    // Without a secret, with a short one, for a case not in the log: refused, saying why.
    let none = ws.run(&["receipt", CASE], "");
    assert_eq!(none.code, 2, "{none:?}");
    assert!(none.stderr.contains("--public-secret"), "{none:?}");
    let short = ws.write("short.secret", "hunter2\n");
    let r = ws.run(
        &["receipt", CASE, "--public-secret", short.to_str().unwrap()],
        "",
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("at least 16"), "{r:?}");
    assert!(!r.stderr.contains("hunter2"), "the secret is never shown");
    let r = ws.run(&["receipt", "case-nobody", "--public-secret", path], "");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no case"), "{r:?}");

    let code = receipt(&ws, &secret);
    assert_eq!(code.len(), 8);
    let table = ws.run(&["receipt", CASE, "--public-secret", path], "");
    assert_eq!(
        table.stdout,
        format!("Receipt number: {CASE}\nQuery code: {code}\n")
    );
    let zh = ws.run(
        &["--lang", "zh", "receipt", CASE, "--public-secret", path],
        "",
    );
    assert_eq!(zh.stdout, format!("受理单号: {CASE}\n查询码: {code}\n"));

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let served = Served::start_with(
        &ws.db(),
        &[("JIANCHA_CLOCK", LATER)],
        &["--public-secret", path],
    );
    let (status, found) = runtime.block_on(get_json(
        &served.url(&format!("/public/v1/cases/{CASE}?code={code}")),
        None,
    ));
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["receipt"], CASE);
    assert_eq!(found["item_name"], "个体工商户设立登记");
    assert_eq!(found["unit_name"], "区市场监管局1号窗口");
    // Dates and outcome as `case show` gives them (the conclusion was entered after the
    // fact: it counts at the date it was recorded).
    let shown = ws.run_at(LATER, &["case", "show", CASE, "--format", "json"], "");
    let shown: Value = serde_json::from_str(&shown.stdout).unwrap();
    for (public, view) in [
        ("status", "status"),
        ("accepted_on", "accepted_on"),
        ("promised_due_on", "promised_due_on"),
        ("due_provisional", "provisional"),
        ("concluded_on", "concluded_on"),
        ("on_time", "on_time"),
    ] {
        assert_eq!(found[public], shown[view], "{public}");
    }
    assert_eq!(found["status"], "concluded");
    assert_eq!(found["accepted_on"], "2026-03-02");
    assert_eq!(
        found["steps"],
        json!([
            {"step": "审查", "completed_on": "2026-03-03"},
            {"step": "审核", "completed_on": "2026-03-04"},
            {"step": "决定", "completed_on": "2026-03-05"},
        ])
    );
    let wrong = if code == "ABCDEFGH" {
        "ABCDEFGJ"
    } else {
        "ABCDEFGH"
    };
    let (status, refused) = runtime.block_on(get_json(
        &served.url(&format!("/public/v1/cases/{CASE}?code={wrong}")),
        None,
    ));
    assert_eq!(status, 404);
    assert!(
        !served.stderr().contains(SECRET.trim()),
        "the secret is never logged"
    );
    drop(served);

    // Without --public-secret the lookup is off: the same 404 for the right code.
    let served = Served::start(&ws.db(), &[("JIANCHA_CLOCK", LATER)]);
    let (status, off) = runtime.block_on(get_json(
        &served.url(&format!("/public/v1/cases/{CASE}?code={code}")),
        None,
    ));
    assert_eq!((status, off), (404, refused));
}

#[test]
fn the_disclosure_shows_what_report_as_closed_prints_and_no_open_month() {
    let ws = closed_district();
    // A case entered after the close moves March's current figures, not its closed ones.
    let late = [
        r#"{"stream":"case-2026-000900","type":"Submitted","occurred_at":"2026-03-16T09:00:00+08:00","actor":"clerk-9","org":"jiangjin/town-02/window-1","data":{"item":"BL-001","channel":"window","materials":["身份证","经营场所证明"]}}"#,
        r#"{"stream":"case-2026-000900","type":"Accepted","occurred_at":"2026-03-16T10:00:00+08:00","actor":"clerk-9","org":"jiangjin/town-02/window-1","data":{}}"#,
    ]
    .join("\n");
    let r = ws.run_at(LATER, &["import"], &(late + "\n"));
    assert_eq!(r.code, 0, "{r:?}");
    let as_closed = ws.run_at(
        LATER,
        &[
            "report",
            "--period",
            "2026-03",
            "--as-closed",
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(as_closed.code, 0, "{as_closed:?}");
    let expected = report_figures(&serde_json::from_str(&as_closed.stdout).unwrap());
    assert!(expected.contains_key("jiangjin/town-02/window-1") || expected.len() > 1);

    let served = Served::start(&ws.db(), &[("JIANCHA_CLOCK", LATER)]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let page = runtime.block_on(async {
        reqwest::get(served.url("/public/"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert_eq!(page_figures(&page, "2026-03"), expected, "{page}");
    // The unit's name from the catalog, the path in its tooltip.
    assert!(page.contains("title=\"jiangjin\">江津区</th>"), "{page}");
    // April is open: nothing of it is published.
    assert!(!page.contains("data-period=\"2026-04\""));
    // The current March figures differ: the page shows the closed ones.
    let current = ws.run_at(
        LATER,
        &["report", "--period", "2026-03", "--format", "json"],
        "",
    );
    assert_ne!(
        report_figures(&serde_json::from_str(&current.stdout).unwrap()),
        expected
    );
}

/// Decodes standard base64 (DevTools' screenshots).
fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let clean: Vec<u8> = text.bytes().filter(|c| *c != b'=').collect();
    let mut out = Vec::new();
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= u32::from(value(*c)) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

/// Opens `url` at `width` pixels, waits for it, checks it has `text` and no horizontal
/// scrolling (for the lookup on a phone), screenshots it as `name`.
async fn shoot(page: &mut Page, url: &str, width: u32, name: &str, text: &str) {
    page.set_viewport(width, 900, width < 500).await;
    page.call("Page.navigate", json!({ "url": url })).await;
    page.wait_for(
        &format!("{name} loads"),
        &format!(
            "document.readyState === 'complete' && document.body.innerText.includes({})",
            json!(text)
        ),
    )
    .await;
    if width < 500 {
        assert_eq!(
            page.eval("document.documentElement.scrollWidth <= window.innerWidth")
                .await,
            json!(true),
            "{name} fits a phone's width"
        );
    }
    let shot = page
        .call("Page.captureScreenshot", json!({"format": "png"}))
        .await;
    let png = base64(shot["data"].as_str().unwrap());
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}: a PNG");
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("expect/screens");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_pages_render_in_chromium_in_chinese_and_english() {
    let ws = closed_district();
    let secret = ws.write("public.secret", SECRET);
    let code = receipt(&ws, &secret);
    let served = Served::start_with(
        &ws.db(),
        &[("JIANCHA_CLOCK", LATER)],
        &["--public-secret", secret.to_str().unwrap()],
    );
    let (_browser, mut page) = browser_page().await;
    shoot(
        &mut page,
        &served.url("/public/"),
        1200,
        "public-disclosure.zh",
        "按时办结率",
    )
    .await;
    assert_eq!(
        page.eval("document.querySelectorAll('[data-period=\"2026-03\"] svg.bar').length > 0")
            .await,
        json!(true)
    );
    assert_eq!(page.eval("document.scripts.length").await, json!(0));
    // The switch leads to the English page.
    page.eval("document.getElementById('lang').click()").await;
    page.wait_for(
        "the English page",
        "document.body.innerText.includes('On-time rate')",
    )
    .await;
    shoot(
        &mut page,
        &served.url("/public/?lang=en"),
        1200,
        "public-disclosure.en",
        "On-time rate",
    )
    .await;
    let lookup = format!("/public/lookup?receipt={CASE}&code={code}");
    shoot(
        &mut page,
        &served.url("/public/lookup"),
        390,
        "public-lookup-form.zh",
        "查询码",
    )
    .await;
    shoot(
        &mut page,
        &served.url(&lookup),
        390,
        "public-lookup.zh",
        "个体工商户设立登记",
    )
    .await;
    assert_eq!(
        page.eval("document.querySelector('[data-fact=\"status\"] dd').textContent")
            .await,
        json!("已办结")
    );
    assert_eq!(
        page.eval("document.querySelectorAll('.steps li').length")
            .await,
        json!(3)
    );
    shoot(
        &mut page,
        &served.url(&format!("{lookup}&lang=en")),
        390,
        "public-lookup.en",
        "Steps completed",
    )
    .await;
    assert_eq!(
        page.eval("document.querySelector('[data-fact=\"status\"] dd').textContent")
            .await,
        json!("concluded")
    );
    // The form submits to the same lookup.
    page.call(
        "Page.navigate",
        json!({ "url": served.url("/public/lookup?lang=en") }),
    )
    .await;
    page.wait_for("the form", "!!document.getElementById('code')")
        .await;
    page.eval(&format!(
        "document.getElementById('receipt').value = '{CASE}'; document.getElementById('code').value = '{}'; document.querySelector('form.lookup').submit()",
        code.to_lowercase()
    ))
    .await;
    page.wait_for(
        "the answer to the form",
        "!!document.getElementById('case') && document.body.innerText.includes('2026-03-05')",
    )
    .await;
    assert!(page.errors().is_empty(), "console: {:?}", page.errors());
}
