//! `jiancha serve`: the HTTP API, the live alert stream and the supervision dashboard over the
//! event log, until Ctrl-C (or SIGTERM): then the live streams end, requests in flight finish
//! and the engine stops.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::builder::TypedValueParser as _;
use jiancha_server::notify::NotifyConfig;
use jiancha_server::{limits, App, Auth, Limits, ServerConfig};
use jiancha_store::Clock;

use crate::error::user_error;

/// Arguments of `jiancha serve`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha serve\n  \
    jiancha serve --addr 0.0.0.0:8080 --auth /etc/jiancha/tokens.toml\n  \
    jiancha serve --addr 0.0.0.0:8080 --auth tokens.toml --public-secret public.key \
    --trusted-proxy 10.0.0.0/8\n  \
    jiancha --db sqlite:///var/lib/jiancha/district.db serve --auth tokens.toml\n\n\
    The dashboard is at http://ADDR/ (a link may carry the token: http://ADDR/#token=…), the \
    API under /api/v1 (its OpenAPI document at /api/v1/openapi.json), /healthz and /metrics \
    at the root. The public's pages need no token: the disclosure of closed periods at \
    /public/ and, with --public-secret FILE (the file `jiancha receipt` reads), the progress \
    lookup at /public/lookup and GET /public/v1/cases/{receipt}?code=CODE, limited to \
    --public-lookups-per-minute per client address (behind a reverse proxy, name it with \
    --trusted-proxy so that each citizen counts, not the proxy).\n\
    The auth file lists [[token]] tables with name, role (supervisor, center, unit, \
    evaluator), org (the org path; not for evaluators) and sha256 (the token's SHA-256 in \
    hex: printf %s \"$TOKEN\" | sha256sum). Without --auth every request is trusted, so only \
    a loopback --addr is allowed.\n\
    Connections are capped (--max-connections) and timed: a request head must arrive within \
    --header-timeout seconds, a body within --body-timeout, and a kept-alive connection is \
    closed after --idle-timeout idle seconds; a live alert stream is never cut by them.")]
pub struct ServeArgs {
    /// The address to listen on (IP:PORT).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// The auth file of bearer tokens (TOML, tokens stored as SHA-256 hashes).
    #[arg(long, value_name = "FILE")]
    pub auth: Option<PathBuf>,
    /// The most open connections; at the cap a new one closes the connection that has waited
    /// longest for a request. Keep it below the open-file limit (ulimit -n).
    #[arg(long, value_name = "N", default_value_t = limits::CONNECTIONS_MAX,
          value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    pub max_connections: usize,
    /// Seconds a client has to send a whole request head.
    #[arg(long, value_name = "SECS", default_value_t = limits::HEADER_READ_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout: u64,
    /// Seconds a request body may take to arrive whole (408 beyond).
    #[arg(long, value_name = "SECS", default_value_t = limits::BODY_READ_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout: u64,
    /// Seconds a kept-alive connection may sit idle between requests.
    #[arg(long, value_name = "SECS", default_value_t = limits::IDLE_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,
    /// The notification file (TOML): who is told of which alerts, by webhook.
    #[arg(long, value_name = "FILE")]
    pub notify: Option<PathBuf>,
    /// The public secret (the file `jiancha receipt --public-secret` reads): turns on the
    /// public progress lookup; without it every lookup answers 404.
    #[arg(long, value_name = "FILE", env = "JIANCHA_PUBLIC_SECRET")]
    pub public_secret: Option<PathBuf>,
    /// Public lookups allowed per client address per minute (429 beyond).
    #[arg(long, value_name = "N", default_value_t = limits::PUBLIC_LOOKUPS_PER_MINUTE,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub public_lookups_per_minute: u32,
    /// A reverse proxy in front of the server (an address or a network, such as 10.0.0.0/8;
    /// repeat for several): when a request comes from one, the public lookup's client is the
    /// first address of its X-Forwarded-For, read from the right, that is not a trusted proxy.
    /// Without it the header is ignored and the client is the TCP peer.
    #[arg(long = "trusted-proxy", value_name = "ADDR[/PREFIX]")]
    pub trusted_proxies: Vec<jiancha_server::forwarded::Network>,
}

impl ServeArgs {
    /// The server's limits: the defaults, with the connection cap and timeouts given.
    pub fn limits(&self) -> Limits {
        Limits {
            connections_max: self.max_connections,
            header_read_timeout: Duration::from_secs(self.header_timeout),
            body_read_timeout: Duration::from_secs(self.body_timeout),
            idle_timeout: Duration::from_secs(self.idle_timeout),
            public_lookups_per_minute: self.public_lookups_per_minute,
            ..Limits::default()
        }
    }
}

/// Runs `jiancha serve` over the log `db`; `database` is `--db` as given (before `--district`
/// chose a schema of it), whose district schemas `GET /api/v1/province/reports` rolls up when
/// it is PostgreSQL.
pub async fn run(
    db: &str,
    database: &str,
    clock: Arc<dyn Clock>,
    args: &ServeArgs,
) -> anyhow::Result<()> {
    let auth = match &args.auth {
        Some(path) => Some(Auth::load(path).map_err(|e| user_error(format!("--auth: {e}")))?),
        None => None,
    };
    let notify = load_notify(args.notify.as_deref())?;
    let public_secret = match &args.public_secret {
        Some(path) => Some(crate::cmd::receipt::load_secret(path)?),
        None => None,
    };
    let public = if public_secret.is_some() {
        "the public lookup is on"
    } else {
        "no --public-secret: the public lookup is off"
    };
    jiancha_server::check_exposure(args.addr, auth.as_ref())
        .map_err(|e| user_error(format!("--addr: {e}")))?;
    let mode = match (&auth, &args.auth) {
        (Some(a), Some(path)) => format!("{} tokens from {}", a.len(), path.display()),
        _ => "no --auth: loopback only, every request is trusted".to_owned(),
    };
    let store = crate::open_store(db, clock.clone()).await?;
    let config = ServerConfig {
        auth,
        limits: args.limits(),
        notify,
        public_secret,
        simulated_clock: std::env::var_os(crate::CLOCK_ENV).is_some(),
        // The roll-up opens the districts from the database, whichever one this server serves
        // (a schema in the URL's search_path included).
        province_db: (database.starts_with("postgres://") || database.starts_with("postgresql://"))
            .then(|| jiancha_store::database_url(database)),
        trusted_proxies: jiancha_server::forwarded::TrustedProxies(args.trusted_proxies.clone()),
        ..ServerConfig::default()
    };
    let app = App::start(store.clone(), clock, config)
        .await
        .with_context(|| format!("cannot start the engine over {}", crate::shown_url(db)))?;
    let listener = jiancha_server::bind(args.addr).await?;
    let local = listener.local_addr().unwrap_or(args.addr);
    // The handlers are in place before the line that tells a supervisor it may stop us.
    let stop = stop_signal();
    eprintln!("jiancha serve: listening on http://{local} ({mode}; {public}); Ctrl-C stops");
    jiancha_server::run(listener, stop, app).await?;
    store.close().await;
    eprintln!("jiancha serve: stopped");
    Ok(())
}

/// Reads and checks `--notify FILE`, if given; a bad file is a refusal naming the place.
pub(crate) fn load_notify(path: Option<&Path>) -> anyhow::Result<Option<NotifyConfig>> {
    let Some(path) = path else { return Ok(None) };
    let config = NotifyConfig::load(path).map_err(|e| user_error(format!("--notify: {e}")))?;
    tracing::info!(
        recipients = config.recipients.len(),
        file = %path.display(),
        "notifications on"
    );
    Ok(Some(config))
}

/// Installs the handlers of Ctrl-C and SIGTERM (where there is one) now, and resolves on
/// either: a signal that comes as soon as the caller says it listens is not lost (a future that
/// installed them only when first polled left a window in which Ctrl-C killed the process).
pub(crate) fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let interrupt = signal(SignalKind::interrupt()).ok();
        let terminate = signal(SignalKind::terminate()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(interrupt) => {}
                () = wait(terminate) => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}
