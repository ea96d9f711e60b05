//! Every endpoint × every role: missing and unknown tokens, each role, and the org-path escapes
//! (`../`, the sibling `town-10` of `town-1`). A refused request appends nothing.

use axum::http::StatusCode;

use crate::alert_lists::alert_ids;
use crate::support::*;

/// What a row of the matrix sends.
#[derive(Debug, Clone, Copy)]
enum Call {
    Get(&'static str),
    PostJson(&'static str, &'static str),
    /// A step on `case-t1` with no org (the token's own).
    StepOnTown1,
    /// A new case submitted for `jiangjin/town-10`.
    NewCaseInTown10,
    /// A step on `case-t1` naming an org that climbs out with `..`.
    Escape,
    /// The live stream (only its status is read: it never ends by itself).
    Stream,
}

use Call::*;

// Expected statuses, by column: Nobody, Stranger, Supervisor, Center, Unit1, Unit10, Evaluator.
// Another org's case is answered as a case that does not exist (404), never 403.
const MATRIX: &[(&str, Call, [u16; 7])] = &[
    (
        "append a step",
        StepOnTown1,
        [401, 401, 403, 201, 201, 404, 403],
    ),
    (
        "append for a sibling org",
        NewCaseInTown10,
        [401, 401, 403, 201, 403, 201, 403],
    ),
    (
        "append with ../ in org",
        Escape,
        [401, 401, 403, 400, 400, 400, 403],
    ),
    (
        "case list",
        Get("/api/v1/cases"),
        [401, 401, 200, 200, 200, 200, 200],
    ),
    (
        "case list of the district",
        Get("/api/v1/cases?org=jiangjin"),
        [401, 401, 200, 200, 403, 403, 200],
    ),
    (
        "case",
        Get("/api/v1/cases/case-t1"),
        [401, 401, 200, 200, 200, 404, 403],
    ),
    (
        "case at an instant",
        Get("/api/v1/cases/case-t1?now=2026-03-02"),
        [401, 401, 200, 200, 200, 404, 403],
    ),
    (
        "history",
        Get("/api/v1/cases/case-t1/history"),
        [401, 401, 200, 200, 200, 404, 403],
    ),
    (
        "evidence pack",
        Get("/api/v1/cases/case-t1/evidence"),
        [401, 401, 200, 200, 200, 404, 403],
    ),
    (
        "evidence pack at an instant",
        Get("/api/v1/cases/case-t1/evidence?now=2026-03-02"),
        [401, 401, 200, 200, 200, 404, 403],
    ),
    (
        "alerts",
        Get("/api/v1/alerts"),
        [401, 401, 200, 200, 200, 200, 403],
    ),
    (
        "alerts of town-1",
        Get("/api/v1/alerts?org=jiangjin/town-1"),
        [401, 401, 200, 200, 200, 403, 403],
    ),
    (
        "alerts of the district",
        Get("/api/v1/alerts?org=jiangjin"),
        [401, 401, 200, 200, 403, 403, 403],
    ),
    (
        "alerts with ../",
        Get("/api/v1/alerts?org=jiangjin/town-1/../town-10"),
        [401, 401, 400, 400, 400, 400, 403],
    ),
    ("live stream", Stream, [401, 401, 200, 200, 200, 200, 403]),
    (
        "acknowledge",
        PostJson("/api/v1/alerts/case-t1%2Ffee.mismatch%2F1/acknowledge", ""),
        [401, 401, 201, 403, 201, 404, 403],
    ),
    (
        "order a correction",
        PostJson(
            "/api/v1/alerts/case-t1%2Ffee.mismatch%2F1/correction-orders",
            r#"{"days":3}"#,
        ),
        [401, 401, 201, 403, 403, 403, 403],
    ),
    (
        "exempt",
        PostJson(
            "/api/v1/cases/case-t1/exemptions",
            r#"{"reason":"force majeure"}"#,
        ),
        [401, 401, 201, 403, 403, 403, 403],
    ),
    (
        "report by org",
        Get("/api/v1/reports?period=2026-03"),
        [401, 401, 200, 200, 200, 200, 200],
    ),
    (
        "report by item",
        Get("/api/v1/reports?period=2026-03&by=item"),
        [401, 401, 200, 200, 403, 403, 200],
    ),
    (
        "report as a workbook",
        Get("/api/v1/reports?period=2026-03&format=xlsx"),
        [401, 401, 200, 200, 200, 200, 200],
    ),
    (
        "insight",
        Get("/api/v1/insights?period=2026-03"),
        [401, 401, 200, 403, 403, 403, 200],
    ),
    (
        "insight as a workbook",
        Get("/api/v1/insights?period=2026-03&format=xlsx"),
        [401, 401, 200, 403, 403, 403, 200],
    ),
    (
        "verify",
        Get("/api/v1/verify"),
        [401, 401, 200, 200, 403, 403, 403],
    ),
    ("me", Get("/api/v1/me"), [401, 401, 200, 200, 200, 200, 200]),
    (
        "overview",
        Get("/api/v1/overview"),
        [401, 401, 200, 200, 200, 200, 200],
    ),
    (
        "overview of the district",
        Get("/api/v1/overview?org=jiangjin"),
        [401, 401, 200, 200, 403, 403, 200],
    ),
    (
        "ledger of a case",
        Get("/api/v1/cases/case-t1/ledger"),
        [401, 401, 200, 200, 200, 404, 403],
    ),
    (
        "province roll-up",
        Get("/api/v1/province/reports?period=2026-03&districts=jiangjin"),
        [401, 401, 403, 403, 403, 403, 403],
    ),
    ("healthz", Get("/healthz"), [200; 7]),
    ("metrics", Get("/metrics"), [200; 7]),
    ("openapi", Get("/api/v1/openapi.json"), [200; 7]),
    ("dashboard", Get("/"), [200; 7]),
];

async fn call(world: &World, call: Call, who: Who) -> Answer {
    match call {
        Get(path) => world.get(path, who).await,
        PostJson(path, body) => world.post_json(path, who, body).await,
        StepOnTown1 => {
            world
                .post_json("/api/v1/events", who, &step_json(CASE_1, None))
                .await
        }
        NewCaseInTown10 => {
            let body = case_jsonl("case-new", FEE_CENTS).replace(
                "\"data\":{\"item\"",
                "\"org\":\"jiangjin/town-10\",\"data\":{\"item\"",
            );
            let body = body.lines().next().unwrap().to_owned();
            world.post_jsonl("/api/v1/events", who, &body).await
        }
        Escape => {
            let body = step_json(CASE_1, Some("jiangjin/town-1/../town-10"));
            world.post_json("/api/v1/events", who, &body).await
        }
        Stream => world.status_of("/api/v1/alerts/stream", who).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_for_every_role() {
    let mut failures = Vec::new();
    for (name, c, expected) in MATRIX {
        for (who, want) in EVERYONE.iter().zip(expected) {
            let world = World::new().await;
            let before = world.head().await;
            let answer = call(&world, *c, *who).await;
            if answer.status.as_u16() != *want {
                failures.push(format!(
                    "{name} as {who:?}: {} (wanted {want}): {}",
                    answer.status, answer.text
                ));
            }
            if answer.status.is_client_error() {
                assert_eq!(world.head().await, before, "{name} as {who:?} appended");
                let message = answer.json["message"].as_str().unwrap_or_default();
                assert!(!message.is_empty(), "{name} as {who:?}: no message");
            }
            world.shutdown().await;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_sees_only_its_own_org() {
    let world = World::new().await;
    let all = world.get("/api/v1/alerts", Who::Supervisor).await;
    let ids = alert_ids(&all.json["alerts"]);
    assert_eq!(ids, [ALERT_1, ALERT_10]);
    let own = world.get("/api/v1/alerts", Who::Unit1).await;
    assert_eq!(own.json["total"], 1);
    assert_eq!(own.json["alerts"][0]["id"], ALERT_1);
    let report = world
        .get("/api/v1/reports?period=2026-03", Who::Unit1)
        .await;
    let orgs: Vec<&str> = report.json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["org"].as_str().unwrap())
        .collect();
    assert!(!orgs.is_empty());
    assert!(
        orgs.iter()
            .all(|o| *o == TOWN_1 || o.starts_with("jiangjin/town-1/")),
        "{orgs:?}"
    );
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_writes_as_itself() {
    let world = World::new().await;
    let answer = world
        .post_json("/api/v1/events", Who::Unit1, &step_json(CASE_1, None))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let position = answer.json["positions"][0].as_u64().unwrap();
    let history = world
        .get("/api/v1/cases/case-t1/history", Who::Supervisor)
        .await;
    let step = history.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["position"] == position)
        .unwrap()
        .clone();
    assert_eq!(step["actor"], "town-1-window");
    assert_eq!(step["org"], TOWN_1);

    // Another actor is refused; so is an org outside the token's path; nothing is appended.
    let before = world.head().await;
    let as_other = step_json(CASE_1, None).replace("\"data\"", "\"actor\":\"clerk-9\",\"data\"");
    let answer = world
        .post_json("/api/v1/events", Who::Unit1, &as_other)
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json["field"], "actor");
    let sibling = step_json(CASE_1, Some("jiangjin/town-10"));
    let answer = world
        .post_json("/api/v1/events", Who::Unit1, &sibling)
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.json["message"].as_str().unwrap().contains("town-10"));
    // A batch with one bad event writes none of it.
    let batch = format!("[{},{}]", step_json(CASE_1, None), sibling);
    let answer = world.post_json("/api/v1/events", Who::Unit1, &batch).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json["index"], 1);
    assert_eq!(world.head().await, before);
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_auth_file_every_request_is_trusted() {
    let world = World::with(None, jiancha_server::Limits::default()).await;
    let answer = world.get("/api/v1/alerts", Who::Nobody).await;
    assert_eq!(answer.status, StatusCode::OK);
    // The body's own actor and org are kept, as `jiancha import` keeps them.
    let step =
        step_json(CASE_1, Some(TOWN_1)).replace("\"data\"", "\"actor\":\"clerk-9\",\"data\"");
    let answer = world.post_json("/api/v1/events", Who::Nobody, &step).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let health = world.get("/healthz", Who::Nobody).await;
    assert_eq!(health.json["auth"], false);
    assert!(jiancha_server::check_exposure("0.0.0.0:8080".parse().unwrap(), None).is_err());
    assert!(jiancha_server::check_exposure("127.0.0.1:8080".parse().unwrap(), None).is_ok());
    world.shutdown().await;
}

/// Every route that names a case, as a unit of `town-10` asks it about `case-t1` (town-1's)
/// and about a case that does not exist: the same status and the same bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_orgs_case_looks_like_no_case_at_all() {
    let world = World::new().await;
    let routes: [(&str, &str, &str); 8] = [
        ("GET", "/api/v1/cases/{case}", ""),
        ("GET", "/api/v1/cases/{case}?now=2026-03-02", ""),
        ("GET", "/api/v1/cases/{case}/history", ""),
        ("GET", "/api/v1/cases/{case}/history?as_of=2026-03-03", ""),
        ("GET", "/api/v1/cases/{case}/evidence", ""),
        ("GET", "/api/v1/cases/{case}/evidence?now=2026-03-02", ""),
        (
            "POST",
            "/api/v1/cases/{case}/exemptions",
            r#"{"reason":"r"}"#,
        ),
        (
            "POST",
            "/api/v1/alerts/{case}%2Ffee.mismatch%2F1/acknowledge",
            "",
        ),
    ];
    for (method, path, body) in routes {
        let ask = |case: &str| {
            let path = path.replace("{case}", case);
            let content_type = (!body.is_empty()).then_some("application/json");
            request(method, &path, Who::Unit10, content_type, body)
        };
        let theirs = world.send(ask(CASE_1)).await;
        let none = world.send(ask("case-never-submitted")).await;
        assert!(theirs.status.is_client_error(), "{path}: {}", theirs.status);
        assert_eq!(
            (theirs.status, &theirs.text),
            (none.status, &none.text),
            "{method} {path}"
        );
        assert!(!theirs.text.contains(TOWN_1), "{path}: {}", theirs.text);
    }
    // The case's own org and the bureau still read it.
    let own = world.get("/api/v1/cases/case-t1", Who::Unit1).await;
    assert_eq!(own.status, StatusCode::OK);
    world.shutdown().await;
}

/// A unit reusing an id that another org's event holds learns nothing of that event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_id_names_nothing_of_another_org() {
    let world = World::new().await;
    let theirs = step_json(CASE_10, None).replace("\"data\"", "\"id\":\"shared-id\",\"data\"");
    let answer = world
        .post_json("/api/v1/events", Who::Unit10, &theirs)
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let mine = step_json(CASE_1, None).replace("\"data\"", "\"id\":\"shared-id\",\"data\"");
    let answer = world.post_json("/api/v1/events", Who::Unit1, &mine).await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.text);
    assert_eq!(answer.json["error"], "id_reused");
    assert!(answer.json.get("detail").is_none(), "{}", answer.text);
    for secret in [CASE_10, "position", "StepCompleted"] {
        assert!(!answer.text.contains(secret), "{secret}: {}", answer.text);
    }
    // The bureau's center sees the whole log and keeps the details.
    let answer = world.post_json("/api/v1/events", Who::Center, &mine).await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.text);
    assert!(
        answer.json["detail"]["position"].is_u64(),
        "{}",
        answer.text
    );
    world.shutdown().await;
}
