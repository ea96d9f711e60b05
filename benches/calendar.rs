//! Due-date queries per second on the national calendar (20-working-day limits from seeded
//! random start dates in 2004–2026), beside a naive day-by-day loop over the same calendar in
//! the same run. Criterion measures both; a closing summary times both with `Instant` and
//! prints the two rates and their ratio.
//!
//! Run: `cargo bench -p jiancha-benches --bench calendar`

#![allow(
    clippy::print_stdout,
    reason = "a benchmark's report is what it prints"
)]

jiancha_benches::binary_allocator!();

use std::hint::black_box;
use std::time::Instant;

use chrono::{Days, NaiveDate};
use criterion::{Criterion, Throughput};
use jiancha_calendar::Calendar;

/// The limit every query counts: a common statutory limit.
const LIMIT_DAYS: u32 = 20;
/// Start dates per batch: enough to defeat branch prediction, small enough to stay in cache.
const STARTS: usize = 4096;
/// Seed of the start-date generator, so every run asks the same questions.
const SEED: u64 = 0x006a_6961_6e63_6861;
/// Queries timed by the closing summary, for each method.
const SUMMARY_QUERIES_FAST: usize = 20_000_000;
const SUMMARY_QUERIES_NAIVE: usize = 1_000_000;

/// Start dates spread over 2004-01-01..=2026-12-31 by a 64-bit LCG (Knuth's MMIX constants).
fn start_dates() -> Vec<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(2004, 1, 1).unwrap_or(NaiveDate::MIN);
    let last = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or(NaiveDate::MIN);
    let span = (last - first).num_days().unsigned_abs() + 1;
    let mut state = SEED;
    (0..STARTS)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            first + Days::new((state >> 33) % span)
        })
        .collect()
}

/// The indexed query under test.
fn due_indexed(calendar: &Calendar, from: NaiveDate) -> NaiveDate {
    match calendar.add_working_days(from, LIMIT_DAYS) {
        Ok(due) => due.date,
        Err(_) => from,
    }
}

/// The baseline: step one day at a time, asking the same calendar about each day.
fn due_naive(calendar: &Calendar, from: NaiveDate) -> NaiveDate {
    let mut date = from;
    let mut left = LIMIT_DAYS;
    while left > 0 {
        date = date.succ_opt().unwrap_or(date);
        if calendar.is_workday(date).unwrap_or(false) {
            left -= 1;
        }
    }
    date
}

fn bench_due(criterion: &mut Criterion, calendar: &Calendar, starts: &[NaiveDate]) {
    let mut group = criterion.benchmark_group("calendar_due_20_working_days");
    group.throughput(Throughput::Elements(starts.len() as u64));
    group.bench_function("indexed", |b| {
        b.iter(|| {
            for &from in starts {
                black_box(due_indexed(calendar, black_box(from)));
            }
        })
    });
    group.bench_function("naive_day_loop", |b| {
        b.iter(|| {
            for &from in starts {
                black_box(due_naive(calendar, black_box(from)));
            }
        })
    });
    group.finish();
}

/// Times `queries` calls of `due` over the start dates, returning queries per second.
fn rate(queries: usize, starts: &[NaiveDate], due: impl Fn(NaiveDate) -> NaiveDate) -> f64 {
    let began = Instant::now();
    for i in 0..queries {
        black_box(due(black_box(starts[i % starts.len()])));
    }
    queries as f64 / began.elapsed().as_secs_f64()
}

fn summary(calendar: &Calendar, starts: &[NaiveDate]) {
    // Both methods must agree, or the comparison means nothing.
    let disagreeing = starts
        .iter()
        .filter(|from| due_indexed(calendar, **from) != due_naive(calendar, **from))
        .count();
    assert_eq!(disagreeing, 0, "indexed and naive due dates disagree");
    let fast = rate(SUMMARY_QUERIES_FAST, starts, |from| {
        due_indexed(calendar, from)
    });
    let naive = rate(SUMMARY_QUERIES_NAIVE, starts, |from| {
        due_naive(calendar, from)
    });
    println!(
        "calendar due ({LIMIT_DAYS} working days): indexed {:.1} M queries/s, naive day loop \
         {:.2} M queries/s, ratio {:.1}x (targets: >= 20 M/s, >= 10x)",
        fast / 1e6,
        naive / 1e6,
        fast / naive
    );
}

fn main() {
    let calendar = Calendar::national();
    let starts = start_dates();
    let mut criterion = Criterion::default().configure_from_args();
    bench_due(&mut criterion, &calendar, &starts);
    criterion.final_summary();
    summary(&calendar, &starts);
}
