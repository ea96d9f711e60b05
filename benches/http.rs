//! The HTTP benchmark, on loopback with a SQLite log: 64 clients (each with its own token and
//! keep-alive connection) appending single events through `POST /api/v1/events` — events/s and
//! p50/p99 latency — beside the same appends straight into the store in the same run (alone,
//! and with the engine following the log as it does behind the server); and the time from an
//! append that raises an alert to its arrival on an SSE stream, beside the time from the same
//! append to the alert on the engine's own bus.
//!
//! `cargo bench -p jiancha-benches --bench http` (JIANCHA_BENCH_HTTP_APPENDS sets the appends
//! per client, 1,000 by default; JIANCHA_BENCH_ALERTS the alert samples, 500).

jiancha_benches::binary_allocator!();

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use jiancha_benches::{appender_rows, concurrent_appends, percentile, row};
use jiancha_engine::{AlertChangeKind, Engine, EngineConfig};
use jiancha_events::{parse_line, NewEvent};
use jiancha_server::{token_hash, App, Auth, ServerConfig};
use jiancha_store::{EventStore, ManualClock};
use tokio::sync::oneshot;

#[path = "../testsupport/loopback.rs"]
mod loopback;
use loopback::{serve_on_loopback, ServerTask};

/// Concurrent clients.
const CLIENTS: usize = 64;
/// The longest the whole benchmark may run before it gives up.
const RUN_MAX: Duration = Duration::from_secs(600);
/// The org every client's token is bound to (the cases' org in `bench_event`).
const ORG: &str = "jiangjin/town-01/window-1";
const SUPERVISOR: &str = "bench-supervisor";
const CENTER: &str = "bench-center";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn clock() -> ManualClock {
    ManualClock::new(
        chrono::DateTime::parse_from_rfc3339("2026-03-02T10:00:00+08:00")
            .unwrap()
            .to_utc(),
    )
}

async fn open(path: &Path, clock: &ManualClock) -> Arc<dyn EventStore> {
    let url = format!("sqlite://{}", path.display());
    jiancha_store::open(&url, Arc::new(clock.clone()))
        .await
        .unwrap()
}

/// An engine following `store` with the default configuration, as it runs behind the server.
async fn start_engine(store: &Arc<dyn EventStore>, clock: &ManualClock) -> Engine {
    Engine::start(
        store.clone(),
        Arc::new(clock.clone()),
        EngineConfig::default(),
    )
    .await
    .unwrap()
}

/// The auth file: a supervisor, a center, and a unit token per client.
fn auth() -> Auth {
    let mut text = format!(
        "[[token]]\nname = \"bureau\"\nrole = \"supervisor\"\norg = \"jiangjin/bureau\"\nsha256 = \"{}\"\n\
         [[token]]\nname = \"center\"\nrole = \"center\"\norg = \"jiangjin\"\nsha256 = \"{}\"\n",
        token_hash(SUPERVISOR),
        token_hash(CENTER)
    );
    for t in 0..CLIENTS {
        text.push_str(&format!(
            "[[token]]\nname = \"window-{t}\"\nrole = \"unit\"\norg = \"{ORG}\"\nsha256 = \"{}\"\n",
            token_hash(&format!("bench-client-{t}"))
        ));
    }
    Auth::parse(&text).unwrap()
}

/// A server on 127.0.0.1:0 over `store`; returns its address and the switch that stops it.
async fn serve(
    store: Arc<dyn EventStore>,
    clock: &ManualClock,
) -> (String, oneshot::Sender<()>, ServerTask) {
    let config = ServerConfig {
        auth: Some(auth()),
        ..ServerConfig::default()
    };
    let app = App::start(store, Arc::new(clock.clone()), config)
        .await
        .unwrap();
    let (addr, stop, task) = serve_on_loopback(app).await;
    (format!("http://{addr}"), stop, task)
}

fn main() {
    let per_client = env_or("JIANCHA_BENCH_HTTP_APPENDS", 1_000);
    let alerts = env_or("JIANCHA_BENCH_ALERTS", 500);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        tokio::time::timeout(RUN_MAX, run(per_client, alerts))
            .await
            .expect("the benchmark finishes in time");
    });
}

async fn run(per_client: usize, alerts: usize) {
    println!(
        "http benchmark: {CLIENTS} clients x {per_client} single-event appends, {alerts} alerts, {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let dir = tempfile::tempdir().unwrap();
    let n = (CLIENTS * per_client) as u64;

    let clock = clock();
    let store = open(&dir.path().join("baseline.db"), &clock).await;
    let (took, latencies) = concurrent_appends(store.clone(), CLIENTS, per_client)
        .await
        .unwrap();
    store.close().await;
    appender_rows(
        "(a) store.append, no HTTP (baseline)",
        n,
        took,
        &latencies,
        "",
    );

    // The same with the engine following the log, as it does behind the server.
    let store = open(&dir.path().join("engine.db"), &clock).await;
    let engine = start_engine(&store, &clock).await;
    let (took, latencies) = concurrent_appends(store.clone(), CLIENTS, per_client)
        .await
        .unwrap();
    engine.shutdown().await.unwrap();
    store.close().await;
    appender_rows(
        "(a') store.append, engine following",
        n,
        took,
        &latencies,
        "",
    );

    let (took, latencies) = http_appends(&dir.path().join("http.db"), per_client).await;
    appender_rows(
        "(b) POST /api/v1/events, 64 clients",
        n,
        took,
        &latencies,
        "target >= 20,000 ev/s, p99 < 50 ms",
    );

    let bus = bus_latency(&dir.path().join("bus.db"), alerts).await;
    let sse = sse_latency(&dir.path().join("sse.db"), alerts).await;
    for (name, sorted, note) in [
        ("(c) append -> alert on the engine bus", &bus, ""),
        (
            "(d) POST -> alert on an SSE stream",
            &sse,
            "target p99 < 10 ms",
        ),
    ] {
        for (label, p) in [("p50", 0.50), ("p99", 0.99)] {
            row(
                &format!("{name} {label}"),
                &format!("{:.2} ms", percentile(sorted, p).as_secs_f64() * 1e3),
                if label == "p99" { note } else { "" },
            );
        }
    }
}

/// The JSONL line of `bench_event(task, i)`, without actor and org (the token sets them).
fn step_line(task: usize, i: usize) -> String {
    format!(
        r#"{{"stream":"case-c{task}","type":"StepCompleted","occurred_at":"2026-03-02T09:00:00+08:00","data":{{"step":"审查-{i}"}}}}"#
    )
}

/// A minimal HTTP/1.1 keep-alive client on one connection: the load generator shares the two
/// cores with the server, so it does no more than write a request and read its answer.
struct Connection {
    stream: tokio::io::BufStream<tokio::net::TcpStream>,
    host: String,
}

impl Connection {
    async fn open(addr: &str) -> Connection {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Connection {
            stream: tokio::io::BufStream::new(stream),
            host: addr.to_owned(),
        }
    }

    /// POSTs `body` and returns the status, after reading the whole answer.
    async fn post(&mut self, path: &str, token: &str, content_type: &str, body: &str) -> u16 {
        use tokio::io::AsyncWriteExt;
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\n\
             content-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        self.stream.write_all(head.as_bytes()).await.unwrap();
        self.stream.write_all(body.as_bytes()).await.unwrap();
        self.stream.flush().await.unwrap();
        jiancha_benches::read_response(&mut self.stream).await
    }
}

/// 64 clients appending single events over HTTP; the time and every latency, sorted.
async fn http_appends(db: &Path, per_client: usize) -> (Duration, Vec<Duration>) {
    let clock = clock();
    let store = open(db, &clock).await;
    let submitted = (0..CLIENTS)
        .map(|t| jiancha_benches::bench_event(t, 0).unwrap())
        .collect();
    store.append(submitted).await.unwrap();
    let (base, stop, task) = serve(store.clone(), &clock).await;
    let addr = base.trim_start_matches("http://").to_owned();
    let mut connections = Vec::new();
    for t in 0..CLIENTS {
        connections.push((t, Connection::open(&addr).await));
    }
    let start = Instant::now();
    let mut handles = Vec::new();
    for (t, mut connection) in connections {
        let token = format!("bench-client-{t}");
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client);
            for i in 1..=per_client {
                let body = step_line(t, i);
                let s = Instant::now();
                let status = connection
                    .post("/api/v1/events", &token, "application/x-ndjson", &body)
                    .await;
                latencies.push(s.elapsed());
                assert_eq!(status, 201);
            }
            latencies
        }));
    }
    let mut all = Vec::with_capacity(CLIENTS * per_client);
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let took = start.elapsed();
    all.sort_unstable();
    let _ = stop.send(());
    task.await.unwrap().unwrap();
    store.close().await;
    (took, all)
}

/// The item, and `cases` cases submitted and accepted, each waiting for a wrong fee.
fn alert_seed(cases: usize) -> Vec<NewEvent> {
    let item = r#"{"stream":"catalog","type":"ItemDefined","occurred_at":"2026-03-01T09:00:00+08:00","actor":"admin","org":"jiangjin","data":{"code":"permit-01","name":"许可","org":"jiangjin/center/dept-03","statutory_days":5,"promised_days":2,"fee_cents":1000,"steps":["审查"],"required_materials":[],"in_center":true}}"#;
    let mut events = vec![parse_line(1, item).unwrap()];
    for k in 0..cases {
        for (ty, data) in [
            (
                "Submitted",
                r#"{"item":"permit-01","channel":"window","materials":[]}"#,
            ),
            ("Accepted", "{}"),
        ] {
            let line = format!(
                r#"{{"stream":"case-a{k}","type":"{ty}","occurred_at":"2026-03-02T09:00:00+08:00","actor":"clerk","org":"{ORG}","data":{data}}}"#
            );
            events.push(parse_line(1, &line).unwrap());
        }
    }
    events
}

/// The wrong fee on case `k`, as JSONL without actor and org.
fn fee_line(k: usize) -> String {
    format!(
        r#"{{"stream":"case-a{k}","type":"FeeCharged","occurred_at":"2026-03-02T09:30:00+08:00","data":{{"amount_cents":1}}}}"#
    )
}

/// From `store.append` of a wrong fee to the alert on the engine's bus, sorted.
async fn bus_latency(db: &Path, samples: usize) -> Vec<Duration> {
    let clock = clock();
    let store = open(db, &clock).await;
    store.append(alert_seed(samples)).await.unwrap();
    let engine = start_engine(&store, &clock).await;
    let mut bus = engine.alerts();
    let mut latencies = Vec::with_capacity(samples);
    for k in 0..samples {
        let mut line = fee_line(k);
        line.insert_str(1, &format!(r#""actor":"clerk","org":"{ORG}","#));
        let event = parse_line(1, &line).unwrap();
        let case = format!("case-a{k}");
        let s = Instant::now();
        store.append(vec![event]).await.unwrap();
        loop {
            let change = bus.recv().await.unwrap();
            if change.kind == AlertChangeKind::Raised && change.alert.case == case {
                break;
            }
        }
        latencies.push(s.elapsed());
    }
    engine.shutdown().await.unwrap();
    store.close().await;
    latencies.sort_unstable();
    latencies
}

/// From sending a POST of a wrong fee to the alert on an SSE stream, sorted.
async fn sse_latency(db: &Path, samples: usize) -> Vec<Duration> {
    let clock = clock();
    let store = open(db, &clock).await;
    store.append(alert_seed(samples)).await.unwrap();
    let (base, stop, task) = serve(store.clone(), &clock).await;
    let client = reqwest::Client::new();
    let response = client
        .get(format!("{base}/api/v1/alerts/stream"))
        .bearer_auth(SUPERVISOR)
        .send()
        .await
        .unwrap();
    let mut stream = response.bytes_stream();
    let mut text = String::new();
    while !text.contains("event: ready") {
        let chunk = stream.next().await.unwrap().unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let mut latencies = Vec::with_capacity(samples);
    for k in 0..samples {
        let wanted = format!("\"case-a{k}/fee.mismatch/1\"");
        let post = client
            .post(format!("{base}/api/v1/events"))
            .bearer_auth(CENTER)
            .header("content-type", "application/x-ndjson")
            .body(fee_line(k).replace("\"data\"", &format!("\"org\":\"{ORG}\",\"data\"")));
        text.clear();
        let s = Instant::now();
        let answer = tokio::spawn(async move { post.send().await.unwrap().status().as_u16() });
        while !text.contains(&wanted) {
            let chunk = stream.next().await.unwrap().unwrap();
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        latencies.push(s.elapsed());
        assert_eq!(answer.await.unwrap(), 201);
    }
    drop(stream);
    let _ = stop.send(());
    task.await.unwrap().unwrap();
    store.close().await;
    latencies.sort_unstable();
    latencies
}
