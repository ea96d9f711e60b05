//! `case show` and `alerts` through the binary, on the sample district: the JSON contracts, the
//! filters, and evaluation at an explicit instant.

use crate::alert_lists::alert_ids;
use crate::support::*;

fn sample() -> Workspace {
    let ws = Workspace::new();
    let sample = sample_district();
    assert_eq!(ws.run(&["import", "--historical", "-"], &sample).code, 0);
    ws
}

fn json(r: &Run) -> serde_json::Value {
    assert_eq!(r.code, 0, "{r:?}");
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

#[test]
fn case_show_json_has_the_contract_fields_with_hand_checked_values() {
    let ws = sample();
    let v = json(&ws.run(
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
    for field in [
        "stream",
        "item",
        "org",
        "status",
        "clock_start_on",
        "promised_limit_days",
        "statutory_limit_days",
        "promised_due_on",
        "statutory_due_on",
        "provisional",
        "used_days",
        "remaining_days",
        "concluded_on",
        "on_time",
        "statutory_on_time",
        "early",
    ] {
        assert!(v.get(field).is_some(), "missing {field}: {v}");
    }
    // Accepted 03-09, suspended 03-11..03-18 (5 working days not counted), promised 10.
    assert_eq!(v["promised_due_on"], "2026-03-30");
    assert_eq!(v["statutory_due_on"], "2026-04-14");
    assert_eq!(v["status"], "concluded");
    assert_eq!(v["on_time"], true);
    assert_eq!(v["early"], false);
}

#[test]
fn case_show_at_an_earlier_instant_sees_only_what_had_happened() {
    let ws = sample();
    let v = json(&ws.run(
        &[
            "case",
            "show",
            "case-2026-000102",
            "--now",
            "2026-03-12T12:00:00+08:00",
            "--format",
            "json",
        ],
        "",
    ));
    assert_eq!(v["status"], "suspended");
    assert_eq!(
        v["promised_due_on"],
        serde_json::Value::Null,
        "open while suspended"
    );
    assert_eq!(v["statutory_due_on"], serde_json::Value::Null);
    let r = ws.run(
        &["case", "show", "case-2026-000102", "--now", "2026-03-01"],
        "",
    );
    assert_eq!(r.code, 2, "not yet submitted then: {r:?}");
    let r = ws.run(
        &["case", "show", "case-2026-000102", "--now", "yesterday"],
        "",
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--now"), "{r:?}");
}

#[test]
fn alerts_filter_by_state_org_and_rule() {
    let ws = sample();
    let all = json(&ws.run(&["alerts", "--now", "2026-04-30", "--format", "json"], ""));
    let all = all.as_array().unwrap();
    // Eight of the deadline rules; three red cards nobody acknowledged within a working day; a
    // bad rating the center did not verify in time.
    assert_eq!(all.len(), 12, "{all:?}");
    for a in all {
        for field in [
            "id",
            "case",
            "rule",
            "severity",
            "raised_at",
            "closed_at",
            "org",
        ] {
            assert!(a.get(field).is_some(), "missing {field}: {a}");
        }
    }
    let open = json(&ws.run(
        &[
            "alerts",
            "--open",
            "--now",
            "2026-04-30",
            "--format",
            "json",
        ],
        "",
    ));
    let ids = alert_ids(&open);
    assert_eq!(
        ids,
        [
            // Unlawful (no notice): it stops no clock. Promised 7 from 03-04: due 03-13, the
            // prompt at the end of 03-12, overdue from 03-14T00:00. The extension of 03-20 came
            // after the due date: excessive, and it adds nothing (no second prompt). Stalled from
            // the end of 03-27 (5 working days after 03-20); statutory due 04-01. Each red card
            // unacknowledged when the working day after it ends: 03-10 (raised Mon 03-09), 03-16
            // (raised Sat 03-14), 04-03 (raised Thu 04-02).
            "case-2026-000103/suspension.unlawful/1",
            "case-2026-000103/supervision.unacknowledged/1",
            "case-2026-000103/deadline.promised.warning/1",
            "case-2026-000103/deadline.promised.overdue/1",
            "case-2026-000103/supervision.unacknowledged/2",
            "case-2026-000103/extension.excessive/1",
            "case-2026-000103/case.stalled/1",
            "case-2026-000103/deadline.statutory.overdue/1",
            "case-2026-000103/supervision.unacknowledged/3",
        ]
    );
    let red = json(&ws.run(
        &[
            "alerts",
            "--now",
            "2026-04-30",
            "--rule",
            "deadline.promised.overdue",
            "--format",
            "json",
        ],
        "",
    ));
    assert_eq!(red.as_array().unwrap().len(), 1);
    // Due 03-13 (the unlawful suspension and the late extension move nothing).
    assert_eq!(red[0]["raised_at"], "2026-03-14T00:00:00+08:00");
    let town = json(&ws.run(
        &[
            "alerts",
            "--now",
            "2026-04-30",
            "--org",
            "jiangjin/town-07",
            "--format",
            "json",
        ],
        "",
    ));
    assert!(town
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["case"] == "case-2026-000103"));
    let none = json(&ws.run(
        &[
            "alerts",
            "--now",
            "2026-04-30",
            "--org",
            "jiangjin/town-0",
            "--format",
            "json",
        ],
        "",
    ));
    assert_eq!(
        none.as_array().unwrap().len(),
        0,
        "org prefixes match whole segments"
    );
    let r = ws.run(&["alerts", "--rule", "deadline.nope"], "");
    assert_eq!(r.code, 2, "{r:?}");
    // Before the overdue instant the overdue alert is not there yet: raised by the clock.
    let early = json(&ws.run(
        &[
            "alerts",
            "--now",
            "2026-03-13T23:59:59+08:00",
            "--rule",
            "deadline.promised.overdue",
            "--format",
            "json",
        ],
        "",
    ));
    assert_eq!(early.as_array().unwrap().len(), 0);
}
