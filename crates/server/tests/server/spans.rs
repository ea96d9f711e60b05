//! The request span: each request's log lines name its method, its route template (never the
//! path with its ids), the caller's role and token name, and its status and latency; an error
//! logged while serving (a 500) names its route and caller. Captured with a formatting
//! subscriber installed once for the test binary, writing into a buffer of the thread that logs:
//! these tests run on a current-thread runtime, so they read only their own lines.

use axum::http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::log_capture;
use crate::loopback::serve_on_loopback;
use crate::support::*;

/// Captures this binary's log lines (see `log_capture`).
fn capture() {
    log_capture::capture("jiancha_server=info");
}

use crate::log_capture::captured;

/// The one `answered` line with every one of `parts`.
fn answered(lines: &[String], parts: &[&str]) -> String {
    let found: Vec<&String> = lines
        .iter()
        .filter(|l| l.ends_with("answered") && parts.iter().all(|p| l.contains(p)))
        .collect();
    assert_eq!(found.len(), 1, "one line with {parts:?} in {lines:#?}");
    found[0].clone()
}

#[tokio::test]
async fn each_request_is_logged_with_its_route_template_caller_and_status() {
    capture();
    let world = World::new().await;
    let path = format!("/api/v1/cases/{CASE_1}");
    assert_eq!(world.get(&path, Who::Unit1).await.status, StatusCode::OK);
    assert_eq!(
        world
            .get(&format!("/api/v1/cases/{CASE_10}"), Who::Unit1)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        world.get(&path, Who::Nobody).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        world
            .get("/api/v1/nothing-here", Who::Supervisor)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let lines = captured();
    let template = "route=/api/v1/cases/{id}";
    let ok = answered(&lines, &[template, "status=200"]);
    assert!(ok.contains("request{method=GET "), "{ok}");
    assert!(ok.contains("role=unit caller=town-1-window"), "{ok}");
    assert!(ok.contains("latency_ms="), "{ok}");
    let refused = answered(&lines, &[template, "status=404"]);
    assert!(refused.contains("role=unit"), "{refused}");
    let anonymous = answered(&lines, &[template, "status=401"]);
    assert!(
        !anonymous.contains("role="),
        "no token, no role: {anonymous}"
    );
    let unrouted = answered(&lines, &["route=-", "status=404"]);
    assert!(!unrouted.contains("nothing-here"), "{unrouted}");
    assert!(
        lines
            .iter()
            .all(|l| !l.contains(CASE_1) && !l.contains(CASE_10)),
        "no raw path with its ids: {lines:#?}"
    );
    world.shutdown().await;
}

#[tokio::test]
async fn a_500_logs_its_cause_under_the_route_and_the_caller() {
    capture();
    let world = World::new().await;
    // A closed log refuses appends as the machinery failing: a 500.
    world.store.close().await;
    let answer = world
        .post_jsonl(
            "/api/v1/events",
            Who::Center,
            &case_jsonl("case-new", FEE_CENTS),
        )
        .await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    let lines = captured();
    let failed: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("request failed"))
        .collect();
    assert_eq!(failed.len(), 1, "{lines:#?}");
    let route = "request{method=POST route=/api/v1/events role=center caller=center-wang}";
    assert!(
        failed[0].contains("ERROR") && failed[0].contains(route),
        "{}",
        failed[0]
    );
    answered(&lines, &["route=/api/v1/events", "status=500"]);
}

#[tokio::test]
async fn the_server_on_a_socket_opens_a_span_per_request() {
    capture();
    let World { app, .. } = World::with(None, jiancha_server::Limits::default()).await;
    let (addr, stop, server) = serve_on_loopback(app).await;
    // Two requests on one connection: two spans, each with its own route.
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let requests = format!(
        "GET /api/v1/cases/{CASE_1} HTTP/1.1\r\nhost: t\r\n\r\n\
         GET /healthz HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n"
    );
    socket.write_all(requests.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(WAIT_MAX, socket.read_to_string(&mut answer))
        .await
        .expect("the server answers and closes")
        .unwrap();
    assert_eq!(answer.matches("HTTP/1.1 200 OK").count(), 2, "{answer}");
    let _ = stop.send(());
    tokio::time::timeout(WAIT_MAX, server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
    let lines = captured();
    answered(
        &lines,
        &[
            "request{method=GET route=/api/v1/cases/{id} role=local",
            "status=200",
        ],
    );
    answered(&lines, &["route=/healthz", "status=200"]);
}
