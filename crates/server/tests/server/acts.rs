//! The workflow acts (预警纠错) × every role: who may acknowledge, order, report back, verify,
//! and handle ratings and complaints; a unit held to its org (another org's card or case is
//! answered as one that does not exist); evaluators read the board and are refused every act.
//! Each row first brings case-t1 to a state its act fits, so a refusal is the role's.

use axum::http::StatusCode;

use crate::support::*;

/// What a row needs in the log before its act.
#[derive(Debug, Clone, Copy)]
enum Before {
    Nothing,
    Ordered,
    Reported,
    RatedBad,
    RatingValid,
    Rectified,
    Complained,
    ComplaintAccepted,
}

const ORDER: &str = r#"{"stream":"supervision","type":"CorrectionOrdered","occurred_at":"2026-03-02T09:40:00+08:00","actor":"bureau-li","org":"jiangjin/bureau","data":{"case":"case-t1","alert":"case-t1/fee.mismatch/1","days":3}}"#;
const REPORT: &str = r#"{"stream":"supervision","type":"CorrectionCompleted","occurred_at":"2026-03-02T09:45:00+08:00","actor":"town-1-window","org":"jiangjin/town-1","data":{"case":"case-t1","alert":"case-t1/fee.mismatch/1","report":"refunded"}}"#;
const DECIDED: &str = r#"{"stream":"case-t1","type":"Decided","occurred_at":"2026-03-02T09:30:00+08:00","actor":"clerk-1","org":"jiangjin/town-1","data":{"outcome":"approved"}}"#;
const CONCLUDED: &str = r#"{"stream":"case-t1","type":"Concluded","occurred_at":"2026-03-02T09:31:00+08:00","actor":"clerk-1","org":"jiangjin/town-1","data":{}}"#;
const RATED: &str = r#"{"stream":"case-t1","type":"Rated","occurred_at":"2026-03-02T09:32:00+08:00","actor":"citizen","org":"jiangjin/town-1","data":{"score":1}}"#;
const VALID: &str = r#"{"stream":"supervision","type":"RatingVerified","occurred_at":"2026-03-02T09:33:00+08:00","actor":"center-wang","org":"jiangjin","data":{"case":"case-t1","verdict":"valid"}}"#;
const RECTIFIED: &str = r#"{"stream":"supervision","type":"RatingRectified","occurred_at":"2026-03-02T09:34:00+08:00","actor":"town-1-window","org":"jiangjin/town-1","data":{"case":"case-t1","report":"apologised"}}"#;
const COMPLAINED: &str = r#"{"stream":"case-t1","type":"Complained","occurred_at":"2026-03-02T09:35:00+08:00","actor":"citizen","org":"jiangjin/town-1","data":{"category":"服务态度"}}"#;
const ACCEPTED: &str = r#"{"stream":"supervision","type":"ComplaintAccepted","occurred_at":"2026-03-02T09:36:00+08:00","actor":"center-wang","org":"jiangjin","data":{"complaint":"case-t1/complaint/1"}}"#;

impl Before {
    fn lines(self) -> Vec<&'static str> {
        let rated = vec![DECIDED, CONCLUDED, RATED];
        match self {
            Before::Nothing => vec![],
            Before::Ordered => vec![ORDER],
            Before::Reported => vec![ORDER, REPORT],
            Before::RatedBad => rated,
            Before::RatingValid => [rated, vec![VALID]].concat(),
            Before::Rectified => [rated, vec![VALID, RECTIFIED]].concat(),
            Before::Complained => vec![COMPLAINED],
            Before::ComplaintAccepted => vec![COMPLAINED, ACCEPTED],
        }
    }
}

async fn prepare(world: &World, before: Before) {
    let events: Vec<_> = before
        .lines()
        .into_iter()
        .map(|line| jiancha_events::parse_line(1, line).unwrap())
        .collect();
    if !events.is_empty() {
        world.store.append(events).await.unwrap();
    }
    world.settle().await;
}

const ALERT: &str = "/api/v1/alerts/case-t1%2Ffee.mismatch%2F1";

// Expected statuses, by column: Nobody, Stranger, Supervisor, Center, Unit1, Unit10, Evaluator.
const MATRIX: &[(&str, Before, &str, &str, [u16; 7])] = &[
    (
        "acknowledge",
        Before::Nothing,
        "/acknowledge",
        "",
        [401, 401, 201, 403, 201, 404, 403],
    ),
    (
        "order",
        Before::Nothing,
        "/correction-orders",
        r#"{"days":3}"#,
        [401, 401, 201, 403, 403, 403, 403],
    ),
    (
        "report back",
        Before::Ordered,
        "/report-backs",
        r#"{"report":"refunded"}"#,
        [401, 401, 403, 201, 201, 404, 403],
    ),
    (
        "verify",
        Before::Reported,
        "/verifications",
        r#"{"accepted":true}"#,
        [401, 401, 201, 403, 403, 403, 403],
    ),
    (
        "verify a rating",
        Before::RatedBad,
        "rating/verification",
        r#"{"verdict":"valid"}"#,
        [401, 401, 201, 201, 403, 403, 403],
    ),
    (
        "rectify a rating",
        Before::RatingValid,
        "rating/rectification",
        r#"{"report":"apologised"}"#,
        [401, 401, 403, 201, 201, 404, 403],
    ),
    (
        "call back",
        Before::Rectified,
        "rating/callback",
        r#"{"score":4}"#,
        [401, 401, 201, 201, 403, 403, 403],
    ),
    (
        "accept a complaint",
        Before::Complained,
        "complaints/1/acceptance",
        "{}",
        [401, 401, 201, 201, 403, 403, 403],
    ),
    (
        "reject a complaint",
        Before::Complained,
        "complaints/1/rejection",
        r#"{"reason":"repeated"}"#,
        [401, 401, 201, 201, 403, 403, 403],
    ),
    (
        "answer a complaint",
        Before::ComplaintAccepted,
        "complaints/1/answer",
        r#"{"finding":"not_upheld","reply":"handled by the rules"}"#,
        [401, 401, 201, 201, 403, 403, 403],
    ),
];

fn path_of(tail: &str) -> String {
    if tail.starts_with('/') {
        format!("{ALERT}{tail}")
    } else {
        format!("/api/v1/cases/case-t1/{tail}")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_act_for_every_role() {
    let mut failures = Vec::new();
    for (name, before, tail, body, expected) in MATRIX {
        for (who, want) in EVERYONE.iter().zip(expected) {
            let world = World::new().await;
            prepare(&world, *before).await;
            let head = world.head().await;
            let answer = world.post_json(&path_of(tail), *who, body).await;
            if answer.status.as_u16() != *want {
                failures.push(format!(
                    "{name} as {who:?}: {} (wanted {want}): {}",
                    answer.status, answer.text
                ));
            }
            if answer.status.is_client_error() {
                assert_eq!(world.head().await, head, "{name} as {who:?} appended");
                let message = answer.json["message"].as_str().unwrap_or_default();
                assert!(!message.is_empty(), "{name} as {who:?}: no message");
            }
            if answer.status == StatusCode::FORBIDDEN {
                let message = answer.json["message"].as_str().unwrap_or_default();
                assert!(message.contains("may not"), "{name} as {who:?}: {message}");
            }
            world.shutdown().await;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A unit's report-back is recorded as its own act, under its name and org.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_back_is_the_units_own() {
    let world = World::new().await;
    prepare(&world, Before::Ordered).await;
    let path = path_of("/report-backs");
    let answer = world
        .post_json(&path, Who::Unit1, r#"{"report":"refunded"}"#)
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let position = answer.json["positions"][0].as_u64().unwrap();
    let event = world.store.read_at(position).await.unwrap().unwrap();
    assert_eq!(
        (event.actor.as_str(), event.org.as_str()),
        ("town-1-window", TOWN_1)
    );
    assert_eq!(event.data.type_name(), "CorrectionCompleted");
    // A strict body: an unknown field is refused, naming it.
    let answer = world
        .post_json(&path, Who::Unit1, r#"{"reprot":"x"}"#)
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    assert!(answer.text.contains("reprot"), "{}", answer.text);
    world.shutdown().await;
}

/// Another org's card and a card that does not exist get the same bytes; the acts cannot be
/// reached around through `POST /events`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_orgs_card_looks_like_no_card_at_all() {
    let world = World::new().await;
    prepare(&world, Before::Ordered).await;
    for tail in ["/report-backs", "/acknowledge"] {
        let theirs = world
            .post_json(&format!("{ALERT}{tail}"), Who::Unit10, "{}")
            .await;
        let none = world
            .post_json(
                &format!("/api/v1/alerts/case-none%2Ffee.mismatch%2F1{tail}"),
                Who::Unit10,
                "{}",
            )
            .await;
        assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.text);
        assert_eq!(
            (theirs.status, &theirs.text),
            (none.status, &none.text),
            "{tail}"
        );
    }
    let head = world.head().await;
    let answer = world.post_json("/api/v1/events", Who::Unit1, REPORT).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text);
    assert_eq!(answer.json["field"], "stream");
    assert!(answer.text.contains("report-backs"), "{}", answer.text);
    assert_eq!(world.head().await, head);
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_orders_board_is_read_by_the_acting_roles_a_unit_its_own() {
    let world = World::new().await;
    prepare(&world, Before::Ordered).await;
    for who in EVERYONE {
        let answer = world.get("/api/v1/orders", who).await;
        let want = match who {
            Who::Nobody | Who::Stranger => 401,
            // Figures only: no card, no order (as no alert).
            Who::Evaluator => 403,
            _ => 200,
        };
        assert_eq!(answer.status.as_u16(), want, "{who:?}: {}", answer.text);
        if want == 200 {
            let orders = answer.json["orders"].as_array().unwrap();
            assert_eq!(answer.json["total"], orders.len());
            if who == Who::Unit10 {
                assert!(orders.iter().all(|o| o["org"] != TOWN_1), "{orders:?}");
            }
        }
    }
    let outside = world.get("/api/v1/orders?org=jiangjin", Who::Unit1).await;
    assert_eq!(outside.status, StatusCode::FORBIDDEN);
    assert_eq!(outside.json["field"], "org");
    let bad = world.get("/api/v1/orders?sort=due", Who::Supervisor).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    world.shutdown().await;
}

/// An ordered card is not ordered a second time (409, nothing appended: a rejected report-back
/// orders it again); an order's days are bounded as an item's limits are, and an act's own id
/// is one the log's reading takes (400 naming the field): otherwise the log could no longer be
/// exported and imported again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_order_and_an_unreadable_id_are_refused() {
    let world = World::new().await;
    let order = path_of("/correction-orders");
    let head = world.head().await;
    let long = format!(r#"{{"days":3,"id":"{}"}}"#, "k".repeat(401));
    for (body, field) in [
        (r#"{"days":3,"id":""}"#, "id"),
        (r#"{"days":3,"id":"  "}"#, "id"),
        (r#"{"days":3,"id":"a\u0000b"}"#, "id"),
        (long.as_str(), "id"),
        (r#"{"days":251}"#, "days"),
    ] {
        let answer = world.post_json(&order, Who::Supervisor, body).await;
        answer.refused(StatusCode::BAD_REQUEST, field);
    }
    let answer = world
        .post_json(
            "/api/v1/cases/case-t1/exemptions",
            Who::Supervisor,
            r#"{"reason":"x","id":" "}"#,
        )
        .await;
    answer.refused(StatusCode::BAD_REQUEST, "id");
    assert_eq!(world.head().await, head, "nothing appended");

    let answer = world
        .post_json(&order, Who::Supervisor, r#"{"days":250,"id":"order-1"}"#)
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    world.settle().await;
    // The order names its card by id and by its threshold instant too (`card_at`): under
    // rules that number the case's cards otherwise, it still names that card.
    let alerts = world.get("/api/v1/alerts", Who::Supervisor).await;
    let raised_at = alerts.json["alerts"]
        .as_array()
        .and_then(|all| all.iter().find(|a| a["id"] == ALERT_1))
        .and_then(|a| a["raised_at"].as_str())
        .map(str::to_owned);
    let recorded = world.store.read_by_id("order-1").await.unwrap().unwrap();
    let jiancha_events::EventData::CorrectionOrdered(o) = recorded.data else {
        panic!("{recorded:?}");
    };
    assert!(raised_at.is_some(), "{}", alerts.text);
    assert_eq!(
        o.card_at.map(|t| jiancha_events::format_timestamp(&t)),
        raised_at
    );
    let head = world.head().await;
    let again = world
        .post_json(&order, Who::Supervisor, r#"{"days":3}"#)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert!(again.text.contains("act_conflict"), "{}", again.text);
    assert!(again.text.contains("order"), "{}", again.text);
    assert_eq!(world.head().await, head, "nothing appended");
    world.shutdown().await;
}

/// A rating or a complaint is the citizen's: the center's token brings it, never the unit it
/// judges (403 naming the type, nothing appended). A center token defines thresholds only
/// within its own org path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_never_rates_or_complains_about_itself() {
    let world = World::new().await;
    prepare(&world, Before::Nothing).await;
    let head = world.head().await;
    for line in [RATED, COMPLAINED] {
        let line = line.replace(r#""actor":"citizen","#, "");
        let answer = world.post_jsonl("/api/v1/events", Who::Unit1, &line).await;
        answer.refused(StatusCode::FORBIDDEN, "type");
        assert!(answer.text.contains("citizen"), "{}", answer.text);
    }
    assert_eq!(world.head().await, head, "nothing appended");
    let line = COMPLAINED.replace(r#""actor":"citizen","#, "");
    let answer = world.post_jsonl("/api/v1/events", Who::Center, &line).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let threshold = |jurisdiction: &str| {
        format!(
            r#"{{"stream":"catalog","type":"ThresholdDefined","occurred_at":"2026-03-02T09:00:00+08:00","data":{{"jurisdiction":"{jurisdiction}","category":"goods","open_tender_cents":1000}}}}"#
        )
    };
    let outside = world
        .post_jsonl(
            "/api/v1/events",
            Who::Center,
            &threshold("elsewhere/town-1"),
        )
        .await;
    outside.refused(StatusCode::FORBIDDEN, "data.jurisdiction");
    let within = world
        .post_jsonl("/api/v1/events", Who::Center, &threshold(TOWN_1))
        .await;
    assert_eq!(within.status, StatusCode::CREATED, "{}", within.text);
    world.shutdown().await;
}

/// The district's center defines the workflow's limits (`WorkflowLimitsDefined`): a unit token
/// cannot (403 naming `stream`), nor a supervisor as history (403 naming `type`), a value out of
/// range is 400 naming its field, and once defined the limits are the ones a case's evidence
/// pack judges by, with the definition among its events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_center_defines_the_workflow_limits() {
    let world = World::new().await;
    prepare(&world, Before::Nothing).await;
    let limits = |data: &str| {
        format!(
            r#"{{"stream":"catalog","type":"WorkflowLimitsDefined","occurred_at":"2026-03-02T09:00:00+08:00","data":{data}}}"#
        )
    };
    let head = world.head().await;
    let history = limits(r#"{"rectify_days":15}"#).replace(
        r#""data":"#,
        r#""actor":"center-wang","org":"jiangjin","data":"#,
    );
    // A unit may not; a day count out of range names its field; nor as history: the limits
    // are in force from when they are recorded.
    for (path, who, body, status, field) in [
        (
            "/api/v1/events",
            Who::Unit1,
            limits(r#"{"rectify_days":7}"#),
            StatusCode::FORBIDDEN,
            "stream",
        ),
        (
            "/api/v1/events",
            Who::Center,
            limits(r#"{"ack_days":2,"rectify_days":0}"#),
            StatusCode::BAD_REQUEST,
            "data.rectify_days",
        ),
        (
            "/api/v1/events?historical=true&reason=old",
            Who::Supervisor,
            history,
            StatusCode::FORBIDDEN,
            "type",
        ),
    ] {
        world
            .post_jsonl(path, who, &body)
            .await
            .refused(status, field);
    }
    assert_eq!(world.head().await, head, "nothing appended");
    let defined = world
        .post_jsonl(
            "/api/v1/events",
            Who::Center,
            &limits(r#"{"ack_days":2,"rectify_days":15}"#),
        )
        .await;
    assert_eq!(defined.status, StatusCode::CREATED, "{}", defined.text);
    world.settle().await;
    let pack = world
        .get("/api/v1/cases/case-t1/evidence", Who::Supervisor)
        .await;
    let config = &pack.json["alert_config"];
    assert_eq!(config["ack_days"], 2, "{config}");
    assert_eq!(config["rectify_days"], 15, "{config}");
    assert_eq!(config["rating_window_days"], 7, "unchanged: {config}");
    assert!(
        pack.json["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "WorkflowLimitsDefined"),
        "{}",
        pack.text
    );
    world.shutdown().await;
}

/// A retry under the same idempotency key (`id`) is answered with the original position, even
/// after the act changed the state it was checked against and the clock moved on; the key on
/// another act is 409 `id_reused`. An exemption is once per case: under a new key it is 409.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_under_the_same_key_answers_the_original() {
    let world = World::new().await;
    let order = path_of("/correction-orders");
    let first = world
        .post_json(&order, Who::Supervisor, r#"{"days":3,"id":"order-9"}"#)
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    world.settle().await;
    let head = world.head().await;
    world.clock.set(at("2026-03-02T10:05:00+08:00"));
    let again = world
        .post_json(&order, Who::Supervisor, r#"{"days":3,"id":"order-9"}"#)
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json["positions"], first.json["positions"]);
    assert_eq!(again.json["appended"], 0);
    let other = world
        .post_json(&order, Who::Supervisor, r#"{"days":4,"id":"order-9"}"#)
        .await;
    other.refused(StatusCode::CONFLICT, "id");
    assert!(other.text.contains("id_reused"), "{}", other.text);
    assert_eq!(world.head().await, head, "nothing appended");

    let exempt = |id: &str| format!(r#"{{"reason":"系统故障","id":"{id}"}}"#);
    let path = "/api/v1/cases/case-t1/exemptions";
    let first = world
        .post_json(path, Who::Supervisor, &exempt("ex-1"))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    world.settle().await;
    let head = world.head().await;
    world.clock.set(at("2026-03-02T10:10:00+08:00"));
    let again = world
        .post_json(path, Who::Supervisor, &exempt("ex-1"))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json["positions"], first.json["positions"]);
    let second = world
        .post_json(path, Who::Supervisor, &exempt("ex-2"))
        .await;
    second.refused(StatusCode::CONFLICT, "case");
    // Without a key, a repeat is answered with the exemption's position.
    let plain = world
        .post_json(path, Who::Supervisor, r#"{"reason":"系统故障"}"#)
        .await;
    assert_eq!(plain.status, StatusCode::OK, "{}", plain.text);
    assert_eq!(plain.json["positions"], first.json["positions"]);
    // Another reason would be dropped by a 200: refused.
    let other_reason = world
        .post_json(path, Who::Supervisor, r#"{"reason":"另一个理由"}"#)
        .await;
    other_reason.refused(StatusCode::CONFLICT, "case");
    assert_eq!(world.head().await, head, "nothing appended");
    world.shutdown().await;
}
