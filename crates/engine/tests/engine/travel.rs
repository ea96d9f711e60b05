//! Time travel from the case index against the full replay: for simulated districts (late
//! entries, supervision acts, procurement projects) with calendar amendments inserted at random
//! points (some occurring after the instants asked, some entered late) and upheld appeals, every
//! answer at a random instant — the alerts, and the reports by org, item and channel for the
//! month of the instant, the month before, its quarter, a month after it, and the procurement
//! report — is the replay's, byte for byte. The index is caught up in random pieces (as an
//! engine that crashed between the log append and the index would leave it), by folding each
//! touched case or the district. `verify` passes every index so built, and names every kind
//! of row that says less than the log.

use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate};
use jiancha_engine::verify::{verify, IndexVerdict, VerifyOptions};
use jiancha_engine::{index, travel};
use jiancha_events::{
    AmendmentKind, AppealUpheld, CalendarAmended, EventData, NewEvent, StreamName, Timestamp,
    APPEALABLE_MEASURES,
};
use jiancha_projections::ledger::Dimension;
use jiancha_projections::KeptCase;
use jiancha_projections::{asof, Millis, Period, Projections, ReportQuery, Scoring};
use jiancha_store::memory::MemoryStore;
use jiancha_store::{
    EventStore, IndexRow, IndexSelect, IndexState, IndexWrite, KeptAlerts, ManualClock,
};
use proptest::prelude::*;

use crate::support::{Backend, World, CASE};

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
            (any::<prop::sample::Index>(), -40i64..60, 0i64..90, 0u8..5),
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

/// A calendar amendment (kinds 0 to 2), or a definition of the workflow's limits (3 and 4, the
/// limits drawn from the day).
fn amendment(occurred: Millis, date: NaiveDate, kind: u8) -> NewEvent {
    if kind >= 3 {
        let n = date.ordinal();
        return NewEvent::new(
            StreamName::catalog(),
            ts(occurred),
            "admin",
            "jiangjin",
            EventData::WorkflowLimitsDefined(jiancha_events::WorkflowLimitsDefined {
                ack_days: Some(1 + n % 3),
                rating_window_days: (kind == 3).then_some(1 + n % 10),
                rating_verify_days: Some(1 + n % 2),
                rectify_days: Some(1 + n % 15),
                complaint_accept_days: (kind == 4).then_some(1 + n % 7),
                complaint_reply_days: Some(2 + n % 12),
            }),
        );
    }
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
    // Each with its case (as `POST /appeals` writes it) and, every other one, without.
    let ids: Vec<(String, String)> = ledger
        .entries()
        .map(|e| (ledger.view(&e).id, e.case.to_string()))
        .filter(|(id, _)| {
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
        .enumerate()
        .map(|(i, (which, days))| {
            let occurred = first + days * 86_400_000;
            let (entry, case) = ids[which.index(ids.len())].clone();
            let event = NewEvent::new(
                StreamName::supervision(),
                ts(occurred),
                "evaluator",
                "jiangjin/supervision",
                EventData::AppealUpheld(AppealUpheld {
                    entry,
                    case: (i % 2 == 0).then_some(case),
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
        let diff = differ(&json(&travelled.alerts(now)), &json(&full.alerts(now)));
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
                // Where it differs: the replay's entries of the period on cases the index left
                // out, with their rows.
                let mut missing = Vec::new();
                if diff.is_some() {
                    let have: std::collections::BTreeSet<&str> = travelled
                        .projections
                        .cases_sorted()
                        .into_iter()
                        .map(|(s, _)| s)
                        .chain(
                            travelled
                                .projections
                                .projects_sorted()
                                .into_iter()
                                .map(|(s, _)| s),
                        )
                        .collect();
                    for e in
                        full.ledger().unwrap().entries().filter(|e| {
                            period.months.contains(&e.month) && !have.contains(&*e.case)
                        })
                    {
                        let rows = store.index_rows(&[e.case.to_string()]).await.unwrap();
                        missing.push(format!("{} {:?} {} {:?}", e.case, e.measure, e.month, rows));
                    }
                }
                prop_assert!(
                    diff.is_none(),
                    "report {} by {:?} at {} ({} cases, {} events folded): {}; missing {:?}",
                    &period.label,
                    by,
                    now,
                    travelled.cases,
                    travelled.events,
                    diff.unwrap_or_default(),
                    missing
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
    // However it was built (in pieces, by case or by district), the index says at least what a
    // rebuild from the log says: `verify` passes it.
    let v = verify(&store, VerifyOptions::default()).await.unwrap();
    prop_assert!(
        matches!(&v.index.verdict, IndexVerdict::Matches(d) if d.rows > 0),
        "{:?}",
        v.index
    );
    prop_assert!(v.ok());
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

/// Every page of a store's log.
async fn whole_log(store: &dyn EventStore) -> Vec<jiancha_events::StoredEvent> {
    let mut out = Vec::new();
    let mut pages = store.pages(0);
    while let Some(page) = pages.next().await.unwrap() {
        out.extend(page);
    }
    out
}

/// The alerts and the report by org for `period`, from the index and from the replay, equal;
/// returns the index's report.
async fn same_answers(
    store: &dyn EventStore,
    period: &str,
    now: Millis,
) -> jiancha_projections::Report {
    let all = whole_log(store).await;
    let full = replay(&all, now);
    let alerts = travel::for_alerts(store, now).await.unwrap();
    assert_eq!(
        json(&alerts.alerts(now)),
        json(&full.alerts(now)),
        "alerts at {now}"
    );
    let period = Period::parse(period).unwrap();
    let query = ReportQuery {
        period: period.clone(),
        by: Dimension::Org,
        depth: None,
    };
    let travelled = travel::for_report(store, &period, now, Scoring::default())
        .await
        .unwrap();
    let report = travelled.projections.report(&query, now).unwrap();
    assert_eq!(
        json(&report),
        json(&full.report(&query, now)),
        "report at {now}"
    );
    report
}

fn instant(text: &str) -> Millis {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .timestamp_millis()
}

/// A world at `at` whose item is defined and whose case [`CASE`] is submitted and accepted.
async fn accepted(backend: Backend, at: &str) -> World {
    let w = World::new(backend, at).await;
    w.define_item().await;
    w.submit(CASE).await;
    w.accept(CASE).await;
    w
}

/// A case that ended before a period comes back in it — a late rating, then an appeal of
/// that rating — and the index judges it again: the period's report counts it exactly as a
/// replay does.
async fn an_ended_case_comes_back(backend: Backend) {
    let w = accepted(backend, "2026-03-24T09:00:00+08:00").await;
    w.set("2026-03-25T09:00:00+08:00");
    w.append(
        CASE,
        EventData::FeeCharged(jiancha_events::FeeCharged {
            amount_cents: crate::support::FEE_CENTS,
        }),
    )
    .await;
    for step in ["review", "decide"] {
        w.append(
            CASE,
            EventData::StepCompleted(jiancha_events::StepCompleted { step: step.into() }),
        )
        .await;
    }
    w.append(
        CASE,
        EventData::Decided(jiancha_events::Decided {
            outcome: jiancha_events::Outcome::Approved,
        }),
    )
    .await;
    w.append(CASE, EventData::Concluded(jiancha_events::Concluded {}))
        .await;
    let april = instant("2026-04-30T23:00:00+08:00");
    let before = same_answers(&*w.store, "2026-04", april).await;
    assert!(before.rows.is_empty(), "nothing in April yet: {before:?}");
    let rows = w.store.index_rows(&[CASE.to_owned()]).await.unwrap();
    let whole = replay(&whole_log(&*w.store).await, april);
    assert!(!rows[0].active, "ended: {rows:?} {:?}", whole.alerts(april));
    // A bad rating, the last day of its window, then an upheld appeal of it.
    w.set("2026-04-01T09:00:00+08:00");
    w.append(CASE, EventData::Rated(jiancha_events::Rated { score: 1 }))
        .await;
    let after = same_answers(&*w.store, "2026-04", april).await;
    assert_eq!(after.rows[0].rated, 1, "{after:?}");
    let whole = replay(&whole_log(&*w.store).await, april);
    let rating = whole
        .ledger()
        .unwrap()
        .entries()
        .map(|e| whole.ledger().unwrap().view(&e).id)
        .find(|id| id.ends_with("/rated"))
        .unwrap();
    w.set("2026-04-20T09:00:00+08:00");
    w.append(
        "supervision",
        EventData::AppealUpheld(AppealUpheld {
            entry: rating,
            case: Some(CASE.into()),
            reason: None,
        }),
    )
    .await;
    let appealed = same_answers(&*w.store, "2026-04", april).await;
    assert_eq!(appealed.rows[0].rated, 0, "{appealed:?}");
    // At an instant before the appeal, the rating still counts.
    let before_appeal =
        same_answers(&*w.store, "2026-04", instant("2026-04-15T00:00:00+08:00")).await;
    assert_eq!(before_appeal.rows[0].rated, 1);
}

/// A settled case's alerts are read as kept only at instants after its last act: before a
/// card delivered and acknowledged late, after the case ended, its alerts are folded (shown
/// undelivered and unacknowledged, as a replay shows them); after, the kept ones are read and
/// equal the replay's.
async fn kept_alerts_only_after_the_last_act(backend: Backend) {
    let w = accepted(backend, "2026-03-02T09:00:00+08:00").await;
    // Promised in 2 working days, statutory 5: concluded two weeks late.
    w.set("2026-03-20T09:00:00+08:00");
    w.append(CASE, EventData::Concluded(jiancha_events::Concluded {}))
        .await;
    let ended = instant("2026-03-21T12:00:00+08:00");
    let whole = replay(&whole_log(&*w.store).await, ended);
    let alerts = whole.alerts(ended);
    let first = alerts.first().expect("overdue alerts");
    assert!(!first.delivered, "{alerts:?}");
    // The card for it, delivered late, then acknowledged.
    w.set("2026-03-23T09:00:00+08:00");
    w.append(
        "supervision",
        EventData::CardIssued(jiancha_events::CardIssued {
            case: CASE.into(),
            rule: first.rule.into(),
            severity: jiancha_events::Severity::parse(first.severity).unwrap(),
            due: jiancha_events::parse_timestamp(&first.raised_at).unwrap(),
        }),
    )
    .await;
    w.set("2026-03-24T09:00:00+08:00");
    w.append(
        "supervision",
        EventData::AlertAcknowledged(jiancha_events::AlertAcknowledged {
            card_at: None,
            alert: first.id.clone(),
            note: None,
        }),
    )
    .await;
    // (instant, delivered and acknowledged by then, read as kept)
    for (at, shown_as, kept) in [
        ("2026-03-21T12:00:00+08:00", (false, false), false),
        ("2026-03-23T12:00:00+08:00", (true, false), false),
        ("2026-03-25T12:00:00+08:00", (true, true), true),
    ] {
        let now = instant(at);
        same_answers(&*w.store, "2026-03", now).await;
        let travelled = travel::for_alerts(&*w.store, now).await.unwrap();
        let names: Vec<&str> = travelled.kept.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(names == [CASE], kept, "kept at {at}: {names:?}");
        let shown = travelled.alerts(now);
        let card = shown.iter().find(|a| a.id == first.id).unwrap();
        assert_eq!((card.delivered, card.acknowledged), shown_as, "at {at}");
    }
}

/// The engine (or a command) stopped between appending to the log and checkpointing the index:
/// the next catch-up resumes from the index's own position and the answers are the replay's.
async fn a_crash_between_the_log_and_the_index(backend: Backend) {
    let w = accepted(backend, "2026-03-02T09:00:00+08:00").await;
    let first = index::catch_up(&*w.store).await.unwrap();
    assert_eq!(first.to, w.store.head().await.unwrap().position);
    // More events, and no catch-up: the process "crashed" before the index.
    w.set("2026-03-09T09:00:00+08:00");
    w.submit("case-2026-000002").await;
    w.append(CASE, EventData::Concluded(jiancha_events::Concluded {}))
        .await;
    let head = w.store.head().await.unwrap().position;
    assert_eq!(w.store.index_state().await.unwrap().position, first.to);
    // Another process opens the log and asks (a log in memory lives in this one).
    let store = match backend {
        Backend::Memory => w.store.clone(),
        _ => w.another_store().await,
    };
    let resumed = index::catch_up(&*store).await.unwrap();
    assert_eq!(
        (resumed.from, resumed.to, resumed.cases),
        (first.to, head, 2)
    );
    same_answers(&*store, "2026-03", instant("2026-03-31T23:00:00+08:00")).await;
    same_answers(&*store, "2026-03", instant("2026-03-05T12:00:00+08:00")).await;
}

/// One way to make a stored row say less than the log, and the words `verify` names it with.
type Tamper = (&'static str, fn(&mut IndexRow) -> bool);

const TAMPERS: [Tamper; 6] = [
    ("not alerted", |r| std::mem::replace(&mut r.alerted, false)),
    ("not active", |r| std::mem::replace(&mut r.active, false)),
    ("not irregular", |r| {
        std::mem::replace(&mut r.irregular, false)
    }),
    ("reach", |r| {
        r.reach -= 86_400_000;
        true
    }),
    ("first event at", |r| {
        r.min_occurred += 1;
        true
    }),
    ("last event at", |r| {
        r.max_occurred -= 1;
        r.max_occurred >= r.min_occurred
    }),
];

/// A simulated district (late entries, supervision acts, projects), its index caught up in two
/// pieces: by folding the district, then each touched case.
async fn indexed_district() -> MemoryStore {
    let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
    let store = MemoryStore::new(clock.clone());
    let plan = Plan {
        seed: 11,
        cases: 60,
        projects: 2,
        amendments: vec![],
        appeals: vec![],
        cuts: vec![],
        bulk: false,
        instants: vec![],
    };
    let events = district(&plan);
    let half = events.len() / 2;
    append_all(&store, &clock, &events[..half]).await;
    index::catch_up_with(&store, 0).await.unwrap();
    append_all(&store, &clock, &events[half..]).await;
    index::catch_up_with(&store, u64::MAX).await.unwrap();
    store
}

/// Every stored row of the index.
async fn stored_rows(store: &dyn EventStore) -> Vec<IndexRow> {
    let all = IndexSelect::Report {
        by: i64::MAX,
        reaching: i64::MIN,
    };
    let streams = store.index_select(all).await.unwrap();
    store.index_rows(&streams).await.unwrap()
}

/// Writes `rows` (and `kept`) over the stored ones, the index's position unchanged: what
/// someone with write access to the database could do.
async fn overwrite(store: &dyn EventStore, rows: Vec<IndexRow>, kept: Vec<KeptAlerts>) {
    let state = store.index_state().await.unwrap();
    overwrite_as(store, state, rows, kept).await;
}

/// [`overwrite`], storing the state `state` (at the same position) with the rows.
async fn overwrite_as(
    store: &dyn EventStore,
    state: IndexState,
    rows: Vec<IndexRow>,
    kept: Vec<KeptAlerts>,
) {
    store
        .write_index(IndexWrite {
            from: state.position,
            state,
            mark_after: None,
            mark_active: false,
            rows,
            kept,
        })
        .await
        .unwrap();
}

/// The index's verdict, and that `verify` fails the log with it exactly when it differs.
async fn index_verdict(store: &dyn EventStore) -> IndexVerdict {
    let v = verify(store, VerifyOptions::default()).await.unwrap();
    assert!(v.broken.is_none());
    assert_eq!(v.ok(), !matches!(v.index.verdict, IndexVerdict::Differs(_)));
    v.index.verdict
}

/// An index written by a build whose fold judged cases otherwise (another fold format: rules
/// changed) is dropped and built again at the next catch-up, so answers at an instant never read
/// what an older fold said — here every row made to say less than the log, kept alerts made
/// empty.
#[tokio::test]
async fn an_index_of_another_fold_is_built_again() {
    let store = indexed_district().await;
    let rows: Vec<IndexRow> = stored_rows(&store)
        .await
        .into_iter()
        .map(|mut r| {
            r.alerted = false;
            r.active = false;
            r.irregular = false;
            r
        })
        .collect();
    let empty = KeptCase {
        item: "none".into(),
        alerts: vec![],
    }
    .encode();
    let kept: Vec<KeptAlerts> = rows
        .iter()
        .map(|r| KeptAlerts {
            stream: r.stream.clone(),
            body: empty.clone(),
        })
        .collect();
    let state = store.index_state().await.unwrap();
    let older = IndexState {
        fold_format: jiancha_projections::snapshot::SNAPSHOT_FORMAT - 1,
        ..state
    };
    overwrite_as(&store, older, rows, kept).await;
    assert_eq!(store.index_state().await.unwrap(), older);
    let rebuilt = index::catch_up(&store).await.unwrap();
    assert_eq!(rebuilt.from, 0, "built from the start");
    let now = store.index_state().await.unwrap();
    assert_eq!(
        now.fold_format,
        jiancha_projections::snapshot::SNAPSHOT_FORMAT
    );
    assert!(matches!(
        index_verdict(&store).await,
        IndexVerdict::Matches(_)
    ));
    let all = whole_log(&store).await;
    let last = all.last().unwrap().occurred_at.timestamp_millis();
    let at = last - 40 * 86_400_000;
    same_answers(&store, &month_period(instant_date(at)).label, at).await;
}

fn instant_date(at: Millis) -> NaiveDate {
    jiancha_projections::instant::date_of(at)
}

#[tokio::test]
async fn verify_names_every_row_that_says_less_than_the_log() {
    let store = indexed_district().await;
    let IndexVerdict::Matches(genuine) = index_verdict(&store).await else {
        panic!("the index built by the engine matches");
    };
    assert!(genuine.rows > 50 && genuine.kept > 0, "{genuine:?}");
    for (words, tamper) in TAMPERS {
        let store = indexed_district().await;
        let rows = stored_rows(&store).await;
        let row = rows
            .into_iter()
            .find_map(|mut r| tamper(&mut r).then_some(r))
            .unwrap_or_else(|| panic!("a row to make {words}"));
        let stream = row.stream.clone();
        overwrite(&store, vec![row], vec![]).await;
        match index_verdict(&store).await {
            IndexVerdict::Differs(d) => assert!(
                d.named
                    .iter()
                    .any(|n| n.contains(&stream) && n.contains(words)),
                "{words}: {d:?}"
            ),
            other => panic!("{words}: {other:?}"),
        }
        let store = indexed_district().await;
        let row = stored_rows(&store)
            .await
            .into_iter()
            .find(|r| r.stream == stream)
            .unwrap();
        // The same row made more conservative (irregular, active, a later reach) is accepted.
        let mut wider = row.clone();
        (wider.irregular, wider.active, wider.reach) = (true, true, wider.reach + 1);
        overwrite(&store, vec![wider], vec![]).await;
        assert!(
            matches!(index_verdict(&store).await, IndexVerdict::Matches(_)),
            "{stream} made more conservative"
        );
    }
    // Kept alerts that are not the case's: a settled case's, emptied.
    let store = indexed_district().await;
    let kept = store.index_kept(i64::MAX).await.unwrap();
    let forged = kept
        .iter()
        .find_map(|k| {
            let mut case = KeptCase::decode(&k.stream, &k.body).unwrap();
            (!case.alerts.is_empty()).then(|| {
                case.alerts.clear();
                KeptAlerts {
                    stream: k.stream.clone(),
                    body: case.encode(),
                }
            })
        })
        .expect("a settled case with alerts");
    let row = stored_rows(&store)
        .await
        .into_iter()
        .find(|r| r.stream == forged.stream)
        .unwrap();
    let stream = forged.stream.clone();
    overwrite(&store, vec![row], vec![forged]).await;
    match index_verdict(&store).await {
        IndexVerdict::Differs(d) => assert!(
            d.named
                .iter()
                .any(|n| n.contains(&stream) && n.contains("kept alerts")),
            "{d:?}"
        ),
        other => panic!("kept: {other:?}"),
    }
    // A row for a stream with no event.
    let store = indexed_district().await;
    let mut ghost = stored_rows(&store).await.remove(0);
    ghost.stream = "case-0000-ghost".into();
    overwrite(&store, vec![ghost], vec![]).await;
    match index_verdict(&store).await {
        IndexVerdict::Differs(d) => assert!(
            d.named
                .iter()
                .any(|n| n.contains("case-0000-ghost") && n.contains("no event")),
            "{d:?}"
        ),
        other => panic!("ghost: {other:?}"),
    }
}

/// A module of three tests for each scenario named, one a backend: `in_memory`, `on_sqlite`,
/// `on_postgres`.
macro_rules! on_every_backend {
    ($($scenario:ident),+ $(,)?) => {$(
        mod $scenario {
            use crate::support::Backend;

            #[tokio::test]
            async fn in_memory() {
                super::$scenario(Backend::Memory).await;
            }

            #[tokio::test]
            async fn on_sqlite() {
                super::$scenario(Backend::Sqlite).await;
            }

            #[tokio::test]
            async fn on_postgres() {
                super::$scenario(Backend::Postgres).await;
            }
        }
    )+};
}

on_every_backend!(
    an_ended_case_comes_back,
    a_crash_between_the_log_and_the_index,
    kept_alerts_only_after_the_last_act,
);
