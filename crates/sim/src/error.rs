//! The simulator's typed errors, and what a caller should do about each.

use chrono::NaiveDate;

/// Why a simulation could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The rates file is not valid JSON, names an unknown rate, or gives a value outside 0..=1.
    /// The caller shows the message (it names the field) and lets the user fix the file.
    #[error("rates: {field}: {message}")]
    Rates {
        /// The offending field (`json` when the text is not JSON at all).
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A configuration value is out of range (for example zero departments). The caller
    /// reports it as a usage error; retrying with the same configuration cannot help.
    #[error("{field}: {message}")]
    Config {
        /// The offending setting.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The simulation would run past the dates the working-day calendar knows (before 1990
    /// or after 2100). The caller picks an earlier start, fewer cases or more cases per day.
    #[error("the simulation reaches {date}, outside the working-day calendar (1990 to 2100): choose an earlier --start, fewer cases or more cases per working day")]
    OutOfCalendar {
        /// The first date the calendar could not answer for.
        date: NaiveDate,
    },
    /// The generator built an event the vocabulary refuses: a bug in the simulator, never
    /// the user's input. The caller reports it as an internal error.
    #[error("internal: generated an invalid event: {0}")]
    Invalid(String),
    /// Writing the output failed (disk full, closed pipe). The caller reports it; a closed
    /// pipe (`simulate | head`) is usually not worth an error message.
    #[error("cannot write the events: {0}")]
    Io(#[from] std::io::Error),
}
