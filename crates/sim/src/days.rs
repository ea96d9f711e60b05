//! The working days of a run, tabulated once from the national calendar so that the hot path
//! counts and adds working days with array reads and never handles a calendar error.
//!
//! Days are numbered from the table's base (a few weeks before the start, so the catalog can
//! be defined on the working day before the first arrival) to the calendar's last date.
//! Instants are seconds since the base day's midnight at +08:00.

use chrono::{Datelike, Days as ChronoDays, NaiveDate};
use jiancha_calendar::{Calendar, LAST_DATE};

use crate::SimError;

/// A day, as an index from the table's base.
pub(crate) type Day = u32;

/// An instant: seconds since the base day's midnight, +08:00.
pub(crate) type Instant = i64;

/// Seconds in a day.
pub(crate) const DAY_SECONDS: i64 = 86_400;

/// Working hours open at 09:00…
pub(crate) const OPEN_SECONDS: i64 = 9 * 3600;

/// …and close at 17:30.
pub(crate) const CLOSE_SECONDS: i64 = 17 * 3600 + 1800;

/// Days tabulated before the start: enough to find the working day before any holiday block.
const LEAD_DAYS: u64 = 40;

/// Working days of the national calendar, from a base day to the calendar's last date.
#[derive(Debug)]
pub(crate) struct Days {
    base: NaiveDate,
    working: Vec<bool>,
    /// `prefix[d]`: working days in `0..=d`.
    prefix: Vec<u32>,
    /// The working days, in order.
    work: Vec<Day>,
    /// `YYYY-MM-DD` of each day, ready to copy into a timestamp.
    text: Vec<[u8; 10]>,
}

impl Days {
    /// Tabulates the calendar from a few weeks before `start` to its last date.
    pub(crate) fn new(calendar: &Calendar, start: NaiveDate) -> Result<Days, SimError> {
        let base = start
            .checked_sub_days(ChronoDays::new(LEAD_DAYS))
            .ok_or(SimError::OutOfCalendar { date: start })?;
        let span = (LAST_DATE - base).num_days();
        if span < LEAD_DAYS as i64 {
            return Err(SimError::OutOfCalendar { date: start });
        }
        let len = span as usize + 1;
        let mut days = Days {
            base,
            working: Vec::with_capacity(len),
            prefix: Vec::with_capacity(len),
            work: Vec::with_capacity(len),
            text: Vec::with_capacity(len),
        };
        for (index, date) in base.iter_days().take(len).enumerate() {
            let working = calendar
                .is_workday(date)
                .map_err(|_| SimError::OutOfCalendar { date })?;
            if working {
                days.work.push(index as Day);
            }
            days.working.push(working);
            days.prefix.push(days.work.len() as u32);
            days.text.push(date_text(date));
        }
        Ok(days)
    }

    /// The number of tabulated days.
    pub(crate) fn len(&self) -> Day {
        self.working.len() as Day
    }

    /// The day index of `date`, if tabulated.
    pub(crate) fn day_of(&self, date: NaiveDate) -> Option<Day> {
        let offset = (date - self.base).num_days();
        (0..i64::from(self.len()))
            .contains(&offset)
            .then_some(offset as Day)
    }

    /// The date of a day index.
    pub(crate) fn date(&self, day: Day) -> NaiveDate {
        self.base
            .checked_add_days(ChronoDays::new(u64::from(day)))
            .unwrap_or(LAST_DATE)
    }

    /// Whether `day` is a working day (days past the table are not).
    pub(crate) fn is_workday(&self, day: Day) -> bool {
        self.working.get(day as usize).copied().unwrap_or(false)
    }

    /// The `n`-th working day after `day` (`day` itself not counted; `n == 0` is `day`).
    /// Past the table it answers the last day; the generator keeps enough headroom (see
    /// [`Days::has_headroom`]) that this never happens.
    pub(crate) fn nth_after(&self, day: Day, n: u32) -> Day {
        if n == 0 {
            return day;
        }
        let before = self.prefix.get(day as usize).copied().unwrap_or(u32::MAX);
        let index = before.saturating_add(n - 1) as usize;
        match self.work.get(index) {
            Some(&d) => d,
            None => self.len().saturating_sub(1),
        }
    }

    /// Working days `d` with `from < d <= to` (0 when `to <= from`).
    pub(crate) fn between(&self, from: Day, to: Day) -> u32 {
        if to <= from {
            return 0;
        }
        let at = |d: Day| self.prefix.get(d as usize).copied().unwrap_or(0);
        at(to).saturating_sub(at(from))
    }

    /// The last working day before `day`, if the table has one.
    pub(crate) fn workday_before(&self, day: Day) -> Option<Day> {
        (0..day).rev().find(|&d| self.is_workday(d))
    }

    /// Whether at least `workdays` working days follow `day` in the table.
    pub(crate) fn has_headroom(&self, day: Day, workdays: u32) -> bool {
        let before = self.prefix.get(day as usize).copied().unwrap_or(u32::MAX);
        (before as usize).saturating_add(workdays as usize) < self.work.len()
    }

    /// `YYYY-MM-DD` of a day.
    pub(crate) fn text(&self, day: Day) -> &[u8; 10] {
        self.text.get(day as usize).unwrap_or(&[b'?'; 10])
    }

    /// The year of a day.
    pub(crate) fn year(&self, day: Day) -> i32 {
        self.date(day).year()
    }
}

/// Splits an instant into its day and its seconds since midnight.
pub(crate) fn split(instant: Instant) -> (Day, i64) {
    (
        instant.div_euclid(DAY_SECONDS) as Day,
        instant.rem_euclid(DAY_SECONDS),
    )
}

/// The instant `seconds` after the midnight that starts `day`.
pub(crate) fn at(day: Day, seconds: i64) -> Instant {
    i64::from(day) * DAY_SECONDS + seconds
}

fn date_text(date: NaiveDate) -> [u8; 10] {
    let mut out = [b'-'; 10];
    let year = date.year().clamp(0, 9999) as u32;
    let digits = |value: u32, slot: &mut [u8]| {
        let mut v = value;
        for byte in slot.iter_mut().rev() {
            *byte = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    digits(year, &mut out[0..4]);
    digits(date.month(), &mut out[5..7]);
    digits(date.day(), &mut out[8..10]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn agrees_with_the_calendar() {
        let calendar = Calendar::national();
        let days = Days::new(&calendar, ymd(2026, 9, 1)).unwrap();
        let from = days.day_of(ymd(2026, 9, 28)).unwrap();
        let due = days.nth_after(from, 5);
        assert_eq!(days.date(due), ymd(2026, 10, 10));
        assert_eq!(days.between(from, due), 5);
        assert_eq!(&days.text(due)[..], b"2026-10-10");
        assert!(!days.is_workday(days.day_of(ymd(2026, 10, 5)).unwrap()));
        for n in 0..40 {
            let d = days.nth_after(from, n);
            let expected = calendar.add_working_days(ymd(2026, 9, 28), n).unwrap();
            assert_eq!(days.date(d), expected.date);
        }
    }

    #[test]
    fn instants_split_into_day_and_time() {
        assert_eq!(split(at(3, 9 * 3600)), (3, 9 * 3600));
        assert!(Days::new(&Calendar::national(), ymd(2101, 1, 1)).is_err());
        assert!(Days::new(&Calendar::national(), ymd(1990, 1, 20)).is_err());
    }
}
