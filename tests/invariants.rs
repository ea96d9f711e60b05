//! Invariant checks driven by the simulator: for several seeds, a district runs through the
//! live engine in accelerated time, then replay from zero must equal the live state, a
//! deliberately simple reference computation of due dates and on-time counts must agree with
//! the projections, and the chain must verify. Each failure names its seed. `JIANCHA_SEEDS=N`
//! runs N seeds instead of 3.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use jiancha_calendar::Calendar;
use jiancha_events::{ChainVerifier, EventData, StoredEvent, GENESIS_HASH};
use jiancha_projections::{Projections, Scoring};
use jiancha_store::{EventStore, ManualClock, READ_PAGE_EVENTS};

fn seeds() -> Vec<u64> {
    let n = std::env::var("JIANCHA_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    (1..=n).collect()
}

async fn whole_log(store: &dyn EventStore) -> Vec<StoredEvent> {
    let mut out: Vec<StoredEvent> = Vec::new();
    loop {
        let page = store
            .read_after(out.last().map_or(0, |e| e.position), READ_PAGE_EVENTS)
            .await
            .unwrap();
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

/// What the reference needs of a case, read straight off its events.
#[derive(Default, Debug)]
struct Facts {
    item: String,
    submitted: Option<NaiveDate>,
    first_answer: Option<NaiveDate>,
    accepted: Option<NaiveDate>,
    promised_override: Option<u32>,
    extension_days: u32,
    suspensions: Vec<(NaiveDate, Option<NaiveDate>)>,
    concluded: Option<NaiveDate>,
    exempted: bool,
}

fn date(e: &StoredEvent) -> NaiveDate {
    e.occurred_at
        .with_timezone(&jiancha_events::time::CHINA)
        .date_naive()
}

fn facts(log: &[StoredEvent]) -> (BTreeMap<String, Facts>, HashMap<String, u32>) {
    let mut cases: BTreeMap<String, Facts> = BTreeMap::new();
    let mut promised: HashMap<String, u32> = HashMap::new();
    for e in log {
        if let EventData::ItemDefined(i) = &e.data {
            promised.insert(i.code.clone(), i.promised_days);
            continue;
        }
        if let EventData::Exempted(x) = &e.data {
            cases.entry(x.case.clone()).or_default().exempted = true;
            continue;
        }
        let f = cases.entry(e.stream.clone()).or_default();
        let d = date(e);
        match &e.data {
            EventData::Submitted(s) => {
                f.item = s.item.clone();
                f.submitted = Some(d);
            }
            EventData::CorrectionRequested(_) | EventData::RejectedAtIntake(_) => {
                f.first_answer.get_or_insert(d);
            }
            EventData::Accepted(a) if f.accepted.is_none() => {
                f.first_answer.get_or_insert(d);
                f.accepted = Some(d);
                f.promised_override = a.promised_days;
            }
            EventData::Extended(x) => f.extension_days += x.days,
            EventData::Suspended(_)
                if f.accepted.is_some()
                    && f.concluded.is_none()
                    && f.suspensions.last().is_none_or(|s| s.1.is_some()) =>
            {
                f.suspensions.push((d, None));
            }
            EventData::Resumed(_) => {
                if let Some(last) = f.suspensions.last_mut().filter(|s| s.1.is_none()) {
                    last.1 = Some(d.max(last.0));
                }
            }
            EventData::Concluded(_) if f.concluded.is_none() => f.concluded = Some(d),
            _ => {}
        }
    }
    cases.retain(|k, _| k.starts_with("case-"));
    (cases, promised)
}

/// The reference: walk the calendar day by day, counting working days that are not inside a
/// suspension, until the limit is used up.
fn reference_due(cal: &Calendar, f: &Facts, promised: &HashMap<String, u32>) -> Option<NaiveDate> {
    let (submitted, accepted) = (f.submitted?, f.accepted?);
    let mut late = 0;
    let mut d = submitted;
    while d < f.first_answer? {
        d = d.succ_opt()?;
        if cal.is_workday(d).ok()? {
            late += 1;
        }
    }
    let start = if late > 5 { submitted } else { accepted };
    let limit = f.promised_override.or(promised.get(&f.item).copied())? + f.extension_days;
    let skipped = |day: NaiveDate| {
        f.suspensions
            .iter()
            .any(|(from, to)| day > *from && to.or(f.concluded).is_none_or(|t| day <= t))
    };
    let (mut day, mut counted) = (start, 0);
    while counted < limit {
        day = day.succ_opt()?;
        if cal.is_workday(day).ok()? && !skipped(day) {
            counted += 1;
        }
    }
    Some(day)
}

async fn check_seed(seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("sim.db").display());
    let start = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    let config = jiancha_sim::SimConfig {
        cases: 150,
        seed,
        start,
        cases_per_workday: 6,
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
    }
    // The reference model agrees on due dates and on-time counts.
    let cal = Calendar::national();
    let (cases, promised) = facts(&log);
    let (mut on_time_ref, mut concluded_ref) = (0, 0);
    for (stream, f) in &cases {
        let view = replayed.case_view(stream, now).unwrap();
        let due = reference_due(&cal, f, &promised);
        if view.status != "suspended" {
            assert_eq!(view.promised_due_on, due, "seed {seed}: {stream} {f:?}");
        }
        if let (Some(c), Some(d)) = (f.concluded, due) {
            if !f.exempted {
                concluded_ref += 1;
                on_time_ref += i64::from(c <= d);
            }
        }
    }
    let sums = replayed
        .ledger()
        .unwrap()
        .sums(jiancha_projections::ledger::Dimension::Org, 0..=u32::MAX);
    let sum = |pick: fn(&jiancha_projections::ledger::Counts) -> i64| -> i64 {
        sums.iter().map(|(_, _, c)| pick(c)).sum()
    };
    assert_eq!(
        sum(|c| c.concluded),
        concluded_ref,
        "seed {seed}: concluded"
    );
    assert_eq!(sum(|c| c.on_time), on_time_ref, "seed {seed}: on time");
    assert!(concluded_ref > 50, "seed {seed}: the run concluded cases");
    run.engine.shutdown().await.unwrap();
    store.close().await;
}

#[test]
fn simulated_districts_keep_every_invariant() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for seed in seeds() {
        rt.block_on(check_seed(seed));
    }
}
