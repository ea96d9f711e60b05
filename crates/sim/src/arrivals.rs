//! When applications arrive: day by day over the working-day calendar, in arrival order.
//!
//! A working day's expected count is the configured mean times a month factor (a rush in
//! March and at the year's end, a summer lull), a weekday factor (Mondays busiest)
//! and a backlog factor for the first working days after a holiday block (the week after the
//! Spring Festival or National Day is the busiest of the year). Rest days see only a trickle
//! of online and self-service applications. Times follow the day's rhythm: a morning peak,
//! a lunch lull, an afternoon peak, all within 09:00–17:30.

use chrono::{Datelike, Weekday};
use jiancha_events::Channel;

use crate::days::{at, Day, Days, Instant, OPEN_SECONDS};
use crate::rng::{cumulative, Purpose, Rng};
use crate::SimError;

/// Seasonality by month, January first.
/// Holidays already take their days out; a month's factor is per working day.
const MONTH_FACTORS: [f64; 12] = [
    1.05, 1.0, 1.1, 1.05, 1.0, 1.0, 0.9, 0.9, 1.0, 0.95, 1.05, 1.1,
];

/// Rest days see this share of an ordinary working day's applications, online only.
const REST_DAY_FACTOR: f64 = 0.04;

/// Backlog after a long block (7 rest days or more), by working day since it ended.
const AFTER_LONG_BLOCK: [f64; 5] = [1.8, 1.6, 1.4, 1.25, 1.1];

/// Backlog after a short block (3 to 6 rest days).
const AFTER_SHORT_BLOCK: [f64; 2] = [1.3, 1.1];

/// Arrivals per half hour from 09:00 to 17:30: peaks at 10:00 and 14:30, a lull at noon.
const HALF_HOUR_WEIGHTS: [u32; 17] = [8, 12, 14, 14, 12, 8, 3, 3, 4, 7, 10, 12, 12, 10, 9, 7, 4];

/// Working days of headroom kept after an arrival day, so that no case runs off the table.
pub(crate) const HEADROOM_WORKDAYS: u32 = 400;

/// One application's arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Arrival {
    pub(crate) at: Instant,
    pub(crate) channel: Channel,
}

/// The arrival process, one day at a time.
#[derive(Debug)]
pub(crate) struct Arrivals {
    rng: Rng,
    per_workday: f64,
    /// Cumulative weights of window, online, agent and self-service on a working day.
    channels: [u32; 4],
    day: Day,
    today: Vec<Arrival>,
    cursor: usize,
    /// Rest days seen in a row just before `day`.
    rest_run: u32,
    /// Length of the last holiday block (3 rest days or more) and working days since it.
    last_block: u32,
    since_block: u32,
}

impl Arrivals {
    /// Starts the process on `start`, having walked the weeks before it to know whether the
    /// run opens right after a holiday block.
    pub(crate) fn new(
        seed: u64,
        days: &Days,
        start: Day,
        per_workday: f64,
        villages: bool,
    ) -> Self {
        let mut arrivals = Arrivals {
            rng: Rng::new(seed, Purpose::Arrivals, 0),
            per_workday,
            // Without villages there are no agents to file cases.
            channels: [50, 80, if villages { 92 } else { 80 }, 100],
            day: 0,
            today: Vec::new(),
            cursor: 0,
            rest_run: 0,
            last_block: 0,
            since_block: u32::MAX,
        };
        while arrivals.day < start {
            arrivals.advance(days);
        }
        arrivals.fill(days);
        arrivals
    }

    /// The next arrival, in time order.
    pub(crate) fn next(&mut self, days: &Days) -> Result<Arrival, SimError> {
        loop {
            if let Some(&arrival) = self.today.get(self.cursor) {
                self.cursor += 1;
                return Ok(arrival);
            }
            self.advance(days);
            if !days.has_headroom(self.day, HEADROOM_WORKDAYS) {
                return Err(SimError::OutOfCalendar {
                    date: days.date(self.day),
                });
            }
            self.fill(days);
        }
    }

    /// Moves to the next day, keeping track of holiday blocks.
    fn advance(&mut self, days: &Days) {
        if days.is_workday(self.day) {
            self.rest_run = 0;
        } else {
            self.rest_run += 1;
        }
        self.day += 1;
        if days.is_workday(self.day) {
            if self.rest_run >= 3 {
                self.last_block = self.rest_run;
                self.since_block = 0;
            } else {
                self.since_block = self.since_block.saturating_add(1);
            }
        }
    }

    /// Draws the current day's arrivals, sorted by time.
    fn fill(&mut self, days: &Days) {
        self.today.clear();
        self.cursor = 0;
        let working = days.is_workday(self.day);
        let expected = self.per_workday * self.day_factor(days, working);
        let count = self.count(expected);
        let slots = cumulative(&HALF_HOUR_WEIGHTS);
        for _ in 0..count {
            let slot = self.rng.weighted(&slots) as i64;
            let seconds = OPEN_SECONDS + slot * 1800 + self.rng.below(1800) as i64;
            let channel = self.channel(working);
            self.today.push(Arrival {
                at: at(self.day, seconds),
                channel,
            });
        }
        self.today.sort_by_key(|a| a.at);
    }

    fn day_factor(&self, days: &Days, working: bool) -> f64 {
        if !working {
            return REST_DAY_FACTOR;
        }
        let date = days.date(self.day);
        let month = MONTH_FACTORS[date.month0() as usize % 12];
        let weekday = match date.weekday() {
            Weekday::Mon => 1.15,
            Weekday::Tue => 1.05,
            Weekday::Wed => 1.0,
            Weekday::Thu => 0.95,
            Weekday::Fri => 0.85,
            // A weekend day worked in lieu (调休上班): people are still in weekend mode.
            Weekday::Sat | Weekday::Sun => 0.9,
        };
        let since = self.since_block as usize;
        let backlog = match self.last_block {
            7.. => AFTER_LONG_BLOCK.get(since).copied(),
            3..=6 => AFTER_SHORT_BLOCK.get(since).copied(),
            _ => None,
        };
        month * weekday * backlog.unwrap_or(1.0)
    }

    /// A count with mean `expected`: binomial for small means, a normal approximation (exact
    /// float arithmetic only, so every platform agrees) for large ones.
    fn count(&mut self, expected: f64) -> u64 {
        if expected < 10.0 {
            let trials = (expected * 4.0).ceil().max(1.0) as u64;
            let p = expected / trials as f64;
            return (0..trials).filter(|_| self.rng.chance(p)).count() as u64;
        }
        let draw = expected + expected.sqrt() * self.rng.normal();
        draw.round().max(0.0) as u64
    }

    fn channel(&mut self, working: bool) -> Channel {
        if !working {
            return if self.rng.chance(0.85) {
                Channel::Online
            } else {
                Channel::SelfService
            };
        }
        match self.rng.weighted(&self.channels) {
            0 => Channel::Window,
            1 => Channel::Online,
            2 => Channel::Agent,
            _ => Channel::SelfService,
        }
    }
}
