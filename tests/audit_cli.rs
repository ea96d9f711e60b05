//! The audit trail through the binary: `history --as-of T` shows exactly what `case show --now
//! T` and `alerts --now T` printed when the log ended at T; every kind of tampering is named at
//! its position; verification resumes from an attested checkpoint; evidence packs re-check
//! their hashes.

use crate::support::*;

fn json(r: &Run) -> serde_json::Value {
    assert_eq!(r.code, 0, "{r:?}");
    serde_json::from_str(&r.stdout).unwrap()
}

/// The sample district's lines, grouped by the day they occurred.
fn sample_by_day() -> Vec<(String, String)> {
    let text = sample_district();
    let mut days: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let day = v["occurred_at"].as_str().unwrap()[..10].to_owned();
        match days.iter_mut().find(|(d, _)| *d == day) {
            Some((_, lines)) => {
                lines.push_str(line);
                lines.push('\n');
            }
            None => days.push((day, format!("{line}\n"))),
        }
    }
    days.sort_by(|a, b| a.0.cmp(&b.0));
    days
}

#[test]
fn history_as_of_t_equals_what_case_show_and_alerts_printed_at_t() {
    let ws = Workspace::new();
    let cases = ["case-2026-000102", "case-2026-000103"];
    let mut recorded = Vec::new();
    for (day, lines) in sample_by_day() {
        // Each day's events are entered that evening, as a live system would record them.
        let t = format!("{day}T20:00:00+08:00");
        assert_eq!(ws.run_at(&t, &["import"], &lines).code, 0);
        for case in cases {
            let show = ws.run_at(
                &t,
                &["case", "show", case, "--now", &t, "--format", "json"],
                "",
            );
            if show.code != 0 {
                continue; // not submitted yet
            }
            let alerts = json(&ws.run_at(&t, &["alerts", "--now", &t, "--format", "json"], ""));
            let mine: Vec<_> = alerts
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["case"] == case)
                .cloned()
                .collect();
            recorded.push((t.clone(), case, json(&show), serde_json::Value::Array(mine)));
        }
    }
    assert!(recorded.len() > 10, "several months of checkpoints");
    // Later, with the whole log in place, look back.
    let later = "2026-11-30T12:00:00+08:00";
    for (t, case, show, alerts) in recorded {
        let h = json(&ws.run_at(
            later,
            &["history", case, "--as-of", &t, "--format", "json"],
            "",
        ));
        assert_eq!(h["state"], show, "{case} as of {t}");
        assert_eq!(h["alerts"], alerts, "{case} alerts as of {t}");
    }
}

#[test]
fn history_names_the_position_behind_each_change() {
    let ws = Workspace::new();
    for (day, lines) in sample_by_day() {
        ws.run_at(&format!("{day}T20:00:00+08:00"), &["import"], &lines);
    }
    let h = json(&ws.run(
        &[
            "history",
            "case-2026-000103",
            "--as-of",
            "2026-03-31",
            "--format",
            "json",
        ],
        "",
    ));
    let events = h["events"].as_array().unwrap();
    let derived = |e: &serde_json::Value, change: &str| -> Vec<serde_json::Value> {
        e["derived"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["change"] == change)
            .cloned()
            .collect()
    };
    // The acceptance sets the promised due date: 7 working days from 03-04 is 03-13 (the
    // unlawful suspension of 03-09 stops nothing).
    let accepted = events.iter().find(|e| e["type"] == "Accepted").unwrap();
    let set = derived(accepted, "promised_due");
    assert_eq!(set[0]["to"], "2026-03-13", "{set:?}");
    assert_eq!(set[0]["caused_by"], accepted["position"]);
    // The extension of 03-20 came after that date: it moves nothing and raises its card.
    let extended = events.iter().find(|e| e["type"] == "Extended").unwrap();
    assert!(derived(extended, "promised_due").is_empty(), "{extended}");
    let raised = derived(extended, "alert_raised");
    assert!(
        raised.iter().any(|d| d["to"]
            .as_str()
            .unwrap()
            .starts_with("case-2026-000103/extension.excessive/1")
            && d["caused_by"] == extended["position"]),
        "{raised:?}"
    );
    let clock: Vec<&str> = h["clock"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["to"].as_str().unwrap())
        .collect();
    // The promised-overdue card the clock raised on 03-14 came up when the case's next event
    // (the resumption of 03-16) was folded, and names it; after the last event the clock
    // raised the stall.
    let resumed = events.iter().find(|e| e["type"] == "Resumed").unwrap();
    assert!(
        derived(resumed, "alert_raised").iter().any(|d| d["to"]
            .as_str()
            .unwrap()
            .starts_with("case-2026-000103/deadline.promised.overdue/1")
            && d["caused_by"] == resumed["position"]),
        "{resumed}"
    );
    assert!(
        clock
            .iter()
            .any(|c| c.starts_with("case-2026-000103/case.stalled/1")),
        "{clock:?}"
    );
    // Nothing recorded after the instant shows up.
    assert!(events
        .iter()
        .all(|e| e["recorded_at"].as_str().unwrap() <= "2026-03-31T24"));
}

fn log_of_six() -> Workspace {
    let ws = Workspace::new();
    let mut text = String::new();
    for c in 0..3 {
        text.push_str(&format!(
            "{}\n{}\n",
            submitted(&format!("case-{c}")),
            step(&format!("case-{c}"), "审查")
        ));
    }
    assert_eq!(ws.run(&["import"], &text).code, 0);
    ws
}

fn sql(ws: &Workspace, statements: &[String]) {
    let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
    ws.tamper(&statements);
}

fn broken_at(ws: &Workspace) -> String {
    let r = ws.run(&["verify"], "");
    assert_eq!(r.code, 1, "{r:?}");
    r.stdout.lines().next().unwrap().to_owned()
}

fn exported(ws: &Workspace) -> Vec<jiancha_events::RawEvent> {
    ws.export()
        .lines()
        .map(|l| {
            let ev = jiancha_events::parse_line(1, l).unwrap();
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let moved = ev.moved.clone().unwrap();
            let mut raw = jiancha_events::RawEvent::seal(
                &ev,
                moved.position.unwrap(),
                moved.version.unwrap(),
                "",
                moved.prev_hash.unwrap(),
            );
            raw.recorded_at = v["recorded_at"].as_str().unwrap().to_owned();
            raw.hash = raw.compute_hash();
            raw
        })
        .collect()
}

#[test]
fn a_row_inserted_is_named_at_its_position() {
    let ws = log_of_six();
    // Shift rows 4..6 up by one (from the top, to keep positions unique) and insert a forged row.
    sql(&ws, &[
        "UPDATE events SET position = position + 1 WHERE position = 6".into(),
        "UPDATE events SET position = position + 1 WHERE position = 5".into(),
        "UPDATE events SET position = position + 1 WHERE position = 4".into(),
        "INSERT INTO events SELECT 4, stream, version + 10, 'forged', type, schema, occurred_at, recorded_at, actor, org, data, prev_hash, hash FROM events WHERE position = 3".into(),
    ]);
    assert!(
        broken_at(&ws).starts_with("broken at position 4:"),
        "{}",
        broken_at(&ws)
    );
}

#[test]
fn a_row_rewritten_with_a_recomputed_hash_is_named_itself() {
    let ws = log_of_six();
    let raws = exported(&ws);
    let mut forged = raws[2].clone();
    forged.actor = "someone-else".into();
    let hash = forged.compute_hash();
    sql(
        &ws,
        &[format!(
            "UPDATE events SET actor = 'someone-else', hash = X'{hash}' WHERE position = 3"
        )],
    );
    assert!(
        broken_at(&ws).starts_with("broken at position 3:"),
        "{}",
        broken_at(&ws)
    );
}

#[test]
fn verify_prints_checkpoints_and_resumes_from_an_attested_one() {
    let ws = log_of_six();
    let r = ws.run(&["verify", "--every", "2"], "");
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("ok: 6 events, head "));
    let checkpoints: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with("checkpoint "))
        .copied()
        .collect();
    assert_eq!(checkpoints.len(), 3, "{lines:?}");
    let p4 = checkpoints[1].split(' ').nth(2).unwrap();
    let resumed = ws.run(&["verify", "--from", "4", "--head", p4], "");
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert!(
        resumed.stdout.starts_with("ok: 2 events, head "),
        "{resumed:?}"
    );
    let wrong = ws.run(&["verify", "--from", "4", "--head", &"0".repeat(64)], "");
    assert_eq!(wrong.code, 1, "{wrong:?}");
    // The last event rewritten with its hash is caught only by the attested head.
    let head = lines[0].rsplit(' ').next().unwrap();
    let raws = exported(&ws);
    let mut forged = raws[5].clone();
    forged.actor = "someone-else".into();
    sql(
        &ws,
        &[format!(
            "UPDATE events SET actor = 'someone-else', hash = X'{}' WHERE position = 6",
            forged.compute_hash()
        )],
    );
    assert_eq!(
        ws.run(&["verify"], "").code,
        0,
        "undetectable without an attestation"
    );
    let attested = ws.run(&["verify", "--head", head], "");
    assert_eq!(attested.code, 1, "{attested:?}");
    // The chain holds to its head, the 6th event, which is not the attested one.
    assert!(
        attested.stdout.starts_with("broken at position 6"),
        "{attested:?}"
    );
    assert!(
        attested
            .stdout
            .contains("\n6 events hold together, but their head is not the attested one"),
        "{attested:?}"
    );
    let r = ws.run(&["verify", "--from", "99"], "");
    assert_eq!(r.code, 2, "{r:?}");
    // A break before the head is the one named, attested head or not.
    sql(
        &ws,
        &["UPDATE events SET actor = 'someone-else' WHERE position = 3".to_owned()],
    );
    for args in [&["verify"][..], &["verify", "--head", head][..]] {
        let r = ws.run(args, "");
        assert_eq!(r.code, 1, "{r:?}");
        assert!(r.stdout.starts_with("broken at position 3"), "{r:?}");
        assert!(r.stdout.contains("\n2 events before it hold"), "{r:?}");
    }
}

#[test]
fn an_evidence_pack_rechecks_every_hash() {
    let ws = Workspace::new();
    let sample = sample_district();
    assert_eq!(ws.run(&["import"], &sample).code, 0);
    let pack = json(&ws.run(&["evidence", "case-2026-000102"], ""));
    let events = pack["events"].as_array().unwrap();
    assert!(events.len() >= 14);
    assert!(events.iter().all(|e| e["hash_checks"] == true));
    assert_eq!(pack["item"]["code"], "JS-014");
    assert_eq!(pack["state"]["promised_due_on"], "2026-03-30");
    let days = pack["calendar"]["days"].as_array().unwrap();
    let suspended: Vec<_> = days
        .iter()
        .filter(|d| d["suspended"] == true)
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    assert_eq!(suspended.first(), Some(&"2026-03-12"));
    assert_eq!(suspended.last(), Some(&"2026-03-18"));
    assert!(pack["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "exempted"));
}
