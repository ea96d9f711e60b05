//! The projection benchmark, on simulator data: (a) 1,000,000 events already in memory folded
//! through every projection, against a bare loop folding the same events into a trivial map;
//! (b) a cold start from the SQLite store — reading the log and rebuilding the projections —
//! against a bare read of the same rows; and the memory the projections hold per running case.
//!
//! `cargo bench -p jiancha-benches --bench replay` (JIANCHA_BENCH_EVENTS overrides the size;
//! JIANCHA_BENCH_LOG=FILE folds a JSONL log instead of the simulator's, so that two commits can
//! be compared on the same events; JIANCHA_BENCH_FOLD_ONLY skips the cold start).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use jiancha_benches::{rate_row, row};
use jiancha_events::{RawEvent, StoredEvent, GENESIS_HASH};
use jiancha_projections::Projections;
use jiancha_store::{EventStore, ManualClock};

// This benchmark keeps the system allocator, unlike the `jiancha` binary (mimalloc): its
// memory figure is resident growth, which mimalloc hides by keeping freed memory resident for
// reuse. BENCHMARKS.md gives the fold's figures under mimalloc too.
fn main() {
    let events = jiancha_benches::bench_events();
    per_running_case();
    let log = simulated(events);
    println!("replay benchmark: {} simulated events", log.len());
    in_memory(&log);
    if std::env::var_os("JIANCHA_BENCH_LOG").is_none() {
        mixed(&log);
    }
    if std::env::var_os("JIANCHA_BENCH_FOLD_ONLY").is_some() {
        return;
    }
    cold_start(&log);
}

/// Simulator events sealed as the store would keep them.
fn simulated(events: usize) -> Vec<StoredEvent> {
    // A client's JSONL log (positions, versions and the chain are made here, recorded when
    // they occurred), for comparing two commits on the same events.
    if let Some(path) = std::env::var_os("JIANCHA_BENCH_LOG") {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let mut log = jiancha_benches::SealedLog::default();
        for (i, line) in text.lines().enumerate() {
            let ev = jiancha_events::parse_line(i + 1, line).unwrap_or_else(|e| panic!("{e}"));
            let occurred_at = ev.occurred_at;
            log.push(ev, occurred_at);
        }
        return log.into_events();
    }
    jiancha_benches::simulated_log(events as u64 / 8 + 1, 7, events)
}

fn in_memory(log: &[StoredEvent]) {
    let start = Instant::now();
    let mut map: HashMap<&str, u64> = HashMap::new();
    for e in log {
        match map.get_mut(e.stream.as_str()) {
            Some(n) => *n += e.position,
            None => {
                map.insert(&e.stream, e.position);
            }
        }
    }
    let bare = start.elapsed();
    std::hint::black_box(&map);
    let start = Instant::now();
    let mut p = Projections::default().with_ledger(jiancha_projections::Scoring::default());
    for e in log {
        p.apply(e);
    }
    let folded = start.elapsed();
    std::hint::black_box(&p);
    // The same fold without the ledger, into fresh memory too (the first fold is kept).
    let start = Instant::now();
    let mut without = Projections::default();
    for e in log {
        without.apply(e);
    }
    let folded_without = start.elapsed();
    std::hint::black_box(&without);
    let n = log.len() as u64;
    rate_row("bare loop into a map (baseline)", n, bare, "");
    let cases = format!("{} cases", p.case_count());
    rate_row(
        "(a) all projections and the ledger, in memory",
        n,
        folded,
        &cases,
    );
    row(
        "    ratio projections / bare loop",
        &format!("{:.2}", bare.as_secs_f64() / folded.as_secs_f64()),
        "target >= 0.5 and >= 1,000,000 ev/s",
    );
    rate_row(
        "(a) all projections without the ledger",
        n,
        folded_without,
        "",
    );
    row(
        "    ratio projections / bare loop",
        &format!("{:.2}", bare.as_secs_f64() / folded_without.as_secs_f64()),
        "target >= 0.5 and >= 1,000,000 ev/s",
    );
}

/// The fold of a mixed log (approval cases and procurement projects, a project for every 20
/// cases: about one event in eight is a project's) against the approval-only log of the same
/// length, alternating, best of three each: the rate per event of each.
fn mixed(approval: &[StoredEvent]) {
    let n = approval.len();
    let cases = n as u64 / 8 + 1;
    let log = jiancha_benches::simulated_mixed_log(cases, cases / 20, 7, n);
    let projects = log
        .iter()
        .filter(|e| e.stream.as_str().starts_with("proc-"))
        .count();
    let fold = |log: &[StoredEvent]| {
        let start = Instant::now();
        let mut p = Projections::default().with_ledger(jiancha_projections::Scoring::default());
        for e in log {
            p.apply(e);
        }
        let took = start.elapsed();
        std::hint::black_box(&p);
        took
    };
    let (mut only, mut mixed) = (std::time::Duration::MAX, std::time::Duration::MAX);
    for _ in 0..3 {
        only = only.min(fold(approval));
        mixed = mixed.min(fold(&log));
    }
    rate_row(
        "(a) approval-only log, projections and ledger (baseline)",
        n as u64,
        only,
        "best of 3",
    );
    rate_row(
        "(a) mixed log: approval and procurement",
        log.len() as u64,
        mixed,
        &format!("{projects} procurement events, best of 3"),
    );
    let per_event = |d: std::time::Duration, n: usize| d.as_secs_f64() / n as f64;
    row(
        "    ratio mixed / approval-only, per event",
        &format!("{:.2}", per_event(only, n) / per_event(mixed, log.len())),
        "target ~1.0 (the same rate per event)",
    );
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Resident memory added by folding many cases that are all still running.
fn per_running_case() {
    const CASES: usize = 300_000;
    let mut events = Vec::with_capacity(CASES * 2 + 1);
    let config = jiancha_sim::SimConfig::new(CASES as u64, 3);
    let catalog = jiancha_sim::catalog(&config).unwrap();
    let at = jiancha_events::parse_timestamp("2026-03-02T09:00:00+08:00").unwrap();
    let mut pos = 0u64;
    let mut push = |stream: &str,
                    data: jiancha_events::EventData,
                    version: u64,
                    events: &mut Vec<StoredEvent>| {
        pos += 1;
        let ev = jiancha_events::NewEvent::new(
            jiancha_events::StreamName::parse(stream).unwrap(),
            at,
            "clerk-1",
            format!("jiangjin/town-{:02}/window-1", pos % 30),
            data,
        );
        let raw = RawEvent::seal(&ev, pos, version, "2026-03-02T09:00:00+08:00", GENESIS_HASH);
        events.push(raw.to_stored(at, at, ev.data));
    };
    for (i, item) in catalog.iter().enumerate() {
        push(
            "catalog",
            jiancha_events::EventData::ItemDefined(item.clone()),
            i as u64 + 1,
            &mut events,
        );
    }
    for c in 0..CASES {
        let stream = format!("case-2026-{c:07}");
        let item = &catalog[c % catalog.len()];
        let submitted = jiancha_events::Submitted {
            item: item.code.clone(),
            channel: jiancha_events::Channel::Window,
            materials: item.required_materials.clone(),
        };
        push(
            &stream,
            jiancha_events::EventData::Submitted(submitted),
            1,
            &mut events,
        );
        push(
            &stream,
            jiancha_events::EventData::Accepted(Default::default()),
            2,
            &mut events,
        );
    }
    let before = rss_bytes();
    let mut p = Projections::default();
    for e in &events {
        p.apply(e);
    }
    let after = rss_bytes();
    std::hint::black_box(&p);
    let per_case = after.saturating_sub(before) / CASES as u64;
    row(
        "projection memory per running case",
        &format!("{per_case} bytes"),
        &format!("RSS growth over {CASES} running cases; target < 512"),
    );
}

fn cold_start(log: &[StoredEvent]) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("replay.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
        let store: Arc<dyn EventStore> = jiancha_store::open(&url, clock).await.unwrap();
        let mut batch = Vec::new();
        for e in log {
            let mut ev = jiancha_events::NewEvent::new(
                jiancha_events::StreamName::parse(&e.stream).unwrap(),
                e.occurred_at,
                e.actor.clone(),
                e.org.clone(),
                e.data.clone(),
            );
            ev.id = Some(e.id.clone()).filter(|id| !id.starts_with("auto:"));
            batch.push(ev);
            if batch.len() == 10_000 {
                store.append(std::mem::take(&mut batch)).await.unwrap();
            }
        }
        store.append(batch).await.unwrap();
        let n = log.len() as u64;
        let start = Instant::now();
        let mut rows = 0u64;
        let mut pages = store.raw_pages(0);
        while let Some(page) = pages.next().await.unwrap() {
            rows += page.len() as u64;
        }
        let bare = start.elapsed();
        assert_eq!(rows, n);
        let start = Instant::now();
        let mut p = Projections::default().with_ledger(jiancha_projections::Scoring::default());
        let mut pages = store.pages(0);
        while let Some(page) = pages.next().await.unwrap() {
            for e in &page {
                p.apply(e);
            }
        }
        let rebuilt = start.elapsed();
        rate_row("bare read of the rows via sqlx (baseline)", n, bare, "");
        rate_row("(b) cold start: read, decode, rebuild", n, rebuilt, "");
        row(
            "    ratio cold start / bare read",
            &format!("{:.2}", bare.as_secs_f64() / rebuilt.as_secs_f64()),
            "",
        );
        store.close().await;
    });
}
