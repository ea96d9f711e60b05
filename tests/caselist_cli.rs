//! `jiancha case list` through the binary, on the sample district at 2026-03-20 (a Friday):
//! the filters alone and combined, the due window counted in working days, the JSON and CSV
//! contracts, and `--kind` refusing what it does not list.

use crate::support::*;

fn sample() -> Workspace {
    let ws = Workspace::new();
    assert_eq!(
        ws.run(&["import", "--historical", "-"], &sample_district())
            .code,
        0
    );
    ws
}

/// The CSV rows of `case list --now 2026-03-20 <flags>`, header checked and dropped.
fn rows(ws: &Workspace, flags: &[&str]) -> Vec<String> {
    let mut args = vec!["case", "list", "--now", "2026-03-20", "--format", "csv"];
    args.extend_from_slice(flags);
    let r = ws.run(&args, "");
    assert_eq!(r.code, 0, "{r:?}");
    let mut lines = r.stdout.lines();
    assert_eq!(
        lines.next(),
        Some("stream,item,org,status,promised_due_on,remaining_days,overdue,open_alerts")
    );
    lines.map(str::to_owned).collect()
}

fn streams(ws: &Workspace, flags: &[&str]) -> Vec<String> {
    rows(ws, flags)
        .iter()
        .map(|r| r.split(',').next().unwrap().to_owned())
        .collect()
}

#[test]
fn filters_combine_and_rows_sort_by_due_date() {
    let ws = sample();
    // Every case, by promised due date (the rejected one, without one, last).
    assert_eq!(
        streams(&ws, &[]),
        [
            "case-2026-000101",
            "case-2026-000103",
            "case-2026-000105",
            "case-2026-000102",
            "case-2026-000104"
        ]
    );
    // 000102 is due Monday 03-30: the 6th working day after Friday 03-20, not the 5th.
    assert_eq!(streams(&ws, &["--due-within", "5"]), Vec::<String>::new());
    assert_eq!(
        rows(&ws, &["--due-within", "6"]),
        ["case-2026-000102,JS-014,jiangjin/center/dept-07/window-2,running,2026-03-30,6,false,0"]
    );
    assert_eq!(streams(&ws, &["--due-within", "0"]), Vec::<String>::new());
    // A window past the calendar's last day (2100-12-31) takes every case due from today on,
    // never fewer than a narrower window.
    for days in ["19000", "100000", "4294967295"] {
        assert_eq!(
            streams(&ws, &["--due-within", days]),
            streams(&ws, &["--due-within", "6"]),
            "{days}"
        );
    }
    let overdue = rows(&ws, &["--overdue"]);
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    assert!(
        overdue[0].starts_with(
            "case-2026-000103,MZ-002,jiangjin/town-07/window-1,running,2026-03-13,-5,true,"
        ),
        "{overdue:?}"
    );
    assert_eq!(
        streams(&ws, &["--overdue", "--org", "jiangjin/center"]),
        Vec::<String>::new()
    );
    assert_eq!(
        streams(&ws, &["--overdue", "--org", "jiangjin/town-07"]),
        ["case-2026-000103"]
    );
    // Segment-wise: jiangjin/town-0 is no prefix of jiangjin/town-07.
    assert_eq!(
        streams(&ws, &["--org", "jiangjin/town-0"]),
        Vec::<String>::new()
    );
    assert_eq!(
        streams(&ws, &["--item", "BL-001"]),
        ["case-2026-000101", "case-2026-000105", "case-2026-000104"]
    );
    assert_eq!(
        streams(&ws, &["--item", "BL-001", "--status", "withdrawn"]),
        ["case-2026-000105"]
    );
    assert_eq!(
        streams(
            &ws,
            &[
                "--status",
                "running",
                "--org",
                "jiangjin/center",
                "--kind",
                "approval"
            ]
        ),
        ["case-2026-000102"]
    );
    assert_eq!(
        streams(&ws, &["--limit", "2"]),
        ["case-2026-000101", "case-2026-000103"]
    );
}

#[test]
fn json_rows_agree_with_case_show() {
    let ws = sample();
    let r = ws.run(
        &[
            "case",
            "list",
            "--now",
            "2026-03-20",
            "--due-within",
            "6",
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(r.code, 0, "{r:?}");
    let list: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let row = &list[0];
    let shown = ws.run(
        &[
            "case",
            "show",
            "case-2026-000102",
            "--now",
            "2026-03-20",
            "--format",
            "json",
        ],
        "",
    );
    let shown: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    for field in [
        "stream",
        "item",
        "org",
        "status",
        "promised_due_on",
        "remaining_days",
    ] {
        assert_eq!(row[field], shown[field], "{field}");
    }
    assert_eq!(row["overdue"], false);
    assert_eq!(row["open_alerts"], 0);
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    let ws = sample();
    for (flags, flag) in [
        (&["--kind", "procurement"][..], "--kind"),
        (&["--status", "open"][..], "--status"),
        (&["--org", "jiangjin/../x"][..], "--org"),
    ] {
        let mut args = vec!["case", "list"];
        args.extend_from_slice(flags);
        let r = ws.run(&args, "");
        assert_eq!(r.code, 2, "{flags:?}: {r:?}");
        assert!(r.stderr.contains(flag), "{flags:?}: {}", r.stderr);
    }
    let table = ws.run(&["case", "list", "--now", "2026-03-20", "--overdue"], "");
    assert_eq!(table.code, 0, "{table:?}");
    assert!(table.stdout.starts_with("CASE "), "{}", table.stdout);
    assert!(table.stdout.ends_with("1 cases\n"), "{}", table.stdout);
}
