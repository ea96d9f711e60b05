//! What the dashboard's workbench reads: `GET /api/v1/me` lists exactly the acts each role may
//! perform (each listed act is not refused for the role, each other one is: 403), the overview
//! counts per department and town with its filters and a unit's scope, and a case's ledger
//! entries.

use axum::http::StatusCode;

use crate::support::*;

/// Each act of `/me` and a request performing it (the role is checked before anything else,
/// so an empty body tells a refusal, 403, from a permitted act answered otherwise).
const ACTS: &[(&str, &str)] = &[
    (
        "acknowledge",
        "/api/v1/alerts/case-t1%2Ffee.mismatch%2F1/acknowledge",
    ),
    (
        "order_correction",
        "/api/v1/alerts/case-t1%2Ffee.mismatch%2F1/correction-orders",
    ),
    (
        "report_back",
        "/api/v1/alerts/case-t1%2Ffee.mismatch%2F1/report-backs",
    ),
    (
        "verify_correction",
        "/api/v1/alerts/case-t1%2Ffee.mismatch%2F1/verifications",
    ),
    ("verify_rating", "/api/v1/cases/case-t1/rating/verification"),
    (
        "rectify_rating",
        "/api/v1/cases/case-t1/rating/rectification",
    ),
    ("call_back", "/api/v1/cases/case-t1/rating/callback"),
    (
        "handle_complaint",
        "/api/v1/cases/case-t1/complaints/1/acceptance",
    ),
    ("exempt", "/api/v1/cases/case-t1/exemptions"),
    ("close_period", "/api/v1/reports/close?period=2026-02"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_lists_exactly_the_acts_the_role_may_perform() {
    let mut failures = Vec::new();
    for who in [Who::Supervisor, Who::Center, Who::Unit1, Who::Evaluator] {
        let world = World::new().await;
        let me = world.get("/api/v1/me", who).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.text);
        assert_eq!(me.json["clock"]["simulated"], false);
        assert_eq!(me.json["clock"]["now"], "2026-03-02T10:00:00+08:00");
        let listed: Vec<&str> = me.json["acts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        for name in &listed {
            assert!(ACTS.iter().any(|(a, _)| a == name), "{name} is not tried");
        }
        for (act, path) in ACTS {
            let answer = world.post_json(path, who, "{}").await;
            let refused = answer.status == StatusCode::FORBIDDEN;
            if refused == listed.contains(act) {
                failures.push(format!(
                    "{who:?} {act}: listed {}, answered {} {}",
                    listed.contains(act),
                    answer.status,
                    answer.text
                ));
            }
        }
        world.shutdown().await;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_says_who_and_what_they_read() {
    let world = World::new().await;
    let unit = world.get("/api/v1/me", Who::Unit1).await.json;
    assert_eq!(unit["role"], "unit");
    assert_eq!(unit["name"], "town-1-window");
    assert_eq!(unit["org"], TOWN_1);
    assert_eq!(unit["cases"], true);
    assert_eq!(unit["verify"], false);
    let evaluator = world.get("/api/v1/me", Who::Evaluator).await.json;
    assert_eq!(evaluator["role"], "evaluator");
    assert_eq!(evaluator["org"], serde_json::Value::Null);
    assert_eq!(evaluator["cases"], false);
    assert_eq!(evaluator["reports"], true);
    assert_eq!(evaluator["acts"], serde_json::json!([]));
    world.shutdown().await;
}

/// `/me` lists the insight read exactly for the roles `GET /api/v1/insights` answers (the
/// dashboard shows its insight section by it): the same method of `auth` decides both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_lists_the_insight_read_exactly_for_the_roles_it_answers() {
    let world = World::new().await;
    let mut failures = Vec::new();
    let mut readers = Vec::new();
    for who in [Who::Supervisor, Who::Center, Who::Unit1, Who::Evaluator] {
        let me = world.get("/api/v1/me", who).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.text);
        let listed = me.json["insight"]
            .as_bool()
            .unwrap_or_else(|| panic!("{who:?}: /me has no insight flag: {}", me.text));
        let answer = world.get("/api/v1/insights?period=2026-03", who).await;
        let refused = answer.status == StatusCode::FORBIDDEN;
        if refused == listed {
            failures.push(format!(
                "{who:?}: insight listed {listed}, answered {} {}",
                answer.status, answer.text
            ));
        }
        if listed {
            readers.push(who);
        }
    }
    world.shutdown().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(readers, [Who::Supervisor, Who::Evaluator]);
}

/// The overview's rows as (org, red, yellow, warnings).
fn counts(json: &serde_json::Value) -> Vec<(String, u64, u64, u64)> {
    json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["org"].as_str().unwrap().to_owned(),
                r["red"].as_u64().unwrap(),
                r["yellow"].as_u64().unwrap(),
                r["warnings"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_counts_each_town_within_the_callers_scope() {
    let world = World::new().await;
    let all = world.get("/api/v1/overview", Who::Supervisor).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.json["month"], "2026-03");
    assert_eq!(
        counts(&all.json),
        [(TOWN_1.to_owned(), 1, 0, 0), (TOWN_10.to_owned(), 1, 0, 0)]
    );
    assert_eq!(all.json["rows"][0]["kind"], "town");
    // Nothing concluded in March: no rate, its denominator 0.
    assert_eq!(all.json["rows"][0]["concluded"], 0);
    assert_eq!(all.json["rows"][0]["on_time_rate"], serde_json::Value::Null);
    let own = world.get("/api/v1/overview", Who::Unit1).await;
    assert_eq!(counts(&own.json), [(TOWN_1.to_owned(), 1, 0, 0)]);
    let yellow = world
        .get("/api/v1/overview?severity=yellow", Who::Supervisor)
        .await;
    assert!(
        counts(&yellow.json).iter().all(|r| r.1 == 0),
        "{}",
        yellow.text
    );
    let other_rule = world
        .get("/api/v1/overview?rule=case.stalled", Who::Center)
        .await;
    assert!(counts(&other_rule.json).iter().all(|r| r.1 == 0));
    let bad = world
        .get("/api/v1/overview?rule=no.such", Who::Center)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // The same rows as of the live instant, folded from the log.
    let replay = world
        .get(
            "/api/v1/overview?now=2026-03-02T10:00:00%2B08:00",
            Who::Supervisor,
        )
        .await;
    assert_eq!(replay.json["rows"], all.json["rows"], "{}", replay.text);
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_lists_its_ledger_entries() {
    let world = World::new().await;
    let ledger = world
        .get("/api/v1/cases/case-t1/ledger", Who::Supervisor)
        .await;
    assert_eq!(ledger.status, StatusCode::OK, "{}", ledger.text);
    let entries = ledger.json["entries"].as_array().unwrap();
    assert!(!entries.is_empty(), "{}", ledger.text);
    assert!(
        entries.iter().all(|e| e["case"] == "case-t1"),
        "{}",
        ledger.text
    );
    assert!(
        entries.iter().any(|e| e["rule"] == "fee.mismatch"),
        "the red card counts: {}",
        ledger.text
    );
    world.shutdown().await;
}

/// The bureau upholds an appeal through `POST /api/v1/appeals`: the card's entry is reversed,
/// a second appeal of it is 409, an entry that does not exist is 400 naming `entry`, and only
/// a supervisor may appeal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bureau_upholds_an_appeal_of_a_card() {
    let world = World::new().await;
    let ledger = world
        .get("/api/v1/cases/case-t1/ledger", Who::Supervisor)
        .await;
    let card = ledger.json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["rule"] == "fee.mismatch" && e["pending"] != true)
        .unwrap_or_else(|| panic!("a counted red card: {}", ledger.text))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = format!(r#"{{"entry":"{card}","reason":"收费标准已调整"}}"#);
    for who in [Who::Unit1, Who::Center, Who::Evaluator] {
        let answer = world.post_json("/api/v1/appeals", who, &body).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text);
    }
    let answer = world
        .post_json("/api/v1/appeals", Who::Supervisor, &body)
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    world.settle().await;
    let ledger = world
        .get("/api/v1/cases/case-t1/ledger", Who::Supervisor)
        .await;
    assert!(
        ledger.json["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["adjusts"] == card.as_str()),
        "reversed: {}",
        ledger.text
    );
    // The appeal names the entry's case, so it is in the case's history.
    let history = world
        .get("/api/v1/cases/case-t1/history", Who::Supervisor)
        .await;
    let appeal = history.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "AppealUpheld")
        .unwrap_or_else(|| panic!("the appeal in the case's history: {}", history.text));
    assert_eq!(appeal["data"]["case"], "case-t1", "{appeal}");
    assert_eq!(appeal["data"]["entry"], card.as_str(), "{appeal}");
    let again = world
        .post_json("/api/v1/appeals", Who::Supervisor, &body)
        .await;
    again.refused(StatusCode::CONFLICT, "entry");
    // Under a key: the retry is answered with the original position; a new key on the
    // reversed entry is 409 like the plain repeat.
    let keyed = |id: &str| format!(r#"{{"entry":"{card}","reason":"收费标准已调整","id":"{id}"}}"#);
    let fresh = world
        .post_json("/api/v1/appeals", Who::Supervisor, &keyed("ap-1"))
        .await;
    fresh.refused(StatusCode::CONFLICT, "entry");
    let none = world
        .post_json(
            "/api/v1/appeals",
            Who::Supervisor,
            r#"{"entry":"999999/red","reason":"r"}"#,
        )
        .await;
    none.refused(StatusCode::BAD_REQUEST, "entry");
    world.shutdown().await;
}
