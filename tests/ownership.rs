//! Whose case it is, through the real binary: two units race to submit the same case id over
//! HTTP (on SQLite through one `jiancha serve`, on PostgreSQL through two processes sharing the
//! log), and the one that loses never ends up writing to the other's case; and the README's
//! tour, which once merged simulated cases into the example's, is refused and writes nothing.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiancha_events::{EventData, NewEvent};
use jiancha_projections::Projections;
use jiancha_store::owner::{CaseOwner, OwnerMove};
use jiancha_store::ManualClock;
use serde_json::Value;

use crate::postgres_cli::PgLog;
use crate::server_api::Served;
use crate::support::{jiancha, with_stdin, Run, Workspace};

/// Rounds of the race on each database.
const ROUNDS: usize = 50;
const TOWN_A: &str = "jiangjin/town-1";
const TOWN_B: &str = "jiangjin/town-2";
const TOKEN_A: &str = "tok-unit-a";
const TOKEN_B: &str = "tok-unit-b";

fn auth_file(ws: &Workspace) -> String {
    let mut text = String::new();
    for (name, org, token) in [("unit-a", TOWN_A, TOKEN_A), ("unit-b", TOWN_B, TOKEN_B)] {
        text.push_str(&format!(
            "[[token]]\nname = \"{name}\"\nrole = \"unit\"\norg = \"{org}\"\nsha256 = \"{}\"\n\n",
            jiancha_server::token_hash(token)
        ));
    }
    ws.write("tokens.toml", &text).display().to_string()
}

/// One event of `case` without actor and org (the token sets them).
fn event(case: &str, ty: &str, at: &str, data: &str) -> String {
    format!(r#"{{"stream":"{case}","type":"{ty}","occurred_at":"{at}","data":{data}}}"#)
}

fn submitted(case: &str) -> String {
    event(
        case,
        "Submitted",
        "2026-03-02T09:15:00+08:00",
        r#"{"item":"BL-001","channel":"window","materials":[]}"#,
    )
}

fn accepted(case: &str) -> String {
    event(case, "Accepted", "2026-03-02T09:30:00+08:00", "{}")
}

fn step(case: &str) -> String {
    event(
        case,
        "StepCompleted",
        "2026-03-03T10:00:00+08:00",
        r#"{"step":"审查"}"#,
    )
}

/// POSTs JSONL lines as `token`: (status, body).
async fn post(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    lines: &[String],
) -> (u16, String) {
    let response = client
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(token)
        .header("content-type", "application/x-ndjson")
        .body(lines.join("\n"))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Unit A tries to take each case id unit B submits: at the same moment (even rounds) or right
/// after B's answer (odd rounds), A posting `Submitted` and `Accepted`. Every round, exactly
/// one of them holds the case; B, when it does, keeps writing to and reading it; the refusal
/// names nothing of the other unit.
async fn race(a: &Served, b: &Served) {
    let (client_a, client_b) = (reqwest::Client::new(), reqwest::Client::new());
    let (base_a, base_b) = (a.url(""), b.url(""));
    let mut b_won = 0;
    for round in 0..ROUNDS {
        let case = format!("case-own-{round:03}");
        let take = vec![submitted(&case), accepted(&case)];
        let own = vec![submitted(&case)];
        let (took, owned) = if round % 2 == 0 {
            tokio::join!(
                post(&client_a, &base_a, TOKEN_A, &take),
                post(&client_b, &base_b, TOKEN_B, &own)
            )
        } else {
            let owned = post(&client_b, &base_b, TOKEN_B, &own).await;
            assert_eq!(owned.0, 201, "{case}: B submits first: {owned:?}");
            (post(&client_a, &base_a, TOKEN_A, &take).await, owned)
        };
        let (winner, loser) = match (took.0, owned.0) {
            (201, 409) => (TOWN_A, &owned),
            (409, 201) => (TOWN_B, &took),
            _ => panic!("{case}: A got {took:?}, B got {owned:?}"),
        };
        let refusal: Value = serde_json::from_str(&loser.1).unwrap();
        assert_eq!(refusal["error"], "already_submitted", "{case}: {}", loser.1);
        assert!(
            !loser.1.contains(winner),
            "{case}: {} names {winner}",
            loser.1
        );
        if winner == TOWN_B {
            b_won += 1;
            let more = post(&client_b, &base_b, TOKEN_B, &[step(&case)]).await;
            assert_eq!(more.0, 201, "{case}: B writes to its own case: {more:?}");
            let read = client_b
                .get(format!("{base_b}/api/v1/cases/{case}"))
                .bearer_auth(TOKEN_B)
                .send()
                .await
                .unwrap();
            assert_eq!(read.status().as_u16(), 200, "{case}: B reads its own case");
        }
    }
    assert!(b_won >= ROUNDS / 2, "B submitted first in every odd round");
}

/// Every case of the log was written by one org only, and holds one `Submitted`.
fn one_org_per_case(export: &str) {
    let mut cases: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for line in export.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let stream = e["stream"].as_str().unwrap();
        if stream.starts_with("case-own-") {
            let row = (
                e["type"].as_str().unwrap().to_owned(),
                e["org"].as_str().unwrap().to_owned(),
            );
            cases.entry(stream.to_owned()).or_default().push(row);
        }
    }
    assert_eq!(cases.len(), ROUNDS);
    for (case, events) in &cases {
        let submissions = events.iter().filter(|(t, _)| t == "Submitted").count();
        assert_eq!(submissions, 1, "{case}: {events:?}");
        assert_eq!(events[0].0, "Submitted", "{case}: {events:?}");
        assert!(
            events.iter().all(|(_, org)| *org == events[0].1),
            "{case} was written by two orgs: {events:?}"
        );
    }
}

fn exported(ws: &Workspace, db: &str) -> String {
    let r = ws.run_db(db, &["export"], "");
    assert_eq!(r.code, 0, "{r:?}");
    r.stdout
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_unit_never_takes_another_units_case_on_sqlite() {
    let ws = Workspace::new();
    let auth = auth_file(&ws);
    let db = ws.db();
    let served = Served::start_with(&db, &[], &["--auth", &auth]);
    runtime().block_on(race(&served, &served));
    let (status, said) = served.interrupt();
    assert!(status.success(), "{said}");
    one_org_per_case(&exported(&ws, &db));
}

#[test]
fn a_unit_never_takes_another_units_case_across_two_postgres_servers() {
    let pg = PgLog::new("owners");
    let ws = Workspace::new();
    let auth = auth_file(&ws);
    let db = pg.url();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| Served::start_with(&db, &[], &["--auth", &auth]));
        let b = s.spawn(|| Served::start_with(&db, &[], &["--auth", &auth]));
        (a.join().unwrap(), b.join().unwrap())
    });
    runtime().block_on(race(&a, &b));
    for served in [a, b] {
        let (status, said) = served.interrupt();
        assert!(status.success(), "{said}");
    }
    one_org_per_case(&exported(&ws, &db));
}

/// Cases whose accountable org moves every way the rule knows: transferred after acceptance,
/// refused at intake or withdrawn before an acceptance, accepted twice, transferred before
/// acceptance and accepted elsewhere.
fn moving_cases() -> Vec<NewEvent> {
    let at = "2026-03-02T10:00:00+08:00";
    let line = |case: &str, ty: &str, org: &str, data: &str| {
        format!(
            r#"{{"stream":"{case}","type":"{ty}","occurred_at":"{at}","actor":"c","org":"{org}","data":{data}}}"#
        )
    };
    let sub = r#"{"item":"BL-001","channel":"window","materials":[]}"#;
    let to = |org: &str| format!(r#"{{"to_org":"{org}","reason":"r"}}"#);
    let (v, t, w) = ("d/town-1/village-1", "d/town-1", "d/center/dept-1/window-1");
    let lines = [
        line("case-m1", "Submitted", v, sub),
        line("case-m1", "Transferred", v, &to(t)),
        line("case-m1", "Accepted", w, "{}"),
        line("case-m1", "Accepted", v, "{}"),
        line("case-m1", "Transferred", w, &to("d/center")),
        line("case-m2", "Submitted", t, sub),
        line("case-m2", "RejectedAtIntake", t, r#"{"reason":"r"}"#),
        line("case-m2", "Accepted", w, "{}"),
        line("case-m3", "Submitted", t, sub),
        line("case-m3", "Withdrawn", t, r#"{"reason":"r"}"#),
        line("case-m3", "Accepted", w, "{}"),
        line("case-m3", "Transferred", t, &to(w)),
        line("case-m4", "Submitted", v, sub),
        line("case-m4", "Concluded", v, "{}"),
        line("case-m4", "Accepted", t, "{}"),
    ];
    lines
        .iter()
        .enumerate()
        .map(|(n, l)| jiancha_events::parse_line(n + 1, l).unwrap())
        .collect()
}

/// Appends `events` to a fresh log and checks, after every case event, that the store's rule
/// of who answers for the case names the org the projections' case fold names.
async fn same_owner_as_the_fold(events: Vec<NewEvent>, what: &str) {
    let start = chrono::DateTime::parse_from_rfc3339("2026-03-02T10:00:00+08:00").unwrap();
    let clock = ManualClock::new(start.to_utc());
    let store = jiancha_store::open("memory:", Arc::new(clock))
        .await
        .unwrap();
    store.append(events).await.unwrap();
    let mut projections = Projections::default();
    let mut owners: HashMap<String, CaseOwner> = HashMap::new();
    let mut checked = 0;
    let mut pages = store.pages(0);
    while let Some(page) = pages.next().await.unwrap() {
        for e in &page {
            projections.apply(e);
            let Some(case) = projections.case(&e.stream) else {
                continue;
            };
            let owner = match &e.data {
                EventData::Submitted(_) => owners
                    .entry(e.stream.clone())
                    .insert_entry(CaseOwner::submitted_by(&e.org))
                    .into_mut(),
                data => {
                    let owner = owners.get_mut(&e.stream).unwrap();
                    owner.apply(OwnerMove::of(data, &e.org));
                    owner
                }
            };
            assert_eq!(&**case.org(), owner.accountable(), "{what}: {e:?}");
            checked += 1;
        }
    }
    assert!(checked > 10, "{what}: only {checked} case events");
}

/// The store's rule of who answers for a case is the case fold's own, over simulated districts
/// (town intakes transferring to departments, refusals, withdrawals) and hand-made cases.
#[test]
fn the_stores_owner_rule_is_the_case_folds() {
    runtime().block_on(async {
        same_owner_as_the_fold(moving_cases(), "hand-made").await;
        for seed in 1..=3 {
            let events = jiancha_sim::events(&jiancha_sim::SimConfig::new(300, seed))
                .unwrap()
                .map(|e| e.unwrap().event)
                .collect();
            same_owner_as_the_fold(events, &format!("seed {seed}")).await;
        }
    });
}

/// `jiancha simulate ARGS` on its own: its standard output.
fn simulate(args: &[&str]) -> String {
    let out = jiancha().arg("simulate").args(args).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The README's tour: the example district in the default log, then a simulated district piped
/// in. The simulator numbers its cases as the example does, so the second import would append
/// simulated events to the example's cases; it is refused, naming the line and the case, and
/// writes nothing. The tour as the README gives it keeps the simulated district in a log of its
/// own, where it imports and answers.
#[test]
fn the_readme_tour_does_not_merge_simulated_cases_into_the_example() {
    let ws = Workspace::new();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/district.jsonl");
    let r = ws.run(&["import", example], "");
    assert_eq!(r.code, 0, "{r:?}");
    let before = ws.export();
    let simulated = simulate(&["--cases", "1000", "--seed", "7"]);
    let merged = ws.run(&["import", "-"], &simulated);
    assert_eq!(merged.code, 2, "{merged:?}");
    assert!(merged.stdout.is_empty(), "{merged:?}");
    let first = merged.stderr.lines().next().unwrap_or_default();
    let (line, rest) = first
        .strip_prefix("line ")
        .and_then(|l| l.split_once(": type: "))
        .unwrap_or_else(|| panic!("{merged:?}"));
    let line: usize = line.parse().unwrap();
    let case = rest.split(' ').next().unwrap();
    assert!(
        rest.ends_with("was already submitted: a case stream holds one Submitted, its first event; choose another case id"),
        "{first}"
    );
    let refused: Value = serde_json::from_str(simulated.lines().nth(line - 1).unwrap()).unwrap();
    assert_eq!(
        (refused["stream"].as_str(), refused["type"].as_str()),
        (Some(case), Some("Submitted"))
    );
    assert!(
        before.contains(&format!("\"stream\":\"{case}\"")),
        "{case} is the example's"
    );
    assert_eq!(ws.export(), before, "nothing was imported");

    // The tour: `export JIANCHA_DB=sqlite://simulated.db`, then the simulated district.
    let tour = |args: &[&str], stdin: &str| -> Run {
        let mut command = jiancha();
        command
            .env("JIANCHA_DB", "sqlite://simulated.db")
            .current_dir(ws.dir.path())
            .args(args);
        with_stdin(command, stdin).into()
    };
    let imported = tour(&["import", "-"], &simulated);
    assert_eq!(imported.code, 0, "{imported:?}");
    let shown = tour(
        &["case", "show", "case-2026-000102", "--now", "2026-04-30"],
        "",
    );
    assert_eq!(shown.code, 0, "{shown:?}");
    let alerts = tour(
        &[
            "alerts",
            "--open",
            "--org",
            "jiangjin/town-07",
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(alerts.code, 0, "{alerts:?}");
    assert_eq!(ws.export(), before, "the default log is left alone");
}
