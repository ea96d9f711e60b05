//! Procurement and tendering projects (政府采购, 工程建设招投标) for the simulated district: the
//! catalog's open-tender thresholds, and projects (streams `proc-<year>-<nnnn>`) bought by the
//! district's departments and towns, by the method their budget and category call for, each
//! act on a working day in office hours and within its legal window with a margin — except the
//! violations drawn at the run's `proc_*` [`Rates`](crate::Rates), one rule code each.
//!
//! Projects are opt-in (`SimConfig::projects`, 0 by default), so a run without them is byte
//! for byte what it was before they existed. [`clean_project`] plans one clean project of a
//! given method for tests that check the engine raises nothing on it.

mod heads;
mod timeline;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone};
use jiancha_calendar::Calendar;
use jiancha_events::procurement::ThresholdDefined;
use jiancha_events::time::CHINA;
use jiancha_events::{EventData, NewEvent, StreamName, Timestamp};
pub use jiancha_events::{Method, Regime};
use serde::Serialize;

use crate::days::{at, Instant};
use crate::rng::{Purpose, Rng};
use crate::world::World;
use crate::{Rates, SimConfig, SimError, SimEvent};
use heads::{Drawing, Head};
use timeline::{Act, Planner};

/// The procurement categories (品目) the simulator buys.
pub const CATEGORIES: [&str; 3] = ["goods", "services", "works"];

/// The open-tender thresholds (公开招标数额标准) the catalog defines when a run has projects:
/// jurisdiction, category, amount in cents. The district's, and a lower one for one town, so
/// that the most specific jurisdiction matters.
pub const THRESHOLDS: [(&str, &str, u64); 5] = [
    ("jiangjin", "goods", 200_000_000),
    ("jiangjin", "services", 200_000_000),
    ("jiangjin", "works", 400_000_000),
    ("jiangjin/town-01", "goods", 100_000_000),
    ("jiangjin/town-01", "services", 100_000_000),
];

/// The open-tender threshold for a purchaser and category: the most specific jurisdiction of
/// [`THRESHOLDS`] that contains the purchaser (0 when none does).
pub fn threshold_cents(purchaser_org: &str, category: &str) -> u64 {
    THRESHOLDS
        .iter()
        .filter(|(j, c, _)| {
            *c == category
                && (purchaser_org == *j
                    || purchaser_org
                        .strip_prefix(j)
                        .is_some_and(|rest| rest.starts_with('/')))
        })
        .max_by_key(|(j, _, _)| j.len())
        .map_or(0, |t| t.2)
}

/// The monitoring points a violation can be drawn for, one `proc_*` rate each (the rule codes
/// are the vocabulary's).
pub(crate) use jiancha_events::procurement::ProcRule as Rule;
pub use jiancha_events::procurement::PROC_RULE_CODES as RULE_CODES;

/// What the simulator knows of a rule: its bit among a project's drawn violations, its rate,
/// and whether it can happen in a project at all.
pub(crate) trait Drawn: Copy {
    /// The rule's bit.
    fn bit(self) -> u32;
    /// The rule's rate.
    fn rate(self, rates: &Rates) -> f64;
    fn applies(self, head: &Head) -> bool;
}

impl Drawn for Rule {
    fn bit(self) -> u32 {
        1 << (self as u32)
    }

    fn rate(self, rates: &Rates) -> f64 {
        match self {
            Rule::WindowShort => rates.proc_window_short,
            Rule::SaleShort => rates.proc_sale_short,
            Rule::ClarificationLate => rates.proc_clarification_late,
            Rule::ObjectionLate => rates.proc_objection_late,
            Rule::OpeningMismatch => rates.proc_opening_mismatch,
            Rule::BiddersFew => rates.proc_bidders_few,
            Rule::ExpertsDesignated => rates.proc_experts_designated,
            Rule::ConfirmationLate => rates.proc_confirmation_late,
            Rule::PublicityShort => rates.proc_publicity_short,
            Rule::ResultLate => rates.proc_result_late,
            Rule::AwardNotFirst => rates.proc_award_not_first,
            Rule::ContractLate => rates.proc_contract_late,
            Rule::ContractUnpublished => rates.proc_contract_unpublished,
            Rule::ContractUnfiled => rates.proc_contract_unfiled,
            Rule::ContractDeviation => rates.proc_contract_deviation,
            Rule::BondExcessive => rates.proc_bond_excessive,
            Rule::Split => rates.proc_split,
            Rule::EnquiryLate => rates.proc_enquiry_late,
            Rule::ComplaintLate => rates.proc_complaint_late,
        }
    }

    /// Whether the violation can happen in a project at all (its rate applies to these).
    fn applies(self, head: &Head) -> bool {
        let tender = head.method.is_tender();
        let single = head.method == Method::SingleSource;
        let government = head.regime == Regime::Government;
        match self {
            // A single source has a window (its publicity) only at or over the threshold.
            Rule::WindowShort => {
                !single || head.budget_cents >= threshold_cents(&head.purchaser, head.category)
            }
            Rule::ClarificationLate | Rule::BiddersFew => tender,
            Rule::ObjectionLate => tender && !government,
            Rule::PublicityShort => !government,
            // The Government Procurement Law's periods: construction tendering has none.
            Rule::ConfirmationLate
            | Rule::ResultLate
            | Rule::ContractUnpublished
            | Rule::ContractUnfiled => government,
            Rule::ExpertsDesignated => !single,
            Rule::AwardNotFirst => head.state_funded && !single,
            Rule::EnquiryLate => government,
            // Drawn for groups of projects, not for one.
            Rule::Split => false,
            _ => true,
        }
    }
}

/// Projects and the violations they show, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProjectCounts {
    /// Projects generated.
    pub projects: u64,
    /// Projects by method (`open_tender`, `inquiry` …).
    pub by_method: BTreeMap<&'static str, u64>,
    /// Violations injected, by rule code: each is one monitoring point the engine should
    /// raise (`proc.split` once per split group).
    pub violations: BTreeMap<&'static str, u64>,
    /// The projects (streams, in registration order) each violation was injected in, by rule
    /// code: the engine should raise at least one alert of the rule on each of them and on no
    /// other. A split group's is its last purchase, the one whose budget reaches the threshold.
    pub violations_by_project: BTreeMap<&'static str, Vec<String>>,
}

impl ProjectCounts {
    /// No projects: the summary leaves the section out.
    pub fn is_empty(&self) -> bool {
        self.projects == 0
    }
}

/// An instant of a date at +08:00.
pub(crate) fn timestamp(date: NaiveDate, seconds: u32) -> Result<Timestamp, SimError> {
    let time = NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0)
        .ok_or_else(|| SimError::Invalid(format!("time of day {seconds}s")))?;
    CHINA
        .from_local_datetime(&date.and_time(time))
        .single()
        .ok_or_else(|| SimError::Invalid(format!("instant {date} {seconds}s")))
}

/// Supplier names (the first few of a project's are its bidders' candidates).
const SUPPLIERS: [&str; 12] = [
    "华信", "城南", "渝东", "江洲", "几江", "德感", "鼎盛", "嘉陵", "长江", "恒达", "顺通", "白沙",
];

/// Plans one project: its events with their instants, and the violations they show.
fn plan_project(
    world: &World,
    head: &Head,
    stream: &str,
    drawn: u32,
) -> Result<(Vec<(Instant, NewEvent)>, u32), SimError> {
    let mut rng = Rng::new(world.seed, Purpose::Project, head.ordinal);
    let suffix = match head.category {
        "works" => "建设有限公司",
        "services" => "服务有限公司",
        _ => "科技有限公司",
    };
    let start = rng.index(SUPPLIERS.len());
    let suppliers = (0..3)
        .map(|i| format!("{}{suffix}", SUPPLIERS[(start + i * 5) % SUPPLIERS.len()]))
        .collect();
    let calendar = Calendar::national();
    let mut planner = Planner {
        cal: &calendar,
        rng: &mut rng,
        head,
        drawn,
        shown: 0,
        acts: Vec::new(),
        buyer: format!("buyer-{}", head.purchaser_id),
        suppliers,
        ranked: 0,
    };
    timeline::plan(&mut planner)?;
    let shown = planner.shown;
    let mut acts: Vec<(Instant, Act)> = Vec::with_capacity(planner.acts.len());
    for act in planner.acts {
        let day = world
            .days
            .day_of(act.date)
            .ok_or(SimError::OutOfCalendar { date: act.date })?;
        acts.push((at(day, i64::from(act.seconds)), act));
    }
    acts.sort_by_key(|(instant, _)| *instant);
    let name = StreamName::parse(stream).map_err(|e| SimError::Invalid(e.to_string()))?;
    let mut events = Vec::with_capacity(acts.len());
    for (version, (instant, act)) in acts.into_iter().enumerate() {
        let occurred_at = timestamp(act.date, act.seconds)?;
        let event = NewEvent::new(
            name.clone(),
            occurred_at,
            act.actor,
            &head.purchaser,
            act.data,
        )
        .with_id(format!("sim-{}-{stream}-{}", world.seed, version + 1));
        events.push((instant, event));
    }
    Ok((events, shown))
}

/// The violations drawn for a project.
fn draw_rules(world: &World, head: &Head) -> u32 {
    let mut rng = Rng::new(world.seed, Purpose::ProjectRules, head.ordinal);
    Rule::ALL
        .iter()
        .filter(|rule| rule.applies(head))
        .fold(0, |bits, rule| {
            if rng.chance(rule.rate(&world.rates)) {
                bits | rule.bit()
            } else {
                bits
            }
        })
}

/// The `ThresholdDefined` events of the catalog, entered after the orgs.
fn threshold_events(world: &World) -> Result<Vec<(Instant, NewEvent)>, SimError> {
    let first = world.catalog.items.len() + world.district.orgs.len();
    let center = world.district.org(world.district.center);
    THRESHOLDS
        .iter()
        .enumerate()
        .map(|(i, (jurisdiction, category, cents))| {
            let instant = crate::output::item_instant(world, first + i);
            let data = EventData::ThresholdDefined(ThresholdDefined {
                jurisdiction: (*jurisdiction).to_owned(),
                category: (*category).to_owned(),
                open_tender_cents: *cents,
            });
            let event = NewEvent::new(
                StreamName::catalog(),
                crate::output::timestamp(world, instant)?,
                "admin-1",
                center,
                data,
            )
            .with_id(format!("sim-{}-threshold-{}", world.seed, i + 1));
            Ok((instant, event))
        })
        .collect()
}

/// The projects of a run, in flight: planned at registration, written in entry order.
#[derive(Debug, Default)]
pub(crate) struct Projects {
    heads: Vec<Head>,
    /// Stream names, by head.
    streams: Vec<String>,
    next: usize,
    thresholds: VecDeque<(Instant, NewEvent)>,
    /// Projects in flight by (instant of the next event, head index).
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
    planned: BTreeMap<usize, VecDeque<(Instant, NewEvent)>>,
    pub(crate) counts: ProjectCounts,
}

impl Projects {
    /// The projects of a configuration (none when `config.projects` is 0).
    pub(crate) fn new(world: &World, config: &SimConfig) -> Result<Projects, SimError> {
        if config.projects == 0 {
            return Ok(Projects::default());
        }
        let drawing = Drawing::new(world, config.cases, config.cases_per_workday);
        let (heads, splits) = drawing.draw(config.projects, world.rates.proc_split);
        let mut streams = Vec::with_capacity(heads.len());
        let (mut year, mut number) = (0, 0);
        for head in &heads {
            if head.registered.year() != year {
                year = head.registered.year();
                number = 0;
            }
            number += 1;
            streams.push(format!("proc-{year}-{number:04}"));
        }
        let mut counts = ProjectCounts::default();
        if splits > 0 {
            counts.violations.insert(Rule::Split.code(), splits);
            let last: Vec<String> = heads
                .iter()
                .zip(&streams)
                .filter(|(head, _)| head.closes_split)
                .map(|(_, stream)| stream.clone())
                .collect();
            counts
                .violations_by_project
                .insert(Rule::Split.code(), last);
        }
        Ok(Projects {
            heads,
            streams,
            next: 0,
            thresholds: threshold_events(world)?.into(),
            heap: BinaryHeap::new(),
            planned: BTreeMap::new(),
            counts,
        })
    }

    /// The next catalog threshold to write, if any is left.
    pub(crate) fn next_threshold(&mut self) -> Option<SimEvent> {
        let (_, event) = self.thresholds.pop_front()?;
        Some(SimEvent {
            entered_at: event.occurred_at,
            event,
        })
    }

    /// The entry instant of the next project event, planning projects as they register.
    pub(crate) fn peek(&mut self, world: &World) -> Result<Option<Instant>, SimError> {
        loop {
            let top = self.heap.peek().map(|Reverse((instant, _))| *instant);
            let Some(head) = self.heads.get(self.next) else {
                return Ok(top);
            };
            let registered = world
                .days
                .day_of(head.registered)
                .map(|d| at(d, i64::from(head.seconds)))
                .ok_or(SimError::OutOfCalendar {
                    date: head.registered,
                })?;
            if top.is_some_and(|t| t < registered) {
                return Ok(top);
            }
            self.admit(world)?;
        }
    }

    fn admit(&mut self, world: &World) -> Result<(), SimError> {
        let index = self.next;
        self.next += 1;
        let (Some(head), Some(stream)) = (self.heads.get(index), self.streams.get(index)) else {
            return Ok(());
        };
        let drawn = draw_rules(world, head);
        let (events, shown) = plan_project(world, head, stream, drawn)?;
        self.counts.projects += 1;
        *self
            .counts
            .by_method
            .entry(head.method.as_str())
            .or_default() += 1;
        for rule in Rule::ALL {
            if shown & rule.bit() != 0 {
                *self.counts.violations.entry(rule.code()).or_default() += 1;
                self.counts
                    .violations_by_project
                    .entry(rule.code())
                    .or_default()
                    .push(stream.clone());
            }
        }
        if let Some((first, _)) = events.first() {
            self.heap.push(Reverse((*first, index)));
            self.planned.insert(index, events.into());
        }
        Ok(())
    }

    /// The next project event, in entry order (call after [`Projects::peek`]).
    pub(crate) fn pop(&mut self) -> Option<SimEvent> {
        let Reverse((_, index)) = self.heap.pop()?;
        let queue = self.planned.get_mut(&index)?;
        let (_, event) = queue.pop_front()?;
        match queue.front() {
            Some((next, _)) => self.heap.push(Reverse((*next, index))),
            None => {
                self.planned.remove(&index);
            }
        }
        Some(SimEvent {
            entered_at: event.occurred_at,
            event,
        })
    }
}

/// One clean project of `method` under `regime`, registered on the first working day on or
/// after `start`, with every act within its legal window (with margins), the first-ranked
/// candidate winning and the project closed — nothing a monitoring point should flag. Its
/// stream is `proc-<year>-0001`; events come in stream order with deterministic ids
/// (`sim-<seed>-proc-…-<version>`). The category is `works` under the construction regime and
/// `goods` otherwise; a tender's budget is at or over the district's open-tender threshold,
/// any other method's under half of it. The catalog's thresholds are [`threshold_events_for`].
/// `seed` varies the days, times, bidders and lawful variations (clarifications, a postponed
/// deadline, objections answered in time, bonds, supplements within 10%, enquiries and
/// complaints answered in time).
pub fn clean_project(
    method: Method,
    regime: Regime,
    seed: u64,
    start: NaiveDate,
) -> Result<Vec<SimEvent>, SimError> {
    let config = SimConfig {
        cases: 0,
        seed,
        start,
        rates: Rates::zero(),
        ..SimConfig::default()
    };
    let world = World::new(&config)?;
    let category = if regime == Regime::Construction {
        "works"
    } else {
        "goods"
    };
    let purchaser_id = world.district.departments.first().map_or(0, |d| d.org);
    let purchaser = world.district.org(purchaser_id).to_owned();
    let threshold = threshold_cents(&purchaser, category);
    let mut rng = Rng::new(seed, Purpose::Projects, 1);
    let budget_cents = if method.is_tender() {
        threshold + threshold / 100 * u64::from(rng.range(0, 150))
    } else {
        threshold / 100 * u64::from(rng.range(5, 45))
    };
    let registered = world.days.date(world.start);
    let head = Head {
        ordinal: 0,
        registered,
        seconds: 9 * 3600 + rng.range(0, 18) * 300,
        purchaser,
        purchaser_id,
        name: format!("区级{category}采购项目"),
        category: CATEGORIES
            .iter()
            .find(|c| **c == category)
            .copied()
            .unwrap_or("goods"),
        regime,
        method,
        budget_cents,
        state_funded: true,
        closes_split: false,
    };
    let stream = format!("proc-{}-0001", registered.year());
    let (events, _) = plan_project(&world, &head, &stream, 0)?;
    Ok(events
        .into_iter()
        .map(|(_, event)| SimEvent {
            entered_at: event.occurred_at,
            event,
        })
        .collect())
}

/// One clean project for each method: every method under the government regime, and open and
/// invited tenders under the construction regime (see [`clean_project`]).
pub fn clean_projects(seed: u64, start: NaiveDate) -> Result<Vec<Vec<SimEvent>>, SimError> {
    let mut kinds: Vec<(Method, Regime)> = Method::ALL
        .iter()
        .map(|&m| (m, Regime::Government))
        .collect();
    kinds.push((Method::OpenTender, Regime::Construction));
    kinds.push((Method::InvitedTender, Regime::Construction));
    kinds
        .into_iter()
        .map(|(method, regime)| clean_project(method, regime, seed, start))
        .collect()
}

/// The catalog's `ThresholdDefined` events (see [`THRESHOLDS`]) as a run starting on `start`
/// enters them: on the working day before, after the items and orgs.
pub fn threshold_events_for(seed: u64, start: NaiveDate) -> Result<Vec<SimEvent>, SimError> {
    let config = SimConfig {
        cases: 0,
        seed,
        start,
        ..SimConfig::default()
    };
    let world = World::new(&config)?;
    Ok(threshold_events(&world)?
        .into_iter()
        .map(|(_, event)| SimEvent {
            entered_at: event.occurred_at,
            event,
        })
        .collect())
}

#[cfg(test)]
mod tests;
