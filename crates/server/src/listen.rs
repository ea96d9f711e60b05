//! The accept loop and each connection's watchdog: what keeps half-sent requests and idle
//! connections from holding the server's file descriptors.
//!
//! Every connection is registered with [`Connections`]. A watchdog closes a connection that
//! has not sent a whole request head within the header-read timeout (counted from its opening,
//! or from the first byte of a later request), or that sat idle between requests for the idle
//! timeout; a request in progress (a live stream included) is never cut by it. At the cap, a
//! new connection closes the one that has waited longest for a request, so a flood of
//! half-sent requests cycles through the slots while a client that sends its request at once
//! (`/healthz`, a dashboard) is served; when every connection is busy with a request, the new
//! one is closed at once. The time a body may take is bounded where bodies are read
//! (`body::read`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::Router;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};

use crate::limits::Limits;

/// How long the accept loop pauses after a failed accept (out of file descriptors, say), so
/// it does not spin while the watchdogs free some.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// What the watchdog of one connection knows about it.
#[derive(Debug)]
struct ConnState {
    /// Requests in progress (HTTP/1 serves one at a time; a response counts until its body
    /// has been sent or dropped).
    busy: AtomicUsize,
    /// Whether a whole request head has arrived on this connection yet.
    served: AtomicBool,
    /// Since when the connection waits for a request, in ms after [`Connections::epoch`].
    waiting_since: AtomicU64,
    /// When the first byte of the next request arrived (ms after the epoch, plus 1; 0: none).
    first_byte: AtomicU64,
    /// Wakes the watchdog when its deadline moves.
    wake: Notify,
    /// Closes the connection (it was chosen to make room).
    evict: Notify,
}

/// The open connections and the counters `/metrics` shows.
#[derive(Debug)]
pub(crate) struct Connections {
    epoch: Instant,
    next_id: AtomicU64,
    live: Mutex<HashMap<u64, Arc<ConnState>>>,
    count: watch::Sender<usize>,
    /// Closed by a watchdog's timeout.
    pub(crate) timed_out: AtomicU64,
    /// Closed to make room for a new connection.
    pub(crate) evicted: AtomicU64,
    /// New connections closed at once because every slot was busy.
    pub(crate) refused: AtomicU64,
}

impl Default for Connections {
    fn default() -> Self {
        Connections {
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            live: Mutex::new(HashMap::new()),
            count: watch::Sender::new(0),
            timed_out: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }
}

impl Connections {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// How many connections are open.
    pub(crate) fn open(&self) -> usize {
        *self.count.borrow()
    }

    /// Registers a new connection under `max`, first closing the connection that has waited
    /// longest for a request if need be; `None` when every connection is busy. One lock for
    /// both, so concurrent accepts never overshoot the cap.
    fn admit(&self, max: usize) -> Option<(u64, Arc<ConnState>)> {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        if live.len() >= max {
            let victim = live
                .iter()
                .filter(|(_, c)| c.busy.load(Ordering::Acquire) == 0)
                .min_by_key(|(id, c)| (c.waiting_since.load(Ordering::Acquire), **id))
                .map(|(id, _)| *id);
            let victim = victim.and_then(|id| live.remove(&id))?;
            victim.evict.notify_one();
            self.evicted.fetch_add(1, Ordering::Relaxed);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(ConnState {
            busy: AtomicUsize::new(0),
            served: AtomicBool::new(false),
            waiting_since: AtomicU64::new(self.now_ms()),
            first_byte: AtomicU64::new(0),
            wake: Notify::new(),
            evict: Notify::new(),
        });
        live.insert(id, state.clone());
        self.count.send_replace(live.len());
        Some((id, state))
    }

    fn unregister(&self, id: u64) {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.remove(&id);
        self.count.send_replace(live.len());
    }

    /// When the connection's wait for a request ends, in ms after the epoch (`None` while a
    /// request is in progress).
    fn deadline(&self, c: &ConnState, limits: &Limits) -> Option<u64> {
        if c.busy.load(Ordering::Acquire) > 0 {
            return None;
        }
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let header = ms(limits.header_read_timeout);
        let first = c.first_byte.load(Ordering::Acquire);
        if first > 0 {
            return Some((first - 1).saturating_add(header));
        }
        let since = c.waiting_since.load(Ordering::Acquire);
        if c.served.load(Ordering::Acquire) {
            Some(since.saturating_add(ms(limits.idle_timeout)))
        } else {
            Some(since.saturating_add(header))
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves; then raises `stop` (which ends the
/// live streams and lets each connection finish its request in progress) and waits until
/// every connection has closed.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    conns: Arc<Connections>,
    limits: Limits,
    stop: watch::Sender<bool>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let Some((id, state)) = conns.admit(limits.connections_max) else {
            conns.refused.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let task = connection(
            (tcp, ClientAddr(peer.ip())),
            (id, state),
            router.clone(),
            conns.clone(),
            (limits, stop.subscribe()),
        );
        tokio::spawn(task);
    }
    drop(listener);
    stop.send_replace(true);
    let mut count = conns.count.subscribe();
    let _ = count.wait_for(|n| *n == 0).await;
}

/// Serves one connection under its watchdog.
async fn connection(
    (tcp, client): (TcpStream, ClientAddr),
    (id, state): (u64, Arc<ConnState>),
    router: Router,
    conns: Arc<Connections>,
    (limits, mut stop): (Limits, watch::Receiver<bool>),
) {
    let io = TokioIo::new(Watched {
        inner: tcp,
        state: state.clone(),
        conns: conns.clone(),
    });
    let service = Tracked {
        inner: TowerToHyperService::new(router),
        client,
        state: state.clone(),
        conns: conns.clone(),
    };
    let mut conn = pin!(hyper::server::conn::http1::Builder::new().serve_connection(io, service));
    let mut stopping = false;
    loop {
        let deadline = conns.deadline(&state, &limits);
        let expiry = async {
            match deadline {
                Some(ms) => {
                    tokio::time::sleep_until((conns.epoch + Duration::from_millis(ms)).into())
                        .await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = conn.as_mut() => break,
            () = state.evict.notified() => break,
            () = state.wake.notified() => {}
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() || *stop.borrow() {
                    conn.as_mut().graceful_shutdown();
                }
            }
            () = expiry => {
                if conns.deadline(&state, &limits).is_some_and(|d| d <= conns.now_ms()) {
                    conns.timed_out.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
        }
    }
    conns.unregister(id);
}

/// The address of the peer a request came from (the TCP connection's: a proxy in front of
/// the server is one client), in each request's extensions. Absent when the router is driven
/// without a socket (tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClientAddr(pub(crate) std::net::IpAddr);

/// The socket, noting when the first byte of a request head arrives.
struct Watched {
    inner: TcpStream,
    state: Arc<ConnState>,
    conns: Arc<Connections>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        let s = &self.state;
        if buf.filled().len() > before
            && s.busy.load(Ordering::Acquire) == 0
            && s.first_byte.load(Ordering::Acquire) == 0
        {
            s.first_byte
                .store(self.conns.now_ms() + 1, Ordering::Release);
            s.wake.notify_one();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A request in progress: from its head's arrival until its response body is sent or dropped.
struct Busy {
    state: Arc<ConnState>,
    conns: Arc<Connections>,
}

impl Busy {
    fn begin(state: &Arc<ConnState>, conns: &Arc<Connections>) -> Busy {
        state.busy.fetch_add(1, Ordering::AcqRel);
        state.served.store(true, Ordering::Release);
        state.first_byte.store(0, Ordering::Release);
        Busy {
            state: state.clone(),
            conns: conns.clone(),
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.state
            .waiting_since
            .store(self.conns.now_ms(), Ordering::Release);
        self.state.busy.fetch_sub(1, Ordering::AcqRel);
        self.state.wake.notify_one();
    }
}

/// The router, marking each request busy until its response has gone.
#[derive(Clone)]
struct Tracked {
    inner: TowerToHyperService<Router>,
    client: ClientAddr,
    state: Arc<ConnState>,
    conns: Arc<Connections>,
}

type Answer = Pin<Box<dyn Future<Output = Result<Response<Guarded>, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for Tracked {
    type Response = Response<Guarded>;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, mut request: Request<Incoming>) -> Answer {
        request.extensions_mut().insert(self.client);
        let busy = Busy::begin(&self.state, &self.conns);
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await?;
            Ok(response.map(|body| Guarded { body, _busy: busy }))
        })
    }
}

/// A response body that keeps its request busy until it is done.
struct Guarded {
    body: Body,
    _busy: Busy,
}

impl hyper::body::Body for Guarded {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
