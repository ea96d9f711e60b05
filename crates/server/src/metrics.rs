//! `GET /metrics` in the Prometheus text format, and `GET /healthz`.
//!
//! Counters are atomics bumped by the handlers (events appended, append latency as a histogram,
//! responses by status); gauges are read when scraped: the projection lag (the log's committed
//! position minus the engine's), the open alerts by severity at the engine's clock, the live
//! SSE streams and the open HTTP connections.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State as StateExtractor};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::State;

/// The upper bounds of the append latency histogram, in seconds.
const LATENCY_BUCKETS_S: [f64; 12] = [
    0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];
/// The statuses counted one by one (100 ..= 599).
const STATUS_SLOTS: usize = 500;

/// The server's counters.
#[derive(Debug)]
pub(crate) struct Metrics {
    events_appended: AtomicU64,
    appends: AtomicU64,
    append_micros: AtomicU64,
    latency: [AtomicU64; LATENCY_BUCKETS_S.len()],
    statuses: Vec<AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            events_appended: AtomicU64::new(0),
            appends: AtomicU64::new(0),
            append_micros: AtomicU64::new(0),
            latency: std::array::from_fn(|_| AtomicU64::new(0)),
            statuses: (0..STATUS_SLOTS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl Metrics {
    /// Counts an accepted append of `events` new events that took `took`.
    pub(crate) fn appended(&self, events: u64, took: Duration) {
        self.events_appended.fetch_add(events, Ordering::Relaxed);
        self.appends.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.append_micros.fetch_add(micros, Ordering::Relaxed);
        let secs = took.as_secs_f64();
        if let Some(i) = LATENCY_BUCKETS_S.iter().position(|b| secs <= *b) {
            self.latency[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    fn status(&self, status: StatusCode) {
        if let Some(slot) = self
            .statuses
            .get(usize::from(status.as_u16()).wrapping_sub(100))
        {
            slot.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The header every response carries once the log is known to be broken: figures read then
/// may rest on altered events, and no answer should look as if nothing were wrong.
pub const CHAIN_BROKEN_HEADER: &str = "x-jiancha-chain-broken";

/// Counts every response by status, and marks each one while the log is known to be broken
/// (`x-jiancha-chain-broken: <position>` and a `Warning`).
pub(crate) async fn count(
    StateExtractor(state): StateExtractor<Arc<State>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    state.metrics.status(response.status());
    if let Some(b) = state.store.broken() {
        let headers = response.headers_mut();
        if let Ok(v) = axum::http::HeaderValue::from_str(&b.position.to_string()) {
            headers.insert(CHAIN_BROKEN_HEADER, v);
        }
        let warning = format!(
            "199 jiancha \"the log's hash chain is broken at position {}: figures may rest on \
             altered events (GET /api/v1/verify)\"",
            b.position
        );
        if let Ok(v) = axum::http::HeaderValue::from_str(&warning) {
            headers.insert(axum::http::header::WARNING, v);
        }
    }
    response
}

/// `GET /healthz`: 200 with the engine's position, and whether requests need a token; 503 with
/// the first bad position once the log is known to be broken (appends are refused then).
pub(crate) async fn healthz(StateExtractor(state): StateExtractor<Arc<State>>) -> Response {
    if let Some(b) = state.store.broken() {
        let body = serde_json::json!({
            "ok": false, "position": state.engine.position(), "broken_at": b.position,
            "reason": b.reason, "auth": state.auth.is_some(),
        });
        return crate::json_response(StatusCode::SERVICE_UNAVAILABLE, &body);
    }
    let body = serde_json::json!({
        "ok": true, "position": state.engine.position(), "auth": state.auth.is_some(),
    });
    crate::json_response(StatusCode::OK, &body)
}

/// A family's samples: (the name's suffix and labels, the value).
type Samples = Vec<(String, String)>;

/// Writes one metric family: its help, its type and its samples.
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &Samples) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

fn one(value: impl ToString) -> Samples {
    vec![(String::new(), value.to_string())]
}

/// The append latency histogram's samples: cumulative buckets, then the sum and count.
fn latency_samples(m: &Metrics) -> Samples {
    let mut cumulative = 0;
    let mut samples = Vec::with_capacity(LATENCY_BUCKETS_S.len() + 3);
    for (bound, count) in LATENCY_BUCKETS_S.iter().zip(&m.latency) {
        cumulative += count.load(Ordering::Relaxed);
        samples.push((format!("_bucket{{le=\"{bound}\"}}"), cumulative.to_string()));
    }
    let appends = m.appends.load(Ordering::Relaxed);
    let sum = m.append_micros.load(Ordering::Relaxed) as f64 / 1e6;
    samples.push(("_bucket{le=\"+Inf\"}".to_owned(), appends.to_string()));
    samples.push(("_sum".to_owned(), sum.to_string()));
    samples.push(("_count".to_owned(), appends.to_string()));
    samples
}

/// `GET /metrics`.
pub(crate) async fn metrics(StateExtractor(state): StateExtractor<Arc<State>>) -> Response {
    let m = &state.metrics;
    let latency = latency_samples(m);
    let committed = *state.store.committed().borrow();
    let lag = committed.saturating_sub(state.engine.position());
    let (yellow, red) = open_alerts(&state);
    let subscribers = state.sse_slots.in_use();
    let conns = &state.connections;
    let statuses: Samples = m
        .statuses
        .iter()
        .enumerate()
        .map(|(i, c)| (i + 100, c.load(Ordering::Relaxed)))
        .filter(|(_, n)| *n > 0)
        .map(|(code, n)| (format!("{{code=\"{code}\"}}"), n.to_string()))
        .collect();
    let families = [
        (
            "jiancha_events_appended_total",
            "counter",
            "Events newly written through the API.",
            one(m.events_appended.load(Ordering::Relaxed)),
        ),
        (
            "jiancha_append_seconds",
            "histogram",
            "Time to answer an accepted POST /api/v1/events.",
            latency,
        ),
        (
            "jiancha_log_position",
            "gauge",
            "The last position committed to the log by this process.",
            one(committed),
        ),
        (
            "jiancha_projection_lag_events",
            "gauge",
            "Committed events the engine has not folded in yet.",
            one(lag),
        ),
        (
            "jiancha_alerts_open",
            "gauge",
            "Open alerts at the engine's clock, by severity.",
            vec![
                ("{severity=\"yellow\"}".to_owned(), yellow.to_string()),
                ("{severity=\"red\"}".to_owned(), red.to_string()),
            ],
        ),
        (
            "jiancha_sse_subscribers",
            "gauge",
            "Live alert streams open now.",
            one(subscribers),
        ),
        (
            "jiancha_http_connections",
            "gauge",
            "HTTP connections open now (at most the connection cap).",
            one(conns.open()),
        ),
        (
            "jiancha_http_connections_closed_total",
            "counter",
            "Connections the server closed: a request head or an idle wait over its timeout, \
             room made for a new connection at the cap, or a new one refused with every slot busy.",
            vec![
                (
                    "{reason=\"timeout\"}".to_owned(),
                    conns.timed_out.load(Ordering::Relaxed).to_string(),
                ),
                (
                    "{reason=\"evicted\"}".to_owned(),
                    conns.evicted.load(Ordering::Relaxed).to_string(),
                ),
                (
                    "{reason=\"refused\"}".to_owned(),
                    conns.refused.load(Ordering::Relaxed).to_string(),
                ),
            ],
        ),
        (
            "jiancha_http_responses_total",
            "counter",
            "Responses by status code.",
            statuses,
        ),
    ];
    let mut out = String::with_capacity(4096);
    for (name, kind, help, samples) in &families {
        family(&mut out, name, kind, help, samples);
    }
    let content_type = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
    ([(header::CONTENT_TYPE, content_type)], out).into_response()
}

fn open_alerts(state: &State) -> (u64, u64) {
    let now = state.engine.now();
    let p = state.engine.read();
    let (mut yellow, mut red) = (0, 0);
    for a in p.alerts(now).iter().filter(|a| a.is_open()) {
        match a.severity {
            "red" => red += 1,
            _ => yellow += 1,
        }
    }
    (yellow, red)
}
