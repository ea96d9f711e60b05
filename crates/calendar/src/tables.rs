//! The lookup tables behind a calendar: per-day prefix counts over a day index running from
//! [`FIRST_DATE`] to [`LAST_DATE`], so that every query is a few array reads.
//!
//! Day index `i` is the date `FIRST_DATE + i days`. The tables are built once per calendar, in
//! O(days), and never change afterwards.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, Weekday};

use crate::amendment::{Amendment, AmendmentKind};
use crate::national::NationalData;
use crate::{CalendarError, FIRST_DATE, LAST_DATE};

/// Counts of working and unsettled days before a day index.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Before {
    /// Working days strictly before this index.
    pub(crate) working: u32,
    /// Unsettled days (whose status a future notice may still change) strictly before it.
    pub(crate) unsettled: u32,
}

/// The built tables of one calendar.
#[derive(Debug)]
pub(crate) struct Tables {
    /// `before[i]` counts days `0..i`; it has one entry per day plus one, so that
    /// `before[i + 1] - before[i]` describes day `i` itself.
    pub(crate) before: Box<[Before]>,
    /// `working_days[k]` is the day index of the working day that has `k` working days
    /// before it.
    pub(crate) working_days: Box<[u32]>,
    /// Years whose arrangements are complete.
    pub(crate) declared_years: BTreeSet<i32>,
}

/// Every date of the index, so that turning an index back into a date is one read.
pub(crate) fn dates() -> &'static [NaiveDate] {
    static DATES: OnceLock<Box<[NaiveDate]>> = OnceLock::new();
    DATES.get_or_init(|| {
        FIRST_DATE
            .iter_days()
            .take_while(|d| *d <= LAST_DATE)
            .collect()
    })
}

/// The day index of `date`, or an error outside the calendar's range.
pub(crate) fn index_of(date: NaiveDate) -> Result<u32, CalendarError> {
    if !(FIRST_DATE..=LAST_DATE).contains(&date) {
        return Err(CalendarError::DateOutOfRange { date });
    }
    // In range, the difference is between 0 and about 40,000, so it fits a u32.
    Ok((date.num_days_from_ce() - FIRST_DATE.num_days_from_ce()).unsigned_abs())
}

impl Tables {
    /// Builds the tables from the national data and the amendments that apply, in order.
    pub(crate) fn build(national: &NationalData, amendments: &[&Amendment]) -> Tables {
        let dates = dates();
        let mut working: Vec<bool> = dates.iter().map(|d| !is_weekend(*d)).collect();
        for day in &national.days {
            if let Ok(i) = index_of(day.date) {
                working[i as usize] = day.kind.is_working();
            }
        }
        let mut declared_years: BTreeSet<i32> = national.declared_years.iter().copied().collect();
        for amendment in amendments {
            // Out-of-range amendments cannot change any answer: queries there are errors.
            let Ok(i) = index_of(amendment.date) else {
                continue;
            };
            match amendment.kind {
                AmendmentKind::Holiday | AmendmentKind::RestDay => working[i as usize] = false,
                AmendmentKind::Workday => working[i as usize] = true,
                AmendmentKind::YearDeclared => {
                    declared_years.insert(amendment.date.year());
                }
            }
        }
        let settled: Vec<bool> = dates
            .iter()
            .map(|d| is_settled(*d, &declared_years))
            .collect();
        let (before, working_days) = prefix_counts(&working, &settled);
        Tables {
            before,
            working_days,
            declared_years,
        }
    }

    /// Whether day `i` is worked.
    pub(crate) fn is_working(&self, i: u32) -> bool {
        let i = i as usize;
        self.before[i + 1].working != self.before[i].working
    }

    /// Whether day `i` is unsettled.
    pub(crate) fn is_unsettled(&self, i: u32) -> bool {
        let i = i as usize;
        self.before[i + 1].unsettled != self.before[i].unsettled
    }

    /// Working days in the index range `(a, b]`; zero when `b <= a`.
    pub(crate) fn working_between(&self, a: u32, b: u32) -> u32 {
        if b <= a {
            return 0;
        }
        self.before[b as usize + 1].working - self.before[a as usize + 1].working
    }

    /// Whether any day in the index range `(a, b]` is unsettled.
    pub(crate) fn any_unsettled(&self, a: u32, b: u32) -> bool {
        b > a && self.before[b as usize + 1].unsettled != self.before[a as usize + 1].unsettled
    }

    /// The index of the `n`-th working day after day `a` (`n >= 1`), if within range.
    pub(crate) fn nth_working_after(&self, a: u32, n: u32) -> Option<u32> {
        let k = self.before[a as usize + 1].working as usize + n as usize - 1;
        self.working_days.get(k).copied()
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// A day is settled when its year is declared — and, for a December day, the next year too,
/// because the notice for a year may move days at the end of the year before (2007-12-31,
/// 2023-12-30 …). Unsettled days count Monday to Friday and make results provisional.
fn is_settled(date: NaiveDate, declared_years: &BTreeSet<i32>) -> bool {
    let year = date.year();
    declared_years.contains(&year) && (date.month() != 12 || declared_years.contains(&(year + 1)))
}

fn prefix_counts(working: &[bool], settled: &[bool]) -> (Box<[Before]>, Box<[u32]>) {
    let mut before = Vec::with_capacity(working.len() + 1);
    let mut working_days = Vec::new();
    let mut running = Before::default();
    before.push(running);
    for (i, (&work, &settled)) in working.iter().zip(settled).enumerate() {
        if work {
            // The cast is lossless: there are about 40,000 days.
            working_days.push(i as u32);
            running.working += 1;
        }
        running.unsettled += u32::from(!settled);
        before.push(running);
    }
    (before.into_boxed_slice(), working_days.into_boxed_slice())
}
