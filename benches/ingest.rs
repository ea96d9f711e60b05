//! The ingest benchmark: `jiancha import` of 1,000,000 events against a plain batched INSERT
//! of the same rows through sqlx (the practical limit; the faster of 100 and 1,000 rows per
//! statement), measured in the same run; and 64
//! concurrent appenders through the writer task (events/s, p50/p99 latency).
//!
//! `cargo bench -p jiancha-benches --bench ingest` (JIANCHA_BENCH_EVENTS overrides the size).

jiancha_benches::binary_allocator!();

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiancha_benches::{
    appenders_figure, case_workload, import_child, import_via_child, rate_row, row, settle,
};
use jiancha_events::{read_jsonl, RawEvent, GENESIS_HASH};
use jiancha_store::{EventStore, ManualClock};
use sqlx::{ConnectOptions, Connection};

fn main() -> ExitCode {
    if let Some(code) = import_child() {
        return code;
    }
    let (events, dir, file) = case_workload().unwrap();
    println!(
        "ingest benchmark: {events} events, {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let raws = sealed_rows(&file);
    // The baseline is the faster of two batch sizes: 100 rows per INSERT, and 1,000 (the
    // import's own statement size).
    let mut raw_rate: f64 = 0.0;
    for per_statement in [100, 1_000] {
        let db = dir.path().join(format!("raw-{per_statement}.db"));
        settle(&[]);
        let took = raw_insert(&raws, per_statement, &db);
        settle(&[&db]);
        let name = format!("(a) raw INSERTs of {per_statement} rows via sqlx");
        raw_rate = raw_rate.max(rate_row(&name, events as u64, took, ""));
    }
    drop(raws);
    let import_db = format!("sqlite://{}", dir.path().join("import.db").display());
    let (import_took, peak) = import_via_child(&import_db, &file).unwrap();
    settle(&[&dir.path().join("import.db")]);
    let import_rate = rate_row(
        "(b) jiancha import (parse, check, hash, insert)",
        events as u64,
        import_took,
        "",
    );
    row(
        "    ratio import / faster raw insert",
        &format!("{:.2}", import_rate / raw_rate),
        "target >= 0.60",
    );
    row(
        "    import peak memory (VmHWM)",
        &format!("{:.1} MB", peak as f64 / 1e6),
        "target < 200 MB",
    );
    concurrent_appends_sqlite(&dir.path().join("concurrent.db"));
    ExitCode::SUCCESS
}

/// The baseline: the same rows, already parsed and sealed, inserted with multi-row INSERTs of
/// `per_statement` rows in one transaction into the same table, through sqlx.
fn raw_insert(raws: &[RawEvent], per_statement: usize, db: &Path) -> Duration {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // Create the same schema through the store, then insert beside it.
        let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
        let url = format!("sqlite://{}", db.display());
        let store = jiancha_store::open(&url, clock).await.unwrap();
        store.close().await;
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(db)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
            .pragma("temp_store", "memory")
            .connect()
            .await
            .unwrap();
        let one = format!("({})", vec!["?"; 13].join(","));
        let sql = format!(
            "INSERT INTO events (position, stream, version, id, type, schema, occurred_at, recorded_at, actor, org, data, prev_hash, hash) VALUES {}",
            vec![one; per_statement].join(",")
        );
        let start = Instant::now();
        let mut tx = conn.begin().await.unwrap();
        for chunk in raws.chunks(per_statement) {
            assert_eq!(chunk.len(), per_statement, "the benchmark size is a multiple of 1,000");
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q
                    .bind(r.position as i64).bind(r.stream.as_str()).bind(r.version as i64)
                    .bind(r.id.as_str()).bind(r.event_type.as_str()).bind(i64::from(r.schema))
                    .bind(r.occurred_at.as_str()).bind(r.recorded_at.as_str()).bind(r.actor.as_str())
                    .bind(r.org.as_str()).bind(r.data.as_str()).bind(&r.prev_hash.0[..]).bind(&r.hash.0[..]);
            }
            q.execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
        start.elapsed()
    })
}

fn sealed_rows(file: &Path) -> Vec<RawEvent> {
    let reader = std::io::BufReader::new(std::fs::File::open(file).unwrap());
    let at = "2026-03-02T09:00:00+08:00";
    let mut versions = std::collections::HashMap::new();
    let mut prev = GENESIS_HASH;
    let mut out = Vec::new();
    for (i, item) in read_jsonl(reader).enumerate() {
        let (_, ev) = item.unwrap();
        let v = versions
            .entry(ev.stream.as_str().to_owned())
            .or_insert(0u64);
        *v += 1;
        let raw = RawEvent::seal(&ev, i as u64 + 1, *v, at, prev);
        prev = raw.hash;
        out.push(raw);
    }
    out
}

/// 64 tasks appending single events through one store's writer task.
fn concurrent_appends_sqlite(db: &Path) {
    const TASKS: usize = 64;
    const PER_TASK: usize = 2_000;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
        let store: Arc<dyn EventStore> =
            jiancha_store::open(&format!("sqlite://{}", db.display()), clock)
                .await
                .unwrap();
        let name = "64 tasks appending single events (group commit)";
        appenders_figure(store, (TASKS, PER_TASK), name, "target >= 50,000")
            .await
            .unwrap();
    });
}
