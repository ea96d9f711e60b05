//! The national data against an independent source, day by day: the PyPI package
//! `chinese-calendar`, dumped by `tools/crosscheck.py` into `tests/fixtures/chinese_calendar.txt`
//! (committed, so CI needs no network).
//!
//! The package only knows "holiday" and "workday" and sometimes leaves weekend days out of its
//! blocks, so two sets are compared: weekday rest days, and worked weekend days. Every
//! disagreement investigated so far is listed in [`ERRATA`] with the notice that settles it;
//! the test fails on any other difference, and also when a listed one disappears.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};

use crate::Calendar;

const FIXTURE: &str = include_str!("../tests/fixtures/chinese_calendar.txt");

/// A day on which the package and the notices disagree; the crate follows the notice.
struct Erratum {
    date: &'static str,
    /// `rest` or `work`: what the day is according to the notice.
    kind: &'static str,
    why: &'static str,
}

const ERRATA: &[Erratum] = &[Erratum {
    date: "2005-12-31",
    kind: "work",
    why: "国务院办公厅关于2006年部分节假日安排的通知: 元旦 … 12月31日（星期六）上班; \
          the package applies the 2006 notice to 2006 dates only",
}];

/// The fixture's years and its (date, kind) pairs.
fn fixture() -> ((i32, i32), BTreeSet<(NaiveDate, &'static str)>) {
    let mut years = None;
    let mut days = BTreeSet::new();
    for line in FIXTURE.lines() {
        if let Some(range) = line.strip_prefix("# years ") {
            let (first, last) = range.split_once(' ').unwrap();
            years = Some((first.parse().unwrap(), last.parse().unwrap()));
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut words = line.splitn(3, ' ');
        let date = NaiveDate::parse_from_str(words.next().unwrap(), "%Y-%m-%d").unwrap();
        let kind = words.next().unwrap();
        assert!(kind == "rest" || kind == "work", "{line}");
        days.insert((date, kind));
    }
    (years.expect("fixture names its years"), days)
}

/// The crate's weekday rest days and worked weekend days in `years`.
fn ours((first, last): (i32, i32)) -> BTreeSet<(NaiveDate, &'static str)> {
    let calendar = Calendar::national();
    let start = NaiveDate::from_ymd_opt(first, 1, 1).unwrap();
    let mut days = BTreeSet::new();
    for date in start.iter_days().take_while(|d| d.year() <= last) {
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        match (weekend, calendar.is_workday(date).unwrap()) {
            (false, false) => days.insert((date, "rest")),
            (true, true) => days.insert((date, "work")),
            _ => false,
        };
    }
    days
}

#[test]
fn national_data_agrees_with_chinese_calendar_except_errata() {
    let (years, theirs) = fixture();
    assert_eq!(
        years,
        (2004, 2026),
        "regenerate the fixture: tools/crosscheck.py"
    );
    let ours = ours(years);
    let only_ours: Vec<_> = ours.difference(&theirs).collect();
    let only_theirs: Vec<_> = theirs.difference(&ours).collect();
    let errata: Vec<(NaiveDate, &str)> = ERRATA
        .iter()
        .map(|e| {
            (
                NaiveDate::parse_from_str(e.date, "%Y-%m-%d").unwrap(),
                e.kind,
            )
        })
        .collect();
    assert!(
        only_theirs.is_empty(),
        "the package has days the data lacks: {only_theirs:?}"
    );
    let unexplained: Vec<_> = only_ours.iter().filter(|d| !errata.contains(d)).collect();
    assert!(
        unexplained.is_empty(),
        "the data has days the package lacks: {unexplained:?}"
    );
    let stale: Vec<_> = errata.iter().filter(|e| !only_ours.contains(e)).collect();
    assert!(stale.is_empty(), "errata no longer needed: {stale:?}");
    assert!(ERRATA.iter().all(|e| !e.why.is_empty()));
}

#[test]
fn fixture_covers_every_year_with_both_kinds() {
    let (_, theirs) = fixture();
    for year in 2004..=2026 {
        let kinds: BTreeSet<&str> = theirs
            .iter()
            .filter(|(d, _)| d.year() == year)
            .map(|(_, k)| *k)
            .collect();
        assert!(
            kinds.contains("rest"),
            "{year} has no rest days in the fixture"
        );
        assert!(
            kinds.contains("work"),
            "{year} has no worked weekends in the fixture"
        );
    }
}
