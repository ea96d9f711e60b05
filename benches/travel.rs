//! The time-travel benchmark: `alerts --now T` and `report --period P --now T` answered from
//! the case index (only the cases concerned folded) against the full replay of the log (the
//! `--replay` path) in the same run, their answers compared; building the index from nothing;
//! and `case show C --now T` (one case's context folded).
//!
//! `cargo bench -p jiancha-benches --bench travel` (JIANCHA_BENCH_EVENTS sets the log's size;
//! default 10,000,000 events, the figure). The log is the simulated district recorded
//! as it was entered (an export imported); JIANCHA_BENCH_PLAIN_IMPORT=1 imports the plain
//! file instead, as `restart` does, every event recorded at the import. Progress goes to stderr, the figures to
//! stdout. The run fails (exit code 1) if an answer from the index differs from the replay's.
//!
//! JIANCHA_BENCH_DB=<file> keeps the log (and its case index) in that SQLite file: imported when
//! the file does not exist, reused as it is when it does. For looking at one question again
//! without the 5-minute import; the figures of a reused file's index are not a build's.
//! JIANCHA_BENCH_NO_REPLAY=1 leaves the baseline out (and so the comparison): never for a row.

#![allow(
    clippy::print_stderr,
    reason = "a long benchmark shows its progress on stderr"
)]

jiancha_benches::binary_allocator!();

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiancha_benches::{
    bench_events_or, case_workload_of, import_child, import_via_child, live_workload_of,
    peak_rss_bytes, percentile, row,
};
use jiancha_events::{StoredEvent, StreamKind};
use jiancha_projections::ledger::Dimension;
use jiancha_projections::{asof, Millis, Period, ReportQuery, Scoring};
use jiancha_store::{EventStore, ManualClock};

/// Where the instants of the questions lie between the log's first and last business time.
const INSTANTS: [f64; 5] = [0.20, 0.40, 0.60, 0.80, 0.95];
/// The instants (indices into [`INSTANTS`]) also answered by a full replay.
const REPLAYED: [usize; 2] = [1, 4];
/// The case streams `case show` is timed on, sampled evenly over the log.
const CASE_SHOWS: usize = 100;

/// The answers to the two questions at one instant, as JSON, with what giving them cost.
struct Answers {
    alerts: String,
    alert_count: usize,
    report: String,
    report_rows: usize,
    /// Fold and answer of the alerts (for a replay: the shared fold plus the alerts).
    alerts_took: Duration,
    /// Fold and answer of the report (for a replay: the shared fold plus the report).
    report_took: Duration,
    /// Cases and events folded for the alerts, then for the report (the index path).
    folded: [(usize, usize); 2],
}

fn main() -> ExitCode {
    if let Some(code) = import_child() {
        return code;
    }
    // A log kept live records each event when it is entered; a plain import records them all
    // at the import's instant (then every conclusion counts as entered late, and every case
    // reaches the report of the import's month).
    let plain = std::env::var_os("JIANCHA_BENCH_PLAIN_IMPORT").is_some();
    let size = bench_events_or(10_000_000);
    let kept = std::env::var_os("JIANCHA_BENCH_DB").map(std::path::PathBuf::from);
    let mut _dir = None;
    let (db, events, took, import_peak) = match kept.filter(|p| p.exists()) {
        Some(path) => {
            println!("(reusing the log in {}: JIANCHA_BENCH_DB)", path.display());
            (
                format!("sqlite://{}", path.display()),
                size,
                Duration::ZERO,
                0,
            )
        }
        None => {
            let (events, dir, file) = if plain {
                case_workload_of(size).unwrap()
            } else {
                live_workload_of(size).unwrap()
            };
            eprintln!("travel: importing {events} simulated events into SQLite…");
            let path = std::env::var_os("JIANCHA_BENCH_DB")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| dir.path().join("travel.db"));
            let db = format!("sqlite://{}", path.display());
            let (took, import_peak) = import_via_child(&db, &file).unwrap();
            _dir = Some(dir);
            (db, events, took, import_peak)
        }
    };
    println!(
        "travel benchmark: {events} simulated events, {} (imported in {:.1} s, import peak \
         {:.0} MB)",
        if plain {
            "recorded at the import (JIANCHA_BENCH_PLAIN_IMPORT)"
        } else {
            "recorded when entered (an export imported)"
        },
        took.as_secs_f64(),
        import_peak as f64 / 1e6
    );
    println!(
        "(the baseline folds the whole log at {} instants: about 2 minutes each at 10M events)",
        REPLAYED.len()
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let same = rt.block_on(async {
        let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
        let store: Arc<dyn EventStore> = jiancha_store::open(&db, clock).await.unwrap();
        let same = run(&store).await;
        store.close().await;
        same
    });
    if let Some(peak) = peak_rss_bytes() {
        row(
            "peak memory (this process)",
            &format!("{:.0} MB", peak as f64 / 1e6),
            "the replays included; the import ran in a child",
        );
    }
    if same {
        ExitCode::SUCCESS
    } else {
        eprintln!("travel: the index's answers differ from the replay's");
        ExitCode::FAILURE
    }
}

/// The whole benchmark on an imported log; false if an answer differed from the replay's.
async fn run(store: &Arc<dyn EventStore>) -> bool {
    let head = store.head().await.unwrap().position;
    let first = store.read_at(1).await.unwrap().unwrap();
    let last = store.read_at(head).await.unwrap().unwrap();
    let (from, to) = (millis(&first), millis(&last));
    println!(
        "business time from the first event to the last: {} .. {}",
        asof_text(from),
        asof_text(to)
    );

    eprintln!("travel: building the case index from nothing ({head} events)…");
    let start = Instant::now();
    let built = jiancha_engine::index::catch_up(&**store).await.unwrap();
    let building = start.elapsed();
    row(
        "case index built from nothing",
        &format!("{:.2} s", building.as_secs_f64()),
        &format!(
            "{} rows, positions {}..{}{}",
            built.cases,
            built.from,
            built.to,
            if built.bulk { ", bulk fold" } else { "" }
        ),
    );

    // What the questions can select at most: every row, the rows the alerts' question folds
    // at the end of the log (ever alerted, active or irregular, and not settled with kept
    // alerts), and the settled rows whose kept alerts it reads instead.
    let every = jiancha_store::IndexSelect::Report {
        by: Millis::MAX,
        reaching: Millis::MIN,
    };
    let rows = store.index_select(every).await.unwrap().len();
    let flagged = store
        .index_select(jiancha_store::IndexSelect::Alerts { by: Millis::MAX })
        .await
        .unwrap()
        .len();
    let kept = store.index_kept(Millis::MAX).await.unwrap().len();
    row(
        "    rows the alerts' question folds at the end",
        &format!("{flagged} of {rows}"),
        &format!(
            "{:.1}%: ever alerted, active or irregular, not settled; {kept} settled rows' kept \
             alerts read instead",
            100.0 * flagged as f64 / rows.max(1) as f64
        ),
    );

    let instants: Vec<Millis> = INSTANTS
        .iter()
        .map(|f| from + ((to - from) as f64 * f) as Millis)
        .collect();
    let mut indexed = Vec::new();
    for (i, &now) in instants.iter().enumerate() {
        eprintln!(
            "travel: from the index at {:.0}% ({})…",
            INSTANTS[i] * 100.0,
            asof_text(now)
        );
        indexed.push(from_index(store, now).await);
    }
    index_rows(&indexed);

    let mut same = true;
    // Without the baseline: for looking at the index's path again, never for a row's figures.
    let replayed: &[usize] = if std::env::var_os("JIANCHA_BENCH_NO_REPLAY").is_some() {
        println!("(no replay: JIANCHA_BENCH_NO_REPLAY)");
        &[]
    } else {
        &REPLAYED
    };
    for &i in replayed {
        let now = instants[i];
        eprintln!(
            "travel: full replay at {:.0}% ({}) — about 2 minutes a replay at 10M events…",
            INSTANTS[i] * 100.0,
            asof_text(now)
        );
        let replayed = from_replay(store, now).await;
        same &= compare_rows(INSTANTS[i], &indexed[i], &replayed);
    }

    eprintln!("travel: case show on {CASE_SHOWS} cases…");
    case_shows(store, head).await;
    same
}

/// The business instant of an event in Unix milliseconds.
fn millis(event: &StoredEvent) -> Millis {
    event.occurred_at.timestamp_millis()
}

fn asof_text(now: Millis) -> String {
    jiancha_projections::instant::format(now)
}

/// The report of the month of `now`, by org.
fn query_at(now: Millis) -> ReportQuery {
    let month = jiancha_projections::instant::date_of(now)
        .format("%Y-%m")
        .to_string();
    ReportQuery {
        period: Period::parse(&month).unwrap(),
        by: Dimension::Org,
        depth: None,
    }
}

/// `alerts --now` and `report --period <month> --now` from the case index.
async fn from_index(store: &Arc<dyn EventStore>, now: Millis) -> Answers {
    let query = query_at(now);
    let start = Instant::now();
    let travelled = jiancha_engine::travel::for_alerts(&**store, now)
        .await
        .unwrap();
    let alerts = travelled.alerts(now);
    let alerts_took = start.elapsed();
    let folded_alerts = (travelled.cases, travelled.events);
    drop(travelled);

    let start = Instant::now();
    let travelled =
        jiancha_engine::travel::for_report(&**store, &query.period, now, Scoring::default())
            .await
            .unwrap();
    let report = travelled.projections.report(&query, now).unwrap();
    let report_took = start.elapsed();
    let folded_report = (travelled.cases, travelled.events);
    drop(travelled);

    Answers {
        alerts: serde_json::to_string(&alerts).unwrap(),
        alert_count: alerts.len(),
        report: serde_json::to_string(&report.rows).unwrap(),
        report_rows: report.rows.len(),
        alerts_took,
        report_took,
        folded: [folded_alerts, folded_report],
    }
}

/// The same two answers from one fold of the whole log (`--replay`): each timed as the fold
/// plus its own answer.
async fn from_replay(store: &Arc<dyn EventStore>, now: Millis) -> Answers {
    let query = query_at(now);
    let start = Instant::now();
    let projections = jiancha_cli::cmd::replay::assessment(store, now, Scoring::default())
        .await
        .unwrap();
    let fold = start.elapsed();
    let start = Instant::now();
    let alerts = projections.alerts(now);
    let alerts_answer = start.elapsed();
    let start = Instant::now();
    let report = projections.report(&query, now).unwrap();
    let report_answer = start.elapsed();
    let cases = projections.cases_sorted().len();
    Answers {
        alerts: serde_json::to_string(&alerts).unwrap(),
        alert_count: alerts.len(),
        report: serde_json::to_string(&report.rows).unwrap(),
        report_rows: report.rows.len(),
        alerts_took: fold + alerts_answer,
        report_took: fold + report_answer,
        folded: [(cases, 0); 2],
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// The index path's figures over the instants: p50 and max of each question, and what each
/// folded.
fn index_rows(indexed: &[Answers]) {
    for (q, name) in ["alerts --now", "report --period <month> --now"]
        .iter()
        .enumerate()
    {
        let mut took: Vec<Duration> = indexed
            .iter()
            .map(|a| if q == 0 { a.alerts_took } else { a.report_took })
            .collect();
        took.sort_unstable();
        let folded: Vec<String> = indexed
            .iter()
            .zip(INSTANTS)
            .map(|(a, f)| {
                let (cases, events) = a.folded[q];
                format!("{:.0}%: {cases} cases/{events} ev", f * 100.0)
            })
            .collect();
        row(
            &format!("{name} from the index, p50"),
            &ms(percentile(&took, 0.5)),
            &format!(
                "max {} over {} instants (fold and answer)",
                ms(took[took.len() - 1]),
                took.len()
            ),
        );
        row(&format!("    folded ({name})"), "", &folded.join(", "));
    }
}

/// The replay's figures at one instant beside the index's, and whether the answers are equal.
fn compare_rows(at: f64, indexed: &Answers, replayed: &Answers) -> bool {
    let pct = at * 100.0;
    let (cases, _) = replayed.folded[0];
    let cases = format!("whole log folded, {cases} cases by then");
    let alerts = format!("{} alerts", indexed.alert_count);
    let rows = format!("{} rows", indexed.report_rows);
    for (what, base, ours, baseline_note, answer) in [
        (
            "alerts",
            replayed.alerts_took,
            indexed.alerts_took,
            cases.as_str(),
            alerts.as_str(),
        ),
        (
            "report",
            replayed.report_took,
            indexed.report_took,
            "same fold",
            rows.as_str(),
        ),
    ] {
        row(
            &format!("{what} --now --replay at {pct:.0}% (baseline)"),
            &format!("{:.2} s", base.as_secs_f64()),
            baseline_note,
        );
        row(
            &format!("    {what} from the index at {pct:.0}%"),
            &ms(ours),
            &format!("{:.1}x faster, {answer}", ratio(base, ours)),
        );
    }
    let alerts_same = indexed.alerts == replayed.alerts;
    let report_same = indexed.report == replayed.report;
    let verdict = |same: bool| if same { "equal" } else { "DIFFERENT" };
    row(
        &format!("    answers at {pct:.0}%: index vs replay"),
        if alerts_same && report_same {
            "equal"
        } else {
            "DIFFERENT"
        },
        &format!(
            "alerts {} ({} vs {}), report rows {} ({} vs {})",
            verdict(alerts_same),
            indexed.alert_count,
            replayed.alert_count,
            verdict(report_same),
            indexed.report_rows,
            replayed.report_rows
        ),
    );
    alerts_same && report_same
}

fn ratio(baseline: Duration, figure: Duration) -> f64 {
    baseline.as_secs_f64() / figure.as_secs_f64().max(1e-9)
}

/// `case show C --now T` for case streams sampled evenly over the log: its context read,
/// folded by T (the instant of the sampled event) and viewed.
async fn case_shows(store: &Arc<dyn EventStore>, head: u64) {
    let mut samples: Vec<(String, Millis)> = Vec::new();
    for i in 0..CASE_SHOWS as u64 {
        let mut position = 1 + (head - 1) * i / CASE_SHOWS as u64;
        while position <= head {
            let event = store.read_at(position).await.unwrap().unwrap();
            if event.data.stream_kind() == StreamKind::Case {
                samples.push((event.stream.clone(), millis(&event)));
                break;
            }
            position += 1;
        }
    }
    let mut took = Vec::with_capacity(samples.len());
    let mut read = Vec::with_capacity(samples.len());
    let mut sizes = Vec::with_capacity(samples.len());
    let mut shown = 0;
    for (case, now) in &samples {
        let start = Instant::now();
        let context = store.read_case_context(case).await.unwrap();
        let reading = start.elapsed();
        let projections =
            asof::fold_occurred(jiancha_projections::Projections::default(), &context, *now);
        let view = projections.case_view(case, *now);
        took.push(start.elapsed());
        read.push(reading);
        sizes.push(context.len());
        shown += usize::from(std::hint::black_box(view).is_some());
    }
    took.sort_unstable();
    read.sort_unstable();
    sizes.sort_unstable();
    row(
        "case show --now, p50",
        &ms(percentile(&took, 0.5)),
        &format!(
            "p99 {}, {} cases ({shown} shown); reading p50 {}, context {} events (median)",
            ms(percentile(&took, 0.99)),
            samples.len(),
            ms(percentile(&read, 0.5)),
            sizes.get(sizes.len() / 2).copied().unwrap_or(0)
        ),
    );
}
