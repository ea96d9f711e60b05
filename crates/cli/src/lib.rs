//! The `jiancha` command line: argument parsing and the commands behind it. The binary's
//! `main` only calls [`main_with_args`]; each command lives in its own module under `cmd`.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a CLI speaks on stdout and stderr"
)]

pub mod cmd;
pub mod error;
pub mod lang;
pub mod output;
pub mod progress;
pub mod stdout;

use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use jiancha_calendar::Calendar;

use crate::error::{exit_code_of, EXIT_BAD_INPUT, EXIT_OK};

/// The default event log: a SQLite file in the working directory.
pub const DEFAULT_DB: &str = "sqlite://jiancha.db";

/// jiancha: electronic supervision of approval cases, derived from an append-only event log.
#[derive(Debug, Parser)]
#[command(
    name = "jiancha",
    version,
    about = "Electronic supervision of administrative approval cases (行政审批电子监察)",
    long_about = "Electronic supervision of administrative approval cases (行政审批电子监察).\n\n\
        Every case action is appended to an event log; deadlines, cards, the assessment ledger \
        and the audit trail are derived from it alone.",
    after_help = "Examples:\n  \
        jiancha import --historical examples/district.jsonl\n  \
        jiancha verify\n  \
        jiancha export --from 100 > tail.jsonl\n  \
        jiancha --db sqlite:///var/lib/jiancha/district.db verify\n  \
        jiancha --db postgres://jiancha@db.example/province report --period 2026-03\n  \
        jiancha --db postgres://jiancha@db.example/province --district jiangjin verify\n  \
        jiancha --db postgres://jiancha@db.example/province province report --period 2026-03 \
        --districts jiangjin,yubei\n  \
        jiancha calendar due 2026-09-28 5\n  \
        jiancha --lang zh alerts --open\n\n\
        --lang zh|en chooses the language of tables for people (rule names, statuses, \
        headings, legends); without it LC_ALL, LC_MESSAGES or LANG decides (zh for zh_*, \
        else en). JSON, CSV and JSONL keep their field names and codes in every language.\n\n\
        Exit codes: 0 success, 1 a check found a problem, 2 bad input or usage (nothing \
        written), 3 infrastructure failure."
)]
pub struct Cli {
    /// The event log: sqlite://FILE (or a plain file path), or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = "JIANCHA_DB", default_value = DEFAULT_DB)]
    pub db: String,

    /// With a postgres:// --db: the district whose log to use, a schema of that database
    /// (a plain lowercase identifier: a-z, 0-9, _; created and migrated on first use). A SQLite
    /// district is its own file: give it with --db alone.
    #[arg(long, global = true, env = "JIANCHA_DISTRICT", value_name = "NAME")]
    pub district: Option<String>,

    /// The language of tables for people: zh (中文) or en; defaults to the locale (LC_ALL,
    /// LC_MESSAGES, LANG: zh for zh_*, else en). JSON, CSV and JSONL never change.
    #[arg(long, global = true, value_enum, value_name = "LANG")]
    pub lang: Option<lang::LangArg>,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Append a JSONL file of events to the log, atomically: all of it or nothing.
    Import(cmd::import::ImportArgs),
    /// Write the log as JSONL, with positions, versions, stamps and hashes.
    Export(cmd::export::ExportArgs),
    /// Check the whole log against its hash chain.
    Verify(cmd::verify::VerifyArgs),
    /// Working-day arithmetic and the official holiday arrangements.
    Calendar(cmd::calendar::CalendarArgs),
    /// One case's deadline state.
    Case(cmd::case::CaseArgs),
    /// The item catalog and the org names: list, show, define.
    Catalog(cmd::catalog::CatalogArgs),
    /// Alerts (yellow and red cards) evaluated at an instant.
    Alerts(cmd::alerts::AlertsArgs),
    /// A case's timeline: its events and what each changed, as of an instant.
    History(cmd::history::HistoryArgs),
    /// One case's evidence pack (JSON): events with hashes, calendar, rules, cards, ledger.
    Evidence(cmd::evidence::EvidenceArgs),
    /// The 监察建议书 (supervision notice) of an escalated card, as printable HTML.
    Notice(cmd::notice::NoticeArgs),
    /// Assessment figures per org, item or channel and period, from the ledger.
    Report(cmd::report::ReportArgs),
    /// 辅助决策: bottlenecks, promised-limit recommendations, workload forecast, hot spots.
    Insight(cmd::insight::InsightArgs),
    /// The receipt number and query code of a case, for the public lookup (办件查询).
    Receipt(cmd::receipt::ReceiptArgs),
    /// Simulate a district through the live engine in accelerated time, then summarise it.
    Demo(cmd::demo::DemoArgs),
    /// Serve the HTTP API, the live alert stream and the dashboard.
    Serve(cmd::serve::ServeArgs),
    /// Generate a realistic district's events as JSONL (seeded, reproducible).
    Simulate(cmd::simulate::SimulateArgs),
    /// The event and rule references (Markdown), generated from the code.
    Docs(cmd::docs::DocsArgs),
    /// Districts side by side in one PostgreSQL database: the province's roll-up report.
    Province(cmd::province::ProvinceArgs),
}

/// Parses `args`, runs the command and turns its result into an exit code.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                EXIT_BAD_INPUT
            } else {
                EXIT_OK
            });
        }
    };
    init_tracing();
    match run(cli) {
        Ok(()) => ExitCode::from(EXIT_OK),
        // The reader has what it wanted (`jiancha alerts | head`): end quietly.
        Err(e) if stdout::is_closed(&e) => ExitCode::from(EXIT_OK),
        Err(e) => {
            let code = exit_code_of(&e);
            if code != error::EXIT_CHECK_FAILED || !e.to_string().is_empty() {
                let _ = writeln!(std::io::stderr(), "error: {}", describe(&e));
            }
            ExitCode::from(code)
        }
    }
}

/// The error and its causes, skipping a cause whose text the previous message already holds.
fn describe(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("JIANCHA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colours_on_stderr())
        .try_init();
}

/// Colours in diagnostics only for a person at a terminal: never into a file, a pipe or a
/// log collector, and never when `NO_COLOR` is set (to anything but the empty string).
fn colours_on_stderr() -> bool {
    use std::io::IsTerminal as _;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    std::io::stderr().is_terminal() && !no_color
}

/// Runs a parsed command line.
pub fn run(mut cli: Cli) -> anyhow::Result<()> {
    check_clock_env(&cli.command)?;
    if !matches!(cli.command, Command::Serve(_) | Command::Demo(_)) {
        output::remove_spooled_on_interrupt();
    }
    let lang = lang::resolve(cli.lang);
    if let Command::Calendar(args) = &cli.command {
        if args.org.is_none() {
            // Pure arithmetic: no runtime, no event log.
            let mut stdin = std::io::stdin().lock();
            let mut stdout = std::io::BufWriter::new(crate::stdout::lock());
            cmd::calendar::run(args, &Calendar::national(), &mut stdin, &mut stdout)?;
            stdout.flush()?;
            return Ok(());
        }
    }
    if let Command::Simulate(args) = &cli.command {
        return cmd::simulate::run(args);
    }
    if let Command::Docs(args) = &cli.command {
        return cmd::docs::run(args);
    }
    let db = district_db(&cli)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let clock = clock_from_env()?;
    let database = std::mem::replace(&mut cli.db, db);
    runtime.block_on(async move {
        match cli.command {
            Command::Import(args) => cmd::import::run(&cli.db, clock, &args).await,
            Command::Export(args) => cmd::export::run(&cli.db, clock, &args).await,
            Command::Verify(args) => cmd::verify::run(&cli.db, clock, &args).await,
            Command::Case(args) => cmd::case::run(&cli.db, clock, &args, lang).await,
            Command::Catalog(args) => cmd::catalog::run(&cli.db, clock, &args).await,
            Command::Alerts(args) => cmd::alerts::run(&cli.db, clock, &args, lang).await,
            Command::Report(args) => cmd::report::run(&cli.db, clock, &args, lang).await,
            Command::Insight(args) => cmd::insight::run(&cli.db, clock, &args, lang).await,
            Command::Receipt(args) => cmd::receipt::run(&cli.db, clock, &args, lang).await,
            Command::History(args) => cmd::history::run(&cli.db, clock, &args).await,
            Command::Evidence(args) => cmd::evidence::run(&cli.db, clock, &args).await,
            Command::Notice(args) => cmd::notice::run(&cli.db, clock, &args).await,
            Command::Demo(args) => cmd::demo::run(&args, &cli.db, lang).await,
            Command::Serve(args) => cmd::serve::run(&cli.db, &database, clock, &args).await,
            Command::Province(args) => cmd::province::run(&database, clock, &args, lang).await,
            Command::Calendar(args) => {
                let org = args.org.as_deref().unwrap_or_default();
                let store = open_existing_store(&cli.db, clock).await?;
                let calendar = cmd::calendar::of_log(&store, org).await;
                store.close().await;
                let calendar = calendar?;
                let mut stdin = std::io::stdin().lock();
                let mut stdout = std::io::BufWriter::new(crate::stdout::lock());
                cmd::calendar::run(&args, &calendar, &mut stdin, &mut stdout)?;
                stdout.flush()?;
                Ok(())
            }
            Command::Simulate(_) | Command::Docs(_) => Ok(()),
        }
    })
}

/// The log `--db` and `--district` name together: `--db` itself without `--district`, else
/// the district's schema in the PostgreSQL database `--db` names. `province` names its
/// districts itself and refuses `--district`.
fn district_db(cli: &Cli) -> anyhow::Result<String> {
    let Some(name) = &cli.district else {
        return Ok(cli.db.clone());
    };
    if matches!(cli.command, Command::Province(_)) {
        return Err(error::user_error(
            "--district (or JIANCHA_DISTRICT): province names its districts with --districts; \
             give --db the database alone",
        ));
    }
    jiancha_store::district_url(&cli.db, name)
        .map_err(|e| error::user_error(format!("--district: {e}")))
}

/// The environment variable that freezes the clock (RFC 3339), for tests and replays of
/// scenarios: the writer stamps `recorded_at` with it and `--now` defaults to it. Honoured only
/// by a debug build (what the tests run); a release build refuses to start any command with it
/// set, so the shipped binary cannot stamp `recorded_at` at will. `demo` runs on its own
/// simulated clock (`--start`) and never reads it.
pub const CLOCK_ENV: &str = "JIANCHA_CLOCK";

/// Set (to anything) in a debug build to have it treat [`CLOCK_ENV`] as a release build does,
/// so that the tests can show the refusal with the binary they run. Meaningless in a release
/// build, which refuses anyway: it can only make a build stricter.
pub const RELEASE_CLOCK_RULES_ENV: &str = "JIANCHA_RELEASE_CLOCK_RULES";

/// Whether this build honours [`CLOCK_ENV`].
fn frozen_clock_honoured() -> bool {
    cfg!(debug_assertions) && std::env::var_os(RELEASE_CLOCK_RULES_ENV).is_none()
}

/// Refuses to start when [`CLOCK_ENV`] is set and this build does not honour it.
fn check_clock_env(command: &Command) -> anyhow::Result<()> {
    if matches!(command, Command::Demo(_))
        || std::env::var_os(CLOCK_ENV).is_none()
        || frozen_clock_honoured()
    {
        return Ok(());
    }
    Err(error::user_error(format!(
        "{CLOCK_ENV} is set, but a release build stamps the log with the system clock only: \
         unset it (it freezes the clock in tests and debug builds; `demo` has its own \
         simulated clock, `demo --start`)"
    )))
}

fn clock_from_env() -> anyhow::Result<Arc<dyn jiancha_store::Clock>> {
    match std::env::var(CLOCK_ENV) {
        Ok(text) if frozen_clock_honoured() => {
            let at = chrono::DateTime::parse_from_rfc3339(&text).map_err(|e| {
                error::user_error(format!(
                    "{CLOCK_ENV}: {text:?} is not an RFC 3339 instant: {e}"
                ))
            })?;
            Ok(Arc::new(jiancha_store::ManualClock::new(at.to_utc())))
        }
        _ => Ok(Arc::new(jiancha_store::SystemClock)),
    }
}

/// Opens an event log that must already exist, for a command that only reads it: a mistyped
/// `--db` path is refused (exit 2, naming the path) instead of creating an empty log that
/// reads as "0 alerts". Commands that write (`import`, `serve`, `demo`, `catalog define-*`) use
/// [`open_store`],
/// which creates a missing SQLite file.
pub async fn open_existing_store(
    db: &str,
    clock: Arc<dyn jiancha_store::Clock>,
) -> anyhow::Result<Arc<dyn jiancha_store::EventStore>> {
    if let Some(path) = jiancha_store::sqlite::file_of(db) {
        if !path.exists() {
            return Err(error::user_error(format!(
                "no event log at {}: the file does not exist (check --db or JIANCHA_DB; only \
                 import, serve, demo and catalog define-item/define-org create a log)",
                path.display()
            )));
        }
    } else if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        // As for a file: a mistyped district or database is refused, not created empty.
        let found = jiancha_store::postgres::log_at(db)
            .await
            .map_err(|e| match e {
                e @ jiancha_store::StoreError::BadUrl { .. } => error::user_error(e.to_string()),
                e => anyhow::Error::new(e)
                    .context(format!("cannot open the event log {}", shown_url(db))),
            })?;
        if !found {
            return Err(error::user_error(format!(
                "no event log in {}: the district (schema) holds none (check --db and \
                 --district; only import, serve, demo and catalog define-item/define-org create \
                 a log)",
                shown_url(db)
            )));
        }
    }
    open_store(db, clock).await
}

/// Opens the event log named by `--db`.
pub async fn open_store(
    db: &str,
    clock: Arc<dyn jiancha_store::Clock>,
) -> anyhow::Result<Arc<dyn jiancha_store::EventStore>> {
    use jiancha_store::StoreError;
    match jiancha_store::open(db, clock).await {
        Ok(store) => Ok(store),
        Err(e @ StoreError::BadUrl { .. }) => Err(error::user_error(e.to_string())),
        Err(e) => {
            Err(anyhow::Error::new(e)
                .context(format!("cannot open the event log {}", shown_url(db))))
        }
    }
}

/// A database URL as an error may show it: without its password (`postgres://user:***@host`).
pub fn shown_url(db: &str) -> String {
    let Some((scheme, rest)) = db.split_once("://") else {
        return db.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let authority = match authority.rsplit_once('@') {
        Some((credentials, host)) if credentials.contains(':') => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{user}:***@{host}")
        }
        _ => authority.to_owned(),
    };
    // A password may come as a query parameter too (`?password=…`).
    let path = match path.split_once('?') {
        Some((before, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => p.to_owned(),
                })
                .collect();
            format!("{before}?{}", params.join("&"))
        }
        None => path.to_owned(),
    };
    format!("{scheme}://{authority}{path}")
}

#[cfg(test)]
mod url_tests {
    #[test]
    fn a_shown_url_hides_its_password() {
        assert_eq!(
            super::shown_url("postgres://postgres:s3cret@127.0.0.1:1/test?x=y"),
            "postgres://postgres:***@127.0.0.1:1/test?x=y"
        );
        assert_eq!(super::shown_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::shown_url("sqlite://a.db"), "sqlite://a.db");
        assert_eq!(super::shown_url("a.db"), "a.db");
        assert_eq!(
            super::shown_url("postgres://u@h/db?sslmode=disable&password=zz9&x=1"),
            "postgres://u@h/db?sslmode=disable&password=***&x=1"
        );
    }
}
