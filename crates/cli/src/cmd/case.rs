//! `jiancha case show`: one case's deadline state — clock start, limits, due dates, used and
//! remaining working days, status and outcome — evaluated at an instant. `jiancha case list`:
//! the cases matching filters at an instant (`Projections::case_list`), by due date.

use std::io::Write as _;
use std::sync::Arc;

use jiancha_projections::CaseView;
use jiancha_store::Clock;

pub use crate::cmd::case_list::ListArgs;
use crate::cmd::replay;
use crate::error::user_error;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text for people.
    Table,
    /// JSON for programs.
    Json,
}

/// Arguments of `jiancha case`.
#[derive(Debug, clap::Args)]
pub struct CaseArgs {
    /// What to do with the case.
    #[command(subcommand)]
    pub command: CaseCommand,
}

/// The case subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CaseCommand {
    /// Show a case's deadline state at an instant.
    Show(ShowArgs),
    /// List the cases matching filters at an instant, by promised due date then stream.
    List(ListArgs),
}

/// Arguments of `jiancha case show`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha case show case-2026-000102\n  \
    jiancha case show case-2026-000102 --now 2026-03-20 --format json\n  \
    jiancha case show case-2026-000102 --now 2026-03-20T09:00:00+08:00\n\n\
    --now takes an RFC 3339 instant, or a date meaning the end of that day (24:00 +08:00); \
    only events that occurred by then count. It defaults to the system clock.\n\
    JSON fields: stream, item, org, status, clock_start_on, promised_limit_days, \
    statutory_limit_days, promised_due_on, statutory_due_on (null while suspended), \
    provisional, used_days, remaining_days, concluded_on, on_time, statutory_on_time, early, \
    and more.")]
pub struct ShowArgs {
    /// The case stream, e.g. case-2026-000123.
    pub case: String,
    /// The instant of evaluation.
    #[arg(long)]
    pub now: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Runs `jiancha case`.
pub async fn run(db: &str, clock: Arc<dyn Clock>, args: &CaseArgs) -> anyhow::Result<()> {
    match &args.command {
        CaseCommand::Show(show) => run_show(db, clock, show).await,
        CaseCommand::List(list) => crate::cmd::case_list::run(db, clock, list).await,
    }
}

/// Runs `jiancha case show`.
async fn run_show(db: &str, clock: Arc<dyn Clock>, show: &ShowArgs) -> anyhow::Result<()> {
    let now = replay::parse_now(show.now.as_deref(), &*clock)?;
    let store = crate::open_existing_store(db, clock).await?;
    let projections = replay::one_case(&store, &show.case, now).await?;
    store.close().await;
    let view = projections.case_view(&show.case, now).ok_or_else(|| {
        user_error(format!(
            "no case {:?} had been submitted by then",
            show.case
        ))
    })?;
    let mut out = crate::stdout::lock();
    match show.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&view)?)?,
        Format::Table => write_table(&mut out, &view)?,
    }
    Ok(())
}

fn show<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "-".to_owned(), ToString::to_string)
}

fn write_table(out: &mut dyn std::io::Write, v: &CaseView) -> std::io::Result<()> {
    let provisional = if v.provisional { " (provisional)" } else { "" };
    let rows = [
        ("case", v.stream.clone()),
        ("item", v.item.clone()),
        ("org", v.org.clone()),
        ("status", v.status.to_owned()),
        ("channel", v.channel.to_owned()),
        ("submitted on", v.submitted_on.to_string()),
        ("accepted on", show(&v.accepted_on)),
        (
            "clock start",
            format!(
                "{}{}",
                show(&v.clock_start_on),
                if v.deemed_accepted {
                    " (deemed accepted, Art. 32)"
                } else {
                    ""
                }
            ),
        ),
        (
            "promised limit",
            format!("{} working days", show(&v.promised_limit_days)),
        ),
        (
            "statutory limit",
            format!("{} working days", show(&v.statutory_limit_days)),
        ),
        (
            "promised due",
            format!("{}{provisional}", show(&v.promised_due_on)),
        ),
        (
            "statutory due",
            format!("{}{provisional}", show(&v.statutory_due_on)),
        ),
        ("used", format!("{} working days", show(&v.used_days))),
        (
            "remaining",
            format!("{} working days", show(&v.remaining_days)),
        ),
        ("concluded on", show(&v.concluded_on)),
        ("on time", show(&v.on_time)),
        ("statutory on time", show(&v.statutory_on_time)),
        ("early", show(&v.early)),
        ("extensions", v.extensions.to_string()),
        ("exempted", v.exempted.to_string()),
        ("evaluated at", v.now.clone()),
    ];
    for (k, val) in rows {
        writeln!(out, "{k:<18} {val}")?;
    }
    Ok(())
}
