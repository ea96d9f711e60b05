//! The public lookup benchmark, on loopback over a SQLite log of a simulated district
//! (1,000,000 events by default). The server is `jiancha serve` in a child process (this
//! binary again: the same code as the `jiancha` binary, with its allocator, in its own process
//! and runtime), with the lookup on (`--public-secret`) and the per-address limiter counting
//! every lookup but set high enough never to refuse (`--public-lookups-per-minute`: every client
//! is 127.0.0.1). The load generator is 64 plain threads in this process, each with its own
//! keep-alive connection, writing a request and reading its answer with blocking calls: no
//! runtime of its own whose scheduling the figures would measure. The lookups go through
//! `GET /public/v1/cases/{receipt}?code=` (the code checked, the limiter counted, the case read
//! from the engine's fold and its steps from its stream); beside them, in the same run and
//! against the same server, the same 64 clients on `GET /healthz`, rounds of the two
//! alternating so load on the machine falls on both alike. p50/p99/max latency and requests/s
//! of each, and the ratios.
//!
//! `cargo bench -p jiancha-benches --bench public` (JIANCHA_BENCH_EVENTS sets the log's size,
//! JIANCHA_BENCH_LOOKUPS the requests per client and route, 1,600 by default, i.e. 102,400
//! a route, in 8 rounds; JIANCHA_BENCH_SETTLE_SECS the longest pause after the start, while
//! the server verifies the chain, 120 by default: measuring starts once the server is idle).

jiancha_benches::binary_allocator!();

use std::io::{BufRead as _, Write as _};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use jiancha_benches::{percentile, row};
use jiancha_server::public::PublicSecret;

/// Concurrent clients.
const CLIENTS: usize = 64;
/// Rounds of each route, alternating.
const ROUNDS: usize = 8;
/// Requests per client and route in the warm-up (enough for every receipt to be looked up).
const WARM_UP_PER_CLIENT: usize = 50;
/// The secret the server reads and the clients derive their codes with.
const SECRET: &[u8] = b"the benchmark's public secret, 32";

fn main() -> std::process::ExitCode {
    if let Some(code) = jiancha_benches::import_child() {
        return code;
    }
    if let Some(code) = jiancha_benches::serve_child() {
        return code;
    }
    let events = jiancha_benches::bench_events_or(1_000_000);
    let per_client: usize = env_or("JIANCHA_BENCH_LOOKUPS", 1_600).max(ROUNDS);
    let (events, dir, file) = jiancha_benches::case_workload_of(events).unwrap();
    let db = format!("sqlite://{}", dir.path().join("public.db").display());
    let (took, _) = jiancha_benches::import_via_child(&db, &file).unwrap();
    println!(
        "public lookup benchmark: {events} events imported in {:.1} s, {CLIENTS} clients x \
         {per_client} requests a route, {} cores, load average {}",
        took.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        load_average()
    );
    let secret_file = dir.path().join("public.secret");
    std::fs::write(&secret_file, SECRET).unwrap();
    let secret = PublicSecret::from_bytes(SECRET).unwrap();
    let paths: Arc<Vec<String>> = Arc::new(
        receipts(&file, 2_000)
            .iter()
            .map(|r| format!("/public/v1/cases/{r}?code={}", secret.query_code(r)))
            .collect(),
    );
    let server = jiancha_benches::serve_via_child(
        &db,
        &[
            "--public-secret",
            &secret_file.display().to_string(),
            "--public-lookups-per-minute",
            &u32::MAX.to_string(),
        ],
    )
    .unwrap();
    println!(
        "jiancha serve (pid {}) listening on {} after {:.1} s (the engine's catch-up)",
        server.id(),
        server.addr,
        server.started_in.as_secs_f64()
    );
    // The server verifies the whole chain in the background at start (and the engine may
    // write a snapshot after its catch-up): let that finish before measuring.
    let settled = settle(
        server.id(),
        Duration::from_secs(env_or("JIANCHA_BENCH_SETTLE_SECS", 120)),
    );
    println!(
        "the server was idle {:.1} s after listening",
        settled.as_secs_f64()
    );
    let healthz = Arc::new(vec!["/healthz".to_owned()]);
    let _ = clients(&server.addr, &healthz, WARM_UP_PER_CLIENT);
    let _ = clients(&server.addr, &paths, WARM_UP_PER_CLIENT);
    let (mut base, mut public) = (Run::default(), Run::default());
    for _ in 0..ROUNDS {
        base.add(clients(&server.addr, &healthz, per_client / ROUNDS));
        public.add(clients(&server.addr, &paths, per_client / ROUNDS));
    }
    drop(server);
    base.report("(a) GET /healthz (baseline)", "");
    public.report(
        "(b) GET /public/v1/cases/{receipt}?code=",
        "target p99 < 5 ms",
    );
    for (label, p) in [("p50", 0.50), ("p99", 0.99)] {
        let ratio = public.at(p).as_secs_f64() / base.at(p).as_secs_f64();
        row(
            &format!("{label} lookup / {label} healthz"),
            &format!("{ratio:.2}"),
            "",
        );
    }
    row(
        "requests/s healthz / requests/s lookup",
        &format!("{:.2}", base.rate() / public.rate()),
        &format!("load average after: {}", load_average()),
    );
    std::process::ExitCode::SUCCESS
}

/// An integer from the environment, or `default`.
fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The machine's 1, 5 and 15 minute load averages, as `uptime` shows them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".to_owned(),
        |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

/// Waits until process `pid` is idle (under 2% of a core over a second, by its CPU time in
/// `/proc`), at most `max`; where that cannot be read, waits `max`. Returns the time waited.
fn settle(pid: u32, max: Duration) -> Duration {
    let cpu_ticks = || -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The fields after the command name (which may hold spaces) in parentheses.
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
    };
    let start = Instant::now();
    let mut before = cpu_ticks();
    while start.elapsed() < max {
        std::thread::sleep(Duration::from_secs(1));
        let now = cpu_ticks();
        // Clock ticks are hundredths of a second on Linux: 2 ticks in a second is 2%.
        if let (Some(b), Some(n)) = (before, now) {
            if n.saturating_sub(b) <= 2 {
                break;
            }
        }
        before = now;
    }
    start.elapsed()
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

/// The latencies and time of the rounds of one route.
#[derive(Default)]
struct Run {
    took: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    fn add(&mut self, (took, latencies): (Duration, Vec<Duration>)) {
        self.took += took;
        self.latencies.extend(latencies);
        self.latencies.sort_unstable();
    }

    fn at(&self, p: f64) -> Duration {
        percentile(&self.latencies, p)
    }

    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.took.as_secs_f64()
    }

    fn report(&self, name: &str, note: &str) {
        let n = self.latencies.len();
        row(
            &format!("{name} rate"),
            &format!("{:.0} req/s", self.rate()),
            &format!("{n} requests"),
        );
        for (label, p) in [("p50", 0.50), ("p99", 0.99), ("max", 1.0)] {
            row(
                &format!("    {label}"),
                &format!("{:.2} ms", self.at(p).as_secs_f64() * 1e3),
                if label == "p99" { note } else { "" },
            );
        }
    }
}

/// 64 client threads, each on its own connection (opened before the clock starts), GETting
/// `per_client` paths (round robin over `paths`, each client from its own offset); the time
/// from the common start to the last answer, and every latency.
fn clients(addr: &str, paths: &Arc<Vec<String>>, per_client: usize) -> (Duration, Vec<Duration>) {
    let ready = Arc::new(Barrier::new(CLIENTS + 1));
    let mut handles = Vec::new();
    for t in 0..CLIENTS {
        let (paths, ready) = (paths.clone(), ready.clone());
        let mut connection = Connection::open(addr);
        handles.push(std::thread::spawn(move || {
            let mut latencies = Vec::with_capacity(per_client);
            ready.wait();
            for i in 0..per_client {
                let path = &paths[(t * 31 + i) % paths.len()];
                let s = Instant::now();
                let status = connection.get(path);
                latencies.push(s.elapsed());
                assert_eq!(status, 200, "{path}");
            }
            latencies
        }));
    }
    ready.wait();
    let start = Instant::now();
    let mut all = Vec::with_capacity(CLIENTS * per_client);
    for h in handles {
        all.extend(h.join().unwrap());
    }
    (start.elapsed(), all)
}

/// A minimal blocking HTTP/1.1 keep-alive client on one connection: it writes a request and
/// reads the answer, nothing more.
struct Connection {
    reader: std::io::BufReader<TcpStream>,
    writer: TcpStream,
    host: String,
}

impl Connection {
    fn open(addr: &str) -> Connection {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        Connection {
            writer: stream.try_clone().unwrap(),
            reader: std::io::BufReader::new(stream),
            host: addr.to_owned(),
        }
    }

    /// GETs `path` and returns the status, after reading the whole answer.
    fn get(&mut self, path: &str) -> u16 {
        let head = format!("GET {path} HTTP/1.1\r\nhost: {}\r\n\r\n", self.host);
        self.writer.write_all(head.as_bytes()).unwrap();
        jiancha_benches::read_response_blocking(&mut self.reader)
    }
}
