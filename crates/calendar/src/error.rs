//! The calendar's typed errors: what a query can refuse, and how a caller should react.

use chrono::NaiveDate;

/// Why a calendar query was refused. Every variant is a problem with the caller's input;
/// the calendar itself has no failure modes at query time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A date outside [`crate::FIRST_DATE`]..=[`crate::LAST_DATE`]. Callers reject the input
    /// (a typo, or a corrupt event); retrying cannot help.
    #[error("date {date} is outside the calendar's range {first} to {last}", first = crate::FIRST_DATE, last = crate::LAST_DATE)]
    DateOutOfRange {
        /// The offending date.
        date: NaiveDate,
    },
    /// The due date would fall after [`crate::LAST_DATE`]. Callers treat the limit as
    /// unreasonable input (no approval limit runs for decades).
    #[error("{days} working days after {from} end beyond {last}", last = crate::LAST_DATE)]
    DueOutOfRange {
        /// The date counting starts from.
        from: NaiveDate,
        /// The number of working days asked for.
        days: u32,
    },
    /// Skipped ranges (suspensions) must each run forward and be sorted without overlap.
    /// Callers fix the list they built; the log's suspensions never overlap when folded right.
    #[error("skipped range {from} to {to} is reversed, unsorted or overlaps the one before")]
    InvalidSkippedRange {
        /// First day of the offending range.
        from: NaiveDate,
        /// Last day of the offending range.
        to: NaiveDate,
    },
}
