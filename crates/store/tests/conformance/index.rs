//! The case index: its rows and state round-trip, a checkpoint is all or nothing and refused
//! when stale or ahead of the log, its marks come before its rows, and the indexed read of the
//! contexts of a set of cases keeps exactly what the filter of the whole log keeps.

use std::time::Instant;

use jiancha_events::*;
use jiancha_store::{
    EventStore, IndexRow, IndexSelect, IndexState, IndexWrite, KeptAlerts, StoreError,
};

use crate::checks::{step, submitted};
use crate::Fixture;

fn row(stream: &str, min: i64, max: i64, flags: &str) -> IndexRow {
    IndexRow {
        stream: stream.into(),
        min_occurred: min,
        max_occurred: max,
        reach: max,
        active: flags.contains('a'),
        alerted: flags.contains('l'),
        irregular: flags.contains('i'),
    }
}

fn names(rows: &[IndexRow]) -> Vec<String> {
    rows.iter().map(|r| r.stream.clone()).collect()
}

/// A log of `n` events (a case and its steps), so that an index may cover up to `n`.
async fn log_of(s: &dyn EventStore, n: i64) {
    let mut batch = vec![submitted("case-1")];
    batch.extend((1..n).map(|i| step("case-1", i)));
    s.append(batch).await.unwrap();
}

/// The fold format the tests' index is written with.
const FOLD: u32 = 13;

fn write(from: u64, position: u64, rows: Vec<IndexRow>) -> IndexWrite {
    IndexWrite {
        from,
        state: IndexState {
            position,
            globals_max_occurred: 7,
            fold_format: FOLD,
        },
        mark_after: None,
        mark_active: false,
        rows,
        kept: Vec::new(),
    }
}

fn kept(stream: &str, body: &[u8]) -> KeptAlerts {
    KeptAlerts {
        stream: stream.into(),
        body: body.to_vec(),
    }
}

/// Everything stored, sorted by stream.
async fn stored(s: &dyn EventStore, streams: &[IndexRow]) -> Vec<IndexRow> {
    s.index_rows(&names(streams)).await.unwrap()
}

/// Rows, state, active list and both questions read back as written, in byte order of the
/// stream names; each bound of a question is inclusive.
pub async fn the_case_index_round_trips(f: Fixture) {
    let s = &*f.store;
    log_of(s, 5).await;
    assert_eq!(s.index_state().await.unwrap(), IndexState::EMPTY);
    assert!(s.index_active().await.unwrap().is_empty());
    let rows = vec![
        row("case-9", 100, 200, ""),   // report: max == reaching
        row("case-10", 150, 300, "a"), // report: min == by, active
        row("case-Z", 300, 400, "l"),  // alerts: min == by
        row("case-é", 50, 99, "i"),
        row("case-2", 150, 199, "l"),  // report: max one below reaching
        row("proc-1", 151, 500, "ai"), // min one after the report's by
        row("case-3", 301, 900, "al"), // min one after the alerts' by
        // report: its events end before reaching, a conclusion entered late counts at 200
        IndexRow {
            reach: 200,
            ..row("case-4", 120, 180, "")
        },
    ];
    s.write_index(write(0, 4, rows.clone())).await.unwrap();
    assert_eq!(
        s.index_state().await.unwrap(),
        IndexState {
            position: 4,
            globals_max_occurred: 7,
            fold_format: FOLD,
        }
    );
    let mut sorted = rows.clone();
    sorted.sort_by(|a, b| a.stream.cmp(&b.stream));
    let mut asked = names(&rows);
    asked.push("case-404".into());
    asked.push("case-9".into());
    assert_eq!(s.index_rows(&asked).await.unwrap(), sorted);
    assert_eq!(
        names(&sorted),
        ["case-10", "case-2", "case-3", "case-4", "case-9", "case-Z", "case-é", "proc-1"]
    );
    assert!(s.index_rows(&[]).await.unwrap().is_empty());
    assert_eq!(
        s.index_active().await.unwrap(),
        ["case-10", "case-3", "proc-1"]
    );
    let report = IndexSelect::Report {
        by: 150,
        reaching: 200,
    };
    assert_eq!(
        s.index_select(report).await.unwrap(),
        ["case-10", "case-4", "case-9"]
    );
    let alerts = IndexSelect::Alerts { by: 300 };
    assert_eq!(
        s.index_select(alerts).await.unwrap(),
        ["case-10", "case-2", "case-Z", "case-é", "proc-1"]
    );
    // Every question answers what `selects` says.
    for select in [
        IndexSelect::Report {
            by: i64::MAX,
            reaching: i64::MIN,
        },
        IndexSelect::Report {
            by: 49,
            reaching: 0,
        },
        IndexSelect::Report {
            by: 1000,
            reaching: 401,
        },
        IndexSelect::Alerts { by: i64::MAX },
        IndexSelect::Alerts { by: 99 },
    ] {
        let want: Vec<String> = sorted
            .iter()
            .filter(|r| select.selects(r, false))
            .map(|r| r.stream.clone())
            .collect();
        assert_eq!(s.index_select(select).await.unwrap(), want, "{select:?}");
    }
}

/// A checkpoint from a position the index is no longer at, or to one beyond the log's head,
/// writes nothing: not its marks, rows nor state.
pub async fn a_stale_or_ahead_index_write_writes_nothing(f: Fixture) {
    let s = &*f.store;
    log_of(s, 3).await;
    let first = vec![row("case-1", 1, 2, "a"), row("case-2", 1, 9, "")];
    s.write_index(write(0, 2, first.clone())).await.unwrap();
    let state = s.index_state().await.unwrap();
    let mut stale = write(0, 3, vec![row("case-1", 5, 5, ""), row("case-3", 1, 1, "")]);
    stale.mark_active = true;
    stale.mark_after = Some(0);
    match s.write_index(stale.clone()).await {
        Err(StoreError::IndexMoved {
            expected: 0,
            found: 2,
        }) => {}
        other => panic!("expected IndexMoved, got {other:?}"),
    }
    stale.from = 2;
    stale.state.position = 4;
    match s.write_index(stale.clone()).await {
        Err(StoreError::IndexAhead {
            position: 4,
            head: 3,
        }) => {}
        other => panic!("expected IndexAhead, got {other:?}"),
    }
    let all = [first.clone(), vec![row("case-3", 0, 0, "")]].concat();
    assert_eq!(s.index_state().await.unwrap(), state);
    assert_eq!(stored(s, &all).await, first);
    // At the head it is written.
    stale.state.position = 3;
    s.write_index(stale).await.unwrap();
    assert_eq!(s.index_state().await.unwrap().position, 3);
    assert_eq!(
        stored(s, &all).await,
        [
            row("case-1", 5, 5, ""),
            row("case-2", 1, 9, "i"),
            row("case-3", 1, 1, "")
        ]
    );
}

/// `mark_after` marks the stored rows whose events reach strictly after it, `mark_active` the
/// active ones, and only then are the checkpoint's rows written over them whole (of two rows of
/// one stream, the later one).
pub async fn index_marks_come_before_the_rows(f: Fixture) {
    let s = &*f.store;
    log_of(s, 3).await;
    let first = vec![
        row("case-1", 0, 100, ""),
        row("case-2", 0, 200, ""),
        row("case-3", 0, 201, "a"),
        row("case-4", 0, 50, "al"),
        row("case-5", 0, 300, "l"),
    ];
    s.write_index(write(0, 1, first.clone())).await.unwrap();
    let mut after = write(
        1,
        2,
        vec![row("case-5", 1, 2, "a"), row("case-6", 3, 4, "")],
    );
    after.mark_after = Some(200);
    s.write_index(after).await.unwrap();
    let all = [first.clone(), vec![row("case-6", 0, 0, "")]].concat();
    assert_eq!(
        stored(s, &all).await,
        [
            row("case-1", 0, 100, ""),
            row("case-2", 0, 200, ""),
            row("case-3", 0, 201, "ai"),
            row("case-4", 0, 50, "al"),
            row("case-5", 1, 2, "a"),
            row("case-6", 3, 4, ""),
        ]
    );
    let mut active = write(
        2,
        3,
        vec![
            row("case-3", 9, 9, "i"),
            row("case-3", 0, 201, ""),
            row("case-1", 7, 8, "l"),
        ],
    );
    active.mark_active = true;
    s.write_index(active).await.unwrap();
    assert_eq!(
        stored(s, &all).await,
        [
            row("case-1", 7, 8, "l"),
            row("case-2", 0, 200, ""),
            row("case-3", 0, 201, ""),
            row("case-4", 0, 50, "ali"),
            row("case-5", 1, 2, "ai"),
            row("case-6", 3, 4, ""),
        ]
    );
    assert_eq!(s.index_active().await.unwrap(), ["case-4", "case-5"]);
    assert_eq!(
        s.index_state().await.unwrap(),
        IndexState {
            position: 3,
            globals_max_occurred: 7,
            fold_format: FOLD,
        }
    );
}

/// A checkpoint of 200,000 rows is written and read back whole.
pub async fn a_large_index_write_round_trips(f: Fixture) {
    let s = &*f.store;
    log_of(s, 2).await;
    let n = 200_000i64;
    let rows: Vec<IndexRow> = (0..n)
        .map(|i| {
            let flags = match i % 3 {
                0 => "a",
                1 => "l",
                _ => "",
            };
            row(&format!("case-{i:07}"), i, i + 10, flags)
        })
        .collect();
    let started = Instant::now();
    s.write_index(write(0, 2, rows.clone())).await.unwrap();
    eprintln!("wrote {n} index rows in {:?}", started.elapsed());
    assert_eq!(s.index_state().await.unwrap().position, 2);
    let active = s.index_active().await.unwrap();
    assert_eq!(active.len(), rows.iter().filter(|r| r.active).count());
    assert!(active.windows(2).all(|w| w[0] < w[1]));
    let everything = s
        .index_select(IndexSelect::Report {
            by: i64::MAX,
            reaching: i64::MIN,
        })
        .await
        .unwrap();
    assert_eq!(everything, names(&rows));
    let sample: Vec<IndexRow> = rows.iter().step_by(97).cloned().collect();
    let mut asked = names(&sample);
    asked.reverse();
    assert_eq!(s.index_rows(&asked).await.unwrap(), sample);
    let alerts = IndexSelect::Alerts { by: 1000 };
    let want: Vec<String> = rows
        .iter()
        .filter(|r| alerts.selects(r, false))
        .map(|r| r.stream.clone())
        .collect();
    assert_eq!(want.len(), 668);
    assert_eq!(s.index_select(alerts).await.unwrap(), want);
}

fn line(text: String) -> NewEvent {
    parse_line(1, &text).unwrap()
}

fn supervision(data: EventData) -> NewEvent {
    NewEvent::new(
        StreamName::parse("supervision").unwrap(),
        parse_timestamp("2026-03-02T10:00:00+08:00").unwrap(),
        "bureau-1",
        "jiangjin",
        data,
    )
}

/// The positions the default read (the whole log, filtered) keeps for `streams`.
async fn filtered(s: &dyn EventStore, streams: &[String]) -> Vec<StoredEvent> {
    let contexts = Contexts::new(streams.iter().cloned());
    let mut out = Vec::new();
    let mut pages = s.pages(0);
    while let Some(page) = pages.next().await.unwrap() {
        out.extend(page.into_iter().filter(|e| contexts.keeps(e)));
    }
    out
}

/// The indexed read of several sets of streams is exactly the filter of the whole log: the
/// streams, the catalog, the calendar, the supervision acts on them and those naming no case,
/// and every project's registration when a project is among them.
pub async fn the_contexts_of_streams_are_what_the_filter_keeps(f: Fixture) {
    let s = &*f.store;
    let item = line(
        r#"{"stream":"catalog","type":"ItemDefined","occurred_at":"2026-01-05T09:00:00+08:00","actor":"admin-1","org":"jiangjin/center","data":{"code":"BL-001","name":"登记","org":"jiangjin/center/dept-03","statutory_days":20,"promised_days":5,"fee_cents":0,"steps":["审查"],"required_materials":[],"in_center":true}}"#.into(),
    );
    let amended = line(
        r#"{"stream":"calendar","type":"CalendarAmended","occurred_at":"2026-11-04T10:00:00+08:00","actor":"admin-1","org":"jiangjin","data":{"jurisdiction":"national","date":"2027-02-06","kind":"holiday","reason":"通知"}}"#.into(),
    );
    let threshold = line(
        r#"{"stream":"catalog","type":"ThresholdDefined","occurred_at":"2026-01-02T09:00:00+08:00","actor":"admin","org":"jiangjin","data":{"jurisdiction":"jiangjin","category":"goods","open_tender_cents":1000}}"#.into(),
    );
    let registered = |stream: &str| {
        line(format!(
            r#"{{"stream":"{stream}","type":"ProcurementRegistered","occurred_at":"2026-03-02T09:00:00+08:00","actor":"buyer","org":"jiangjin/dept-1","data":{{"project":"p","regime":"government","method":"inquiry","category":"goods","budget_cents":100,"purchaser_org":"jiangjin/dept-1","state_funded":true}}}}"#
        ))
    };
    let opened = |stream: &str| {
        line(format!(
            r#"{{"stream":"{stream}","type":"BidsOpened","occurred_at":"2026-03-03T09:00:00+08:00","actor":"buyer","org":"jiangjin/dept-1","data":{{"bidders":3}}}}"#
        ))
    };
    s.append(vec![item, threshold, amended]).await.unwrap();
    for case in ["case-1", "case-2", "case-3", "case-10"] {
        s.append(vec![submitted(case)]).await.unwrap();
    }
    s.append(vec![registered("proc-1"), registered("proc-2")])
        .await
        .unwrap();
    let card = |case: &str| {
        supervision(EventData::CardIssued(CardIssued {
            case: case.into(),
            rule: "deadline.overdue".into(),
            severity: Severity::Red,
            due: parse_timestamp("2026-03-05T10:00:00+08:00").unwrap(),
        }))
    };
    s.append(vec![
        card("case-1"),
        card("case-10"),
        card("proc-2"),
        supervision(EventData::AlertAcknowledged(AlertAcknowledged {
            card_at: None,
            alert: "case-2/deadline.overdue/1".into(),
            note: None,
        })),
        supervision(EventData::AlertAcknowledged(AlertAcknowledged {
            card_at: None,
            alert: "case-1".into(),
            note: None,
        })),
        supervision(EventData::ComplaintAccepted(ComplaintAccepted {
            complaint: "case-3/complaint/1".into(),
            route_to: None,
        })),
        supervision(EventData::AppealUpheld(AppealUpheld {
            entry: "17".into(),
            case: None,
            reason: None,
        })),
        step("case-1", 3),
        step("case-2", 4),
        opened("proc-1"),
        opened("proc-2"),
    ])
    .await
    .unwrap();
    let sets: Vec<Vec<&str>> = vec![
        vec!["case-1"],
        vec!["case-2", "case-1"],
        vec!["proc-1"],
        vec![],
        vec!["case-404"],
        vec!["case-3", "proc-2", "case-10"],
        vec!["case-1", "case-2", "case-3", "case-10", "proc-1", "proc-2"],
    ];
    let mut sets: Vec<Vec<String>> = sets
        .into_iter()
        .map(|set| set.into_iter().map(String::from).collect())
        .collect();
    // More names than one statement takes, among them the real ones.
    let mut many: Vec<String> = (0..1234).map(|i| format!("case-x{i}")).collect();
    many.insert(700, "case-2".into());
    many.push("proc-2".into());
    sets.push(many);
    for set in &sets {
        // Every field, not the positions alone: each store's indexed read decodes its rows
        // itself (SQLite's through a reader of its own).
        let got = s.read_contexts(set).await.unwrap();
        assert_eq!(
            got,
            filtered(s, set).await,
            "{:?}",
            &set[..set.len().min(8)]
        );
    }
    // The filter keeps what it says (the check above is not vacuous).
    let one = s.read_contexts(&sets[0]).await.unwrap();
    let streams: Vec<&str> = one.iter().map(|e| e.stream.as_str()).collect();
    assert_eq!(
        streams,
        [
            "catalog",
            "catalog",
            "calendar",
            "case-1",
            "supervision",
            "supervision",
            "supervision",
            "case-1"
        ]
    );
    let projects = s.read_contexts(&sets[2]).await.unwrap();
    assert_eq!(
        projects
            .iter()
            .filter(|e| matches!(e.data, EventData::ProcurementRegistered(_)))
            .count(),
        2
    );
}

/// The contexts of thousands of cases, spread over several statements, are read through the
/// indexes and equal the filter of the whole log.
pub async fn the_contexts_of_thousands_of_cases_are_read_by_index(f: Fixture) {
    let s = &*f.store;
    let cases = 6_000;
    for chunk in (0..cases).collect::<Vec<_>>().chunks(1_000) {
        let mut batch = Vec::new();
        for i in chunk {
            let case = format!("case-{i}");
            batch.push(submitted(&case));
            batch.push(step(&case, 1));
        }
        s.append(batch).await.unwrap();
    }
    let acts: Vec<NewEvent> = (0..cases)
        .step_by(3)
        .map(|i| {
            supervision(EventData::Exempted(Exempted {
                case: format!("case-{i}"),
                reason: "不可抗力".into(),
            }))
        })
        .collect();
    s.append(acts).await.unwrap();
    let streams: Vec<String> = (0..cases).step_by(2).map(|i| format!("case-{i}")).collect();
    let started = Instant::now();
    let got = s.read_contexts(&streams).await.unwrap();
    eprintln!(
        "read the contexts of {} streams ({} events) in {:?}",
        streams.len(),
        got.len(),
        started.elapsed()
    );
    assert_eq!(got.len(), streams.len() * 2 + cases / 6);
    let started = Instant::now();
    let whole = filtered(s, &streams).await;
    eprintln!("the filter of the whole log took {:?}", started.elapsed());
    assert_eq!(got, whole);
}

/// Two checkpoints from the same position at once: one is written, the other finds the index
/// moved and writes nothing.
pub async fn racing_index_writes_from_one_position_write_once(f: Fixture) {
    let s = &*f.store;
    log_of(s, 3).await;
    s.write_index(write(0, 1, vec![row("case-1", 0, 1, "")]))
        .await
        .unwrap();
    for round in 0..5u64 {
        // Back and forth between positions 1 and 2.
        let from = 1 + round % 2;
        let to = 2 - round % 2;
        let a = s.write_index(write(from, to, vec![row("case-1", 1, 1, "a")]));
        let b = s.write_index(write(from, to, vec![row("case-2", 2, 2, "l")]));
        let (a, b) = futures::future::join(a, b).await;
        let moved = |r: &Result<(), StoreError>| matches!(r, Err(StoreError::IndexMoved { expected, found }) if *expected == from && *found == to);
        assert!(
            (a.is_ok() && moved(&b)) || (moved(&a) && b.is_ok()),
            "round {round}: {a:?} {b:?}"
        );
        assert_eq!(s.index_state().await.unwrap().position, to);
    }
}

/// Kept alerts are written with their rows in the checkpoint's transaction (a refused
/// checkpoint writes none; those of a stream it writes no settled row for are not kept), read
/// back only for the rows settled by the instant asked (neither active nor irregular, reaching
/// no later), which the alerts' question then leaves out; a row written again drops its kept
/// alerts unless the checkpoint keeps new ones, and a mark makes its row unsettled.
pub async fn kept_alerts_follow_their_rows(f: Fixture) {
    let s = &*f.store;
    log_of(s, 4).await;
    let settled = |name: &str, reach: i64| IndexRow {
        reach,
        ..row(name, 10, 100, "l")
    };
    let mut first = write(
        0,
        1,
        vec![
            settled("case-1", 100),
            settled("case-2", 300),
            row("case-3", 10, 100, "al"),
            row("case-4", 10, 100, "il"),
            settled("case-5", 100),
        ],
    );
    first.kept = vec![
        kept("case-5", b"old"),
        kept("case-2", b"two"),
        kept("case-1", b"one"),
        kept("case-3", b"three"),
        kept("case-4", b"four"),
        kept("case-5", b"five"),
        kept("case-9", b"no row"),
    ];
    // Refused: nothing kept.
    let mut stale = first.clone();
    stale.from = 9;
    assert!(s.write_index(stale).await.is_err());
    assert!(s.index_kept(i64::MAX).await.unwrap().is_empty());
    s.write_index(first).await.unwrap();
    let at = |by| async move { s.index_kept(by).await.unwrap() };
    assert_eq!(
        at(299).await,
        [kept("case-1", b"one"), kept("case-5", b"five")]
    );
    assert_eq!(
        at(300).await,
        [
            kept("case-1", b"one"),
            kept("case-2", b"two"),
            kept("case-5", b"five")
        ]
    );
    assert!(at(99).await.is_empty());
    let alerts = |by| async move { s.index_select(IndexSelect::Alerts { by }).await.unwrap() };
    assert_eq!(alerts(299).await, ["case-2", "case-3", "case-4"]);
    assert_eq!(alerts(300).await, ["case-3", "case-4"]);
    assert_eq!(
        alerts(99).await,
        ["case-1", "case-2", "case-3", "case-4", "case-5"]
    );
    // case-1 written again without kept alerts: folded; case-5 marked irregular: folded, its
    // body kept but not read; case-2 given new ones.
    let mut next = write(1, 2, vec![settled("case-1", 100), settled("case-2", 300)]);
    next.kept = vec![kept("case-2", b"again")];
    next.mark_after = Some(50);
    s.write_index(next).await.unwrap();
    assert_eq!(at(i64::MAX).await, [kept("case-2", b"again")]);
    assert_eq!(
        alerts(i64::MAX).await,
        ["case-1", "case-3", "case-4", "case-5"]
    );
}

/// A SQLite log's contexts are read by a reader of their own (not sqlx's): it decodes a row as
/// sqlx's readers do, so a value of the wrong type written behind the log's back is
/// `Undecodable` at its position, never a driver error and never a misread event.
#[tokio::test]
async fn a_wrongly_typed_row_is_undecodable_in_a_sqlite_context() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.db");
    let url = format!("sqlite://{}", path.display());
    let open = || async {
        let clock = jiancha_store::ManualClock::new(crate::start_instant());
        jiancha_store::open(&url, std::sync::Arc::new(clock))
            .await
            .unwrap()
    };
    let case = vec!["case-1".to_owned()];
    let store = open().await;
    store
        .append(vec![submitted("case-1"), step("case-1", 1)])
        .await
        .unwrap();
    assert_eq!(store.read_contexts(&case).await.unwrap().len(), 2);
    store.close().await;
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "DROP TRIGGER events_no_update; \
             UPDATE events SET data = CAST(data AS BLOB) WHERE position = 2",
        )
        .unwrap();
    let store = open().await;
    match store.read_contexts(&case).await {
        Err(StoreError::Undecodable { position: 2, .. }) => {}
        other => panic!("expected the row at 2 undecodable, got {other:?}"),
    }
}

/// An index of another fold is dropped whole — rows, kept alerts, state — when its state is still
/// the one the caller read; one moved meanwhile (another process rebuilt it) is left alone.
pub async fn an_index_is_reset_only_from_the_state_read(f: Fixture) {
    let s = &*f.store;
    log_of(s, 4).await;
    let mut w = write(
        0,
        2,
        vec![IndexRow {
            reach: 100,
            ..row("case-1", 10, 100, "l")
        }],
    );
    w.kept = vec![kept("case-1", b"one")];
    s.write_index(w).await.unwrap();
    let stored = s.index_state().await.unwrap();
    assert_eq!(stored.fold_format, FOLD);
    // Another state than the one stored: nothing happens.
    s.reset_index(IndexState {
        position: 1,
        ..stored
    })
    .await
    .unwrap();
    assert_eq!(s.index_state().await.unwrap(), stored);
    assert_eq!(s.index_kept(i64::MAX).await.unwrap().len(), 1);
    s.reset_index(stored).await.unwrap();
    assert_eq!(s.index_state().await.unwrap(), IndexState::EMPTY);
    assert!(s.index_kept(i64::MAX).await.unwrap().is_empty());
    assert!(s
        .index_rows(&["case-1".to_owned()])
        .await
        .unwrap()
        .is_empty());
    // Built again from the start.
    s.write_index(write(0, 3, vec![row("case-2", 10, 100, "a")]))
        .await
        .unwrap();
    assert_eq!(s.index_state().await.unwrap().position, 3);
}
