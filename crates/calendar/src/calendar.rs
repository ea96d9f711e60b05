//! [`Calendar`]: the working days of one jurisdiction, and due-date arithmetic over them.
//!
//! Every query is a handful of array reads (see `tables`), whatever the distance; the skipping
//! variants add one step per skipped range.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::amendment::{applicable, Amendment, AmendmentKind, NATIONAL};
use crate::national::{national_data, DayKind, Holiday, Notice};
use crate::tables::{dates, index_of, Tables};
use crate::CalendarError;

/// The working days of one jurisdiction: the national arrangements plus the amendments that
/// reach it. Immutable; cloning is cheap (the tables are shared).
#[derive(Debug, Clone)]
pub struct Calendar {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    jurisdiction: String,
    /// The amendments that reach this jurisdiction, in the order they were applied.
    amendments: Vec<Amendment>,
    tables: Tables,
    dates: &'static [NaiveDate],
}

/// A due date, and whether it depends on days no notice has settled yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Due {
    /// The last day of the limit (it ends at 24:00, +08:00).
    pub date: NaiveDate,
    /// True when the count crossed an undeclared day (counted Monday to Friday), so a future
    /// notice may move this date.
    pub provisional: bool,
}

/// A number of working days, and whether it depends on days no notice has settled yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Count {
    /// Working days counted.
    pub days: u32,
    /// True when the range held an undeclared day (counted Monday to Friday).
    pub provisional: bool,
}

/// One listed day of a year: a rest day or a shifted workday, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayEntry {
    /// The day.
    pub date: NaiveDate,
    /// Holiday, rest day or shifted workday.
    pub kind: DayKind,
    /// The notice or amendment that made it so.
    pub source: DaySource,
}

/// Where a listed day comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum DaySource {
    /// The national data: the festival the day belongs to and the notice that fixed it.
    Notice {
        /// The festival.
        holiday: Holiday,
        /// The State Council notice.
        notice: &'static Notice,
    },
    /// An amendment of this jurisdiction or of one above it.
    Amendment {
        /// The jurisdiction that made it.
        jurisdiction: String,
        /// Its stated reason.
        reason: String,
    },
}

impl Calendar {
    /// The national calendar: the built-in arrangements, no amendments.
    pub fn national() -> Calendar {
        static NATIONAL_CALENDAR: OnceLock<Calendar> = OnceLock::new();
        NATIONAL_CALENDAR
            .get_or_init(|| Calendar::for_jurisdiction(NATIONAL, &[]))
            .clone()
    }

    /// The calendar of `jurisdiction` (an org path such as `cq/jiangjin`, or [`NATIONAL`]):
    /// the national arrangements, then every amendment in `amendments` that reaches it (its
    /// own and its prefixes'; others are ignored). A more specific jurisdiction overrides a
    /// less specific one; within one jurisdiction, a later amendment overrides an earlier one.
    /// Amendments dated outside the calendar's range are ignored: no query can see them.
    /// Costs O(days) — build once per jurisdiction and amendment list, then query.
    pub fn for_jurisdiction(jurisdiction: &str, amendments: &[Amendment]) -> Calendar {
        let applied = applicable(jurisdiction, amendments);
        let tables = Tables::build(national_data(), &applied);
        let inner = Inner {
            jurisdiction: jurisdiction.to_owned(),
            amendments: applied.into_iter().cloned().collect(),
            tables,
            dates: dates(),
        };
        Calendar {
            inner: Arc::new(inner),
        }
    }

    /// The jurisdiction this calendar was built for.
    pub fn jurisdiction(&self) -> &str {
        &self.inner.jurisdiction
    }

    /// Whether `date` is a working day.
    pub fn is_workday(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        Ok(self.inner.tables.is_working(index_of(date)?))
    }

    /// Whether a future notice may still change `date`: its year is undeclared, or it is in
    /// December and the next year is undeclared (a notice may move days of the December
    /// before its year).
    pub fn is_provisional(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        let i = index_of(date)?;
        Ok(self.inner.tables.is_unsettled(i))
    }

    /// The `days`-th working day after `from` (`from` itself is not counted, whatever it
    /// is). `days == 0` returns `from` itself, not provisional: nothing was counted.
    pub fn add_working_days(&self, from: NaiveDate, days: u32) -> Result<Due, CalendarError> {
        // The hot path of every deadline: two table reads, no skipped ranges to walk.
        let start = index_of(from)?;
        if days == 0 {
            return Ok(Due {
                date: from,
                provisional: false,
            });
        }
        let due = self.inner.tables.nth_working_after(start, days);
        let due = due.ok_or(CalendarError::DueOutOfRange { from, days })?;
        Ok(self.due(start, due))
    }

    /// Like [`Calendar::add_working_days`], but the days of `skipped` (inclusive ranges,
    /// sorted, not overlapping — suspensions) are not counted. The due date is never inside a
    /// skipped range; the ranges' dates must lie in the calendar's range too.
    pub fn add_working_days_skipping(
        &self,
        from: NaiveDate,
        days: u32,
        skipped: &[(NaiveDate, NaiveDate)],
    ) -> Result<Due, CalendarError> {
        let start = index_of(from)?;
        let ranges = skipped_indices(skipped)?;
        if days == 0 {
            return Ok(Due {
                date: from,
                provisional: false,
            });
        }
        let tables = &self.inner.tables;
        let beyond = CalendarError::DueOutOfRange { from, days };
        let (mut cursor, mut remaining) = (start, days);
        for (first, last) in ranges {
            if last <= cursor {
                continue;
            }
            let candidate = tables
                .nth_working_after(cursor, remaining)
                .ok_or(beyond.clone())?;
            if candidate < first {
                return Ok(self.due(start, candidate));
            }
            // The due date lies past this range: use up the working days before it, jump over.
            remaining -= tables.working_between(cursor, first.saturating_sub(1));
            cursor = last;
        }
        let due = tables.nth_working_after(cursor, remaining).ok_or(beyond)?;
        Ok(self.due(start, due))
    }

    /// The last day of a period of `days` natural days (日) after `from`: `from` itself is not
    /// counted (Civil Code art. 201), and a last day that is a holiday or a rest day moves to
    /// the next working day (art. 203) — a shifted workday (调休上班日) is a working day, so a
    /// period ending on one ends there. `days == 0` returns `from` itself, not provisional.
    /// Provisional when the last day's kind is not settled by a notice yet.
    pub fn add_natural_days(&self, from: NaiveDate, days: u32) -> Result<Due, CalendarError> {
        if days == 0 {
            index_of(from)?;
            return Ok(Due {
                date: from,
                provisional: false,
            });
        }
        let beyond = CalendarError::DueOutOfRange { from, days };
        let last = from
            .checked_add_days(chrono::Days::new(u64::from(days)))
            .ok_or(beyond.clone())?;
        let i = index_of(last).map_err(|_| beyond.clone())?;
        let tables = &self.inner.tables;
        let (due, provisional) = if tables.is_working(i) {
            (i, tables.is_unsettled(i))
        } else {
            let next = tables.nth_working_after(i, 1).ok_or(beyond)?;
            (next, tables.any_unsettled(i.saturating_sub(1), next))
        };
        Ok(Due {
            date: self.inner.dates[due as usize],
            provisional,
        })
    }

    /// The number of working days `d` with `from < d <= to` (zero when `to <= from`).
    pub fn working_days_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Count, CalendarError> {
        self.working_days_between_skipping(from, to, &[])
    }

    /// Like [`Calendar::working_days_between`], but the days of `skipped` (inclusive ranges,
    /// sorted, not overlapping) are not counted.
    pub fn working_days_between_skipping(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        skipped: &[(NaiveDate, NaiveDate)],
    ) -> Result<Count, CalendarError> {
        let (a, b) = (index_of(from)?, index_of(to)?);
        let ranges = skipped_indices(skipped)?;
        let tables = &self.inner.tables;
        let mut days = tables.working_between(a, b);
        for (first, last) in ranges {
            // The range's part inside (a, b]; ranges do not overlap, so none is taken twice.
            days -= tables.working_between(a.max(first.saturating_sub(1)), b.min(last));
        }
        Ok(Count {
            days,
            provisional: tables.any_unsettled(a, b),
        })
    }

    /// Whether `year`'s arrangements are declared (by the national data or an amendment).
    pub fn is_year_declared(&self, year: i32) -> bool {
        self.inner.tables.declared_years.contains(&year)
    }

    /// The national notices that declare `year`, in publication order; empty when none does.
    pub fn year_notices(&self, year: i32) -> Vec<&'static Notice> {
        national_data()
            .notices
            .iter()
            .filter(|notice| notice.year == year)
            .collect()
    }

    /// Every rest day and shifted workday dated in `year`, sorted by date: the national data's
    /// days, overridden by this calendar's amendments. Ordinary weekdays and weekends are not
    /// listed. Years without data give an empty list.
    pub fn year_days(&self, year: i32) -> Vec<DayEntry> {
        let national = national_data();
        let mut by_date: BTreeMap<NaiveDate, DayEntry> = BTreeMap::new();
        for day in national.days.iter().filter(|d| d.date.year() == year) {
            let notice = &national.notices[day.notice];
            let source = DaySource::Notice {
                holiday: day.holiday,
                notice,
            };
            by_date.insert(
                day.date,
                DayEntry {
                    date: day.date,
                    kind: day.kind,
                    source,
                },
            );
        }
        for amendment in self
            .inner
            .amendments
            .iter()
            .filter(|a| a.date.year() == year)
        {
            if let Some(entry) = amendment_entry(amendment) {
                by_date.insert(entry.date, entry);
            }
        }
        by_date.into_values().collect()
    }

    fn due(&self, start: u32, due: u32) -> Due {
        let provisional = self.inner.tables.any_unsettled(start, due);
        Due {
            date: self.inner.dates[due as usize],
            provisional,
        }
    }
}

fn amendment_entry(amendment: &Amendment) -> Option<DayEntry> {
    let kind = match amendment.kind {
        AmendmentKind::Holiday => DayKind::Holiday,
        AmendmentKind::RestDay => DayKind::RestDay,
        AmendmentKind::Workday => DayKind::Workday,
        AmendmentKind::YearDeclared => return None,
    };
    let source = DaySource::Amendment {
        jurisdiction: amendment.jurisdiction.clone(),
        reason: amendment.reason.clone(),
    };
    Some(DayEntry {
        date: amendment.date,
        kind,
        source,
    })
}

/// Checks the skipped ranges and turns them into inclusive index ranges.
fn skipped_indices(skipped: &[(NaiveDate, NaiveDate)]) -> Result<Vec<(u32, u32)>, CalendarError> {
    let mut ranges: Vec<(u32, u32)> = Vec::with_capacity(skipped.len());
    for &(from, to) in skipped {
        let (first, last) = (index_of(from)?, index_of(to)?);
        let after_previous = ranges.last().is_none_or(|&(_, previous)| first > previous);
        if last < first || !after_previous {
            return Err(CalendarError::InvalidSkippedRange { from, to });
        }
        ranges.push((first, last));
    }
    Ok(ranges)
}
