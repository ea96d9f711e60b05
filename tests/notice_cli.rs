//! `jiancha notice` through the binary: an alert that is not escalated has no 监察建议书 (exit
//! 2, saying so), nor has an id that is no alert. The notice's content is tested on the
//! renderer (`jiancha_server::notice`).

use crate::support::*;

fn sample() -> Workspace {
    let ws = Workspace::new();
    let sample = sample_district();
    assert_eq!(ws.run(&["import", "--historical", "-"], &sample).code, 0);
    ws
}

#[test]
fn a_card_that_is_not_escalated_has_no_notice() {
    let ws = sample();
    let alerts = ws.run(&["alerts", "--now", "2026-04-30", "--format", "json"], "");
    assert_eq!(alerts.code, 0, "{alerts:?}");
    let alerts: serde_json::Value = serde_json::from_str(&alerts.stdout).unwrap();
    let card = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["escalated_to"].is_null() && a["severity"] != "warning")
        .expect("the sample district raises a card");
    let id = card["id"].as_str().unwrap();
    let out = ws.path("notice.html");
    let run = ws.run(
        &[
            "notice",
            id,
            "--now",
            "2026-04-30",
            "--output",
            out.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("is not escalated"), "{}", run.stderr);
    assert!(run.stderr.contains(id), "{}", run.stderr);
    assert!(!out.exists());

    let run = ws.run(&["notice", "case-2026-000102"], "");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("not an alert id"), "{}", run.stderr);
    let run = ws.run(&["notice", "case-none/fee.mismatch/1"], "");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no alert"), "{}", run.stderr);
}

#[test]
fn notice_help_has_examples() {
    let run = Workspace::new().run(&["notice", "--help"], "");
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Examples:"), "{}", run.stdout);
    assert!(run.stdout.contains("--output"), "{}", run.stdout);
}
