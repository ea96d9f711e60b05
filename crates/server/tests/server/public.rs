//! The public's routes without a login: the progress lookup answers exactly the allow-listed
//! fields for the right code and one indistinguishable 404 for everything else, counts lookups
//! per client address (429 with `Retry-After` over a real socket, the server staying up, the
//! allowance refilling by the engine's clock; behind a trusted proxy, per forwarded client), takes GET only, and the disclosure page shows a
//! period only once it is closed, with the figures of its report as closed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use jiancha_engine::ManualClock;
use jiancha_server::forwarded::TrustedProxies;
use jiancha_server::{App, Auth, Limits, ServerConfig};

use crate::disclosure_figures::{page_figures, report_figures};
use crate::loopback::{serve_on_loopback, ServerTask};
use crate::support::*;

/// Every field the public answer may have.
const ALLOWED: [&str; 11] = [
    "receipt",
    "item_name",
    "unit_name",
    "status",
    "accepted_on",
    "promised_due_on",
    "due_provisional",
    "steps",
    "concluded_on",
    "on_time",
    "as_of",
];

/// A world whose lookups are not limited (the router sees no client address: one client).
async fn unlimited() -> World {
    let limits = Limits {
        public_lookups_per_minute: 1_000_000,
        ..Limits::default()
    };
    World::with(Some(Auth::parse(&auth_file()).unwrap()), limits).await
}

fn lookup_path(case: &str, code: &str) -> String {
    format!("/public/v1/cases/{case}?code={code}")
}

/// A code that is not `case`'s.
fn wrong_code(case: &str) -> String {
    let right = public_secret().query_code(case);
    let wrong = if right == "ABCDEFGH" {
        "ABCDEFGJ"
    } else {
        "ABCDEFGH"
    };
    wrong.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_code_shows_the_public_fields_and_nothing_private() {
    let world = unlimited().await;
    let later = format!(
        "{}\n{}\n{}\n{}\n",
        step_json(CASE_1, Some(TOWN_1)),
        r#"{"stream":"case-t1","type":"Concluded","occurred_at":"2026-03-02T09:40:00+08:00","org":"jiangjin/town-1","data":{}}"#,
        r#"{"stream":"case-t1","type":"Rated","occurred_at":"2026-03-02T09:45:00+08:00","org":"jiangjin/town-1","data":{"score":1}}"#,
        r#"{"stream":"case-t1","type":"Complained","occurred_at":"2026-03-02T09:50:00+08:00","org":"jiangjin/town-1","data":{"category":"rude-clerk"}}"#,
    );
    let appended = world
        .post_jsonl("/api/v1/events", Who::Center, &later)
        .await;
    assert_eq!(appended.status, StatusCode::CREATED, "{}", appended.text);
    world.settle().await;

    let code = public_secret().query_code(CASE_1);
    let answer = world.get(&lookup_path(CASE_1, &code), Who::Nobody).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let fields: BTreeSet<&str> = answer
        .json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(fields, BTreeSet::from(ALLOWED));
    let step_fields: BTreeSet<&str> = answer.json["steps"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(step_fields, BTreeSet::from(["step", "completed_on"]));
    assert_eq!(
        answer.json,
        serde_json::json!({
            "receipt": CASE_1,
            "item_name": "Permit",
            "unit_name": TOWN_1,
            "status": "concluded",
            "accepted_on": "2026-03-02",
            "promised_due_on": "2026-03-04",
            "due_provisional": false,
            "steps": [{"step": "review", "completed_on": "2026-03-02"}],
            "concluded_on": "2026-03-02",
            "on_time": true,
            "as_of": "2026-03-02T10:00:00+08:00",
        })
    );
    // Nothing about who acted, what was handed in, the rating, the complaint or the alert.
    for private in [
        "clerk-1",
        "center-wang",
        "id-card",
        "rude-clerk",
        "score",
        "fee",
        "mismatch",
    ] {
        assert!(!answer.text.contains(private), "{private}: {}", answer.text);
    }
    assert_eq!(answer.headers["cache-control"], "no-store");
    // The code reads in either case; a token is neither needed nor looked at.
    let lower = world
        .get(&lookup_path(CASE_1, &code.to_lowercase()), Who::Stranger)
        .await;
    assert_eq!(lower.status, StatusCode::OK);
    assert_eq!(lower.json, answer.json);
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_code_unknown_case_and_odd_receipts_are_one_404() {
    let world = unlimited().await;
    let secret = public_secret();
    let unknown = "case-nobody";
    let paths = [
        lookup_path(CASE_1, &wrong_code(CASE_1)),
        lookup_path(CASE_1, &secret.query_code(CASE_10)),
        lookup_path(unknown, &wrong_code(unknown)),
        // The right code of a case that does not exist.
        lookup_path(unknown, &secret.query_code(unknown)),
        lookup_path(CASE_1, ""),
        format!("/public/v1/cases/{CASE_1}"),
        format!("/public/v1/cases/{CASE_1}?code=%FF%FE"),
        lookup_path("..%2F..%2Fetc%2Fpasswd", "ABCDEFGH"),
        lookup_path("%E6%A1%88%E4%BB%B6", "ABCDEFGH"),
        lookup_path("%FF", "ABCDEFGH"),
        lookup_path("case-t1'%20OR%201=1", "ABCDEFGH"),
        lookup_path("supervision", &secret.query_code("supervision")),
        lookup_path(&"x".repeat(4000), "ABCDEFGH"),
    ];
    let first = world.get(&paths[0], Who::Nobody).await;
    assert_eq!(first.status, StatusCode::NOT_FOUND);
    assert_eq!(first.json["error"], "not_found");
    let names = |a: &Answer| {
        a.headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
            .collect::<BTreeMap<_, _>>()
    };
    for path in &paths[1..] {
        let answer = world.get(path, Who::Nobody).await;
        assert_eq!(answer.status, first.status, "{path}");
        assert_eq!(answer.text, first.text, "{path}");
        assert_eq!(names(&answer), names(&first), "{path}");
    }
    world.shutdown().await;
}

/// The median time of `n` GETs of `path`.
async fn median_time(world: &World, path: &str, n: usize) -> Duration {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        let answer = world.get(path, Who::Nobody).await;
        times.push(start.elapsed());
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
    }
    times.sort();
    times[n / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_code_and_an_unknown_case_take_comparable_time() {
    let world = unlimited().await;
    let known = lookup_path(CASE_1, &wrong_code(CASE_1));
    let unknown = lookup_path("case-nobody", &wrong_code("case-nobody"));
    // Warm up, then alternate rounds so load on the machine falls on both alike.
    median_time(&world, &known, 50).await;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        a.push(median_time(&world, &known, 60).await);
        b.push(median_time(&world, &unknown, 60).await);
    }
    a.sort();
    b.sort();
    let (a, b) = (a[2], b[2]);
    let (fast, slow) = (a.min(b), a.max(b));
    assert!(
        slow <= fast * 3 + Duration::from_micros(300),
        "wrong code {a:?}, unknown case {b:?}"
    );
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_public_route_takes_anything_but_get() {
    let world = World::new().await;
    let code = public_secret().query_code(CASE_1);
    let paths = [
        "/public/".to_owned(),
        "/public".to_owned(),
        "/public/lookup".to_owned(),
        "/public/public.css".to_owned(),
        lookup_path(CASE_1, &code),
    ];
    for path in &paths {
        let get = world.get(path, Who::Nobody).await;
        assert_eq!(get.status, StatusCode::OK, "GET {path}");
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            let answer = world
                .send(request(
                    method,
                    path,
                    Who::Supervisor,
                    Some("application/json"),
                    "{}",
                ))
                .await;
            assert_eq!(
                answer.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
        }
    }
    world.shutdown().await;
}

/// A server on a loopback socket over the seeded log, its clock and the task serving it.
struct Live {
    addr: std::net::SocketAddr,
    clock: ManualClock,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: ServerTask,
}

impl Live {
    async fn start() -> Live {
        Live::start_with(Limits::default(), TrustedProxies::default()).await
    }

    async fn start_with(limits: Limits, trusted_proxies: TrustedProxies) -> Live {
        let (clock, store) = seeded_log().await;
        let config = ServerConfig {
            auth: Some(Auth::parse(&auth_file()).unwrap()),
            public_secret: Some(public_secret()),
            limits,
            trusted_proxies,
            ..ServerConfig::default()
        };
        let app = App::start(store, Arc::new(clock.clone()), config)
            .await
            .unwrap();
        let (addr, stop, task) = serve_on_loopback(app).await;
        Live {
            addr,
            clock,
            stop: Some(stop),
            task,
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(format!("http://{}{path}", self.addr))
            .await
            .unwrap()
    }

    /// The status of a GET of `path` sent with `X-Forwarded-For: forwarded`.
    async fn status_for(&self, path: &str, forwarded: &str) -> u16 {
        reqwest::Client::new()
            .get(format!("http://{}{path}", self.addr))
            .header("x-forwarded-for", forwarded)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(WAIT_MAX, self.task)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_31st_lookup_in_a_minute_from_one_address_is_refused() {
    let live = Live::start().await;
    let code = public_secret().query_code(CASE_1);
    let right = lookup_path(CASE_1, &code);
    let wrong = lookup_path(CASE_1, &wrong_code(CASE_1));
    // Thirty lookups, found or not, the page's included, all count.
    for i in 0..30 {
        let path = match i % 3 {
            0 => right.clone(),
            1 => wrong.clone(),
            _ => format!("/public/lookup?receipt={CASE_1}&code={code}"),
        };
        let answer = live.get(&path).await;
        assert_ne!(answer.status().as_u16(), 429, "lookup {}", i + 1);
    }
    let refused = live.get(&right).await;
    assert_eq!(refused.status().as_u16(), 429);
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(wait, 2, "one lookup's worth of a minute at 30 a minute");
    let body: serde_json::Value = serde_json::from_str(&refused.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], "too_many_requests");
    let page = live
        .get(&format!("/public/lookup?receipt={CASE_1}&code={code}"))
        .await;
    assert_eq!(page.status().as_u16(), 429);
    assert!(page.headers().contains_key("retry-after"));
    // The server stays up: health, the disclosure page and the API answer.
    assert_eq!(live.get("/healthz").await.status().as_u16(), 200);
    assert_eq!(live.get("/public/").await.status().as_u16(), 200);
    // The allowance refills by the engine's clock: one lookup's worth after 2 s.
    live.clock.advance(chrono::Duration::seconds(2));
    assert_eq!(live.get(&right).await.status().as_u16(), 200);
    assert_eq!(live.get(&right).await.status().as_u16(), 429);
    live.stop().await;
}

/// Behind a proxy named with `--trusted-proxy`, each client it forwards has its own allowance
/// (the first untrusted address from the right of `X-Forwarded-For`: an address a client put
/// in front itself changes nothing); without it the header is ignored and every request over
/// the proxy's connection is one client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance() {
    let limits = Limits {
        public_lookups_per_minute: 2,
        ..Limits::default()
    };
    let code = public_secret().query_code(CASE_1);
    let path = lookup_path(CASE_1, &code);
    let page = format!("/public/lookup?receipt={CASE_1}&code={code}");
    let trusted = TrustedProxies(vec!["127.0.0.0/8".parse().unwrap()]);
    let live = Live::start_with(limits, trusted).await;
    assert_eq!(live.status_for(&path, "198.51.100.1").await, 200);
    assert_eq!(live.status_for(&page, "198.51.100.1").await, 200);
    assert_eq!(live.status_for(&path, "198.51.100.1").await, 429);
    assert_eq!(
        live.status_for(&path, "198.51.100.2").await,
        200,
        "another citizen"
    );
    // A forged address in front: the proxy's own entry on the right still names the client.
    assert_eq!(
        live.status_for(&path, "198.51.100.77, 198.51.100.1").await,
        429
    );
    live.stop().await;
    // Not trusted: the header is ignored, the TCP peer is the one client.
    let live = Live::start_with(limits, TrustedProxies::default()).await;
    assert_eq!(live.status_for(&path, "198.51.100.1").await, 200);
    assert_eq!(live.status_for(&path, "198.51.100.2").await, 200);
    assert_eq!(live.status_for(&path, "198.51.100.3").await, 429);
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_month_is_not_disclosed_and_a_closed_one_is_as_closed() {
    let world = World::new().await;
    let concluded = r#"{"stream":"case-t1","type":"Concluded","occurred_at":"2026-03-05T09:40:00+08:00","org":"jiangjin/town-1","data":{}}"#;
    // Entered when it happens: the server refuses an event dated after its clock.
    world.clock.set(at("2026-03-05T09:41:00+08:00"));
    let appended = world
        .post_jsonl("/api/v1/events", Who::Center, concluded)
        .await;
    assert_eq!(appended.status, StatusCode::CREATED, "{}", appended.text);
    world.clock.set(at("2026-04-02T10:00:00+08:00"));
    world.settle().await;
    let page = world.get("/public/", Who::Nobody).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("id=\"no-periods\""), "{}", page.text);
    assert!(!page.text.contains("data-period=\"2026-03\""));
    assert!(!page.text.contains("<script"));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");

    let closed = world
        .post_json(
            "/api/v1/reports/close?period=2026-03",
            Who::Supervisor,
            "{}",
        )
        .await;
    assert_eq!(closed.status, StatusCode::CREATED, "{}", closed.text);
    world.settle().await;
    let as_closed = world
        .get(
            "/api/v1/reports?period=2026-03&as_closed=true",
            Who::Supervisor,
        )
        .await;
    assert_eq!(as_closed.status, StatusCode::OK, "{}", as_closed.text);
    let page = world.get("/public/", Who::Nobody).await;
    let shown = page_figures(&page.text, "2026-03");
    assert!(!shown.is_empty(), "{}", page.text);
    assert_eq!(shown, report_figures(&as_closed.json));
    assert!(shown.contains_key(TOWN_1));
    assert!(page.text.contains("<svg class=\"bar\""));
    assert!(page.text.contains("按时办结率"));
    let english = world.get("/public/?lang=en", Who::Nobody).await;
    assert!(english.text.contains("On-time rate"), "{}", english.text);
    assert_eq!(page_figures(&english.text, "2026-03"), shown);

    // Later appends about March change the current report, never the disclosed one.
    // A case entered late, accepted in March and still open: overdue at March's end.
    let late = [
        r#"{"stream":"case-t11","type":"Submitted","occurred_at":"2026-03-10T09:00:00+08:00","org":"jiangjin/town-1","data":{"item":"permit-01","channel":"window","materials":["id-card"]}}"#,
        r#"{"stream":"case-t11","type":"Accepted","occurred_at":"2026-03-10T09:10:00+08:00","org":"jiangjin/town-1","data":{}}"#,
    ]
    .join("\n");
    let appended = world.post_jsonl("/api/v1/events", Who::Center, &late).await;
    assert_eq!(appended.status, StatusCode::CREATED, "{}", appended.text);
    world.settle().await;
    let current = world
        .get("/api/v1/reports?period=2026-03", Who::Supervisor)
        .await;
    assert_ne!(report_figures(&current.json), shown);
    let again = world.get("/public/", Who::Nobody).await;
    assert_eq!(page_figures(&again.text, "2026-03"), shown);
    // April is open: absent.
    assert!(!again.text.contains("data-period=\"2026-04\""));
    world.shutdown().await;
}

/// A step completed after a lookup shows in the next; a step text the item's procedure does not
/// name (a clerk's note with a name and a phone number) never shows, and a step done twice
/// shows once, when first done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_completed_after_a_lookup_shows_in_the_next() {
    let world = unlimited().await;
    let path = lookup_path(CASE_10, &public_secret().query_code(CASE_10));
    let before = world.get(&path, Who::Nobody).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    assert_eq!(before.json["steps"], serde_json::json!([]));
    let review = step_json(CASE_10, Some(TOWN_10));
    let note = review.replace(
        r#""step":"review""#,
        r#""step":"审查（经办人张三 电话13800000000）""#,
    );
    let again = review.replace("09:30:00", "09:40:00");
    let step = world
        .post_jsonl(
            "/api/v1/events",
            Who::Center,
            &[review.as_str(), note.as_str(), again.as_str()].join("\n"),
        )
        .await;
    assert_eq!(step.status, StatusCode::CREATED, "{}", step.text);
    world.settle().await;
    let after = world.get(&path, Who::Nobody).await;
    assert_eq!(
        after.json["steps"],
        serde_json::json!([{"step": "review", "completed_on": "2026-03-02"}])
    );
    world.shutdown().await;
}
