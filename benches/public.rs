//! The public lookup benchmark, on loopback over a SQLite log of a simulated district
//! (1,000,000 events by default): 64 clients, each on its own keep-alive connection, looking
//! cases up through `GET /public/v1/cases/{receipt}?code=` — the code checked, the per-address
//! limiter counted (set high enough never to refuse), the case read from the engine's fold and
//! its steps from its stream — p50/p99 latency and lookups/s, beside the same 64 clients on
//! `GET /healthz` in the same run.
//!
//! `cargo bench -p jiancha-benches --bench public` (JIANCHA_BENCH_EVENTS sets the log's size,
//! JIANCHA_BENCH_LOOKUPS the lookups per client, 500 by default; JIANCHA_BENCH_SETTLE_SECS the
//! pause after the start, while the server verifies the chain, 30 by default).

jiancha_benches::binary_allocator!();

use std::io::BufRead as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiancha_benches::{percentile, row};
use jiancha_server::public::PublicSecret;
use jiancha_server::{App, Limits, ServerConfig};
use jiancha_store::ManualClock;
use tokio::io::AsyncWriteExt;
use tokio::sync::oneshot;

/// Concurrent clients.
const CLIENTS: usize = 64;
/// The longest the timed part may run before the benchmark gives up.
const RUN_MAX: Duration = Duration::from_secs(900);

fn main() -> std::process::ExitCode {
    if let Some(code) = jiancha_benches::import_child() {
        return code;
    }
    let events = jiancha_benches::bench_events_or(1_000_000);
    let per_client: usize = std::env::var("JIANCHA_BENCH_LOOKUPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let (events, dir, file) = jiancha_benches::case_workload_of(events).unwrap();
    let db = format!("sqlite://{}", dir.path().join("public.db").display());
    let (took, _) = jiancha_benches::import_via_child(&db, &file).unwrap();
    println!(
        "public lookup benchmark: {events} events imported in {:.1} s, {CLIENTS} clients x \
         {per_client} lookups, {} cores",
        took.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let receipts = receipts(&file, 2_000);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        tokio::time::timeout(RUN_MAX, run(&db, &receipts, per_client))
            .await
            .expect("the benchmark finishes in time");
    });
    std::process::ExitCode::SUCCESS
}

/// Up to `n` case streams of the log, spread over it.
fn receipts(file: &std::path::Path, n: usize) -> Vec<String> {
    let reader = std::io::BufReader::new(std::fs::File::open(file).unwrap());
    let all: Vec<String> = reader
        .lines()
        .map_while(Result::ok)
        .filter(|l| l.contains("\"type\":\"Submitted\""))
        .filter_map(|l| {
            let rest = l.split("\"stream\":\"").nth(1)?;
            Some(rest.split('"').next()?.to_owned())
        })
        .collect();
    let step = (all.len() / n).max(1);
    all.into_iter().step_by(step).take(n).collect()
}

async fn run(db: &str, receipts: &[String], per_client: usize) {
    let secret = PublicSecret::from_bytes(b"the benchmark's public secret, 32").unwrap();
    let paths: Arc<Vec<String>> = Arc::new(
        receipts
            .iter()
            .map(|r| format!("/public/v1/cases/{r}?code={}", secret.query_code(r)))
            .collect(),
    );
    let clock = ManualClock::new(
        chrono::DateTime::parse_from_rfc3339("2027-06-30T10:00:00+08:00")
            .unwrap()
            .to_utc(),
    );
    let store = jiancha_store::open(db, Arc::new(clock.clone()))
        .await
        .unwrap();
    let start = Instant::now();
    let config = ServerConfig {
        limits: Limits {
            public_lookups_per_minute: u32::MAX,
            ..Limits::default()
        },
        public_secret: Some(secret),
        ..ServerConfig::default()
    };
    let app = App::start(store.clone(), Arc::new(clock), config)
        .await
        .unwrap();
    println!(
        "the engine caught up with the log in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let listener = jiancha_server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let signal = async move {
            let _ = stopped.await;
        };
        jiancha_server::run(listener, signal, app).await.unwrap();
    });
    // The server verifies the whole chain in the background at start (and the engine may
    // write a snapshot after its catch-up): let that finish before measuring.
    let settle = std::env::var("JIANCHA_BENCH_SETTLE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    tokio::time::sleep(Duration::from_secs(settle)).await;
    // Warm up both routes, then alternate so load on the machine falls on both alike.
    let healthz = Arc::new(vec!["/healthz".to_owned()]);
    let _ = clients(&addr, &healthz, 20).await;
    let _ = clients(&addr, &paths, 20).await;
    let mut base = Vec::new();
    let mut public = Vec::new();
    let (mut base_took, mut public_took) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..2 {
        let (took, l) = clients(&addr, &healthz, per_client / 2).await;
        base_took += took;
        base.extend(l);
        let (took, l) = clients(&addr, &paths, per_client / 2).await;
        public_took += took;
        public.extend(l);
    }
    base.sort_unstable();
    public.sort_unstable();
    for (name, sorted, took, note) in [
        (
            "(a) GET /healthz, 64 clients (baseline)",
            &base,
            base_took,
            "",
        ),
        (
            "(b) GET /public/v1/cases/{receipt}?code=",
            &public,
            public_took,
            "target p99 < 5 ms",
        ),
    ] {
        let rate = sorted.len() as f64 / took.as_secs_f64();
        row(&format!("{name} rate"), &format!("{rate:.0} req/s"), "");
        for (label, p) in [("p50", 0.50), ("p99", 0.99)] {
            row(
                &format!("{name} {label}"),
                &format!("{:.2} ms", percentile(sorted, p).as_secs_f64() * 1e3),
                if label == "p99" { note } else { "" },
            );
        }
    }
    let ratio = percentile(&public, 0.99).as_secs_f64() / percentile(&base, 0.99).as_secs_f64();
    row("p99 lookup / p99 healthz", &format!("{ratio:.2}"), "");
    let _ = stop.send(());
    task.await.unwrap();
    store.close().await;
}

/// 64 clients each GETting `per_client` paths (round robin over `paths`, each client from its
/// own offset); the time taken and every latency.
async fn clients(
    addr: &str,
    paths: &Arc<Vec<String>>,
    per_client: usize,
) -> (Duration, Vec<Duration>) {
    let mut connections = Vec::new();
    for t in 0..CLIENTS {
        connections.push((t, Connection::open(addr).await));
    }
    let start = Instant::now();
    let mut handles = Vec::new();
    for (t, mut connection) in connections {
        let paths = paths.clone();
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client);
            for i in 0..per_client {
                let path = &paths[(t * 31 + i) % paths.len()];
                let s = Instant::now();
                let status = connection.get(path).await;
                latencies.push(s.elapsed());
                assert_eq!(status, 200, "{path}");
            }
            latencies
        }));
    }
    let mut all = Vec::with_capacity(CLIENTS * per_client);
    for h in handles {
        all.extend(h.await.unwrap());
    }
    (start.elapsed(), all)
}

/// A minimal HTTP/1.1 keep-alive client on one connection (as the http bench's): the load
/// generator shares the cores with the server, so it only writes a request and reads the answer.
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

    /// GETs `path` and returns the status, after reading the whole answer.
    async fn get(&mut self, path: &str) -> u16 {
        let head = format!("GET {path} HTTP/1.1\r\nhost: {}\r\n\r\n", self.host);
        self.stream.write_all(head.as_bytes()).await.unwrap();
        self.stream.flush().await.unwrap();
        jiancha_benches::read_response(&mut self.stream).await
    }
}
