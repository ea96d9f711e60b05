//! Time travel through the binary: `alerts --now T`, `report --period P --now T` (by org, item
//! and channel, and the procurement report) and `case show C --now T` answer from the case index
//! exactly what `--replay` answers by folding the whole log, on SQLite and on PostgreSQL (a
//! district of its own), for a simulated district with procurement projects imported in two
//! batches: the first asked about before the second arrives (the index catches up between), and
//! instants before, inside and after each batch's business time. `verify` then finds the index
//! so built to be the log's.

use chrono::{DateTime, Duration, FixedOffset};

use crate::postgres_cli::{base_url, PgLog};
use crate::support::*;

fn occurred(line: &str) -> DateTime<FixedOffset> {
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    DateTime::parse_from_rfc3339(v["occurred_at"].as_str().unwrap()).unwrap()
}

/// Runs `jiancha ARGS` against a log: its exit code and standard output (a user's error, exit
/// code 2, is an answer too: a case not yet submitted at the instant).
fn answer(ws: &Workspace, db: &[&str], clock: &str, args: &[&str]) -> (i32, String) {
    let mut all: Vec<&str> = db.to_vec();
    all.extend_from_slice(args);
    let r = match db.first() {
        Some(&"--district") => ws.run_env(&base_url(), &[("JIANCHA_CLOCK", clock)], &all, ""),
        _ => ws.run_env(&ws.db(), &[("JIANCHA_CLOCK", clock)], &all, ""),
    };
    assert!(r.code == 0 || r.code == 2, "jiancha {all:?}: {r:?}");
    (r.code, r.stdout + &r.stderr)
}

/// Every question at each instant answers the same from the index and with `--replay`;
/// returns how many answers were compared and how many of them were not empty.
fn compare(
    ws: &Workspace,
    db: &[&str],
    clock: &str,
    instants: &[String],
    cases: &[String],
) -> (usize, usize) {
    let (mut compared, mut non_empty) = (0, 0);
    let mut same = |args: Vec<&str>| {
        let index = answer(ws, db, clock, &args);
        let mut replay_args = args.clone();
        replay_args.push("--replay");
        let replay = answer(ws, db, clock, &replay_args);
        assert_eq!(
            index, replay,
            "jiancha {args:?}: the index and the replay differ"
        );
        compared += 1;
        non_empty += usize::from(index.0 == 0 && index.1.len() > 10);
    };
    for t in instants {
        same(vec!["alerts", "--now", t, "--format", "json"]);
        let month = &t[..7];
        for by in ["org", "item", "channel"] {
            same(vec![
                "report", "--period", month, "--by", by, "--now", t, "--format", "json",
            ]);
        }
        same(vec![
            "report",
            "--period",
            month,
            "--kind",
            "procurement",
            "--now",
            t,
            "--format",
            "json",
        ]);
        for case in cases {
            same(vec!["case", "show", case, "--now", t, "--format", "json"]);
        }
    }
    (compared, non_empty)
}

fn run(db: &[&str], ws: &Workspace) {
    let sim = ws.run(
        &[
            "simulate",
            "--cases",
            "300",
            "--projects",
            "6",
            "--seed",
            "4",
        ],
        "",
    );
    assert_eq!(sim.code, 0, "{sim:?}");
    let lines: Vec<&str> = sim.stdout.lines().collect();
    let (first, second) = lines.split_at(lines.len() / 2);
    let start = occurred(lines[0]);
    let middle = occurred(first[first.len() - 1]);
    let end = lines.iter().map(|l| occurred(l)).max().unwrap();
    let clock_1 = (middle + Duration::hours(1)).to_rfc3339();
    let clock_2 = (end + Duration::days(40)).to_rfc3339();
    let import = |batch: &[&str], clock: &str| {
        let mut all: Vec<&str> = db.to_vec();
        all.extend_from_slice(&["import", "-"]);
        let url = if db.is_empty() { ws.db() } else { base_url() };
        let r = ws.run_env(
            &url,
            &[("JIANCHA_CLOCK", clock)],
            &all,
            &(batch.join("\n") + "\n"),
        );
        assert_eq!(r.code, 0, "{r:?}");
    };
    let cases: Vec<String> = lines
        .iter()
        .filter(|l| l.contains("\"Submitted\"") || l.contains("\"ProcurementRegistered\""))
        .step_by(60)
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["stream"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    import(first, &clock_1);
    let early = [
        (start + (middle - start) / 2).to_rfc3339(),
        middle.date_naive().to_string(),
    ];
    let (c1, n1) = compare(ws, db, &clock_1, &early, &cases);
    import(second, &clock_2);
    let later = [
        early[0].clone(),
        (middle + (end - middle) / 2).to_rfc3339(),
        (end + Duration::days(20)).date_naive().to_string(),
    ];
    let (c2, n2) = compare(ws, db, &clock_2, &later, &cases);
    // The index the questions built in two steps is the log's: `verify` rebuilds it and agrees.
    let (code, out) = answer(ws, db, &clock_2, &["verify"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(": matches the log ("), "{out}");
    assert!(
        c1 + c2 > 40 && n1 + n2 > 20,
        "too few answers compared: {c1}+{c2}, {n1}+{n2} not empty"
    );
}

#[test]
fn the_index_answers_what_the_replay_answers_on_sqlite() {
    run(&[], &Workspace::new());
}

#[test]
fn the_index_answers_what_the_replay_answers_on_postgres() {
    let log = PgLog::new("travel");
    run(&["--district", log.schema()], &Workspace::new());
}
