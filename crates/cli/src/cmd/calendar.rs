//! `jiancha calendar`: due dates and the official arrangements of a year, on the national
//! working-day calendar. Amendments from the event log are not applied here yet.

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
    jiancha calendar show 2026")]
pub struct CalendarArgs {
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
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let calendar = Calendar::national();
    match &args.command {
        CalendarCommand::Due(due) if due.stdin => due_lines(&calendar, stdin, out),
        CalendarCommand::Due(due) => {
            let date = due.date.as_deref().unwrap_or_default();
            let days = due.days.as_deref().unwrap_or_default();
            let result = due_of(&calendar, date, days).map_err(user_error)?;
            writeln!(out, "{}", render_due(result))?;
            Ok(())
        }
        CalendarCommand::Show(show) => {
            let year = parse_year(&show.year).map_err(user_error)?;
            show_year(&calendar, year, out)
        }
    }
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
