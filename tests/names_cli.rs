//! Names for orgs and items through the binary: `catalog define-org` and `define-item` (with
//! `--dry-run` printing a line `import` takes), `catalog list` and `show`, the latest name
//! winning, mistakes refused naming the flag, and the views showing names beside codes.

use crate::support::*;

const AT: &str = "2026-03-02T09:00:00+08:00";

fn ok(r: Run) -> String {
    assert_eq!(r.code, 0, "{r:?}");
    r.stdout
}

fn json(r: Run) -> serde_json::Value {
    let out = ok(r);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn a_dry_run_prints_a_line_import_takes_and_a_redefinition_renames() {
    let ws = Workspace::new();
    let define = |name: &str, extra: &[&str]| {
        let mut args = vec![
            "catalog",
            "define-org",
            "--path",
            "jiangjin/center/dept-07",
            "--name",
            name,
            "--kind",
            "department",
        ];
        args.extend_from_slice(extra);
        ws.run_at(AT, &args, "")
    };
    let show_org = || {
        json(ws.run(
            &[
                "catalog",
                "show",
                "jiangjin/center/dept-07",
                "--format",
                "json",
            ],
            "",
        ))
    };
    let line = ok(define("区工商局", &["--dry-run"]));
    assert_eq!(line.lines().count(), 1, "{line}");
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["type"], "OrgDefined");
    assert_eq!(v["stream"], "catalog");
    assert_eq!(
        v["data"],
        serde_json::json!({"path": "jiangjin/center/dept-07", "name": "区工商局", "kind": "department"})
    );
    assert!(ws.export().is_empty(), "a dry run writes nothing");
    assert_eq!(
        ok(ws.run_at(AT, &["import", "-"], &line)),
        "imported 1 events (positions 1..1)\n"
    );
    let shown = show_org();
    assert_eq!(shown["name"], "区工商局");

    let appended = ok(define("区市场监管局", &[]));
    assert_eq!(appended, "appended OrgDefined at position 2\n");
    let shown = show_org();
    assert_eq!(shown["name"], "区市场监管局", "the latest name wins");
    assert_eq!(shown["kind"], "department");
    let table = ok(ws.run(&["catalog", "show", "jiangjin/center/dept-07"], ""));
    assert!(
        table.contains("区市场监管局") && !table.contains("区工商局"),
        "{table}"
    );
}

#[test]
fn define_item_appends_and_list_shows_items_with_their_orgs_names() {
    let ws = Workspace::new();
    let item = [
        "catalog",
        "define-item",
        "--code",
        "SC-001",
        "--name",
        "个体工商户设立登记",
        "--org",
        "jiangjin/center/dept-07",
        "--statutory-days",
        "20",
        "--promised-days",
        "5",
        "--fee-cents",
        "1000",
        "--steps",
        "审查,决定",
        "--materials",
        "身份证,经营场所证明",
        "--in-center",
    ];
    let mut dry = item.to_vec();
    dry.push("--dry-run");
    let line = ok(ws.run_at(AT, &dry, ""));
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["data"]["steps"], serde_json::json!(["审查", "决定"]));
    assert_eq!(
        v["data"]["required_materials"],
        serde_json::json!(["身份证", "经营场所证明"])
    );
    assert_eq!(v["data"]["in_center"], true);
    assert_eq!(v["data"]["fee_cents"], 1000);
    ok(ws.run_at(AT, &item, ""));
    ok(ws.run_at(
        AT,
        &[
            "catalog",
            "define-org",
            "--path",
            "jiangjin/center/dept-07",
            "--name",
            "区市场监管局",
            "--kind",
            "department",
        ],
        "",
    ));
    let list = json(ws.run(&["catalog", "list", "--format", "json"], ""));
    assert_eq!(list["items"][0]["code"], "SC-001");
    assert_eq!(list["items"][0]["name"], "个体工商户设立登记");
    assert_eq!(list["items"][0]["org_name"], "区市场监管局");
    assert_eq!(
        list["orgs"],
        serde_json::json!([{"path": "jiangjin/center/dept-07", "name": "区市场监管局", "kind": "department"}])
    );
    let table = ok(ws.run(&["catalog", "list"], ""));
    assert!(
        table.contains("SC-001") && table.contains("个体工商户设立登记"),
        "{table}"
    );
    assert!(table.ends_with("1 items, 1 named orgs\n"), "{table}");
    let shown = ok(ws.run(&["catalog", "show", "SC-001"], ""));
    assert!(
        shown.contains("jiangjin/center/dept-07 区市场监管局"),
        "{shown}"
    );
}

#[test]
fn mistakes_exit_2_naming_the_flag_and_write_nothing() {
    let ws = Workspace::new();
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "catalog",
                "define-org",
                "--path",
                "a//b",
                "--name",
                "x",
                "--kind",
                "town",
            ],
            "--path",
        ),
        (
            &[
                "catalog",
                "define-org",
                "--path",
                "jiangjin/x",
                "--name",
                " ",
                "--kind",
                "town",
            ],
            "--name",
        ),
        (
            &[
                "catalog",
                "define-org",
                "--path",
                "jiangjin/x",
                "--name",
                "x",
                "--kind",
                "city",
            ],
            "--kind",
        ),
        (
            &[
                "catalog",
                "define-item",
                "--code",
                "X-1",
                "--name",
                "x",
                "--org",
                "jiangjin/x",
                "--statutory-days",
                "3",
                "--promised-days",
                "5",
            ],
            "--promised-days",
        ),
    ];
    for (args, flag) in cases {
        let r = ws.run_at(AT, args, "");
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains(flag), "{args:?} names {flag}: {r:?}");
    }
    assert!(ws.export().is_empty(), "nothing was written");
    let line = r#"{"stream":"catalog","type":"OrgDefined","occurred_at":"2026-03-02T09:00:00+08:00","actor":"admin","org":"jiangjin","data":{"path":"jiangjin","name":"江津区","kind":"district"}}"#;
    ok(ws.run_at(AT, &["import", "-"], line));
    let r = ws.run(&["catalog", "show", "NO-SUCH"], "");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("NO-SUCH"), "{r:?}");
}

#[test]
fn the_views_show_names_beside_the_codes() {
    let ws = Workspace::new();
    ok(ws.run(&["import", "--historical", "-"], &sample_district()));
    let case = json(ws.run(
        &[
            "case",
            "show",
            "case-2026-000102",
            "--now",
            "2026-04-30",
            "--format",
            "json",
        ],
        "",
    ));
    assert_eq!(case["item"], "JS-014");
    assert_eq!(case["item_name"], "建设工程规划许可");
    assert_eq!(case["org_name"], "区规划自然资源局2号窗口");
    let table = ok(ws.run(
        &["case", "show", "case-2026-000102", "--now", "2026-04-30"],
        "",
    ));
    assert!(table.contains("JS-014 建设工程规划许可"), "{table}");

    let alerts = json(ws.run(&["alerts", "--now", "2026-04-30", "--format", "json"], ""));
    let alerts = alerts.as_array().unwrap();
    assert!(!alerts.is_empty());
    for a in alerts {
        assert!(a["org_name"].is_string(), "every sample org is named: {a}");
    }
    assert!(alerts.iter().any(|a| a["item_name"].is_string()));

    let report = json(ws.run(
        &[
            "report",
            "--period",
            "2026-03",
            "--now",
            "2026-04-30",
            "--format",
            "json",
        ],
        "",
    ));
    assert_eq!(report["rows"][0]["org"], "jiangjin");
    assert_eq!(report["rows"][0]["name"], "江津区");
    let csv = ok(ws.run(
        &[
            "report",
            "--period",
            "2026-03",
            "--now",
            "2026-04-30",
            "--by",
            "item",
            "--format",
            "csv",
        ],
        "",
    ));
    assert!(csv.starts_with("item,name,accepted,"), "{csv}");
    assert!(csv.contains("\nJS-014,建设工程规划许可,"), "{csv}");
    let table = ok(ws.run(
        &["report", "--period", "2026-03", "--now", "2026-04-30"],
        "",
    ));
    assert!(
        table.contains("NAME") && table.contains("区市场监管局"),
        "{table}"
    );
}
