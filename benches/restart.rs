//! The restart benchmark: rebuilding the projections (with the ledger) of a large SQLite log by
//! a full replay, against loading the snapshot kept beside the log, in the same run; the
//! history of one case from that log; and an engine restarted on it, until it is ready to serve.
//!
//! `cargo bench -p jiancha-benches --bench restart` (JIANCHA_BENCH_EVENTS sets the log's size;
//! default 10,000,000 events, the figure).

jiancha_benches::binary_allocator!();

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiancha_benches::{bench_events_or, case_workload_of, import_child, import_via_child, row};
use jiancha_engine::snapshots::{restore_or_replay, save, PROJECTIONS_SNAPSHOT};
use jiancha_projections::{AlertConfig, Scoring};
use jiancha_store::{EventStore, ManualClock};

fn main() -> ExitCode {
    if let Some(code) = import_child() {
        return code;
    }
    let (events, dir, file) = case_workload_of(bench_events_or(10_000_000)).unwrap();
    let db = format!("sqlite://{}", dir.path().join("restart.db").display());
    let (took, _) = import_via_child(&db, &file).unwrap();
    println!(
        "restart benchmark: {events} simulated events (imported in {:.1} s)",
        took.as_secs_f64()
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
        let store: Arc<dyn EventStore> = jiancha_store::open(&db, clock).await.unwrap();
        let start = Instant::now();
        let (full, how) = restore_or_replay(&*store, AlertConfig::default(), Scoring::default())
            .await
            .unwrap();
        let replay = start.elapsed();
        assert_eq!(how.snapshot, None);
        let start = Instant::now();
        save(&*store, &full).await.unwrap();
        let saving = start.elapsed();
        let size = store
            .load_snapshot(PROJECTIONS_SNAPSHOT)
            .await
            .unwrap()
            .map_or(0, |s| s.1.len());
        let start = Instant::now();
        let (restored, how) =
            restore_or_replay(&*store, AlertConfig::default(), Scoring::default())
                .await
                .unwrap();
        let from_snapshot = start.elapsed();
        assert_eq!(how.snapshot, Some(full.position()));
        assert_eq!(
            restored.snapshot(restored.head()).unwrap(),
            full.snapshot(full.head()).unwrap()
        );
        row(
            "full replay of the log (baseline)",
            &format!("{:.2} s", replay.as_secs_f64()),
            &format!("{} events", full.position()),
        );
        row(
            "restart from the snapshot",
            &format!("{:.2} s", from_snapshot.as_secs_f64()),
            &format!(
                "snapshot {:.0} MB, saved in {:.2} s",
                size as f64 / 1e6,
                saving.as_secs_f64()
            ),
        );
        row(
            "    speed-up",
            &format!("{:.1}x", replay.as_secs_f64() / from_snapshot.as_secs_f64()),
            "",
        );
        history(&store, &full).await;
        let head = store.head().await.unwrap().position;
        let last = store.read_at(head).await.unwrap().unwrap().recorded_at;
        store.close().await;
        drop(full);
        drop(restored);
        engine_ready(&db, last.with_timezone(&chrono::Utc)).await;
    });
    ExitCode::SUCCESS
}

/// An engine restarted on the log, as `jiancha serve` starts one, with its clock at the log's
/// last recorded instant: timed from the start until it is ready — the snapshot restored, the
/// log caught up, what is due delivered, and the alerts at its instant listed. A first run
/// before it (not timed) delivers the cards the simulated log does not hold and keeps a
/// snapshot as it stops, as an engine that had been running would have left them.
async fn engine_ready(db: &str, at: chrono::DateTime<chrono::Utc>) {
    use jiancha_engine::{Engine, EngineConfig};
    let clock = Arc::new(ManualClock::new(at));
    let store: Arc<dyn EventStore> = jiancha_store::open(db, clock.clone()).await.unwrap();
    let first = Engine::start(store.clone(), clock.clone(), EngineConfig::default())
        .await
        .unwrap();
    first.tick().await.unwrap();
    first.shutdown().await.unwrap();
    drop(first);
    let start = Instant::now();
    let engine = Engine::start(store.clone(), clock.clone(), EngineConfig::default())
        .await
        .unwrap();
    engine.tick().await.unwrap();
    let alerts = engine.read().alerts(engine.now()).len();
    let ready = start.elapsed();
    row(
        "engine restart, ready to serve",
        &format!("{:.2} s", ready.as_secs_f64()),
        &format!(
            "restored, caught up to position {}, due alerts delivered, {alerts} alerts listed; \
             target under 5 s",
            engine.position()
        ),
    );
    engine.shutdown().await.unwrap();
    store.close().await;
}

/// The history of a case from the middle of the log, as `jiancha history` builds it.
async fn history(store: &Arc<dyn EventStore>, p: &jiancha_projections::Projections) {
    let cases = p.cases_sorted();
    let (case, _) = cases[cases.len() / 2];
    let case = case.to_owned();
    let now = i64::MAX / 2;
    let mut runs: Vec<(Duration, Duration)> = Vec::new();
    let mut steps = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let events = store.read_case_context(&case).await.unwrap();
        let read = start.elapsed();
        let h = jiancha_projections::asof::history(AlertConfig::default(), &case, &events, now);
        std::hint::black_box(&h);
        steps = events.len();
        runs.push((start.elapsed(), read));
    }
    runs.sort_unstable();
    let (total, read) = runs[2];
    row(
        "history of one case",
        &format!("{:.2} ms", total.as_secs_f64() * 1e3),
        &format!(
            "median of 5 (reading {:.2} ms), {steps} events; target under 5 ms",
            read.as_secs_f64() * 1e3
        ),
    );
}
