//! What the server says about itself and what it shows: the OpenAPI document matches the routes
//! (paths and methods, both ways), `/metrics` carries its families, the views answer as the
//! command line does, limits on streams and request rates hold, and the dashboard's assets are
//! served from this origin only.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use jiancha_server::Limits;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_matches_the_routes() {
    let world = World::new().await;
    let doc = world.get("/api/v1/openapi.json", Who::Nobody).await.json;
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let routed: BTreeSet<(String, String)> = jiancha_server::route_table()
        .into_iter()
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
        .collect();
    assert_eq!(documented, routed);
    // Every documented route answers (not 404 or 405) with its method.
    for (method, path) in &routed {
        let path = path
            .replace("{id}/", "case-t1%2Ffee.mismatch%2F1/")
            .replace("cases/case-t1%2Ffee.mismatch%2F1/", "cases/case-t1/")
            .replace("{id}", "case-t1")
            .replace(
                "{receipt}",
                &format!("case-t1?code={}", public_secret().query_code("case-t1")),
            );
        let answer = if path.ends_with("/stream") {
            world.status_of(&path, Who::Supervisor).await
        } else {
            world
                .send(request(
                    method,
                    &path,
                    Who::Supervisor,
                    Some("application/json"),
                    "{}",
                ))
                .await
        };
        assert!(
            ![404, 405].contains(&answer.status.as_u16()),
            "{method} {path}: {}",
            answer.status
        );
    }
    // A method a path does not take is refused with a message.
    let wrong = world.get("/api/v1/events", Who::Center).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.json["error"], "method_not_allowed");
    // Every refusal's kind is one the document lists.
    let kinds = doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"].clone();
    for kind in [
        "id_reused",
        "method_not_allowed",
        wrong.json["error"].as_str().unwrap(),
    ] {
        assert!(kinds.as_array().unwrap().contains(&kind.into()), "{kind}");
    }
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_health() {
    let world = World::new().await;
    let step = world
        .post_json("/api/v1/events", Who::Center, &step_json(CASE_1, None))
        .await;
    assert_eq!(step.status, StatusCode::CREATED);
    let _stream = Sse::open(&world, Who::Supervisor, None).await;
    world.settle().await;
    let metrics = world.get("/metrics", Who::Nobody).await;
    assert!(metrics.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    for line in [
        "jiancha_events_appended_total 1",
        "jiancha_append_seconds_count 1",
        "jiancha_append_seconds_bucket{le=\"+Inf\"} 1",
        "jiancha_projection_lag_events 0",
        "jiancha_alerts_open{severity=\"red\"} 2",
        "jiancha_alerts_open{severity=\"yellow\"} 0",
        "jiancha_sse_subscribers 1",
        "jiancha_http_responses_total{code=\"201\"} 1",
    ] {
        assert!(
            metrics.text.lines().any(|l| l == line),
            "{line} in\n{}",
            metrics.text
        );
    }
    let health = world.get("/healthz", Who::Nobody).await;
    assert_eq!(health.json["ok"], true);
    assert_eq!(health.json["auth"], true);
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_answer_as_the_command_line_does() {
    let world = World::new().await;
    let case = world.get("/api/v1/cases/case-t1", Who::Supervisor).await;
    assert_eq!(case.status, StatusCode::OK);
    assert_eq!(case.json["promised_due_on"], "2026-03-04");
    assert_eq!(case.json["status"], "running");
    let before = world
        .get(
            "/api/v1/cases/case-t1?now=2026-03-02T09:05:00%2B08:00",
            Who::Supervisor,
        )
        .await;
    assert_eq!(before.json["status"], "submitted", "{}", before.text);
    let missing = world.get("/api/v1/cases/case-none", Who::Supervisor).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let bad = world.get("/api/v1/cases/catalog", Who::Supervisor).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad_now = world
        .get("/api/v1/alerts?now=yesterday", Who::Supervisor)
        .await;
    assert_eq!(bad_now.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_now.json["field"], "now");
    let bad_rule = world.get("/api/v1/alerts?rule=fee", Who::Supervisor).await;
    assert_eq!(bad_rule.status, StatusCode::BAD_REQUEST);
    let typo = world.get("/api/v1/alerts?opne=true", Who::Supervisor).await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);

    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_reports_and_verification() {
    let world = World::new().await;
    // History as of an instant: only what had been recorded by then. The seed was recorded at
    // 10:00; a step recorded at 11:00 is not in the 10:30 history.
    world.clock.set(at("2026-03-02T11:00:00+08:00"));
    let step = world
        .post_json("/api/v1/events", Who::Center, &step_json(CASE_1, None))
        .await;
    assert_eq!(step.status, StatusCode::CREATED);
    let then = world
        .get(
            "/api/v1/cases/case-t1/history?as_of=2026-03-02T10:30:00%2B08:00",
            Who::Supervisor,
        )
        .await;
    // The case's context: the catalog's item, its own stream, the supervision naming it.
    let types: Vec<&str> = then.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "ItemDefined",
            "Submitted",
            "Accepted",
            "FeeCharged",
            "CardIssued"
        ],
        "{}",
        then.text
    );
    assert_eq!(then.json["state"]["status"], "running");
    let now = world
        .get("/api/v1/cases/case-t1/history", Who::Supervisor)
        .await;
    assert_eq!(now.json["events"].as_array().unwrap().len(), 6);
    let derived = &then.json["events"][2]["derived"];
    assert_eq!(derived[0]["change"], "clock_started", "{derived}");
    let early = world
        .get(
            "/api/v1/cases/case-t1/history?as_of=2026-03-01",
            Who::Supervisor,
        )
        .await;
    assert_eq!(early.status, StatusCode::NOT_FOUND);

    let report = world
        .get("/api/v1/reports?period=2026-03&depth=2", Who::Evaluator)
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    assert_eq!(report.json["period"], "2026-03");
    let range = world
        .get("/api/v1/reports?from=2026-01&to=2026-03", Who::Evaluator)
        .await;
    assert_eq!(range.status, StatusCode::OK, "{}", range.text);
    let bad = world
        .get("/api/v1/reports?period=March", Who::Evaluator)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let verify = world.get("/api/v1/verify", Who::Center).await;
    assert_eq!(verify.json["ok"], true);
    assert_eq!(verify.json["events"], world.head().await);
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervision_acts_are_recorded() {
    let world = World::new().await;
    let path = format!("/api/v1/alerts/{ALERT_1_PATH}/acknowledge");
    let ack = world
        .post_json(&path, Who::Supervisor, r#"{"note":"seen"}"#)
        .await;
    assert_eq!(ack.status, StatusCode::CREATED, "{}", ack.text);
    let again = world.post_json(&path, Who::Supervisor, "").await;
    assert_eq!(again.status, StatusCode::OK, "acknowledged once");
    assert_eq!(again.json["positions"], ack.json["positions"]);
    // Another note would be dropped by a 200: it is refused, and nothing is appended.
    let head = world.head().await;
    let other = world
        .post_json(&path, Who::Supervisor, r#"{"note":"seen again"}"#)
        .await;
    assert_eq!(other.status, StatusCode::CONFLICT, "{}", other.text);
    assert!(other.text.contains("another note"), "{}", other.text);
    assert_eq!(world.head().await, head);
    let same = world
        .post_json(&path, Who::Supervisor, r#"{"note":"seen"}"#)
        .await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.text);
    let alerts = world
        .get("/api/v1/alerts?org=jiangjin/town-1", Who::Supervisor)
        .await;
    assert_eq!(alerts.json["alerts"][0]["acknowledged"], true);
    let raw = world
        .post_json(
            "/api/v1/alerts/case-t1/fee.mismatch/1/acknowledge",
            Who::Supervisor,
            "",
        )
        .await;
    assert_eq!(raw.status, StatusCode::NOT_FOUND);
    assert!(raw.json["message"].as_str().unwrap().contains("%2F"));
    let unknown = world
        .post_json(
            "/api/v1/alerts/case-t1%2Ffee.mismatch%2F9/acknowledge",
            Who::Supervisor,
            "",
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let order_path = format!("/api/v1/alerts/{ALERT_1_PATH}/correction-orders");
    let zero = world
        .post_json(&order_path, Who::Supervisor, r#"{"days":0}"#)
        .await;
    assert_eq!(zero.status, StatusCode::BAD_REQUEST);
    assert_eq!(zero.json["field"], "days");
    let missing = world.post_json(&order_path, Who::Supervisor, "{}").await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let order = world
        .post_json(&order_path, Who::Supervisor, r#"{"days":3}"#)
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.text);
    let exempt = world
        .post_json(
            "/api/v1/cases/case-t1/exemptions",
            Who::Supervisor,
            r#"{"reason":"flood"}"#,
        )
        .await;
    assert_eq!(exempt.status, StatusCode::CREATED, "{}", exempt.text);
    let case = world.get("/api/v1/cases/case-t1", Who::Supervisor).await;
    assert_eq!(case.json["exempted"], true);
    let history = world
        .get("/api/v1/cases/case-t1/history", Who::Supervisor)
        .await;
    let acts: Vec<(&str, &str)> = history.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["stream"] == "supervision" && e["type"] != "CardIssued")
        .map(|e| (e["type"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        acts,
        [
            ("AlertAcknowledged", "bureau-li"),
            ("CorrectionOrdered", "bureau-li"),
            ("Exempted", "bureau-li")
        ]
    );
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_and_rate_limits_hold() {
    let limits = Limits {
        sse_subscribers_max: 1,
        requests_per_token_per_second: 5,
        ..Limits::default()
    };
    let auth = jiancha_server::Auth::parse(&auth_file()).unwrap();
    let world = World::with(Some(auth), limits).await;
    let first = Sse::open(&world, Who::Supervisor, None).await;
    let second = world.status_of("/api/v1/alerts/stream", Who::Center).await;
    assert_eq!(second.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(second.json["message"]
        .as_str()
        .unwrap()
        .contains("at most 1"));
    drop(first);
    // The slot is free again once the first stream is gone.
    let mut freed = false;
    for _ in 0..100 {
        if world
            .status_of("/api/v1/alerts/stream", Who::Unit1)
            .await
            .status
            == StatusCode::OK
        {
            freed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(freed);
    // Requests per token per second: a bucket holds 5; the center has used 1.
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(
            world
                .get("/api/v1/alerts", Who::Center)
                .await
                .status
                .as_u16(),
        );
    }
    assert_eq!(statuses[..4], [200; 4], "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    let refused = loop {
        let answer = world.get("/api/v1/alerts", Who::Center).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            break answer;
        }
    };
    assert!(refused.headers.contains_key("retry-after"));
    assert!(refused.json["message"]
        .as_str()
        .unwrap()
        .contains("5 requests per second"));
    // Another token has its own budget.
    assert_eq!(
        world.get("/api/v1/alerts", Who::Supervisor).await.status,
        StatusCode::OK
    );
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_is_served_from_this_origin_only() {
    let world = World::new().await;
    let page = world.get("/", Who::Nobody).await;
    assert!(page.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(page.text.contains("/dashboard.js"));
    assert!(page.text.contains("行政审批电子监察"));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'"));
    for asset in ["/dashboard.js", "/dashboard.css"] {
        let answer = world.get(asset, Who::Nobody).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(!answer.text.contains("http://") || asset == "/dashboard.js");
        assert!(
            !answer.text.contains("https://"),
            "{asset} fetches from elsewhere"
        );
    }
    world.shutdown().await;
}
