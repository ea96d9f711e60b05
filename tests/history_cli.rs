//! `import --historical` through the binary: the declaration lands at head + 1 and covers
//! exactly the imported positions (checked in the export), the import is all or nothing, a
//! repeated id, an exported line or a case's event listed after a later one is refused naming
//! its line, and export → import still
//! reproduces a log holding a declaration.

use crate::support::*;

const CLOCK: &str = "2026-12-01T09:00:00+08:00";

fn import(ws: &Workspace, args: &[&str], stdin: &str) -> Run {
    let mut all = vec!["import"];
    all.extend_from_slice(args);
    ws.run_env(&ws.db(), &[("JIANCHA_CLOCK", CLOCK)], &all, stdin)
}

fn export_lines(ws: &Workspace) -> Vec<serde_json::Value> {
    ws.export()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn with_id(line: &str, id: &str) -> String {
    line.replacen('{', &format!(r#"{{"id":"{id}","#), 1)
}

#[test]
fn a_historical_import_declares_exactly_its_positions_at_the_head() {
    let ws = Workspace::new();
    assert_eq!(
        import(&ws, &[], &format!("{}\n", submitted("case-0"))).code,
        0
    );
    let text = format!(
        "{}\n\n{}\n{}\n",
        submitted("case-1"),
        step("case-1", "审查"),
        step("case-1", "审核")
    );
    let r = import(
        &ws,
        &["--historical", "--reason", "2025 paper records", "-"],
        &text,
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("imported 3 events (positions 3..5) as history, declared at position 2"),
        "{r:?}"
    );
    let log = export_lines(&ws);
    assert_eq!(log.len(), 5);
    let d = &log[1];
    assert_eq!(
        (d["position"].as_u64(), d["type"].as_str()),
        (Some(2), Some("HistoryImported"))
    );
    assert_eq!(d["stream"], "supervision");
    assert_eq!(d["data"]["from_position"], 2);
    assert_eq!(d["data"]["to_position"], 5);
    assert_eq!(d["data"]["reason"], "2025 paper records");
    assert_eq!(
        (d["actor"].as_str(), d["org"].as_str()),
        (Some("import"), Some("jiangjin"))
    );
    assert_eq!(d["occurred_at"], CLOCK);
    assert!(log[2..].iter().all(|e| e["stream"] == "case-1"));
    assert_eq!(ws.run(&["verify"], "").code, 0);
}

#[test]
fn the_declarations_defaults_and_options() {
    let ws = Workspace::new();
    let file = ws.write("in.jsonl", &format!("{}\n", submitted("case-1")));
    let path = file.to_str().unwrap();
    let r = import(
        &ws,
        &[
            "--historical",
            "--actor",
            "bureau-1",
            "--org",
            "jiangjin/bureau",
            path,
        ],
        "",
    );
    assert_eq!(r.code, 0, "{r:?}");
    let d = &export_lines(&ws)[0];
    assert_eq!(d["data"]["reason"], "historical import");
    assert_eq!(
        (d["actor"].as_str(), d["org"].as_str()),
        (Some("bureau-1"), Some("jiangjin/bureau"))
    );
    // The options belong to a historical import only; a bad org is refused before writing.
    assert_eq!(import(&ws, &["--reason", "x", path], "").code, 2);
    let ws = Workspace::new();
    let r = import(&ws, &["--historical", "--org", "a/../b", path], "");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--org"), "{r:?}");
    assert_eq!(ws.export(), "");
}

#[test]
fn a_historical_import_refuses_an_id_already_in_the_log_and_writes_nothing() {
    let ws = Workspace::new();
    let first = with_id(&submitted("case-1"), "e-1");
    assert_eq!(import(&ws, &[], &format!("{first}\n")).code, 0);
    let before = ws.export();
    let text = format!(
        "{}\n{}\n{first}\n",
        submitted("case-2"),
        step("case-2", "审查")
    );
    let r = import(&ws, &["--historical", "-"], &text);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("line 3: id: \"e-1\" is already in the log, or earlier in this import (at position 1): a historical import holds new events only, each id once"),
        "{r:?}"
    );
    assert_eq!(ws.export(), before, "nothing appended");
    // A plain import skips the same line.
    let r = import(&ws, &["-"], &text);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("skipped 1 events"), "{r:?}");
}

#[test]
fn a_historical_import_is_all_or_nothing() {
    let ws = Workspace::new();
    let text = format!("{}\n{}\n", submitted("case-1"), step("case-9", "审查"));
    let r = import(&ws, &["--historical", "-"], &text);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("line 2: stream"), "{r:?}");
    assert_eq!(ws.export(), "", "no declaration without its events");
    let text = format!("{}\n{{\"stream\": \n", submitted("case-1"));
    let r = import(&ws, &["--historical", "-"], &text);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("line 2: json"), "{r:?}");
    assert_eq!(ws.export(), "");
}

/// Each case's events come in the order they happened, since each counts when it occurred:
/// a step listed after a later one of its case is refused naming its line, and nothing is
/// written; the same lines in order (another case's earlier event between) are taken.
#[test]
fn a_historical_import_takes_each_cases_events_in_the_order_they_happened() {
    let ws = Workspace::new();
    let early = line(
        "case-1",
        "StepCompleted",
        "2026-03-02T10:00:00+08:00",
        r#"{"step":"受理"}"#,
    );
    let text = format!(
        "{}
{}
{}
{early}
",
        submitted("case-1"),
        step("case-1", "审查"),
        submitted("case-2"),
    );
    let r = import(&ws, &["--historical", "-"], &text);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(
            "line 4: occurred_at: 2026-03-02T10:00:00+08:00 is before 2026-03-03T10:00:00+08:00"
        ),
        "{r:?}"
    );
    assert_eq!(ws.export(), "", "nothing written");
    let text = format!(
        "{}
{early}
{}
{}
",
        submitted("case-1"),
        submitted("case-2"),
        step("case-1", "审查"),
    );
    assert_eq!(import(&ws, &["--historical", "-"], &text).code, 0);
}

#[test]
fn an_export_is_moved_as_it_is_and_never_as_history() {
    let ws = Workspace::new();
    let text = format!("{}\n{}\n", submitted("case-1"), step("case-1", "审查"));
    assert_eq!(import(&ws, &["--historical", "-"], &text).code, 0);
    assert_eq!(
        import(&ws, &["-"], &format!("{}\n", step("case-1", "审核"))).code,
        0
    );
    let exported = ws.export();
    let copy = Workspace::new();
    let r = import(&copy, &["--historical", "-"], &exported);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("line 1: hash:") && r.stderr.contains("new events only"),
        "{r:?}"
    );
    assert_eq!(copy.export(), "");
    let r = import(&copy, &["-"], &exported);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        copy.export(),
        exported,
        "byte for byte, declaration included"
    );
}
