//! `jiancha simulate`: a seeded, realistic workload for a district, as JSONL that `jiancha
//! import` takes. The same seed and options always give the same bytes.

use std::io::{ErrorKind, IsTerminal};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use jiancha_sim::{generate_with_progress, Rates, SimConfig, SimError, SimSummary};

use crate::error::user_error;

/// The names of the rates a rates file may set: the procurement projects' (`proc_*`) or the
/// others.
fn rate_names(procurement: bool) -> String {
    Rates::default()
        .fields()
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| name.starts_with("proc_") == procurement)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Arguments of `jiancha simulate`.
#[derive(Debug, clap::Args)]
#[command(after_help = format!("Examples:\n  \
    jiancha simulate --cases 1000 --seed 7 > district.jsonl\n  \
    jiancha simulate --cases 1000 --seed 7 | jiancha import --historical -\n  \
    jiancha simulate --cases 200000 --seed 1 --start 2025-01-02 --output year.jsonl\n  \
    jiancha simulate --cases 5000 --seed 3 --rates busy.json --summary expected.json\n  \
    jiancha simulate --cases 3000 --seed 7 --projects 200 --summary expected.json\n\n\
    A rates file is a JSON object naming the rates to change (each a probability); the others \
    keep their defaults:\n  \
    {{\"late_conclusion\": 0.1, \"statutory_overrun\": 0.02, \"unlawful_suspension\": 0.01}}\n\
    Rates of the cases and the 预警纠错 workflow: {cases}.\n\n\
    With --projects N, N procurement projects (streams proc-<year>-<nnnn>) are bought by the \
    departments and towns over the same days as the cases, and the catalog defines the \
    open-tender thresholds. Each violation has its rate, one per rule code: {procurement}. The summary counts projects by method and the \
    violations injected by rule code.\n\n\
    The district is shaped like Jiangjin's: 20 departments of the district center with their \
    windows, 30 town centers, 300 village points with agents, 200 catalog items. Each event has \
    an id (sim-<seed>-<stream>-<version>), so importing the same file twice adds nothing.",
    cases = rate_names(false), procurement = rate_names(true)))]
pub struct SimulateArgs {
    /// Cases to generate.
    #[arg(long, value_name = "N")]
    pub cases: u64,

    /// The seed: the same seed and options give the same output, byte for byte.
    #[arg(long, value_name = "S")]
    pub seed: u64,

    /// The first day applications arrive (YYYY-MM-DD); the catalog is defined the working day
    /// before. Default: 2026-01-05.
    #[arg(long, value_name = "DATE")]
    pub start: Option<String>,

    /// A JSON file of rates overriding the defaults.
    #[arg(long, value_name = "FILE")]
    pub rates: Option<PathBuf>,

    /// Applications on an ordinary working day, before seasonality.
    #[arg(long, value_name = "N", default_value_t = 400)]
    pub per_day: u32,

    /// Procurement projects to generate over the same days as the cases (none by default).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub projects: u64,

    /// Write the events to FILE instead of standard output (`-` names standard output).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write the run's summary (events by type, cases by irregularity) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
}

/// Runs the simulation.
pub fn run(args: &SimulateArgs) -> anyhow::Result<()> {
    let config = config(args)?;
    // Where the summary goes is checked before anything is generated: a stream piped into
    // `import` must not be whole while the command fails.
    let output = args
        .output
        .as_deref()
        .filter(|p| !crate::output::is_stdout(p));
    if let Some(path) = &args.summary {
        if output.is_none()
            && (crate::output::is_stdout(path) || crate::output::is_standard_output(path))
        {
            return Err(user_error(format!(
                "--summary {}: the events already go to standard output; name another \
                     file for one of them",
                path.display()
            )));
        }
        crate::output::check_dir("--summary", path)?;
        if output.is_some_and(|o| crate::output::same_file(o, path)) {
            return Err(user_error(format!(
                "--summary {}: the events go to that file already (--output); name another \
                 file for one of them",
                path.display()
            )));
        }
    }
    let bar = crate::progress::bar(Some(args.cases), "simulate");
    let mut progress = |cases: u64| bar.set_position(cases);
    // A file is written beside its destination and takes its place only once whole: a failed
    // or interrupted run leaves the destination as it was, never a truncated log that still
    // imports.
    let mut spooled = None;
    let result = match output {
        Some(path) => {
            let mut sink = crate::output::open("--output", path)?;
            let result = generate_with_progress(&config, sink.file(), &mut progress);
            spooled = Some((sink, path));
            result
        }
        None => {
            let mut stdout = crate::stdout::lock();
            generate_with_progress(&config, &mut stdout, &mut progress)
        }
    };
    bar.finish_and_clear();
    let summary = match result {
        Ok(summary) => summary,
        // A reader that stopped reading (`simulate | head`) is not an error of ours.
        Err(SimError::Io(e)) if e.kind() == ErrorKind::BrokenPipe => return Ok(()),
        Err(e @ (SimError::Rates { .. } | SimError::Config { .. })) => {
            return Err(user_error(e.to_string()))
        }
        Err(e @ SimError::OutOfCalendar { .. }) => return Err(user_error(e.to_string())),
        Err(e) => return Err(anyhow::Error::new(e).context("simulate failed")),
    };
    if let Some((sink, path)) = spooled {
        sink.finish("--output", path)?;
    }
    if let Some(path) = &args.summary {
        write_summary(path, &summary)?;
    }
    if std::io::stderr().is_terminal() {
        eprintln!("{}", describe(&summary));
    }
    Ok(())
}

/// The configuration the arguments describe; every mistake is a usage error (exit code 2).
fn config(args: &SimulateArgs) -> anyhow::Result<SimConfig> {
    let mut config = SimConfig::new(args.cases, args.seed);
    config.cases_per_workday = args.per_day;
    config.projects = args.projects;
    if let Some(text) = &args.start {
        config.start = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            user_error(format!(
                "--start: {text:?} is not a date (write it as 2026-03-02)"
            ))
        })?;
    }
    if let Some(path) = &args.rates {
        config.rates = read_rates(path)?;
    }
    config.validate().map_err(|e| user_error(e.to_string()))?;
    Ok(config)
}

fn read_rates(path: &Path) -> anyhow::Result<Rates> {
    let name = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| user_error(format!("cannot read the rates file {name}: {e}")))?;
    Rates::from_json(&text).map_err(|e| user_error(format!("{name}: {e}")))
}

fn write_summary(path: &Path, summary: &SimSummary) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(summary)?;
    text.push('\n');
    crate::output::write("--summary", path, text.as_bytes())
}

/// One line for a person at a terminal.
fn describe(summary: &SimSummary) -> String {
    let c = &summary.cases_with;
    let p = &summary.procurement;
    let projects = if p.is_empty() {
        String::new()
    } else {
        let violations: u64 = p.violations.values().sum();
        format!(
            "; {} procurement projects, {violations} violations",
            p.projects
        )
    };
    format!(
        "simulate: {} cases, {} events; concluded {}, late {}, past the statutory limit {}, \
         unlawful suspensions {}, repeated corrections {}, back-dated {}{projects}",
        summary.cases,
        summary.events,
        c.concluded,
        c.late_conclusions,
        c.statutory_overruns,
        c.unlawful_suspensions,
        c.repeated_corrections,
        c.backdated
    )
}
