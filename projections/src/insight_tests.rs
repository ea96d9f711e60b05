//! The insight's arithmetic: percentiles as integers or halves, the suggested promise never
//! above the current one, the forecast's rounding and the months.

use crate::insight::*;

#[test]
fn percentiles_are_integers_or_halves() {
    assert_eq!(percentile2(&[], 50), None);
    assert_eq!(percentile2(&[7], 50), Some(14));
    assert_eq!(percentile2(&[7], 90), Some(14));
    // An even count: the median is the mean of the middle two.
    assert_eq!(percentile2(&[1, 2, 3, 4], 50), Some(5));
    assert_eq!(half_text(5), "2.5");
    assert_eq!(half_text(6), "3");
    // Ten values: p90 sits on a step (k = 9), the mean of the 9th and 10th.
    let ten: Vec<u32> = (1..=10).collect();
    assert_eq!(percentile2(&ten, 90), Some(19));
    // Eleven: k = 9.9, the 10th value.
    let eleven: Vec<u32> = (1..=11).collect();
    assert_eq!(percentile2(&eleven, 90), Some(20));
    assert_eq!(percentile2(&eleven, 50), Some(12));
}

#[test]
fn the_suggested_promise_is_never_above_the_current_one() {
    for limit in 0..=40u32 {
        for p90 in 0..=100u64 {
            if let Some(s) = suggested_promise(p90, limit) {
                assert!(s < limit, "p90 {p90}/2, limit {limit}: {s}");
                assert!(s >= 1);
                // Only when p90 is at most 60% of the limit.
                assert!(
                    p90 * 5 <= u64::from(limit) * 6,
                    "p90 {p90}/2, limit {limit}"
                );
            }
        }
    }
    // p90 = 6 of 10: exactly 60%, suggest 6.
    assert_eq!(suggested_promise(12, 10), Some(6));
    // p90 = 6.5 of 10: above 60%.
    assert_eq!(suggested_promise(13, 10), None);
    // p90 = 0.5: ceil is 1.
    assert_eq!(suggested_promise(1, 5), Some(1));
    // p90 = 0 of 1: max(1, 0) = 1, not shorter than the limit.
    assert_eq!(suggested_promise(0, 1), None);
}

#[test]
fn the_forecast_rounds_half_up_and_keeps_the_base_without_a_trend() {
    assert_eq!(forecast_count(10, 0, 0), 10);
    assert_eq!(forecast_count(10, 3, 2), 15);
    assert_eq!(forecast_count(1, 1, 2), 1); // 0.5 rounds up
    assert_eq!(forecast_count(1, 1, 3), 0); // 0.33 rounds down
    assert_eq!(forecast_count(0, 100, 1), 0);
}

#[test]
fn months_add_across_years() {
    assert_eq!(add_months(202_603, 1), 202_604);
    assert_eq!(add_months(202_612, 1), 202_701);
    assert_eq!(add_months(202_601, -1), 202_512);
    assert_eq!(add_months(202_603, -24), 202_403);
    assert_eq!(month_text(202_603), "2026-03");
}
