//! `jiancha simulate`: a seeded, realistic workload for a district, as JSONL that `jiancha
//! import` takes. The same seed and options always give the same bytes.

use std::fs::File;
use std::io::{ErrorKind, IsTerminal, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use jiancha_sim::{generate_with_progress, Rates, SimConfig, SimError, SimSummary};

use crate::error::user_error;

/// Arguments of `jiancha simulate`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha simulate --cases 1000 --seed 7 > district.jsonl\n  \
    jiancha simulate --cases 1000 --seed 7 | jiancha import --historical -\n  \
    jiancha simulate --cases 200000 --seed 1 --start 2025-01-02 --output year.jsonl\n  \
    jiancha simulate --cases 5000 --seed 3 --rates busy.json --summary expected.json\n  \
    jiancha simulate --cases 3000 --seed 7 --projects 200 --summary expected.json\n\n\
    A rates file is a JSON object naming the rates to change (each a probability); the others \
    keep their defaults:\n  \
    {\"late_conclusion\": 0.1, \"statutory_overrun\": 0.02, \"unlawful_suspension\": 0.01}\n\
    Rates: correction, late_first_answer, repeated_correction, accepted_incomplete, \
    rejected_at_intake, withdrawn, late_conclusion, statutory_overrun, lawful_suspension, \
    unlawful_suspension, extension, excessive_extension, skipped_step, wrong_fee, \
    no_decision, denied, rated, bad_rating, complaint, backdated, late_supplement_answer, \
    limits_override, unknown_item, no_acceptance, overlong_suspension, after_conclusion, \
    backdated_conclusion.\n\n\
    With --projects N, N procurement projects (streams proc-<year>-<nnnn>) are bought by the \
    departments and towns over the same days as the cases, and the catalog defines the \
    open-tender thresholds. Each violation has its rate, one per rule code: proc_window_short, \
    proc_sale_short, proc_clarification_late, proc_objection_late, proc_opening_mismatch, \
    proc_bidders_few, proc_experts_designated, proc_confirmation_late, proc_publicity_short, \
    proc_result_late, proc_award_not_first, proc_contract_late, proc_contract_unpublished, \
    proc_contract_unfiled, proc_contract_deviation, proc_bond_excessive, proc_split, \
    proc_enquiry_late, proc_complaint_late. The summary counts projects by method and the \
    violations injected by rule code.\n\n\
    The district is shaped like Jiangjin's: 20 departments of the district center with their \
    windows, 30 town centers, 300 village points with agents, 200 catalog items. Each event has \
    an id (sim-<seed>-<stream>-<version>), so importing the same file twice adds nothing.")]
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

    /// Write the events to FILE instead of standard output.
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
    if let Some(path) = &args.summary {
        writable_dir(path)?;
    }
    let bar = crate::progress::bar(Some(args.cases), "simulate");
    let mut progress = |cases: u64| bar.set_position(cases);
    // A file is written beside its destination and takes its place only once whole: a failed
    // or interrupted run leaves the destination as it was, never a truncated log that still
    // imports.
    let mut spooled = None;
    let result = match &args.output {
        Some(path) => {
            writable_dir(path)?;
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let mut file = tempfile::NamedTempFile::new_in(dir)
                .map_err(|e| user_error(format!("cannot write {}: {e}", path.display())))?;
            let result = generate_with_progress(&config, file.as_file_mut(), &mut progress);
            spooled = Some((file, path));
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
    if let Some((file, path)) = spooled {
        file.persist(path)
            .map_err(|e| user_error(format!("cannot write {}: {}", path.display(), e.error)))?;
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

/// The directory a file is to be written in exists (a usage error, naming the file, if not).
fn writable_dir(path: &Path) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    match dir {
        Some(d) if !d.is_dir() => Err(user_error(format!(
            "cannot write {}: the directory {} does not exist",
            path.display(),
            d.display()
        ))),
        _ => Ok(()),
    }
}

fn write_summary(path: &Path, summary: &SimSummary) -> anyhow::Result<()> {
    let name = path.display();
    let mut text = serde_json::to_string_pretty(summary)?;
    text.push('\n');
    let mut file =
        File::create(path).map_err(|e| user_error(format!("cannot write {name}: {e}")))?;
    file.write_all(text.as_bytes())?;
    Ok(())
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
