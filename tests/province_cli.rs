//! Districts side by side in one PostgreSQL database (a schema each, chosen with `--district`):
//! two simulated districts never see each other's events, alerts or ledger — each verifies with
//! its own head, byte for byte the head of the same events alone in SQLite — `province report`
//! rolls their ledgers up (a row per district equal to its own report's root row, a total of
//! the sums), and over HTTP a district's unit token sees its own district only while a
//! province token gets the roll-up and nothing else.
//!
//! Like `postgres_cli`, the tests need the server `JIANCHA_TEST_PG` names and fail when it is
//! unreachable; each district is a fresh schema, dropped afterwards.

use std::sync::Arc;
use std::time::Instant;

use jiancha_server::{token_hash, App, Auth, ServerConfig};
use serde_json::Value;

use crate::loopback::serve_on_loopback;
use crate::postgres_cli::{base_url, PgLog};
use crate::server_api::get_json;
use crate::support::*;

/// The frozen clock of every write and the instant of every read.
const CLOCK: &str = "2026-06-30T12:00:00+08:00";
const PERIOD: &str = "2026-Q1";

/// Two districts (seeds 1 and 2) in one database, and district A's events alone in SQLite.
struct Province {
    ws: Workspace,
    a: PgLog,
    b: PgLog,
    events_a: String,
}

impl Province {
    fn new() -> Province {
        let ws = Workspace::new();
        let (a, b) = (PgLog::new("pra"), PgLog::new("prb"));
        let mut events_a = String::new();
        for (seed, log) in [("1", &a), ("2", &b)] {
            let sim = ws.run(&["simulate", "--cases", "200", "--seed", seed], "");
            assert_eq!(sim.code, 0, "{sim:?}");
            let r = ws.run_env(
                &base_url(),
                &[("JIANCHA_CLOCK", CLOCK)],
                &["--district", log.schema(), "import", "-"],
                &sim.stdout,
            );
            assert_eq!(r.code, 0, "{r:?}");
            if seed == "1" {
                events_a = sim.stdout;
            }
        }
        let alone = ws.run_at(CLOCK, &["import", "-"], &events_a);
        assert_eq!(alone.code, 0, "{alone:?}");
        Province { ws, a, b, events_a }
    }

    /// `jiancha --db <database> --district LOG ARGS`.
    fn district(&self, log: &PgLog, args: &[&str]) -> Run {
        let mut all = vec!["--district", log.schema()];
        all.extend_from_slice(args);
        self.database(&all)
    }

    /// `jiancha --db <database> ARGS`.
    fn database(&self, args: &[&str]) -> Run {
        self.ws
            .run_env(&base_url(), &[("JIANCHA_CLOCK", CLOCK)], args, "")
    }

    /// `jiancha --db <A alone in SQLite> ARGS`.
    fn alone(&self, args: &[&str]) -> Run {
        self.ws.run_at(CLOCK, args, "")
    }

    fn province_report(&self, format: &str) -> Run {
        self.province_report_with(format, &[])
    }

    /// `province report` of both districts at [`CLOCK`], with `extra` flags.
    fn province_report_with(&self, format: &str, extra: &[&str]) -> Run {
        let districts = format!("{},{}", self.b.schema(), self.a.schema());
        let mut args = vec![
            "province",
            "report",
            "--period",
            PERIOD,
            "--districts",
            &districts,
            "--now",
            CLOCK,
            "--format",
            format,
        ];
        args.extend_from_slice(extra);
        self.database(&args)
    }
}

fn ok(r: Run) -> String {
    assert_eq!(r.code, 0, "{r:?}");
    r.stdout
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// The head hash `verify` prints.
fn head(verify: &str) -> String {
    assert!(verify.starts_with("ok: "), "{verify}");
    verify
        .split("head ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// The integer columns of a report row.
const COUNTS: [&str; 23] = [
    "accepted",
    "concluded",
    "on_time",
    "early",
    "statutory_on_time",
    "overdue_open",
    "yellow",
    "red",
    "rated",
    "satisfied",
    "bad_rated",
    "complaints",
    "warnings",
    "unmonitored",
    "ordered",
    "corrected_on_time",
    "correction_overdue",
    "bad_valid",
    "rectified_on_time",
    "callback_satisfied",
    "defaulted",
    "complaints_upheld",
    "complaints_late",
];

#[test]
fn two_districts_in_one_database_never_see_each_other() {
    let p = Province::new();
    // Each district's chain is its own: the head of A's events alone, not B's.
    let (head_a, head_b) = (
        head(&ok(p.district(&p.a, &["verify"]))),
        head(&ok(p.district(&p.b, &["verify"]))),
    );
    assert_eq!(head_a, head(&ok(p.alone(&["verify"]))));
    assert_ne!(head_a, head_b);
    // The export and the alerts of A are those of A's events alone, byte for byte.
    let export_a = ok(p.district(&p.a, &["export"]));
    assert_eq!(export_a, ok(p.alone(&["export"])));
    assert_eq!(export_a.lines().count(), p.events_a.lines().count());
    assert!(!export_a.contains("\"sim-2-"), "B's events in A's export");
    assert!(ok(p.district(&p.b, &["export"])).contains("\"sim-2-"));
    assert!(!ok(p.district(&p.b, &["export"])).contains("\"sim-1-"));
    let alerts = ["alerts", "--now", CLOCK, "--format", "json"];
    let alerts_a = ok(p.district(&p.a, &alerts));
    assert_eq!(alerts_a, ok(p.alone(&alerts)));
    assert_ne!(alerts_a, ok(p.district(&p.b, &alerts)));
    // The ledger too: A's report is the report of A's events alone.
    let report = [
        "report", "--period", PERIOD, "--depth", "1", "--now", CLOCK, "--format", "json",
    ];
    let report_a = ok(p.district(&p.a, &report));
    assert_eq!(report_a, ok(p.alone(&report)));
    let report_b = ok(p.district(&p.b, &report));
    assert_ne!(report_a, report_b);

    // The roll-up: a row per district, by name, equal to its own report's root row.
    let started = Instant::now();
    let rolled = json(&ok(p.province_report("json")));
    eprintln!(
        "province report of 2 districts ({} + {} events): {:?}",
        export_a.lines().count(),
        ok(p.district(&p.b, &["export"])).lines().count(),
        started.elapsed()
    );
    // The districts' case indexes give what a replay of their logs gives.
    let replayed = ok(p.province_report_with("json", &["--replay"]));
    assert_eq!(
        json(&replayed),
        rolled,
        "the roll-up from the indexes and from a replay"
    );
    let rows = rolled["districts"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for (row, (log, own)) in rows.iter().zip([(&p.a, &report_a), (&p.b, &report_b)]) {
        assert_eq!(row["district"], log.schema());
        let own = json(own);
        let root = own["rows"].as_array().unwrap();
        assert_eq!(root.len(), 1, "one root org: {own}");
        let mut row = row.clone();
        row.as_object_mut().unwrap().remove("district");
        assert_eq!(row, root[0], "{}", log.schema());
    }
    // The total: the sums of the counts, the rates recomputed from the sums.
    let total = &rolled["total"];
    for field in COUNTS {
        let sum: i64 = rows.iter().map(|r| r[field].as_i64().unwrap()).sum();
        assert_eq!(total[field].as_i64(), Some(sum), "{field}");
    }
    for (rate, num, den) in [
        ("on_time_rate", "on_time", "concluded"),
        ("satisfaction_rate", "satisfied", "rated"),
        ("early_rate", "early", "concluded"),
    ] {
        let recomputed = jiancha_projections::report::rate(
            total[num].as_i64().unwrap(),
            total[den].as_i64().unwrap(),
        )
        .map(|r| r.parse::<f64>().unwrap());
        assert_eq!(total[rate].as_f64(), recomputed, "{rate}");
    }
    let accepted: Vec<i64> = rows
        .iter()
        .map(|r| r["accepted"].as_i64().unwrap())
        .collect();
    assert!(accepted.iter().all(|n| *n > 0), "{accepted:?}");
    let scores: Vec<f64> = rows.iter().map(|r| r["score"].as_f64().unwrap()).collect();
    let score = total["score"].as_f64().unwrap();
    let (low, high) = (scores[0].min(scores[1]), scores[0].max(scores[1]));
    assert!((low..=high).contains(&score), "{score} outside {scores:?}");
    let csv = ok(p.province_report("csv"));
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.lines().last().unwrap().starts_with("total,"), "{csv}");
    assert!(ok(p.province_report("table")).contains("total"));
    // Read only: the chains and the exports are as they were.
    assert_eq!(head(&ok(p.district(&p.a, &["verify"]))), head_a);
    assert_eq!(ok(p.district(&p.a, &["export"])), export_a);
}

#[test]
fn a_district_is_a_plain_identifier_of_a_postgresql_database() {
    let ws = Workspace::new();
    let pg = base_url();
    for bad in ["7a", "District", "a-b", "a;drop", ""] {
        let r = ws.run_db(&pg, &["--district", bad, "verify"], "");
        assert_eq!(r.code, 2, "{bad}: {r:?}");
        assert!(
            r.stderr.contains("not a plain lowercase identifier"),
            "{bad}: {r:?}"
        );
    }
    let r = ws.run(&["--district", "a", "verify"], "");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("its own file"), "{r:?}");
    let other = format!("{pg}?options=-c%20search_path%3Dother");
    let r = ws.run_db(&other, &["--district", "a", "verify"], "");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("\"other\""), "{r:?}");
    // A reading command never creates a district.
    let r = ws.run_db(
        &pg,
        &[
            "province",
            "report",
            "--period",
            PERIOD,
            "--districts",
            "no_such_district_here",
        ],
        "",
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no district"), "{r:?}");
    let r = ws.run(
        &["province", "report", "--period", PERIOD, "--districts", "a"],
        "",
    );
    assert_eq!(r.code, 2, "{r:?}");
}

const UNIT: &str = "unit-of-a";
const STRANGER_UNIT: &str = "unit-of-a-elsewhere";
const PROVINCE: &str = "province-a-b";
const PROVINCE_B: &str = "province-b";

fn auth(a: &str, b: &str) -> Auth {
    Auth::parse(&format!(
        "[[token]]\nname = \"u\"\nrole = \"unit\"\norg = \"jiangjin\"\nsha256 = \"{}\"\n\n\
         [[token]]\nname = \"s\"\nrole = \"unit\"\norg = \"jiangjin/nowhere\"\nsha256 = \"{}\"\n\n\
         [[token]]\nname = \"p\"\nrole = \"province\"\ndistricts = [\"{a}\", \"{b}\"]\nsha256 = \"{}\"\n\n\
         [[token]]\nname = \"pb\"\nrole = \"province\"\ndistricts = [\"{b}\"]\nsha256 = \"{}\"\n",
        token_hash(UNIT),
        token_hash(STRANGER_UNIT),
        token_hash(PROVINCE),
        token_hash(PROVINCE_B),
    ))
    .unwrap()
}

#[test]
fn over_http_a_unit_sees_its_district_and_a_province_token_only_the_roll_up() {
    let p = Province::new();
    let case = "case-2026-000001";
    let history = |log: &PgLog| {
        json(&ok(p.district(
            log,
            &["history", case, "--as-of", CLOCK, "--format", "json"],
        )))["events"]
            .clone()
    };
    let (history_a, history_b) = (history(&p.a), history(&p.b));
    assert_ne!(history_a, history_b);
    let rolled = json(&ok(p.province_report("json")));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let clock = jiancha_store::ManualClock::new(
            chrono::DateTime::parse_from_rfc3339(CLOCK)
                .unwrap()
                .to_utc(),
        );
        let store = jiancha_store::open(&p.a.url(), Arc::new(clock.clone()))
            .await
            .unwrap();
        let config = ServerConfig {
            auth: Some(auth(p.a.schema(), p.b.schema())),
            province_db: Some(base_url()),
            ..ServerConfig::default()
        };
        let app = App::start(store.clone(), Arc::new(clock), config)
            .await
            .unwrap();
        let (addr, stop, task) = serve_on_loopback(app).await;
        let base = format!("http://{addr}");
        let get = |token: &'static str, path: String| {
            let url = format!("{base}{path}");
            async move { get_json(&url, Some(token)).await }
        };
        // The unit of district A reads A's case, never B's version of the same id.
        let (status, body) = get(
            UNIT,
            format!(
                "/api/v1/cases/{case}/history?as_of={}",
                CLOCK.replace('+', "%2B")
            ),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["events"], history_a);
        let (status, _) = get(STRANGER_UNIT, format!("/api/v1/cases/{case}")).await;
        assert_eq!(status, 404);
        let roll_up = format!(
            "/api/v1/province/reports?period={PERIOD}&districts={},{}&now={}",
            p.b.schema(),
            p.a.schema(),
            CLOCK.replace('+', "%2B")
        );
        assert_eq!(get(UNIT, roll_up.clone()).await.0, 403);
        // The province token: the roll-up, the CLI's very document; nothing of a district.
        let (status, body) = get(PROVINCE, roll_up.clone()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, rolled);
        for path in [
            "/api/v1/cases".to_owned(),
            format!("/api/v1/cases/{case}"),
            format!("/api/v1/cases/{case}/history"),
            "/api/v1/alerts".to_owned(),
            format!("/api/v1/reports?period={PERIOD}"),
            "/api/v1/orders".to_owned(),
            "/api/v1/overview".to_owned(),
            "/api/v1/insights".to_owned(),
        ] {
            let (status, body) = get(PROVINCE, path.clone()).await;
            assert_eq!(status, 403, "{path}: {body}");
        }
        // A province token asks only for the districts it lists.
        let (status, body) = get(PROVINCE_B, roll_up).await;
        assert_eq!(status, 403, "{body}");
        let only_b = format!(
            "/api/v1/province/reports?period={PERIOD}&districts={}",
            p.b.schema()
        );
        assert_eq!(get(PROVINCE_B, only_b).await.0, 200);
        // An empty entry is refused as the command line refuses it, never dropped.
        for list in [format!("{},", p.b.schema()), format!(",{}", p.b.schema())] {
            let path = format!("/api/v1/province/reports?period={PERIOD}&districts={list}");
            let (status, body) = get(PROVINCE_B, path).await;
            assert_eq!(status, 400, "{list}: {body}");
            assert_eq!(body["field"], "districts", "{body}");
        }
        let _ = stop.send(());
        task.await.unwrap().unwrap();
        store.close().await;
    });
}

/// Another process with the district `name` open: a connection named as a jiancha process
/// on another machine names its connections to it, followed by `given` (the name its URL gave),
/// for 30 s unless killed.
fn hold_district(name: &str, given: &str) -> std::process::Child {
    let separator = if base_url().contains('?') { '&' } else { '?' };
    let tag = jiancha_store::postgres::district_tag(name);
    let other = std::process::Command::new("psql")
        .arg(format!(
            "{}{separator}application_name=jiancha%20{}-elsewhere%20{tag}%20{name}{given}",
            base_url(),
            std::process::id()
        ))
        .args(["-tAc", "SELECT pg_sleep(30)"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    other
}

/// Drops the schema `name` of the test database, if it exists.
fn drop_schema(name: &str) {
    let dropped = std::process::Command::new("psql")
        .args([&base_url(), "-tAc"])
        .arg(format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
        .status()
        .unwrap();
    assert!(dropped.success());
}

/// Whether the schema `name` exists in the test database.
fn schema_exists(name: &str) -> bool {
    let out = std::process::Command::new("psql")
        .args([&base_url(), "-tAc"])
        .arg(format!("SELECT to_regnamespace('{name}') IS NOT NULL"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).trim() == "t"
}

/// A refused import into a district it would create leaves no district behind (a later read
/// still says there is none); a district whose log holds nothing is refused by the roll-up
/// instead of being counted as one with nothing to report.
#[test]
fn a_refused_import_creates_no_district_and_an_empty_one_is_not_rolled_up() {
    let ws = Workspace::new();
    let typo = format!("jiancha_e2e_typo_{}", std::process::id());
    let bad = "{\"stream\":\"case-1\",\"type\":\"Bogus\"}\n";
    let roll_up = |districts: &str| {
        let args = [
            "province",
            "report",
            "--period",
            PERIOD,
            "--districts",
            districts,
        ];
        ws.run_db(&base_url(), &args, "")
    };
    let r = ws.run_db(&base_url(), &["--district", &typo, "import", "-"], bad);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        !schema_exists(&typo),
        "the refused import left {typo} behind"
    );
    let r = roll_up(&typo);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no district"), "{r:?}");
    // An import with nothing in it creates no district either.
    let r = ws.run_db(&base_url(), &["--district", &typo, "import", "-"], "");
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("imported 0 events"), "{r:?}");
    assert!(!schema_exists(&typo), "the empty import left {typo} behind");
    // A new district another process has open (a server started on it meanwhile) is kept:
    // dropping it would take the tables from under that process.
    let open = format!("jiancha_e2e_open_{}", std::process::id());
    let mut other = hold_district(&open, "");
    let r = ws.run_db(&base_url(), &["--district", &open, "import", "-"], bad);
    let kept = schema_exists(&open);
    other.kill().unwrap();
    other.wait().unwrap();
    drop_schema(&open);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(kept, "the district another process had open was dropped");
    // A schema made beforehand is the operator's: kept, with the empty log the import left.
    let made = PgLog::new("empty");
    let r = ws.run_db(
        &base_url(),
        &["--district", made.schema(), "import", "-"],
        bad,
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(schema_exists(made.schema()));
    let r = roll_up(made.schema());
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("holds an empty log"), "{r:?}");
    // A district name PostgreSQL keeps for itself is the user's mistake, not the server's.
    let r = ws.run_db(&base_url(), &["--district", "pg_audit", "import", "-"], bad);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("pg_"), "{r:?}");
    // The same in the URL's search_path.
    let separator = if base_url().contains('?') { '&' } else { '?' };
    let in_url = format!(
        "{}{separator}options=-c%20search_path%3Dpg_audit",
        base_url()
    );
    let r = ws.run_db(&in_url, &["import", "-"], bad);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("begins with pg_"), "{r:?}");
}

/// The drop of a refused import's new district counts the processes on exactly that district:
/// one whose URL gives its own application name still names its district first (so it is
/// counted), and one on a district whose name begins the new one's is not (before, a server on
/// `d1` kept a refused `d10`). A URL's `search_path` names one schema, set once.
#[test]
fn a_district_drop_counts_the_processes_on_that_district_alone() {
    let ws = Workspace::new();
    let bad = "{\"stream\":\"case-1\",\"type\":\"Bogus\"}\n";
    let separator = if base_url().contains('?') { '&' } else { '?' };
    let base = format!("jiancha_e2e_pre_{}", std::process::id());
    // Another process on `base` (its name followed by the one its URL gave).
    let mut other = hold_district(&base, "%20bureau");
    let longer = format!("{base}0");
    let refused_longer = ws.run_db(&base_url(), &["--district", &longer, "import", "-"], bad);
    let longer_kept = schema_exists(&longer);
    let refused_base = ws.run_db(&base_url(), &["--district", &base, "import", "-"], bad);
    let base_kept = schema_exists(&base);
    other.kill().unwrap();
    other.wait().unwrap();
    for schema in [&base, &longer] {
        drop_schema(schema);
    }
    assert_eq!(refused_longer.code, 2, "{refused_longer:?}");
    assert!(
        !longer_kept,
        "a process on {base} kept the refused {longer}"
    );
    assert_eq!(refused_base.code, 2, "{refused_base:?}");
    assert!(
        base_kept,
        "the district a process named with its own name had open was dropped"
    );

    // A search_path of two schemas, or set twice, is refused before anything is made: the
    // log is one schema, and PostgreSQL would read another than the messages name.
    let existing = PgLog::new("second");
    let first = format!("jiancha_e2e_first_{}", std::process::id());
    let sim = ws.run(&["simulate", "--cases", "2", "--seed", "1"], "");
    for options in [
        format!("-c%20search_path%3D{first}%2C{}", existing.schema()),
        format!(
            "-c%20search_path%3D{first}%20-c%20search_path%3D{}",
            existing.schema()
        ),
    ] {
        let url = format!("{}{separator}options={options}", base_url());
        let r = ws.run_db(&url, &["import", "-"], &sim.stdout);
        let reading = ws.run_db(&url, &["verify"], "");
        let first_made = schema_exists(&first);
        drop_schema(&first);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("search_path"), "{r:?}");
        assert_eq!(reading.code, 2, "{reading:?}");
        assert!(!first_made, "{options}: a schema was made");
        let in_existing = ws.run_db(
            &base_url(),
            &["--district", existing.schema(), "export"],
            "",
        );
        assert_eq!(in_existing.code, 2, "{in_existing:?}");
        assert!(
            in_existing.stderr.contains("holds none"),
            "{options}: a log went into the second schema: {in_existing:?}"
        );
    }
}

/// How many connections carry the district tag of `schema` in their application name.
fn tagged_connections(schema: &str) -> u32 {
    let out = std::process::Command::new("psql")
        .args([&base_url(), "-tAc"])
        .arg(format!(
            "SELECT count(*) FROM pg_stat_activity WHERE split_part(application_name, ' ', 3) \
             = '{}'",
            jiancha_store::postgres::district_tag(schema)
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// The schema is the one PostgreSQL reads from the connection's search path, in whatever
/// spelling it was set (`SEARCH_PATH`, a backslash before a space): a process names its
/// connections by it (so the drop of a refused district counts it), and a path PostgreSQL reads
/// as two schemas is refused before anything is made, for reading commands too.
#[test]
fn the_schema_is_the_one_postgresql_reads_from_the_search_path() {
    let ws = Workspace::new();
    let separator = if base_url().contains('?') { '&' } else { '?' };
    let upper = format!("jiancha_e2e_upper_{}", std::process::id());
    let url = format!(
        "{}{separator}options=-c%20SEARCH_PATH%3D{upper}",
        base_url()
    );
    // An import waiting on its input holds the district open.
    let mut held = jiancha()
        .args(["--db", &url, "import", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut tagged = 0;
    for _ in 0..100 {
        tagged = tagged_connections(&upper);
        if tagged > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    drop(held.stdin.take());
    let status = held.wait().unwrap();
    drop_schema(&upper);
    assert!(status.success(), "{status:?}");
    assert!(tagged > 0, "no connection named by {upper}'s tag");

    // `a\ ,b` is two schemas to PostgreSQL: refused, and nothing made.
    let existing = PgLog::new("escaped");
    let missing = format!("jiancha_e2e_escaped_{}", std::process::id());
    let url = format!(
        "{}{separator}options=-c%20search_path%3D{missing}%5C%20%2C{}",
        base_url(),
        existing.schema()
    );
    let sim = ws.run(&["simulate", "--cases", "2", "--seed", "1"], "");
    let reading = ws.run_db(&url, &["verify"], "");
    let writing = ws.run_db(&url, &["import", "-"], &sim.stdout);
    let made = schema_exists(&missing) || schema_exists(&format!("{missing}\\"));
    assert_eq!(reading.code, 2, "{reading:?}");
    assert_eq!(writing.code, 2, "{writing:?}");
    assert!(writing.stderr.contains("2 schemas"), "{writing:?}");
    assert!(!made, "a schema was made");
}
