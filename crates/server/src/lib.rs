//! The HTTP server of jiancha: the API under `/api/v1` (append events, read cases and alerts,
//! the bureau's supervision acts, reports, verification), the live alert stream (SSE), the
//! supervision dashboard at `/`, `/healthz` and `/metrics`, with bearer-token roles; and,
//! without a login, the public's pages under `/public` (the progress lookup by receipt number
//! and query code, and the disclosure of closed periods' figures: `public`, `public_pages`).
//!
//! [`App::start`] starts the engine over a store and the journal that feeds the live stream;
//! [`run`] serves an [`App`] on a listener until a shutdown future resolves, then ends the live
//! streams, lets requests in flight finish and stops the engine. Tests bind `127.0.0.1:0`.
//! Only this crate knows HTTP: the engine, projections and store below it know nothing of it.

#![warn(missing_docs)]

mod acts;
mod alerts;
pub mod auth;
mod body;
mod caselist;
mod cases;
mod closing;
mod cursor;
mod dashboard;
pub mod error;
mod events;
pub mod forwarded;
mod history;
mod insights;
mod journal;
pub mod limits;
mod listen;
mod me;
mod metrics;
pub mod notice;
pub mod notify;
mod orders;
mod overview;
mod params;
mod province;
pub mod public;
mod public_pages;
mod reports;
mod routes;
pub mod schemas;
mod spans;
mod sse;

#[cfg(test)]
mod names_tests;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use jiancha_engine::{alert_bus, Clock, Engine, EngineConfig};
use jiancha_store::EventStore;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

pub use auth::{token_hash, Act, Acting, Auth, AuthError, Caller, Powers, Principal, Role, Scope};
pub use error::{ApiError, At, ErrorKind, ServerError};
pub use limits::Limits;
pub use routes::route_table;

/// The prefix of the API.
pub const API_PREFIX: &str = "/api/v1";

/// How a server runs.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// The tokens; `None` trusts every request (loopback only, see [`check_exposure`]).
    pub auth: Option<Auth>,
    /// The limits enforced at the edge.
    pub limits: Limits,
    /// How the engine runs (its `bus` is set by the server).
    pub engine: EngineConfig,
    /// Who is told of which alerts (`serve --notify`); `None` tells nobody.
    pub notify: Option<notify::NotifyConfig>,
    /// The secret of the public lookup's query codes (`serve --public-secret`); `None` turns
    /// the lookup off (every lookup answers 404).
    pub public_secret: Option<public::PublicSecret>,
    /// The clock is simulated (`demo --serve`) or frozen (`JIANCHA_CLOCK`): `GET /api/v1/me`
    /// says so and the dashboard shows its time in the header.
    pub simulated_clock: bool,
    /// The PostgreSQL database (its URL without a schema of its own) whose district schemas
    /// `GET /api/v1/province/reports` rolls up; `None` (SQLite, memory) answers 404 there.
    pub province_db: Option<String>,
    /// The reverse proxies whose `X-Forwarded-For` names the public lookup's client
    /// (`serve --trusted-proxy`); none by default: the client is the TCP peer.
    pub trusted_proxies: forwarded::TrustedProxies,
}

/// What every request handler shares.
#[derive(Debug)]
pub(crate) struct State {
    pub engine: Arc<Engine>,
    pub store: Arc<dyn EventStore>,
    pub auth: Option<Auth>,
    pub limits: Limits,
    pub alert_config: jiancha_projections::AlertConfig,
    pub journal: Arc<journal::Journal>,
    pub metrics: metrics::Metrics,
    pub rate: limits::RateLimiter,
    pub sse_slots: sse::Slots,
    pub connections: Arc<listen::Connections>,
    pub verifications: Arc<Semaphore>,
    pub stop: watch::Receiver<bool>,
    /// The closed periods found so far.
    pub closes: closing::Closes,
    /// The secret of the public lookup's query codes; `None`: the lookup is off.
    pub public: Option<public::PublicSecret>,
    /// The public lookups per client address.
    pub public_limiter: limits::ClientLimiter,
    /// Whose `X-Forwarded-For` names the public lookup's client.
    pub trusted_proxies: forwarded::TrustedProxies,
    /// The steps of the cases looked up, while they stay as read.
    pub public_steps: public::Steps,
    /// The closed reports the public disclosure page shows, once computed.
    pub disclosed: public_pages::Disclosed,
    /// Whether the clock is simulated or frozen (see [`ServerConfig::simulated_clock`]).
    pub simulated_clock: bool,
    /// See [`ServerConfig::province_db`].
    pub province_db: Option<String>,
}

/// A started server: the engine, the journal of live alerts and the shared state, ready to be
/// served by [`run`] (or driven through [`App::router`] in tests).
#[derive(Debug)]
pub struct App {
    state: Arc<State>,
    stop: watch::Sender<bool>,
    feeder: Mutex<Option<JoinHandle<()>>>,
    notifier: Option<notify::Notifier>,
}

impl App {
    /// Starts the engine over `store` (it catches up with the whole log first) and the feeder
    /// of the live alert journal.
    pub async fn start(
        store: Arc<dyn EventStore>,
        clock: Arc<dyn Clock>,
        config: ServerConfig,
    ) -> Result<App, ServerError> {
        let ServerConfig {
            auth,
            limits,
            mut engine,
            notify,
            public_secret,
            simulated_clock,
            province_db,
            trusted_proxies,
        } = config;
        let (bus, bus_rx) = alert_bus();
        // Subscribed before the engine starts, so the alerts it delivers at startup are told.
        let notify = notify.map(|config| (config, bus.subscribe()));
        engine.bus = Some(bus);
        let alert_config = engine.alerts;
        // The live history begins at the head before the catch-up, so the alerts the engine
        // delivers at startup (published at the head it caught up to) join the first message.
        let floor = store
            .head()
            .await
            .map_err(jiancha_engine::EngineError::from)?
            .position;
        // The whole chain is verified once before the first append (the store does so when
        // asked first); asking now lets `/healthz` say from the start that a log is broken.
        {
            let store = store.clone();
            tokio::spawn(async move {
                if let Err(e) = store.check_chain().await {
                    tracing::error!(error = %e, "the chain could not be verified at start");
                }
            });
        }
        let engine = Arc::new(Engine::start(store.clone(), clock, engine).await?);
        let notifier = match notify {
            Some((config, alerts)) => Some(notify::start(engine.clone(), alerts, config)?),
            None => None,
        };
        let journal = Arc::new(journal::Journal::new(floor, limits.journal_messages_max));
        let (stop, stop_rx) = watch::channel(false);
        let feeder = tokio::spawn(journal::feed(
            engine.clone(),
            bus_rx,
            journal.clone(),
            stop_rx.clone(),
        ));
        let tokens = auth.as_ref().map_or(0, Auth::len);
        let state = Arc::new(State {
            engine,
            store,
            rate: limits::RateLimiter::new(limits.requests_per_token_per_second, tokens),
            sse_slots: sse::Slots::new(&limits, tokens),
            connections: Arc::new(listen::Connections::default()),
            verifications: Arc::new(Semaphore::new(limits::VERIFICATIONS_MAX)),
            auth,
            limits,
            alert_config,
            journal,
            metrics: metrics::Metrics::default(),
            stop: stop_rx,
            closes: closing::Closes::default(),
            public: public_secret,
            public_limiter: limits::ClientLimiter::new(
                limits.public_lookups_per_minute,
                limits.public_clients_max,
            ),
            trusted_proxies,
            public_steps: public::Steps::default(),
            disclosed: public_pages::Disclosed::default(),
            simulated_clock,
            province_db,
        });
        Ok(App {
            state,
            stop,
            feeder: Mutex::new(Some(feeder)),
            notifier,
        })
    }

    /// The router: the API, `/healthz`, `/metrics` and the dashboard.
    pub fn router(&self) -> Router {
        routes::router(self.state.clone())
    }

    /// The position the live stream is complete up to: a new stream starts after it.
    pub fn live_position(&self) -> u64 {
        self.state.journal.head()
    }

    /// The notifications' outbox, when `ServerConfig::notify` turned it on.
    pub fn notifier(&self) -> Option<&notify::Notifier> {
        self.notifier.as_ref()
    }

    /// The engine behind the server.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.state.engine
    }

    /// Ends the live streams and the journal's feeder, then stops the engine. Calling it again
    /// does nothing.
    pub async fn shutdown(&self) -> Result<(), ServerError> {
        stop_task(&self.stop, &self.feeder).await;
        if let Some(notifier) = &self.notifier {
            notifier.shutdown().await;
        }
        self.state.engine.shutdown().await?;
        Ok(())
    }
}

/// Tells a background task to stop and waits for it to end, the first time only (the task is
/// taken out of `task`). The task only ends: a panic in it has been logged by tokio.
pub(crate) async fn stop_task(stop: &watch::Sender<bool>, task: &Mutex<Option<JoinHandle<()>>>) {
    stop.send_replace(true);
    let task = task.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(task) = task {
        let _ = task.await;
    }
}

/// Refuses to listen beyond this machine without an auth file.
pub fn check_exposure(addr: SocketAddr, auth: Option<&Auth>) -> Result<(), ServerError> {
    if auth.is_none() && !addr.ip().is_loopback() {
        return Err(ServerError::ExposedWithoutAuth { addr });
    }
    Ok(())
}

/// Binds a listener.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })
}

/// Serves `app` on `listener` until `shutdown` resolves; then ends the live streams, waits for
/// the requests in flight and stops the engine. Connections are capped and timed as
/// [`Limits`] says (see `listen`).
pub async fn run(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    app: App,
) -> Result<(), ServerError> {
    let router = app.router();
    let connections = app.state.connections.clone();
    let limits = app.state.limits;
    listen::serve(
        listener,
        router,
        connections,
        limits,
        app.stop.clone(),
        shutdown,
    )
    .await;
    app.shutdown().await
}

/// Waits (at most [`limits::ENGINE_WAIT_MAX`]) until the engine has folded in everything this
/// process had committed when called: a read after an append sees it.
pub(crate) async fn caught_up(state: &State) {
    let target = *state.store.committed().borrow();
    if state.engine.position() >= target {
        return;
    }
    let waited = tokio::time::timeout(limits::ENGINE_WAIT_MAX, state.engine.wait_for(target)).await;
    if !matches!(waited, Ok(Ok(_))) {
        tracing::warn!(
            position = target,
            "reading before the engine folded the log in"
        );
    }
}

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(e) => ApiError::internal(format!("cannot encode a response: {e}")).into_response(),
    }
}

/// A query string that does not fit an endpoint.
pub(crate) fn query_error(rejection: axum::extract::rejection::QueryRejection) -> ApiError {
    let text = rejection.body_text();
    // `Failed to deserialize query string: limit: invalid digit …` names the parameter; an
    // unknown parameter or a malformed query string names none.
    let detail = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(&text);
    let field = detail
        .split_once(": ")
        .map(|(name, _)| name)
        .filter(|name| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
        .unwrap_or("query");
    ApiError::invalid(format!("query: {text}")).field(field.to_owned())
}

/// One of the few slots for a replay of the whole log (a verification, a closed period's
/// report), or 429 naming `what` is already running.
pub(crate) fn replay_slot(
    state: &State,
    what: &str,
) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    state
        .verifications
        .clone()
        .try_acquire_owned()
        .map_err(|_| {
            ApiError::new(
                ErrorKind::TooManyRequests,
                format!("{what} is already running: try again when it ends"),
            )
        })
}
