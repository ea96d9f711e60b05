//! Integrity through the binary: the CLI and HTTP verifiers agree on every kind of tampering, a
//! log broken in the middle refuses appends (CLI exit 3, HTTP 503, `/healthz` 503), SQLite's
//! triggers refuse rewrites by `INSERT OR REPLACE`, forged exported lines are refused on their
//! `position`, `JIANCHA_CLOCK` is refused where a release build refuses it, every exported line
//! imports again (even at the event size limit), an endless line is refused without being read
//! whole, a mistyped `--db` path is refused by every reading command, and an evidence pack
//! checks stored bytes.

use std::io::Write as _;
use std::process::Stdio;

use jiancha_events::jsonl::{EVENT_DATA_BYTES_MAX, LINE_BYTES_MAX};
use jiancha_events::{parse_line, write_export_line, RawEvent, GENESIS_HASH};

use crate::server_api::{get_json, post_events, Served};
use crate::support::*;

/// Three cases of two events each: positions 1–6 (case-0: 1, 2; case-1: 3, 4; case-2: 5, 6).
fn log_of_six() -> Workspace {
    let ws = Workspace::new();
    let mut text = String::new();
    for c in 0..3 {
        let case = format!("case-{c}");
        text.push_str(&format!("{}\n{}\n", submitted(&case), step(&case, "审查")));
    }
    assert_eq!(ws.run(&["import"], &text).code, 0);
    ws
}

/// The log's rows as stored, from its export.
fn stored(ws: &Workspace) -> Vec<RawEvent> {
    ws.export()
        .lines()
        .map(|l| {
            let ev = parse_line(1, l).unwrap();
            let moved = ev.moved.clone().unwrap();
            let raw = RawEvent::seal(
                &ev,
                moved.position.unwrap(),
                moved.version.unwrap(),
                "",
                moved.prev_hash.unwrap(),
            );
            assert_eq!(raw.hash, moved.hash, "the row as stored: {l}");
            raw
        })
        .collect()
}

/// Rewrites rows `from..` of `raws` (0-based) with their chain recomputed: a forger's
/// consistent rewrite that only the checks beyond the chain can see.
fn rechain(ws: &Workspace, mut raws: Vec<RawEvent>, from: usize) {
    let mut statements = Vec::new();
    for i in from..raws.len() {
        if i > 0 {
            raws[i].prev_hash = raws[i - 1].hash;
        }
        raws[i].hash = raws[i].compute_hash();
        let r = &raws[i];
        statements.push(format!(
            "UPDATE events SET version = {}, type = '{}', prev_hash = X'{}', hash = X'{}' WHERE position = {}",
            r.version, r.event_type, r.prev_hash, r.hash, r.position
        ));
    }
    let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
    ws.tamper(&statements);
}

/// A kind of tampering: its name, the position both verifiers must name, and how it is done.
type TamperKind = (&'static str, u64, Box<dyn Fn(&Workspace)>);

/// Each kind of tampering.
fn tamper_kinds() -> Vec<TamperKind> {
    vec![
        (
            "data edited",
            4,
            Box::new(|ws| {
                ws.tamper(&[
                    "UPDATE events SET data = replace(data, '审查', '决定') WHERE position = 4",
                ])
            }),
        ),
        (
            "row deleted",
            3,
            Box::new(|ws| ws.tamper(&["DELETE FROM events WHERE position = 3"])),
        ),
        (
            "rows swapped",
            2,
            Box::new(|ws| {
                ws.tamper(&[
                    "UPDATE events SET position = -2 WHERE position = 2",
                    "UPDATE events SET position = 2 WHERE position = 5",
                    "UPDATE events SET position = 5 WHERE position = -2",
                ])
            }),
        ),
        (
            "row rewritten with its hash",
            3,
            Box::new(|ws| {
                let mut raws = stored(ws);
                raws[2].actor = "someone-else".into();
                let hash = raws[2].compute_hash();
                ws.tamper(&[&format!(
                    "UPDATE events SET actor = 'someone-else', hash = X'{hash}' WHERE position = 3"
                )]);
            }),
        ),
        (
            "version skipped, chain recomputed",
            4,
            Box::new(|ws| {
                let mut raws = stored(ws);
                raws[3].version = 7;
                rechain(ws, raws, 3);
            }),
        ),
        (
            "unreadable type, chain recomputed",
            6,
            Box::new(|ws| {
                let mut raws = stored(ws);
                raws[5].event_type = "Teleported".into();
                rechain(ws, raws, 5);
            }),
        ),
        (
            "data stored as a BLOB",
            5,
            Box::new(|ws| {
                ws.tamper(&["UPDATE events SET data = CAST(data AS BLOB) WHERE position = 5"])
            }),
        ),
        (
            "a row deleted before an unreadable one",
            3,
            Box::new(|ws| {
                ws.tamper(&[
                    "DELETE FROM events WHERE position = 3",
                    "UPDATE events SET data = CAST(data AS BLOB) WHERE position = 5",
                ])
            }),
        ),
        (
            "version stored as text",
            2,
            Box::new(|ws| {
                ws.tamper(&["UPDATE events SET version = 'v' || version WHERE position = 2"])
            }),
        ),
    ]
}

/// The position `jiancha verify` names, with its exit code.
/// Appends a new case's submission through the served log's HTTP API: (status, body).
async fn post_new_case(served: &Served) -> (u16, String) {
    post_events(
        &served.url(""),
        None,
        &format!("{}\n", submitted("case-new")),
    )
    .await
}

fn cli_verdict(ws: &Workspace) -> (i32, Option<u64>) {
    let r = ws.run(&["verify"], "");
    let position = r
        .stdout
        .strip_prefix("broken at position ")
        .and_then(|rest| rest.split(':').next())
        .and_then(|p| p.parse().ok());
    (r.code, position)
}

/// Each kind of tampering is made under a running server (an engine cannot start over a row it
/// cannot read), then both verifiers look at the same store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_http_verifiers_agree_on_every_tamper_kind() {
    for (kind, position, tamper) in tamper_kinds() {
        let ws = log_of_six();
        let served = tokio::task::block_in_place(|| Served::start(&ws.db(), &[]));
        tokio::task::block_in_place(|| tamper(&ws));
        let (code, named) = tokio::task::block_in_place(|| cli_verdict(&ws));
        assert_eq!((code, named), (1, Some(position)), "CLI on {kind}");
        // An export stops before the row that does not hold, having written the rows before it.
        let r = tokio::task::block_in_place(|| ws.run(&["export"], ""));
        assert_eq!(r.code, 1, "export on {kind}: {}", r.stderr);
        assert!(
            r.stderr
                .contains(&format!("does not hold at position {position}")),
            "export on {kind}: {}",
            r.stderr
        );
        assert_eq!(
            r.stdout.lines().count() as u64,
            position - 1,
            "export on {kind}"
        );
        let (status, doc) = get_json(&served.url("/api/v1/verify"), None).await;
        assert_eq!(status, 200, "{kind}: {doc}");
        assert_eq!(doc["ok"], false, "HTTP on {kind}: {doc}");
        assert_eq!(doc["position"], position, "HTTP on {kind}: {doc}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_broken_in_the_middle_refuses_appends() {
    let ws = log_of_six();
    // The head still verifies: only the whole chain shows the break.
    tokio::task::block_in_place(|| {
        ws.tamper(&[
            "UPDATE events SET data = replace(data, '身份证', '户口本') WHERE position = 3",
        ])
    });
    let r = tokio::task::block_in_place(|| {
        ws.run(&["import"], &format!("{}\n", submitted("case-new")))
    });
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stderr.contains("position 3"), "{r:?}");
    let served = tokio::task::block_in_place(|| Served::start(&ws.db(), &[]));
    let (status, body) = post_new_case(&served).await;
    assert_eq!(status, 503, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["detail"]["position"], 3, "{body}");
    let (status, health) = get_json(&served.url("/healthz"), None).await;
    assert_eq!(status, 503, "{health}");
    assert_eq!(health["broken_at"], 3, "{health}");
    // Figures still read say what they rest on.
    let response = reqwest::get(served.url("/api/v1/reports?period=2026-03"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["x-jiancha-chain-broken"]
            .to_str()
            .unwrap(),
        "3"
    );
    assert!(response.headers()["warning"]
        .to_str()
        .unwrap()
        .contains("broken at position 3"));
    let rows = tokio::task::block_in_place(|| ws.stored_rows());
    assert_eq!(rows, 6, "nothing was appended");
}

/// A break made while a server runs is found by its own `GET /verify`, which marks the log
/// broken for its writer and `/healthz`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_break_found_by_verify_stops_a_running_server() {
    let ws = log_of_six();
    let served = tokio::task::block_in_place(|| Served::start(&ws.db(), &[]));
    let (status, _) = get_json(&served.url("/healthz"), None).await;
    assert_eq!(status, 200);
    tokio::task::block_in_place(|| {
        ws.tamper(&["UPDATE events SET actor = 'someone-else' WHERE position = 2"])
    });
    let (_, doc) = get_json(&served.url("/api/v1/verify"), None).await;
    assert_eq!(doc["position"], 2, "{doc}");
    let (status, health) = get_json(&served.url("/healthz"), None).await;
    assert_eq!((status, &health["broken_at"]), (503, &2.into()), "{health}");
    let (status, body) = post_new_case(&served).await;
    assert_eq!(status, 503, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_or_replace_cannot_rewrite_the_log() {
    use sqlx::Connection as _;
    let ws = tokio::task::block_in_place(log_of_six);
    let before = tokio::task::block_in_place(|| ws.export());
    let mut conn = sqlx::SqliteConnection::connect(&ws.db()).await.unwrap();
    let columns = "position, stream, version, id, type, schema, occurred_at, recorded_at, actor, \
                   org, data, prev_hash, hash";
    let refused = [
        // The rewrite of issue 15: same positions, new contents.
        format!("INSERT OR REPLACE INTO events ({columns}) SELECT position, stream, version, id, type, schema, occurred_at, recorded_at, 'forger', org, data, prev_hash, hash FROM events WHERE position >= 2"),
        format!("REPLACE INTO events ({columns}) SELECT {columns} FROM events WHERE position = 6"),
        // At the next position, but colliding with a stored (stream, version): REPLACE would
        // delete the stored row.
        format!("INSERT OR REPLACE INTO events ({columns}) SELECT 7, stream, version, id, type, schema, occurred_at, recorded_at, actor, org, data, prev_hash, hash FROM events WHERE position = 2"),
        // Below the head, or past it with a gap.
        format!("INSERT INTO events ({columns}) SELECT 0, stream, 99, 'x', type, schema, occurred_at, recorded_at, actor, org, data, prev_hash, hash FROM events WHERE position = 2"),
        format!("INSERT INTO events ({columns}) SELECT 9, stream, 99, 'y', type, schema, occurred_at, recorded_at, actor, org, data, prev_hash, hash FROM events WHERE position = 2"),
    ];
    for sql in refused {
        let e = sqlx::query(&sql).execute(&mut conn).await.unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    conn.close().await.unwrap();
    tokio::task::block_in_place(|| {
        assert_eq!(ws.export(), before);
        assert_eq!(ws.run(&["verify"], "").code, 0);
    });
}

/// An export-shaped line continuing `ws`'s head with a hash of its own making: what a forger
/// writes to back-date an event.
fn forged_continuation(ws: &Workspace, recorded_at: &str) -> String {
    let raws = stored(ws);
    let head = raws.last().unwrap();
    let line = format!(
        r#"{{"position":{},"stream":"case-0","version":3,"type":"Concluded","occurred_at":"2026-03-03T10:00:00+08:00","recorded_at":"{recorded_at}","actor":"clerk-1","org":"jiangjin/town-01/window-1","data":{{}},"prev_hash":"{}","hash":"{}"}}"#,
        head.position + 1,
        head.hash,
        GENESIS_HASH
    );
    let ev = parse_line(1, &line).unwrap();
    let raw = RawEvent::seal(&ev, head.position + 1, 3, "", head.hash);
    let mut out = String::new();
    write_export_line(&raw, &mut out);
    out.push('\n');
    out
}

#[test]
fn a_forged_moved_line_is_refused_on_its_position() {
    let ws = log_of_six();
    let before = ws.export();
    let forged = forged_continuation(&ws, "2026-03-03T10:05:00+08:00");
    let r = ws.run(&["import"], &forged);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("line 1: position:"), "{r:?}");
    assert_eq!(ws.export(), before, "nothing written");
    // The same line, hash and all, is what `--moved` takes: it continues the head exactly.
    let moved = ws.run(&["import", "--moved"], &forged);
    assert_eq!(moved.code, 0, "{moved:?}");
    // `--moved` takes exported lines only, and only where they chain.
    let copy = log_of_six();
    let r = copy.run(
        &["import", "--moved"],
        &format!("{}\n", step("case-0", "x")),
    );
    assert_eq!(r.code, 2, "{r:?}");
    // Its business time changed after its hash was taken.
    let tampered = forged_continuation(&copy, "2026-03-03T10:05:00+08:00")
        .replace("2026-03-03T10:00:00+08:00", "2026-03-03T11:00:00+08:00");
    let r = copy.run(&["import", "--moved"], &tampered);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("line 1: hash:"), "{r:?}");
}

#[test]
fn a_log_moved_in_two_parts_is_the_same_log() {
    let source = log_of_six();
    let export = source.export();
    let lines: Vec<&str> = export.lines().collect();
    let target = Workspace::new();
    let first = lines[..4].join("\n") + "\n";
    let rest = lines[4..].join("\n") + "\n";
    assert_eq!(target.run(&["import"], &first).code, 0, "into an empty log");
    let r = target.run(&["import"], &rest);
    assert_eq!(r.code, 2, "not onto a log without --moved: {r:?}");
    assert!(r.stderr.contains("position"), "{r:?}");
    assert_eq!(target.run(&["import", "--moved"], &rest).code, 0);
    assert_eq!(target.export(), export, "byte for byte");
}

#[test]
fn jiancha_clock_is_refused_where_a_release_build_refuses_it() {
    let ws = Workspace::new();
    let release = [
        ("JIANCHA_CLOCK", "2026-03-20T18:00:00+08:00"),
        ("JIANCHA_RELEASE_CLOCK_RULES", "1"),
    ];
    for args in [
        &["import"][..],
        &["serve", "--addr", "127.0.0.1:0"],
        &["alerts"],
    ] {
        let r = ws.run_env(
            &ws.db(),
            &release,
            args,
            &format!("{}\n", submitted("case-1")),
        );
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains("JIANCHA_CLOCK"), "{r:?}");
    }
    assert!(!ws.path("jiancha.db").exists(), "nothing was opened");
    // A debug build honours it (the tests' frozen clock).
    let r = ws.run_env(
        &ws.db(),
        &release[..1],
        &["import"],
        &format!("{}\n", submitted("case-1")),
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(ws
        .export()
        .contains(r#""recorded_at":"2026-03-20T18:00:00+08:00""#));
}

/// An input line whose data takes `bytes` bytes as stored, with long actor and org full of
/// characters an export escapes.
fn line_with_data_of(bytes: usize) -> String {
    let empty = r#"{"item":"BL-001","channel":"window","materials":[""]}"#.len();
    let material = "审".repeat((bytes - empty) / 3) + &"\u{e9}".repeat((bytes - empty) % 3 / 2);
    let material = material + &"x".repeat((bytes - empty) % 3 % 2);
    let data = format!(r#"{{"item":"BL-001","channel":"window","materials":["{material}"]}}"#);
    assert_eq!(data.len(), bytes);
    format!(
        r#"{{"stream":"case-big","type":"Submitted","occurred_at":"2026-03-02T09:15:00+08:00","actor":{},"org":"jiangjin/town-01","data":{data}}}"#,
        serde_json::to_string(&"\"\\".repeat(100)).unwrap()
    )
}

#[test]
fn an_event_at_the_size_limit_is_exported_and_imported_again() {
    let ws = Workspace::new();
    let line = line_with_data_of(EVENT_DATA_BYTES_MAX);
    assert_eq!(ws.run(&["import"], &format!("{line}\n")).code, 0);
    let export = ws.export();
    assert!(export.len() > 1 << 20, "over the old 1 MiB line limit");
    assert!(export.len() <= LINE_BYTES_MAX + 1);
    let copy = Workspace::new();
    let r = copy.run(&["import"], &export);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(copy.export(), export);
    let over = ws.run(
        &["import"],
        &format!("{}\n", line_with_data_of(EVENT_DATA_BYTES_MAX + 1)),
    );
    assert_eq!(over.code, 2, "{}", over.stderr);
    assert!(over.stderr.contains("line 1: data:"), "{}", over.stderr);
}

#[test]
fn an_endless_line_is_refused_without_being_read_whole() {
    // Far more than any line may be; the import must give up after about a line's worth.
    const OFFERED: usize = 64 << 20;
    let ws = Workspace::new();
    let mut child = jiancha()
        .args(["--db", &ws.db(), "import", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let mut written = 0;
        let chunk = vec![b'x'; 1 << 16];
        if input.write_all(br#"{"stream":"case-1","data":""#).is_err() {
            return written;
        }
        while written < OFFERED {
            if input.write_all(&chunk).is_err() {
                break;
            }
            written += chunk.len();
        }
        written
    });
    let out = child.wait_with_output().unwrap();
    let written = writer.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("line 1: json: line longer than"),
        "{stderr}"
    );
    assert!(
        written < 8 << 20,
        "the importer read {written} bytes of one line before refusing it"
    );
}

#[test]
fn reading_commands_refuse_a_log_that_does_not_exist() {
    let ws = log_of_six();
    let missing = ws.path("typo").join("jiancha.db");
    let db = format!("sqlite://{}", missing.display());
    for args in [
        &["verify"][..],
        &["alerts"],
        &["report", "--period", "2026-03"],
        &["case", "show", "case-0"],
        &["history", "case-0"],
        &["evidence", "case-0"],
        &["export"],
    ] {
        let r = ws.run_db(&db, args, "");
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(
            r.stderr.contains(&missing.display().to_string()),
            "{args:?} names the path: {r:?}"
        );
    }
    assert!(!missing.exists());
    // A command that writes creates it.
    std::fs::create_dir(ws.path("typo")).unwrap();
    let r = ws.run_db(&db, &["import"], &format!("{}\n", submitted("case-0")));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(missing.exists());
}

#[test]
fn an_evidence_pack_checks_the_stored_bytes_of_a_moved_event() {
    // An exported line whose data is not in the canonical form this build writes (keys in
    // another order, spaces): its hash covers those bytes, so only they check.
    let line = r#"{"position":1,"stream":"case-9","version":1,"type":"Submitted","occurred_at":"2026-03-02T09:15:00+08:00","recorded_at":"2026-03-02T09:16:00+08:00","actor":"clerk-1","org":"jiangjin/town-01","data":{ "materials": ["身份证"], "channel": "window", "item": "BL-001" },"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000","hash":"0000000000000000000000000000000000000000000000000000000000000000"}"#;
    let ev = parse_line(1, line).unwrap();
    let raw = RawEvent::seal(&ev, 1, 1, "", GENESIS_HASH);
    let mut exported = String::new();
    write_export_line(&raw, &mut exported);
    let ws = Workspace::new();
    assert_eq!(ws.run(&["import"], &format!("{exported}\n")).code, 0);
    let r = ws.run(&["evidence", "case-9"], "");
    assert_eq!(r.code, 0, "{r:?}");
    let pack: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let events = pack["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["hash_checks"], true, "{pack}");
    assert_eq!(events[0]["hash"], raw.hash.to_string());
}

#[test]
fn verify_names_a_snapshot_edited_in_place_and_it_is_not_loaded() {
    let ws = Workspace::new();
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/district.jsonl"
    ))
    .unwrap();
    assert_eq!(ws.run(&["import"], &sample).code, 0);
    let alerts = || {
        let r = ws.run(&["alerts", "--format", "json"], "");
        assert_eq!(r.code, 0, "{r:?}");
        r.stdout
    };
    // A server keeps a snapshot when it stops (after issuing the district's cards). It is
    // asked something first: its Ctrl-C handler is in place once it answers.
    let served = Served::start(&ws.db(), &[]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (status, _) = runtime.block_on(get_json(&served.url("/healthz"), None));
    assert_eq!(status, 200);
    let (status, stderr) = served.interrupt();
    assert!(status.success(), "{status}: {stderr}");
    let before = alerts();
    let r = ws.run(&["verify"], "");
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("snapshot projections at "), "{r:?}");
    assert!(r.stdout.contains(": matches the log"), "{r:?}");
    // One byte of the body changed, the digest left as it was.
    ws.tamper(&["UPDATE snapshots SET bytes = substr(bytes, 1, 100) || \
                 (CASE WHEN substr(bytes, 101, 1) = X'07' THEN X'08' ELSE X'07' END) || \
                 substr(bytes, 102) WHERE name = 'projections'"]);
    let r = ws.run(&["verify"], "");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("FORGED"), "{r:?}");
    assert!(r.stderr.contains("snapshot projections is forged"), "{r:?}");
    assert_eq!(alerts(), before, "the log was replayed instead");
}

/// The case index is checked by `verify` as the snapshots are: a row deleted from it makes
/// `alerts --now` leave its case out (a replay still shows it), and `verify` names the row and
/// exits 1, on the CLI and over HTTP; with the rows dropped, the next question rebuilds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_names_a_case_index_that_leaves_a_case_out() {
    let ws = Workspace::new();
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/district.jsonl"
    ))
    .unwrap();
    let at = "2026-03-31T12:00:00+08:00";
    let alerts = |replay: bool| {
        let mut args = vec!["alerts", "--now", at, "--format", "json"];
        if replay {
            args.push("--replay");
        }
        let r = ws.run(&args, "");
        assert_eq!(r.code, 0, "{r:?}");
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()
    };
    let verify = || ws.run(&["verify"], "");
    tokio::task::block_in_place(|| {
        assert_eq!(ws.run(&["import"], &sample).code, 0);
        // No question at an instant yet: no index.
        let r = verify();
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains("index: none stored"), "{r:?}");
        let replayed = alerts(true);
        assert_eq!(alerts(false), replayed);
        let r = verify();
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains(": matches the log ("), "{r:?}");
        let case = replayed[0]["case"].as_str().unwrap().to_owned();
        ws.tamper(&[&format!("DELETE FROM case_index WHERE stream = '{case}'")]);
        let left_out = alerts(false);
        assert_ne!(left_out, replayed, "the row deleted leaves {case} out");
        let r = verify();
        assert_eq!(r.code, 1, "{r:?}");
        assert!(
            r.stdout.contains("DIFFERS from the log in 1 places"),
            "{r:?}"
        );
        assert!(r.stdout.contains(&format!("no row for {case}")), "{r:?}");
        assert!(r.stderr.contains("the case index"), "{r:?}");
        assert!(r.stdout.starts_with("ok: "), "the chain holds: {r:?}");
    });
    let served = tokio::task::block_in_place(|| Served::start(&ws.db(), &[]));
    let (status, doc) = get_json(&served.url("/api/v1/verify"), None).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["ok"], false, "{doc}");
    assert_eq!(doc["index"]["verdict"], "differs", "{doc}");
    assert_eq!(doc["index"]["differences"], 1, "{doc}");
    drop(served);
    tokio::task::block_in_place(|| {
        ws.tamper(&[
            "DELETE FROM case_alerts",
            "DELETE FROM case_index",
            "DELETE FROM case_index_state",
        ]);
        let replayed = alerts(true);
        assert_eq!(alerts(false), replayed, "rebuilt from the log");
        let r = verify();
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains(": matches the log ("), "{r:?}");
    });
}
