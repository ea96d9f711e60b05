//! The bureau's rules-v2 endpoints: a historical batch on `POST /events` (supervisor only, the
//! declaration at the head covering exactly the batch), `POST /reports/close` (roles, an open
//! month, twice), the report as closed after later appends, the figures a close keeps when the
//! server computes the period otherwise, and `GET /alerts?severity=`.

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
    assert_eq!(closed.json["figures_kept"], true);
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
    let as_closed = read_as_closed(&world, "2026-03", "").await;
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

/// `GET /reports?period=PERIOD&as_closed=true` with `extra` query, as the evaluator.
async fn read_as_closed(world: &World, period: &str, extra: &str) -> Answer {
    world
        .get(
            &format!("/api/v1/reports?period={period}&as_closed=true{extra}"),
            Who::Evaluator,
        )
        .await
}

/// Appends a close of `period` at the world's clock fixing `digest` and keeping `kept`, as a
/// build with other rules (or another scoring) would have written it.
async fn close_as_another_build(world: &World, period: &str, digest: String, kept: Option<String>) {
    use jiancha_store::Clock as _;
    let at = world
        .clock
        .now()
        .with_timezone(&jiancha_events::time::CHINA);
    let position = world.head().await;
    let event = jiancha_engine::closing::close_event(
        period,
        (digest, position),
        kept,
        at,
        "inspector-1",
        "jiangjin",
    )
    .unwrap();
    world.store.append(vec![event]).await.unwrap();
    world.settle().await;
}

/// The report's JSON with the first number after `"field":` replaced by `value`.
fn with_first(text: &str, field: &str, value: i64) -> String {
    let key = format!("\"{field}\":");
    let start = text.find(&key).unwrap() + key.len();
    let end = start + text[start..].find(|c: char| !c.is_ascii_digit()).unwrap();
    format!("{}{value}{}", &text[..start], &text[end..])
}

/// A close written by a build that computed March otherwise: the server's replay gives other
/// figures, so the report as closed, the disclosure page and the current report's `closed` are
/// read from the figures the close keeps (checked against its digest); a close whose kept
/// figures do not hash to its digest is refused (409), and a question the kept figures cannot
/// answer (by item) too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_keeps_its_figures_for_a_server_that_computes_them_otherwise() {
    let world = World::new().await;
    world.clock.set(at("2026-04-02T10:00:00+08:00"));
    world.settle().await;
    let computed = world.get(MARCH, Who::Supervisor).await;
    assert_eq!(computed.status, StatusCode::OK, "{}", computed.text);
    let overdue = computed.json["rows"][0]["overdue_open"].as_i64().unwrap();
    let other = with_first(&computed.text, "overdue_open", overdue + 7);
    let report = jiancha_projections::Report::from_json(&other).unwrap();
    let kept = jiancha_engine::closing::kept_text(&report).unwrap();
    assert_eq!(kept, other, "a report read back writes as it was written");
    let text = jiancha_engine::closing::report_text(&report).unwrap();
    close_as_another_build(
        &world,
        "2026-03",
        jiancha_engine::closing::digest(&text),
        Some(kept),
    )
    .await;

    let as_closed = read_as_closed(&world, "2026-03", "").await;
    assert_eq!(as_closed.status, StatusCode::OK, "{}", as_closed.text);
    assert_eq!(
        as_closed.text, other,
        "the figures as closed, byte for byte"
    );
    let shallow = read_as_closed(&world, "2026-03", "&depth=1").await;
    assert_eq!(shallow.status, StatusCode::OK, "{}", shallow.text);
    let rows = shallow.json["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows
        .iter()
        .all(|r| !r["org"].as_str().unwrap().contains('/')));
    assert_eq!(rows[0]["overdue_open"], overdue + 7);
    // By item, the kept figures cannot answer and the replay does not reproduce.
    let by_item = read_as_closed(&world, "2026-03", "&by=item").await;
    assert_eq!(by_item.status, StatusCode::CONFLICT, "{}", by_item.text);
    assert!(by_item.text.contains("by=org"), "{}", by_item.text);
    // The current report still answers, with the close beside its rows.
    let current = world.get(MARCH, Who::Supervisor).await;
    assert_eq!(current.status, StatusCode::OK, "{}", current.text);
    assert_eq!(current.json["rows"], computed.json["rows"]);
    assert_eq!(
        current.json["closed"]["digest"].as_str(),
        Some(jiancha_engine::closing::digest(&text).as_str())
    );
    // The public sees the figures as closed.
    let page = world.get("/public/", Who::Nobody).await;
    assert_eq!(page.status, StatusCode::OK);
    let shown = crate::disclosure_figures::page_figures(&page.text, "2026-03");
    assert_eq!(
        shown,
        crate::disclosure_figures::report_figures(&as_closed.json)
    );

    // February's close keeps figures that are not the ones its digest fixes.
    let february = world
        .get("/api/v1/reports?period=2026-02", Who::Supervisor)
        .await;
    let report = jiancha_projections::Report::from_json(&february.text).unwrap();
    let kept = jiancha_engine::closing::kept_text(&report).unwrap();
    close_as_another_build(&world, "2026-02", "ab".repeat(32), Some(kept)).await;
    let refused = read_as_closed(&world, "2026-02", "").await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(refused.text.contains("does not hash"), "{}", refused.text);
    let page = world.get("/public/", Who::Nobody).await;
    assert!(
        crate::disclosure_figures::page_figures(&page.text, "2026-02").is_empty(),
        "{}",
        page.text
    );
    // The first quarter's close keeps figures that are not the closed ones, but the replay
    // gives the digest: the replay answers.
    let quarter = world
        .get("/api/v1/reports?period=2026-Q1", Who::Supervisor)
        .await;
    let genuine = jiancha_projections::Report::from_json(&quarter.text).unwrap();
    let digest =
        jiancha_engine::closing::digest(&jiancha_engine::closing::report_text(&genuine).unwrap());
    let forged = with_first(&quarter.text, "accepted", 999);
    close_as_another_build(&world, "2026-Q1", digest, Some(forged)).await;
    let as_closed = read_as_closed(&world, "2026-Q1", "").await;
    assert_eq!(as_closed.status, StatusCode::OK, "{}", as_closed.text);
    assert_eq!(
        as_closed.text, quarter.text,
        "the replay's figures, not the kept ones"
    );
    // January's close keeps no figures (too large, or written before closes kept them) and
    // does not reproduce here: as closed it is refused, but its current report still answers.
    close_as_another_build(&world, "2026-01", "cd".repeat(32), None).await;
    let january = world
        .get("/api/v1/reports?period=2026-01", Who::Supervisor)
        .await;
    assert_eq!(january.status, StatusCode::OK, "{}", january.text);
    assert_eq!(january.json["closed"]["digest"], "cd".repeat(32));
    let as_closed = read_as_closed(&world, "2026-01", "").await;
    assert_eq!(as_closed.status, StatusCode::CONFLICT, "{}", as_closed.text);
    // Verification names the closes: March's figures hash to its digest, February's and the
    // quarter's do not.
    let verified = world.get("/api/v1/verify", Who::Supervisor).await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
    assert_eq!(verified.json["ok"], false, "{}", verified.text);
    let closes = verified.json["closes"].as_array().unwrap();
    let verdicts: Vec<(&str, &str)> = closes
        .iter()
        .map(|c| {
            (
                c["period"].as_str().unwrap(),
                c["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("2026-03", "kept"),
            ("2026-02", "differs"),
            ("2026-Q1", "differs"),
            ("2026-01", "not_kept")
        ]
    );
    assert!(closes[1]["detail"]
        .as_str()
        .unwrap()
        .contains("does not hash"));
    world.shutdown().await;
}

/// Two closes of one period at once, by the same token or two: one is taken (201), the other
/// is told the period was already closed (409 naming the close), never that an id it did not
/// give is taken, and never a second 201.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_closes_at_once_take_one() {
    let world = World::new().await;
    world.clock.set(at("2026-04-02T10:00:00+08:00"));
    world.settle().await;
    for (period, other) in [("2026-02", Who::Supervisor), ("2026-03", Who::Center)] {
        let path = format!("/api/v1/reports/close?period={period}");
        // The center may not close: the race is run with the supervisor twice, or with a
        // refused second caller that must not disturb it.
        let (a, b) = tokio::join!(
            world.post_json(&path, Who::Supervisor, ""),
            world.post_json(&path, other, "")
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        if other == Who::Supervisor {
            assert_eq!(
                statuses,
                [StatusCode::CREATED, StatusCode::CONFLICT],
                "{} / {}",
                a.text,
                b.text
            );
            let loser = if a.status == StatusCode::CONFLICT {
                &a
            } else {
                &b
            };
            assert!(loser.text.contains("already closed"), "{}", loser.text);
            assert_eq!(loser.json["error"], "period_conflict");
        } else {
            assert!(
                statuses.contains(&StatusCode::CREATED),
                "{} / {}",
                a.text,
                b.text
            );
        }
    }
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
