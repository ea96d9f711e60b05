//! Connections over real loopback sockets: the cap, the header-read, idle and body timeouts.
//! Bounded: a few hundred sockets and a few seconds per test.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use jiancha_server::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use crate::loopback::{serve_on_loopback, ServerTask};
use crate::support::*;

/// A server on a loopback port.
struct Served {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: ServerTask,
}

impl Served {
    async fn start(limits: Limits) -> Served {
        let World { app, .. } = World::with(None, limits).await;
        let (addr, stop, task) = serve_on_loopback(app).await;
        Served { addr, stop, task }
    }

    /// A whole `GET` on a fresh connection, read until the server closes it.
    async fn get(&self, path: &str) -> String {
        let mut socket = TcpStream::connect(self.addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n");
        socket.write_all(request.as_bytes()).await.unwrap();
        read_until_closed(&mut socket, Duration::from_secs(5))
            .await
            .expect("the server answers and closes")
    }

    /// A gauge or counter sample of `/metrics`.
    async fn metric(&self, sample: &str) -> u64 {
        let text = self.get("/metrics").await;
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{sample} ")))
            .unwrap_or_else(|| panic!("no {sample} in {text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let stopped = tokio::time::timeout(WAIT_MAX, self.task).await;
        stopped.expect("the server stops").unwrap().unwrap();
    }
}

/// Everything the server sends until it closes the connection, or `None` if it is still open
/// after `max`.
async fn read_until_closed(socket: &mut TcpStream, max: Duration) -> Option<String> {
    let mut bytes = Vec::new();
    match tokio::time::timeout(max, socket.read_to_end(&mut bytes)).await {
        Ok(_) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(_) => None,
    }
}

/// A request head that never ends.
const HALF_SENT: &[u8] = b"GET /healthz HTTP/1.1\r\nhost: t\r\nx-slow: ";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_neither_pile_up_nor_block_healthz() {
    const CAP: usize = 32;
    const SOCKETS: usize = 600;
    let limits = Limits {
        connections_max: CAP,
        // Long: what keeps the flood out here is the cap, not the timeout.
        header_read_timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    let served = Served::start(limits).await;
    let mut flood = Vec::with_capacity(SOCKETS);
    for _ in 0..SOCKETS {
        let mut socket = TcpStream::connect(served.addr).await.unwrap();
        // The server may already have closed it to make room: that is the point.
        let _ = socket.write_all(HALF_SENT).await;
        flood.push(socket);
    }
    let started = Instant::now();
    let health = served.get("/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let open = served.metric("jiancha_http_connections").await;
    assert!(open <= CAP as u64, "{open} connections open, cap {CAP}");
    let evicted = served
        .metric("jiancha_http_connections_closed_total{reason=\"evicted\"}")
        .await;
    assert!(evicted >= (SOCKETS - CAP) as u64, "{evicted} evicted");
    // The oldest half-sent requests were closed by the server (end of stream), not left open.
    let mut closed = 0;
    for socket in flood.iter_mut().take(SOCKETS - 2 * CAP) {
        if read_until_closed(socket, Duration::from_millis(200))
            .await
            .is_some()
        {
            closed += 1;
        }
    }
    assert_eq!(closed, SOCKETS - 2 * CAP);
    drop(flood);
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_heads_idle_connections_and_slow_bodies_are_cut() {
    let limits = Limits {
        header_read_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(900),
        body_read_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let served = Served::start(limits).await;
    let bound = Duration::from_secs(3);

    // A connection that says nothing, and one that sends half a head.
    for first in [&b""[..], HALF_SENT] {
        let mut socket = TcpStream::connect(served.addr).await.unwrap();
        socket.write_all(first).await.unwrap();
        let started = Instant::now();
        let said = read_until_closed(&mut socket, bound).await;
        assert_eq!(said.as_deref(), Some(""), "closed without an answer");
        assert!(started.elapsed() >= Duration::from_millis(250));
    }

    // A head trickled a byte at a time does not reset the clock.
    let mut socket = TcpStream::connect(served.addr).await.unwrap();
    socket.write_all(HALF_SENT).await.unwrap();
    let (mut reader, mut writer) = socket.into_split();
    let trickle = tokio::spawn(async move {
        for _ in 0..40 {
            if writer.write_all(b"a").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_millis(1500), reader.read_to_end(&mut rest));
    assert!(
        read.await.is_ok(),
        "a trickled head is cut at the header timeout"
    );
    trickle.abort();

    // A kept-alive connection is answered, then closed once idle (later than a head would be).
    let mut socket = TcpStream::connect(served.addr).await.unwrap();
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let said = read_until_closed(&mut socket, bound).await.expect("closed");
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );

    // A body that stops arriving is answered 408.
    let mut socket = TcpStream::connect(served.addr).await.unwrap();
    let head = "POST /api/v1/events HTTP/1.1\r\nhost: t\r\ncontent-type: application/x-ndjson\r\n\
                content-length: 1000\r\n\r\n{\"stream\":";
    socket.write_all(head.as_bytes()).await.unwrap();
    let said = read_until_closed(&mut socket, bound).await.expect("closed");
    assert!(said.starts_with("HTTP/1.1 408"), "{said}");
    assert!(said.contains("request_timeout"), "{said}");

    // A live stream is a request in progress: never idle, never cut.
    let mut socket = TcpStream::connect(served.addr).await.unwrap();
    socket
        .write_all(b"GET /api/v1/alerts/stream HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = vec![0u8; 4096];
    let n = socket.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..n]).starts_with("HTTP/1.1 200"));
    assert!(read_until_closed(&mut socket, Duration::from_millis(2000))
        .await
        .is_none());
    drop(socket);
    let timed_out = served
        .metric("jiancha_http_connections_closed_total{reason=\"timeout\"}")
        .await;
    assert!(timed_out >= 4, "{timed_out}");
    served.stop().await;
}
