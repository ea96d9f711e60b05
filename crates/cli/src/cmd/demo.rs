//! `jiancha demo`: a simulated district run through the live engine in accelerated time. The
//! simulator's events are entered as their instants come on a manual clock; the engine's
//! scheduler issues cards as the clock passes their thresholds; at the end a one-screen summary
//! (`demo_summary`): the district, the units with the most red cards, the targets and who
//! misses them.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use jiancha_engine::{Engine, EngineConfig};
use jiancha_events::{EventData, NewEvent};
use jiancha_projections::Lang;
use jiancha_sim::SimConfig;
use jiancha_store::{Clock, EventStore, ManualClock};

use crate::error::user_error;

/// Simulated time gathered into one append before the clock moves on.
const BATCH_SPAN: Duration = Duration::hours(1);

/// Arguments of `jiancha demo`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha demo\n  \
    jiancha demo --cases 5000 --seed 3\n  \
    jiancha demo --file /tmp/district.db --per-day 60\n  \
    jiancha demo --serve --speed 24   (then open http://127.0.0.1:8080/)\n\n\
    The demo writes its own SQLite log (recreated on every run; --db is not used) and leaves it \
    behind for the other commands: `jiancha --db sqlite://jiancha-demo.db alerts --open`.")]
pub struct DemoArgs {
    /// The demo's log file, recreated on every run.
    #[arg(long, default_value = "jiancha-demo.db")]
    pub file: PathBuf,
    /// Cases to simulate.
    #[arg(long, default_value_t = 3_000)]
    pub cases: u64,
    /// The simulator's seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Applications per ordinary working day (fewer days simulated with more).
    #[arg(long = "per-day", default_value_t = 30)]
    pub per_day: u32,
    /// The first day applications arrive (YYYY-MM-DD).
    #[arg(long, default_value = "2026-01-05")]
    pub start: String,
    /// Keep the server and dashboard running while the simulation plays on the simulated
    /// clock.
    #[arg(long)]
    pub serve: bool,
    /// With --serve: the address to listen on (loopback only: the demo has no auth).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// With --serve: simulated hours per real second.
    #[arg(long, default_value_t = 12.0)]
    pub speed: f64,
    /// With --serve: the notification file (TOML), as `serve --notify` reads it.
    #[arg(long, value_name = "FILE", requires = "serve")]
    pub notify: Option<PathBuf>,
}

/// Whether the demo may replace what is at `path`: nothing, an empty file, or a SQLite
/// database that is not the log `--db` names (a previous demo's). Anything else is refused
/// before anything is touched: a text file, a directory, the user's own log.
fn replaceable(path: &std::path::Path, db: &str) -> anyhow::Result<()> {
    use std::io::Read;
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(user_error(format!("--file: {}: {e}", path.display()))),
    };
    if meta.is_dir() {
        return Err(user_error(format!(
            "--file: {} is a directory",
            path.display()
        )));
    }
    if meta.len() == 0 {
        return Ok(());
    }
    let mut magic = [0u8; 16];
    let sqlite = std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == b"SQLite format 3\0";
    if !sqlite {
        return Err(user_error(format!(
            "--file: {} exists and is no SQLite log: the demo recreates its file on every run, \
             so it will not replace it (name another file)",
            path.display()
        )));
    }
    let same = jiancha_store::sqlite::file_of(db)
        .and_then(|f| f.canonicalize().ok())
        .is_some_and(|f| path.canonicalize().is_ok_and(|p| p == f));
    if same {
        return Err(user_error(format!(
            "--file: {} is the log --db names: the demo recreates its file on every run, so it \
             will not replace it (name another file)",
            path.display()
        )));
    }
    Ok(())
}

fn fresh_file(path: &std::path::Path) -> anyhow::Result<String> {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(user_error(format!(
                    "cannot replace {}: {e}",
                    path.display()
                )))
            }
        }
    }
    Ok(format!("sqlite://{}", path.display()))
}

/// Runs the demo.
pub async fn run(args: &DemoArgs, db: &str, lang: Lang) -> anyhow::Result<()> {
    let start = NaiveDate::parse_from_str(&args.start, "%Y-%m-%d")
        .map_err(|e| user_error(format!("--start: {:?}: {e}", args.start)))?;
    let config = SimConfig {
        cases: args.cases,
        seed: args.seed,
        start,
        cases_per_workday: args.per_day,
        ..SimConfig::default()
    };
    config.validate().map_err(|e| user_error(e.to_string()))?;
    let notify = crate::cmd::serve::load_notify(args.notify.as_deref())?;
    let total = jiancha_sim::events(&config)?.count() as u64;
    if args.serve {
        jiancha_server::check_exposure(args.addr, None)
            .map_err(|e| user_error(format!("--addr: {e}")))?;
    }
    replaceable(&args.file, db)?;
    let url = fresh_file(&args.file)?;
    let clock = ManualClock::new(clock_start(start)?);
    let store = crate::open_store(&url, Arc::new(clock.clone())).await?;
    if args.serve {
        return serve(args, store, clock, &config, notify, lang).await;
    }
    let bar = crate::progress::bar(Some(total), "simulate");
    let run = drive(store.clone(), &clock, &config, &|n| bar.inc(n)).await?;
    bar.finish_and_clear();
    summarize(&run.engine, &*store, args, (start, run.last_day), lang).await?;
    run.engine.shutdown().await?;
    store.close().await;
    Ok(())
}

/// `demo --serve`: the server and dashboard over the demo's log, with the simulation fed at a
/// watchable pace on the simulated clock; it keeps serving until Ctrl-C.
async fn serve(
    args: &DemoArgs,
    store: Arc<dyn EventStore>,
    clock: ManualClock,
    config: &SimConfig,
    notify: Option<jiancha_server::notify::NotifyConfig>,
    lang: Lang,
) -> anyhow::Result<()> {
    jiancha_server::check_exposure(args.addr, None)
        .map_err(|e| user_error(format!("--addr: {e}")))?;
    let app = jiancha_server::App::start(
        store.clone(),
        Arc::new(clock.clone()),
        jiancha_server::ServerConfig {
            notify,
            simulated_clock: true,
            ..jiancha_server::ServerConfig::default()
        },
    )
    .await?;
    let engine = app.engine().clone();
    let listener = jiancha_server::bind(args.addr).await?;
    let local = listener.local_addr().unwrap_or(args.addr);
    let (stop_server, stop_feed) = (
        crate::cmd::serve::stop_signal(),
        crate::cmd::serve::stop_signal(),
    );
    eprintln!(
        "jiancha demo: dashboard at http://{local}/ — {} simulated hours a second; Ctrl-C stops",
        args.speed
    );
    let server = tokio::spawn(jiancha_server::run(listener, stop_server, app));
    let fed = tokio::select! {
        fed = feed(&engine, &*store, &clock, config, &|_| {}, Some(args.speed)) => Some(fed?),
        () = stop_feed => None,
    };
    if let Some((last_day, _)) = fed {
        summarize(&engine, &*store, args, (config.start, last_day), lang).await?;
        eprintln!("jiancha demo: the simulation is over; still serving until Ctrl-C");
        server.await??;
    }
    store.close().await;
    Ok(())
}

/// Where a simulation's clock starts: a week before the first arrivals (the catalog is
/// defined before them).
pub fn clock_start(start: NaiveDate) -> anyhow::Result<DateTime<Utc>> {
    Ok(
        jiancha_events::parse_timestamp(&format!("{start}T00:00:00+08:00"))?.to_utc()
            - Duration::days(7),
    )
}

/// A simulation driven through the live engine.
#[derive(Debug)]
pub struct Driven {
    /// The engine, still running.
    pub engine: Engine,
    /// The last day anything was entered.
    pub last_day: NaiveDate,
    /// The last day an application arrived.
    pub last_arrival: NaiveDate,
}

/// Enters a simulation's events into `store` as their instants come on `clock`, with a live
/// engine following, then runs the clock to the end of the last month; `progress` hears how
/// many events went in.
pub async fn drive(
    store: Arc<dyn EventStore>,
    clock: &ManualClock,
    config: &SimConfig,
    progress: &dyn Fn(u64),
) -> anyhow::Result<Driven> {
    let engine = Engine::start(
        store.clone(),
        Arc::new(clock.clone()),
        EngineConfig::default(),
    )
    .await?;
    let (last_day, last_arrival) = feed(&engine, &*store, clock, config, progress, None).await?;
    Ok(Driven {
        engine,
        last_day,
        last_arrival,
    })
}

/// Feeds a simulation to a running engine (see [`drive`]). With a `pace` (simulated hours per
/// real second) it waits between batches, so a dashboard watches the district live.
pub async fn feed(
    engine: &Engine,
    store: &dyn EventStore,
    clock: &ManualClock,
    config: &SimConfig,
    progress: &dyn Fn(u64),
    pace: Option<f64>,
) -> anyhow::Result<(NaiveDate, NaiveDate)> {
    let start = config.start;
    let begin = clock.now();
    let mut batch: Vec<NewEvent> = Vec::new();
    let mut batch_at = begin;
    let mut last_arrival = start;
    for item in jiancha_sim::events(config)? {
        let sim = item?;
        let at = sim.entered_at.to_utc();
        if matches!(sim.event.data, EventData::Submitted(_)) {
            last_arrival = last_arrival.max(jiancha_projections::instant::china_date(
                &sim.event.occurred_at,
            ));
        }
        if !batch.is_empty() && at - batch_at > BATCH_SPAN {
            progress(batch.len() as u64);
            enter(engine, store, clock, std::mem::take(&mut batch), batch_at).await?;
            if let Some(hours_per_second) = pace {
                let hours = (at - batch_at).num_minutes() as f64 / 60.0;
                let wait = (hours / hours_per_second.max(0.01)).min(PACE_WAIT_MAX_SECONDS);
                tokio::time::sleep(std::time::Duration::from_secs_f64(wait)).await;
            }
        }
        batch_at = batch_at.max(at);
        batch.push(sim.event);
    }
    progress(batch.len() as u64);
    enter(engine, store, clock, batch, batch_at).await?;
    // Let the clock run to the end of the last month so its deadlines fall due too.
    let last_day = jiancha_projections::instant::date_of(batch_at.timestamp_millis());
    clock.set(end_of_month(last_day));
    engine.tick().await?;
    Ok((last_day, last_arrival))
}

/// The longest real wait between two batches of a paced demo (nights and weekends).
const PACE_WAIT_MAX_SECONDS: f64 = 2.0;

async fn enter(
    engine: &Engine,
    store: &dyn EventStore,
    clock: &ManualClock,
    batch: Vec<NewEvent>,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    clock.set(at);
    if batch.is_empty() {
        return Ok(());
    }
    let outcome = store.append(batch).await?;
    if let Some(last) = outcome.positions.iter().max() {
        engine.wait_for(*last).await?;
    }
    engine.tick().await?;
    Ok(())
}

fn end_of_month(day: NaiveDate) -> DateTime<Utc> {
    let (y, m) = if day.month() == 12 {
        (day.year() + 1, 1)
    } else {
        (day.year(), day.month() + 1)
    };
    let first = NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(day);
    let at = jiancha_projections::instant::start_of(first) - 1;
    DateTime::from_timestamp_millis(at).unwrap_or_default()
}

/// The end-of-run summary (`demo_summary`), in the language asked for.
async fn summarize(
    engine: &Engine,
    store: &dyn EventStore,
    args: &DemoArgs,
    (start, last_day): (NaiveDate, NaiveDate),
    lang: Lang,
) -> anyhow::Result<()> {
    let run = crate::cmd::demo_summary::Run {
        file: &args.file,
        start,
        last_day,
    };
    crate::cmd::demo_summary::summarize(engine, store, &run, lang).await
}
