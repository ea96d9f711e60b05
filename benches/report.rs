//! The report benchmark: a monthly report by org for a district of many cases, computed from
//! the assessment ledger, against recomputing the same report by replaying the log, in the
//! same run; the case list `case list --due-within 5` on the same district as it stood when
//! its last case was submitted, against a bare scan of its cases; and `jiancha insight` for the
//! busiest month (bottlenecks, promise recommendations over 12 months, the forecast from 30
//! months, hot spots) against a bare scan of the whole district's cases.
//!
//! `cargo bench -p jiancha-benches --bench report` (JIANCHA_BENCH_CASES overrides the size,
//! default 1,000,000 cases; JIANCHA_BENCH_REPEAT the number of timed reports, default 5).

jiancha_benches::binary_allocator!();

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jiancha_benches::row;
use jiancha_events::StoredEvent;
use jiancha_projections::ledger::Dimension;
use jiancha_projections::{CaseQuery, InsightQuery, Period, Projections, ReportQuery, Scoring};

fn main() {
    let cases: u64 = std::env::var("JIANCHA_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let log = simulated(cases);
    let now = log.last().map_or(0, |e| e.occurred_at.timestamp_millis()) + 86_400_000;
    println!(
        "report benchmark: {cases} simulated cases, {} events",
        log.len()
    );
    let busiest = busiest_month(&log);
    let query = ReportQuery {
        period: Period::parse(&busiest).unwrap(),
        by: Dimension::Org,
        depth: None,
    };
    let start = Instant::now();
    let replayed = replay(&log);
    let from_scratch = replayed.report(&query, now).unwrap();
    let replay_took = start.elapsed();
    let repeat: usize = std::env::var("JIANCHA_BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let mut runs: Vec<Duration> = (0..repeat)
        .map(|_| {
            let s = Instant::now();
            let r = replayed.report(&query, now).unwrap();
            std::hint::black_box(&r);
            s.elapsed()
        })
        .collect();
    runs.sort_unstable();
    let from_ledger = runs[runs.len() / 2];
    let again = replayed.report(&query, now).unwrap();
    assert_eq!(
        serde_json::to_string(&again).unwrap(),
        serde_json::to_string(&from_scratch).unwrap()
    );
    row(
        "recompute by replaying the log (baseline)",
        &format!("{:.3} s", replay_took.as_secs_f64()),
        &format!("period {busiest}, {} rows", from_scratch.rows.len()),
    );
    row(
        "monthly report by org from the ledger",
        &format!("{:.2} ms", from_ledger.as_secs_f64() * 1e3),
        "median of 5; target well under 100 ms",
    );
    row(
        "    speed-up",
        &format!(
            "{:.0}x",
            replay_took.as_secs_f64() / from_ledger.as_secs_f64()
        ),
        "target >= 100x",
    );
    case_list(&log);
    insight(&replayed, now, &busiest);
}

/// `jiancha insight --period <busiest month>` (`Projections::insight`) against a bare scan of
/// the cases, medians of 5.
fn insight(p: &Projections, now: jiancha_projections::Millis, month: &str) {
    let median = jiancha_benches::median_of_5;
    let (scan, concluded) = median(&|| p.cases().filter(|(_, c)| c.concluded.is_some()).count());
    let query = InsightQuery {
        period: Period::parse(month).unwrap(),
        org: None,
    };
    let (took, rows) = median(&|| {
        let i = p.insight(&query, now);
        i.bottlenecks.items.len() + i.bottlenecks.orgs.len() + i.bottlenecks.steps.len()
    });
    let i = p.insight(&query, now);
    row(
        "bare scan of the cases, counting concluded ones (baseline)",
        &format!("{:.2} ms", scan.as_secs_f64() * 1e3),
        &format!("{concluded} concluded"),
    );
    row(
        "insight for one month",
        &format!("{:.1} ms", took.as_secs_f64() * 1e3),
        &format!(
            "{rows} bottleneck rows, {} recommendations, {} forecasts; median of 5; target under 1 s",
            i.recommendations.len(),
            i.forecast.len()
        ),
    );
}

/// `case list --due-within 5` (`Projections::case_list`) against a bare scan of the cases
/// counting the open ones, medians of 5, on the district as it stood when its last case was
/// submitted (the events up to that one, at its instant): every case is there and the recent
/// ones are open and fall due, while at the end of the log every simulated case has ended.
fn case_list(log: &[StoredEvent]) {
    let last_submitted = log
        .iter()
        .rposition(|e| matches!(e.data, jiancha_events::EventData::Submitted(_)))
        .unwrap_or(0);
    let upto = &log[..=last_submitted];
    let p = &replay(upto);
    let now = upto.last().map_or(0, |e| e.occurred_at.timestamp_millis());
    let median = jiancha_benches::median_of_5;
    let (scan, open) = median(&|| p.cases().filter(|(_, c)| c.status.is_open()).count());
    let query = CaseQuery {
        due_within_days: Some(5),
        ..CaseQuery::default()
    };
    let (listed, due) = median(&|| p.case_list(&query, now).len());
    row(
        "bare scan of the cases, counting open ones (baseline)",
        &format!("{:.2} ms", scan.as_secs_f64() * 1e3),
        &format!("{} cases, {open} open", p.case_count()),
    );
    row(
        "case list --due-within 5",
        &format!("{:.2} ms", listed.as_secs_f64() * 1e3),
        &format!("{due} rows; median of 5; target under 200 ms"),
    );
}

fn replay(log: &[StoredEvent]) -> Projections {
    let mut p = Projections::default().with_ledger(Scoring::default());
    for e in log {
        p.apply(e);
    }
    p
}

fn busiest_month(log: &[StoredEvent]) -> String {
    let mut months: HashMap<String, u64> = HashMap::new();
    for e in log {
        *months
            .entry(e.occurred_at.format("%Y-%m").to_string())
            .or_default() += 1;
    }
    let mut v: Vec<_> = months.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.first()
        .map(|m| m.0.clone())
        .unwrap_or_else(|| "2026-01".into())
}

fn simulated(cases: u64) -> Vec<StoredEvent> {
    jiancha_benches::simulated_log(cases, 11, usize::MAX)
}
