//! The insight (辅助决策) against the ledger and the cases it rests on, over simulated districts
//! of several seeds: every figure is recomputed here by a separate, plain route (each case's
//! `CaseView`, the alert list, the monthly reports) and must be equal; the recommended promise
//! of an item never exceeds its current promise; the forecast's backtest error is recomputed
//! from the same months. Through the binary: `jiancha insight --now T` equals
//! `GET /api/v1/insights?now=T` at the same instant, the table prints the backtest error, and
//! the workbooks of `report` and `insight` (`--format xlsx --output FILE`) read back (calamine)
//! cell for cell as the JSON of the same command.

use std::collections::BTreeMap;

use jiancha_events::StoredEvent;
use jiancha_projections::insight::{add_months, InsightQuery};
use jiancha_projections::ledger::month_of;
use jiancha_projections::{Period, Projections, Scoring};
use serde_json::Value;

use crate::sealed_log::SealedLog;
use crate::server_api::{get_json, Served};
use crate::support::*;
use crate::workbook_cells::assert_cells_are;

/// A small district (8 items, so each has enough conclusions) over about two years.
fn config(seed: u64) -> jiancha_sim::SimConfig {
    jiancha_sim::SimConfig {
        cases: 3000,
        seed,
        start: chrono::NaiveDate::from_ymd_opt(2023, 1, 3).unwrap(),
        cases_per_workday: 6,
        shape: jiancha_sim::DistrictShape {
            departments: 3,
            towns: 3,
            villages: 6,
            items: 8,
        },
        ..jiancha_sim::SimConfig::default()
    }
}

/// The simulated log, sealed as the store would (positions, versions, hashes).
fn simulated(config: &jiancha_sim::SimConfig) -> Vec<StoredEvent> {
    let mut log = SealedLog::default();
    for sim in jiancha_sim::events(config).unwrap() {
        let sim = sim.unwrap();
        log.push(sim.event, sim.entered_at);
    }
    log.into_events()
}

/// The p-th percentile doubled, by its definition read plainly: the smallest rank k with
/// k/n >= p/100; when k/n is exactly p/100 (and k < n), the mean of the values at k and k+1.
fn percentile_doubled(sorted: &[u32], p: usize) -> f64 {
    let n = sorted.len();
    let k = (1..=n).find(|k| k * 100 >= p * n).unwrap();
    if k * 100 == p * n && k < n {
        f64::from(sorted[k - 1] + sorted[k])
    } else {
        2.0 * f64::from(sorted[k - 1])
    }
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn rate(num: u64, den: u64) -> f64 {
    (num as f64 / den as f64 * 10_000.0).round() / 10_000.0
}

/// One concluded case as its `CaseView` shows it.
struct Seen {
    item: String,
    org: String,
    month: u32,
    used: u32,
    on_time: bool,
}

fn month_key(text: &str) -> u32 {
    let (y, m) = text.split_at(4);
    y.parse::<u32>().unwrap() * 100 + m[1..].parse::<u32>().unwrap()
}

#[test]
fn every_figure_reproduces_from_the_cases_and_the_ledger() {
    for seed in seeds() {
        let log = simulated(&config(seed));
        let mut p = Projections::default().with_ledger(Scoring::default());
        for e in &log {
            p.apply(e);
        }
        let last = log.last().unwrap().recorded_at;
        let now = last.timestamp_millis() + 86_400_000;
        let last_month = month_of(jiancha_projections::instant::date_of(
            last.timestamp_millis(),
        ));
        let period_month = add_months(last_month, -2);
        let label = jiancha_projections::insight::month_text(period_month);
        let query = InsightQuery {
            period: Period::parse(&label).unwrap(),
            org: None,
        };
        let insight = serde_json::to_value(p.insight(&query, now)).unwrap();
        check(&p, &insight, period_month, now, seed);
    }
}

fn check(p: &Projections, insight: &Value, period: u32, now: i64, seed: u64) {
    let today = jiancha_projections::instant::date_of(now);
    let mut seen = Vec::new();
    let mut accepted: BTreeMap<u32, u64> = BTreeMap::new();
    let mut submitted: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let repeated: std::collections::BTreeSet<String> = p
        .alerts(now)
        .into_iter()
        .filter(|a| a.rule == "intake.correction.repeated")
        .map(|a| a.case)
        .collect();
    for (stream, case) in p.cases_sorted() {
        let view = p.case_view(stream, now).unwrap();
        if let Some(on) = view.accepted_on {
            if case.accepted.as_ref().unwrap().at <= now {
                *accepted.entry(month_of(on)).or_default() += 1;
            }
        }
        if month_of(view.submitted_on) == period {
            let s = submitted.entry(view.item.clone()).or_default();
            s.0 += 1;
            s.1 += u64::from(repeated.contains(stream));
        }
        let (Some(on), Some(used), Some(_)) =
            (view.concluded_on, view.used_days, view.promised_limit_days)
        else {
            continue;
        };
        if on > today || view.unmonitored {
            continue;
        }
        seen.push(Seen {
            item: view.item.clone(),
            org: view.org.clone(),
            month: month_of(on),
            used,
            on_time: view.on_time == Some(true),
        });
    }
    let ctx = format!("seed {seed}, period {period}");
    // Bottlenecks per item and org: n, on time, percentiles, max, total.
    for (key, rows) in [("item", "items"), ("org", "orgs")] {
        let mut groups: BTreeMap<String, Vec<&Seen>> = BTreeMap::new();
        for s in seen.iter().filter(|s| s.month == period) {
            let k = if key == "item" { &s.item } else { &s.org };
            groups.entry(k.clone()).or_default().push(s);
        }
        let rows = insight["bottlenecks"][rows].as_array().unwrap();
        assert_eq!(rows.len(), groups.len(), "{ctx}: {key} rows");
        assert!(!rows.is_empty(), "{ctx}: no {key} rows");
        for row in rows {
            let group = &groups[row[key].as_str().unwrap()];
            let mut used: Vec<u32> = group.iter().map(|s| s.used).collect();
            used.sort_unstable();
            let on_time = group.iter().filter(|s| s.on_time).count() as u64;
            assert_eq!(row["n"], group.len() as u64, "{ctx}: {row}");
            assert_eq!(row["on_time"], on_time, "{ctx}: {row}");
            assert_eq!(num(&row["on_time_rate"]), rate(on_time, group.len() as u64));
            assert_eq!(
                2.0 * num(&row["p50"]),
                percentile_doubled(&used, 50),
                "{ctx}: {row}"
            );
            assert_eq!(
                2.0 * num(&row["p90"]),
                percentile_doubled(&used, 90),
                "{ctx}: {row}"
            );
            assert_eq!(row["max"], *used.last().unwrap());
            let total: u64 = used.iter().map(|d| u64::from(*d)).sum();
            assert_eq!(row["used_days_total"], total);
        }
    }
    // Steps: the segments of each item partition the working days its conclusions used.
    let mut by_item: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for s in insight["bottlenecks"]["steps"].as_array().unwrap() {
        let e = by_item.entry(s["item"].as_str().unwrap()).or_default();
        e.0 += s["days_total"].as_u64().unwrap();
        if s["step"] == "(conclusion)" {
            e.1 += s["n"].as_u64().unwrap();
        }
    }
    for row in insight["bottlenecks"]["items"].as_array().unwrap() {
        let (days, n) = by_item[row["item"].as_str().unwrap()];
        assert_eq!(
            days,
            row["used_days_total"].as_u64().unwrap(),
            "{ctx}: {row}"
        );
        assert_eq!(
            n,
            row["n"].as_u64().unwrap(),
            "{ctx}: every conclusion ends a segment"
        );
    }
    // Recommendations: 12 months, at least 30 conclusions, never above the current promise.
    let from = add_months(period, -11);
    let mut year: BTreeMap<&str, Vec<&Seen>> = BTreeMap::new();
    for s in seen.iter().filter(|s| (from..=period).contains(&s.month)) {
        year.entry(&s.item).or_default().push(s);
    }
    let expected: Vec<&str> = year
        .iter()
        .filter(|(_, v)| v.len() >= 30)
        .map(|(k, _)| *k)
        .collect();
    let recs = insight["recommendations"].as_array().unwrap();
    let got: Vec<&str> = recs.iter().map(|r| r["item"].as_str().unwrap()).collect();
    assert_eq!(got, expected, "{ctx}: items judged");
    assert!(
        !recs.is_empty(),
        "{ctx}: the district is big enough to judge some items"
    );
    for r in recs {
        let group = &year[r["item"].as_str().unwrap()];
        let mut used: Vec<u32> = group.iter().map(|s| s.used).collect();
        used.sort_unstable();
        let limit = r["promised_limit_days"].as_u64().unwrap();
        let current = p
            .catalog
            .current(r["item"].as_str().unwrap())
            .unwrap()
            .item
            .promised_days;
        assert_eq!(limit, u64::from(current));
        let p90 = percentile_doubled(&used, 90) / 2.0;
        assert_eq!(num(&r["p90"]), p90, "{ctx}: {r}");
        let suggested = (p90 <= 0.6 * limit as f64)
            .then(|| (p90.ceil() as u64).max(1))
            .filter(|s| *s < limit);
        assert_eq!(
            r["suggested_promise_days"].as_u64(),
            suggested,
            "{ctx}: {r}"
        );
        if let Some(s) = suggested {
            assert!(s <= limit, "{ctx}: a suggestion above the promise: {r}");
        }
        let on_time = group.iter().filter(|s| s.on_time).count() as f64;
        let flagged = on_time / (group.len() as f64) < 0.95;
        assert_eq!(r["flag"].is_string(), flagged, "{ctx}: {r}");
    }
    // Forecast of the whole district: history, forecasts and the backtest error recomputed.
    let all = insight["forecast"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["dimension"] == "all")
        .unwrap();
    let count = |m: u32| accepted.get(&m).copied().unwrap_or(0);
    let sum = |a: u32, b: u32| {
        (0..)
            .map(|i| add_months(a, i))
            .take_while(|m| *m <= b)
            .map(count)
            .sum::<u64>()
    };
    let predict = |origin: u32, target: u32| {
        let recent = sum(add_months(origin, -11), origin);
        let prior = sum(add_months(origin, -23), add_months(origin, -12));
        let base = count(add_months(target, -12)) as f64;
        if prior == 0 {
            base as u64
        } else {
            (base * recent as f64 / prior as f64 + 0.5).floor() as u64
        }
    };
    for h in all["history"].as_array().unwrap() {
        assert_eq!(
            h["accepted"],
            count(month_key(h["month"].as_str().unwrap()))
        );
    }
    for (i, m) in all["months"].as_array().unwrap().iter().enumerate() {
        let target = add_months(period, i as i64 + 1);
        assert_eq!(month_key(m["month"].as_str().unwrap()), target);
        assert_eq!(m["accepted"], predict(period, target), "{ctx}: {m}");
    }
    let mut abs_error = 0;
    let mut actual_sum = 0;
    for i in 0..6 {
        let month = add_months(period, i - 5);
        let b = &all["backtest"][i as usize];
        assert_eq!(month_key(b["month"].as_str().unwrap()), month);
        let (actual, forecast) = (count(month), predict(add_months(month, -1), month));
        assert_eq!(
            (b["actual"].as_u64(), b["forecast"].as_u64()),
            (Some(actual), Some(forecast))
        );
        abs_error += actual.abs_diff(forecast);
        actual_sum += actual;
    }
    assert_eq!(all["backtest_abs_error"], abs_error, "{ctx}");
    assert_eq!(
        num(&all["backtest_error_rate"]),
        rate(abs_error, actual_sum),
        "{ctx}"
    );
    // Hot items: the share of the period's applications asked for corrections twice.
    let items = insight["hot_spots"]["items"].as_array().unwrap();
    assert_eq!(items.len(), submitted.len(), "{ctx}");
    let mut previous = f64::INFINITY;
    for i in items {
        let (n, r) = submitted[i["item"].as_str().unwrap()];
        assert_eq!(
            (i["submitted"].as_u64(), i["repeated"].as_u64()),
            (Some(n), Some(r))
        );
        let share = r as f64 / n as f64;
        assert!(share <= previous, "{ctx}: highest first");
        previous = share;
    }
    // Hot orgs: each rose three months in a row in the monthly reports' cards per 100 accepted.
    for t in insight["hot_spots"]["orgs"].as_array().unwrap() {
        let org = t["org"].as_str().unwrap();
        let mut rates = Vec::new();
        for i in 0..4 {
            let month = jiancha_projections::insight::month_text(add_months(period, i - 3));
            let q = jiancha_projections::ReportQuery {
                period: Period::parse(&month).unwrap(),
                by: jiancha_projections::ledger::Dimension::Org,
                depth: None,
            };
            let report = p.report(&q, now).unwrap();
            let row = report
                .rows
                .iter()
                .find(|r| r.org.as_deref() == Some(org))
                .unwrap();
            assert!(row.accepted > 0);
            rates.push((row.yellow + row.red) as f64 / row.accepted as f64);
            assert_eq!(t["months"][i as usize]["accepted"], row.accepted);
        }
        assert!(
            rates.windows(2).all(|w| w[1] > w[0]),
            "{ctx}: {org} {rates:?}"
        );
    }
}

/// Every cell of a workbook against the JSON it was written from.
fn assert_workbook_is(path: &std::path::Path, doc: &Value, sheets: &[jiancha_xlsx::Sheet]) {
    let bytes = std::fs::read(path).unwrap();
    // A zip archive: its local header first, its end-of-central-directory record last.
    assert_eq!(&bytes[..4], b"PK\x03\x04");
    let tail = &bytes[bytes.len().saturating_sub(22)..];
    assert_eq!(
        &tail[..4],
        b"PK\x05\x06",
        "the end of the central directory"
    );
    let cells = assert_cells_are(&bytes, doc, sheets);
    assert!(cells > 0, "no cell compared");
}

#[test]
fn cli_and_server_agree_and_the_workbooks_are_the_json() {
    let ws = Workspace::new();
    let sim = ws.run(
        &[
            "simulate",
            "--cases",
            "400",
            "--seed",
            "5",
            "--per-day",
            "3",
            "--start",
            "2024-01-02",
        ],
        "",
    );
    assert_eq!(sim.code, 0, "{sim:?}");
    let last: chrono::DateTime<chrono::FixedOffset> = sim
        .stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            chrono::DateTime::parse_from_rfc3339(v["occurred_at"].as_str().unwrap()).unwrap()
        })
        .max()
        .unwrap();
    let recorded = (last + chrono::Duration::hours(1)).to_rfc3339();
    let r = ws.run_env(
        &ws.db(),
        &[("JIANCHA_CLOCK", &recorded)],
        &["import", "--historical", "-"],
        &sim.stdout,
    );
    assert_eq!(r.code, 0, "{r:?}");
    let serve_clock = (last + chrono::Duration::days(2)).to_rfc3339();
    let served = Served::start(&ws.db(), &[("JIANCHA_CLOCK", &serve_clock)]);
    let period = (last - chrono::Duration::days(45))
        .format("%Y-%m")
        .to_string();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let now = serve_clock.clone();
    let cli = ws.run_env(
        &ws.db(),
        &[("JIANCHA_CLOCK", &serve_clock)],
        &[
            "insight", "--period", &period, "--now", &now, "--format", "json",
        ],
        "",
    );
    assert_eq!(cli.code, 0, "{cli:?}");
    let cli: Value = serde_json::from_str(&cli.stdout).unwrap();
    let path = format!(
        "/api/v1/insights?period={period}&now={}",
        now.replace('+', "%2B").replace(':', "%3A")
    );
    let (status, server) = runtime.block_on(get_json(&served.url(&path), None));
    assert_eq!(status, 200, "{server}");
    assert_eq!(
        cli, server,
        "jiancha insight --now and GET /api/v1/insights?now="
    );
    assert!(!cli["bottlenecks"]["items"].as_array().unwrap().is_empty());
    // The table prints the backtest error beside the forecast.
    let table = ws.run_env(
        &ws.db(),
        &[("JIANCHA_CLOCK", &serve_clock)],
        &[
            "--lang", "en", "insight", "--period", &period, "--now", &now,
        ],
        "",
    );
    assert_eq!(table.code, 0, "{table:?}");
    let all = &cli["forecast"].as_array().unwrap()[0];
    assert_eq!(all["dimension"], "all");
    let line = table
        .stdout
        .lines()
        .find(|l| l.starts_with("all "))
        .unwrap_or_else(|| panic!("{}", table.stdout));
    assert!(
        line.contains(&format!(" {} ", all["backtest_abs_error"])),
        "{line}"
    );
    assert!(table.stdout.contains("BT_ERR"), "{}", table.stdout);
    // The workbooks, cell for cell.
    for (command, sheets) in [
        ("insight", jiancha_xlsx::insight_sheets()),
        ("report", jiancha_xlsx::report_sheets()),
    ] {
        let file = ws.path(&format!("{command}.xlsx"));
        let args = |format: &str| {
            let mut a = vec![
                command, "--period", &period, "--now", &now, "--format", format,
            ];
            if format == "xlsx" {
                a.extend(["--output", file.to_str().unwrap()]);
            }
            a.into_iter().map(str::to_owned).collect::<Vec<_>>()
        };
        let json_args = args("json");
        let json_args: Vec<&str> = json_args.iter().map(String::as_str).collect();
        let json = ws.run_env(&ws.db(), &[("JIANCHA_CLOCK", &serve_clock)], &json_args, "");
        assert_eq!(json.code, 0, "{json:?}");
        let doc: Value = serde_json::from_str(&json.stdout).unwrap();
        let xlsx_args = args("xlsx");
        let xlsx_args: Vec<&str> = xlsx_args.iter().map(String::as_str).collect();
        let xlsx = ws.run_env(&ws.db(), &[("JIANCHA_CLOCK", &serve_clock)], &xlsx_args, "");
        assert_eq!(xlsx.code, 0, "{xlsx:?}");
        assert_workbook_is(&file, &doc, &sheets);
    }
    // Without --output, a workbook is refused as bad input; so is --output with a format
    // written to standard output (it would be ignored).
    let refused = ws.run(&["insight", "--period", &period, "--format", "xlsx"], "");
    assert_eq!(refused.code, 2, "{refused:?}");
    let out = ws.path("ignored.json");
    let out = out.to_str().unwrap();
    for command in ["insight", "report"] {
        let refused = ws.run(
            &[
                command, "--period", &period, "--format", "json", "--output", out,
            ],
            "",
        );
        assert_eq!(refused.code, 2, "{refused:?}");
        assert!(
            refused.stderr.contains("--output goes with --format xlsx"),
            "{refused:?}"
        );
    }
}
