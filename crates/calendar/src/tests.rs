//! Unit tests of the calendar's queries: hand-checked due dates across holiday blocks,
//! provisional results, suspensions, amendments, errors and the data parser.

use chrono::NaiveDate;

use crate::national::{national_data, parse};
use crate::{
    Amendment, AmendmentKind, Calendar, CalendarError, Count, DayKind, DaySource, Due, Holiday,
};

fn d(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn amendment(jurisdiction: &str, date: &str, kind: AmendmentKind) -> Amendment {
    Amendment {
        jurisdiction: jurisdiction.into(),
        date: d(date),
        kind,
        reason: format!("test {kind}"),
    }
}

/// Asserts the due date of `days` working days after `from` on the national calendar.
fn check_due(from: &str, days: u32, expected: &str, provisional: bool) {
    let due = Calendar::national()
        .add_working_days(d(from), days)
        .unwrap();
    assert_eq!(
        due,
        Due {
            date: d(expected),
            provisional
        },
        "{from} + {days}"
    );
}

#[test]
fn built_in_data_parses() {
    let data = parse(include_str!("../data/cn.txt")).unwrap();
    assert_eq!(data.declared_years, (2004..=2026).collect::<Vec<_>>());
    assert!(data.notices.iter().all(|n| n.title.ends_with("通知")));
    assert_eq!(national_data().days.len(), data.days.len());
}

#[test]
fn due_dates_across_holiday_blocks() {
    // National Day 2026: 10-01..10-07 off, Saturday 10-10 worked.
    check_due("2026-09-28", 5, "2026-10-10", false);
    // Spring Festival 2026: Saturday 02-14 worked, 02-15..02-23 off.
    check_due("2026-02-13", 1, "2026-02-14", false);
    check_due("2026-02-13", 2, "2026-02-24", false);
    // Sunday 2024-02-04 worked before the Spring Festival.
    check_due("2024-02-02", 1, "2024-02-04", false);
    // Labour Day 2019 as widened in March 2019: Sunday 05-05 worked.
    check_due("2019-04-30", 1, "2019-05-05", false);
    // The 2015 Victory Day: 09-03..09-05 off, Sunday 09-06 worked.
    check_due("2015-09-02", 1, "2015-09-06", false);
    // New Year 2008 moved days of December 2007.
    check_due("2007-12-28", 1, "2007-12-29", false);
    check_due("2007-12-28", 2, "2008-01-02", false);
    // The 2006 notice made Saturday 2005-12-31 a workday.
    check_due("2005-12-30", 1, "2005-12-31", false);
}

#[test]
fn spring_festival_2020_extension_is_rest() {
    // The original notice ended the block on 01-30 and worked Saturday 02-01; the extension
    // made 01-31..02-02 rest, so the first working day is Monday 02-03.
    check_due("2020-01-23", 1, "2020-02-03", false);
    let calendar = Calendar::national();
    for day in ["2020-01-31", "2020-02-01", "2020-02-02"] {
        assert!(!calendar.is_workday(d(day)).unwrap(), "{day}");
    }
    let entry = calendar
        .year_days(2020)
        .into_iter()
        .find(|e| e.date == d("2020-02-01"));
    let DaySource::Notice { holiday, notice } = entry.unwrap().source else {
        panic!("national day expected")
    };
    assert_eq!(holiday, Holiday::SpringFestivalExtension);
    assert_eq!(notice.title, "国务院办公厅关于延长2020年春节假期的通知");
}

#[test]
fn undeclared_days_count_monday_to_friday_and_are_provisional() {
    // 2027 has no notice yet.
    check_due("2027-03-01", 5, "2027-03-08", true);
    // 2027-01-01 is a Friday with no notice: counted as a working day.
    check_due("2026-12-30", 3, "2027-01-04", true);
    // December 2026 may still be moved by the 2027 notice.
    check_due("2026-12-01", 1, "2026-12-02", true);
    check_due("2026-11-27", 1, "2026-11-30", false);
    // December 2025 is settled: the 2026 notice is out.
    check_due("2025-12-01", 1, "2025-12-02", false);
    // Before 2004 there is no data.
    check_due("2003-12-30", 2, "2004-01-02", true);
    let calendar = Calendar::national();
    assert!(calendar.is_provisional(d("2026-12-31")).unwrap());
    assert!(!calendar.is_provisional(d("2026-11-30")).unwrap());
    assert!(calendar.is_provisional(d("1990-01-01")).unwrap());
}

#[test]
fn zero_days_is_the_date_itself() {
    check_due("2026-10-03", 0, "2026-10-03", false);
    check_due("2027-06-01", 0, "2027-06-01", false);
}

#[test]
fn working_days_between_counts_the_half_open_range() {
    let calendar = Calendar::national();
    let count = calendar
        .working_days_between(d("2026-09-30"), d("2026-10-10"))
        .unwrap();
    assert_eq!(
        count,
        Count {
            days: 3,
            provisional: false
        }
    );
    let none = calendar
        .working_days_between(d("2026-10-10"), d("2026-09-30"))
        .unwrap();
    assert_eq!(none.days, 0);
    let year = calendar
        .working_days_between(d("2025-12-31"), d("2026-12-31"))
        .unwrap();
    // 261 weekdays in 2026, minus 19 weekday rest days, plus 6 worked weekend days; the
    // December days make it provisional until the 2027 notice.
    assert_eq!(
        year,
        Count {
            days: 248,
            provisional: true
        }
    );
}

#[test]
fn skipped_ranges_are_not_counted() {
    let calendar = Calendar::national();
    let skipped = [(d("2026-03-04"), d("2026-03-05"))];
    let due = calendar
        .add_working_days_skipping(d("2026-03-02"), 5, &skipped)
        .unwrap();
    assert_eq!(due.date, d("2026-03-11"));
    let count = calendar.working_days_between_skipping(d("2026-03-02"), d("2026-03-11"), &skipped);
    assert_eq!(count.unwrap().days, 5);
    // A range before the start, and one straddling the start.
    let around = [
        (d("2026-02-02"), d("2026-02-03")),
        (d("2026-03-01"), d("2026-03-03")),
    ];
    let due = calendar
        .add_working_days_skipping(d("2026-03-02"), 1, &around)
        .unwrap();
    assert_eq!(due.date, d("2026-03-04"));
    // A range after the due date changes nothing.
    let later = [(d("2026-04-01"), d("2026-04-30"))];
    let due = calendar
        .add_working_days_skipping(d("2026-03-02"), 5, &later)
        .unwrap();
    assert_eq!(due.date, d("2026-03-09"));
}

#[test]
fn bad_skipped_ranges_are_refused() {
    let calendar = Calendar::national();
    let from = d("2026-03-02");
    let reversed = [(d("2026-03-05"), d("2026-03-04"))];
    let overlapping = [
        (d("2026-03-04"), d("2026-03-06")),
        (d("2026-03-06"), d("2026-03-09")),
    ];
    let unsorted = [
        (d("2026-03-10"), d("2026-03-11")),
        (d("2026-03-04"), d("2026-03-05")),
    ];
    for skipped in [&reversed[..], &overlapping[..], &unsorted[..]] {
        let error = calendar
            .add_working_days_skipping(from, 5, skipped)
            .unwrap_err();
        assert!(
            matches!(error, CalendarError::InvalidSkippedRange { .. }),
            "{skipped:?}"
        );
    }
}

#[test]
fn dates_outside_the_range_are_errors() {
    let calendar = Calendar::national();
    for date in ["1989-12-31", "2101-01-01"] {
        let error = calendar.is_workday(d(date)).unwrap_err();
        assert_eq!(error, CalendarError::DateOutOfRange { date: d(date) });
    }
    assert!(calendar.is_workday(d("1990-01-01")).is_ok());
    assert!(calendar.is_workday(d("2100-12-31")).is_ok());
    let beyond = calendar.add_working_days(d("2100-12-29"), 5).unwrap_err();
    assert_eq!(
        beyond,
        CalendarError::DueOutOfRange {
            from: d("2100-12-29"),
            days: 5
        }
    );
    assert_eq!(
        beyond.to_string(),
        "5 working days after 2100-12-29 end beyond 2100-12-31"
    );
    let out = CalendarError::DateOutOfRange {
        date: d("2101-01-01"),
    }
    .to_string();
    assert_eq!(
        out,
        "date 2101-01-01 is outside the calendar's range 1990-01-01 to 2100-12-31"
    );
}

#[test]
fn amendments_reach_their_jurisdiction_and_below() {
    let amendments = [amendment("cq", "2026-03-03", AmendmentKind::RestDay)];
    let below = Calendar::for_jurisdiction("cq/jiangjin", &amendments);
    assert!(!below.is_workday(d("2026-03-03")).unwrap());
    for other in ["sc", "cqx", "national"] {
        let calendar = Calendar::for_jurisdiction(other, &amendments);
        assert!(calendar.is_workday(d("2026-03-03")).unwrap(), "{other}");
    }
    let national = [amendment("national", "2026-03-03", AmendmentKind::Holiday)];
    let reached = Calendar::for_jurisdiction("cq/jiangjin", &national);
    assert!(!reached.is_workday(d("2026-03-03")).unwrap());
}

#[test]
fn the_more_specific_jurisdiction_wins_then_the_later_amendment() {
    let amendments = [
        amendment("cq/jiangjin", "2026-03-04", AmendmentKind::Workday),
        amendment("cq", "2026-03-04", AmendmentKind::RestDay),
        amendment("cq", "2026-03-05", AmendmentKind::RestDay),
        amendment("cq", "2026-03-05", AmendmentKind::Workday),
    ];
    let jiangjin = Calendar::for_jurisdiction("cq/jiangjin", &amendments);
    assert!(jiangjin.is_workday(d("2026-03-04")).unwrap());
    let town = Calendar::for_jurisdiction("cq/wanzhou", &amendments);
    assert!(!town.is_workday(d("2026-03-04")).unwrap());
    assert!(town.is_workday(d("2026-03-05")).unwrap());
}

#[test]
fn declaring_a_year_ends_provisional_results() {
    let declared = [amendment(
        "national",
        "2027-06-01",
        AmendmentKind::YearDeclared,
    )];
    let calendar = Calendar::for_jurisdiction("national", &declared);
    assert!(calendar.is_year_declared(2027));
    assert!(!Calendar::national().is_year_declared(2027));
    let due = calendar.add_working_days(d("2027-03-01"), 5).unwrap();
    assert_eq!(
        due,
        Due {
            date: d("2027-03-08"),
            provisional: false
        }
    );
    // December 2026 is settled once 2027 is declared.
    let due = calendar.add_working_days(d("2026-12-01"), 1).unwrap();
    assert!(!due.provisional);
}

#[test]
fn amendments_outside_the_range_are_ignored() {
    let amendments = [
        amendment("cq", "2101-01-03", AmendmentKind::RestDay),
        amendment("cq", "1900-01-01", AmendmentKind::YearDeclared),
    ];
    let calendar = Calendar::for_jurisdiction("cq", &amendments);
    assert_eq!(
        calendar.add_working_days(d("2026-03-02"), 5).unwrap(),
        Calendar::national()
            .add_working_days(d("2026-03-02"), 5)
            .unwrap()
    );
}

#[test]
fn year_days_lists_notices_and_amendments() {
    let amendments = [amendment("xinjiang", "2026-05-27", AmendmentKind::Holiday)];
    let calendar = Calendar::for_jurisdiction("xinjiang/urumqi", &amendments);
    let days = calendar.year_days(2026);
    assert!(days.windows(2).all(|w| w[0].date < w[1].date));
    let local = days.iter().find(|e| e.date == d("2026-05-27")).unwrap();
    assert_eq!(local.kind, DayKind::Holiday);
    assert!(
        matches!(&local.source, DaySource::Amendment { jurisdiction, .. } if jurisdiction == "xinjiang")
    );
    let workday = days.iter().find(|e| e.date == d("2026-10-10")).unwrap();
    assert_eq!(workday.kind, DayKind::Workday);
    let DaySource::Notice { holiday, notice } = &workday.source else {
        panic!("national")
    };
    assert_eq!((holiday.zh(), holiday.en()), ("国庆节", "National Day"));
    assert_eq!(notice.title, "国务院办公厅关于2026年部分节假日安排的通知");
    assert_eq!(notice.published_on, d("2025-11-04"));
    assert!(calendar.year_days(2027).is_empty());
    assert_eq!(calendar.year_notices(2026).len(), 1);
    assert!(calendar.year_notices(2027).is_empty());
}

#[test]
fn year_days_keep_december_days_in_their_own_year() {
    let calendar = Calendar::national();
    let days = calendar.year_days(2007);
    let moved: Vec<_> = days.iter().filter(|e| e.date >= d("2007-12-29")).collect();
    assert_eq!(moved.len(), 3);
    let DaySource::Notice { notice, .. } = &moved[0].source else {
        panic!("national")
    };
    assert_eq!(notice.year, 2008);
}

#[test]
fn amendment_kinds_use_snake_case_names() {
    for (kind, name) in [
        (AmendmentKind::Holiday, "holiday"),
        (AmendmentKind::RestDay, "rest_day"),
        (AmendmentKind::Workday, "workday"),
        (AmendmentKind::YearDeclared, "year_declared"),
    ] {
        assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{name}\""));
        assert_eq!(name.parse::<AmendmentKind>().unwrap(), kind);
    }
    assert!("closure".parse::<AmendmentKind>().is_err());
    let json = r#"{"jurisdiction":"cq","date":"2026-03-03","kind":"rest_day","reason":"flood"}"#;
    let parsed: Amendment = serde_json::from_str(json).unwrap();
    assert_eq!(parsed.kind, AmendmentKind::RestDay);
}

#[test]
fn parser_reports_the_line_of_each_defect() {
    let cases = [
        ("new_year holiday 2026-01-01", 1, "before any `year`"),
        (
            "year 2026\nnew_year holiday 2026-01-01",
            2,
            "before any `notice`",
        ),
        ("year 2026\nyear 2025", 2, "not after"),
        (
            "year 2026\nnotice 2025-11-04 通知\nnew_year work 2026-01-05",
            3,
            "not a Saturday",
        ),
        (
            "year 2026\nnotice 2025-11-04 通知\nnew_year rest 2025-11-30",
            3,
            "outside year",
        ),
        (
            "year 2026\nnotice 2025-11-04 通知\nnew_year rest 2026-01-03..2026-01-01",
            3,
            "backwards",
        ),
        (
            "year 2026\nnotice 2025-11-04 通知\nnew_year rest 2026-01-01\nnew_year rest 2026-01-01",
            4,
            "twice",
        ),
        (
            "year 2026\nnotice 2025-11-04 通知\nfeast rest 2026-01-01",
            3,
            "unknown holiday",
        ),
        (
            "year 2026\nnotice 2025-11-04 通知\nnew_year off 2026-01-01",
            3,
            "unknown kind",
        ),
        ("year 2026\nnotice 2025-13-04 通知", 2, "bad date"),
    ];
    for (text, line, words) in cases {
        let error = parse(text).unwrap_err();
        assert_eq!(error.line, line, "{text}");
        assert!(error.message.contains(words), "{text}: {}", error.message);
    }
}

#[test]
fn a_later_notice_overrides_an_earlier_one() {
    let text = "year 2020\nnotice 2019-11-21 通知\nspring_festival work 2020-02-01\n\
                notice 2020-01-27 通知\nspring_festival_extension rest 2020-01-31..2020-02-02";
    let data = parse(text).unwrap();
    let day = data
        .days
        .iter()
        .find(|x| x.date == d("2020-02-01"))
        .unwrap();
    assert_eq!((day.kind, day.notice), (DayKind::RestDay, 1));
}

#[test]
fn error_messages_do_not_end_with_a_period() {
    let errors = [
        CalendarError::DateOutOfRange {
            date: d("2101-01-01"),
        },
        CalendarError::DueOutOfRange {
            from: d("2100-12-01"),
            days: 40,
        },
        CalendarError::InvalidSkippedRange {
            from: d("2026-01-02"),
            to: d("2026-01-01"),
        },
    ];
    for error in errors {
        assert!(!error.to_string().ends_with('.'), "{error}");
    }
}

/// Asserts the last day of `days` natural days after `from` on the national calendar.
fn check_natural(from: &str, days: u32, expected: &str, provisional: bool) {
    let due = Calendar::national()
        .add_natural_days(d(from), days)
        .unwrap();
    assert_eq!(
        due,
        Due {
            date: d(expected),
            provisional
        },
        "{from} + {days} natural days"
    );
}

/// Natural-day periods (日), worked by hand on the 2026 notice: the last day counts from the
/// day after `from`; one that falls on a holiday or a rest day moves to the next working day
/// (Civil Code art. 203); a shifted workday is a working day.
#[test]
fn natural_day_periods_end_on_a_working_day() {
    // A working day: Thursday 2026-03-05 stays.
    check_natural("2026-03-02", 3, "2026-03-05", false);
    // An ordinary weekend: Saturday 2026-03-07 moves to Monday 03-09.
    check_natural("2026-03-02", 5, "2026-03-09", false);
    // Spring Festival: 2026-02-15 (Sunday, a rest day of the block 02-15..02-23) moves to
    // Tuesday 02-24, the first working day after the block.
    check_natural("2026-01-26", 20, "2026-02-24", false);
    // A shifted workday: Saturday 2026-02-14 is worked, so the period ends there.
    check_natural("2026-02-08", 6, "2026-02-14", false);
    // Qingming: Sunday 2026-04-05 (the festival, block 04-04..04-06) moves to Tuesday 04-07.
    check_natural("2026-03-16", 20, "2026-04-07", false);
    // National Day: 2026-10-05 (block 10-01..10-07) moves to Thursday 10-08.
    check_natural("2026-09-15", 20, "2026-10-08", false);
    // Saturday 2026-10-10 is a shifted workday: it ends there.
    check_natural("2026-09-20", 20, "2026-10-10", false);
    // Zero days is the date itself.
    check_natural("2026-10-03", 0, "2026-10-03", false);
    // An undeclared year: Saturday 2027-03-06 moves to Monday 03-08, provisionally.
    check_natural("2027-03-01", 5, "2027-03-08", true);
}

#[test]
fn natural_days_beyond_the_calendar_are_an_error() {
    let far = Calendar::national().add_natural_days(d("2026-01-01"), 1_000_000);
    assert!(
        matches!(far, Err(CalendarError::DueOutOfRange { .. })),
        "{far:?}"
    );
}
