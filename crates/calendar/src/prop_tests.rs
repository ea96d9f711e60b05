//! Property tests of the working-day arithmetic, against a day-by-day reference model and
//! against itself (round trips, monotony, suspensions, amendments).
//!
//! `due(d, n)` below is `add_working_days(d, n)`: the n-th working day strictly after `d`, and
//! `d` itself for `n == 0`. Because every due date with `n >= 1` is a working day and the
//! working days after `due(d, a)` are exactly the ones after `d` from the (a+1)-th on,
//! `due(d, a + b) == due(due(d, a), b)` holds for every `d`, `a` and `b`, working day or not.

use chrono::{Days, NaiveDate};
use proptest::prelude::*;

use crate::{Amendment, AmendmentKind, Calendar};

/// Dates from 2000 to 2030: before, across and after the declared years.
fn date() -> impl Strategy<Value = NaiveDate> {
    let first = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    (0u64..31 * 366).prop_map(move |offset| first + Days::new(offset))
}

fn limit() -> impl Strategy<Value = u32> {
    0u32..400
}

/// Sorted, non-overlapping inclusive ranges starting near `date`'s strategy range.
fn skipped() -> impl Strategy<Value = Vec<(NaiveDate, NaiveDate)>> {
    let first = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    (
        0u64..31 * 366,
        prop::collection::vec((0u64..60, 0u64..30), 0..6),
    )
        .prop_map(move |(start, gaps)| {
            let mut cursor = first + Days::new(start);
            gaps.into_iter()
                .map(|(gap, len)| {
                    let from = cursor + Days::new(gap + 1);
                    let to = from + Days::new(len);
                    cursor = to;
                    (from, to)
                })
                .collect()
        })
}

/// The reference model: walk forward one day at a time.
fn naive_due(calendar: &Calendar, from: NaiveDate, days: u32) -> NaiveDate {
    let mut date = from;
    let mut left = days;
    while left > 0 {
        date = date.succ_opt().unwrap();
        if calendar.is_workday(date).unwrap() {
            left -= 1;
        }
    }
    date
}

fn due(calendar: &Calendar, from: NaiveDate, days: u32) -> NaiveDate {
    calendar.add_working_days(from, days).unwrap().date
}

fn in_any(date: NaiveDate, ranges: &[(NaiveDate, NaiveDate)]) -> bool {
    ranges
        .iter()
        .any(|(from, to)| (*from..=*to).contains(&date))
}

proptest! {
    #[test]
    fn agrees_with_the_day_by_day_model(from in date(), days in limit()) {
        let calendar = Calendar::national();
        prop_assert_eq!(due(&calendar, from, days), naive_due(&calendar, from, days));
    }

    #[test]
    fn due_dates_compose(from in date(), a in limit(), b in limit()) {
        let calendar = Calendar::national();
        let step = due(&calendar, from, a);
        prop_assert_eq!(due(&calendar, from, a + b), due(&calendar, step, b));
    }

    #[test]
    fn counting_back_gives_the_limit(from in date(), days in limit()) {
        let calendar = Calendar::national();
        let result = calendar.add_working_days(from, days).unwrap();
        let count = calendar.working_days_between(from, result.date).unwrap();
        prop_assert_eq!(count.days, days);
        // Both look at the same days (from, due], so they agree on provisional (n >= 1).
        if days > 0 {
            prop_assert_eq!(count.provisional, result.provisional);
        }
    }

    #[test]
    fn a_due_date_is_a_later_working_day(from in date(), days in 1u32..400) {
        let calendar = Calendar::national();
        let result = due(&calendar, from, days);
        prop_assert!(result > from);
        prop_assert!(calendar.is_workday(result).unwrap());
    }

    #[test]
    fn due_dates_are_monotonic(a in date(), b in date(), n in limit(), m in limit()) {
        let calendar = Calendar::national();
        let (early, late) = (a.min(b), a.max(b));
        prop_assert!(due(&calendar, early, n) <= due(&calendar, late, n));
        prop_assert!(due(&calendar, a, n.min(m)) <= due(&calendar, a, n.max(m)));
    }

    #[test]
    fn provisional_means_an_undeclared_day_was_crossed(from in date(), days in 1u32..400) {
        let calendar = Calendar::national();
        let result = calendar.add_working_days(from, days).unwrap();
        let crossed = from
            .iter_days()
            .skip(1)
            .take_while(|d| *d <= result.date)
            .any(|d| calendar.is_provisional(d).unwrap());
        prop_assert_eq!(result.provisional, crossed);
    }

    #[test]
    fn skipping_only_moves_due_dates_later(from in date(), days in 1u32..400, ranges in skipped()) {
        let calendar = Calendar::national();
        let plain = due(&calendar, from, days);
        let skipping = calendar.add_working_days_skipping(from, days, &ranges).unwrap().date;
        prop_assert!(skipping >= plain);
        prop_assert!(calendar.is_workday(skipping).unwrap());
        prop_assert!(!in_any(skipping, &ranges));
        let count = calendar.working_days_between_skipping(from, skipping, &ranges).unwrap();
        prop_assert_eq!(count.days, days);
    }

    #[test]
    fn skipped_counts_match_the_day_by_day_model(a in date(), b in date(), ranges in skipped()) {
        let calendar = Calendar::national();
        let counted = calendar.working_days_between_skipping(a, b, &ranges).unwrap().days;
        let naive = a
            .iter_days()
            .skip(1)
            .take_while(|d| *d <= b)
            .filter(|d| calendar.is_workday(*d).unwrap() && !in_any(*d, &ranges))
            .count();
        prop_assert_eq!(counted as usize, naive);
    }

    #[test]
    fn a_new_rest_day_delays_by_at_most_one_working_day(
        from in date(),
        days in 1u32..400,
        offset in 1u64..600,
    ) {
        let national = Calendar::national();
        let closed = from + Days::new(offset);
        prop_assume!(national.is_workday(closed).unwrap());
        let amendment = Amendment {
            jurisdiction: "cq".into(),
            date: closed,
            kind: AmendmentKind::RestDay,
            reason: "closure".into(),
        };
        let amended = Calendar::for_jurisdiction("cq/jiangjin", &[amendment]);
        let before = due(&national, from, days);
        let after = due(&amended, from, days);
        // Only limits that ran across the closed day move, and by exactly one working day.
        let expected = if closed <= before { due(&national, from, days + 1) } else { before };
        prop_assert_eq!(after, expected);
    }
}
