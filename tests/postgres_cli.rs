//! The binary on PostgreSQL: a log moved from SQLite to PostgreSQL and back through `export |
//! import` keeps its head hash and every byte, every reading command answers the same on both,
//! two importing processes share one log, and an import killed with SIGKILL leaves nothing or
//! everything.
//!
//! Each test has a fresh schema of the server `JIANCHA_TEST_PG` names (default
//! `postgres://postgres@127.0.0.1:5432/test`), dropped afterwards; an unreachable server fails
//! the test with a message saying so.

use std::process::{Child, Stdio};
use std::time::Duration;

use sqlx::Connection;

use crate::support::*;

const PG_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn base_url() -> String {
    std::env::var("JIANCHA_TEST_PG").unwrap_or_else(|_| PG_DEFAULT.to_owned())
}

/// Runs SQL on the test server, or says the server is unreachable.
fn run_sql(sql: &str) -> Result<(), String> {
    let url = base_url();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?
        .block_on(async {
            let mut conn = sqlx::PgConnection::connect(&url)
                .await
                .map_err(|e| format!("PostgreSQL at {url} is unreachable ({e})"))?;
            sqlx::raw_sql(sql)
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            Ok(())
        })
}

/// A fresh schema for one test's log, dropped with the guard.
pub struct PgLog {
    schema: String,
}

impl PgLog {
    pub fn new(tag: &str) -> PgLog {
        use std::hash::{BuildHasher, Hasher};
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let schema = format!(
            "jiancha_e2e_{tag}_{}_{:x}",
            std::process::id(),
            random & 0xffff_ffff
        );
        if let Err(e) = run_sql(&format!("CREATE SCHEMA {schema}")) {
            panic!("{e}: the PostgreSQL tests need a server (.ci/run starts one; JIANCHA_TEST_PG names another); they never skip");
        }
        PgLog { schema }
    }

    /// The schema's name (a plain lowercase identifier: a district's name).
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The log's URL: the server's, with the schema as the search path.
    pub fn url(&self) -> String {
        let base = base_url();
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}options=-c%20search_path%3D{}", self.schema)
    }
}

impl Drop for PgLog {
    fn drop(&mut self) {
        if let Err(e) = run_sql(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema)) {
            eprintln!("could not drop test schema {}: {e}", self.schema);
        }
    }
}

/// `jiancha --db FROM export | jiancha --db TO import`, two processes joined by a pipe; returns
/// the importer's run.
fn pipe(ws: &Workspace, from: &str, to: &str) -> Run {
    let mut export = jiancha()
        .args(["--db", from, "export"])
        .current_dir(ws.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let import = jiancha()
        .args(["--db", to, "import", "-"])
        .current_dir(ws.dir.path())
        .stdin(export.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let run: Run = import.wait_with_output().unwrap().into();
    let exported: Run = export.wait_with_output().unwrap().into();
    assert_eq!(exported.code, 0, "{exported:?}");
    run
}

/// A log with every event type (the catalogue) and a simulated district of a few thousand
/// events, so the import crosses several chunks. The district starts in 2025: its case ids
/// (`case-2025-…`) must not be the catalogue's, since a case is submitted once.
fn sample_log(ws: &Workspace) {
    let (text, appeal) = catalogue_input();
    assert_eq!(ws.run(&["import"], &text).code, 0);
    let r = ws.run(&["import"], &appeal);
    assert_eq!(r.code, 0, "{r:?}");
    let sim = ws.run(
        &[
            "simulate",
            "--cases",
            "300",
            "--seed",
            "7",
            "--start",
            "2025-01-06",
        ],
        "",
    );
    assert_eq!(sim.code, 0, "{sim:?}");
    let r = ws.run(&["import"], &sim.stdout);
    assert_eq!(r.code, 0, "{r:?}");
}

/// `verify`'s lines about the log itself (its count, head and checkpoints): the case index
/// line is the database's own cache, built where a question at an instant was asked.
fn verified(ws: &Workspace, db: &str) -> String {
    let r = ws.run_db(db, &["verify"], "");
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("ok: "), "{r:?}");
    let index = r.stdout.lines().filter(|l| l.starts_with("index")).count();
    assert_eq!(index, 1, "one line for the case index: {r:?}");
    // The verdict without the lines that differ by store: the index's, and the one naming
    // the log.
    r.stdout
        .lines()
        .filter(|l| !l.starts_with("index") && !l.starts_with("log: "))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn a_log_moved_to_postgres_and_back_keeps_its_head_hash_and_every_byte() {
    let ws = Workspace::new();
    let pg = PgLog::new("move");
    sample_log(&ws);
    let export = ws.export();
    assert!(export.lines().count() > 2 * jiancha_store::IMPORT_CHUNK_EVENTS);

    let r = pipe(&ws, &ws.db(), &pg.url());
    assert_eq!(r.code, 0, "{r:?}");
    let on_pg = ws.run_db(&pg.url(), &["export"], "");
    assert_eq!(
        on_pg.stdout, export,
        "every field of every event, byte for byte"
    );
    assert_eq!(verified(&ws, &pg.url()), verified(&ws, &ws.db()));

    // Every reading command answers the same on both.
    for args in [
        &["alerts", "--format", "json", "--now", "2026-06-30"][..],
        &[
            "case",
            "show",
            "case-2026-000124",
            "--format",
            "json",
            "--now",
            "2026-06-30",
        ][..],
        &["export", "--from", "100"][..],
    ] {
        let a = ws.run(args, "");
        let b = ws.run_db(&pg.url(), args, "");
        assert_eq!(a.code, 0, "{args:?}: {a:?}");
        assert_eq!((a.code, &a.stdout), (b.code, &b.stdout), "{args:?}");
    }

    // A retried move appends nothing: the ids the log assigned are found by position.
    let again = pipe(&ws, &ws.db(), &pg.url());
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.starts_with("imported 0 events\n"), "{again:?}");

    // And back into a new SQLite file.
    let back = format!("sqlite://{}", ws.path("back.db").display());
    let r = pipe(&ws, &pg.url(), &back);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(ws.run_db(&back, &["export"], "").stdout, export);
    assert_eq!(verified(&ws, &back), verified(&ws, &ws.db()));
}

fn import_child(ws: &Workspace, db: &str, file: &std::path::Path) -> Child {
    jiancha()
        .arg("--db")
        .arg(db)
        .arg("import")
        .arg(file)
        .current_dir(ws.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn two_processes_importing_at_once_both_land_whole() {
    let ws = Workspace::new();
    let pg = PgLog::new("two");
    let a = ws.path("a.jsonl");
    let n = big_file(&a, 2_000, 2);
    // The same shape with other streams and ids.
    let b = ws.path("b.jsonl");
    let text = std::fs::read_to_string(&a)
        .unwrap()
        .replace("case-2026-", "case-2027-")
        .replace("\"big-", "\"other-");
    std::fs::write(&b, text).unwrap();
    let children = [
        import_child(&ws, &pg.url(), &a),
        import_child(&ws, &pg.url(), &b),
    ];
    let mut ranges = Vec::new();
    for child in children {
        let r: Run = child.wait_with_output().unwrap().into();
        assert_eq!(r.code, 0, "{r:?}");
        ranges.push(r.stdout);
    }
    // One after the other, each whole: 1..n and n+1..2n in some order.
    ranges.sort();
    let first = format!("imported {n} events (positions 1..{n})\n");
    let second = format!("imported {n} events (positions {}..{})\n", n + 1, 2 * n);
    let mut want = vec![first, second];
    want.sort();
    assert_eq!(ranges, want);
    assert!(verified(&ws, &pg.url()).starts_with(&format!("ok: {} events", 2 * n)));
}

fn head_position(ws: &Workspace, db: &str) -> u64 {
    let out = verified(ws, db);
    out.trim_start_matches("ok: ")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_killed_import_into_postgres_leaves_nothing_or_everything() {
    let ws = Workspace::new();
    let pg = PgLog::new("kill");
    assert_eq!(
        ws.run_db(
            &pg.url(),
            &["import"],
            &format!("{}\n", submitted("case-base"))
        )
        .code,
        0
    );
    let file = ws.path("big.jsonl");
    let total = big_file(&file, 20_000, 2) as u64;
    // Delays from before the first write to after the commit, reproducible (an LCG).
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut outcomes = Vec::new();
    for round in 0..4 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay_ms = 50 + (seed >> 33) % (300 + round * 400);
        let before = head_position(&ws, &pg.url());
        let mut child = import_child(&ws, &pg.url(), &file);
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        let after = head_position(&ws, &pg.url());
        assert!(
            after == before || after == before + total,
            "round {round} (killed after {delay_ms} ms): {before} -> {after}, a partial import"
        );
        outcomes.push(after - before);
    }
    // The log takes appends right after the last position: no gap was left.
    let r = ws.run_db(&pg.url(), &["import", file.to_str().unwrap()], "");
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        head_position(&ws, &pg.url()),
        1 + total,
        "outcomes per round: {outcomes:?}"
    );
}

#[test]
fn an_unreachable_server_is_an_infrastructure_failure() {
    let ws = Workspace::new();
    let r = ws.run_db("postgres://postgres@127.0.0.1:1/nowhere", &["verify"], "");
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stderr.contains("cannot open the event log"), "{r:?}");
}

/// A reading command on a district (schema) that holds no log is refused, naming it, and
/// creates nothing: a mistyped district never answers "0 alerts". The password of the URL is
/// never shown.
#[test]
fn a_reading_command_on_a_district_without_a_log_is_refused() {
    let ws = Workspace::new();
    let pg = PgLog::new("nolog");
    for args in [
        &["verify"][..],
        &["alerts", "--open"],
        &["report", "--period", "2026-03"],
    ] {
        let r = ws.run_db(&pg.url(), args, "");
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains("no event log in"), "{r:?}");
    }
    let created = std::process::Command::new("psql")
        .args([&base_url(), "-tAc"])
        .arg(format!(
            "SELECT to_regclass('{}.events') IS NOT NULL",
            pg.schema()
        ))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&created.stdout).trim(), "f");
    let r = ws.run_db(
        "postgres://postgres:s3cret@127.0.0.1:1/nowhere",
        &["verify"],
        "",
    );
    assert_eq!(r.code, 3, "{r:?}");
    assert!(!r.stderr.contains("s3cret"), "{r:?}");
}

/// A process of an earlier build, still running beside this one, moves the case index's
/// position without its fold format (it knows no such column): this build then reads the index
/// as another fold's — `verify` says so instead of comparing it — and builds it again at its
/// next question at an instant, whose answer equals the replay's.
#[test]
fn an_index_moved_by_an_earlier_build_is_built_again() {
    let ws = Workspace::new();
    sample_log(&ws);
    let log = PgLog::new("fold");
    let moved = pipe(&ws, &ws.db(), &log.url());
    assert_eq!(moved.code, 0, "{moved:?}");
    let alerts = |extra: &[&str]| {
        let mut args = vec![
            "alerts",
            "--now",
            "2025-03-01T12:00:00+08:00",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let r = ws.run_db(&log.url(), &args, "");
        assert_eq!(r.code, 0, "{r:?}");
        r.stdout
    };
    let replayed = alerts(&["--replay"]);
    assert_eq!(alerts(&[]), replayed);
    // What an earlier build's checkpoint writes: the position and the globals, nothing else.
    run_sql(&format!(
        "UPDATE {}.case_index_state SET position = position - 1",
        log.schema()
    ))
    .unwrap();
    let r = ws.run_db(&log.url(), &["verify"], "");
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("written by another build's fold"),
        "{r:?}"
    );
    assert_eq!(alerts(&[]), replayed);
    let r = ws.run_db(&log.url(), &["verify"], "");
    assert!(r.stdout.contains("matches the log"), "{r:?}");
}
