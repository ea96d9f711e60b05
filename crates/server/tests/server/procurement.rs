//! Procurement projects over the API: `GET /api/v1/cases/proc-…` answers the project view, and
//! `GET /api/v1/alerts?kind=` separates the projects' alerts from the approval cases'.

use axum::http::StatusCode;

use crate::alert_lists::proc_rules;
use crate::support::*;

const PROJECT: &str = "proc-2026-0009";

/// A government open tender whose documents are on sale 2 working days and whose bid deadline
/// is a week after the issue: `proc.sale.short` and `proc.window.short`.
fn project_jsonl() -> String {
    let line = |ty: &str, at: &str, data: &str| {
        format!(
            r#"{{"stream":"{PROJECT}","type":"{ty}","occurred_at":"{at}","org":"jiangjin/center/dept-05","data":{data}}}"#
        )
    };
    [
        line(
            "ProcurementRegistered",
            "2026-02-02T09:00:00+08:00",
            r#"{"project":"办公设备采购","regime":"government","method":"open_tender","category":"goods","budget_cents":350000000,"purchaser_org":"jiangjin/center/dept-05","state_funded":true}"#,
        ),
        line(
            "DocumentsIssued",
            "2026-02-03T09:00:00+08:00",
            r#"{"on_sale_until":"2026-02-04"}"#,
        ),
        line(
            "BidDeadlineSet",
            "2026-02-03T09:05:00+08:00",
            r#"{"at":"2026-02-10T09:30:00+08:00"}"#,
        ),
    ]
    .join("\n")
        + "\n"
}

async fn world_with_project() -> World {
    let world = World::new().await;
    let answer = world
        .post_jsonl("/api/v1/events", Who::Center, &project_jsonl())
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    world.settle().await;
    world
}

/// The rule codes of an alert list's page, sorted.
fn rules(answer: &Answer) -> Vec<String> {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let mut out: Vec<String> = answer.json["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["rule"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_kind_lists_one_kind_of_case() {
    let world = world_with_project().await;
    let all = rules(&world.get("/api/v1/alerts", Who::Supervisor).await);
    let procurement = world
        .get("/api/v1/alerts?kind=procurement", Who::Supervisor)
        .await;
    // The project's proc.* alerts, and the card lifecycle's on its cards.
    let on_project = rules(&procurement);
    assert_eq!(
        proc_rules(&procurement.json["alerts"]),
        ["proc.sale.short", "proc.window.short"]
    );
    assert!(procurement.json["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["case"] == PROJECT));
    let approval = world
        .get("/api/v1/alerts?kind=approval", Who::Supervisor)
        .await;
    assert!(approval.json["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["case"] != PROJECT));
    let approval = rules(&approval);
    assert!(
        approval.contains(&"fee.mismatch".to_owned()),
        "{approval:?}"
    );
    assert!(
        !approval.iter().any(|r| r.starts_with("proc.")),
        "{approval:?}"
    );
    assert_eq!(approval.len() + on_project.len(), all.len(), "{all:?}");
    // At an instant, through the replay, the same.
    let then = world
        .get(
            "/api/v1/alerts?kind=procurement&now=2026-02-28",
            Who::Supervisor,
        )
        .await;
    assert_eq!(
        proc_rules(&then.json["alerts"]),
        ["proc.sale.short", "proc.window.short"]
    );
    let bad = world
        .get("/api/v1/alerts?kind=parking", Who::Supervisor)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(bad.json["field"], "kind");
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_id_answers_the_project_view() {
    let world = world_with_project().await;
    let path = format!("/api/v1/cases/{PROJECT}");
    let view = world.get(&path, Who::Supervisor).await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.text);
    assert_eq!(view.json["stream"], PROJECT);
    assert_eq!(view.json["kind"], "procurement");
    assert_eq!(view.json["method"], "open_tender");
    assert_eq!(view.json["org"], "jiangjin/center/dept-05");
    assert_eq!(view.json["round"]["on_sale_until"], "2026-02-04");
    let window = view.json["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["what"] == "earliest_bid_deadline")
        .unwrap();
    assert_eq!(window["unit"], "natural");
    assert_eq!(window["days"], 20);
    assert_eq!(window["met"], false);
    assert_eq!(
        proc_rules(&view.json["alerts"]),
        ["proc.sale.short", "proc.window.short"]
    );
    // At an instant before the deadline was set, the window has no deadline to judge.
    let early = world
        .get(
            &format!("{path}?now=2026-02-03T09:01:00%2B08:00"),
            Who::Supervisor,
        )
        .await;
    assert_eq!(early.status, StatusCode::OK, "{}", early.text);
    assert_eq!(early.json["round"]["bid_deadline"], serde_json::Value::Null);
    assert_eq!(
        early.json["alerts"].as_array().unwrap().len(),
        1,
        "{}",
        early.text
    );
    // A unit of another org learns nothing of it; an unknown project is a 404 too.
    let hidden = world.get(&path, Who::Unit1).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.text);
    let unknown = world
        .get("/api/v1/cases/proc-2026-9999", Who::Supervisor)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    // Other streams are still refused.
    let other = world
        .get("/api/v1/cases/supervision", Who::Supervisor)
        .await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST, "{}", other.text);
    world.shutdown().await;
}

/// A unit opens a project only for a purchaser within its org: the purchaser answers for the
/// project and carries its cards, so a project planted on another org is refused, nothing
/// appended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_registers_projects_of_its_own_purchasers_only() {
    let world = World::new().await;
    let registered = |stream: &str, purchaser: &str| {
        format!(
            r#"{{"stream":"{stream}","type":"ProcurementRegistered","occurred_at":"2026-03-02T09:00:00+08:00","data":{{"project":"p","regime":"government","method":"inquiry","category":"goods","budget_cents":100000000,"purchaser_org":"{purchaser}","state_funded":true}}}}"#
        )
    };
    let head = world.head().await;
    let planted = world
        .post_jsonl(
            "/api/v1/events",
            Who::Unit1,
            &registered("proc-2026-9001", "jiangjin/center/dept-05"),
        )
        .await;
    planted.refused(StatusCode::FORBIDDEN, "data.purchaser_org");
    assert_eq!(world.head().await, head, "nothing appended");
    let own = world
        .post_jsonl(
            "/api/v1/events",
            Who::Unit1,
            &registered("proc-2026-9002", TOWN_1),
        )
        .await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.text);
    world.settle().await;
    // Another org's project and a project never registered get one answer (404, the same
    // text but for the id): no existence oracle.
    let filed = |stream: &str| {
        format!(
            r#"{{"stream":"{stream}","type":"ContractFiled","occurred_at":"2026-03-02T10:00:00+08:00","data":{{}}}}"#
        )
    };
    let theirs = world
        .post_jsonl("/api/v1/events", Who::Unit10, &filed("proc-2026-9002"))
        .await;
    let nobody = world
        .post_jsonl("/api/v1/events", Who::Unit10, &filed("proc-2026-9099"))
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.text);
    assert_eq!(
        theirs.text.replace("9002", "?"),
        nobody.text.replace("9099", "?"),
        "no existence oracle"
    );
    world.shutdown().await;
}
