//! The rate of the lines about repeated failures, with instants moved by hand: the first
//! failure is logged, repeats are counted quietly, a summary comes once per interval, and a
//! success ends the run with a recovery line.

use std::time::Duration;

use tokio::time::Instant;

use super::*;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn repeats() -> Repeats {
    Repeats::new(
        Level::Error,
        "cannot follow the event log",
        "following it again",
    )
}

#[test]
fn the_first_failure_is_logged_and_repeats_are_counted_quietly() {
    let t0 = Instant::now();
    let mut r = repeats();
    assert_eq!(r.fail(t0), Some(Line::First));
    // A failure a second, as the runner retries: nothing until the interval has passed.
    for n in 1..SUMMARY_INTERVAL.as_secs() {
        assert_eq!(r.fail(t0 + secs(n)), None, "second {n}");
    }
}

#[test]
fn a_summary_counts_the_repeats_once_per_interval() {
    let t0 = Instant::now();
    let mut r = repeats();
    assert_eq!(r.fail(t0), Some(Line::First));
    for n in 1..60 {
        r.fail(t0 + secs(n));
    }
    assert_eq!(
        r.fail(t0 + secs(60)),
        Some(Line::StillFailing {
            errors: 60,
            failing_for: secs(60)
        })
    );
    // The next summary counts from the last line, and comes an interval after it.
    assert_eq!(r.fail(t0 + secs(61)), None);
    assert_eq!(r.fail(t0 + secs(119)), None);
    assert_eq!(
        r.fail(t0 + secs(120)),
        Some(Line::StillFailing {
            errors: 3,
            failing_for: secs(120)
        })
    );
}

#[test]
fn sparse_failures_wait_for_the_interval_after_the_last_line() {
    let t0 = Instant::now();
    let mut r = repeats();
    assert_eq!(r.fail(t0), Some(Line::First));
    assert_eq!(r.fail(t0 + secs(30)), None);
    assert_eq!(
        r.fail(t0 + secs(300)),
        Some(Line::StillFailing {
            errors: 2,
            failing_for: secs(300)
        })
    );
}

#[test]
fn a_success_ends_the_run_with_a_recovery_and_the_next_failure_is_logged_again() {
    let t0 = Instant::now();
    let mut r = repeats();
    assert_eq!(
        r.succeed(t0),
        None,
        "no run of failures, nothing to recover from"
    );
    assert_eq!(r.fail(t0), Some(Line::First));
    for n in 1..=90 {
        r.fail(t0 + secs(n));
    }
    assert_eq!(
        r.succeed(t0 + secs(95)),
        Some(Recovered {
            errors: 91,
            failing_for: secs(95)
        })
    );
    assert_eq!(r.succeed(t0 + secs(96)), None, "recovered once");
    assert_eq!(r.fail(t0 + secs(97)), Some(Line::First));
}
