//! The simulator's procurement projects against the engine, through the real binary: a
//! district simulated with projects over a year or so (its holidays included), imported as
//! history into a fresh SQLite log, and the alerts listed at a day after every period has run.
//! With no violation drawn no project is flagged; with violations drawn each rule flags
//! exactly the projects the simulator says it injected it in.

use std::collections::{BTreeMap, BTreeSet};

use jiancha_sim::procurement::RULE_CODES;
use serde_json::Value;

use crate::support::{jiancha, Workspace};

/// A day after every simulated period has run.
const NOW: &str = "2027-12-31";

/// Projects per run.
const PROJECTS: &str = "300";

/// A rates file setting every `proc_*` rate to `rate`.
fn proc_rates(rate: f64) -> String {
    let fields: Vec<String> = RULE_CODES
        .iter()
        .map(|code| {
            let key = code.replacen('.', "_", usize::MAX);
            format!("\"{key}\": {rate}")
        })
        .collect();
    format!("{{{}}}", fields.join(", "))
}

/// Sets of projects by rule code.
type ByRule = BTreeMap<String, BTreeSet<String>>;

/// What one run injected and what the engine raised on its projects.
struct Run {
    /// Projects generated.
    projects: u64,
    /// The projects each violation was injected in, by rule code (the summary's).
    injected: ByRule,
    /// The projects with at least one alert of each rule, by rule code.
    raised: ByRule,
}

/// Simulates `seed` from `start` with every `proc_*` rate at `rate` (cases spread thin, so
/// the projects span about a year), imports it and lists the alerts on projects.
fn run(seed: u64, start: &str, rate: f64) -> Run {
    let ws = Workspace::new();
    let rates = ws.write("rates.json", &proc_rates(rate));
    let (events, summary) = (ws.path("district.jsonl"), ws.path("summary.json"));
    let seed = seed.to_string();
    let out = jiancha()
        .args(["simulate", "--cases", "500", "--per-day", "2"])
        .args(["--projects", PROJECTS, "--seed", &seed, "--start", start])
        .arg("--rates")
        .arg(&rates)
        .arg("--output")
        .arg(&events)
        .arg("--summary")
        .arg(&summary)
        .output()
        .unwrap();
    assert!(out.status.success(), "simulate: {out:?}");
    let import = ws.run(&["import", "--historical", events.to_str().unwrap()], "");
    assert_eq!(import.code, 0, "import: {import:?}");
    let alerts = ws.run(&["alerts", "--now", NOW, "--format", "json"], "");
    assert_eq!(alerts.code, 0, "alerts: {alerts:?}");

    let summary: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    let procurement = &summary["procurement"];
    let projects = procurement["projects"].as_u64().unwrap();
    let mut injected = ByRule::new();
    let by_project = procurement["violations_by_project"].as_object().unwrap();
    for (code, streams) in by_project {
        let streams: BTreeSet<String> = streams
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect();
        // The counts and the lists agree (each project once: a rule is injected once).
        let count = procurement["violations"][code].as_u64().unwrap();
        assert_eq!(count, streams.len() as u64, "seed {seed}: {code} counted");
        injected.insert(code.clone(), streams);
    }
    let mut raised = ByRule::new();
    let alerts: Value = serde_json::from_str(&alerts.stdout).unwrap();
    for alert in alerts.as_array().unwrap() {
        let case = alert["case"].as_str().unwrap();
        if case.starts_with("proc-") {
            let rule = alert["rule"].as_str().unwrap().to_owned();
            raised.entry(rule).or_default().insert(case.to_owned());
        }
    }
    Run {
        projects,
        injected,
        raised,
    }
}

/// With every `proc_*` rate at 0 the simulated projects break no rule: the engine raises no
/// alert on any of them, neither a `proc.*` one nor a supervision one.
#[test]
fn simulated_projects_without_violations_raise_nothing() {
    for (seed, start) in [(3, "2026-01-05"), (4, "2025-09-15")] {
        let run = run(seed, start, 0.0);
        assert_eq!(run.projects, 300, "seed {seed}");
        assert!(run.injected.is_empty(), "seed {seed}: {:?}", run.injected);
        assert!(
            run.raised.is_empty(),
            "seed {seed} from {start}: alerts on clean projects: {:#?}",
            run.raised
        );
    }
}

/// With violations drawn, each rule raises an alert on exactly the projects the simulator
/// injected it in: none missed (a "violation" the law allows, say over a holiday), none extra
/// (a clean act the rule flags).
#[test]
fn simulated_violations_are_exactly_the_alerts() {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    // Construction projects are few (large works): high rates so that their rules show too.
    let runs = [
        (1, "2026-01-05", 0.12),
        (2, "2025-09-15", 0.3),
        (5, "2026-03-02", 0.3),
    ];
    for (seed, start, rate) in runs {
        let run = run(seed, start, rate);
        assert_eq!(run.projects, 300, "seed {seed}");
        for code in RULE_CODES {
            let none = BTreeSet::new();
            let injected = run.injected.get(code).unwrap_or(&none);
            let raised = run.raised.get(code).unwrap_or(&none);
            let missed: Vec<_> = injected.difference(raised).collect();
            let extra: Vec<_> = raised.difference(injected).collect();
            assert!(
                missed.is_empty() && extra.is_empty(),
                "seed {seed} from {start}, {code}: injected but not raised {missed:?}, \
                 raised but not injected {extra:?}"
            );
            if !injected.is_empty() {
                seen.insert(code);
            }
        }
        // Every procurement alert is of a rule the simulator knows.
        for rule in run.raised.keys() {
            assert!(
                RULE_CODES.contains(&rule.as_str()) || rule.starts_with("supervision."),
                "seed {seed}: unexpected rule {rule} on a project"
            );
        }
    }
    let unseen: Vec<_> = RULE_CODES.iter().filter(|c| !seen.contains(*c)).collect();
    assert!(unseen.is_empty(), "never injected: {unseen:?}");
}
