//! Time travel from the case index against the full replay: for simulated districts (late
//! entries, supervision acts, procurement projects) with calendar amendments inserted at random
//! points (some occurring after the instants asked, some entered late) and upheld appeals, every
//! answer at a random instant — the alerts, and the reports by org, item and channel for the
//! month of the instant, the month before, its quarter, a month after it, and the procurement
//! report — is the replay's, byte for byte. The index is caught up in random pieces (as an
//! engine that crashed between the log append and the index would leave it), by folding each
//! touched case or the district.

use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate};
use jiancha_engine::{index, travel};
use jiancha_events::{
    AmendmentKind, AppealUpheld, CalendarAmended, EventData, NewEvent, StreamName, Timestamp,
    APPEALABLE_MEASURES,
};
use jiancha_projections::ledger::Dimension;
use jiancha_projections::{asof, Millis, Period, Projections, ReportQuery, Scoring};
use jiancha_store::memory::MemoryStore;
use jiancha_store::{EventStore, ManualClock};
use proptest::prelude::*;

/// One generated district: the events to append, in order, and where the index catches up.
#[derive(Debug, Clone)]
struct Plan {
    seed: u64,
    cases: u64,
    projects: u64,
    /// (index into the simulated events, days after that event it occurred (may be negative),
    /// days after the first event the amended day lies, kind).
    amendments: Vec<(prop::sample::Index, i64, i64, u8)>,
    /// (which appealable entry, days after the first event the appeal occurred).
    appeals: Vec<(prop::sample::Index, i64)>,
    /// Fractions of the log after which the index catches up.
    cuts: Vec<prop::sample::Index>,
    /// Fold the district (bulk) rather than each touched case.
    bulk: bool,
    /// The instants asked, as days (and hours) after the first event.
    instants: Vec<(i64, i64)>,
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        (any::<u64>(), 20u64..90, 0u64..4),
        proptest::collection::vec(
            (any::<prop::sample::Index>(), -40i64..60, 0i64..90, 0u8..3),
            0..4,
        ),
        proptest::collection::vec((any::<prop::sample::Index>(), 0i64..120), 0..5),
        proptest::collection::vec(any::<prop::sample::Index>(), 0..3),
        any::<bool>(),
        proptest::collection::vec((0i64..110, 0i64..24), 1..4),
    )
        .prop_map(
            |((seed, cases, projects), amendments, appeals, cuts, bulk, instants)| Plan {
                seed,
                cases,
                projects,
                amendments,
                appeals,
                cuts,
                bulk,
                instants,
            },
        )
}

fn ts(at: Millis) -> Timestamp {
    chrono::DateTime::from_timestamp_millis(at)
        .unwrap_or_default()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
}

fn amendment(occurred: Millis, date: NaiveDate, kind: u8) -> NewEvent {
    NewEvent::new(
        StreamName::calendar(),
        ts(occurred),
        "admin",
        "jiangjin/center",
        EventData::CalendarAmended(CalendarAmended {
            jurisdiction: "national".into(),
            date,
            kind: [
                AmendmentKind::Holiday,
                AmendmentKind::RestDay,
                AmendmentKind::Workday,
            ][usize::from(kind % 3)],
            reason: "test".into(),
        }),
    )
}

/// The simulated district's events, each with the instant it is entered, with the amendments
/// inserted (entered when they occurred, or later when that was before the event they follow).
fn district(plan: &Plan) -> Vec<(NewEvent, Timestamp)> {
    let mut config = jiancha_sim::SimConfig::new(plan.cases, plan.seed);
    config.cases_per_workday = 3;
    config.projects = plan.projects;
    let mut events: Vec<(NewEvent, Timestamp)> = jiancha_sim::events(&config)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.event, e.entered_at)
        })
        .collect();
    let first = events[0].0.occurred_at.timestamp_millis();
    let day = 86_400_000;
    let mut inserts: Vec<(usize, (NewEvent, Timestamp))> = plan
        .amendments
        .iter()
        .map(|(at, after, on, kind)| {
            let i = at.index(events.len());
            let occurred = (events[i].0.occurred_at.timestamp_millis() + after * day).max(first);
            let date = jiancha_projections::instant::date_of(first + on * day);
            let entered = occurred.max(events[i].1.timestamp_millis());
            (i + 1, (amendment(occurred, date, *kind), ts(entered)))
        })
        .collect();
    inserts.sort_by_key(|(i, _)| std::cmp::Reverse(*i));
    for (i, e) in inserts {
        events.insert(i, e);
    }
    events
}

/// Appends each event when it is entered (the store stamps `recorded_at` from the clock).
async fn append_all(store: &MemoryStore, clock: &ManualClock, events: &[(NewEvent, Timestamp)]) {
    for (event, entered) in events {
        clock.set(entered.with_timezone(&chrono::Utc));
        store.append(vec![event.clone()]).await.unwrap();
    }
}

/// Appeals of real appealable entries, occurring at the planned instants (appended last).
fn appeals(
    plan: &Plan,
    whole: &Projections,
    first: Millis,
    last: Millis,
) -> Vec<(NewEvent, Timestamp)> {
    let Some(ledger) = whole.ledger() else {
        return Vec::new();
    };
    let ids: Vec<String> = ledger
        .entries()
        .iter()
        .map(|e| ledger.view(e).id)
        .filter(|id| {
            id.split('/')
                .nth(1)
                .is_some_and(|m| APPEALABLE_MEASURES.contains(&m))
        })
        .collect();
    if ids.is_empty() {
        return Vec::new();
    }
    plan.appeals
        .iter()
        .map(|(which, days)| {
            let occurred = first + days * 86_400_000;
            let event = NewEvent::new(
                StreamName::supervision(),
                ts(occurred),
                "evaluator",
                "jiangjin/supervision",
                EventData::AppealUpheld(AppealUpheld {
                    entry: ids[which.index(ids.len())].clone(),
                    reason: None,
                }),
            );
            (event, ts(occurred.max(last)))
        })
        .collect()
}

async fn log(store: &MemoryStore) -> Vec<jiancha_events::StoredEvent> {
    let mut out = Vec::new();
    let mut pages = store.pages(0);
    while let Some(page) = pages.next().await.unwrap() {
        out.extend(page);
    }
    out
}

fn replay(events: &[jiancha_events::StoredEvent], now: Millis) -> Projections {
    asof::fold_occurred(index::judging(), events, now)
}

fn month_period(date: NaiveDate) -> Period {
    Period::parse(&format!("{}-{:02}", date.year(), date.month())).unwrap()
}

fn periods(now: Millis) -> Vec<Period> {
    let date = jiancha_projections::instant::date_of(now);
    let before = date.with_day(1).unwrap() - Duration::days(1);
    let after = date.with_day(1).unwrap() + Duration::days(40);
    let quarter =
        Period::parse(&format!("{}-Q{}", date.year(), (date.month() - 1) / 3 + 1)).unwrap();
    vec![
        month_period(date),
        month_period(before),
        quarter,
        month_period(after),
    ]
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap()
}

/// Where two answers differ, briefly: the items only one has (by their JSON), at most three of
/// each, or the first differing byte.
fn differ(ours: &str, replay: &str) -> Option<String> {
    if ours == replay {
        return None;
    }
    let items = |s: &str| -> Vec<String> {
        match serde_json::from_str::<serde_json::Value>(s) {
            Ok(serde_json::Value::Array(v)) => v.iter().map(|x| x.to_string()).collect(),
            Ok(serde_json::Value::Object(o)) => match o.get("rows") {
                Some(serde_json::Value::Array(v)) => v.iter().map(|x| x.to_string()).collect(),
                _ => vec![s.to_owned()],
            },
            _ => vec![s.to_owned()],
        }
    };
    let (a, b) = (items(ours), items(replay));
    let only_ours: Vec<&String> = a.iter().filter(|x| !b.contains(x)).take(3).collect();
    let only_replay: Vec<&String> = b.iter().filter(|x| !a.contains(x)).take(3).collect();
    Some(format!(
        "{} items from the index, {} from the replay; only from the index: {only_ours:?}; only from the replay: {only_replay:?}",
        a.len(),
        b.len()
    ))
}

async fn check(plan: Plan) -> Result<(), TestCaseError> {
    let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
    let store = MemoryStore::new(clock.clone());
    let events = district(&plan);
    let first = events[0].0.occurred_at.timestamp_millis();
    let bulk_after = if plan.bulk { 0 } else { u64::MAX };
    // The index catches up at the cuts, as the log grows (a crash between an append and the
    // index leaves it behind; the next catch-up resumes from its position).
    let mut cuts: Vec<usize> = plan.cuts.iter().map(|c| c.index(events.len())).collect();
    cuts.sort_unstable();
    let mut done = 0;
    for cut in cuts {
        append_all(&store, &clock, &events[done..cut]).await;
        done = cut;
        index::catch_up_with(&store, bulk_after).await.unwrap();
    }
    append_all(&store, &clock, &events[done..]).await;
    let whole = replay(&log(&store).await, Millis::MAX);
    let last = events
        .iter()
        .map(|(_, at)| at.timestamp_millis())
        .max()
        .unwrap_or(first);
    append_all(&store, &clock, &appeals(&plan, &whole, first, last)).await;
    let all = log(&store).await;
    for (days, hours) in &plan.instants {
        let now = first + days * 86_400_000 + hours * 3_600_000;
        let full = replay(&all, now);
        let travelled = travel::for_alerts(&store, now).await.unwrap();
        let diff = differ(
            &json(&travelled.projections.alerts(now)),
            &json(&full.alerts(now)),
        );
        prop_assert!(
            diff.is_none(),
            "alerts at {}: {}",
            now,
            diff.unwrap_or_default()
        );
        let head = store.head().await.unwrap().position;
        prop_assert_eq!(store.index_state().await.unwrap().position, head);
        for period in periods(now) {
            let travelled = travel::for_report(&store, &period, now, Scoring::default())
                .await
                .unwrap();
            for by in [Dimension::Org, Dimension::Item, Dimension::Channel] {
                let query = ReportQuery {
                    period: period.clone(),
                    by,
                    depth: None,
                };
                let diff = differ(
                    &json(&travelled.projections.report(&query, now)),
                    &json(&full.report(&query, now)),
                );
                if diff.is_some() {
                    let have: std::collections::BTreeSet<String> = travelled
                        .projections
                        .cases_sorted()
                        .iter()
                        .map(|(s, _)| s.to_string())
                        .collect();
                    let months = &period.months;
                    for e in full
                        .ledger()
                        .unwrap()
                        .entries()
                        .iter()
                        .filter(|e| months.contains(&e.month) && !have.contains(&*e.case))
                    {
                        let rows = store.index_rows(&[e.case.to_string()]).await.unwrap();
                        eprintln!(
                            "missing {} {:?} month {} caused_by {} row {:?}",
                            e.case, e.measure, e.month, e.caused_by, rows
                        );
                        let c = full.case(&e.case).unwrap();
                        eprintln!(
                            "   at T: status {:?} cursor {} alerts {:?}",
                            c.status,
                            c.cursor,
                            c.alerts
                                .iter()
                                .map(|a| (a.rule.code(), a.raised_at, a.raised_by))
                                .collect::<Vec<_>>()
                        );
                        let w = whole.case(&e.case).unwrap();
                        eprintln!(
                            "   whole: status {:?} cursor {} active {} alerts {:?}",
                            w.status,
                            w.cursor,
                            w.is_active(&whole.config),
                            w.alerts
                                .iter()
                                .map(|a| (a.rule.code(), a.raised_at, a.raised_by))
                                .collect::<Vec<_>>()
                        );
                    }
                }
                prop_assert!(
                    diff.is_none(),
                    "report {} by {:?} at {} ({} cases, {} events folded): {}",
                    &period.label,
                    by,
                    now,
                    travelled.cases,
                    travelled.events,
                    diff.unwrap_or_default()
                );
            }
            let proc = |p: &Projections| {
                json(
                    &jiancha_projections::kinds::procurement::report::procurement_report(
                        p, &period, "", now,
                    ),
                )
            };
            let diff = differ(&proc(&travelled.projections), &proc(&full));
            prop_assert!(
                diff.is_none(),
                "procurement report {}: {}",
                &period.label,
                diff.unwrap_or_default()
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(16),
        ..ProptestConfig::default()
    })]

    #[test]
    fn answers_from_the_index_are_the_replays(plan in plan()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(check(plan))?;
    }
}
