//! The evidence pack over HTTP is `jiancha evidence`'s: over the sample district served by a real
//! `jiancha serve` with an auth file, `GET /api/v1/cases/{id}/evidence` answers the bytes the
//! command prints for the same log and instant (live at the frozen clock, and with `now=` in
//! its forms), as an attachment named after the case; a unit of another org gets the very 404
//! an unknown case gets, and the evaluator a 403.

use std::time::{Duration, Instant};

use crate::server_api::{Served, WAIT_MAX};
use crate::support::{sample_district, Workspace};

const SUPERVISOR: &str = "evidence-supervisor";
const UNIT: &str = "evidence-unit";
const OTHER_UNIT: &str = "evidence-other-unit";
const EVALUATOR: &str = "evidence-evaluator";
const CASE: &str = "case-2026-000102";
const IMPORT_CLOCK: &str = "2026-04-01T09:00:00+08:00";
const SERVE_CLOCK: &str = "2026-04-20T12:00:00+08:00";

fn auth_file(ws: &Workspace) -> String {
    let token = |name: &str, role: &str, org: &str, secret: &str| {
        let org = if org.is_empty() {
            String::new()
        } else {
            format!("org = \"{org}\"\n")
        };
        format!(
            "[[token]]\nname = \"{name}\"\nrole = \"{role}\"\n{org}sha256 = \"{}\"\n\n",
            jiancha_server::token_hash(secret)
        )
    };
    let text = [
        token("bureau", "supervisor", "jiangjin/supervision", SUPERVISOR),
        token("window", "unit", "jiangjin/center/dept-07", UNIT),
        token("town", "unit", "jiangjin/town-07", OTHER_UNIT),
        token("assessor", "evaluator", "", EVALUATOR),
    ]
    .concat();
    ws.write("tokens.toml", &text).display().to_string()
}

/// A GET as `token`: (status, Content-Disposition, body).
async fn get(served: &Served, path: &str, token: &str) -> (u16, Option<String>, String) {
    let response = reqwest::Client::new()
        .get(served.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let disposition = response
        .headers()
        .get("content-disposition")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, disposition, response.text().await.unwrap())
}

/// The pack `jiancha evidence CASE [--now T]` prints with the server's clock.
fn cli_pack(ws: &Workspace, now: Option<&str>) -> String {
    let mut args = vec!["evidence", CASE];
    if let Some(now) = now {
        args.extend(["--now", now]);
    }
    let r = ws.run_at(SERVE_CLOCK, &args, "");
    assert_eq!(r.code, 0, "{r:?}");
    r.stdout
}

#[test]
fn the_http_evidence_pack_is_the_commands() {
    let ws = Workspace::new();
    let imported = ws.run_at(IMPORT_CLOCK, &["import", "-"], &sample_district());
    assert_eq!(imported.code, 0, "{imported:?}");
    let auth = auth_file(&ws);
    let served = Served::start_with(
        &ws.db(),
        &[("JIANCHA_CLOCK", SERVE_CLOCK)],
        &["--auth", &auth],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let live = format!("/api/v1/cases/{CASE}/evidence");
        // The engine cards what is overdue by its clock when it starts: wait until the log
        // stands still (the pack names its head), so both sides read the same log.
        let started = Instant::now();
        let mut last = get(&served, &live, SUPERVISOR).await;
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = get(&served, &live, SUPERVISOR).await;
            if now == last {
                break;
            }
            assert!(started.elapsed() < WAIT_MAX, "the log never stood still");
            last = now;
        }
        let (status, disposition, body) = last;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            disposition.as_deref(),
            Some(format!("attachment; filename=\"{CASE}-evidence.json\"").as_str())
        );
        let printed = cli_pack(&ws, None);
        assert_eq!(body, printed, "live: the server's bytes are the command's");
        let pack: serde_json::Value = serde_json::from_str(&body).unwrap();
        let cli: serde_json::Value = serde_json::from_str(&printed).unwrap();
        assert_eq!(pack, cli);
        assert_eq!(pack["case"], CASE);
        assert!(pack["events"].as_array().unwrap().len() >= 14, "{pack}");
        assert!(pack["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["hash_checks"] == true));
        assert!(!pack["cards"].as_array().unwrap().is_empty(), "{pack}");
        // The unit handling the case reads the same pack.
        let (status, _, body) = get(&served, &live, UNIT).await;
        assert_eq!((status, body.as_str()), (200, printed.as_str()));

        // As of instants in each accepted form, `now=` is `--now` (the log was recorded at
        // IMPORT_CLOCK: only instants after it know the case).
        for now in [
            "2026-04-05",
            "2026-04-10T12:00:00+08:00",
            "2026-04-15T04:00:00Z",
        ] {
            let query = now.replace('+', "%2B").replace(':', "%3A");
            let (status, _, body) = get(&served, &format!("{live}?now={query}"), SUPERVISOR).await;
            assert_eq!(status, 200, "{now}: {body}");
            let printed = cli_pack(&ws, Some(now));
            assert_eq!(body, printed, "now={now}");
            let pack: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_ne!(pack["evaluated_at"], cli["evaluated_at"], "{now}");
        }
        // Before the log recorded the case: refused on both sides.
        let (status, _, _) = get(&served, &format!("{live}?now=2026-03-20"), SUPERVISOR).await;
        assert_eq!(status, 404);
        let r = ws.run_at(SERVE_CLOCK, &["evidence", CASE, "--now", "2026-03-20"], "");
        assert_eq!(r.code, 2, "{r:?}");

        // Another org's unit learns nothing: the same 404 as for a case that does not exist.
        let (hidden, _, hidden_body) = get(&served, &live, OTHER_UNIT).await;
        let (unknown, _, unknown_body) =
            get(&served, "/api/v1/cases/case-none/evidence", OTHER_UNIT).await;
        let (unknown_sup, _, unknown_sup_body) =
            get(&served, "/api/v1/cases/case-none/evidence", SUPERVISOR).await;
        assert_eq!(hidden, 404, "{hidden_body}");
        assert_eq!((hidden, &hidden_body), (unknown, &unknown_body));
        assert_eq!((hidden, &hidden_body), (unknown_sup, &unknown_sup_body));
        // The evaluator reads no case.
        let (status, _, _) = get(&served, &live, EVALUATOR).await;
        assert_eq!(status, 403);
    });
    let (status, said) = served.interrupt();
    assert!(status.success(), "{said}");
}
