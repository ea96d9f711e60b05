//! The bureau's rules-v2 endpoints: a historical batch on `POST /events` (supervisor only, the
//! declaration at the head covering exactly the batch), `POST /reports/close` (roles, an open
//! month, twice), the report as closed after later appends, and `GET /alerts?severity=`.

use axum::http::StatusCode;
use jiancha_events::EventData;

use crate::support::*;

fn history_line(case: &str, ty: &str, data: &str) -> String {
    format!(
        "{{\"id\":\"h-{case}-{ty}\",\"stream\":\"{case}\",\"type\":\"{ty}\",\"occurred_at\":\"2025-11-03T09:00:00+08:00\",\"actor\":\"clerk-old\",\"org\":\"{TOWN_1}\",\"data\":{data}}}\n"
    )
}

fn history_batch(case: &str) -> String {
    history_line(
        case,
        "Submitted",
        &format!("{{\"item\":\"{ITEM}\",\"channel\":\"window\",\"materials\":[\"id-card\"]}}"),
    ) + &history_line(case, "Accepted", "{}")
}

const HISTORICAL: &str = "/api/v1/events?historical=true&reason=paper%20records";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_historical_batch_is_the_supervisors_and_declares_exactly_its_positions() {
    let world = World::new().await;
    let head = world.head().await;
    for who in EVERYONE.into_iter().filter(|w| *w != Who::Supervisor) {
        let answer = world
            .post_jsonl(HISTORICAL, who, &history_batch("case-h1"))
            .await;
        let expected = if matches!(who, Who::Nobody | Who::Stranger) {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(answer.status, expected, "{who:?}: {}", answer.text);
        assert_eq!(world.head().await, head, "{who:?} appended nothing");
    }
    let answer = world
        .post_jsonl(HISTORICAL, Who::Supervisor, &history_batch("case-h1"))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert_eq!(answer.json["declaration"], head + 1);
    assert_eq!(answer.json["appended"], 2);
    assert_eq!(
        answer.json["positions"],
        serde_json::json!([head + 2, head + 3])
    );
    // The engine may card the history right after it: the batch's own positions only.
    let events = world.store.read_after(head, 3).await.unwrap();
    assert_eq!(events.len(), 3);
    match &events[0].data {
        EventData::HistoryImported(h) => {
            assert_eq!((h.from_position, h.to_position), (head + 1, head + 3));
            assert_eq!(h.reason, "paper records");
        }
        other => panic!("expected the declaration first, got {other:?}"),
    }
    assert_eq!(
        (events[0].actor.as_str(), events[0].org.as_str()),
        ("bureau-li", "jiangjin/bureau")
    );
    assert_eq!(events[1].actor, "clerk-old", "history keeps its own actor");
    // An id already in the log is refused, naming its line; nothing is written. (The engine
    // cards the history it was sent first: let it settle before taking the head.)
    world.settle().await;
    let head = world.head().await;
    let again = history_batch("case-h2") + history_batch("case-h1").lines().next().unwrap();
    let answer = world.post_jsonl(HISTORICAL, Who::Supervisor, &again).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    assert_eq!(answer.json["line"], 3);
    assert_eq!(answer.json["field"], "id");
    assert_eq!(world.head().await, head);
    // Supervision acts are not history; a reason needs historical.
    let act = "{\"stream\":\"supervision\",\"type\":\"Exempted\",\"occurred_at\":\"2025-11-03T09:00:00+08:00\",\"actor\":\"x\",\"org\":\"jiangjin\",\"data\":{\"case\":\"case-t1\",\"reason\":\"r\"}}";
    let answer = world.post_jsonl(HISTORICAL, Who::Supervisor, act).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text);
    let answer = world
        .post_json(
            "/api/v1/events?reason=x",
            Who::Center,
            &step_json(CASE_1, None),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    assert_eq!(world.head().await, head);
    world.shutdown().await;
}

const CLOSE: &str = "/api/v1/reports/close?period=2026-03";
const MARCH: &str = "/api/v1/reports?period=2026-03";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bureau_closes_a_month_once_and_it_reproduces_after_later_appends() {
    let world = World::new().await;
    // March has not ended on 2 March.
    let answer = world.post_json(CLOSE, Who::Supervisor, "").await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.text);
    assert_eq!(answer.json["error"], "period_conflict");
    world.clock.set(at("2026-04-02T10:00:00+08:00"));
    world.settle().await;
    let head = world.head().await;
    for who in EVERYONE.into_iter().filter(|w| *w != Who::Supervisor) {
        let answer = world.post_json(CLOSE, who, "").await;
        assert!(
            [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&answer.status),
            "{who:?}: {}",
            answer.text
        );
    }
    // Two periods, one in the query and one in the body, name none.
    let both = world
        .post_json(
            "/api/v1/reports/close?period=2026-02",
            Who::Supervisor,
            "{\"period\":\"2026-03\"}",
        )
        .await;
    both.refused(StatusCode::BAD_REQUEST, "period");
    assert_eq!(world.head().await, head, "nothing appended by the refusals");
    let before = world.get(MARCH, Who::Supervisor).await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(before.json.get("closed").is_none());
    let closed = world
        .post_json(
            "/api/v1/reports/close",
            Who::Supervisor,
            "{\"period\":\"2026-03\"}",
        )
        .await;
    assert_eq!(closed.status, StatusCode::CREATED, "{}", closed.text);
    assert_eq!(closed.json["position"], head);
    assert_eq!(closed.json["event_position"], head + 1);
    assert_eq!(closed.json["closed_at"], "2026-04-02T10:00:00+08:00");
    let again = world.post_json(CLOSE, Who::Supervisor, "").await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(again.json["detail"]["digest"], closed.json["digest"]);
    // Later appends change the current figures, not the closed ones.
    let late = world
        .post_jsonl(
            "/api/v1/events",
            Who::Unit1,
            &case_jsonl("case-late", FEE_CENTS + 1),
        )
        .await;
    assert_eq!(late.status, StatusCode::CREATED, "{}", late.text);
    world.settle().await;
    let now = world.get(MARCH, Who::Supervisor).await;
    assert_ne!(now.json["rows"], before.json["rows"]);
    assert_eq!(now.json["closed"]["digest"], closed.json["digest"]);
    assert_eq!(now.json["closed"]["position"], head);
    let as_closed = world
        .get(&format!("{MARCH}&as_closed=true"), Who::Evaluator)
        .await;
    assert_eq!(as_closed.status, StatusCode::OK, "{}", as_closed.text);
    assert_eq!(as_closed.text, before.text, "byte for byte");
    let never = world
        .get(
            "/api/v1/reports?period=2026-02&as_closed=true",
            Who::Supervisor,
        )
        .await;
    assert_eq!(never.status, StatusCode::NOT_FOUND, "{}", never.text);
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_are_filtered_by_severity() {
    let world = World::new().await;
    let all = world.get("/api/v1/alerts", Who::Supervisor).await;
    let total = all.json["total"].as_u64().unwrap();
    assert!(total > 0);
    let mut sum = 0;
    for severity in ["warning", "yellow", "red"] {
        let some = world
            .get(
                &format!("/api/v1/alerts?severity={severity}"),
                Who::Supervisor,
            )
            .await;
        assert_eq!(some.status, StatusCode::OK, "{}", some.text);
        for a in some.json["alerts"].as_array().unwrap() {
            assert_eq!(a["severity"], severity);
        }
        sum += some.json["total"].as_u64().unwrap();
    }
    assert_eq!(sum, total);
    let both = world
        .get(
            "/api/v1/alerts?severity=yellow,red,warning",
            Who::Supervisor,
        )
        .await;
    assert_eq!(both.json["total"], total);
    let bad = world
        .get("/api/v1/alerts?severity=orange", Who::Supervisor)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json["field"], "severity");
    world.shutdown().await;
}
