//! `report` through the binary on the sample district: the JSON, CSV and table contracts, the
//! entries behind a row, and the share of items handled in the center.

use crate::alert_lists::alert_ids;
use crate::support::*;

/// `jiancha report --period 2026-03 --now 2026-04-30` with `extra` arguments.
fn march(ws: &Workspace, extra: &[&str]) -> Run {
    let mut args = vec!["report", "--period", "2026-03", "--now", "2026-04-30"];
    args.extend_from_slice(extra);
    ws.run(&args, "")
}

fn sample() -> Workspace {
    let ws = Workspace::new();
    let sample = sample_district();
    // The district's past, imported at once: declared history, so nothing counts as back-dated.
    let r = ws.run(&["import", "--historical", "-"], &sample);
    assert_eq!(r.code, 0, "{r:?}");
    ws
}

#[test]
fn the_json_report_has_the_contract_fields_and_four_decimal_rates() {
    let ws = sample();
    let r = march(&ws, &["--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("\"on_time_rate\": 1.0000"),
        "{}",
        r.stdout
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["period"], "2026-03");
    let rows = v["rows"].as_array().unwrap();
    let fields = [
        "org",
        "accepted",
        "concluded",
        "on_time",
        "on_time_rate",
        "early",
        "early_rate",
        "statutory_on_time",
        "overdue_open",
        "yellow",
        "red",
        "rated",
        "satisfied",
        "satisfaction_rate",
        "bad_rated",
        "complaints",
        "score",
    ];
    for row in rows {
        let keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for f in fields {
            assert!(keys.contains(&f), "{f} missing in {row}");
        }
    }
    let orgs: Vec<&str> = rows.iter().map(|r| r["org"].as_str().unwrap()).collect();
    let mut sorted = orgs.clone();
    sorted.sort_unstable();
    assert_eq!(orgs, sorted, "rows sorted by path");
    let town = rows
        .iter()
        .find(|r| r["org"] == "jiangjin/town-07/window-1")
        .unwrap();
    // case-2026-000103: overdue at the end of March; in March two red cards (the unlawful
    // suspension, the promised overdue), four yellow (the late extension, the stall, and each red
    // card unacknowledged a working day later) and one prompt (the promised-limit warning, not
    // a card).
    assert_eq!(
        (
            town["overdue_open"].as_i64(),
            town["red"].as_i64(),
            town["yellow"].as_i64(),
            town["warnings"].as_i64()
        ),
        (Some(1), Some(2), Some(4), Some(1))
    );
    let depth = march(&ws, &["--format", "json", "--depth", "2"]);
    let v: serde_json::Value = serde_json::from_str(&depth.stdout).unwrap();
    assert!(v["rows"].as_array().unwrap().iter().all(|r| r["org"]
        .as_str()
        .unwrap()
        .split('/')
        .count()
        <= 2));
}

#[test]
fn csv_table_explain_and_items() {
    let ws = sample();
    let csv = march(&ws, &["--format", "csv", "--by", "channel"]);
    assert!(
        csv.stdout
            .starts_with("channel,accepted,concluded,on_time,on_time_rate,"),
        "{csv:?}"
    );
    let table = march(&ws, &[]);
    assert!(table.stdout.contains(
        "targets: on-time completion 100%, satisfaction >= 95%, items handled in the center 100%"
    ));
    assert!(
        table.stdout.contains("items handled in the center: 2 of 3"),
        "{}",
        table.stdout
    );
    let explain = ws.run(
        &[
            "report",
            "explain",
            "--org",
            "jiangjin/center/dept-07",
            "--period",
            "2026-03",
            "--now",
            "2026-04-30",
        ],
        "",
    );
    assert_eq!(explain.code, 0, "{explain:?}");
    assert!(
        explain.stdout.contains(" reverses "),
        "the exemption's reversals are listed: {}",
        explain.stdout
    );
    let items = ws.run(&["report", "items", "--format", "json"], "");
    let v: serde_json::Value = serde_json::from_str(&items.stdout).unwrap();
    assert_eq!(
        (v["items"].as_i64(), v["in_center"].as_i64()),
        (Some(3), Some(2))
    );
    assert_eq!(v["outside"][0]["code"], "MZ-002");
    let bad = ws.run(&["report", "--period", "2026-13"], "");
    assert_eq!(bad.code, 2, "{bad:?}");
    let scoring = ws.write("scoring.toml", "yellow_points = -1\nred_points = -2\n");
    let custom = march(
        &ws,
        &["--format", "json", "--scoring", scoring.to_str().unwrap()],
    );
    let v: serde_json::Value = serde_json::from_str(&custom.stdout).unwrap();
    let town = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["org"] == "jiangjin/town-07/window-1")
        .unwrap()
        .clone();
    assert_eq!(
        town["score"],
        100 - 4 - 4,
        "4 yellow at -1, 2 red at -2, one warning (the third would cost 3)"
    );
    // The explanation under the same scheme: its points and row are the report's.
    let explained = ws.run(
        &[
            "report",
            "explain",
            "--org",
            "jiangjin/town-07/window-1",
            "--period",
            "2026-03",
            "--format",
            "json",
            "--scoring",
            scoring.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(explained.code, 0, "{explained:?}");
    let e: serde_json::Value = serde_json::from_str(&explained.stdout).unwrap();
    assert_eq!(e["totals"]["points"], -8, "{e}");
    assert_eq!(e["row"]["score"], town["score"], "{e}");
    let wrong = ws.write("wrong.toml", "purple_points = 3\n");
    assert_eq!(
        ws.run(
            &[
                "report",
                "--period",
                "2026-03",
                "--scoring",
                wrong.to_str().unwrap()
            ],
            ""
        )
        .code,
        2
    );
}

/// The workflow's measures in every format, from the golden card-lifecycle scenario (worked by
/// hand in its comments): three orders in September, two corrected on time (the rate 2/3), one
/// gone overdue — counted in September, the month of the order, while its card counts in
/// October, when it was raised.
#[test]
fn the_workflow_measures_agree_in_json_csv_and_the_table() {
    let ws = Workspace::new();
    let scenario = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../projections/testdata/scenarios/workflow_card_lifecycle_around_national_day.jsonl"
    ))
    .unwrap();
    // The client's events (the engine's notice record is not input).
    let input: String = scenario
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let r = ws.run(&["import", "--historical", "-"], &input);
    assert_eq!(r.code, 0, "{r:?}");
    let args = [
        "report",
        "--period",
        "2026-09",
        "--now",
        "2026-10-12T12:00:00+08:00",
    ];
    let unit = "jiangjin/center/dept-03/window-1";
    let row_of = |r: &Run| -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["org"] == unit)
            .unwrap()
            .clone()
    };
    let row = row_of(&ws.run(&[&args[..], &["--format", "json"]].concat(), ""));
    assert_eq!(row["ordered"], 3);
    assert_eq!(row["corrected_on_time"], 2);
    assert_eq!(row["correction_rate"].to_string(), "0.6667");
    let csv = ws.run(&[&args[..], &["--format", "csv"]].concat(), "");
    let mut lines = csv.stdout.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let line = lines.find(|l| l.starts_with(&format!("{unit},"))).unwrap();
    let cells: Vec<&str> = line.split(',').collect();
    let cell = |name: &str| cells[header.iter().position(|h| *h == name).unwrap()];
    for (name, want) in [
        ("ordered", "3"),
        ("corrected_on_time", "2"),
        ("correction_rate", "0.6667"),
        ("correction_overdue", "1"),
        ("bad_valid", "0"),
        ("rectification_rate", ""),
    ] {
        assert_eq!(cell(name), want, "{name} in {line}");
    }
    // The overdue order's card counts in October, when it was raised; the order's lateness
    // stays in September with the order.
    let october = ws.run(
        &[
            "report",
            "--period",
            "2026-10",
            "--now",
            "2026-10-12T12:00:00+08:00",
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(row_of(&october)["correction_overdue"], 0);
    assert!(row_of(&october)["red"].as_i64().unwrap() >= 1);
    let table = ws.run(&args, "");
    let head = table.stdout.lines().find(|l| l.starts_with("KEY")).unwrap();
    for heading in ["ORDERED", "CORR", "ORD_LATE", "RECTIFY", "UPHELD"] {
        assert!(head.contains(heading), "{head}");
    }
    let unit_line = table.stdout.lines().find(|l| l.starts_with(unit)).unwrap();
    assert!(unit_line.contains("0.6667"), "{unit_line}");
    // The escalated alert is on the alert list of the org it was escalated to, too.
    let bureau = ws.run(
        &[
            "alerts",
            "--org",
            "jiangjin/supervision",
            "--now",
            "2026-10-12T12:00:00+08:00",
            "--format",
            "json",
        ],
        "",
    );
    let v: serde_json::Value = serde_json::from_str(&bureau.stdout).unwrap();
    let ids = alert_ids(&v);
    assert_eq!(ids, ["case-d/supervision.escalated/1"]);
    assert_eq!(v[0]["escalated_to"], "jiangjin/supervision");
    assert_eq!(v[0]["org"], unit);
}

/// An option the report would ignore is refused, naming it (exit 2): `--org` on the approval
/// report, `--depth` with another grouping than org paths, csv for `explain` and `items`.
#[test]
fn options_the_report_would_ignore_are_refused() {
    let ws = sample();
    for (extra, flag) in [
        (
            &["--kind", "approval", "--org", "jiangjin/town-01"][..],
            "--org",
        ),
        (&["--by", "item", "--depth", "1"], "--depth"),
    ] {
        let r = march(&ws, extra);
        assert_eq!(r.code, 2, "{extra:?}: {r:?}");
        assert!(r.stderr.contains(flag), "{r:?}");
    }
    for command in [
        &[
            "report", "explain", "--org", "jiangjin", "--period", "2026-03", "--format", "csv",
        ][..],
        &["report", "items", "--format", "csv"],
    ] {
        let r = ws.run(command, "");
        assert_eq!(r.code, 2, "{command:?}: {r:?}");
        assert!(r.stderr.contains("--format"), "{r:?}");
    }
}
