//! Invariant checks driven by the simulator: for several seeds, a district runs through the
//! live engine in accelerated time, then replay from zero must equal the live state, a
//! deliberately simple day-by-day reference of the deadline rules v2 (`reference`) must
//! agree with the projections on every case's clock start, due dates, outcome and v2 rule
//! codes, and with the ledger's concluded and on-time counts, and the chain must verify; the
//! district's procurement projects too are the same live and replayed. The
//! district runs at rates high enough that every v2 irregularity shows in a few seeds. Each
//! failure names its seed. `JIANCHA_SEEDS=N` runs N seeds instead of 3.

mod reference;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone};
use jiancha_calendar::Calendar;
use jiancha_events::{ChainVerifier, StoredEvent, GENESIS_HASH};
use jiancha_projections::view::CaseView;
use jiancha_projections::Projections;
use jiancha_projections::Scoring;
use jiancha_store::{EventStore, ManualClock};

use crate::support::seeds;

async fn whole_log(store: &dyn EventStore) -> Vec<StoredEvent> {
    let mut out: Vec<StoredEvent> = Vec::new();
    let mut pages = store.pages(0);
    while let Some(page) = pages.next().await.unwrap() {
        out.extend(page);
    }
    out
}

/// Rates that show every irregularity of rules v2 a few times in a small district.
fn v2_rates() -> jiancha_sim::Rates {
    jiancha_sim::Rates {
        late_supplement_answer: 0.3,
        limits_override: 0.05,
        unknown_item: 0.03,
        no_acceptance: 0.03,
        lawful_suspension: 0.08,
        overlong_suspension: 0.4,
        unlawful_suspension: 0.03,
        excessive_extension: 0.06,
        after_conclusion: 0.05,
        backdated: 0.02,
        backdated_conclusion: 0.05,
        ..jiancha_sim::Rates::default()
    }
}

/// Disagreements between the reference and the projections, by what disagreed.
#[derive(Default)]
struct Mismatches {
    by_kind: BTreeMap<String, (usize, Vec<String>)>,
}

/// Examples kept of each kind of disagreement.
const EXAMPLES_PER_KIND: usize = 3;

impl Mismatches {
    fn check<T: PartialEq + std::fmt::Debug>(&mut self, kind: &str, case: &str, want: T, got: T) {
        if want != got {
            let entry = self.by_kind.entry(kind.to_owned()).or_default();
            entry.0 += 1;
            if entry.1.len() < EXAMPLES_PER_KIND {
                entry
                    .1
                    .push(format!("{case}: reference {want:?}, projections {got:?}"));
            }
        }
    }

    fn report(&self, seed: u64) -> Option<String> {
        if self.by_kind.is_empty() {
            return None;
        }
        let mut out = format!("seed {seed}: the projections disagree with the v2 reference:\n");
        for (kind, (count, examples)) in &self.by_kind {
            out.push_str(&format!("  {kind}: {count} cases, e.g.\n"));
            for e in examples {
                out.push_str(&format!("    {e}\n"));
            }
        }
        Some(out)
    }
}

/// Compares one case's view and alerts with the reference.
fn compare(
    m: &mut Mismatches,
    stream: &str,
    want: &reference::Expected,
    view: &CaseView,
    raised: &BTreeSet<&str>,
) {
    if want.known {
        m.check(
            "clock_start_on",
            stream,
            want.clock_start_on,
            view.clock_start_on,
        );
    }
    // Due dates of a case on the clock or concluded (a withdrawn or refused case has none to
    // speak of); an unknown item's case has none at all.
    if matches!(want.status, "running" | "suspended" | "concluded") || !want.known {
        m.check(
            "promised_due_on",
            stream,
            want.promised_due_on,
            view.promised_due_on,
        );
        m.check(
            "statutory_due_on",
            stream,
            want.statutory_due_on,
            view.statutory_due_on,
        );
    }
    if want.known {
        m.check("on_time", stream, want.on_time, view.on_time);
        m.check("early", stream, want.early, view.early);
        m.check(
            "statutory_on_time",
            stream,
            want.statutory_on_time,
            view.statutory_on_time,
        );
    } else {
        // Concluded but never on time, early or statutory on time.
        let never = |v: Option<bool>| v != Some(true);
        m.check("unknown item on_time", stream, true, never(view.on_time));
        m.check("unknown item early", stream, true, never(view.early));
        let statutory = never(view.statutory_on_time);
        m.check("unknown item statutory_on_time", stream, true, statutory);
    }
    let time_rules: &[&str] = if want.entered_late {
        &[]
    } else {
        &reference::TIME_RULES
    };
    for rule in reference::EVENT_RULES.iter().chain(time_rules) {
        let (w, g) = (want.rules.contains(rule), raised.contains(rule));
        m.check(&format!("alert {rule}"), stream, w, g);
    }
}

async fn check_seed(seed: u64, exercised: &mut BTreeMap<&'static str, usize>) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("sim.db").display());
    let start = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    let config = jiancha_sim::SimConfig {
        cases: 150,
        seed,
        start,
        cases_per_workday: 6,
        // A mixed district: procurement projects beside the cases, so that live, replay and
        // the ledger are compared on both kinds.
        projects: 40,
        rates: v2_rates(),
        ..Default::default()
    };
    let clock = ManualClock::new(jiancha_cli::cmd::demo::clock_start(start).unwrap());
    let store = jiancha_store::open(&url, Arc::new(clock.clone()))
        .await
        .unwrap();
    let run = jiancha_cli::cmd::demo::drive(store.clone(), &clock, &config, &|_| {})
        .await
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    let now = run.engine.now();
    let log = whole_log(&*store).await;
    // The chain verifies.
    let mut verifier = ChainVerifier::new(0, GENESIS_HASH);
    for r in store.read_raw_after(0, usize::MAX >> 8).await.unwrap() {
        verifier
            .check(&r)
            .unwrap_or_else(|b| panic!("seed {seed}: chain broken at {b}"));
    }
    // Replay from zero equals the live state.
    let mut replayed = Projections::default().with_ledger(Scoring::default());
    for e in &log {
        replayed.apply(e);
    }
    {
        let live = run.engine.read();
        assert_eq!(replayed.position(), live.position(), "seed {seed}");
        assert_eq!(
            serde_json::to_string(&replayed.alerts(now)).unwrap(),
            serde_json::to_string(&live.alerts(now)).unwrap(),
            "seed {seed}: alerts differ between live and replay"
        );
        assert_eq!(
            replayed.ledger(),
            live.ledger(),
            "seed {seed}: ledgers differ"
        );
        for (stream, _) in replayed.cases_sorted() {
            assert_eq!(
                replayed.case_view(stream, now),
                live.case_view(stream, now),
                "seed {seed}: {stream}"
            );
        }
        let projects = replayed.projects_sorted();
        assert!(
            projects.len() >= 30,
            "seed {seed}: {} projects",
            projects.len()
        );
        for (stream, project) in projects {
            assert_eq!(Some(project), live.case(stream), "seed {seed}: {stream}");
        }
        let procurement = replayed
            .alerts(now)
            .iter()
            .filter(|a| a.case.starts_with("proc-"))
            .count();
        *exercised.entry("procurement alerts").or_default() += procurement;
    }
    // The reference agrees on every case.
    let cal = Calendar::national();
    let now_at = chrono::Utc
        .timestamp_millis_opt(now)
        .single()
        .unwrap()
        .with_timezone(&jiancha_events::time::CHINA);
    let expected = reference::expected(&log, &cal, &now_at);
    let alerts = replayed.alerts(now);
    let mut raised: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for a in &alerts {
        raised.entry(a.case.as_str()).or_default().insert(a.rule);
    }
    let mut mismatches = Mismatches::default();
    let (mut on_time_ref, mut concluded_ref) = (0, 0);
    let none = BTreeSet::new();
    for (stream, want) in &expected {
        let view = replayed
            .case_view(stream, now)
            .unwrap_or_else(|| panic!("seed {seed}: no view of {stream}"));
        compare(
            &mut mismatches,
            stream,
            want,
            &view,
            raised.get(stream.as_str()).unwrap_or(&none),
        );
        for rule in &want.rules {
            *exercised.entry(rule).or_default() += 1;
        }
        if want.counted_on.is_some() {
            concluded_ref += 1;
            on_time_ref += i64::from(want.on_time == Some(true));
        }
    }
    let sums = replayed
        .ledger()
        .unwrap()
        .sums(jiancha_projections::ledger::Dimension::Org, 0..=u32::MAX);
    let sum = |pick: fn(&jiancha_projections::ledger::Counts) -> i64| -> i64 {
        sums.iter().map(|(_, _, c)| pick(c)).sum()
    };
    mismatches.check(
        "ledger concluded",
        "all",
        concluded_ref,
        sum(|c| c.concluded),
    );
    mismatches.check("ledger on_time", "all", on_time_ref, sum(|c| c.on_time));
    assert!(concluded_ref > 50, "seed {seed}: the run concluded cases");
    run.engine.shutdown().await.unwrap();
    store.close().await;
    mismatches.report(seed)
}

#[test]
fn simulated_districts_keep_every_invariant() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut exercised = BTreeMap::new();
    let mut failures = Vec::new();
    for seed in seeds() {
        failures.extend(rt.block_on(check_seed(seed, &mut exercised)));
    }
    eprintln!("v2 rules raised by the reference over all seeds: {exercised:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        exercised.get("procurement alerts").is_some_and(|n| *n > 0),
        "no procurement alert was compared: {exercised:?}"
    );
    // The district showed every v2 rule the reference knows.
    for rule in reference::EVENT_RULES.iter().chain(&reference::TIME_RULES) {
        assert!(
            exercised.get(rule).is_some_and(|n| *n > 0),
            "no case raised {rule}: {exercised:?}"
        );
    }
}
