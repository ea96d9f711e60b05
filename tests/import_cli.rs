//! `import`, `export` and `verify` through the binary: every refusal names its line and field,
//! exits 2 and writes nothing; exports reproduce the log; verify names the first bad position.

use crate::support::*;

fn two_good_lines() -> String {
    format!("{}\n{}\n", submitted("case-1"), step("case-1", "审查"))
}

/// Imports `bad` after a good first line and checks the refusal and that nothing was written.
fn refused(bad: &str, expected: &str) {
    let ws = Workspace::new();
    let text = format!("{}\n{bad}\n", submitted("case-1"));
    let file = ws.write("in.jsonl", &text);
    let r = ws.run(&["import", file.to_str().unwrap()], "");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.lines().any(|l| l.starts_with(expected)),
        "want {expected:?} in {r:?}"
    );
    assert!(r.stdout.is_empty(), "{r:?}");
    assert_eq!(ws.export(), "", "nothing appended");
}

#[test]
fn malformed_json_is_refused_naming_the_line() {
    refused("{\"stream\": ", "line 2: json: malformed JSON");
}

#[test]
fn an_unknown_type_is_refused() {
    refused(
        &line("case-1", "Teleported", "2026-03-02T09:15:00+08:00", "{}"),
        "line 2: type: unknown event type \"Teleported\"",
    );
}

#[test]
fn a_missing_field_is_refused() {
    refused(
        &submitted("case-2").replace(r#""actor":"clerk-1","#, ""),
        "line 2: actor: missing",
    );
    refused(
        &submitted("case-2").replace(r#""item":"BL-001","#, ""),
        "line 2: data.item: missing",
    );
}

#[test]
fn a_timestamp_without_offset_is_refused() {
    refused(
        &step("case-1", "x").replace("+08:00", ""),
        "line 2: occurred_at: timestamp without offset",
    );
}

#[test]
fn a_case_event_for_a_case_never_submitted_is_refused() {
    refused(
        &step("case-9", "x"),
        "line 2: stream: case-9 was never submitted",
    );
}

#[test]
fn a_version_conflict_is_refused_naming_both_versions() {
    let bad = step("case-1", "x").replacen('{', r#"{"expected_version":0,"#, 1);
    refused(
        &bad,
        "line 2: expected_version: version conflict on case-1: expected version 0, actual 1",
    );
}

#[test]
fn a_refusal_after_many_good_lines_still_writes_nothing() {
    let ws = Workspace::new();
    let file = ws.path("big.jsonl");
    let n = big_file(&file, 1500, 2);
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(&step("case-never", "x"));
    text.push('\n');
    std::fs::write(&file, text).unwrap();
    let r = ws.run(&["import", file.to_str().unwrap()], "");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.starts_with(&format!("line {}: stream:", n + 1)),
        "{r:?}"
    );
    assert_eq!(ws.export(), "");
}

#[test]
fn import_prints_the_positions_and_a_reimport_with_ids_appends_nothing() {
    let ws = Workspace::new();
    let text: String = two_good_lines()
        .lines()
        .enumerate()
        .map(|(i, l)| format!("{}\n", l.replacen('{', &format!(r#"{{"id":"e{i}","#), 1)))
        .collect();
    let r = ws.run(&["import", "-"], &text);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "imported 2 events (positions 1..2)\n"),
        "{r:?}"
    );
    assert_eq!(r.stderr, "", "no progress bar when piped");
    let before = ws.export();
    let r = ws.run(&["import"], &text);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("imported 0 events\n"), "{r:?}");
    assert!(
        r.stdout.contains("skipped 2 events already in the log"),
        "{r:?}"
    );
    assert_eq!(ws.export(), before);
    let r = ws.run(&["import"], &format!("{}\n", step("case-1", "决定")));
    assert_eq!(r.stdout, "imported 1 events (positions 3..3)\n");
}

#[test]
fn an_unreadable_file_or_bad_url_is_a_usage_error() {
    let ws = Workspace::new();
    let r = ws.run(&["import", "no-such-file.jsonl"], "");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no-such-file.jsonl"), "{r:?}");
    let r = ws.run_db("mysql://x", &["verify"], "");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("unknown scheme"), "{r:?}");
}

#[test]
fn an_export_imported_into_an_empty_log_reproduces_every_field() {
    let ws = Workspace::new();
    let (text, appeal) = catalogue_input();
    assert_eq!(ws.run(&["import"], &text).code, 0);
    let r = ws.run(&["import"], &appeal);
    assert_eq!(r.code, 0, "{r:?}");
    let export = ws.export();
    // Every example a client may send (the notification records are the engine's; OrgDefined
    // made the catalogue one longer, the procurement vocabulary 26 longer, WorkflowLimitsDefined
    // one longer) and the two submissions before them.
    assert_eq!(export.lines().count(), 61);
    let other = format!("sqlite://{}", ws.path("copy.db").display());
    let r = ws.run_db(&other, &["import"], &export);
    assert_eq!(r.code, 0, "{r:?}");
    let copy = ws.run_db(&other, &["export"], "");
    assert_eq!(
        copy.stdout, export,
        "every field of every event, byte for byte"
    );
    // Importing the export again (ids the log assigned included) appends nothing.
    let again = ws.run_db(&other, &["import"], &export);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.starts_with("imported 0 events\n"), "{again:?}");
    let a = ws.run(&["verify"], "");
    let b = ws.run_db(&other, &["verify"], "");
    assert_eq!(a.code, 0);
    // The same verdict, but for the line naming which log it is about.
    let verdict = |stdout: &str| -> Vec<String> {
        stdout
            .lines()
            .filter(|l| !l.starts_with("log: "))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(verdict(&a.stdout), verdict(&b.stdout));
    assert!(a.stdout.contains(&format!("log: {}", ws.db())), "{a:?}");
    assert!(a.stdout.starts_with("ok: 61 events, head "), "{a:?}");
    // --from is inclusive.
    let tail = ws.run(&["export", "--from", "60"], "");
    assert_eq!(tail.stdout.lines().count(), 2);
    assert!(tail.stdout.starts_with(r#"{"position":60,"#));
}

/// An appeal names its entry's case: the case sees the appeal, so one naming another case (or
/// none) would be folded without it. The whole import is refused, naming the line and
/// `data.case`; so is a second appeal of what the first reverses. With the entry's case it is
/// taken.
#[test]
fn an_appeal_naming_another_case_than_its_entry_is_refused() {
    let ws = Workspace::new();
    let (text, appeal) = catalogue_input();
    assert_eq!(ws.run(&["import"], &text).code, 0);
    let wrong = appeal.replace(
        r#""case":"case-2026-000123""#,
        r#""case":"case-2026-000124""#,
    );
    // A new appeal names its case; two appeals of one rating in one file reverse it once.
    let without = appeal.replace(r#""case":"case-2026-000123","#, "");
    let twice = format!("{appeal}{}", appeal.replace("19/rated", "19/satisfied"));
    for (input, refusal) in [
        (
            wrong,
            "line 1: data.case: entry 19/rated belongs to case case-2026-000123, not case-2026-000124",
        ),
        (
            without,
            "line 1: data.case: missing: an appeal names its entry's case (here case-2026-000123)",
        ),
        (
            twice,
            "line 2: data.entry: entry 19/satisfied is part of the rating that appeal 1 of this batch removes",
        ),
    ] {
        assert_ne!(input, appeal);
        let r = ws.run(&["import"], &input);
        assert_ne!(r.code, 0, "{r:?}");
        assert!(r.stderr.contains(refusal), "{r:?}");
        assert_eq!(ws.export().lines().count(), 60, "nothing of it was written");
    }
    let r = ws.run(&["import"], &appeal);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(ws.export().lines().count(), 61);
}

fn tampered_log() -> Workspace {
    let ws = Workspace::new();
    let mut text = String::new();
    for c in 0..3 {
        text.push_str(&submitted(&format!("case-{c}")));
        text.push('\n');
        text.push_str(&step(&format!("case-{c}"), "审查"));
        text.push('\n');
    }
    assert_eq!(ws.run(&["import"], &text).code, 0);
    assert_eq!(ws.run(&["verify"], "").code, 0);
    ws
}

fn verify_fails_at(ws: &Workspace, position: u64) {
    let r = ws.run(&["verify"], "");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .starts_with(&format!("broken at position {position}:")),
        "want position {position}: {r:?}"
    );
}

#[test]
fn verify_names_the_first_changed_deleted_or_reordered_position() {
    let ws = tampered_log();
    ws.tamper(&["UPDATE events SET data = replace(data, '审查', '决定') WHERE position = 4"]);
    verify_fails_at(&ws, 4);

    let ws = tampered_log();
    ws.tamper(&["DELETE FROM events WHERE position = 3"]);
    verify_fails_at(&ws, 3);

    let ws = tampered_log();
    ws.tamper(&[
        "UPDATE events SET position = -2 WHERE position = 2",
        "UPDATE events SET position = 2 WHERE position = 5",
        "UPDATE events SET position = 5 WHERE position = -2",
    ]);
    verify_fails_at(&ws, 2);

    let ws = tampered_log();
    ws.tamper(&["UPDATE events SET actor = 'someone-else' WHERE position = 6"]);
    verify_fails_at(&ws, 6);
}

#[test]
fn the_writer_refuses_to_append_to_a_broken_head() {
    let ws = tampered_log();
    ws.tamper(&["UPDATE events SET org = 'jiangjin/elsewhere' WHERE position = 6"]);
    let r = ws.run(&["import"], &format!("{}\n", submitted("case-new")));
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stderr.contains("hash chain is broken"), "{r:?}");
}

/// A new event dated outside the calendar's dates is refused, naming its line; one dated after
/// the clock is imported (a simulation, a migration) and said so on stderr, with the count and
/// the latest instant.
#[test]
fn dates_outside_the_calendar_are_refused_and_dates_ahead_are_said() {
    refused(
        &step("case-1", "审查").replace("2026-03-03T10:00:00+08:00", "1989-12-31T10:00:00+08:00"),
        "line 2: occurred_at: 1989-12-31 in China is outside 1990-01-01 to 2100-12-31",
    );
    let ws = Workspace::new();
    let later = |at: &str| step("case-1", "审查").replace("2026-03-03T10:00:00+08:00", at);
    let text = format!(
        "{}\n{}\n{}\n",
        submitted("case-1"),
        later("2099-01-02T10:00:00+08:00"),
        later("2099-01-01T10:00:00+08:00")
    );
    let r = ws.run(&["import", "-"], &text);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "imported 3 events (positions 1..3)\n"),
        "{r:?}"
    );
    assert!(
        r.stderr.starts_with(
            "warning: 2 new events occur after now, the latest at 2099-01-02T10:00:00+08:00"
        ),
        "{r:?}"
    );
}
