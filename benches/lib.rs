//! Shared helpers for the benchmarks: workload files, peak memory, and figures printed beside
//! their same-run baselines.

#![allow(clippy::print_stdout, reason = "benchmarks report on stdout")]

use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Writes a JSONL file of `events` case events (a Submitted, then steps, per case of
/// `per_case` events), every event with an id, the shape `jiancha import` takes.
pub fn write_case_file(path: &Path, events: usize, per_case: usize) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    for n in 0..events {
        let case = n / per_case;
        let k = n % per_case;
        let minute = k % 60;
        let (ty, data) = if k == 0 {
            (
                "Submitted",
                r#"{"item":"BL-001","channel":"window","materials":["身份证","经营场所证明"]}"#
                    .to_owned(),
            )
        } else {
            ("StepCompleted", format!(r#"{{"step":"审查-{k}"}}"#))
        };
        writeln!(
            f,
            r#"{{"id":"bench-{n}","stream":"case-2026-{case:07}","type":"{ty}","occurred_at":"2026-03-02T09:{minute:02}:00+08:00","actor":"clerk-{}","org":"jiangjin/town-{:02}/window-1","data":{data}}}"#,
            case % 50,
            case % 30
        )?;
    }
    f.flush()
}

/// This process's peak resident memory in bytes (Linux `VmHWM`), if known.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Events per second.
pub fn rate(events: u64, took: Duration) -> f64 {
    events as f64 / took.as_secs_f64().max(1e-9)
}

/// A percentile of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Prints one row of a figure table.
pub fn row(name: &str, value: &str, note: &str) {
    println!("{name:<46} {value:>18}  {note}");
}
