//! Appending through `POST /api/v1/events`: JSON arrays and JSONL, refusals that name the line
//! (or element) and field, wrong content types, oversized bodies and batches, version conflicts
//! and reused ids — and in every refusal, nothing appended.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use jiancha_server::Limits;

use crate::alert_lists::alert_ids;
use crate::support::*;

/// Sends `body` as `content_type` from the center and checks it is refused with `status`, a
/// message containing `names`, and nothing appended.
async fn refused(world: &World, content_type: Option<&str>, body: &str, status: u16, names: &str) {
    let before = world.head().await;
    let answer = world
        .send(request(
            "POST",
            "/api/v1/events",
            Who::Center,
            content_type,
            body,
        ))
        .await;
    assert_eq!(answer.status.as_u16(), status, "{body}: {}", answer.text);
    let message = answer.json["message"].as_str().unwrap_or_default();
    assert!(message.contains(names), "{message:?} should name {names:?}");
    assert!(!message.ends_with('.'), "{message:?} ends with a period");
    assert_eq!(world.head().await, before, "{body} appended something");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_name_the_line_and_field() {
    let world = World::new().await;
    let good = step_json(CASE_1, None);
    let json = Some("application/json");
    let jsonl = Some("application/x-ndjson");
    refused(&world, json, "[", 400, "json").await;
    refused(&world, json, "[]", 400, "no events").await;
    refused(&world, json, "42", 400, "JSON array").await;
    refused(&world, jsonl, "", 400, "no events").await;
    // The second line is not JSON: the whole batch is refused, naming line 2.
    refused(
        &world,
        jsonl,
        &format!("{good}\n{{oops\n"),
        400,
        "line 2: json",
    )
    .await;
    // A bad rating, in the second element (0-based index 1).
    let bad = good
        .replace("StepCompleted", "Rated")
        .replace("{\"step\":\"review\"}", "{\"score\":9}");
    let answer = world
        .post_json("/api/v1/events", Who::Center, &format!("[{good},{bad}]"))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json["index"], 1);
    assert_eq!(answer.json["field"], "data.score");
    refused(
        &world,
        json,
        &format!("[{good},{bad}]"),
        400,
        "element 1: data.score",
    )
    .await;
    // Unknown type, missing field, timestamp without offset, unknown envelope field.
    refused(
        &world,
        jsonl,
        &good.replace("StepCompleted", "Stepped"),
        400,
        "type",
    )
    .await;
    refused(
        &world,
        jsonl,
        &good.replace("\"step\":\"review\"", ""),
        400,
        "data.step",
    )
    .await;
    refused(
        &world,
        jsonl,
        &good.replace("+08:00", ""),
        400,
        "occurred_at",
    )
    .await;
    refused(
        &world,
        jsonl,
        &good.replace("\"data\"", "\"colour\":1,\"data\""),
        400,
        "colour",
    )
    .await;
    // A case event before its submission, found by the store: still named by line.
    let orphan = good.replace(CASE_1, "case-never");
    refused(&world, jsonl, &format!("\n{orphan}"), 400, "line 2").await;
    // An exported (moved) event is not accepted over HTTP.
    let moved = good.replace(
        "\"data\"",
        "\"position\":99,\"recorded_at\":\"2026-03-02T09:30:00+08:00\",\"hash\":\"00\",\"data\"",
    );
    refused(&world, jsonl, &moved, 400, "").await;
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_content_types_are_refused() {
    let world = World::new().await;
    let good = step_json(CASE_1, None);
    refused(&world, None, &good, 415, "Content-Type").await;
    refused(
        &world,
        Some("application/xml"),
        &good,
        415,
        "application/x-ndjson",
    )
    .await;
    refused(
        &world,
        Some("multipart/form-data"),
        &good,
        415,
        "application/json",
    )
    .await;
    // text/plain is read as JSONL; a charset is allowed.
    let answer = world
        .send(request(
            "POST",
            "/api/v1/events",
            Who::Center,
            Some("text/plain; charset=utf-8"),
            &good,
        ))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    // A supervision act's body must be JSON too.
    let answer = world
        .send(request(
            "POST",
            "/api/v1/cases/case-t1/exemptions",
            Who::Supervisor,
            Some("text/plain"),
            "reason=x",
        ))
        .await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_requests_get_413() {
    let limits = Limits {
        body_bytes_max: 2_000,
        events_per_batch_max: 3,
        ..Limits::default()
    };
    let auth = jiancha_server::Auth::parse(&auth_file()).unwrap();
    let world = World::with(Some(auth), limits).await;
    let good = step_json(CASE_1, None);
    let jsonl = Some("application/x-ndjson");
    refused(
        &world,
        jsonl,
        &format!("{good}\n").repeat(4),
        413,
        "more than 3 events",
    )
    .await;
    let many = format!("[{}]", [good.as_str(); 4].join(","));
    refused(
        &world,
        Some("application/json"),
        &many,
        413,
        "more than 3 events",
    )
    .await;
    let padded = format!("{good}\n{}", " ".repeat(3_000));
    refused(&world, jsonl, &padded, 413, "larger than 2000 bytes").await;
    // Without a Content-Length (a streamed body), the limit holds as the body arrives.
    let before = world.head().await;
    let chunks: Vec<Result<String, std::io::Error>> =
        vec![Ok(format!("{good}\n")), Ok(" ".repeat(3_000))];
    let request = Request::builder()
        .method("POST")
        .uri("/api/v1/events")
        .header("authorization", "Bearer tok-center")
        .header("content-type", "application/x-ndjson")
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .unwrap();
    let answer = world.send(request).await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.text
    );
    assert_eq!(world.head().await, before);
    // Within the limits it goes through.
    let answer = world
        .post_jsonl(
            "/api/v1/events",
            Who::Center,
            &format!("{good}\n").repeat(3),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert_eq!(answer.json["appended"], 3);
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_and_ids_are_honoured() {
    let world = World::new().await;
    // case-t1 has 3 events; expecting version 2 conflicts.
    let stale = step_json(CASE_1, None).replace("\"data\"", "\"expected_version\":2,\"data\"");
    let before = world.head().await;
    let answer = world.post_json("/api/v1/events", Who::Center, &stale).await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.text);
    assert_eq!(answer.json["error"], "version_conflict");
    assert_eq!(answer.json["detail"]["actual"], 3);
    assert_eq!(world.head().await, before);
    // An id: the first append writes, a retry answers 200 with the same position.
    let with_id = step_json(CASE_1, None).replace("\"data\"", "\"id\":\"step-1\",\"data\"");
    let first = world
        .post_json("/api/v1/events", Who::Center, &with_id)
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = world
        .post_json("/api/v1/events", Who::Center, &with_id)
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json["positions"], first.json["positions"]);
    assert_eq!(again.json["appended"], 0);
    // The same id for another event is a conflict.
    let reused = with_id.replace("review", "decide");
    let head = world.head().await;
    let answer = world
        .post_json("/api/v1/events", Who::Center, &reused)
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.text);
    assert_eq!(answer.json["error"], "id_reused");
    assert_eq!(world.head().await, head);
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_read_back_at_once() {
    let world = World::new().await;
    let answer = world
        .post_jsonl(
            "/api/v1/events",
            Who::Unit1,
            &case_jsonl("case-new", FEE_CENTS + 1),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert_eq!(answer.json["positions"].as_array().unwrap().len(), 3);
    // The answer comes once the engine has folded the batch in: the alert is there.
    let alerts = world
        .get(
            "/api/v1/alerts?rule=fee.mismatch&org=jiangjin/town-1",
            Who::Unit1,
        )
        .await;
    let ids = alert_ids(&alerts.json["alerts"]);
    // Raised at the same instant: sorted by case.
    assert_eq!(ids, ["case-new/fee.mismatch/1", ALERT_1]);
    let case = world.get("/api/v1/cases/case-new", Who::Unit1).await;
    assert_eq!(case.json["status"], "running");
    assert_eq!(case.json["org"], TOWN_1);
    world.shutdown().await;
}

/// An event dated after the server's clock by more than five minutes is refused, naming the
/// line and field, on the plain and the historical route alike: a conclusion dated next year
/// would otherwise show an overdue case as concluded in every view with no instant. Within five
/// minutes (a terminal's clock a little ahead) it is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_dated_after_the_clock_is_refused() {
    let world = World::new().await;
    // The world's clock reads 2026-03-02T10:00:00+08:00.
    let dated = |at: &str| step_json(CASE_1, None).replace("2026-03-02T09:30:00", at);
    let ahead = dated("2027-06-01T10:30:00");
    assert_ne!(ahead, step_json(CASE_1, None), "the date was replaced");
    refused(
        &world,
        Some("application/x-ndjson"),
        &format!("{}\n{ahead}\n", step_json(CASE_1, None)),
        400,
        "line 2: occurred_at: 2027-06-01T10",
    )
    .await;
    let head = world.head().await;
    let answer = world
        .post_jsonl(
            "/api/v1/events?historical=true&reason=paper",
            Who::Supervisor,
            &ahead.replace(
                "{\"stream\"",
                "{\"actor\":\"clerk-1\",\"org\":\"jiangjin/town-1\",\"stream\"",
            ),
        )
        .await;
    answer.refused(StatusCode::BAD_REQUEST, "occurred_at");
    assert_eq!(world.head().await, head, "nothing appended");
    let answer = world
        .post_jsonl("/api/v1/events", Who::Center, &dated("2026-03-02T10:04:59"))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    world.shutdown().await;
}

/// A path parameter that is not UTF-8 once percent-decoded is a 400 in the API's error shape,
/// naming `path`, like every other refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_that_is_not_utf8_is_refused_naming_it() {
    let world = World::new().await;
    for path in ["/api/v1/cases/case-%FF", "/api/v1/cases/case-%FF/history"] {
        let answer = world.get(path, Who::Supervisor).await;
        answer.refused(StatusCode::BAD_REQUEST, "path");
    }
    let answer = world
        .post_json("/api/v1/alerts/%FF/acknowledge", Who::Supervisor, "{}")
        .await;
    answer.refused(StatusCode::BAD_REQUEST, "path");
    world.shutdown().await;
}

/// History is the district's own and its reason says something: an event of another district's
/// org, a blank reason or one with control characters is refused naming the field, nothing
/// appended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_stays_in_the_district_with_a_reason_worth_keeping() {
    let world = World::new().await;
    let line = |org: &str| {
        step_json("case-h9", None).replace(
            "{\"stream\"",
            &format!("{{\"actor\":\"clerk-1\",\"org\":\"{org}\",\"stream\""),
        )
    };
    let submitted = case_jsonl("case-h9", 0).lines().next().unwrap().replace(
        "{\"stream\"",
        "{\"actor\":\"clerk-1\",\"org\":\"yubei/town-1\",\"stream\"",
    );
    let head = world.head().await;
    for (query, body, field) in [
        (
            "reason=paper",
            format!("{submitted}\n{}", line("yubei/town-1")),
            "org",
        ),
        ("reason=%20", line("jiangjin/town-1"), "reason"),
        ("reason=a%1bb", line("jiangjin/town-1"), "reason"),
    ] {
        let answer = world
            .post_jsonl(
                &format!("/api/v1/events?historical=true&{query}"),
                Who::Supervisor,
                &body,
            )
            .await;
        answer.refused(StatusCode::BAD_REQUEST, field);
    }
    assert_eq!(world.head().await, head, "nothing appended");
    world.shutdown().await;
}
