//! `jiancha calendar`: due dates and the official arrangements of a year, on the national
//! working-day calendar this release ships, or (with `--org`) on the calendar the log's
//! amendments (`CalendarAmended`) put in force for an org, as case deadlines are counted.

use std::io::{BufRead, Read as _, Write};

use chrono::{Datelike, NaiveDate};
use jiancha_calendar::{Calendar, DayEntry, DaySource, Due, Notice, FIRST_DATE, LAST_DATE};

use crate::error::user_error;

/// The longest line `calendar due --stdin` accepts, in bytes (a `DATE N` line is ~20).
pub const STDIN_LINE_BYTES_MAX: usize = 1024;

/// Arguments of `jiancha calendar`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha calendar due 2026-09-28 5\n  \
    printf '2026-09-28 5\\n2027-03-01 20\\n' | jiancha calendar due --stdin\n  \
    jiancha calendar show 2026\n  \
    jiancha --db sqlite://district.db calendar --org jiangjin/town-07 due 2026-12-28 5\n\n\
    Without --org the release's national calendar answers; with --org, the calendar the log \
    (--db) puts in force for that org: the release's data with the log's national and local \
    amendments (CalendarAmended, a declared year included), as case deadlines count.")]
pub struct CalendarArgs {
    /// Count on the calendar in force for this org in the log named by --db (its
    /// CalendarAmended events applied); without it, the release's national calendar.
    #[arg(long, global = true, value_name = "PATH")]
    pub org: Option<String>,
    /// What to compute.
    #[command(subcommand)]
    pub command: CalendarCommand,
}

/// The calendar subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CalendarCommand {
    /// Print the due date N working days after DATE (DATE itself is not counted).
    Due(DueArgs),
    /// List a year's rest days and shifted workdays, their holidays and notices.
    Show(ShowArgs),
}

/// Arguments of `jiancha calendar due`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha calendar due 2026-09-28 5          prints 2026-10-10\n  \
    jiancha calendar due 2027-03-01 5          prints 2027-03-08 provisional\n  \
    printf '2026-09-28 5\\n' | jiancha calendar due --stdin   prints 2026-09-28 5 2026-10-10\n\n\
    A due date is followed by ` provisional` when the count crossed days no State Council \
    notice has settled yet (before 2004, after the last declared year, or a December before \
    an undeclared year); those count Monday to Friday.")]
pub struct DueArgs {
    /// The start date (the acceptance date), YYYY-MM-DD.
    #[arg(required_unless_present = "stdin", conflicts_with = "stdin")]
    pub date: Option<String>,
    /// The limit in working days.
    #[arg(required_unless_present = "stdin", conflicts_with = "stdin")]
    pub days: Option<String>,
    /// Read lines `DATE N` from standard input and write `DATE N DUE` for each.
    #[arg(long)]
    pub stdin: bool,
}

/// Arguments of `jiancha calendar show`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha calendar show 2026\n  \
    jiancha calendar show 2020      the Spring Festival extension of the epidemic")]
pub struct ShowArgs {
    /// The year, 1990 to 2100.
    pub year: String,
}

/// Runs `jiancha calendar`.
pub fn run(
    args: &CalendarArgs,
    calendar: &Calendar,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match &args.command {
        CalendarCommand::Due(due) if due.stdin => due_lines(calendar, stdin, out),
        CalendarCommand::Due(due) => {
            let date = due.date.as_deref().unwrap_or_default();
            let days = due.days.as_deref().unwrap_or_default();
            let result = due_of(calendar, date, days).map_err(user_error)?;
            writeln!(out, "{}", render_due(result))?;
            Ok(())
        }
        CalendarCommand::Show(show) => {
            let year = parse_year(&show.year).map_err(user_error)?;
            show_year(calendar, year, out)
        }
    }
}

/// The calendar in force for `org` in the log: the release's data with the amendments of the
/// log's calendar stream that apply to it.
pub async fn of_log(
    store: &std::sync::Arc<dyn jiancha_store::EventStore>,
    org: &str,
) -> anyhow::Result<Calendar> {
    jiancha_events::stream::check_org("--org", org).map_err(|e| user_error(e.to_string()))?;
    let stream = jiancha_events::StreamName::calendar();
    let events = store.read_stream(stream.as_str()).await?;
    let mut calendars = jiancha_projections::Calendars::default();
    for e in &events {
        if let jiancha_events::EventData::CalendarAmended(a) = &e.data {
            calendars.amend(a, e.position);
        }
    }
    Ok(calendars.for_org(org))
}

/// Answers each `DATE N` line with `DATE N DUE`; the first bad line stops the run with an
/// error naming it (the lines before it have been answered).
fn due_lines(
    calendar: &Calendar,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut buffer = Vec::new();
    for number in 1.. {
        buffer.clear();
        let limit = STDIN_LINE_BYTES_MAX as u64 + 1;
        if (&mut *stdin).take(limit).read_until(b'\n', &mut buffer)? == 0 {
            return Ok(());
        }
        let line = checked_line(&buffer).map_err(|e| user_error(format!("line {number}: {e}")))?;
        if line.is_empty() {
            continue;
        }
        let answer =
            due_line(calendar, line).map_err(|e| user_error(format!("line {number}: {e}")))?;
        writeln!(out, "{answer}")?;
    }
    Ok(())
}

fn checked_line(bytes: &[u8]) -> Result<&str, String> {
    if bytes.len() > STDIN_LINE_BYTES_MAX {
        return Err(format!("longer than {STDIN_LINE_BYTES_MAX} bytes"));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())?;
    Ok(text.trim())
}

fn due_line(calendar: &Calendar, line: &str) -> Result<String, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let [date, days] = words[..] else {
        return Err(format!("expected `DATE N`, got {line:?}"));
    };
    let due = due_of(calendar, date, days)?;
    Ok(format!("{date} {days} {}", render_due(due)))
}

fn due_of(calendar: &Calendar, date: &str, days: &str) -> Result<Due, String> {
    let date = parse_date(date)?;
    let days: u32 = days.parse().map_err(|_| {
        format!("invalid number of working days {days:?}: expected a whole number such as 20")
    })?;
    calendar
        .add_working_days(date, days)
        .map_err(|e| e.to_string())
}

fn render_due(due: Due) -> String {
    if due.provisional {
        format!("{} provisional", due.date)
    } else {
        due.date.to_string()
    }
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("invalid date {text:?}: expected YYYY-MM-DD, such as 2026-09-28"))
}

fn parse_year(text: &str) -> Result<i32, String> {
    let (first, last) = (FIRST_DATE.year(), LAST_DATE.year());
    let year: i32 = text
        .trim()
        .parse()
        .map_err(|_| format!("invalid year {text:?}: expected a year such as 2026"))?;
    if !(first..=last).contains(&year) {
        return Err(format!(
            "year {year} is outside the calendar's range {first} to {last}"
        ));
    }
    Ok(year)
}

/// Writes the year's status, its notices and one line per listed day.
fn show_year(calendar: &Calendar, year: i32, out: &mut dyn Write) -> anyhow::Result<()> {
    let notices = calendar.year_notices(year);
    if calendar.is_year_declared(year) {
        writeln!(out, "{year}: declared")?;
        for notice in &notices {
            writeln!(out, "  {}", citation(notice))?;
        }
        if !calendar.is_year_declared(year + 1) {
            writeln!(
                out,
                "  December {year} stays provisional until the notice for {} is out: it may \
                 move days at the end of {year}",
                year + 1
            )?;
        }
    } else {
        writeln!(
            out,
            "{year}: not declared: no State Council notice for it in the data yet; working \
             days count Monday to Friday and due dates across it are provisional"
        )?;
    }
    for entry in calendar.year_days(year) {
        writeln!(out, "{}", day_line(&entry, notices.first().copied()))?;
    }
    Ok(())
}

/// `2026-10-10 Sat  调休上班日 shifted workday    国庆节 National Day`, with the notice or
/// amendment named when it is not the year's main notice.
fn day_line(entry: &DayEntry, main_notice: Option<&Notice>) -> String {
    let kind = entry.kind;
    let head = format!(
        "{} {}  {} {:<17}  ",
        entry.date,
        entry.date.format("%a"),
        kind.zh(),
        kind.en()
    );
    match &entry.source {
        DaySource::Notice { holiday, notice } => {
            let names = format!("{} {}", holiday.zh(), holiday.en());
            if main_notice == Some(*notice) {
                format!("{head}{names}")
            } else {
                format!("{head}{names}  ({})", citation(notice))
            }
        }
        DaySource::Amendment {
            jurisdiction,
            reason,
        } => {
            format!("{head}{reason}  (amendment of {jurisdiction})")
        }
    }
}

fn citation(notice: &Notice) -> String {
    format!("{}, published {}", notice.title, notice.published_on)
}
