//! What each project of a run is before its acts are planned: purchaser, category, budget,
//! method and registration day, drawn up front for the whole run so that the small purchases
//! of one purchaser, category and year stay under the open-tender threshold together (a clean
//! run must not look split), and so that a split purchase can be drawn as a group.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use jiancha_events::{Method, Regime};

use super::{threshold_cents, CATEGORIES};
use crate::days::{Day, OPEN_SECONDS};
use crate::rng::{cumulative, Purpose, Rng};
use crate::world::World;

/// Working days projects spread over when the run has no cases to take the span from.
const SPAN_WITHOUT_CASES_WORKDAYS: u64 = 250;

/// The smallest budget of a small purchase, in cents (50,000 yuan).
const SMALL_MIN_CENTS: u64 = 5_000_000;

/// Budgets in yuan: ranges and their weights.
const BUDGET_YUAN: [(u64, u64, u32); 6] = [
    (100_000, 300_000, 25),
    (300_000, 600_000, 25),
    (600_000, 1_000_000, 15),
    (1_000_000, 2_000_000, 12),
    (2_000_000, 5_000_000, 15),
    (5_000_000, 20_000_000, 8),
];

/// What is bought, by category: goods, services, works.
const SUBJECTS: [&[&str]; 3] = [
    &[
        "办公设备采购",
        "执法记录仪采购",
        "自助服务终端采购",
        "档案密集柜采购",
        "空调设备采购",
        "计算机及外设采购",
    ],
    &[
        "物业管理服务",
        "安保服务",
        "信息系统运维服务",
        "财务审计服务",
        "法律顾问服务",
        "保洁服务",
    ],
    &[
        "道路维修工程",
        "办公楼改造工程",
        "排水管网改造工程",
        "学校运动场改造工程",
        "农村公路建设工程",
    ],
];

/// One project before its acts.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    /// Its place in drawing order: names its random stream.
    pub(crate) ordinal: u64,
    pub(crate) registered: NaiveDate,
    /// Seconds after midnight of the registration.
    pub(crate) seconds: u32,
    pub(crate) purchaser: String,
    /// The purchaser's org id, naming its buyer (`buyer-N`).
    pub(crate) purchaser_id: u32,
    pub(crate) name: String,
    pub(crate) category: &'static str,
    pub(crate) regime: Regime,
    pub(crate) method: Method,
    pub(crate) budget_cents: u64,
    pub(crate) state_funded: bool,
    /// The last purchase of a split group: the one that brings the group to the threshold.
    pub(crate) closes_split: bool,
}

/// The method of a purchase: by regime and whether its budget reaches the threshold.
pub(crate) fn method_for(rng: &mut Rng, category: usize, large: bool) -> (Regime, Method) {
    let works = category == 2;
    match (works, large) {
        (true, true) if rng.chance(0.2) => (Regime::Construction, Method::InvitedTender),
        (true, true) => (Regime::Construction, Method::OpenTender),
        (false, true) => (Regime::Government, Method::OpenTender),
        (_, false) => {
            // Inquiry only for goods; single source now and then.
            let weights: [u32; 4] = match category {
                0 => [30, 25, 40, 5],
                1 => [0, 40, 55, 5],
                _ => [0, 45, 55, 0],
            };
            let small = [
                Method::Inquiry,
                Method::CompetitiveNegotiation,
                Method::CompetitiveConsultation,
                Method::SingleSource,
            ];
            let index = rng.weighted(&cumulative(&weights));
            (
                Regime::Government,
                small
                    .get(index)
                    .copied()
                    .unwrap_or(Method::CompetitiveNegotiation),
            )
        }
    }
}

/// Draws every project of a run, sorted by registration.
pub(crate) struct Drawing<'a> {
    world: &'a World,
    rng: Rng,
    span_workdays: u64,
    /// Small purchases' budgets by (purchaser, category, year); `None` once a split group
    /// took the key.
    ledger: BTreeMap<(u32, usize, i32), Option<u64>>,
    pub(crate) heads: Vec<Head>,
    /// Split groups drawn.
    pub(crate) splits: u64,
}

impl<'a> Drawing<'a> {
    pub(crate) fn new(world: &'a World, cases: u64, cases_per_workday: u32) -> Drawing<'a> {
        let span_workdays = if cases == 0 {
            SPAN_WITHOUT_CASES_WORKDAYS
        } else {
            cases.div_ceil(u64::from(cases_per_workday.max(1))).max(1)
        };
        Drawing {
            world,
            rng: Rng::new(world.seed, Purpose::Projects, 0),
            span_workdays,
            ledger: BTreeMap::new(),
            heads: Vec::new(),
            splits: 0,
        }
    }

    /// Draws `count` projects; a split group counts as many projects as it has purchases.
    pub(crate) fn draw(mut self, count: u64, split_rate: f64) -> (Vec<Head>, u64) {
        while (self.heads.len() as u64) < count {
            let left = count - self.heads.len() as u64;
            if left >= 2 && self.rng.chance(split_rate) && self.split(left) {
                continue;
            }
            self.single();
        }
        let mut heads = self.heads;
        heads.sort_by_key(|h| (h.registered, h.seconds, h.ordinal));
        (heads, self.splits)
    }

    fn day(&mut self) -> Day {
        let offset = self.rng.below(self.span_workdays) as u32;
        self.world.days.nth_after(self.world.start, offset)
    }

    fn purchaser(&mut self) -> u32 {
        let district = &self.world.district;
        if self.rng.chance(0.15) && !district.towns.is_empty() {
            let town = if self.rng.chance(0.5) {
                0
            } else {
                self.rng.index(district.towns.len())
            };
            district.towns.get(town).map_or(0, |t| t.org)
        } else {
            let dept = self.rng.index(district.departments.len());
            district.departments.get(dept).map_or(0, |d| d.org)
        }
    }

    fn threshold(&self, org: u32, category: usize) -> u64 {
        let path = self.world.district.org(org);
        threshold_cents(path, CATEGORIES.get(category).copied().unwrap_or("goods"))
    }

    fn single(&mut self) {
        let day = self.day();
        let date = self.world.days.date(day);
        let category = self.rng.weighted(&cumulative(&[45, 35, 20]));
        let budget = self.budget();
        for _ in 0..5 {
            let org = self.purchaser();
            if budget >= self.threshold(org, category) {
                self.push(date, org, category, budget, true);
                return;
            }
            if self.small(date, org, category, budget) {
                return;
            }
        }
        // The purchasers drawn have spent their small-purchase room for the year: the first
        // other purchaser with room buys it, from a random place in the list.
        let district = &self.world.district;
        let all: Vec<u32> = (district.departments.iter().map(|d| d.org))
            .chain(district.towns.iter().map(|t| t.org))
            .collect();
        let from = self.rng.index(all.len());
        for i in 0..all.len() {
            let org = all.get((from + i) % all.len()).copied().unwrap_or(0);
            if self.small(date, org, category, budget) {
                return;
            }
        }
        // Nobody has room left: an open tender.
        let org = self.purchaser();
        let threshold = self.threshold(org, category);
        let large = threshold + threshold / 100 * u64::from(self.rng.range(0, 80));
        self.push(date, org, category, large, true);
    }

    /// A small purchase of up to `budget` by `org`, if its small purchases of the category
    /// this year leave room for at least the smallest budget under the threshold.
    fn small(&mut self, date: NaiveDate, org: u32, category: usize, budget: u64) -> bool {
        let threshold = self.threshold(org, category);
        let key = (org, category, date.year());
        let used = self.ledger.get(&key).copied().unwrap_or(Some(0));
        let room = used.map_or(0, |u| threshold.saturating_sub(u + 1));
        let fitted = budget.min(room) / 100_000 * 100_000;
        if fitted < SMALL_MIN_CENTS {
            return false;
        }
        self.ledger.insert(key, used.map(|u| u + fitted));
        self.push(date, org, category, fitted, false);
        true
    }

    fn budget(&mut self) -> u64 {
        let weights: Vec<u32> = BUDGET_YUAN.iter().map(|b| b.2).collect();
        let (lo, hi, _) = BUDGET_YUAN
            .get(self.rng.weighted(&cumulative(&weights)))
            .copied()
            .unwrap_or(BUDGET_YUAN[0]);
        let thousands = lo / 1000 + self.rng.below((hi - lo) / 1000);
        thousands * 1000 * 100
    }

    /// A split group of 2 to 4 purchases (at most `left`): one purchaser, one category, one
    /// year, each under the threshold, their sum reaching it only with the last one.
    fn split(&mut self, left: u64) -> bool {
        let k = u64::from(self.rng.range(2, 4)).min(left);
        let category = self.rng.weighted(&cumulative(&[45, 35, 20]));
        let first = self.day();
        let mut days = vec![first];
        for _ in 1..k {
            let last = days.last().copied().unwrap_or(first);
            days.push(self.world.days.nth_after(last, self.rng.range(5, 20)));
        }
        let year = self.world.days.year(first);
        if days.iter().any(|&d| self.world.days.year(d) != year) {
            return false;
        }
        for _ in 0..20 {
            let org = self.purchaser();
            let key = (org, category, year);
            if self.ledger.contains_key(&key) {
                continue;
            }
            self.ledger.insert(key, None);
            let threshold = self.threshold(org, category);
            // Each a share of 1/k plus 1–9%: the first k-1 stay under the threshold.
            let share = threshold / k;
            for &day in &days {
                let extra = share / 100 * u64::from(self.rng.range(1, 9));
                let budget = (share + extra) / 100_000 * 100_000 + 100_000;
                self.push(self.world.days.date(day), org, category, budget, false);
            }
            if let Some(last) = self.heads.last_mut() {
                last.closes_split = true;
            }
            self.splits += 1;
            return true;
        }
        false
    }

    fn push(&mut self, date: NaiveDate, org: u32, category: usize, budget_cents: u64, large: bool) {
        let (regime, method) = method_for(&mut self.rng, category, large);
        let subjects = SUBJECTS.get(category).copied().unwrap_or(&[]);
        let subject = subjects
            .get(self.rng.index(subjects.len()))
            .copied()
            .unwrap_or("采购");
        let district = &self.world.district;
        let org_name = district
            .names
            .get(org as usize)
            .map_or("", |n| n.0.as_str());
        let state_funded = regime == Regime::Government || self.rng.chance(0.85);
        let seconds = OPEN_SECONDS as u32 + self.rng.range(0, 18) * 300;
        self.heads.push(Head {
            ordinal: self.heads.len() as u64,
            registered: date,
            seconds,
            purchaser: district.org(org).to_owned(),
            purchaser_id: org,
            name: format!("{org_name}{subject}"),
            category: CATEGORIES.get(category).copied().unwrap_or("goods"),
            regime,
            method,
            budget_cents,
            state_funded,
            closes_split: false,
        });
    }
}
