//! Whose case it is, over the API: a unit may not submit a case id another org holds, nor
//! write to a case another org handles, nor learn from the refusal who that org is or what
//! its events say; a transfer stays in the district.

use axum::http::StatusCode;

use crate::support::*;

/// Whether a refusal's body names town-1's org path (`jiangjin/town-10` aside) or shows
/// anything of its events.
fn names_town_1(text: &str) -> bool {
    let rest = text.replace(TOWN_10, "");
    [
        "jiangjin/town-1",
        "FeeCharged",
        "StepCompleted",
        "Accepted",
        "clerk-1",
    ]
    .iter()
    .any(|word| rest.contains(word))
}

fn transfer_json(case: &str, to: &str) -> String {
    format!(
        "{{\"stream\":\"{case}\",\"type\":\"Transferred\",\"occurred_at\":\"2026-03-02T09:40:00+08:00\",\"data\":{{\"to_org\":\"{to}\",\"reason\":\"x\"}}}}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_orgs_case_id_cannot_be_submitted_again() {
    let world = World::new().await;
    let head = world.head().await;
    let answer = world
        .post_jsonl(
            "/api/v1/events",
            Who::Unit10,
            &case_jsonl(CASE_1, FEE_CENTS),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.text);
    assert_eq!(answer.json["error"], "already_submitted", "{}", answer.text);
    assert_eq!(answer.json["line"], 1, "{}", answer.text);
    assert!(!names_town_1(&answer.text), "{}", answer.text);
    // The center, which covers both towns, gets the same answer: a case is submitted once.
    let again = world
        .post_jsonl("/api/v1/events", Who::Center, &case_jsonl(CASE_1, 0))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(world.head().await, head, "nothing was written");
    // Its handler still writes to it.
    let own = world
        .post_json("/api/v1/events", Who::Unit1, &step_json(CASE_1, None))
        .await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.text);
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_nothing_of_the_org_that_handles_the_case() {
    let world = World::new().await;
    let secret = step_json(CASE_1, None).replace("\"data\"", "\"id\":\"shared-1\",\"data\"");
    let first = world.post_json("/api/v1/events", Who::Unit1, &secret).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let head = world.head().await;
    // The same id on town-10's own case: 409, naming nothing of the event holding the id (not
    // even its position: a unit token's refusal is redacted).
    let mine = step_json("case-t10", None).replace("\"data\"", "\"id\":\"shared-1\",\"data\"");
    let reused = world.post_json("/api/v1/events", Who::Unit10, &mine).await;
    assert_eq!(reused.status, StatusCode::CONFLICT, "{}", reused.text);
    assert_eq!(reused.json["error"], "id_reused");
    assert!(
        reused.json["detail"]["position"].is_null(),
        "{}",
        reused.text
    );
    assert!(
        !reused.text.contains(&format!("position {head}")),
        "{}",
        reused.text
    );
    assert!(!names_town_1(&reused.text), "{}", reused.text);
    assert!(!reused.text.contains(CASE_1), "{}", reused.text);
    // A step, or a stale version, on town-1's case: the answer a case that does not exist
    // gets (404, the same text but for the id), naming only the caller's own path.
    let stale = step_json(CASE_1, None).replace("\"data\"", "\"expected_version\":1,\"data\"");
    let nobody = world
        .post_json(
            "/api/v1/events",
            Who::Unit10,
            &step_json("case-nobody", None),
        )
        .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND, "{}", nobody.text);
    for body in [step_json(CASE_1, None), stale] {
        let refused = world.post_json("/api/v1/events", Who::Unit10, &body).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text);
        assert_eq!(
            refused.text.replace(CASE_1, "case-?"),
            nobody.text.replace("case-nobody", "case-?"),
            "no existence oracle"
        );
        assert!(!refused.text.contains("\"actual\""), "{}", refused.text);
        assert!(!names_town_1(&refused.text), "{}", refused.text);
    }
    assert_eq!(world.head().await, head);
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_stays_in_the_district_and_hands_the_case_on() {
    let world = World::new().await;
    let head = world.head().await;
    for to in ["yubei/town-1", "jiangjinx/town-1"] {
        let out = world
            .post_json("/api/v1/events", Who::Unit1, &transfer_json(CASE_1, to))
            .await;
        assert_eq!(
            out.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{to}: {}",
            out.text
        );
        assert_eq!(out.json["error"], "outside_district");
        assert_eq!(out.json["field"], "data.to_org");
    }
    assert_eq!(world.head().await, head);
    let within = world
        .post_json(
            "/api/v1/events",
            Who::Unit1,
            &transfer_json(CASE_1, TOWN_10),
        )
        .await;
    assert_eq!(within.status, StatusCode::CREATED, "{}", within.text);
    // From then on the receiving town handles it, and the sender no longer writes to it.
    let sender = world
        .post_json("/api/v1/events", Who::Unit1, &step_json(CASE_1, None))
        .await;
    assert_eq!(sender.status, StatusCode::NOT_FOUND, "{}", sender.text);
    let receiver = world
        .post_json("/api/v1/events", Who::Unit10, &step_json(CASE_1, None))
        .await;
    assert_eq!(receiver.status, StatusCode::CREATED, "{}", receiver.text);
    world.shutdown().await;
}
