//! Repeated failures, logged at a bounded rate. While the database is down the runner tries to
//! follow the log again every second and the cards every few seconds; a line per attempt would
//! bury everything else. A [`Repeats`] logs the first failure of a run in full, counts the
//! repeats and logs at most one summary line per [`SUMMARY_INTERVAL`] ("still failing: N more
//! errors"), and one info line when an attempt succeeds again. The instants are passed in (the
//! runner's monotonic clock; tests move them by hand), never read here.

use std::fmt::Display;
use std::time::Duration;

use tokio::time::Instant;

/// The least time between two lines about one run of failures.
pub(crate) const SUMMARY_INTERVAL: Duration = Duration::from_secs(60);

/// The level a run of failures is logged at (its recovery is logged at the info level).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Error,
    Warn,
}

/// What a failure calls for in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line {
    /// The first failure of a run: logged whole.
    First,
    /// A summary: `errors` failures since the last line, in a run that began `failing_for` ago.
    StillFailing { errors: u64, failing_for: Duration },
}

/// A run of failures that ended: `errors` of them, over `failing_for`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recovered {
    pub errors: u64,
    pub failing_for: Duration,
}

/// The failures since the last success.
#[derive(Debug)]
struct Run {
    began: Instant,
    errors: u64,
    unlogged: u64,
    logged_at: Instant,
}

/// One kind of failure that repeats (one per retried operation).
#[derive(Debug)]
pub(crate) struct Repeats {
    level: Level,
    /// What fails, as a line says it ("cannot follow the event log").
    what: &'static str,
    /// What works again, as the recovery line says it ("following the event log again").
    again: &'static str,
    run: Option<Run>,
}

impl Repeats {
    pub(crate) fn new(level: Level, what: &'static str, again: &'static str) -> Repeats {
        Repeats {
            level,
            what,
            again,
            run: None,
        }
    }

    /// Counts a failure at `now`; says what to log, if anything.
    pub(crate) fn fail(&mut self, now: Instant) -> Option<Line> {
        let Some(run) = &mut self.run else {
            self.run = Some(Run {
                began: now,
                errors: 1,
                unlogged: 0,
                logged_at: now,
            });
            return Some(Line::First);
        };
        run.errors += 1;
        run.unlogged += 1;
        if now.saturating_duration_since(run.logged_at) < SUMMARY_INTERVAL {
            return None;
        }
        let line = Line::StillFailing {
            errors: run.unlogged,
            failing_for: now.saturating_duration_since(run.began),
        };
        run.unlogged = 0;
        run.logged_at = now;
        Some(line)
    }

    /// Notes a success at `now`: the run of failures it ends, if any.
    pub(crate) fn succeed(&mut self, now: Instant) -> Option<Recovered> {
        let run = self.run.take()?;
        Some(Recovered {
            errors: run.errors,
            failing_for: now.saturating_duration_since(run.began),
        })
    }

    /// Counts a failure and logs what is due.
    pub(crate) fn failed(&mut self, now: Instant, error: &dyn Display) {
        let Some(line) = self.fail(now) else { return };
        let what = self.what;
        let Line::StillFailing {
            errors,
            failing_for,
        } = line
        else {
            match self.level {
                Level::Error => tracing::error!(%error, "{what}; retrying"),
                Level::Warn => tracing::warn!(%error, "{what}; retrying"),
            }
            return;
        };
        let failing_for_s = failing_for.as_secs();
        match self.level {
            Level::Error => tracing::error!(
                %error, errors, failing_for_s,
                "{what}: still failing after {failing_for_s} s, \
                 {errors} more errors since the last line"
            ),
            Level::Warn => tracing::warn!(
                %error, errors, failing_for_s,
                "{what}: still failing after {failing_for_s} s, \
                 {errors} more errors since the last line"
            ),
        }
    }

    /// Notes a success and logs the recovery, if a run of failures ends.
    pub(crate) fn succeeded(&mut self, now: Instant) {
        if let Some(Recovered {
            errors,
            failing_for,
        }) = self.succeed(now)
        {
            let failing_for_s = failing_for.as_secs();
            let again = self.again;
            tracing::info!(
                errors,
                failing_for_s,
                "{again} after {errors} errors in {failing_for_s} s"
            );
        }
    }
}

#[cfg(test)]
mod tests;
