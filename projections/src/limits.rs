//! The workflow's limits over time: each `WorkflowLimitsDefined` takes effect at an instant,
//! and a limit counted from an anchor is judged by the limits in force while it runs.
//!
//! A limit reached before a change stays where it was: the change moves only what had not yet
//! come due. Counted under the first regime, a limit that ends by the next change's instant
//! ends there; one that runs past it is counted again under the next limits (from the same
//! anchor), and ends no earlier than the change itself (a shortened limit already passed comes
//! due at the change). So the answer depends on the log alone, never on when a fold happened to
//! compute it: the live engine, a replay and a view at any instant agree.

use serde::{Deserialize, Serialize};

use crate::instant::Millis;
use crate::AlertConfig;

/// One of the workflow's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `ack_days`.
    Ack,
    /// `rating_window_days`.
    RatingWindow,
    /// `rating_verify_days`.
    RatingVerify,
    /// `rectify_days`.
    Rectify,
    /// `complaint_accept_days`.
    ComplaintAccept,
    /// `complaint_reply_days`.
    ComplaintReply,
}

impl Limit {
    fn of(self, config: &AlertConfig) -> u32 {
        match self {
            Limit::Ack => config.ack_days,
            Limit::RatingWindow => config.rating_window_days,
            Limit::RatingVerify => config.rating_verify_days,
            Limit::Rectify => config.rectify_days,
            Limit::ComplaintAccept => config.complaint_accept_days,
            Limit::ComplaintReply => config.complaint_reply_days,
        }
    }

    fn defined(self, d: &jiancha_events::WorkflowLimitsDefined) -> Option<u32> {
        match self {
            Limit::Ack => d.ack_days,
            Limit::RatingWindow => d.rating_window_days,
            Limit::RatingVerify => d.rating_verify_days,
            Limit::Rectify => d.rectify_days,
            Limit::ComplaintAccept => d.complaint_accept_days,
            Limit::ComplaintReply => d.complaint_reply_days,
        }
    }

    fn set(self, config: &mut AlertConfig, days: u32) {
        match self {
            Limit::Ack => config.ack_days = days,
            Limit::RatingWindow => config.rating_window_days = days,
            Limit::RatingVerify => config.rating_verify_days = days,
            Limit::Rectify => config.rectify_days = days,
            Limit::ComplaintAccept => config.complaint_accept_days = days,
            Limit::ComplaintReply => config.complaint_reply_days = days,
        }
    }

    const ALL: [Limit; 6] = [
        Limit::Ack,
        Limit::RatingWindow,
        Limit::RatingVerify,
        Limit::Rectify,
        Limit::ComplaintAccept,
        Limit::ComplaintReply,
    ];
}

/// One definition: the instant it took effect, its position, what it set (by [`Limit::ALL`];
/// kept apart from the event's type, whose optional fields a snapshot could not encode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Change {
    at: Millis,
    position: u64,
    defined: [Option<u32>; 6],
}

impl Change {
    fn get(&self, limit: Limit) -> Option<u32> {
        let i = Limit::ALL.iter().position(|l| *l == limit).unwrap_or(0);
        self.defined[i]
    }
}

/// The definitions folded so far, in the order they took effect (by instant, then position).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    changes: Vec<Change>,
}

impl Limits {
    /// Takes in a definition that takes effect at `at`.
    pub fn define(
        &mut self,
        at: Millis,
        position: u64,
        defined: &jiancha_events::WorkflowLimitsDefined,
    ) {
        let i = self
            .changes
            .partition_point(|c| (c.at, c.position) <= (at, position));
        self.changes.insert(
            i,
            Change {
                at,
                position,
                defined: Limit::ALL.map(|l| l.defined(defined)),
            },
        );
    }

    /// How many definitions there are.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// Whether the log defined none.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The thresholds with the limits in force at `at`.
    pub fn in_force(&self, base: &AlertConfig, at: Millis) -> AlertConfig {
        let mut config = *base;
        for c in self.changes.iter().take_while(|c| c.at <= at) {
            for limit in Limit::ALL {
                if let Some(days) = c.get(limit) {
                    limit.set(&mut config, days);
                }
            }
        }
        config
    }

    /// The instant a `limit` counted from some anchor ends, given `end(days)`: the instant it
    /// ends after that many days. `None` when `end` has no answer (a date past the calendar).
    pub fn end(
        &self,
        base: &AlertConfig,
        limit: Limit,
        end: impl Fn(u32) -> Option<Millis>,
    ) -> Option<Millis> {
        let mut days = limit.of(base);
        let mut from = Millis::MIN;
        for c in &self.changes {
            let Some(next) = c.get(limit) else {
                continue;
            };
            if next == days {
                continue;
            }
            let at = end(days)?;
            if at <= c.at {
                return Some(at.max(from));
            }
            days = next;
            from = c.at;
        }
        Some(end(days)?.max(from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defined(rectify: u32) -> jiancha_events::WorkflowLimitsDefined {
        jiancha_events::WorkflowLimitsDefined {
            rectify_days: Some(rectify),
            ..Default::default()
        }
    }

    /// Days as instants: a limit of `d` days from an anchor at 0 ends at `d * 10`.
    fn end(limits: &Limits, base: &AlertConfig) -> Option<Millis> {
        limits.end(base, Limit::Rectify, |d| Some(i64::from(d) * 10))
    }

    #[test]
    fn a_limit_reached_before_a_change_stays_and_one_running_follows_it() {
        let base = AlertConfig::default(); // rectify 5: ends at 50
        let mut l = Limits::default();
        assert_eq!(end(&l, &base), Some(50));
        // A change after the end leaves it.
        l.define(60, 1, &defined(9));
        assert_eq!(end(&l, &base), Some(50));
        // A change before the end moves it (lengthened).
        let mut l = Limits::default();
        l.define(30, 1, &defined(9));
        assert_eq!(end(&l, &base), Some(90));
        // Shortened below what already ran: due at the change itself.
        let mut l = Limits::default();
        l.define(30, 1, &defined(2));
        assert_eq!(end(&l, &base), Some(30));
        // Two changes: 5 → 9 at 30 (50 > 30: runs on), then 9 → 7 at 80 (90 > 80: runs on,
        // and 7 days end at 70, already passed: due at the second change, 80).
        let mut l2 = Limits::default();
        l2.define(30, 1, &defined(9));
        l2.define(80, 2, &defined(7));
        assert_eq!(end(&l2, &base), Some(80));
        // The same value again changes nothing; the order is by instant, not position.
        let mut l3 = Limits::default();
        l3.define(80, 1, &defined(7));
        l3.define(30, 2, &defined(9));
        assert_eq!(end(&l3, &base), Some(80));
        assert_eq!(l3.in_force(&base, 29).rectify_days, 5);
        assert_eq!(l3.in_force(&base, 30).rectify_days, 9);
        assert_eq!(l3.in_force(&base, 81).rectify_days, 7);
    }
}
