//! The PostgreSQL benchmark, each figure beside a baseline measured in the same run:
//! - `jiancha import` of 1,000,000 events (parse, check, hash, one binary `COPY` per run of
//!   chunks under a savepoint, one transaction) against a raw `COPY` of the very same rows —
//!   the bytes PostgreSQL itself exports from the imported table, in text and in binary format,
//!   the faster counting — into the same empty table;
//! - 64 tasks appending single events through one store's writer task (group commit under the
//!   advisory lock) against 64 tasks each committing its own single-row `INSERT` through a pool
//!   of connections, with no log rules at all.
//!
//! `cargo bench -p jiancha-benches --bench postgres` (`JIANCHA_BENCH_EVENTS` overrides the size,
//! `JIANCHA_BENCH_PG` the server, default the local `test` database). Each log gets a schema of
//! its own, dropped at the end.

jiancha_benches::binary_allocator!();

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use jiancha_benches::{
    appender_rows, appenders_figure, bench_event, case_workload, import_child, import_via_child,
    rate_row, row,
};
use jiancha_events::{RawEvent, GENESIS_HASH};
use jiancha_store::{EventStore, ManualClock};
use sqlx::{Connection, PgConnection};

const PG_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The stored columns, in the order COPY moves them.
const COLUMNS: &str = "position, stream, version, id, type, schema, occurred_at, recorded_at, \
     actor, org, data, prev_hash, hash";

/// Bytes per CopyData message of the baseline.
const COPY_PIECE_BYTES: usize = 1 << 20;

const TASKS: usize = 64;
const PER_TASK: usize = 1_000;
/// Connections of the baseline's pool: 64 clients share them, as a web tier's pool would.
const BASELINE_CONNECTIONS: u32 = 16;

fn base_url() -> String {
    std::env::var("JIANCHA_BENCH_PG").unwrap_or_else(|_| PG_DEFAULT.to_owned())
}

fn url_in(schema: &str) -> String {
    let base = base_url();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

fn main() -> ExitCode {
    if let Some(code) = import_child() {
        return code;
    }
    let (events, _dir, file) = case_workload().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let version: String = rt.block_on(async {
        let mut conn = PgConnection::connect(&base_url()).await.unwrap();
        sqlx::query_scalar("SHOW server_version")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    });
    println!(
        "postgres benchmark: {events} events, {} cores, PostgreSQL {version}",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let run = format!("jiancha_bench_{}", std::process::id());
    let schemas = ["import", "copy", "appenders", "inserts"].map(|s| format!("{run}_{s}"));

    rt.block_on(checkpoint());
    let (import_took, peak) = import_via_child(&url_in(&schemas[0]), &file).unwrap();
    // The baseline is the faster of COPY's text and binary formats (the import sends binary).
    let mut copy_rate: f64 = 0.0;
    for format in ["text", "binary"] {
        let took = rt.block_on(raw_copy(&schemas[0], &schemas[1], format));
        let name = format!("(a) raw {format} COPY of the same rows");
        copy_rate = copy_rate.max(rate_row(&name, events as u64, took, ""));
    }
    let import_rate = rate_row(
        "(b) jiancha import (parse, check, hash, COPY)",
        events as u64,
        import_took,
        "target >= 100,000 ev/s",
    );
    row(
        "    ratio import / faster raw COPY",
        &format!("{:.2}", import_rate / copy_rate),
        "target >= 0.50",
    );
    row(
        "    import peak memory (VmHWM)",
        &format!("{:.1} MB", peak as f64 / 1e6),
        "",
    );

    rt.block_on(async {
        checkpoint().await;
        raw_inserts(&schemas[3]).await;
        checkpoint().await;
        appenders(&schemas[2]).await;
        drop_schemas(&schemas).await;
    });
    ExitCode::SUCCESS
}

async fn checkpoint() {
    let mut conn = PgConnection::connect(&base_url()).await.unwrap();
    sqlx::raw_sql("CHECKPOINT")
        .execute(&mut conn)
        .await
        .unwrap();
}

async fn drop_schemas(schemas: &[String]) {
    let mut conn = PgConnection::connect(&base_url()).await.unwrap();
    for s in schemas {
        sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS {s} CASCADE"))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

/// Creates an empty log in `schema` through the store (its migrations: table, indexes,
/// triggers).
async fn empty_log(schema: &str) -> Arc<dyn EventStore> {
    let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
    jiancha_store::open(&url_in(schema), clock).await.unwrap()
}

/// The baseline for the import: the rows of `from`, as PostgreSQL's own COPY text, copied into
/// an empty log in `to` in one transaction. Only the COPY into `to` is timed.
async fn raw_copy(from: &str, to: &str, format: &str) -> Duration {
    let mut source = PgConnection::connect(&url_in(from)).await.unwrap();
    let mut bytes = Vec::new();
    {
        let sql = format!("COPY events ({COLUMNS}) TO STDOUT (FORMAT {format})");
        let mut out = source.copy_out_raw(&sql).await.unwrap();
        while let Some(piece) = out.next().await {
            bytes.extend_from_slice(&piece.unwrap());
        }
    }
    empty_log(to).await.close().await;
    checkpoint().await;
    let mut conn = PgConnection::connect(&url_in(to)).await.unwrap();
    let start = Instant::now();
    let mut tx = conn.begin().await.unwrap();
    let mut copy = tx
        .copy_in_raw(&format!(
            "COPY events ({COLUMNS}) FROM STDIN (FORMAT {format})"
        ))
        .await
        .unwrap();
    for piece in bytes.chunks(COPY_PIECE_BYTES) {
        copy.send(piece).await.unwrap();
    }
    copy.finish().await.unwrap();
    tx.commit().await.unwrap();
    let took = start.elapsed();
    drop_schemas(&[to.to_owned()]).await;
    took
}

/// 64 tasks appending single events through one store's writer task.
async fn appenders(schema: &str) {
    let store = empty_log(schema).await;
    let name = "(d) 64 tasks appending via jiancha (group commit)";
    appenders_figure(store, (TASKS, PER_TASK), name, "")
        .await
        .unwrap();
}

/// The baseline for the appenders: the same 64 tasks, each event its own autocommitted
/// single-row INSERT through a pool, no lock, no chain, no checks.
async fn raw_inserts(schema: &str) {
    empty_log(schema).await.close().await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(BASELINE_CONNECTIONS)
        .connect(&url_in(schema))
        .await
        .unwrap();
    let sql: Arc<str> = format!(
        "INSERT INTO events ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    )
    .into();
    let start = Instant::now();
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let (pool, sql) = (pool.clone(), sql.clone());
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(PER_TASK);
            for i in 1..=PER_TASK {
                let raw = sealed(t, i);
                let s = Instant::now();
                insert_one(&pool, &sql, &raw).await;
                latencies.push(s.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let took = start.elapsed();
    all.sort_unstable();
    appender_rows(
        "(c) 64 tasks, one INSERT transaction each (baseline)",
        (TASKS * PER_TASK) as u64,
        took,
        &all,
        &format!("pool of {BASELINE_CONNECTIONS}"),
    );
    pool.close().await;
}

/// Event `i` of task `t` sealed at a position of its own.
fn sealed(t: usize, i: usize) -> RawEvent {
    let event = bench_event(t, i).unwrap();
    let position = (t * PER_TASK + i) as u64;
    RawEvent::seal(
        &event,
        position,
        i as u64,
        "2026-03-02T09:00:00+08:00",
        GENESIS_HASH,
    )
}

async fn insert_one(pool: &sqlx::PgPool, sql: &str, r: &RawEvent) {
    sqlx::query(sql)
        .bind(r.position as i64)
        .bind(r.stream.as_str())
        .bind(r.version as i64)
        .bind(r.id.as_str())
        .bind(r.event_type.as_str())
        .bind(r.schema as i32)
        .bind(r.occurred_at.as_str())
        .bind(r.recorded_at.as_str())
        .bind(r.actor.as_str())
        .bind(r.org.as_str())
        .bind(r.data.as_str())
        .bind(&r.prev_hash.0[..])
        .bind(&r.hash.0[..])
        .execute(pool)
        .await
        .unwrap();
}
