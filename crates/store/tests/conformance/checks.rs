//! The checks themselves, each a function of a fresh store.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use futures::StreamExt;
use jiancha_events::*;
use jiancha_store::{
    subscribe, EventStore, ImportChunk, RejectionKind, StoreError, READ_PAGE_EVENTS,
};
use tokio::sync::mpsc;

use crate::Fixture;

pub use crate::index::*;
pub use crate::ownership::*;

fn at(minutes: i64) -> Timestamp {
    parse_timestamp("2026-03-02T09:00:00+08:00").unwrap() + chrono::Duration::minutes(minutes)
}

fn stream(name: &str) -> StreamName {
    StreamName::parse(name).unwrap()
}

pub fn submitted(case: &str) -> NewEvent {
    NewEvent::new(
        stream(case),
        at(0),
        "clerk-1",
        "jiangjin/town-01/window-1",
        EventData::Submitted(Submitted {
            item: "BL-001".into(),
            channel: Channel::Window,
            materials: vec!["身份证".into()],
        }),
    )
}

pub fn step(case: &str, n: i64) -> NewEvent {
    NewEvent::new(
        stream(case),
        at(n),
        "clerk-1",
        "jiangjin/town-01/window-1",
        EventData::StepCompleted(StepCompleted {
            step: format!("step-{n}"),
        }),
    )
}

/// Checks a whole stored log from the genesis: positions 1, 2, … without a gap, each event
/// linked to the one before and sealed with its own hash. Returns the head's hash.
/// Appends `total` events one at a time, taking the cases `case-0` .. `case-{cases - 1}` in
/// turn: each case's submission first, then a step numbered by its place in the whole run.
async fn append_round_robin(s: &dyn EventStore, total: i64, cases: i64) {
    for i in 0..total {
        let case = format!("case-{}", i % cases);
        let ev = if i < cases {
            submitted(&case)
        } else {
            step(&case, i)
        };
        s.append(vec![ev]).await.unwrap();
    }
}

/// One case's events with the caller's ids: its submission, then steps 1, 2, …, `count` in
/// all, the i-th with the id `{ids}-{i}`.
pub fn case_with_ids(case: &str, ids: &str, count: i64) -> Vec<NewEvent> {
    (0..count)
        .map(|i| {
            let ev = if i == 0 {
                submitted(case)
            } else {
                step(case, i)
            };
            ev.with_id(format!("{ids}-{i}"))
        })
        .collect()
}

fn assert_chain(raws: &[RawEvent]) -> Hash {
    let mut verifier = ChainVerifier::new(0, GENESIS_HASH);
    for r in raws {
        verifier.check(r).unwrap();
    }
    verifier.head()
}

fn rejection(result: Result<impl std::fmt::Debug, StoreError>) -> jiancha_store::Rejection {
    match result {
        Err(StoreError::Rejected(r)) => r,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

pub async fn all_raw(store: &dyn EventStore) -> Vec<RawEvent> {
    let mut out = Vec::new();
    let mut pages = store.raw_pages(0);
    while let Some(page) = pages.next().await.unwrap() {
        out.extend(page);
    }
    out
}

/// `pages` and `raw_pages` hand out every event once, in position order, in pages of at most
/// [`READ_PAGE_EVENTS`], from any position to the head, across page boundaries; `read_at` and
/// `read_raw_at` find the event at a position, and nothing at 0 or past the head.
pub async fn pages_cross_page_boundaries_and_read_at_finds_a_position(f: Fixture) {
    let s = &*f.store;
    let total = 2 * READ_PAGE_EVENTS as u64 + 7;
    let mut batch = Vec::new();
    for i in 0..total {
        let case = format!("case-{}", i % 5);
        batch.push(if i < 5 {
            submitted(&case)
        } else {
            step(&case, 1)
        });
        if batch.len() == 1000 {
            s.append(std::mem::take(&mut batch)).await.unwrap();
        }
    }
    s.append(batch).await.unwrap();
    assert_eq!(s.head().await.unwrap().position, total);

    for start in [
        0,
        1,
        READ_PAGE_EVENTS as u64 - 3,
        total - 1,
        total,
        total + 4,
    ] {
        let mut pages = s.pages(start);
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        while let Some(page) = pages.next().await.unwrap() {
            assert!(!page.is_empty() && page.len() <= READ_PAGE_EVENTS);
            sizes.push(page.len());
            seen.extend(page.iter().map(|e| e.position));
            assert_eq!(pages.after(), *seen.last().unwrap());
        }
        let expected: Vec<u64> = (start + 1..=total).collect();
        assert_eq!(seen, expected, "pages after {start}");
        assert!(
            sizes.iter().rev().skip(1).all(|n| *n == READ_PAGE_EVENTS),
            "pages after {start}: {sizes:?}"
        );

        let mut raw = s.raw_pages(start);
        let mut raw_seen = Vec::new();
        while let Some(page) = raw.next().await.unwrap() {
            assert!(!page.is_empty() && page.len() <= READ_PAGE_EVENTS);
            raw_seen.extend(page.iter().map(|r| r.position));
        }
        assert_eq!(raw_seen, expected, "raw pages after {start}");
    }
    // More than one page from the start, so the boundary was crossed.
    let mut pages = s.pages(0);
    assert_eq!(pages.next().await.unwrap().unwrap().len(), READ_PAGE_EVENTS);

    // A page appended after the head was reached is read by the next call.
    assert!(pages.next().await.unwrap().is_some());
    assert!(pages.next().await.unwrap().is_some());
    assert!(pages.next().await.unwrap().is_none());
    s.append(vec![step("case-1", 2)]).await.unwrap();
    let tail = pages.next().await.unwrap().unwrap();
    assert_eq!(
        tail.iter().map(|e| e.position).collect::<Vec<_>>(),
        [total + 1]
    );
    let head = total + 1;

    let all = s.read_after(0, usize::MAX >> 8).await.unwrap();
    for p in [
        1,
        2,
        READ_PAGE_EVENTS as u64,
        READ_PAGE_EVENTS as u64 + 1,
        head,
    ] {
        let event = s.read_at(p).await.unwrap().unwrap();
        assert_eq!(event, all[usize::try_from(p - 1).unwrap()]);
        let raw = s.read_raw_at(p).await.unwrap().unwrap();
        assert_eq!(raw.position, p);
        assert_eq!(raw.id, event.id);
    }
    for p in [0, head + 1, head + 100] {
        assert!(s.read_at(p).await.unwrap().is_none(), "read_at({p})");
        assert!(
            s.read_raw_at(p).await.unwrap().is_none(),
            "read_raw_at({p})"
        );
    }
}

pub async fn appends_get_gap_free_positions_and_versions(f: Fixture) {
    let s = &*f.store;
    let a = s
        .append(vec![submitted("case-a"), step("case-a", 1)])
        .await
        .unwrap();
    assert_eq!(a.positions, vec![1, 2]);
    assert_eq!(a.appended, 2);
    f.clock.advance(chrono::Duration::seconds(5));
    let b = s
        .append(vec![submitted("case-b"), step("case-a", 2)])
        .await
        .unwrap();
    assert_eq!(b.positions, vec![3, 4]);
    let raws = all_raw(s).await;
    let versions: Vec<(String, u64)> = raws.iter().map(|r| (r.stream.clone(), r.version)).collect();
    assert_eq!(
        versions,
        vec![
            ("case-a".into(), 1),
            ("case-a".into(), 2),
            ("case-b".into(), 1),
            ("case-a".into(), 3)
        ]
    );
    assert_eq!(raws[0].id, "auto:case-a:1");
    assert_eq!(
        raws[0].recorded_at, "2026-03-02T09:00:00+08:00",
        "stamped by the clock at +08:00"
    );
    assert_eq!(raws[2].recorded_at, "2026-03-02T09:00:05+08:00");
    assert_eq!(s.head().await.unwrap().position, 4);
    assert_eq!(s.head().await.unwrap().hash, raws[3].hash);
    assert_eq!(*s.committed().borrow(), 4);
}

pub async fn a_version_conflict_names_the_stream_and_both_versions(f: Fixture) {
    let s = &*f.store;
    s.append(vec![submitted("case-a").expecting(0)])
        .await
        .unwrap();
    s.append(vec![step("case-a", 1).expecting(1)])
        .await
        .unwrap();
    let r = rejection(s.append(vec![step("case-a", 2).expecting(1)]).await);
    assert_eq!(r.field, "expected_version");
    assert_eq!(
        r.kind,
        RejectionKind::Conflict {
            stream: "case-a".into(),
            expected: 1,
            actual: 2
        }
    );
    assert!(r.message.contains("case-a") && r.message.contains('1') && r.message.contains('2'));
    assert_eq!(s.head().await.unwrap().position, 2);
}

pub async fn a_retried_id_returns_the_original_positions_and_writes_nothing(f: Fixture) {
    let s = &*f.store;
    s.append(vec![submitted("case-x")]).await.unwrap();
    let batch = vec![
        submitted("case-a").with_id("e1"),
        step("case-a", 1).with_id("e2"),
    ];
    let first = s.append(batch.clone()).await.unwrap();
    assert_eq!(first.positions, vec![2, 3]);
    let head = s.head().await.unwrap();
    let again = s.append(batch.clone()).await.unwrap();
    assert_eq!(again.positions, vec![2, 3]);
    assert_eq!(again.appended, 0);
    assert_eq!(s.head().await.unwrap(), head);
    // The event an id names is found by it.
    let found = s.read_by_id("e2").await.unwrap().unwrap();
    assert_eq!((found.position, found.stream.as_str()), (3, "case-a"));
    assert!(s.read_by_id("e9").await.unwrap().is_none());
    // A retry with one new event appends only the new one; expected versions of the old ones
    // are not checked again.
    let mut mixed = batch;
    mixed.push(step("case-a", 2).with_id("e3"));
    let third = s.append(mixed).await.unwrap();
    assert_eq!(third.positions, vec![2, 3, 4]);
    assert_eq!(third.appended, 1);
    // The same id twice in one batch is one event.
    let twice = s
        .append(vec![
            step("case-a", 3).with_id("e4"),
            step("case-a", 3).with_id("e4"),
        ])
        .await
        .unwrap();
    assert_eq!(twice.positions, vec![5, 5]);
    assert_eq!(s.head().await.unwrap().position, 5);
}

pub async fn a_reused_id_with_other_content_is_refused(f: Fixture) {
    let s = &*f.store;
    s.append(vec![submitted("case-a").with_id("e1")])
        .await
        .unwrap();
    let r = rejection(s.append(vec![step("case-a", 9).with_id("e1")]).await);
    assert_eq!(r.field, "id");
    assert_eq!(r.kind, RejectionKind::IdReused { position: 1 });
    assert_eq!(s.head().await.unwrap().position, 1);
}

/// An actor or org the reading of a line refuses is refused on append too, whoever built the
/// event: otherwise the log's own export could not be imported again.
pub async fn an_actor_or_org_a_line_may_not_carry_is_refused(f: Fixture) {
    let s = &*f.store;
    for (actor, org, field) in [
        ("clerk-1", "Bad Org!", "org"),
        ("clerk-1", "jiangjin//x", "org"),
        ("clerk-1", "", "org"),
        ("", "jiangjin", "actor"),
        ("a\u{1}b", "jiangjin", "actor"),
        ("a\u{202e}b", "jiangjin", "actor"),
        ("a\u{200b}b", "jiangjin", "actor"),
    ] {
        let mut e = submitted("case-a");
        e.actor = actor.into();
        e.org = org.into();
        let r = rejection(s.append(vec![e]).await);
        assert_eq!(r.field, field, "{actor:?} {org:?}: {}", r.message);
    }
    assert_eq!(s.head().await.unwrap().position, 0);
}

pub async fn a_batch_is_all_or_nothing(f: Fixture) {
    let s = &*f.store;
    s.append(vec![submitted("case-a")]).await.unwrap();
    let head = s.head().await.unwrap();
    let r = rejection(
        s.append(vec![
            step("case-a", 1),
            submitted("case-b"),
            step("case-a", 2).expecting(7),
        ])
        .await,
    );
    assert_eq!(
        r.tag, 2,
        "the tag is the index of the refused event in its batch"
    );
    assert_eq!(s.head().await.unwrap(), head);
    assert_eq!(all_raw(s).await.len(), 1);
    assert!(s.read_stream("case-b").await.unwrap().is_empty());
}

pub async fn a_case_event_needs_a_submitted_case(f: Fixture) {
    let s = &*f.store;
    let r = rejection(s.append(vec![step("case-never", 1)]).await);
    assert_eq!(r.field, "stream");
    assert!(r.message.contains("never submitted"), "{}", r.message);
    // Submitted and a following event in the same batch is fine.
    s.append(vec![submitted("case-new"), step("case-new", 1)])
        .await
        .unwrap();
}

pub async fn reads_after_a_position_and_by_stream(f: Fixture) {
    let s = &*f.store;
    append_round_robin(s, 30, 3).await;
    let page = s.read_after(10, 5).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.position).collect::<Vec<_>>(),
        vec![11, 12, 13, 14, 15]
    );
    assert!(s.read_after(30, 5).await.unwrap().is_empty());
    let case1 = s.read_stream("case-1").await.unwrap();
    assert_eq!(case1.len(), 10);
    assert!(case1.windows(2).all(|w| w[1].version == w[0].version + 1));
    assert!(case1.iter().all(|e| e.stream == "case-1"));
    assert_eq!(case1[0].data.type_name(), "Submitted");
}

/// 8 tasks appending to one stream and 8 to their own streams, with a follower running
/// throughout: nothing lost, duplicated or reordered, no gap.
pub async fn concurrent_writers_lose_nothing_and_leave_no_gap(f: Fixture) {
    const PER_TASK: i64 = 40;
    let store = f.store.clone();
    store.append(vec![submitted("case-shared")]).await.unwrap();
    let follower = tokio::spawn({
        let store = store.clone();
        async move {
            let expected = 1 + 16 * PER_TASK as usize + 8;
            let mut stream = Box::pin(subscribe(store, 0));
            let mut seen = Vec::new();
            while seen.len() < expected {
                let ev = stream.next().await.unwrap().unwrap();
                seen.push(ev.position);
            }
            seen
        }
    });
    let mut tasks = Vec::new();
    for t in 0..16i64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let case = if t < 8 {
                "case-shared".to_owned()
            } else {
                format!("case-own-{t}")
            };
            if t >= 8 {
                store.append(vec![submitted(&case)]).await.unwrap();
            }
            for i in 0..PER_TASK {
                let mut ev = step(&case, t * 1000 + i);
                ev.actor = format!("task-{t}");
                store.append(vec![ev]).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let raws = all_raw(&*store).await;
    let expected_len = 1 + 16 * PER_TASK as usize + 8;
    assert_eq!(raws.len(), expected_len);
    assert!(
        raws.iter()
            .enumerate()
            .all(|(i, r)| r.position == i as u64 + 1),
        "gap-free"
    );
    let mut per_stream: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut per_task: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    let ids: HashSet<&str> = raws.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), raws.len(), "no duplicate");
    for r in &raws {
        per_stream.entry(&r.stream).or_default().push(r.version);
        if r.actor.starts_with("task-") {
            let v: serde_json::Value = serde_json::from_str(&r.data).unwrap();
            let n: i64 = v["step"].as_str().unwrap()[5..].parse().unwrap();
            per_task.entry(&r.actor).or_default().push(n);
        }
    }
    for (s, versions) in per_stream {
        assert!(
            versions.iter().enumerate().all(|(i, v)| *v == i as u64 + 1),
            "{s} versions"
        );
    }
    for (t, steps) in per_task {
        assert_eq!(steps.len(), PER_TASK as usize, "{t}");
        assert!(
            steps.windows(2).all(|w| w[0] < w[1]),
            "{t} in its own order"
        );
    }
    let seen = follower.await.unwrap();
    assert_eq!(
        seen,
        (1..=expected_len as u64).collect::<Vec<_>>(),
        "follower saw each once, in order"
    );
    assert_chain(&raws);
}

pub(crate) async fn import(
    store: &dyn EventStore,
    chunks: Vec<ImportChunk>,
) -> Result<jiancha_store::ImportOutcome, StoreError> {
    import_as(store, chunks, jiancha_store::ImportMode::Plain).await
}

async fn import_as(
    store: &dyn EventStore,
    chunks: Vec<ImportChunk>,
    mode: jiancha_store::ImportMode,
) -> Result<jiancha_store::ImportOutcome, StoreError> {
    let (tx, rx) = mpsc::channel(4);
    let producer = tokio::spawn(async move {
        for c in chunks {
            if tx.send(c).await.is_err() {
                break;
            }
        }
    });
    let result = store.import_with(rx, mode).await;
    producer.await.unwrap();
    result
}

pub(crate) fn tagged(events: Vec<NewEvent>, first_tag: u64) -> ImportChunk {
    ImportChunk::Events(
        events
            .into_iter()
            .enumerate()
            .map(|(i, e)| (first_tag + i as u64, e))
            .collect(),
    )
}

pub async fn an_import_commits_everything_or_nothing(f: Fixture) {
    let s = &*f.store;
    s.append(vec![submitted("case-0")]).await.unwrap();
    let good = || {
        vec![
            tagged(vec![submitted("case-a"), step("case-a", 1)], 1),
            tagged(vec![step("case-a", 2)], 3),
        ]
    };
    let mut chunks = good();
    chunks.push(ImportChunk::Abort("bad line 9".into()));
    assert!(matches!(
        import(s, chunks).await,
        Err(StoreError::Aborted(_))
    ));
    assert_eq!(s.head().await.unwrap().position, 1);
    // A dropped producer (no Commit) writes nothing either.
    assert!(matches!(
        import(s, good()).await,
        Err(StoreError::Aborted(_))
    ));
    assert_eq!(s.head().await.unwrap().position, 1);
    // A refusal in a later chunk names its tag and writes nothing.
    let mut chunks = good();
    chunks.push(tagged(vec![step("case-zzz", 1)], 4));
    chunks.push(ImportChunk::Commit);
    let r = rejection(import(s, chunks).await);
    assert_eq!(r.tag, 4);
    assert_eq!(s.head().await.unwrap().position, 1);
    let mut chunks = good();
    chunks.push(ImportChunk::Commit);
    let outcome = import(s, chunks).await.unwrap();
    assert_eq!(outcome.appended, 3);
    assert_eq!(outcome.range, Some((2, 4)));
    assert_eq!(s.head().await.unwrap().position, 4);
    // Appends after an import carry on from its head.
    assert_eq!(
        s.append(vec![step("case-a", 3)]).await.unwrap().positions,
        vec![5]
    );
}

pub async fn a_moved_log_reproduces_every_field(f: Fixture) {
    let s = &*f.store;
    s.append(vec![submitted("case-a").with_id("x1"), step("case-a", 1)])
        .await
        .unwrap();
    f.clock.advance(chrono::Duration::hours(30));
    s.append(vec![submitted("case-b"), step("case-a", 2)])
        .await
        .unwrap();
    let original = all_raw(s).await;
    let mut lines = String::new();
    for r in &original {
        write_export_line(r, &mut lines);
        lines.push('\n');
    }
    let target = crate::memory().await;
    let target_sqlite = crate::sqlite().await;
    let target_postgres = crate::postgres().await;
    for t in [&target, &target_sqlite, &target_postgres] {
        let events: Vec<NewEvent> = read_jsonl(lines.as_bytes()).map(|r| r.unwrap().1).collect();
        t.store.append(events.clone()).await.unwrap();
        assert_eq!(all_raw(&*t.store).await, original);
        // Importing the export again is a no-op.
        let again = t.store.append(events).await.unwrap();
        assert_eq!(again.appended, 0);
    }
}

/// An import whose chunk goes on with existing cases counts on from the streams' stored
/// versions. (A chunk that begins an existing case again with `Submitted` is refused: see
/// `a_second_submitted_is_refused`.)
pub async fn an_import_onto_existing_streams_counts_on_from_their_versions(f: Fixture) {
    let s = &*f.store;
    s.append(vec![submitted("case-a"), step("case-a", 1)])
        .await
        .unwrap();
    let chunks = vec![
        tagged(
            vec![
                step("case-a", 9).with_id("again"),
                step("case-a", 2),
                submitted("case-b"),
            ],
            1,
        ),
        tagged(vec![step("case-a", 3), step("case-b", 1)], 4),
        ImportChunk::Commit,
    ];
    let outcome = import(s, chunks).await.unwrap();
    assert_eq!(outcome.range, Some((3, 7)));
    let versions: Vec<(String, u64)> = all_raw(s)
        .await
        .into_iter()
        .map(|r| (r.stream, r.version))
        .collect();
    let want = [
        ("case-a", 1),
        ("case-a", 2),
        ("case-a", 3),
        ("case-a", 4),
        ("case-b", 1),
        ("case-a", 5),
        ("case-b", 2),
    ];
    assert_eq!(versions, want.map(|(s, v)| (s.to_owned(), v)));
}

/// An export whose events carry the callers' ids, imported twice in several chunks: the second
/// import finds every event already there and appends nothing.
pub async fn a_retried_import_of_a_moved_log_appends_nothing(f: Fixture) {
    let s = &*f.store;
    let mut events = case_with_ids("case-a", "m", 25);
    events.push(step("case-a", 99));
    s.append(events).await.unwrap();
    let mut lines = String::new();
    for r in all_raw(s).await {
        write_export_line(&r, &mut lines);
        lines.push('\n');
    }
    let chunks = || {
        let moved: Vec<NewEvent> = read_jsonl(lines.as_bytes()).map(|r| r.unwrap().1).collect();
        let mut chunks: Vec<ImportChunk> = moved
            .chunks(10)
            .enumerate()
            .map(|(i, c)| tagged(c.to_vec(), 1 + 10 * i as u64))
            .collect();
        chunks.push(ImportChunk::Commit);
        chunks
    };
    let target = crate::memory().await;
    let first = import(&*target.store, chunks()).await.unwrap();
    assert_eq!((first.appended, first.range), (26, Some((1, 26))));
    let again = import(&*target.store, chunks()).await.unwrap();
    assert_eq!((again.appended, again.duplicates), (0, 26));
    let here = import(s, chunks()).await.unwrap();
    assert_eq!((here.appended, here.duplicates), (0, 26));
    assert_eq!(s.head().await.unwrap().position, 26);
}

/// Every chunk queued before the import starts, so the writer always finds the next one
/// waiting and plans it ahead: a retried part (its ids already stored, which only the unique
/// index tells), then new events continuing its streams.
pub async fn queued_chunks_planned_ahead_survive_a_retried_chunk(f: Fixture) {
    let s = &*f.store;
    let events = case_with_ids("case-a", "m", 25);
    s.append(events.clone()).await.unwrap();
    let (tx, rx) = mpsc::channel(8);
    for (i, c) in events.chunks(10).enumerate() {
        tx.try_send(tagged(c.to_vec(), 1 + 10 * i as u64)).unwrap();
    }
    let fresh = vec![
        step("case-a", 100).with_id("n-1"),
        submitted("case-new").with_id("n-2"),
        step("case-new", 1),
    ];
    tx.try_send(tagged(fresh, 100)).unwrap();
    tx.try_send(tagged(vec![step("case-a", 101), step("case-new", 2)], 200))
        .unwrap();
    tx.try_send(ImportChunk::Commit).unwrap();
    let outcome = s.import(rx).await.unwrap();
    assert_eq!((outcome.appended, outcome.duplicates), (5, 25));
    assert_eq!(outcome.range, Some((26, 30)));
    let raws = all_raw(s).await;
    let versions: Vec<(&str, u64)> = raws[25..]
        .iter()
        .map(|r| (r.stream.as_str(), r.version))
        .collect();
    assert_eq!(
        versions,
        [
            ("case-a", 26),
            ("case-new", 1),
            ("case-new", 2),
            ("case-a", 27),
            ("case-new", 3)
        ]
    );
    assert_chain(&raws);
}

/// A chunk written on the fast path, then one whose ids are partly stored already: the second
/// is rolled back to its own savepoint only, and the first stays.
pub async fn a_later_chunk_with_stored_ids_keeps_the_earlier_chunks(f: Fixture) {
    let s = &*f.store;
    let stored = case_with_ids("case-x", "x", 5);
    s.append(stored.clone()).await.unwrap();
    let first = case_with_ids("case-n", "n", 10);
    let mut second = stored;
    second.push(step("case-x", 50).with_id("n-10"));
    let chunks = vec![tagged(first, 1), tagged(second, 11), ImportChunk::Commit];
    let outcome = import(s, chunks).await.unwrap();
    assert_eq!((outcome.appended, outcome.duplicates), (11, 5));
    assert_eq!(outcome.range, Some((6, 16)));
    let raws = all_raw(s).await;
    assert_eq!(raws.len(), 16);
    assert_eq!((raws[15].id.as_str(), raws[15].version), ("n-10", 6));
}

pub async fn a_moved_event_must_land_where_it_was(f: Fixture) {
    let s = &*f.store;
    s.append(vec![submitted("case-a")]).await.unwrap();
    let line = {
        let mut out = String::new();
        write_export_line(&all_raw(s).await[0], &mut out);
        out
    };
    let target = crate::memory().await;
    target
        .store
        .append(vec![submitted("case-z")])
        .await
        .unwrap();
    let moved = parse_line(1, &line).unwrap();
    let r = rejection(target.store.append(vec![moved]).await);
    assert_eq!(r.field, "position");
    // A hash that does not match the contents is refused.
    let tampered = line.replace("身份证", "户口本");
    let moved = parse_line(1, &tampered).unwrap();
    let fresh = crate::memory().await;
    let r = rejection(fresh.store.append(vec![moved]).await);
    assert_eq!(r.field, "hash");
}

pub async fn the_stored_chain_verifies(f: Fixture) {
    let s = &*f.store;
    append_round_robin(s, 50, 7).await;
    let raws = s.read_raw_after(0, READ_PAGE_EVENTS).await.unwrap();
    assert_eq!(raws.len(), 50);
    assert_eq!(assert_chain(&raws), s.head().await.unwrap().hash);
    let decoded: Vec<_> = raws.iter().map(|r| r.decode().unwrap()).collect();
    assert_eq!(decoded, s.read_after(0, 100).await.unwrap());
    let _ = Arc::clone(&f.store);
}

/// A snapshot of derived state is kept beside the log under its name, with the position it
/// covers; saving again replaces it.
pub async fn a_snapshot_is_kept_and_replaced(f: Fixture) {
    let s = &*f.store;
    assert_eq!(s.load_snapshot("ledger").await.unwrap(), None);
    s.save_snapshot("ledger", 3, vec![1, 2, 3]).await.unwrap();
    s.save_snapshot("alerts", 1, vec![]).await.unwrap();
    s.save_snapshot("ledger", 7, vec![0, 255]).await.unwrap();
    assert_eq!(
        s.load_snapshot("ledger").await.unwrap(),
        Some((7, vec![0, 255]))
    );
    assert_eq!(s.load_snapshot("alerts").await.unwrap(), Some((1, vec![])));
}

fn supervision(data: EventData) -> NewEvent {
    NewEvent::new(stream("supervision"), at(30), "bureau-1", "jiangjin", data)
}

/// The supervision events that name a case are found by it, in position order, and no event
/// of another case is: not one whose id merely starts with the same letters, not an
/// acknowledgement whose alert id has no case part.
pub async fn the_supervision_acts_on_a_case_are_found_by_it(f: Fixture) {
    let s = &*f.store;
    for case in ["case-7", "case-70"] {
        s.append(vec![submitted(case)]).await.unwrap();
    }
    let card = |case: &str| {
        supervision(EventData::CardIssued(CardIssued {
            case: case.into(),
            rule: "deadline.overdue".into(),
            severity: Severity::Red,
            due: at(20),
        }))
    };
    let acts = vec![
        card("case-7"),
        card("case-70"),
        supervision(EventData::AlertAcknowledged(AlertAcknowledged {
            card_at: None,
            alert: "case-70/deadline.overdue/1".into(),
            note: None,
        })),
        supervision(EventData::AlertAcknowledged(AlertAcknowledged {
            card_at: None,
            alert: "case-7/deadline.overdue/1".into(),
            note: Some("已核实".into()),
        })),
        supervision(EventData::AlertAcknowledged(AlertAcknowledged {
            card_at: None,
            alert: "case-7".into(),
            note: None,
        })),
        supervision(EventData::CorrectionOrdered(CorrectionOrdered {
            card_at: None,
            case: "case-7".into(),
            alert: "case-7/deadline.overdue/1".into(),
            days: 3,
        })),
        supervision(EventData::CorrectionCompleted(CorrectionCompleted {
            card_at: None,
            case: "case-7".into(),
            alert: "case-7/deadline.overdue/1".into(),
            report: None,
        })),
        supervision(EventData::Exempted(Exempted {
            case: "case-70".into(),
            reason: "不可抗力".into(),
        })),
        supervision(EventData::Exempted(Exempted {
            case: "case-7".into(),
            reason: "不可抗力".into(),
        })),
        // The workflow's acts that name their case through an id (migration 0007).
        supervision(EventData::ComplaintAccepted(
            jiancha_events::ComplaintAccepted {
                complaint: "case-7/complaint/1".into(),
                route_to: None,
            },
        )),
        supervision(EventData::NotificationSent(
            jiancha_events::NotificationSent {
                notification: "case-70/deadline.overdue/1/leader".into(),
                recipient: "leader".into(),
                attempts: 1,
            },
        )),
        supervision(EventData::NotificationFailed(
            jiancha_events::NotificationFailed {
                notification: "case-7/deadline.overdue/1/leader".into(),
                recipient: "leader".into(),
                error: "HTTP 503".into(),
            },
        )),
        supervision(EventData::RatingVerified(jiancha_events::RatingVerified {
            case: "case-7".into(),
            verdict: jiancha_events::RatingVerdict::Valid,
            note: None,
        })),
    ];
    let positions = s.append(acts).await.unwrap().positions;
    s.append(vec![step("case-7", 40)]).await.unwrap();

    let found = s.read_concerning("case-7").await.unwrap();
    let at_positions: Vec<u64> = found.iter().map(|e| e.position).collect();
    let expected: Vec<u64> = [0, 3, 5, 6, 8, 9, 11, 12]
        .iter()
        .map(|&i| positions[i])
        .collect();
    assert_eq!(at_positions, expected);
    assert!(found
        .iter()
        .all(|e| e.data.concerns_case() == Some("case-7")));
    let other: Vec<u64> = s
        .read_concerning("case-70")
        .await
        .unwrap()
        .iter()
        .map(|e| e.position)
        .collect();
    assert_eq!(
        other,
        vec![positions[1], positions[2], positions[7], positions[10]]
    );
    assert!(s.read_concerning("case-").await.unwrap().is_empty());

    let context = s.read_case_context("case-7").await.unwrap();
    let streams: Vec<&str> = context.iter().map(|e| e.stream.as_str()).collect();
    assert_eq!(
        streams,
        [
            "case-7",
            "supervision",
            "supervision",
            "supervision",
            "supervision",
            "supervision",
            "supervision",
            "supervision",
            "supervision",
            "case-7"
        ]
    );
    assert!(context.windows(2).all(|w| w[0].position < w[1].position));
    assert!(s.read_case_context("case-9").await.unwrap().is_empty());
}

/// A snapshot larger than one stored value may hold is kept in parts and read back whole; a
/// smaller one saved after it leaves none of the old parts behind.
pub async fn a_large_snapshot_is_kept_in_parts(f: Fixture) {
    let s = &*f.store;
    let large: Vec<u8> = (0..jiancha_store::SNAPSHOT_PART_BYTES + 5)
        .map(|i| (i % 251) as u8)
        .collect();
    s.save_snapshot("projections", 9, large.clone())
        .await
        .unwrap();
    let (position, bytes) = s.load_snapshot("projections").await.unwrap().unwrap();
    assert_eq!(position, 9);
    assert!(bytes == large, "the parts must join to the saved bytes");
    s.save_snapshot("projections", 12, vec![4, 5])
        .await
        .unwrap();
    assert_eq!(
        s.load_snapshot("projections").await.unwrap(),
        Some((12, vec![4, 5]))
    );
}

/// A case's context is its stream, its item's definitions, the calendar amendments, the
/// workflow's limits and the supervision acts naming it (an appeal naming it included), in
/// position order; nothing of another item or case (nor an appeal naming none).
pub async fn a_case_context_holds_what_the_case_depends_on(f: Fixture) {
    let s = &*f.store;
    let line = |n: usize, text: &str| parse_line(n, text).unwrap();
    let item = |code: &str, promised: u32| {
        line(
            1,
            &format!(
                r#"{{"stream":"catalog","type":"ItemDefined","occurred_at":"2026-01-05T09:00:00+08:00","actor":"admin-1","org":"jiangjin/center","data":{{"code":"{code}","name":"登记","org":"jiangjin/center/dept-03","statutory_days":20,"promised_days":{promised},"fee_cents":0,"steps":["审查"],"required_materials":[],"in_center":true}}}}"#
            ),
        )
    };
    let amended = line(
        2,
        r#"{"stream":"calendar","type":"CalendarAmended","occurred_at":"2026-11-04T10:00:00+08:00","actor":"admin-1","org":"jiangjin","data":{"jurisdiction":"national","date":"2027-02-06","kind":"holiday","reason":"通知"}}"#,
    );
    let defined = s
        .append(vec![item("BL-001", 5), item("BL-0010", 5), amended])
        .await
        .unwrap()
        .positions;
    s.append(vec![submitted("case-7")]).await.unwrap();
    let redefined = s.append(vec![item("BL-001", 3)]).await.unwrap().positions;
    let exempt = |case: &str| {
        supervision(EventData::Exempted(Exempted {
            case: case.into(),
            reason: "不可抗力".into(),
        }))
    };
    let appeal = |case: Option<&str>| {
        supervision(EventData::AppealUpheld(jiancha_events::AppealUpheld {
            entry: "3/red".into(),
            case: case.map(str::to_owned),
            reason: None,
        }))
    };
    let acts = s
        .append(vec![
            exempt("case-7"),
            exempt("case-70"),
            appeal(Some("case-7")),
            appeal(Some("case-70")),
            appeal(None),
        ])
        .await
        .unwrap()
        .positions;
    let limits = s
        .append(vec![line(
            3,
            r#"{"stream":"catalog","type":"WorkflowLimitsDefined","occurred_at":"2026-11-05T10:00:00+08:00","actor":"center-1","org":"jiangjin","data":{"rectify_days":7}}"#,
        )])
        .await
        .unwrap()
        .positions;
    s.append(vec![submitted("case-70"), step("case-7", 5)])
        .await
        .unwrap();

    let context = s.read_case_context("case-7").await.unwrap();
    let got: Vec<(u64, &str)> = context
        .iter()
        .map(|e| (e.position, e.stream.as_str()))
        .collect();
    let case_7: Vec<u64> = s
        .read_stream("case-7")
        .await
        .unwrap()
        .iter()
        .map(|e| e.position)
        .collect();
    assert_eq!(
        got,
        [
            (defined[0], "catalog"),
            (defined[2], "calendar"),
            (case_7[0], "case-7"),
            (redefined[0], "catalog"),
            (acts[0], "supervision"),
            (acts[2], "supervision"),
            (limits[0], "catalog"),
            (case_7[1], "case-7"),
        ]
    );
    assert!(s.read_case_context("case-8").await.unwrap().is_empty());
}

/// A chunk larger than one insert statement whose last event is already in the log: whatever
/// the database took of the chunk before refusing it is taken back, and the chunk is then
/// written once, gap-free, with the known event counted as a duplicate.
pub async fn a_large_chunk_refused_at_its_end_is_written_once(f: Fixture) {
    let s = &*f.store;
    s.append(vec![submitted("case-0").with_id("known")])
        .await
        .unwrap();
    let mut events = vec![submitted("case-a")];
    events.extend((1..2_500).map(|i| step("case-a", i).with_id(format!("n-{i}"))));
    events.push(submitted("case-0").with_id("known"));
    let outcome = import(s, vec![tagged(events, 1), ImportChunk::Commit])
        .await
        .unwrap();
    assert_eq!((outcome.appended, outcome.duplicates), (2_500, 1));
    assert_eq!(outcome.range, Some((2, 2_501)));
    let raws = all_raw(s).await;
    assert_eq!(raws.len(), 2_501);
    let versions: Vec<u64> = raws[1..].iter().map(|r| r.version).collect();
    assert_eq!(versions, (1..=2_500).collect::<Vec<u64>>());
    assert_chain(&raws);
}

/// Text that a database's bulk path could mangle (tabs, newlines and backslashes inside the
/// JSON text, quotes, CJK, a trailing space) is stored byte for byte by an import, exactly as an
/// append stores it and as it was hashed.
pub async fn an_import_keeps_every_byte_of_the_text(f: Fixture) {
    let s = &*f.store;
    let tricky = || {
        let mut first = submitted("case-t").with_id("t\\1 \\N");
        first.actor = "科员\\王五 ".into();
        let mut second = NewEvent::new(
            stream("case-t"),
            at(1),
            // A tab in an actor is refused (as on reading a line): a backslash escape is not.
            "clerk-1\\t",
            "jiangjin/town-01/window-1",
            EventData::StepCompleted(StepCompleted {
                step: "审查\t\"一\"\n\\. \\x00 \r".into(),
            }),
        );
        second.id = Some("t-2".into());
        vec![first, second]
    };
    let outcome = import(s, vec![tagged(tricky(), 1), ImportChunk::Commit])
        .await
        .unwrap();
    assert_eq!(outcome.appended, 2);
    let imported = all_raw(s).await;
    let reference = crate::memory().await;
    reference.store.append(tricky()).await.unwrap();
    let appended = all_raw(&*reference.store).await;
    let text = |r: &RawEvent| {
        (
            r.id.clone(),
            r.actor.clone(),
            r.data.clone(),
            r.hash,
            r.prev_hash,
        )
    };
    assert_eq!(
        imported.iter().map(text).collect::<Vec<_>>(),
        appended.iter().map(text).collect::<Vec<_>>()
    );
    assert!(
        imported[1].data.contains("\\t\\\"一\\\"\\n"),
        "{}",
        imported[1].data
    );
    assert_chain(&imported);
}

/// Forty small chunks queued before the import starts, so that a database writing runs of
/// chunks in one bulk write makes several runs; chunk 20 holds an event already stored, which
/// only the unique index tells. Everything new is written once, in order, gap-free.
pub async fn a_stored_event_inside_a_run_of_chunks_is_found(f: Fixture) {
    let s = &*f.store;
    s.append(vec![submitted("case-s").with_id("s-0")])
        .await
        .unwrap();
    let (tx, rx) = mpsc::channel(64);
    let mut n = 0;
    for chunk in 0..40 {
        let mut events = Vec::new();
        for _ in 0..3 {
            let ev = if n == 0 {
                submitted("case-q")
            } else {
                step("case-q", n)
            };
            events.push(ev.with_id(format!("q-{n}")));
            n += 1;
        }
        if chunk == 20 {
            events.insert(1, submitted("case-s").with_id("s-0"));
        }
        tx.try_send(tagged(events, 1 + 4 * chunk)).unwrap();
    }
    tx.try_send(ImportChunk::Commit).unwrap();
    let outcome = s.import(rx).await.unwrap();
    assert_eq!((outcome.appended, outcome.duplicates), (120, 1));
    assert_eq!(outcome.range, Some((2, 121)));
    let raws = all_raw(s).await;
    assert_eq!(raws.len(), 121);
    let q: Vec<(String, u64)> = raws[1..]
        .iter()
        .map(|r| (r.id.clone(), r.version))
        .collect();
    let want: Vec<(String, u64)> = (0..120).map(|i| (format!("q-{i}"), i + 1)).collect();
    assert_eq!(q, want);
    assert_chain(&raws);
}

fn history(events: u64) -> ImportChunk {
    ImportChunk::Historical(jiancha_store::HistoricalImport {
        events,
        reason: "records of 2025".into(),
        actor: "import".into(),
        org: "jiangjin".into(),
    })
}

/// A historical import: the declaration at head + 1 covers itself and exactly the imported
/// positions, in the same transaction, before the events (a second chunk written on the fast
/// path too).
pub async fn a_historical_import_declares_its_own_positions_first(f: Fixture) {
    let s = &*f.store;
    s.append(vec![submitted("case-0")]).await.unwrap();
    let chunks = vec![
        history(3),
        tagged(
            vec![submitted("case-h").with_id("h-1"), step("case-h", 1)],
            1,
        ),
        tagged(vec![step("case-h", 2)], 3),
        ImportChunk::Commit,
    ];
    let outcome = import(s, chunks).await.unwrap();
    assert_eq!((outcome.appended, outcome.range), (4, Some((2, 5))));
    let raws = all_raw(s).await;
    assert_eq!(raws.len(), 5);
    let declaration = raws[1].decode().unwrap();
    assert_eq!(declaration.stream, "supervision");
    assert_eq!(declaration.actor, "import");
    match &declaration.data {
        EventData::HistoryImported(h) => {
            assert_eq!((h.from_position, h.to_position), (2, 5));
            assert_eq!(h.reason, "records of 2025");
        }
        other => panic!("expected HistoryImported, got {other:?}"),
    }
    assert_eq!(
        raws[2..]
            .iter()
            .map(|r| r.stream.as_str())
            .collect::<Vec<_>>(),
        ["case-h", "case-h", "case-h"]
    );
    assert_chain(&raws);
    // A declaration with nothing after it covers itself only.
    let outcome = import(s, vec![history(0), ImportChunk::Commit])
        .await
        .unwrap();
    assert_eq!(outcome.range, Some((6, 6)));
}

/// A historical import refuses what a plain import skips or moves, a count that does not
/// match its declaration, and a case's events out of the order they happened; each refusal
/// writes nothing.
pub async fn a_historical_import_holds_exactly_its_new_events(f: Fixture) {
    let s = &*f.store;
    s.append(vec![submitted("case-0").with_id("old-1")])
        .await
        .unwrap();
    // An id already in the log, in a later chunk: refused with its tag, not skipped.
    let chunks = vec![
        history(3),
        tagged(vec![submitted("case-h"), step("case-h", 1)], 1),
        tagged(vec![submitted("case-0").with_id("old-1")], 3),
        ImportChunk::Commit,
    ];
    let r = rejection(import(s, chunks).await);
    assert_eq!((r.tag, r.field.as_str()), (3, "id"));
    assert!(r.message.contains("new events only"), "{}", r.message);
    // An id repeated within the import.
    let chunks = vec![
        history(2),
        tagged(
            vec![
                submitted("case-h").with_id("r"),
                submitted("case-h").with_id("r"),
            ],
            1,
        ),
        ImportChunk::Commit,
    ];
    assert_eq!(rejection(import(s, chunks).await).tag, 2);
    // A moved event.
    let mut line = String::new();
    write_export_line(&all_raw(s).await[0], &mut line);
    let moved = parse_line(1, line.trim_end()).unwrap();
    let chunks = vec![history(1), tagged(vec![moved], 7), ImportChunk::Commit];
    let r = rejection(import(s, chunks).await);
    assert_eq!((r.tag, r.field.as_str()), (7, "hash"));
    // More or fewer events than declared.
    for declared in [1, 3] {
        let chunks = vec![
            history(declared),
            tagged(vec![submitted("case-h"), step("case-h", 1)], 1),
            ImportChunk::Commit,
        ];
        assert!(
            matches!(import(s, chunks).await, Err(StoreError::Aborted(_))),
            "declared {declared}"
        );
    }
    // A declaration after events is refused.
    let chunks = vec![tagged(vec![submitted("case-h")], 1), history(1)];
    assert!(import(s, chunks).await.is_err());
    // A case's events out of the order they happened, across chunks: refused at the first
    // earlier one (another case's earlier event, and an equal instant, are in order).
    let chunks = vec![
        history(5),
        tagged(vec![submitted("case-h"), step("case-h", 2)], 1),
        tagged(
            vec![submitted("case-x"), step("case-h", 2), step("case-h", 1)],
            3,
        ),
        ImportChunk::Commit,
    ];
    let r = rejection(import(s, chunks).await);
    assert_eq!(
        (r.tag, r.field.as_str()),
        (5, "occurred_at"),
        "{}",
        r.message
    );
    assert!(r.message.contains("case-h"), "{}", r.message);
    // The same events in order are taken.
    let chunks = vec![
        history(4),
        tagged(vec![submitted("case-h"), step("case-h", 1)], 1),
        tagged(vec![submitted("case-x"), step("case-h", 2)], 3),
        ImportChunk::Commit,
    ];
    assert_eq!(import(s, chunks).await.unwrap().appended, 5);
    assert_eq!(all_raw(s).await.len(), 6);
}

/// Exported events continuing a log are taken only by an import in `ImportMode::Moved`: a plain
/// import, or an append, refuses them on `position` (they carry their own `recorded_at`), and
/// nothing is written.
pub async fn exported_events_continue_a_log_only_when_moved_is_asked(f: Fixture) {
    let s = &*f.store;
    // Stamped an hour later than the source below: the same events, other hashes.
    f.clock.advance(chrono::Duration::hours(1));
    s.append(vec![submitted("case-a"), step("case-a", 1)])
        .await
        .unwrap();
    let source = crate::memory().await;
    source
        .store
        .append(vec![
            submitted("case-a"),
            step("case-a", 1),
            step("case-a", 2),
        ])
        .await
        .unwrap();
    // The source's third event is what `s` would take next, except for its stamp and hash.
    let mut line = String::new();
    write_export_line(&all_raw(&*source.store).await[2], &mut line);
    let tail = parse_line(1, &line).unwrap();
    let r = rejection(s.append(vec![tail.clone()]).await);
    assert_eq!(r.field, "position", "{r}");
    let chunks = || vec![tagged(vec![tail.clone()], 1), ImportChunk::Commit];
    let r = rejection(import(s, chunks()).await);
    assert_eq!(r.field, "position", "{r}");
    assert_eq!(s.head().await.unwrap().position, 2);
    // With Moved it must still chain exactly: `s` was stamped otherwise, so the link fails.
    let r = rejection(import_as(s, chunks(), jiancha_store::ImportMode::Moved).await);
    assert_eq!(r.field, "prev_hash", "{r}");
    // A copy of the source's first two events takes the third as moved.
    let copy = crate::memory().await;
    let first_two: Vec<NewEvent> = all_raw(&*source.store).await[..2]
        .iter()
        .map(|r| {
            let mut line = String::new();
            write_export_line(r, &mut line);
            parse_line(1, &line).unwrap()
        })
        .collect();
    copy.store.append(first_two).await.unwrap();
    let outcome = import_as(&*copy.store, chunks(), jiancha_store::ImportMode::Moved)
        .await
        .unwrap();
    assert_eq!(outcome.range, Some((3, 3)));
    assert_eq!(all_raw(&*copy.store).await, all_raw(&*source.store).await);
}

/// A project's context is its stream, the open-tender thresholds and every project's
/// registration (what `proc.split` reads), the calendar and the supervision acts naming it;
/// nothing of an approval case nor another project's later events. A project begins with its
/// registration, only once, and a scoped writer reaches only its org's projects.
pub async fn a_project_context_holds_the_thresholds_and_the_registrations(f: Fixture) {
    let s = &*f.store;
    let line = |text: String| parse_line(1, &text).unwrap();
    let registered = |stream: &str, purchaser: &str| {
        line(format!(
            r#"{{"stream":"{stream}","type":"ProcurementRegistered","occurred_at":"2026-03-02T09:00:00+08:00","actor":"buyer","org":"{purchaser}","data":{{"project":"p","regime":"government","method":"inquiry","category":"goods","budget_cents":100,"purchaser_org":"{purchaser}","state_funded":true}}}}"#
        ))
    };
    let act = |stream: &str, ty: &str, data: &str| {
        line(format!(
            r#"{{"stream":"{stream}","type":"{ty}","occurred_at":"2026-03-03T09:00:00+08:00","actor":"buyer","org":"jiangjin/dept-1","data":{data}}}"#
        ))
    };
    let threshold = line(
        r#"{"stream":"catalog","type":"ThresholdDefined","occurred_at":"2026-01-02T09:00:00+08:00","actor":"admin","org":"jiangjin","data":{"jurisdiction":"jiangjin","category":"goods","open_tender_cents":1000}}"#.to_owned(),
    );
    let first = s
        .append(vec![threshold, registered("proc-1", "jiangjin/dept-1")])
        .await
        .unwrap()
        .positions;
    s.append(vec![
        submitted("case-7"),
        registered("proc-2", "jiangjin/dept-2"),
    ])
    .await
    .unwrap();
    let later = s
        .append(vec![
            act("proc-1", "BidsOpened", r#"{"bidders":3}"#),
            act("proc-2", "BidsOpened", r#"{"bidders":4}"#),
        ])
        .await
        .unwrap()
        .positions;
    let context = s.read_case_context("proc-1").await.unwrap();
    let got: Vec<(u64, &str)> = context
        .iter()
        .map(|e| (e.position, e.stream.as_str()))
        .collect();
    let proc_2 = s.read_stream("proc-2").await.unwrap()[0].position;
    assert_eq!(
        got,
        [
            (first[0], "catalog"),
            (first[1], "proc-1"),
            (proc_2, "proc-2"),
            (later[0], "proc-1"),
        ]
    );
    // An approval case's context holds no procurement.
    let case = s.read_case_context("case-7").await.unwrap();
    assert!(case.iter().all(|e| e.stream == "case-7"), "{case:?}");
    // A project begins with its registration, once.
    let r = rejection(
        s.append(vec![act("proc-3", "BidsOpened", r#"{"bidders":1}"#)])
            .await,
    );
    assert_eq!(r.field, "stream", "{r:?}");
    let r = rejection(
        s.append(vec![registered("proc-1", "jiangjin/dept-1")])
            .await,
    );
    assert_eq!(r.field, "type", "{r:?}");
    // A unit's scoped append reaches its own project, not another org's.
    let scoped = |stream: &str| {
        let mut e = act(stream, "BidsOpened", r#"{"bidders":5}"#);
        e.org = "jiangjin/dept-1".into();
        e
    };
    s.append_scoped(vec![scoped("proc-1")], Some("jiangjin/dept-1".into()))
        .await
        .unwrap();
    let r = rejection(
        s.append_scoped(vec![scoped("proc-2")], Some("jiangjin/dept-1".into()))
            .await,
    );
    assert!(r.message.contains("proc-2"), "{r:?}");
}
