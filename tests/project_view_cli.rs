//! Procurement projects through the binary: `case show proc-…` (the project view, its due
//! dates with their day units, items and alerts) and `alerts --kind`, on the sample district
//! with one clean project and one that breaks the rules.

use crate::alert_lists::proc_rules;
use crate::support::*;

/// An interchange line of a project's purchaser.
fn proc_line(stream: &str, ty: &str, at: &str, data: &str) -> String {
    format!(
        r#"{{"stream":"{stream}","type":"{ty}","occurred_at":"{at}","actor":"buyer-1","org":"jiangjin/center/dept-05","data":{data}}}"#
    )
}

/// A government open tender that keeps every date, and one that keeps none.
fn projects() -> String {
    let clean = "proc-2026-0001";
    let bad = "proc-2026-0002";
    let registered = r#"{"project":"自助终端采购","regime":"government","method":"open_tender","category":"goods","budget_cents":350000000,"purchaser_org":"jiangjin/center/dept-05","state_funded":true}"#;
    let lines = [
        r#"{"stream":"catalog","type":"OrgDefined","occurred_at":"2026-01-05T09:00:00+08:00","actor":"admin-1","org":"jiangjin/center","data":{"path":"jiangjin/center/dept-05","name":"区政务服务中心","kind":"department"}}"#.to_owned(),
        proc_line(clean, "ProcurementRegistered", "2026-03-02T09:00:00+08:00", registered),
        proc_line(clean, "DocumentsIssued", "2026-03-03T09:00:00+08:00", r#"{"on_sale_until":"2026-03-10"}"#),
        proc_line(clean, "BidDeadlineSet", "2026-03-03T09:05:00+08:00", r#"{"at":"2026-03-24T09:30:00+08:00"}"#),
        proc_line(clean, "ObjectionFiled", "2026-03-10T15:00:00+08:00", r#"{"objection":"obj-1"}"#),
        proc_line(clean, "ObjectionAnswered", "2026-03-12T15:00:00+08:00", r#"{"objection":"obj-1"}"#),
        proc_line(clean, "BondTaken", "2026-03-20T09:00:00+08:00", r#"{"kind":"bid","amount_cents":7000000}"#),
        proc_line(clean, "BidsOpened", "2026-03-24T09:30:00+08:00", r#"{"bidders":5}"#),
        proc_line(clean, "EvaluationReported", "2026-03-24T17:00:00+08:00", r#"{"ranking":["华信科技","城南电子","渝东设备"]}"#),
        proc_line(clean, "ResultConfirmed", "2026-03-26T10:00:00+08:00", "{}"),
        proc_line(clean, "ResultPublished", "2026-03-27T10:00:00+08:00", "{}"),
        proc_line(clean, "AwardNoticeIssued", "2026-03-27T11:00:00+08:00", r#"{"winner":"华信科技","rank":1,"amount_cents":338000000}"#),
        proc_line(clean, "ContractSigned", "2026-04-10T10:00:00+08:00", r#"{"amount_cents":338000000}"#),
        proc_line(clean, "ContractPublished", "2026-04-13T10:00:00+08:00", "{}"),
        proc_line(clean, "ContractFiled", "2026-04-15T10:00:00+08:00", "{}"),
        proc_line(clean, "ProcurementClosed", "2026-04-20T10:00:00+08:00", "{}"),
        proc_line(bad, "ProcurementRegistered", "2026-03-02T09:00:00+08:00", registered),
        // On sale 3 working days; a deadline 10 days after the issue; opened half an hour late.
        proc_line(bad, "DocumentsIssued", "2026-03-03T09:00:00+08:00", r#"{"on_sale_until":"2026-03-05"}"#),
        proc_line(bad, "BidDeadlineSet", "2026-03-03T09:05:00+08:00", r#"{"at":"2026-03-13T09:30:00+08:00"}"#),
        proc_line(bad, "BidsOpened", "2026-03-13T10:00:00+08:00", r#"{"bidders":4}"#),
        // Never answered, never confirmed.
        proc_line(bad, "EnquiryFiled", "2026-03-16T09:00:00+08:00", r#"{"enquiry":"enq-1"}"#),
        proc_line(bad, "EvaluationReported", "2026-03-16T17:00:00+08:00", r#"{"ranking":["甲","乙","丙"]}"#),
    ];
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn workspace() -> Workspace {
    let ws = Workspace::new();
    let input = format!("{}{}", sample_district(), projects());
    let r = ws.run(&["import", "--historical", "-"], &input);
    assert_eq!(r.code, 0, "{r:?}");
    ws
}

fn json(r: &Run) -> serde_json::Value {
    assert_eq!(r.code, 0, "{r:?}");
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

fn show(ws: &Workspace, project: &str) -> serde_json::Value {
    json(&ws.run(
        &[
            "case",
            "show",
            project,
            "--now",
            "2026-04-30",
            "--format",
            "json",
        ],
        "",
    ))
}

/// The deadline `what` of a project view.
fn deadline<'a>(v: &'a serde_json::Value, what: &str) -> &'a serde_json::Value {
    v["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["what"] == what)
        .unwrap_or_else(|| panic!("no deadline {what}: {v}"))
}

#[test]
fn case_show_of_a_clean_project_has_its_dates_with_units_and_no_alert() {
    let ws = workspace();
    let v = show(&ws, "proc-2026-0001");
    assert_eq!(v["stream"], "proc-2026-0001");
    assert_eq!(v["kind"], "procurement");
    assert_eq!(v["regime"], "government");
    assert_eq!(v["method"], "open_tender");
    assert_eq!(v["budget_cents"], 350_000_000);
    assert_eq!(v["org"], "jiangjin/center/dept-05");
    assert_eq!(v["org_name"], "区政务服务中心");
    assert_eq!(v["status"], "closed");
    assert_eq!(v["closed_on"], "2026-04-20");
    assert_eq!(v["round"]["on_sale_until"], "2026-03-10");
    assert_eq!(v["round"]["bid_deadline"], "2026-03-24T09:30:00+08:00");
    assert_eq!(v["round"]["bidders"], 5);
    // 20 natural days from 03-03: 03-23, a Monday.
    let earliest = deadline(&v, "earliest_bid_deadline");
    assert_eq!(earliest["due_on"], "2026-03-23");
    assert_eq!(earliest["unit"], "natural");
    assert_eq!(earliest["days"], 20);
    assert_eq!(earliest["met"], true);
    // 5 working days of sale counting 03-03: 03-09.
    let sale = deadline(&v, "documents_on_sale");
    assert_eq!(sale["due_on"], "2026-03-09");
    assert_eq!(sale["unit"], "working");
    assert_eq!(sale["met"], true);
    // 5 working days after the report of Tuesday 03-24: 03-31.
    let confirmation = deadline(&v, "confirmation");
    assert_eq!(confirmation["due_on"], "2026-03-31");
    assert_eq!(confirmation["unit"], "working");
    assert_eq!(confirmation["done_on"], "2026-03-26");
    // 2 working days after Thursday 03-26: 03-30.
    assert_eq!(deadline(&v, "result")["due_on"], "2026-03-30");
    // 30 natural days after 03-27: 04-26, a Sunday, rolled to 04-27.
    let contract = deadline(&v, "contract");
    assert_eq!(contract["due_on"], "2026-04-27");
    assert_eq!(contract["unit"], "natural");
    assert_eq!(contract["met"], true);
    assert_eq!(deadline(&v, "contract_publish")["due_on"], "2026-04-14");
    assert_eq!(deadline(&v, "contract_file")["due_on"], "2026-04-21");
    // The objection of Tuesday 03-10 is due 3 natural days later.
    let objection = &v["objections"][0];
    assert_eq!(objection["id"], "obj-1");
    assert_eq!(objection["due_on"], "2026-03-13");
    assert_eq!(objection["unit"], "natural");
    assert_eq!(objection["answered_on"], "2026-03-12");
    assert_eq!(objection["met"], true);
    assert_eq!(v["bonds"][0]["kind"], "bid");
    assert_eq!(v["award"]["winner"], "华信科技");
    assert_eq!(v["contract"]["amount_cents"], 338_000_000);
    assert_eq!(v["contract"]["filed_on"], "2026-04-15");
    assert_eq!(v["alerts"], serde_json::json!([]), "{v}");
}

#[test]
fn case_show_of_a_violating_project_lists_its_alerts_and_missed_dates() {
    let ws = workspace();
    let v = show(&ws, "proc-2026-0002");
    assert_eq!(v["status"], "running");
    assert_eq!(
        proc_rules(&v["alerts"]),
        [
            "proc.confirmation.late",
            "proc.enquiry.late",
            "proc.opening.mismatch",
            "proc.sale.short",
            "proc.window.short",
        ]
    );
    for a in v["alerts"].as_array().unwrap() {
        assert_eq!(a["case"], "proc-2026-0002");
        assert!(a["id"].as_str().unwrap().starts_with("proc-2026-0002/"));
    }
    assert_eq!(deadline(&v, "earliest_bid_deadline")["met"], false);
    assert_eq!(deadline(&v, "documents_on_sale")["met"], false);
    let confirmation = deadline(&v, "confirmation");
    assert_eq!(confirmation["due_on"], "2026-03-23");
    assert_eq!(confirmation["done_on"], serde_json::Value::Null);
    assert_eq!(confirmation["met"], false);
    // 7 working days after Monday 03-16: 03-25.
    let enquiry = &v["enquiries"][0];
    assert_eq!(enquiry["due_on"], "2026-03-25");
    assert_eq!(enquiry["unit"], "working");
    assert_eq!(enquiry["answered_on"], serde_json::Value::Null);
    assert_eq!(enquiry["met"], false);
    // Before the enquiry's due date passed, it is open, and so is its alert.
    let early = json(&ws.run(
        &[
            "case",
            "show",
            "proc-2026-0002",
            "--now",
            "2026-03-20",
            "--format",
            "json",
        ],
        "",
    ));
    assert_eq!(early["enquiries"][0]["met"], serde_json::Value::Null);
    assert!(!proc_rules(&early["alerts"]).contains(&"proc.enquiry.late".to_owned()));
}

#[test]
fn case_show_table_of_a_project_names_the_units() {
    let ws = workspace();
    let r = ws.run(
        &["case", "show", "proc-2026-0002", "--now", "2026-04-30"],
        "",
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("20 natural days"), "{}", r.stdout);
    assert!(r.stdout.contains("7 working days"), "{}", r.stdout);
    assert!(r.stdout.contains("proc.window.short"), "{}", r.stdout);
    let unknown = ws.run(&["case", "show", "proc-2026-9999"], "");
    assert_ne!(unknown.code, 0, "{unknown:?}");
}

#[test]
fn alerts_kind_separates_projects_from_approval_cases() {
    let ws = workspace();
    let list = |kind: Option<&str>| {
        let mut args = vec!["alerts", "--now", "2026-04-30", "--format", "json"];
        if let Some(k) = kind {
            args.extend(["--kind", k]);
        }
        json(&ws.run(&args, ""))
    };
    let all = list(None);
    let procurement = list(Some("procurement"));
    let approval = list(Some("approval"));
    let is_proc = |a: &serde_json::Value| a["rule"].as_str().unwrap().starts_with("proc.");
    let on_project = |a: &serde_json::Value| a["case"].as_str().unwrap().starts_with("proc-");
    assert_eq!(proc_rules(&procurement).len(), 5, "{procurement}");
    let procurement = procurement.as_array().unwrap();
    let approval = approval.as_array().unwrap();
    // The projects' alerts: their proc.* rules and the card lifecycle's on their cards.
    assert!(procurement.iter().all(on_project), "{procurement:?}");
    assert!(procurement.iter().any(|a| !is_proc(a)), "{procurement:?}");
    assert!(!approval.is_empty());
    assert!(!approval.iter().any(is_proc), "{approval:?}");
    assert!(!approval.iter().any(on_project), "{approval:?}");
    assert_eq!(
        procurement.len() + approval.len(),
        all.as_array().unwrap().len()
    );
    let bad = ws.run(&["alerts", "--kind", "parking"], "");
    assert_ne!(bad.code, 0, "{bad:?}");
}
