//! The same as-of answers from the CLI and the server: over simulated districts imported in two
//! batches (recorded at two instants, so "known by" keeps a different part of the log than
//! "occurred by"), at several instants given in every accepted form, `jiancha case show
//! --now T`, `jiancha history --as-of T`, the alerts of the case in that history and `jiancha
//! alerts --now T` equal `GET /api/v1/alerts?now=T` and
//! `GET /api/v1/cases/{id}?now=T` and `GET /api/v1/cases/{id}/history?as_of=T` as JSON values,
//! and `jiancha report --period P --now T` and `jiancha insight --period P --now T` equal
//! `GET /api/v1/reports?period=P&now=T` and `GET /api/v1/insights?period=P&now=T`;
//! an instant before the case gives an error on both sides. The server's live overview equals
//! its overview as of its own instant.

use chrono::{DateTime, Duration, FixedOffset};

use crate::server_api::{get_json, Served};
use crate::support::*;

/// The `occurred_at` of a JSONL line.
fn occurred(line: &str) -> DateTime<FixedOffset> {
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    DateTime::parse_from_rfc3339(v["occurred_at"].as_str().unwrap()).unwrap()
}

/// The largest `occurred_at` among JSONL lines.
fn last_occurred(lines: &[&str]) -> DateTime<FixedOffset> {
    lines.iter().map(|l| occurred(l)).max().unwrap()
}

/// The CLI's JSON answer, or `None` when it refused (exit code 2, a user error).
fn cli_json(ws: &Workspace, clock: &str, args: &[&str]) -> Option<serde_json::Value> {
    let r = ws.run_env(&ws.db(), &[("JIANCHA_CLOCK", clock)], args, "");
    match r.code {
        0 => Some(serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"))),
        2 => None,
        _ => panic!("jiancha {args:?}: {r:?}"),
    }
}

/// The server's JSON answer, or `None` when it answered 404.
async fn server_json(served: &Served, path: &str) -> Option<serde_json::Value> {
    let (status, json) = get_json(&served.url(path), None).await;
    match status {
        200 => Some(json),
        404 => None,
        _ => panic!("GET {path}: {status} {json}"),
    }
}

fn percent(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

#[test]
fn cli_and_server_answer_the_same_as_of_an_instant() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut compared = (0, 0, 0, 0);
    let mut listed = 0;
    let mut reported = 0;
    let mut overviews = 0;
    for seed in [1, 2] {
        let ws = Workspace::new();
        let sim = ws.run(
            &["simulate", "--cases", "24", "--seed", &seed.to_string()],
            "",
        );
        assert_eq!(sim.code, 0, "{sim:?}");
        let lines: Vec<&str> = sim.stdout.lines().collect();
        // The orgs' names (after the items, before any case) go with the first batch, so the
        // cases split as they did before the simulator named its orgs.
        let orgs = lines
            .iter()
            .filter(|l| l.contains("\"OrgDefined\""))
            .count();
        let (first, second) = lines.split_at(orgs + (lines.len() - orgs) / 2);
        // Each batch recorded an hour after the last event in it occurred.
        let recorded_1 = last_occurred(first) + Duration::hours(1);
        let recorded_2 = last_occurred(&lines).max(recorded_1) + Duration::hours(1);
        for (batch, at) in [(first, recorded_1), (second, recorded_2)] {
            let clock = at.to_rfc3339();
            let r = ws.run_env(
                &ws.db(),
                &[("JIANCHA_CLOCK", &clock)],
                &["import", "-"],
                &(batch.join("\n") + "\n"),
            );
            assert_eq!(r.code, 0, "{r:?}");
        }
        // A case left open from the start: the server's engine cards its overdue alerts when it
        // starts (recorded then, after every instant asked about), which a fold of the log as
        // of an instant must not see.
        let submitted: serde_json::Value =
            serde_json::from_str(lines.iter().find(|l| l.contains("\"Submitted\"")).unwrap())
                .unwrap();
        let open_case = |ty: &str, data: &str| {
            format!(
                r#"{{"stream":"case-open-{seed}","type":"{ty}","occurred_at":"{}","actor":"clerk","org":"{}","data":{data}}}"#,
                submitted["occurred_at"].as_str().unwrap(),
                submitted["org"].as_str().unwrap(),
            )
        };
        let open = [
            open_case(
                "Submitted",
                &serde_json::json!({"item": submitted["data"]["item"], "channel": "window", "materials": submitted["data"]["materials"]}).to_string(),
            ),
            open_case("Accepted", "{}"),
        ]
        .join("\n")
            + "\n";
        let r = ws.run_env(
            &ws.db(),
            &[("JIANCHA_CLOCK", &recorded_2.to_rfc3339())],
            &["import", "-"],
            &open,
        );
        assert_eq!(r.code, 0, "{r:?}");
        // The server's engine may card what is due by its clock: recorded then, after every
        // instant asked about, so it changes none of the answers.
        let serve_clock = (recorded_2 + Duration::days(30)).to_rfc3339();
        let served = Served::start(&ws.db(), &[("JIANCHA_CLOCK", &serve_clock)]);
        let start = occurred(lines[0]);
        let middle = start + (recorded_1 - start) / 2;
        let instants = [
            start.to_rfc3339(),
            middle.to_rfc3339(),
            middle.with_timezone(&chrono::Utc).to_rfc3339(),
            middle.date_naive().to_string(),
            (recorded_1 - Duration::minutes(1)).to_rfc3339(),
            (recorded_1 + Duration::minutes(1)).to_rfc3339(),
            (recorded_2 + Duration::hours(1)).to_rfc3339(),
            (recorded_2 + Duration::days(3)).date_naive().to_string(),
        ];
        let cases: Vec<String> = (0..24)
            .step_by(5)
            .map(|n| {
                let v: serde_json::Value = serde_json::from_str(
                    lines
                        .iter()
                        .filter(|l| l.contains("\"Submitted\""))
                        .nth(n)
                        .unwrap(),
                )
                .unwrap();
                v["stream"].as_str().unwrap().to_owned()
            })
            .collect();
        for case in &cases {
            for t in &instants {
                let what = format!("seed {seed}, {case} at {t}");
                let cli = cli_json(
                    &ws,
                    &serve_clock,
                    &["case", "show", case, "--now", t, "--format", "json"],
                );
                let path = format!("/api/v1/cases/{case}?now={}", percent(t));
                let server = runtime.block_on(server_json(&served, &path));
                assert_eq!(cli, server, "case view, {what}");
                compared.0 += usize::from(cli.is_some());

                let cli = cli_json(
                    &ws,
                    &serve_clock,
                    &["history", case, "--as-of", t, "--format", "json"],
                );
                let path = format!("/api/v1/cases/{case}/history?as_of={}", percent(t));
                let server = runtime.block_on(server_json(&served, &path));
                assert_eq!(
                    cli.as_ref().map(|h| &h["alerts"]),
                    server.as_ref().map(|h| &h["alerts"]),
                    "alerts of the case, {what}"
                );
                assert_eq!(cli, server, "history, {what}");
                if let Some(h) = &cli {
                    compared.1 += 1;
                    compared.2 += h["alerts"].as_array().unwrap().len();
                } else {
                    compared.3 += 1;
                }
            }
        }
        // The district's alerts at each instant: the log as of then, on both sides.
        for t in &instants {
            let cli = cli_json(
                &ws,
                &serve_clock,
                &["alerts", "--now", t, "--format", "json"],
            );
            let path = format!("/api/v1/alerts?now={}", percent(t));
            let server = runtime.block_on(server_json(&served, &path));
            assert_eq!(
                cli.as_ref(),
                server.as_ref().map(|s| &s["alerts"]),
                "alerts of the district, seed {seed} at {t}"
            );
            listed += cli.map_or(0, |a| a.as_array().unwrap().len());
            // The assessment report and the insight of the month the log began in (where the
            // events after T fall), at T: the log as of then, on both sides.
            let period = start.format("%Y-%m").to_string();
            for (command, route) in [("report", "reports"), ("insight", "insights")] {
                let cli = cli_json(
                    &ws,
                    &serve_clock,
                    &[command, "--period", &period, "--now", t, "--format", "json"],
                );
                let path = format!("/api/v1/{route}?period={period}&now={}", percent(t));
                let server = runtime.block_on(server_json(&served, &path));
                assert_eq!(cli, server, "{command}, seed {seed} at {t}");
                if command == "report" {
                    reported += cli.map_or(0, |r| r["rows"].as_array().unwrap().len());
                }
            }
        }
        // The dashboard's overview: the live fold at the server's clock and the log folded as
        // of that instant give the same rows.
        let live = runtime
            .block_on(server_json(&served, "/api/v1/overview"))
            .unwrap();
        let replayed = runtime
            .block_on(server_json(
                &served,
                &format!("/api/v1/overview?now={}", percent(&serve_clock)),
            ))
            .unwrap();
        assert_eq!(live["rows"], replayed["rows"], "overview, seed {seed}");
        assert_eq!(live["now"], replayed["now"], "overview, seed {seed}");
        overviews += live["rows"].as_array().unwrap().len();
        drop(served);
    }
    assert!(overviews > 0, "the overviews had rows");
    assert!(listed > 0, "the district's alerts were compared");
    assert!(reported > 0, "the district's reports had rows");
    let (views, histories, alerts, refused) = compared;
    // The instants cover a case before it was known, and cases with alerts.
    assert!(views > 20, "{compared:?}");
    assert!(histories > 20, "{compared:?}");
    assert!(alerts > 0, "{compared:?}");
    assert!(refused > 0, "{compared:?}");
}
