//! The national data against the notices, year by year: each year's Spring Festival, Labour
//! Day and National Day blocks and every shifted workday, written out by hand from the State
//! Council's notices (not derived from `data/cn.txt`), plus the statutory-day counts the law
//! fixes for each period.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};

use crate::{Calendar, DayKind, DaySource};

/// One year as its notices state it. Blocks are inclusive `(first, last)` as `MM-DD`; a
/// December date of the year before is written with its year.
struct Year {
    year: i32,
    spring_festival: (&'static str, &'static str),
    labour_day: (&'static str, &'static str),
    national_day: (&'static str, &'static str),
    /// Every shifted workday dated in this year, whatever notice set it.
    workdays: &'static [&'static str],
}

#[rustfmt::skip]
const YEARS: &[Year] = &[
    Year { year: 2004, spring_festival: ("01-22", "01-28"), labour_day: ("05-01", "05-07"), national_day: ("10-01", "10-07"),
        workdays: &["01-17", "01-18", "05-08", "05-09", "10-09", "10-10"] },
    // The 2006 notice works Saturday 2005-12-31 (chinese-calendar 1.11.0 misses it).
    Year { year: 2005, spring_festival: ("02-09", "02-15"), labour_day: ("05-01", "05-07"), national_day: ("10-01", "10-07"),
        workdays: &["02-05", "02-06", "04-30", "05-08", "10-08", "10-09", "12-31"] },
    Year { year: 2006, spring_festival: ("01-29", "02-04"), labour_day: ("05-01", "05-07"), national_day: ("10-01", "10-07"),
        workdays: &["01-28", "02-05", "04-29", "04-30", "09-30", "10-08", "12-30", "12-31"] },
    Year { year: 2007, spring_festival: ("02-18", "02-24"), labour_day: ("05-01", "05-07"), national_day: ("10-01", "10-07"),
        workdays: &["02-17", "02-25", "04-28", "04-29", "09-29", "09-30", "12-29"] },
    Year { year: 2008, spring_festival: ("02-06", "02-12"), labour_day: ("05-01", "05-03"), national_day: ("09-29", "10-05"),
        workdays: &["02-02", "02-03", "05-04", "09-27", "09-28"] },
    Year { year: 2009, spring_festival: ("01-25", "01-31"), labour_day: ("05-01", "05-03"), national_day: ("10-01", "10-08"),
        workdays: &["01-04", "01-24", "02-01", "05-31", "09-27", "10-10"] },
    Year { year: 2010, spring_festival: ("02-13", "02-19"), labour_day: ("05-01", "05-03"), national_day: ("10-01", "10-07"),
        workdays: &["02-20", "02-21", "06-12", "06-13", "09-19", "09-25", "09-26", "10-09"] },
    Year { year: 2011, spring_festival: ("02-02", "02-08"), labour_day: ("04-30", "05-02"), national_day: ("10-01", "10-07"),
        workdays: &["01-30", "02-12", "04-02", "10-08", "10-09", "12-31"] },
    Year { year: 2012, spring_festival: ("01-22", "01-28"), labour_day: ("04-29", "05-01"), national_day: ("09-30", "10-07"),
        workdays: &["01-21", "01-29", "03-31", "04-01", "04-28", "09-29"] },
    Year { year: 2013, spring_festival: ("02-09", "02-15"), labour_day: ("04-29", "05-01"), national_day: ("10-01", "10-07"),
        workdays: &["01-05", "01-06", "02-16", "02-17", "04-07", "04-27", "04-28", "06-08", "06-09", "09-22", "09-29", "10-12"] },
    Year { year: 2014, spring_festival: ("01-31", "02-06"), labour_day: ("05-01", "05-03"), national_day: ("10-01", "10-07"),
        workdays: &["01-26", "02-08", "05-04", "09-28", "10-11"] },
    Year { year: 2015, spring_festival: ("02-18", "02-24"), labour_day: ("05-01", "05-01"), national_day: ("10-01", "10-07"),
        workdays: &["01-04", "02-15", "02-28", "09-06", "10-10"] },
    Year { year: 2016, spring_festival: ("02-07", "02-13"), labour_day: ("05-01", "05-02"), national_day: ("10-01", "10-07"),
        workdays: &["02-06", "02-14", "06-12", "09-18", "10-08", "10-09"] },
    Year { year: 2017, spring_festival: ("01-27", "02-02"), labour_day: ("05-01", "05-01"), national_day: ("10-01", "10-08"),
        workdays: &["01-22", "02-04", "04-01", "05-27", "09-30"] },
    Year { year: 2018, spring_festival: ("02-15", "02-21"), labour_day: ("04-29", "05-01"), national_day: ("10-01", "10-07"),
        workdays: &["02-11", "02-24", "04-08", "04-28", "09-29", "09-30", "12-29"] },
    // Labour Day as widened by the March 2019 notice.
    Year { year: 2019, spring_festival: ("02-04", "02-10"), labour_day: ("05-01", "05-04"), national_day: ("10-01", "10-07"),
        workdays: &["02-02", "02-03", "04-28", "05-05", "09-29", "10-12"] },
    // The Spring Festival block with the epidemic extension; 02-01 is no longer worked.
    Year { year: 2020, spring_festival: ("01-24", "02-02"), labour_day: ("05-01", "05-05"), national_day: ("10-01", "10-08"),
        workdays: &["01-19", "04-26", "05-09", "06-28", "09-27", "10-10"] },
    Year { year: 2021, spring_festival: ("02-11", "02-17"), labour_day: ("05-01", "05-05"), national_day: ("10-01", "10-07"),
        workdays: &["02-07", "02-20", "04-25", "05-08", "09-18", "09-26", "10-09"] },
    Year { year: 2022, spring_festival: ("01-31", "02-06"), labour_day: ("04-30", "05-04"), national_day: ("10-01", "10-07"),
        workdays: &["01-29", "01-30", "04-02", "04-24", "05-07", "10-08", "10-09"] },
    Year { year: 2023, spring_festival: ("01-21", "01-27"), labour_day: ("04-29", "05-03"), national_day: ("09-29", "10-06"),
        workdays: &["01-28", "01-29", "04-23", "05-06", "06-25", "10-07", "10-08"] },
    Year { year: 2024, spring_festival: ("02-10", "02-17"), labour_day: ("05-01", "05-05"), national_day: ("10-01", "10-07"),
        workdays: &["02-04", "02-18", "04-07", "04-28", "05-11", "09-14", "09-29", "10-12"] },
    Year { year: 2025, spring_festival: ("01-28", "02-04"), labour_day: ("05-01", "05-05"), national_day: ("10-01", "10-08"),
        workdays: &["01-26", "02-08", "04-27", "09-28", "10-11"] },
    Year { year: 2026, spring_festival: ("02-15", "02-23"), labour_day: ("05-01", "05-05"), national_day: ("10-01", "10-07"),
        workdays: &["01-04", "02-14", "02-28", "05-09", "09-20", "10-10"] },
];

/// Statutory holidays dated in each year: 10 under the 1999 rules (2004–2007), 11 from 2008,
/// 13 from 2025; one less when Mid-Autumn falls on National Day (2009, 2020); one more for the
/// 2015 Victory Day.
#[rustfmt::skip]
const STATUTORY_DAYS: &[(i32, usize)] = &[
    (2004, 10), (2005, 10), (2006, 10), (2007, 10), (2008, 11), (2009, 10), (2010, 11),
    (2011, 11), (2012, 11), (2013, 11), (2014, 11), (2015, 12), (2016, 11), (2017, 11),
    (2018, 11), (2019, 11), (2020, 10), (2021, 11), (2022, 11), (2023, 11), (2024, 11),
    (2025, 13), (2026, 13),
];

fn date(year: i32, text: &str) -> NaiveDate {
    let full = if text.len() == 5 {
        format!("{year}-{text}")
    } else {
        text.to_owned()
    };
    NaiveDate::parse_from_str(&full, "%Y-%m-%d").unwrap()
}

fn days(first: NaiveDate, last: NaiveDate) -> BTreeSet<NaiveDate> {
    first.iter_days().take_while(|d| *d <= last).collect()
}

/// The block's days are rest days, and the data lists exactly those days as rest days from
/// the day before the block to the day after it.
fn check_block(year: i32, name: &str, (first, last): (&str, &str)) {
    let calendar = Calendar::national();
    let (first, last) = (date(year, first), date(year, last));
    let expected = days(first, last);
    for day in &expected {
        assert!(
            !calendar.is_workday(*day).unwrap(),
            "{year} {name}: {day} is worked"
        );
    }
    let (before, after) = (first - Days::new(1), last + Days::new(1));
    let listed: BTreeSet<NaiveDate> = [year - 1, year, year + 1]
        .into_iter()
        .flat_map(|y| calendar.year_days(y))
        .filter(|e| e.kind != DayKind::Workday && (before..=after).contains(&e.date))
        .map(|e| e.date)
        .collect();
    assert_eq!(listed, expected, "{year} {name}");
}

fn check_workdays(year: &Year) {
    let calendar = Calendar::national();
    let expected: BTreeSet<NaiveDate> = year.workdays.iter().map(|t| date(year.year, t)).collect();
    for day in &expected {
        assert!(
            matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
            "{day} is a weekday"
        );
        assert!(calendar.is_workday(*day).unwrap(), "{day} is not worked");
    }
    let listed: BTreeSet<NaiveDate> = calendar
        .year_days(year.year)
        .into_iter()
        .filter(|e| e.kind == DayKind::Workday)
        .map(|e| e.date)
        .collect();
    assert_eq!(listed, expected, "{} workdays", year.year);
}

#[test]
fn every_year_matches_its_notices() {
    let covered: Vec<i32> = YEARS.iter().map(|y| y.year).collect();
    assert_eq!(covered, (2004..=2026).collect::<Vec<_>>());
    for year in YEARS {
        check_block(year.year, "Spring Festival", year.spring_festival);
        check_block(year.year, "Labour Day", year.labour_day);
        check_block(year.year, "National Day", year.national_day);
        check_workdays(year);
    }
}

#[test]
fn statutory_holidays_per_year_follow_the_law() {
    let calendar = Calendar::national();
    for &(year, expected) in STATUTORY_DAYS {
        let statutory = calendar
            .year_days(year)
            .into_iter()
            .filter(|e| e.kind == DayKind::Holiday)
            .count();
        assert_eq!(statutory, expected, "{year}");
    }
}

#[test]
fn every_declared_year_cites_its_notice() {
    let calendar = Calendar::national();
    for year in 2004..=2026 {
        assert!(calendar.is_year_declared(year), "{year}");
        let notices = calendar.year_notices(year);
        let title = format!("国务院办公厅关于{year}年部分节假日安排的通知");
        assert_eq!(
            notices.first().map(|n| n.title),
            Some(title.as_str()),
            "{year}"
        );
        // Notices come out in the autumn or December before their year.
        assert_eq!(notices[0].published_on.year(), year - 1, "{year}");
        for entry in calendar.year_days(year) {
            assert!(
                matches!(entry.source, DaySource::Notice { .. }),
                "{}",
                entry.date
            );
        }
    }
    assert!(!calendar.is_year_declared(2003));
    assert!(!calendar.is_year_declared(2027));
}
