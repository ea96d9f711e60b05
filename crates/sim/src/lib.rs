//! A seeded, realistic workload for jiancha: a district modelled on a real one
//! (重庆市江津区: a district center with about 20 departments, 30 town centers, 300 village
//! points), a catalog of about 200 approval items, and cases arriving over the working-day
//! calendar through windows, the online hall, village agents and self-service terminals —
//! with the irregularities supervision exists for (late and overrun conclusions, unlawful
//! and overlong suspensions, repeated corrections, late answers to supplements, lengthened
//! limits, unknown items, cases never accepted, skipped steps, wrong fees, excessive
//! extensions, events after the end, bad ratings, back-dated entries and conclusions …) at
//! configurable [`Rates`]. The generator's own account of each case ([`SimSummary`]) judges
//! deadlines by the rules v2. On request ([`SimConfig::projects`]) the district's departments
//! and towns also buy through procurement projects ([`procurement`]), with a violation of each
//! monitoring point at its own rate.
//!
//! The output is the JSONL interchange format (README, "The interchange format"), one event
//! per line, catalog first, then case events in the order they are entered (a back-dated
//! event comes late in the file but keeps its early `occurred_at`). Every event has a deterministic `id`
//! (`sim-<seed>-<stream>-<version>`), so importing the same file twice appends nothing the
//! second time. The same configuration always yields the same bytes; each case draws from its
//! own random stream, so the first N cases of a larger run are those of a run of N.
//!
//! [`generate`] streams lines to a writer without holding the run in memory; [`events`]
//! yields typed [`NewEvent`]s with the instant each is entered, for driving a live engine.
//! Both come with a [`SimSummary`] of what was generated, to check an engine against.
//!
//! The crate is pure apart from the writer it is given: it reads no clock and draws no
//! entropy from the system.

#![warn(missing_docs)]

mod arrivals;
mod case;
mod catalog;
mod days;
mod district;
mod error;
mod names;
mod output;
mod plan;
mod process;
pub mod procurement;
mod rates;
mod rng;
mod sequencer;
mod summary;
mod supervise;
mod world;

use std::io::Write;

use chrono::NaiveDate;
use jiancha_events::{ItemDefined, NewEvent, Timestamp};
use serde::{Deserialize, Serialize};

pub use district::{DistrictShape, OrgTree, Town, Unit};
pub use error::SimError;
pub use procurement::ProjectCounts;
pub use rates::{Rates, RATES};
pub use summary::{CaseCounts, SimSummary};

use crate::plan::CasePlan;
use crate::sequencer::{Sequencer, Sink};
use crate::world::World;

/// The first day of a run unless configured: the first Monday of 2026.
pub const DEFAULT_START: NaiveDate = match NaiveDate::from_ymd_opt(2026, 1, 5) {
    Some(date) => date,
    None => panic!("a valid date constant"),
};

/// The written output is handed to the writer in chunks of about this many bytes.
const WRITE_CHUNK_BYTES: usize = 1 << 16;

/// Progress is reported every this many events.
const PROGRESS_EVERY_EVENTS: u64 = 1 << 14;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Cases to generate.
    pub cases: u64,
    /// The seed: the same seed and configuration give the same output, byte for byte.
    pub seed: u64,
    /// The first day applications arrive (the catalog is defined the working day before).
    pub start: NaiveDate,
    /// How often each variation and irregularity happens.
    pub rates: Rates,
    /// Applications on an ordinary working day, before seasonality (1 to 100,000).
    pub cases_per_workday: u32,
    /// The size of the district.
    pub shape: DistrictShape,
    /// Procurement projects to generate over the cases' span (0 to 100,000; 0 by default, and
    /// then the catalog has no thresholds either, so the output is what it was before
    /// projects existed). A district buys a few hundred a year; a far denser run spends every
    /// purchaser's room for small purchases (kept under the threshold together, so that a clean
    /// run never looks split) and buys the rest by open tender.
    #[serde(skip_serializing_if = "is_zero")]
    pub projects: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The most projects a run generates.
pub const PROJECTS_MAX: u64 = 100_000;

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            cases: 1000,
            seed: 1,
            start: DEFAULT_START,
            rates: Rates::default(),
            cases_per_workday: 400,
            shape: DistrictShape::default(),
            projects: 0,
        }
    }
}

impl SimConfig {
    /// `cases` cases from `seed`, everything else by default.
    pub fn new(cases: u64, seed: u64) -> SimConfig {
        SimConfig {
            cases,
            seed,
            ..SimConfig::default()
        }
    }

    /// Checks every setting against its range.
    pub fn validate(&self) -> Result<(), SimError> {
        if !(1..=100_000).contains(&self.cases_per_workday) {
            return Err(SimError::Config {
                field: "cases_per_workday",
                message: format!("must be 1 to 100000, got {}", self.cases_per_workday),
            });
        }
        if self.projects > PROJECTS_MAX {
            return Err(SimError::Config {
                field: "projects",
                message: format!("must be 0 to {PROJECTS_MAX}, got {}", self.projects),
            });
        }
        self.shape.validate()?;
        self.rates.validate()
    }
}

/// One generated event and the instant it is entered into the system: its `occurred_at`,
/// or later for a back-dated entry. A live engine's clock stands at `entered_at` when the
/// event is appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimEvent {
    /// When the event is entered.
    pub entered_at: Timestamp,
    /// The event, with its deterministic id.
    pub event: NewEvent,
}

/// Writes the run as JSONL to `out` and returns its summary.
pub fn generate(config: &SimConfig, out: &mut dyn Write) -> Result<SimSummary, SimError> {
    generate_with_progress(config, out, &mut |_| {})
}

/// Like [`generate`], calling `progress` with the number of cases planned so far every few
/// thousand events and once at the end.
pub fn generate_with_progress(
    config: &SimConfig,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<SimSummary, SimError> {
    let mut sequencer = Sequencer::new(config)?;
    let mut sink = JsonSink {
        out,
        buffer: String::with_capacity(WRITE_CHUNK_BYTES + 4096),
    };
    let mut until_progress = PROGRESS_EVERY_EVENTS;
    while sequencer.step(&mut sink)? {
        until_progress -= 1;
        if until_progress == 0 {
            until_progress = PROGRESS_EVERY_EVENTS;
            progress(sequencer.admitted());
        }
    }
    sink.flush()?;
    progress(sequencer.admitted());
    Ok(sequencer.summary())
}

/// Writes lines into a buffer and hands it to the writer in large chunks, so an unbuffered
/// writer (a `File`, stdout) costs one system call per chunk, not per line.
struct JsonSink<'a> {
    out: &'a mut dyn Write,
    buffer: String,
}

impl JsonSink<'_> {
    fn flush(&mut self) -> Result<(), SimError> {
        self.out.write_all(self.buffer.as_bytes())?;
        self.buffer.clear();
        self.out.flush()?;
        Ok(())
    }

    fn maybe_flush(&mut self) -> Result<(), SimError> {
        if self.buffer.len() >= WRITE_CHUNK_BYTES {
            self.out.write_all(self.buffer.as_bytes())?;
            self.buffer.clear();
        }
        Ok(())
    }
}

impl Sink for JsonSink<'_> {
    fn org(&mut self, world: &World, index: usize) -> Result<(), SimError> {
        output::write_org(&mut self.buffer, world, index);
        self.maybe_flush()
    }

    fn item(&mut self, world: &World, index: usize) -> Result<(), SimError> {
        output::write_item(&mut self.buffer, world, index);
        self.maybe_flush()
    }

    fn event(&mut self, world: &World, plan: &CasePlan, index: usize) -> Result<(), SimError> {
        output::write_event(&mut self.buffer, world, plan, index);
        self.maybe_flush()
    }

    fn whole(&mut self, event: SimEvent) -> Result<(), SimError> {
        output::write_new_event(&mut self.buffer, &event.event);
        self.maybe_flush()
    }
}

/// The run as typed events, in the order [`generate`] writes them.
pub fn events(config: &SimConfig) -> Result<Events, SimError> {
    Ok(Events {
        sequencer: Sequencer::new(config)?,
        done: false,
    })
}

/// The iterator of [`events`]. After an error it yields nothing more.
#[derive(Debug)]
pub struct Events {
    sequencer: Sequencer,
    done: bool,
}

impl Events {
    /// The account so far: events yielded, and the variations of the cases planned so far
    /// (a case is planned whole when it arrives, before all its events are yielded).
    pub fn summary(&self) -> SimSummary {
        self.sequencer.summary()
    }

    #[cfg(test)]
    pub(crate) fn marks(&self) -> &[(String, u32)] {
        &self.sequencer.marks
    }

    /// The org tree the events name.
    pub fn org_tree(&self) -> OrgTree {
        self.sequencer.world().district.tree()
    }
}

impl Iterator for Events {
    type Item = Result<SimEvent, SimError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut sink = EventSink { event: None };
        match self.sequencer.step(&mut sink) {
            Ok(true) => sink.event.map(Ok),
            Ok(false) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

struct EventSink {
    event: Option<SimEvent>,
}

impl Sink for EventSink {
    fn org(&mut self, world: &World, index: usize) -> Result<(), SimError> {
        let entered_at = output::timestamp(world, output::org_instant(world, index))?;
        let event = output::org_event(world, index)?;
        self.event = Some(SimEvent { entered_at, event });
        Ok(())
    }

    fn item(&mut self, world: &World, index: usize) -> Result<(), SimError> {
        let entered_at = output::timestamp(world, output::item_instant(world, index))?;
        let event = output::item_event(world, index)?;
        self.event = Some(SimEvent { entered_at, event });
        Ok(())
    }

    fn event(&mut self, world: &World, plan: &CasePlan, index: usize) -> Result<(), SimError> {
        let entered = plan.events.get(index).map_or(0, |e| e.entered);
        let entered_at = output::timestamp(world, entered)?;
        let event = output::case_event(world, plan, index)?;
        self.event = Some(SimEvent { entered_at, event });
        Ok(())
    }

    fn whole(&mut self, event: SimEvent) -> Result<(), SimError> {
        self.event = Some(event);
        Ok(())
    }
}

/// The org tree a configuration generates.
pub fn org_tree(config: &SimConfig) -> Result<OrgTree, SimError> {
    Ok(World::new(config)?.district.tree())
}

/// The catalog a configuration generates, as its `ItemDefined` events declare it.
pub fn catalog(config: &SimConfig) -> Result<Vec<ItemDefined>, SimError> {
    let world = World::new(config)?;
    let items = &world.catalog.items;
    Ok(items
        .iter()
        .map(|i| i.definition(&world.district))
        .collect())
}

#[cfg(test)]
mod tests;
