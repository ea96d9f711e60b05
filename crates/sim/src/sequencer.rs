//! The order events are entered in: the catalog first, then every case event by its entry
//! instant (ties by case arrival order, then stream version), streamed without holding the
//! run in memory. Procurement projects, when a run has them, add their thresholds to the
//! catalog and merge their events by entry instant too (a case event goes first on a tie), so
//! a run without them is what it was before they existed.
//!
//! Cases are planned whole at their arrival, in arrival order, and wait in a heap keyed by
//! the entry instant of their next event. No later case can have an event entered before its
//! own arrival, so everything in the heap entered at or before the next arrival is final and
//! is written at once. Memory is bounded by the cases in flight (a few weeks of arrivals),
//! whatever the number of cases.

use std::cmp::Reverse;
use std::collections::binary_heap::PeekMut;
use std::collections::{BTreeMap, BinaryHeap};

use crate::arrivals::{Arrival, Arrivals, HEADROOM_WORKDAYS};
use crate::case::plan_case;
use crate::days::{split, Instant};
use crate::plan::{CasePlan, Draft, Planned};
use crate::procurement::Projects;
use crate::summary::{CaseCounts, SimSummary};
use crate::world::World;
use crate::{SimConfig, SimError, SimEvent};

/// Event types in the order the summary's per-type counters are kept (`Payload::type_index`).
const TYPE_NAMES: [&str; 28] = [
    "ItemDefined",
    "Submitted",
    "CorrectionRequested",
    "MaterialsSupplemented",
    "Accepted",
    "RejectedAtIntake",
    "Transferred",
    "StepCompleted",
    "Suspended",
    "Resumed",
    "Extended",
    "FeeCharged",
    "Decided",
    "Concluded",
    "Withdrawn",
    "Rated",
    "Complained",
    "AlertAcknowledged",
    "CorrectionOrdered",
    "CorrectionCompleted",
    "CorrectionVerified",
    "RatingVerified",
    "RatingRectified",
    "RatingCallback",
    "ComplaintAccepted",
    "ComplaintRejected",
    "ComplaintAnswered",
    "OrgDefined",
];

/// The place of `OrgDefined` in [`TYPE_NAMES`].
const ORG_DEFINED: usize = 27;

/// Receives the events in order.
pub(crate) trait Sink {
    /// Org `index`'s name (`OrgDefined`).
    fn org(&mut self, world: &World, index: usize) -> Result<(), SimError>;
    /// Catalog item `index`.
    fn item(&mut self, world: &World, index: usize) -> Result<(), SimError>;
    /// Event `index` (version `index + 1`) of a case.
    fn event(&mut self, world: &World, plan: &CasePlan, index: usize) -> Result<(), SimError>;
    /// A typed event: a catalog threshold or a procurement project's.
    fn whole(&mut self, event: SimEvent) -> Result<(), SimError>;
}

/// A case in flight and the index of its next event.
#[derive(Debug)]
struct Slot {
    plan: CasePlan,
    next: usize,
}

/// The run's state between two events.
#[derive(Debug)]
pub(crate) struct Sequencer {
    world: World,
    cases: u64,
    arrivals: Arrivals,
    arrival: Option<Arrival>,
    admitted: u64,
    year: i32,
    number: u64,
    /// Cases in flight by (entry instant of the next event, ordinal, slot).
    heap: BinaryHeap<Reverse<(Instant, u64, u32)>>,
    slots: Vec<Option<Slot>>,
    free: Vec<u32>,
    /// Scratch buffers reused across cases, so planning allocates nothing in steady state.
    drafts: Vec<Draft>,
    spare: Vec<Vec<Planned>>,
    items_written: usize,
    orgs_written: usize,
    by_type: [u64; TYPE_NAMES.len()],
    counts: CaseCounts,
    backdated_events: u64,
    /// The procurement projects (none unless configured) and their events written, by type.
    projects: Projects,
    project_events: BTreeMap<&'static str, u64>,
    /// Each case's stream and marks, for tests that look for the case behind a miscount.
    #[cfg(test)]
    pub(crate) marks: Vec<(String, u32)>,
}

impl Sequencer {
    pub(crate) fn new(config: &SimConfig) -> Result<Sequencer, SimError> {
        let world = World::new(config)?;
        // Refuse up front a run that cannot fit in the calendar, rather than fail halfway
        // through the output. A quarter more working days than the mean needs covers the
        // seasons; the headroom covers the last cases' lives.
        let workdays = config.cases / u64::from(config.cases_per_workday.max(1)) * 5 / 4;
        let needed = u32::try_from(workdays).unwrap_or(u32::MAX);
        if !world
            .days
            .has_headroom(world.start, needed.saturating_add(HEADROOM_WORKDAYS))
        {
            let last = world.days.date(world.days.len().saturating_sub(1));
            return Err(SimError::OutOfCalendar {
                date: last.succ_opt().unwrap_or(last),
            });
        }
        let per_workday = f64::from(config.cases_per_workday);
        let villages = !world.district.villages.is_empty();
        let arrivals = Arrivals::new(config.seed, &world.days, world.start, per_workday, villages);
        let projects = Projects::new(&world, config)?;
        Ok(Sequencer {
            world,
            cases: config.cases,
            arrivals,
            arrival: None,
            admitted: 0,
            year: 0,
            number: 0,
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            drafts: Vec::new(),
            spare: Vec::new(),
            items_written: 0,
            orgs_written: 0,
            by_type: [0; TYPE_NAMES.len()],
            counts: CaseCounts::default(),
            backdated_events: 0,
            projects,
            project_events: BTreeMap::new(),
            #[cfg(test)]
            marks: Vec::new(),
        })
    }

    /// The world of the run.
    pub(crate) fn world(&self) -> &World {
        &self.world
    }

    /// Cases planned so far.
    pub(crate) fn admitted(&self) -> u64 {
        self.admitted
    }

    /// Hands the next event to `sink`; false when the run is over.
    pub(crate) fn step(&mut self, sink: &mut impl Sink) -> Result<bool, SimError> {
        if self.items_written < self.world.catalog.items.len() {
            sink.item(&self.world, self.items_written)?;
            self.items_written += 1;
            self.by_type[0] += 1;
            return Ok(true);
        }
        // Then the orgs' names, still before any case.
        if self.orgs_written < self.world.district.orgs.len() {
            sink.org(&self.world, self.orgs_written)?;
            self.orgs_written += 1;
            self.by_type[ORG_DEFINED] += 1;
            return Ok(true);
        }
        // Then the open-tender thresholds, when the run has projects.
        if let Some(threshold) = self.projects.next_threshold() {
            return self.whole(sink, threshold);
        }
        let case = self.next_case()?;
        // A project event goes first only when strictly earlier: ties go to the cases.
        let project = self.projects.peek(&self.world)?;
        match (case, project) {
            (None, None) => Ok(false),
            (Some(c), Some(p)) if p < c => self.emit_project(sink),
            (None, Some(_)) => self.emit_project(sink),
            (Some(_), _) => {
                self.emit(sink)?;
                Ok(true)
            }
        }
    }

    /// The entry instant of the next case event, admitting arriving cases until it is final.
    fn next_case(&mut self) -> Result<Option<Instant>, SimError> {
        loop {
            let arrival = self.peek_arrival()?;
            match (self.heap.peek(), arrival) {
                (None, None) => return Ok(None),
                (None, Some(_)) => self.admit(),
                (Some(Reverse((entered, _, _))), Some(at)) if *entered > at => self.admit(),
                (Some(Reverse((entered, _, _))), _) => return Ok(Some(*entered)),
            }
        }
    }

    fn emit_project(&mut self, sink: &mut impl Sink) -> Result<bool, SimError> {
        match self.projects.pop() {
            Some(event) => self.whole(sink, event),
            None => Ok(false),
        }
    }

    fn whole(&mut self, sink: &mut impl Sink, event: SimEvent) -> Result<bool, SimError> {
        *self
            .project_events
            .entry(event.event.data.type_name())
            .or_default() += 1;
        sink.whole(event)?;
        Ok(true)
    }

    fn peek_arrival(&mut self) -> Result<Option<Instant>, SimError> {
        if self.arrival.is_none() && self.admitted < self.cases {
            self.arrival = Some(self.arrivals.next(&self.world.days)?);
        }
        Ok(self.arrival.map(|a| a.at))
    }

    /// Plans the next arriving case and puts it in flight.
    fn admit(&mut self) {
        let Some(arrival) = self.arrival.take() else {
            return;
        };
        let events = self.spare.pop().unwrap_or_default();
        let (mut plan, marks) = plan_case(
            &self.world,
            self.admitted,
            arrival.at,
            arrival.channel,
            &mut self.drafts,
            events,
        );
        self.admitted += 1;
        if plan.year != self.year {
            self.year = plan.year;
            self.number = 0;
        }
        self.number += 1;
        plan.number = self.number;
        self.counts.add_case(marks);
        #[cfg(test)]
        self.marks.push((crate::output::stream_name(&plan), marks));
        for event in &plan.events {
            if split(event.entered).0 > split(event.occurred).0 {
                self.backdated_events += 1;
            }
        }
        let Some(first) = plan.events.first().map(|e| e.entered) else {
            return;
        };
        let ordinal = plan.ordinal;
        let slot = Slot { plan, next: 0 };
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index as usize] = Some(slot);
                index
            }
            None => {
                self.slots.push(Some(slot));
                (self.slots.len() - 1) as u32
            }
        };
        self.heap.push(Reverse((first, ordinal, index)));
    }

    /// Writes the heap's first event and moves its case on.
    fn emit(&mut self, sink: &mut impl Sink) -> Result<(), SimError> {
        let Some(mut top) = self.heap.peek_mut() else {
            return Ok(());
        };
        let Reverse((_, ordinal, index)) = *top;
        let Some(slot) = self.slots.get_mut(index as usize).and_then(Option::as_mut) else {
            PeekMut::pop(top);
            return Ok(());
        };
        sink.event(&self.world, &slot.plan, slot.next)?;
        if let Some(event) = slot.plan.events.get(slot.next) {
            if let Some(count) = self.by_type.get_mut(event.payload.type_index()) {
                *count += 1;
            }
        }
        slot.next += 1;
        match slot.plan.events.get(slot.next) {
            // Updating the top in place sifts it down once: cheaper than pop and push.
            Some(next) => *top = Reverse((next.entered, ordinal, index)),
            None => {
                PeekMut::pop(top);
                if let Some(done) = self.slots.get_mut(index as usize).and_then(Option::take) {
                    self.spare.push(done.plan.events);
                }
                self.free.push(index);
            }
        }
        Ok(())
    }

    /// The account of what has been written so far.
    pub(crate) fn summary(&self) -> SimSummary {
        let mut events_by_type: BTreeMap<&'static str, u64> = TYPE_NAMES
            .iter()
            .zip(self.by_type)
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| (*name, n))
            .collect();
        events_by_type.extend(&self.project_events);
        SimSummary {
            events: self.by_type.iter().sum::<u64>() + self.project_events.values().sum::<u64>(),
            cases: self.admitted,
            items: self.by_type[0],
            events_by_type,
            cases_with: self.counts.clone(),
            backdated_events: self.backdated_events,
            procurement: self.projects.counts.clone(),
        }
    }
}
