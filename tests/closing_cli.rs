//! Closing a period through the binary: `report close` fixes the report, `--as-closed`
//! reproduces it byte for byte (JSON and table) after any later appends, the current report
//! says the period is closed, and what may not be closed — twice, an open month, another
//! scoring — is refused with the right exit code. Also `alerts --severity`.

use crate::support::*;

const CLOSE_AT: &str = "2026-04-02T10:00:00+08:00";
const LATER: &str = "2026-04-20T10:00:00+08:00";

fn sample() -> Workspace {
    let ws = Workspace::new();
    let sample = sample_district();
    let r = ws.run_at(CLOSE_AT, &["import"], &sample);
    assert_eq!(r.code, 0, "{r:?}");
    ws
}

fn ok(r: Run) -> String {
    assert_eq!(r.code, 0, "{r:?}");
    r.stdout
}

/// The March report at `clock` in `format`, with `extra` arguments.
fn march(ws: &Workspace, clock: &str, format: &str, extra: &[&str]) -> Run {
    let mut args = vec!["report", "--period", "2026-03", "--format", format];
    args.extend_from_slice(extra);
    ws.run_at(clock, &args, "")
}

/// `jiancha report close --period 2026-03` at `clock`.
fn close_march(ws: &Workspace, clock: &str) -> Run {
    ws.run_at(clock, &["report", "close", "--period", "2026-03"], "")
}

fn event(stream: &str, ty: &str, occurred: &str, data: &str) -> String {
    format!(
        r#"{{"stream":"{stream}","type":"{ty}","occurred_at":"{occurred}","actor":"clerk-9","org":"jiangjin/town-02/window-1","data":{data}}}"#
    )
}

/// A new March case, accepted and concluded (entered after the close), so the current
/// figures of March change.
fn new_case(case: &str, day: u32, score: Option<u8>) -> String {
    let d = |h: u32| format!("2026-03-{day:02}T{h:02}:00:00+08:00");
    let mut lines = vec![
        event(
            case,
            "Submitted",
            &d(9),
            r#"{"item":"BL-001","channel":"window","materials":["身份证","经营场所证明"]}"#,
        ),
        event(case, "Accepted", &d(10), "{}"),
        event(case, "Concluded", &d(16), "{}"),
    ];
    if let Some(s) = score {
        lines.push(event(case, "Rated", &d(17), &format!(r#"{{"score":{s}}}"#)));
    }
    lines.join("\n") + "\n"
}

fn card(case: &str, rule: &str) -> String {
    let data = format!(
        r#"{{"case":"{case}","rule":"{rule}","severity":"red","due":"2026-03-20T00:00:00+08:00"}}"#
    );
    event(
        "supervision",
        "CardIssued",
        "2026-03-20T00:00:00+08:00",
        &data,
    ) + "\n"
}

#[test]
fn a_closed_report_is_reproduced_byte_for_byte_after_later_appends() {
    let ws = sample();
    let json = ok(march(&ws, CLOSE_AT, "json", &[]));
    let table = ok(march(&ws, CLOSE_AT, "table", &[]));
    let out = ok(close_march(&ws, CLOSE_AT));
    assert!(
        out.starts_with("closed 2026-03 at 2026-04-02T10:00:00+08:00 (position 49, digest "),
        "{out}"
    );
    let appended =
        new_case("case-2026-000900", 16, Some(1)) + &card("case-2026-000101", "fee.mismatch");
    assert_eq!(ws.run_at(LATER, &["import"], &appended).code, 0);
    // The current figures moved on, and say the period is closed.
    let now_json = ok(march(&ws, LATER, "json", &[]));
    assert_ne!(now_json, json);
    let v: serde_json::Value = serde_json::from_str(&now_json).unwrap();
    let closed = &v["closed"];
    assert_eq!(closed["period"], "2026-03");
    assert_eq!(closed["position"], 49);
    assert_eq!(closed["closed_at"], CLOSE_AT);
    let digest = closed["digest"].as_str().unwrap().to_owned();
    assert!(out.contains(&digest));
    // Every entry recorded after the close is marked as an adjustment: the new case's.
    let adjustments = v["adjustments_after_close"].as_array().unwrap();
    assert!(!adjustments.is_empty(), "{now_json}");
    assert!(
        adjustments
            .iter()
            .all(|a| a["change"] == "added" && a["caused_by"].as_u64().unwrap() > 49),
        "{adjustments:?}"
    );
    assert!(adjustments
        .iter()
        .any(|a| a["case"] == "case-2026-000900" && a["measure"] == "accepted"));
    let now_table = ok(march(&ws, LATER, "table", &[]));
    assert!(
        now_table.contains(&format!(
            "closed at {CLOSE_AT} (position 49, digest {digest})\n{} adjustments after the close:\n",
            adjustments.len()
        )),
        "{now_table}"
    );
    // Over HTTP, the same document, adjustments included, once the engine has carded what the
    // frozen clock makes due (then the log stands still and the CLI reads the same log).
    let served = crate::server_api::Served::start(&ws.db(), &[("JIANCHA_CLOCK", LATER)]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let get = |path: &str| runtime.block_on(crate::server_api::get_json(&served.url(path), None));
    let mut position = serde_json::Value::Null;
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let (_, health) = get("/healthz");
        if health["position"] == position {
            break;
        }
        position = health["position"].clone();
    }
    let (status, over_http) = get("/api/v1/reports?period=2026-03");
    assert_eq!(status, 200, "{over_http}");
    let (status, said) = served.interrupt();
    assert!(status.success(), "{said}");
    let cli: serde_json::Value = serde_json::from_str(&ok(march(&ws, LATER, "json", &[]))).unwrap();
    assert!(!cli["adjustments_after_close"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(over_http, cli);
    // As closed: byte for byte, whatever the clock says now.
    assert_eq!(ok(march(&ws, LATER, "json", &["--as-closed"])), json);
    assert_eq!(ok(march(&ws, LATER, "table", &["--as-closed"])), table);
    // The digest is the SHA-256 of the JSON text as printed.
    assert_eq!(digest, sha256_hex(&json));
}

fn sha256_hex(text: &str) -> String {
    // The binary's digest must agree with an independent implementation: sha256sum.
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

#[test]
fn what_cannot_be_closed_or_reproduced_is_refused() {
    let ws = sample();
    // A month that has not ended yet.
    let r = ws.run_at(CLOSE_AT, &["report", "close", "--period", "2026-04"], "");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("has not ended yet"), "{r:?}");
    let r = ws.run_at(CLOSE_AT, &["report", "close", "--period", "2026-Q2"], "");
    assert_eq!(r.code, 2, "{r:?}");
    // A period never closed.
    let r = march(&ws, CLOSE_AT, "json", &["--as-closed"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("never closed"), "{r:?}");
    let before = ws.export();
    // An org or actor the log's own import would refuse: its export could not move (exit 2,
    // nothing appended).
    for (flag, value) in [
        ("--org", "Bad Org!"),
        ("--org", "jiangjin//x"),
        ("--org", ""),
        ("--actor", ""),
        ("--actor", "a\u{1}b"),
    ] {
        let r = ws.run_at(
            CLOSE_AT,
            &["report", "close", "--period", "2026-03", flag, value],
            "",
        );
        assert_eq!(r.code, 2, "{flag} {value:?}: {r:?}");
        assert!(r.stderr.contains(&flag[2..]), "{r:?}");
    }
    assert_eq!(ws.export(), before, "nothing appended");
    ok(close_march(&ws, CLOSE_AT));
    assert_eq!(ws.export().lines().count(), before.lines().count() + 1);
    // Twice.
    let r = close_march(&ws, LATER);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("already closed"), "{r:?}");
    assert_eq!(ws.export().lines().count(), before.lines().count() + 1);
    let verified = ok(ws.run_at(LATER, &["verify"], ""));
    assert!(
        verified.contains("figures kept, hashing to its digest"),
        "{verified}"
    );
    // Another scoring than at the close: the replay does not give the closed figures, so they
    // are read from the close, which keeps them, and stderr says so, naming both digests.
    let closed = ok(march(&ws, LATER, "json", &["--as-closed"]));
    let scoring = ws.write("s.toml", "yellow_points = -7\n");
    let with = |format: &str, by: &str| {
        march(
            &ws,
            LATER,
            format,
            &[
                "--as-closed",
                "--scoring",
                scoring.to_str().unwrap(),
                "--by",
                by,
            ],
        )
    };
    let r = with("json", "org");
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, closed, "the figures as closed");
    let v: serde_json::Value = serde_json::from_str(&ok(march(&ws, LATER, "json", &[]))).unwrap();
    let recorded = v["closed"]["digest"].as_str().unwrap();
    assert_eq!(sha256_hex(&closed), recorded);
    assert!(r.stderr.contains(recorded), "{r:?}");
    assert!(r.stderr.contains("read from the close"), "{r:?}");
    // The close keeps the figures by org: by item they cannot be given (exit 1, nothing out).
    let r = with("json", "item");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("--by org"), "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");
    // --as-closed and --now do not go together.
    assert_eq!(
        march(&ws, LATER, "json", &["--as-closed", "--now", "2026-04-30"]).code,
        2
    );
}

/// A small deterministic generator (xorshift64*), for the property-style test below.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// For a few random sequences of later appends — new March cases, ratings good and bad,
/// cards — the closed report never changes.
#[test]
fn no_later_append_changes_the_closed_report() {
    let ws = sample();
    ok(close_march(&ws, CLOSE_AT));
    let json = ok(march(&ws, CLOSE_AT, "json", &["--as-closed"]));
    let table = ok(march(&ws, CLOSE_AT, "table", &["--as-closed"]));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..4 {
        let mut batch = String::new();
        for n in 0..1 + rng.below(4) {
            let case = format!("case-2026-9{round}{n:03}");
            batch += &match rng.below(3) {
                0 => new_case(
                    &case,
                    2 + rng.below(27) as u32,
                    Some(1 + rng.below(5) as u8),
                ),
                1 => new_case(&case, 2 + rng.below(27) as u32, None) + &card(&case, "fee.mismatch"),
                _ => {
                    event(
                        "case-2026-000101",
                        "Rated",
                        "2026-03-06T09:00:00+08:00",
                        &format!(r#"{{"score":{}}}"#, 1 + rng.below(5)),
                    ) + "\n"
                }
            };
        }
        let r = ws.run_at(LATER, &["import"], &batch);
        assert_eq!(r.code, 0, "round {round}: {r:?}");
        assert_eq!(
            ok(march(&ws, LATER, "json", &["--as-closed"])),
            json,
            "round {round}"
        );
        assert_eq!(
            ok(march(&ws, LATER, "table", &["--as-closed"])),
            table,
            "round {round}"
        );
    }
    assert_ne!(
        ok(march(&ws, LATER, "table", &[])),
        table,
        "the appends did count"
    );
}

/// The severities of `alerts --format json` with `extra` arguments, sorted and deduplicated.
fn severities(ws: &Workspace, extra: &[&str]) -> (usize, Vec<String>) {
    let mut args = vec!["alerts", "--now", "2026-04-30", "--format", "json"];
    args.extend_from_slice(extra);
    let v: serde_json::Value = serde_json::from_str(&ok(ws.run_at(CLOSE_AT, &args, ""))).unwrap();
    let all = v.as_array().unwrap();
    let mut kinds: Vec<String> = all
        .iter()
        .map(|a| a["severity"].as_str().unwrap().to_owned())
        .collect();
    kinds.sort();
    kinds.dedup();
    (all.len(), kinds)
}

#[test]
fn alerts_are_filtered_by_severity() {
    let ws = sample();
    let (total, kinds) = severities(&ws, &[]);
    assert!(kinds.contains(&"red".to_owned()) && kinds.contains(&"yellow".to_owned()));
    let (red, only) = severities(&ws, &["--severity", "red"]);
    assert_eq!(only, ["red"]);
    let (yellow, only) = severities(&ws, &["--severity", "yellow"]);
    assert_eq!(only, ["yellow"]);
    let (warning, _) = severities(&ws, &["--severity", "warning"]);
    assert_eq!(red + yellow + warning, total);
    // A comma list and repetition are the same union.
    assert_eq!(
        severities(&ws, &["--severity", "yellow,red"]).0,
        red + yellow
    );
    assert_eq!(
        severities(&ws, &["--severity", "warning", "--severity", "red,yellow"]).0,
        total
    );
    let r = ws.run_at(CLOSE_AT, &["alerts", "--severity", "orange"], "");
    assert_eq!(r.code, 2, "{r:?}");
}

/// A close needs a log: on a `--db` file that does not exist it is refused (exit 2, naming the
/// path) and creates nothing; on a log whose period has no figures, without `--org`, it asks
/// for the district.
#[test]
fn a_close_needs_a_log_and_names_what_is_missing() {
    let ws = Workspace::new();
    let missing = ws.path("missing.db");
    let url = format!("sqlite://{}", missing.display());
    let r = ws.run_db(&url, &["report", "close", "--period", "2026-01"], "");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no event log at"), "{r:?}");
    assert!(!missing.exists(), "nothing created");
    let (text, _) = catalogue_input();
    assert_eq!(ws.run(&["import"], &text).code, 0);
    let r = ws.run(&["report", "close", "--period", "2025-06"], "");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("give it (--org DISTRICT"), "{r:?}");
}

/// A close whose report is too large for one event keeps no figures: it says so, and another
/// scoring than the close's then fails the check (exit 1, both digests named).
#[test]
fn a_report_too_large_to_keep_is_closed_on_its_digest_alone() {
    let ws = Workspace::new();
    // 1,300 departments with a case each: 2,601 rows, over 1 MiB of JSON even compact.
    let mut lines = String::new();
    for n in 0..1300 {
        let case = format!("case-2026-{n:06}");
        let org = format!("jiangjin/dept-{n:04}/window-1");
        for (ty, hour, data) in [
            (
                "Submitted",
                9,
                r#"{"item":"BL-001","channel":"window","materials":["身份证","经营场所证明"]}"#,
            ),
            ("Accepted", 10, "{}"),
        ] {
            lines += &format!(
                r#"{{"stream":"{case}","type":"{ty}","occurred_at":"2026-03-10T{hour:02}:00:00+08:00","actor":"clerk-9","org":"{org}","data":{data}}}"#
            );
            lines.push('\n');
        }
    }
    let r = ws.run_at(CLOSE_AT, &["import"], &lines);
    assert_eq!(r.code, 0, "{r:?}");
    let r = close_march(&ws, CLOSE_AT);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("not kept"), "{r:?}");
    assert!(r.stderr.contains("too large"), "{r:?}");
    let closed = ok(march(&ws, LATER, "json", &["--as-closed"]));
    assert!(closed.len() > 1 << 20, "{}", closed.len());
    let verified = ok(ws.run_at(LATER, &["verify"], ""));
    assert!(
        verified.contains("close 2026-03 at 2601: no figures kept"),
        "{verified}"
    );
    // No card here: a scoring that changes the base points scores the month otherwise.
    let scoring = ws.write("s.toml", "base_points = 90\n");
    let r = march(
        &ws,
        LATER,
        "json",
        &["--as-closed", "--scoring", scoring.to_str().unwrap()],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains(&sha256_hex(&closed)), "{r:?}");
    assert!(r.stderr.contains("keeps no report"), "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");
}

/// A close rewritten behind the log's back with figures and a digest of its own is not
/// trusted: its row breaks the chain, so --as-closed refuses its figures (exit 1) rather than
/// print them.
#[test]
fn a_close_rewritten_with_its_own_digest_is_not_trusted() {
    let ws = sample();
    ok(close_march(&ws, CLOSE_AT));
    let closed = ok(march(&ws, LATER, "json", &["--as-closed"]));
    let mut report = jiancha_projections::Report::from_json(&closed).unwrap();
    report.rows[0].accepted += 100;
    let pretty = format!("{}\n", serde_json::to_string_pretty(&report).unwrap());
    let kept = serde_json::to_string(&report).unwrap();
    let v: serde_json::Value = serde_json::from_str(&ok(march(&ws, LATER, "json", &[]))).unwrap();
    let position = v["closed"]["position"].as_u64().unwrap();
    let data = serde_json::json!({
        "period": "2026-03",
        "digest": sha256_hex(&pretty),
        "position": position,
        "report": kept,
    })
    .to_string();
    ws.tamper(&[&format!(
        "UPDATE events SET data = '{}' WHERE type = 'PeriodClosed'",
        data.replace('\'', "''")
    )]);
    let r = march(&ws, LATER, "json", &["--as-closed"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("chain breaks"), "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");
}
