//! Pure folds over the jiancha log: the item catalog, the calendars in force, each case's
//! deadline state and its alerts. [`Projections::apply`] takes stored events in position order;
//! the views ([`Projections::case_view`], [`Projections::alerts`]) evaluate them at an explicit
//! instant.
//!
//! Nothing here does I/O, reads a clock or panics on an event already in the log: live
//! processing, replay and tests run this same code.

#![warn(missing_docs)]

pub mod asof;
pub mod calendars;
pub mod case;
pub mod caselist;
pub mod catalog;
mod entries;
mod evaluate;
mod fold;
mod history;
pub mod insight;
pub mod instant;
pub mod kept;
pub mod kinds;
pub mod ledger;
pub mod limits;
pub mod names;
pub mod overview;
pub mod province;
pub mod reference;
pub mod report;
pub mod rules;
mod shared;
pub mod snapshot;
mod sorted;
mod steps;
mod supervise;
mod transfers;
pub mod view;
mod watch;
pub mod workflow;

use std::collections::BTreeMap;
use std::sync::Arc;

use hashbrown::{HashMap, HashSet};

pub use calendars::Calendars;
pub use case::{About, Alert, CaseState, Ctx, Status};
pub use caselist::{CaseQuery, CaseRow};
pub use catalog::Catalog;
pub use evaluate::{alert_order, in_halves, merge_alerts, sort_alerts};
pub use insight::{Insight, InsightQuery};
pub use instant::Millis;
pub use kept::{KeptCase, KeptError};
pub use ledger::{Entry, EntryView, Ledger, Scoring, ScoringError};
pub use names::Lang;
pub use overview::{Overview, OverviewQuery, OverviewRow};
pub use report::{Period, PeriodError, RangeEnd, Report, ReportQuery};
pub use rules::{AlertConfig, Rule, RULES};
pub use view::{AlertView, CaseView};
pub use workflow::{ActError, OrderView};

/// The state of every projection, folded up to [`Projections::position`].
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Projections {
    /// The item catalog.
    pub catalog: Catalog,
    /// The calendars in force.
    pub calendars: Calendars,
    /// The thresholds, as configured (the workflow's limits the log defines are `limits`).
    pub config: AlertConfig,
    /// The workflow's limits the log defined (`WorkflowLimitsDefined`), by the instant each
    /// took effect; part of the generation that keys the cases' cached thresholds.
    limits: Arc<limits::Limits>,
    #[serde(with = "sorted::streams")]
    cases: HashMap<Arc<str>, Box<CaseState>>,
    /// The cases of the other kinds (procurement projects), by stream: apart from the approval
    /// cases, so that the approval views, reports and watched sets never meet them.
    #[serde(with = "sorted::streams", default)]
    projects: HashMap<Arc<str>, Box<CaseState>>,
    /// The procurement kind's thresholds and split sums.
    #[serde(default)]
    procurement: kinds::procurement::Book,
    /// In a snapshot, a section of its own, decoded beside the rest (`snapshot.rs`).
    #[serde(skip)]
    ledger: Option<Box<Ledger>>,
    #[serde(skip)]
    orgs: HashMap<String, Arc<str>>,
    /// The active cases and the ended ones once overdue on the promise: the only ones a
    /// report's clock-raised cards and `overdue_open` can come from (rebuilt after a snapshot).
    #[serde(skip)]
    watched: watch::Watched,
    /// Item codes, one allocation each (rebuilt after a snapshot).
    #[serde(skip)]
    items: HashSet<Arc<str>>,
    position: u64,
    /// The hash of the event at `position` (what a snapshot of this state names).
    head: jiancha_events::Hash,
    /// The business dates of the last case event's instant and recording instant.
    #[serde(skip)]
    last_dates: (instant::LastDate, instant::LastDate),
    /// The positions of the latest declared historical import (`HistoryImported`), inclusive.
    history: Option<(u64, u64)>,
    /// Closed periods by label (`PeriodClosed`).
    closed: BTreeMap<String, ClosedPeriod>,
    /// The business date each step of a case's item was first completed on, by the step's
    /// index in the item's steps: kept beside the cases (a case without steps costs nothing)
    /// for the insight's per-step figures.
    step_dates: steps::StepLog,
    /// Where each transferred case was accountable over time (`overdue_open` of a past month).
    transfers: transfers::TransferLog,
    /// The cards the log issued (`CardIssued`) that no alert of the fold is, and that no
    /// `CardWithdrawn` withdrew yet: by alert id, their threshold instant.
    orphans: BTreeMap<String, Millis>,
    /// The cases entered as history (`history.rs`).
    entered_as_history: history::EnteredAsHistory,
    /// While an as-of fold runs ([`asof::fold_occurred`]): the instant it answers for, after
    /// which nothing an event's late entry raises has happened yet.
    #[serde(skip)]
    known_by: Option<Millis>,
}

/// A closed assessment period (`PeriodClosed`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClosedPeriod {
    /// The period's label.
    pub period: String,
    /// The position of the `PeriodClosed` event.
    pub closed_by: u64,
    /// The last position the closed report covers.
    pub position: u64,
    /// The SHA-256 of the closed report, hex.
    pub digest: String,
    /// The instant of the close, at which the closed report was evaluated.
    pub closed_at: Millis,
}

/// What applying an event changed, for followers that publish alerts as they happen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// The case the event concerned, if any.
    pub case: Option<Arc<str>>,
    /// Alerts raised (by the clock up to the event, or by the event), as (case, alert).
    pub raised: Vec<Alert>,
    /// Alerts the event closed.
    pub closed: Vec<Alert>,
    /// The ledger counts a workflow act made (an order, a correction verified on time, …).
    pub outcomes: Vec<workflow::Outcome>,
}

impl Projections {
    /// Empty projections with the given thresholds.
    pub fn new(config: AlertConfig) -> Self {
        Projections {
            config,
            ..Projections::default()
        }
    }

    /// The thresholds in force at `at`: the configured ones with the workflow's limits the log
    /// defined by then.
    pub fn config_at(&self, at: Millis) -> AlertConfig {
        self.limits.in_force(&self.config, at)
    }

    /// Takes in a `WorkflowLimitsDefined`. It takes effect when it was recorded (or when it
    /// occurred, if that is later): never before an event the fold took already, so what the
    /// fold decided as it took each event (a rating inside its window, a rectification on time)
    /// stays what every later view decides, and no definition reaches back over cards due.
    fn define_limits(
        &mut self,
        event: &jiancha_events::StoredEvent,
        d: &jiancha_events::WorkflowLimitsDefined,
    ) {
        let occurred = instant::millis(&event.occurred_at);
        let recorded = instant::millis(&event.recorded_at);
        Arc::make_mut(&mut self.limits).define(occurred.max(recorded), event.position, d);
    }

    /// Also keeps the assessment ledger, scored with `scoring`.
    pub fn with_ledger(mut self, scoring: Scoring) -> Self {
        // The default rating is the scoring's, and the fold's clock gives it.
        self.config.default_rating = scoring.default_rating;
        self.ledger = Some(Box::new(Ledger::new(scoring)));
        self
    }

    /// The assessment ledger, when kept.
    pub fn ledger(&self) -> Option<&Ledger> {
        self.ledger.as_deref()
    }

    /// Whether an appeal of `entry`, naming `case` (if it does) and occurring at `now`, can be
    /// upheld, and the entry's case (which the appeal should name); `None` when no ledger is
    /// kept. Beside what [`Ledger::appeal_case`] checks, a card the clock raised on `case` by
    /// `now` that no event has folded yet (listed by `report explain` as pending) can be
    /// appealed too: the appeal names the case, which the fold advances to the appeal's instant
    /// first, so the card is in the ledger when the appeal reverses it.
    pub fn appeal_check(
        &self,
        entry: &str,
        case: Option<&str>,
        now: Millis,
    ) -> Option<Result<Arc<str>, ledger::AppealError>> {
        let ledger = self.ledger()?;
        let found = ledger.appeal_case(entry, case, |c| self.case(c));
        let (Err(ledger::AppealError::NoSuchEntry(_)), Some(case)) = (&found, case) else {
            return Some(found);
        };
        let Some((key, _)) = self.map_of(case).get_key_value(case) else {
            return Some(found);
        };
        let is_pending = self.appeal_entry(entry, case, now).is_some();
        Some(if is_pending { Ok(key.clone()) } else { found })
    }

    /// Checks the new appeals of one batch, in order (entry, case named, instant): each as
    /// [`Projections::appeal_check`] does, and it must name its entry's case (an appeal without
    /// one is the form of logs written before the field, taken only as exported lines), and no
    /// two may reverse the same entry (the second would change nothing). The first refused:
    /// its index, the field at fault and why. `Ok` when no ledger is kept.
    pub fn check_appeal_batch<'a>(
        &self,
        appeals: impl IntoIterator<Item = (&'a str, Option<&'a str>, Millis)>,
    ) -> Result<(), (usize, &'static str, String)> {
        let Some(ledger) = self.ledger() else {
            return Ok(());
        };
        let mut claimed: BTreeMap<String, usize> = BTreeMap::new();
        // The cases whose rating an earlier appeal removes, with its number: the rating's whole
        // workflow goes with it, cards the clock has not raised yet included.
        let mut ratings: BTreeMap<Arc<str>, usize> = BTreeMap::new();
        for (i, (entry, case, at)) in appeals.into_iter().enumerate() {
            let checked = match self.appeal_check(entry, case, at) {
                Some(checked) => checked,
                None => return Ok(()),
            };
            let found = checked.map_err(|why| {
                let field = match why {
                    ledger::AppealError::OtherCase { .. } => "data.case",
                    _ => "data.entry",
                };
                (i, field, why.to_string())
            })?;
            if case.is_none() {
                return Err((
                    i,
                    "data.case",
                    format!("missing: an appeal names its entry's case (here {found})"),
                ));
            }
            let held = self.appeal_entry(entry, &found, at);
            let of_rating = |e: &Entry| {
                e.measure.is_rating()
                    || [
                        Rule::RatingBad.code(),
                        Rule::RatingUnverified.code(),
                        Rule::RectificationOverdue.code(),
                    ]
                    .contains(&&*e.rule)
            };
            if let (Some(e), Some(first)) = (&held, ratings.get(&found)) {
                if of_rating(e) {
                    return Err((
                        i,
                        "data.entry",
                        format!(
                            "entry {entry} is part of the rating that appeal {} of this batch \
                             removes",
                            first + 1
                        ),
                    ));
                }
            }
            if let Some(e) = &held {
                if e.measure.is_rating() || e.rule == Rule::RatingBad.code() {
                    ratings.entry(found.clone()).or_insert(i);
                }
            }
            // What it reverses: the ledger's entries, or the pending card itself.
            let targets = match ledger.appeal_targets(entry, |c| self.case(c)) {
                Ok(t) => t.iter().map(u64::to_string).collect(),
                Err(_) => vec![format!("pending:{entry}")],
            };
            for t in targets {
                if let Some(first) = claimed.insert(t, i) {
                    return Err((
                        i,
                        "data.entry",
                        format!(
                            "entry {entry} is reversed already by appeal {} of this batch",
                            first + 1
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The entry an appeal names: the ledger's, or a card the clock raised on `case` by `at`
    /// that no event folded yet.
    fn appeal_entry(&self, entry: &str, case: &str, at: Millis) -> Option<Entry> {
        let ledger = self.ledger()?;
        let id = jiancha_events::EntryId::parse(entry).ok()?;
        if let Some(e) = ledger.find(&id) {
            return Some(e.clone());
        }
        let (key, state) = self.map_of(case).get_key_value(case)?;
        let measure = ledger::Measure::parse(id.measure);
        report::pending_entries_of(self, ledger, at, std::iter::once((&**key, &**state)))
            .into_iter()
            .find(|e| e.caused_by == id.position && Some(e.measure) == measure && e.n == id.n)
    }

    /// A report from the kept ledger at `now`; `None` when no ledger is kept.
    pub fn report(&self, query: &ReportQuery, now: Millis) -> Option<Report> {
        Some(report::report(self.ledger.as_deref()?, self, query, now))
    }

    /// The hash of the last event folded in.
    pub fn head(&self) -> jiancha_events::Hash {
        self.head
    }

    /// The last position folded in.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The closed periods, by label.
    pub fn closed_periods(&self) -> &BTreeMap<String, ClosedPeriod> {
        &self.closed
    }

    /// Whether an event at `position` lies inside a declared historical import.
    /// Whether `event` is an ending entered after the fact that counts only from when it was
    /// recorded ([`CaseState::effective_at`]), and that is after `now`.
    pub fn ends_after(&self, event: &jiancha_events::StoredEvent, now: Millis) -> bool {
        let recorded_at = instant::millis(&event.recorded_at);
        if recorded_at <= now {
            return false;
        }
        let ending = matches!(
            event.data,
            jiancha_events::EventData::Concluded(_)
                | jiancha_events::EventData::Withdrawn(_)
                | jiancha_events::EventData::Transferred(_)
        );
        let tolerance = i64::from(self.config.backdate_tolerance_hours) * 3_600_000;
        ending
            && !self.historical(event.position)
            && recorded_at.saturating_sub(instant::millis(&event.occurred_at)) > tolerance
    }

    fn historical(&self, position: u64) -> bool {
        self.history
            .is_some_and(|(from, to)| (from..=to).contains(&position))
    }

    /// The cards the log issued that no alert of the fold is and that were not withdrawn, by
    /// alert id, with their threshold instants: the engine withdraws them when it starts.
    pub fn orphan_cards(&self) -> impl Iterator<Item = (&str, Millis)> {
        self.orphans.iter().map(|(id, due)| (id.as_str(), *due))
    }

    /// How many cases are known.
    pub fn case_count(&self) -> usize {
        self.cases.len()
    }

    /// The dates a case's item steps were first completed on: (index in the item's steps,
    /// business date), in order of completion.
    pub fn step_dates(&self, stream: &str) -> Vec<(u16, chrono::NaiveDate)> {
        self.cases
            .get(stream)
            .map(|c| self.step_dates.of(c.seq))
            .unwrap_or_default()
    }

    /// The org accountable for `case` at `at`: the org a transfer counting by then (see
    /// `transfers.rs`) moved it to, else the org before any transfer. After its last transfer
    /// counts, [`CaseState::org`].
    pub fn org_at<'a>(&'a self, case: &'a CaseState, at: Millis) -> &'a Arc<str> {
        if !self.transfers.has(case.seq) {
            return case.org();
        }
        match self.transfers.held_by(case.seq, at) {
            Some(org) => org,
            None => case.org_before_transfers(),
        }
    }

    /// The ledger's entries of a case of any kind, in ledger order (none without a ledger).
    pub fn case_entries(&self, stream: &str) -> Vec<Entry> {
        match (self.case(stream), self.ledger()) {
            (Some(case), Some(ledger)) => ledger.case_entries(case.seq, stream),
            _ => Vec::new(),
        }
    }

    /// A case's state, of any kind.
    pub fn case(&self, stream: &str) -> Option<&CaseState> {
        self.map_of(stream).get(stream).map(|c| &**c)
    }

    /// The map a stream's case lives in: the approval cases', or the other kinds'.
    fn map_of(&self, stream: &str) -> &HashMap<Arc<str>, Box<CaseState>> {
        if kinds::kind_of_stream(stream).is_some() {
            &self.projects
        } else {
            &self.cases
        }
    }

    /// The map a stream's case lives in, to change it.
    fn map_of_mut(&mut self, stream: &str) -> &mut HashMap<Arc<str>, Box<CaseState>> {
        if kinds::kind_of_stream(stream).is_some() {
            &mut self.projects
        } else {
            &mut self.cases
        }
    }

    /// Every procurement project, sorted by stream name.
    pub fn projects_sorted(&self) -> Vec<(&str, &CaseState)> {
        let mut v: Vec<_> = self.projects.iter().map(|(s, c)| (&**s, &**c)).collect();
        v.sort_unstable_by(|a, b| a.0.cmp(b.0));
        v
    }

    /// How many procurement projects are known.
    pub fn project_count(&self) -> usize {
        self.projects.len()
    }

    /// The procurement kind's book: thresholds and split sums.
    pub fn procurement_book(&self) -> &kinds::procurement::Book {
        &self.procurement
    }

    /// Every case, sorted by stream name.
    pub fn cases_sorted(&self) -> Vec<(&str, &CaseState)> {
        let mut v: Vec<_> = self.cases.iter().map(|(s, c)| (&**s, &**c)).collect();
        v.sort_unstable_by(|a, b| a.0.cmp(b.0));
        v
    }

    /// Every case, in no particular order (for folds that sort their own output).
    pub fn cases(&self) -> impl Iterator<Item = (&str, &CaseState)> {
        self.cases.iter().map(|(s, c)| (&**s, &**c))
    }

    /// Rebuilds what snapshots do not keep: the watched sets. Strings and item definitions
    /// need no sharing again (a snapshot's tables decoded them shared, `shared.rs`); the org
    /// and item lookups fill again as events are folded.
    pub(crate) fn rebuild_watched(&mut self) {
        for (key, case) in self.cases.iter_mut() {
            self.watched.update(key, case, &self.config);
        }
    }

    /// The generation of what the clock judges by: how many calendar amendments and workflow
    /// limit definitions the projections reflect.
    fn generation(&self) -> u64 {
        (self.calendars.amendment_count() + self.limits.len()) as u64
    }
}
/// The prefix of the ids the engine gives `CardIssued` events: `card:<alert id>`, with
/// `@<due>` appended when a threshold moved after an earlier card for the same alert.
pub const CARD_ID_PREFIX: &str = "card:";

/// Splits an alert id `<case>/<rule code>/<n>`.
pub fn parse_alert_id(id: &str) -> Option<(String, Rule, u16)> {
    let mut parts = id.rsplitn(3, '/');
    let n = parts.next()?.parse().ok()?;
    let rule = Rule::from_code(parts.next()?)?;
    let case = parts.next()?;
    Some((case.to_owned(), rule, n))
}

/// The id of an alert on a case.
pub fn alert_id(case: &str, alert: &Alert) -> String {
    format!("{case}/{}/{}", alert.rule.code(), alert.n)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod prop_tests;

#[cfg(test)]
mod ledger_tests;
#[cfg(test)]
mod province_tests;

#[cfg(test)]
mod insight_tests;

#[cfg(test)]
mod workflow_tests;
