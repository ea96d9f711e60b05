//! Working-day calendars for Chinese approval limits: China's official holiday arrangements
//! 2004–2026 (statutory holidays, rest days in lieu, shifted weekend workdays, each citing its
//! State Council notice), local amendments per jurisdiction, and due-date arithmetic.
//!
//! A [`Calendar`] answers in constant time per query (prefix counts over a day index from
//! [`FIRST_DATE`] to [`LAST_DATE`]). Days the data has not declared — before 2004, after the
//! last declared year, and the December before an undeclared year — count Monday to Friday,
//! and every result says whether it relied on them ([`Due::provisional`],
//! [`Count::provisional`]).
//!
//! The crate is pure: it never reads a clock, never does I/O, never prints. The national data
//! lives in `data/cn.txt`, compiled in and parsed once on first use.
//!
//! ```
//! use chrono::NaiveDate;
//! use jiancha_calendar::Calendar;
//!
//! let calendar = Calendar::national();
//! let accepted = NaiveDate::from_ymd_opt(2026, 9, 28).unwrap();
//! let due = calendar.add_working_days(accepted, 5).unwrap();
//! // National Day 2026: 10-01..10-07 off, Saturday 10-10 worked.
//! assert_eq!(due.date, NaiveDate::from_ymd_opt(2026, 10, 10).unwrap());
//! assert!(!due.provisional);
//! ```

#![warn(missing_docs)]

mod amendment;
mod calendar;
mod error;
mod national;
mod tables;

pub use amendment::{Amendment, AmendmentKind, UnknownAmendmentKind, NATIONAL};
pub use calendar::{Calendar, Count, DayEntry, DaySource, Due};
pub use error::CalendarError;
pub use national::{DayKind, Holiday, Notice};

use chrono::NaiveDate;

/// The first day a calendar knows.
pub const FIRST_DATE: NaiveDate = ymd(1990, 1, 1);

/// The last day a calendar knows.
pub const LAST_DATE: NaiveDate = ymd(2100, 12, 31);

/// A date constant; an invalid one fails to compile.
const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => panic!("invalid date constant"),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod data_tests;

#[cfg(test)]
mod prop_tests;

#[cfg(test)]
mod crosscheck_tests;
