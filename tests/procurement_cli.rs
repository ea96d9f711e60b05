//! Procurement projects through the binary and the HTTP API: the procurement report from the
//! ledger (`report --kind procurement`, `GET /api/v1/reports?kind=procurement`), apart from the
//! approval report.

use crate::alert_lists::alert_ids;
use crate::server_api::{LiveServer, CENTER, SUPERVISOR};
use crate::support::*;

const BUYER: &str = "jiangjin/center/dept-05";

fn ev(stream: &str, ty: &str, at: &str, data: &str) -> String {
    format!(
        r#"{{"stream":"{stream}","type":"{ty}","occurred_at":"{at}","actor":"buyer-1","org":"{BUYER}","data":{data}}}"#
    )
}

fn registered(stream: &str, at: &str, method: &str) -> String {
    let data = format!(
        r#"{{"project":"{stream}","regime":"government","method":"{method}","category":"goods","budget_cents":1000,"purchaser_org":"{BUYER}","state_funded":true}}"#
    );
    ev(stream, "ProcurementRegistered", at, &data)
}

/// proc-a: a short window (red, 03-03), unacknowledged (yellow); awarded 09-07 and never
/// contracted (red at the end of 10-08; unacknowledged, yellow, at the end of 10-10). proc-b:
/// awarded 03-10, signed 03-20 in time, announced and filed.
fn district() -> String {
    [
        registered("proc-a", "2026-03-02T09:00:00+08:00", "open_tender"),
        registered("proc-b", "2026-03-05T09:00:00+08:00", "inquiry"),
        ev(
            "proc-a",
            "DocumentsIssued",
            "2026-03-03T09:00:00+08:00",
            r#"{"on_sale_until":"2026-03-12"}"#,
        ),
        ev(
            "proc-a",
            "BidDeadlineSet",
            "2026-03-03T09:05:00+08:00",
            r#"{"at":"2026-03-10T09:30:00+08:00"}"#,
        ),
        ev(
            "proc-b",
            "AwardNoticeIssued",
            "2026-03-10T10:00:00+08:00",
            r#"{"winner":"w","rank":1,"amount_cents":900}"#,
        ),
        ev(
            "proc-b",
            "ContractSigned",
            "2026-03-20T10:00:00+08:00",
            r#"{"amount_cents":900}"#,
        ),
        ev(
            "proc-b",
            "ContractPublished",
            "2026-03-20T11:00:00+08:00",
            "{}",
        ),
        ev("proc-b", "ContractFiled", "2026-03-20T11:00:00+08:00", "{}"),
        ev(
            "proc-a",
            "AwardNoticeIssued",
            "2026-09-07T10:00:00+08:00",
            r#"{"winner":"w","rank":1,"amount_cents":900}"#,
        ),
    ]
    .join("\n")
}

/// A row's month, projects, awards, contracts, contracts on time, yellow, red and score.
type Figures = (u64, i64, i64, i64, i64, i64, i64, i64);

#[test]
fn the_procurement_report_counts_per_purchaser_and_month() {
    let ws = Workspace::new();
    let r = ws.run(&["import", "--historical", "-"], &district());
    assert_eq!(r.code, 0, "{r:?}");
    let report = |more: &[&str]| {
        let mut args = vec!["report", "--kind", "procurement", "--period", "2026"];
        args.extend_from_slice(more);
        ws.run(&args, "")
    };
    // Rows per purchaser org and month, never rolled up or regrouped: refused, not ignored.
    for (flag, value) in [("--depth", "2"), ("--by", "item")] {
        let r = report(&[flag, value]);
        assert_eq!(r.code, 2, "{flag}: {r:?}");
        assert!(r.stderr.contains(flag), "{flag}: {r:?}");
    }
    let r = report(&["--now", "2026-12-31", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let rows: Vec<Figures> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["org"], BUYER);
            let n = |k: &str| r[k].as_i64().unwrap();
            (
                r["month"].as_u64().unwrap(),
                n("projects"),
                n("awards"),
                n("contracts"),
                n("contracts_on_time"),
                n("yellow"),
                n("red"),
                n("score"),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (202603, 2, 1, 1, 1, 1, 1, 85),
            (202609, 0, 1, 0, 0, 0, 0, 100),
            (202610, 0, 0, 0, 0, 1, 1, 85),
        ]
    );
    assert!(
        r.stdout.contains("\"contract_on_time_rate\": 1.0000"),
        "{}",
        r.stdout
    );
    // The approval report of the same district has no row: procurement is counted apart.
    // `report … --period 2026 --now 2026-12-31 --format json` with `head` before the period.
    let year_json = |head: &[&str]| -> serde_json::Value {
        let mut args = head.to_vec();
        args.extend([
            "--period",
            "2026",
            "--now",
            "2026-12-31",
            "--format",
            "json",
        ]);
        let r = ws.run(&args, "");
        assert_eq!(r.code, 0, "{r:?}");
        serde_json::from_str(&r.stdout).unwrap()
    };
    let v = year_json(&["report"]);
    assert_eq!(v["rows"], serde_json::json!([]), "{v}");
    let r = ws.run(
        &[
            "report",
            "--kind",
            "procurement",
            "--period",
            "2026-03",
            "--now",
            "2026-12-31",
            "--format",
            "csv",
        ],
        "",
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        "org,month,projects,awards,contracts,contracts_on_time,contract_on_time_rate,yellow,red,violations,score,grade\n\
         jiangjin/center/dept-05,202603,2,1,1,1,1.0000,1,1,2,85,良好\n"
    );
    let out = ws.path("p.xlsx");
    let r = ws.run(
        &[
            "report",
            "--kind",
            "procurement",
            "--period",
            "2026",
            "--format",
            "xlsx",
            "--output",
            out.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(r.code, 2, "{r:?}");
    // `report explain --kind procurement`: the entries behind the rows, totals equal to them.
    let v = year_json(&["report", "explain", "--kind", "procurement", "--org", BUYER]);
    let t = &v["totals"];
    let total = |k: &str| t[k].as_i64().unwrap();
    // The rows above summed: projects 2, awards 2, contracts 1 on time 1, yellow 2, red 2.
    assert_eq!(
        [
            total("projects"),
            total("awards"),
            total("contracts"),
            total("contracts_on_time"),
            total("yellow"),
            total("red")
        ],
        [2, 2, 1, 1, 2, 2],
        "{v}"
    );
    assert_eq!(v["rows"].as_array().unwrap().len(), 3, "{v}");
    assert!(v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["measure"].as_str().unwrap().starts_with("proc")));
}

#[tokio::test]
async fn the_procurement_report_over_http_is_the_clis() {
    let server = LiveServer::start().await;
    let lines = [
        registered("proc-a", "2026-03-02T09:00:00+08:00", "open_tender"),
        ev(
            "proc-a",
            "DocumentsIssued",
            "2026-03-02T09:05:00+08:00",
            r#"{"on_sale_until":"2026-03-12"}"#,
        ),
        ev(
            "proc-a",
            "BidDeadlineSet",
            "2026-03-02T09:06:00+08:00",
            r#"{"at":"2026-03-10T09:30:00+08:00"}"#,
        ),
    ]
    .join("\n")
    // The server stamps the token's name as the actor.
    .replace(r#""actor":"buyer-1","#, "");
    let (status, body) = server.post(CENTER, &lines).await;
    assert_eq!(status, 201, "{body}");
    let (status, v) = server
        .get(
            SUPERVISOR,
            "/api/v1/reports?kind=procurement&period=2026-03&now=2026-03-31",
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let row = &v["rows"][0];
    // The short window (red) and its missing acknowledgement (yellow, end of 03-03).
    assert_eq!(
        (
            &row["org"],
            &row["projects"],
            &row["yellow"],
            &row["red"],
            &row["score"]
        ),
        (
            &serde_json::json!(BUYER),
            &serde_json::json!(1),
            &serde_json::json!(1),
            &serde_json::json!(1),
            &serde_json::json!(85)
        )
    );
    let (status, v) = server
        .get(SUPERVISOR, "/api/v1/reports?kind=tenders&period=2026-03")
        .await;
    assert_eq!(status, 400, "{v}");
    // `org` as `report --kind procurement --org`: the purchasers at or under it.
    let path = "/api/v1/reports?kind=procurement&period=2026-03&now=2026-03-31";
    let (status, under) = server.get(SUPERVISOR, &format!("{path}&org={BUYER}")).await;
    assert_eq!(status, 200, "{under}");
    assert_eq!(under["rows"], v_rows(&server, path).await);
    let (status, none) = server
        .get(SUPERVISOR, &format!("{path}&org=jiangjin/nobody"))
        .await;
    assert_eq!(
        (status, &none["rows"]),
        (200, &serde_json::json!([])),
        "{none}"
    );
    for (query, field) in [
        ("period=2026-03&org=jiangjin", "org"),
        ("kind=procurement&period=2026-03&org=", "org"),
        ("period=2026-03&depth=0", "depth"),
        // One row per purchaser org and month: no roll-up, no other grouping.
        ("kind=procurement&period=2026-03&depth=2", "depth"),
        ("kind=procurement&period=2026-03&by=item", "by"),
    ] {
        let (status, v) = server
            .get(SUPERVISOR, &format!("/api/v1/reports?{query}"))
            .await;
        assert_eq!(
            (status, &v["field"]),
            (400, &serde_json::json!(field)),
            "{query}: {v}"
        );
    }
    server.stop().await;
}

async fn v_rows(server: &LiveServer, path: &str) -> serde_json::Value {
    let (status, v) = server.get(SUPERVISOR, path).await;
    assert_eq!(status, 200, "{v}");
    v["rows"].clone()
}

/// A project's history and evidence pack read what `proc.split` depends on (the thresholds and
/// the other projects' registrations), so they show the split the live fold raised.
#[test]
fn a_projects_history_and_evidence_show_what_the_live_fold_raised() {
    let ws = Workspace::new();
    let threshold = r#"{"stream":"catalog","type":"ThresholdDefined","occurred_at":"2026-01-02T09:00:00+08:00","actor":"admin","org":"jiangjin","data":{"jurisdiction":"jiangjin","category":"goods","open_tender_cents":2000}}"#;
    let piece = |stream: &str, at: &str| {
        let data = format!(
            r#"{{"project":"{stream}","regime":"government","method":"inquiry","category":"goods","budget_cents":1500,"purchaser_org":"{BUYER}","state_funded":true}}"#
        );
        ev(stream, "ProcurementRegistered", at, &data)
    };
    let log = [
        threshold.to_owned(),
        piece("proc-1", "2026-03-02T09:00:00+08:00"),
        piece("proc-2", "2026-04-01T09:00:00+08:00"),
    ]
    .join("\n");
    let r = ws.run(&["import", "--historical", "-"], &log);
    assert_eq!(r.code, 0, "{r:?}");
    let r = ws.run(
        &[
            "alerts",
            "--kind",
            "procurement",
            "--now",
            "2026-04-01T12:00:00+08:00",
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("proc-2/proc.split/1"), "{}", r.stdout);
    let r = ws.run(
        // As the log stands now (the import was recorded today).
        &["history", "proc-2", "--format", "json"],
        "",
    );
    assert_eq!(r.code, 0, "{r:?}");
    let h: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(h["project"]["kind"], "procurement", "{}", r.stdout);
    assert!(h.get("state").is_none(), "{}", r.stdout);
    let ids = alert_ids(&h["alerts"]);
    // The split is red: unacknowledged a working day later, as any red card.
    assert_eq!(
        ids,
        ["proc-2/proc.split/1", "proc-2/supervision.unacknowledged/1"]
    );
    // `case show` reads the same context: the split is on the project.
    let r = ws.run(&["case", "show", "proc-2", "--format", "json"], "");
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("proc-2/proc.split/1"), "{}", r.stdout);
    let r = ws.run(&["evidence", "proc-2"], "");
    assert_eq!(r.code, 0, "{r:?}");
    let pack: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(pack["state"]["method"], "inquiry", "{}", r.stdout);
    assert_eq!(
        pack["cards"][0]["id"], "proc-2/proc.split/1",
        "{}",
        r.stdout
    );
    // The pack's events are the project's own and the supervision stream's (the import's
    // declaration); the other projects' registrations are context only.
    let streams: Vec<&str> = pack["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["stream"].as_str().unwrap())
        .collect();
    assert_eq!(streams, ["supervision", "proc-2"]);
}
