//! Pure folds over the jiancha log: the item catalog, the calendars in force, each case's
//! deadline state and its alerts. [`Projections::apply`] takes stored events in position order;
//! the views ([`Projections::case_view`], [`Projections::alerts`]) evaluate them at an explicit
//! instant.
//!
//! Nothing here does I/O, reads a clock or panics on an event already in the log: live
//! processing, replay and tests run this same code.

pub mod calendars;
pub mod case;
pub mod catalog;
pub mod instant;
pub mod ledger;
pub mod report;
pub mod rules;
pub mod snapshot;
mod sorted;
pub mod view;

use std::collections::BTreeMap;
use std::sync::Arc;

use hashbrown::hash_map::EntryRef;
use hashbrown::{HashMap, HashSet};

use jiancha_events::{EventData, StoredEvent, StreamKind};

pub use calendars::Calendars;
pub use case::{Alert, CaseState, Ctx, Status};
pub use catalog::Catalog;
pub use instant::Millis;
pub use ledger::{Entry, EntryView, Ledger, Scoring};
pub use report::{Period, PeriodError, RangeEnd, Report, ReportQuery};
pub use rules::{AlertConfig, Rule, RULES};
pub use view::{AlertView, CaseView};

/// The state of every projection, folded up to [`Projections::position`].
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Projections {
    /// The item catalog.
    pub catalog: Catalog,
    /// The calendars in force.
    pub calendars: Calendars,
    /// The thresholds.
    pub config: AlertConfig,
    #[serde(with = "sorted::map")]
    cases: HashMap<Arc<str>, Box<CaseState>>,
    ledger: Option<Box<Ledger>>,
    #[serde(skip)]
    orgs: HashMap<String, Arc<str>>,
    /// Cases still open, and cases ever overdue on the promise: the only ones a report's
    /// clock-raised cards and `overdue_open` can come from (rebuilt after a snapshot).
    #[serde(skip)]
    watched: HashSet<Arc<str>>,
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
}

impl Projections {
    /// Empty projections with the given thresholds.
    pub fn new(config: AlertConfig) -> Self {
        Projections {
            config,
            ..Projections::default()
        }
    }

    /// Also keeps the assessment ledger, scored with `scoring`.
    pub fn with_ledger(mut self, scoring: Scoring) -> Self {
        self.ledger = Some(Box::new(Ledger::new(scoring)));
        self
    }

    /// The assessment ledger, when kept.
    pub fn ledger(&self) -> Option<&Ledger> {
        self.ledger.as_deref()
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
    fn historical(&self, position: u64) -> bool {
        self.history
            .is_some_and(|(from, to)| (from..=to).contains(&position))
    }

    /// How many cases are known.
    pub fn case_count(&self) -> usize {
        self.cases.len()
    }

    /// A case's state.
    pub fn case(&self, stream: &str) -> Option<&CaseState> {
        self.cases.get(stream).map(|c| &**c)
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

    /// Shares one allocation per org path again after a snapshot was decoded, and rebuilds
    /// what snapshots do not keep.
    fn reintern(&mut self) {
        let streams: Vec<Arc<str>> = self.cases.keys().cloned().collect();
        for s in streams {
            self.watch(&s);
        }
        let mut cases = std::mem::take(&mut self.cases);
        for case in cases.values_mut() {
            let item = self
                .items
                .get(&*case.item)
                .cloned()
                .unwrap_or_else(|| case.item.clone());
            self.items.insert(item.clone());
            case.item = item;
            // Share the catalog's definition instead of a decoded copy per case.
            if let Some(def) = &case.def {
                let shared = self
                    .catalog
                    .history(&def.code)
                    .iter()
                    .find(|d| d.item == *def);
                if let Some(d) = shared {
                    case.def = Some(d.item.clone());
                }
            }
            case.submitted_org = self.intern(&case.submitted_org.clone());
            if let Some(a) = case.accepted.as_mut() {
                a.org = self.intern(&a.org.clone());
            }
            for alert in &mut case.alerts {
                alert.org = self.intern(&alert.org.clone());
            }
        }
        self.cases = cases;
    }

    fn intern(&mut self, org: &str) -> Arc<str> {
        intern(&mut self.orgs, org).clone()
    }

    /// Folds one stored event in. Events must come in position order; an event at or before
    /// the current position is ignored (a replayed page), so applying is idempotent.
    pub fn apply(&mut self, event: &StoredEvent) -> Applied {
        if event.position <= self.position && self.position > 0 {
            return Applied::default();
        }
        self.position = event.position;
        self.head = event.hash;
        if event.data.stream_kind() == StreamKind::Case {
            // The ledger folds a case event beside the case's state.
            return self.apply_case(event);
        }
        let applied = self.apply_projections(event);
        if let Some(mut ledger) = self.ledger.take() {
            ledger.apply(event, self, &applied);
            self.ledger = Some(ledger);
        }
        applied
    }

    /// Folds an event of any stream but a case's (see [`Projections::apply_case`]).
    fn apply_projections(&mut self, event: &StoredEvent) -> Applied {
        match &event.data {
            EventData::ItemDefined(item) => {
                self.catalog.define(event.position, item);
                Applied::default()
            }
            EventData::CalendarAmended(a) => {
                self.calendars.amend(a);
                Applied::default()
            }
            // A declaration covers the positions from its own on; one naming earlier positions
            // is not honoured (history cannot be declared after the fact).
            EventData::HistoryImported(h) if h.from_position == event.position => {
                self.history = Some((h.from_position, h.to_position));
                Applied::default()
            }
            EventData::PeriodClosed(c) => {
                self.closed
                    .entry(c.period.clone())
                    .or_insert_with(|| ClosedPeriod {
                        period: c.period.clone(),
                        closed_by: event.position,
                        position: c.position,
                        digest: c.digest.clone(),
                        closed_at: instant::millis(&event.occurred_at),
                    });
                Applied::default()
            }
            data => match data.stream_kind() {
                StreamKind::Supervision => {
                    let applied = self.apply_supervision(event);
                    // Only a new alert can change whether the case is watched.
                    if let (false, Some(case)) = (applied.raised.is_empty(), &applied.case) {
                        self.watch(case);
                    }
                    applied
                }
                _ => Applied::default(),
            },
        }
    }

    /// Whether a case belongs in `watched`.
    fn is_watched(case: &CaseState) -> bool {
        case.status.is_open() || case.alerts.iter().any(|a| a.rule == Rule::PromisedOverdue)
    }

    /// Keeps `watched` up to date for one case.
    fn watch(&mut self, stream: &str) {
        let Some((key, case)) = self.cases.get_key_value(stream) else {
            return;
        };
        if Self::is_watched(case) {
            if !self.watched.contains(stream) {
                let key = key.clone();
                self.watched.insert(key);
            }
        } else {
            self.watched.remove(stream);
        }
    }

    /// The cases a report must look at beyond the ledger: open ones and ones ever overdue on
    /// the promise.
    pub fn watched_cases(&self) -> impl Iterator<Item = (&str, &CaseState)> {
        self.watched
            .iter()
            .filter_map(|s| self.cases.get_key_value(s).map(|(k, c)| (&**k, &**c)))
    }

    /// Folds a case event into the case's state, `watched` and the ledger.
    fn apply_case(&mut self, event: &StoredEvent) -> Applied {
        let generation = self.generation();
        let historical = self.historical(event.position);
        // Only the events that can make an org accountable record the acting org: a
        // submission, an acceptance, a conclusion (of a case never accepted), and the ratings
        // and complaints that count for the acting org of a case never accepted.
        let org = match &event.data {
            EventData::Submitted(_)
            | EventData::Accepted(_)
            | EventData::Concluded(_)
            | EventData::Rated(_)
            | EventData::Complained(_) => Some(intern(&mut self.orgs, &event.org)),
            _ => None,
        };
        let at = instant::millis(&event.occurred_at);
        let on = self.last_dates.0.of(&event.occurred_at, at);
        let recorded_at = instant::millis(&event.recorded_at);
        let step = case::Step {
            recorded_at,
            position: event.position,
            at,
            on,
            org,
            data: &event.data,
            historical,
        };
        let seq = u32::try_from(self.cases.len()).unwrap_or(u32::MAX);
        // One lookup of the case; the catalog and calendars are borrowed beside it.
        let (key, case) = match self.cases.entry_ref(event.stream.as_str()) {
            EntryRef::Occupied(entry) => (entry.key().clone(), entry.into_mut()),
            EntryRef::Vacant(entry) => {
                let EventData::Submitted(s) = &event.data else {
                    return Applied::default();
                };
                let def = self.catalog.current(&s.item).map(|d| d.item.clone());
                let item = match self.items.get(s.item.as_str()) {
                    Some(item) => item.clone(),
                    None => {
                        let item: Arc<str> = Arc::from(s.item.as_str());
                        self.items.insert(item.clone());
                        item
                    }
                };
                let mut state = CaseState::submitted(&step, item, def, s.channel, &s.materials);
                state.seq = seq;
                // A submission entered late is back-dated like any later event of the case.
                state.check_backdated_config(&self.config, &step);
                let raised = state.alerts.clone();
                let watched = Self::is_watched(&state);
                let key = entry.insert_entry(Box::new(state)).key().clone();
                if watched {
                    self.watched.insert(key.clone());
                }
                if let (Some(ledger), false) = (self.ledger.as_deref_mut(), raised.is_empty()) {
                    let recorded_on = self.last_dates.1.of(&event.recorded_at, recorded_at);
                    let at = ledger::CaseEvent {
                        event,
                        dates: (on, recorded_on),
                        org: step.org,
                    };
                    if let Some(case) = self.cases.get(&*key) {
                        ledger.apply_to_case(&at, (&key, case), &raised, |case| {
                            view::Conclusion::new(case, None, None)
                        });
                    }
                }
                return Applied {
                    case: Some(key),
                    raised,
                    ..Applied::default()
                };
            }
        };
        let current = match &event.data {
            EventData::Accepted(_) => self.catalog.current(&case.item).map(|d| d.item.clone()),
            _ => None,
        };
        let ctx = Ctx {
            calendar: self.calendars.resolve(case.org()),
            config: &self.config,
            generation,
        };
        let before = case.alerts.len();
        let was_watched = Self::is_watched(case);
        case.advance(&ctx, CaseState::effective_at(&step, &self.config));
        case.apply(&ctx, &step, current.as_ref());
        let applied = diff(None, before, &case.alerts, event.position);
        if let Some(ledger) = self.ledger.as_deref_mut() {
            let (calendars, config) = (&mut self.calendars, &self.config);
            let recorded_on = self.last_dates.1.of(&event.recorded_at, recorded_at);
            let at = ledger::CaseEvent {
                event,
                dates: (on, recorded_on),
                org: step.org,
            };
            ledger.apply_to_case(&at, (&key, case), &applied.raised, |case| {
                let ctx = Ctx {
                    calendar: calendars.resolve(case.org()),
                    config,
                    generation,
                };
                let (promised, statutory) = case.dues(&ctx);
                view::Conclusion::new(case, promised, statutory)
            });
        }
        // `watched` holds exactly the cases `is_watched` accepts, so it changes only with it.
        let watched = Self::is_watched(case);
        if watched != was_watched {
            if watched {
                self.watched.insert(key.clone());
            } else {
                self.watched.remove(&key);
            }
        }
        Applied {
            case: Some(key),
            ..applied
        }
    }

    fn apply_supervision(&mut self, event: &StoredEvent) -> Applied {
        let (case_stream, action) = match &event.data {
            EventData::CardIssued(c) => (
                c.case.clone(),
                Supervise::Delivered(
                    c.rule.clone(),
                    instant::millis(&c.due),
                    card_alert_number(&event.id),
                ),
            ),
            EventData::AlertAcknowledged(a) => match parse_alert_id(&a.alert) {
                Some((case, rule, n)) => (case, Supervise::Acknowledged(rule, n)),
                None => return Applied::default(),
            },
            EventData::CorrectionCompleted(c) => match parse_alert_id(&c.alert) {
                Some((_, rule, n)) => (c.case.clone(), Supervise::Corrected(rule, n)),
                None => return Applied::default(),
            },
            EventData::Exempted(e) => (e.case.clone(), Supervise::Exempted),
            _ => return Applied::default(),
        };
        let calendar = self.calendar_for_case(&case_stream);
        let config = self.config;
        let generation = self.generation();
        let Some(case) = self.cases.get_mut(case_stream.as_str()) else {
            return Applied::default();
        };
        let ctx = Ctx {
            calendar: &calendar,
            config: &config,
            generation,
        };
        let before = case.alerts.len();
        case.advance(&ctx, instant::millis(&event.occurred_at));
        match action {
            Supervise::Delivered(rule, due, n) => {
                // The engine's card id names the alert; a card from elsewhere is matched by
                // its rule and threshold instant.
                let found = match n {
                    Some(n) => case
                        .alerts
                        .iter_mut()
                        .find(|a| a.rule.code() == rule && a.n == n),
                    None => case
                        .alerts
                        .iter_mut()
                        .find(|a| a.rule.code() == rule && a.raised_at == due && !a.delivered),
                };
                if let Some(a) = found {
                    a.delivered = true;
                }
            }
            Supervise::Acknowledged(rule, n) => {
                if let Some(a) = case.alerts.iter_mut().find(|a| a.rule == rule && a.n == n) {
                    a.acknowledged = true;
                }
            }
            Supervise::Corrected(rule, n) => case.close_corrected(rule, n, event.position),
            Supervise::Exempted => {
                case.exempted = true;
                case.close_all(event.position);
            }
        }
        case.settle(&ctx, event.position);
        let key = self
            .cases
            .get_key_value(case_stream.as_str())
            .map(|(k, _)| k.clone());
        let mut applied = diff(
            key,
            before,
            &self.cases[case_stream.as_str()].alerts,
            event.position,
        );
        applied.case = self
            .cases
            .get_key_value(case_stream.as_str())
            .map(|(k, _)| k.clone());
        applied
    }

    /// The calendar generation: how many amendments the calendars reflect.
    fn generation(&self) -> u64 {
        self.calendars.amendment_count() as u64
    }

    /// The calendar of a case's accountable org.
    fn calendar_for_case(&mut self, stream: &str) -> jiancha_calendar::Calendar {
        let org = self.cases.get(stream).map(|c| c.org().clone());
        match org {
            Some(org) => self.calendars.for_org(&org),
            None => self.calendars.for_org(jiancha_calendar::NATIONAL),
        }
    }

    /// The calendar that applies to a case, for read-only views.
    pub fn calendar_of(&self, case: &CaseState) -> jiancha_calendar::Calendar {
        self.calendars.peek(case.org())
    }

    /// The alerts of every case at `now` (raised so far, and raised by the clock by `now`),
    /// sorted by raising instant, then case, then rule.
    pub fn alerts(&self, now: Millis) -> Vec<AlertView> {
        let mut out = Vec::new();
        for (stream, case) in &self.cases {
            out.extend(self.case_alerts(stream, case, now));
        }
        out.sort_by(alert_order);
        out
    }

    /// One case's alerts at `now`, in the order of [`Projections::alerts`].
    pub fn case_alerts(&self, stream: &str, case: &CaseState, now: Millis) -> Vec<AlertView> {
        let calendar = self.calendar_of(case);
        let ctx = Ctx {
            calendar: &calendar,
            config: &self.config,
            generation: self.generation(),
        };
        let pending = if now >= case.cursor {
            case.pending(&ctx, now)
        } else {
            Vec::new()
        };
        let mut out: Vec<AlertView> = case
            .alerts
            .iter()
            .filter(|a| a.raised_at <= now)
            .chain(pending.iter())
            .map(|a| AlertView::new(stream, a, now))
            .collect();
        out.sort_by(alert_order);
        out
    }

    /// The first instant after `after` at which the clock raises an alert on the case (one the
    /// fold has not raised yet), if any: where a scheduler should wake for this case.
    pub fn next_threshold(&self, stream: &str, after: Millis) -> Option<Millis> {
        let case = self.cases.get(stream)?;
        if !case.status.is_open() {
            return None;
        }
        let calendar = self.calendar_of(case);
        let ctx = Ctx {
            calendar: &calendar,
            config: &self.config,
            generation: self.generation(),
        };
        case.pending(&ctx, Millis::MAX)
            .iter()
            .map(|a| a.raised_at)
            .find(|at| *at > after)
    }

    /// The alerts the clock raises on a case between its last event and `now`, as the fold
    /// will number them when the next event arrives.
    pub fn pending_alerts(&self, stream: &str, now: Millis) -> Vec<AlertView> {
        let Some(case) = self.cases.get(stream) else {
            return Vec::new();
        };
        let calendar = self.calendar_of(case);
        let ctx = Ctx {
            calendar: &calendar,
            config: &self.config,
            generation: self.generation(),
        };
        case.pending(&ctx, now)
            .iter()
            .map(|a| AlertView::new(stream, a, now))
            .collect()
    }

    /// The alerts the clock raises on a case between its last event and `now`, as the fold
    /// will raise them.
    pub(crate) fn pending_raw_alerts(&self, case: &CaseState, now: Millis) -> Vec<Alert> {
        let calendar = self.calendar_of(case);
        let ctx = Ctx {
            calendar: &calendar,
            config: &self.config,
            generation: self.generation(),
        };
        case.pending(&ctx, now)
    }

    /// Open cases, sorted (the ones a scheduler watches).
    pub fn open_cases(&self) -> Vec<&str> {
        let mut v: Vec<_> = self
            .cases
            .iter()
            .filter(|(_, c)| c.status.is_open())
            .map(|(s, _)| &**s)
            .collect();
        v.sort_unstable();
        v
    }

    /// One case's deadline state at `now`.
    pub fn case_view(&self, stream: &str, now: Millis) -> Option<CaseView> {
        let case = self.cases.get(stream)?;
        let calendar = self.calendar_of(case);
        let ctx = Ctx {
            calendar: &calendar,
            config: &self.config,
            generation: self.generation(),
        };
        Some(CaseView::new(stream, case, &ctx, now))
    }

    /// How a concluded case stands against its due dates, as [`Projections::case_view`]
    /// reports it.
    pub(crate) fn conclusion(&self, case: &CaseState) -> view::Conclusion {
        let calendar = self.calendar_of(case);
        let ctx = Ctx {
            calendar: &calendar,
            config: &self.config,
            generation: self.generation(),
        };
        let (promised, statutory) = case.dues(&ctx);
        view::Conclusion::new(case, promised, statutory)
    }

    /// Cases by accountable org path (for reports), sorted.
    pub fn cases_by_org(&self) -> BTreeMap<Arc<str>, Vec<&str>> {
        let mut map: BTreeMap<Arc<str>, Vec<&str>> = BTreeMap::new();
        for (s, c) in &self.cases {
            map.entry(c.org().clone()).or_default().push(&**s);
        }
        for v in map.values_mut() {
            v.sort();
        }
        map
    }
}

/// The one shared allocation of an org path.
fn intern<'a>(orgs: &'a mut HashMap<String, Arc<str>>, org: &str) -> &'a Arc<str> {
    orgs.entry_ref(org).or_insert_with(|| Arc::from(org))
}

enum Supervise {
    Delivered(String, Millis, Option<u16>),
    Acknowledged(Rule, u16),
    Corrected(Rule, u16),
    Exempted,
}

/// The prefix of the ids the engine gives `CardIssued` events: `card:<alert id>`, with
/// `@<due>` appended when a threshold moved after an earlier card for the same alert.
pub const CARD_ID_PREFIX: &str = "card:";

/// The alert number a card's event id names, if it is an engine card id.
fn card_alert_number(event_id: &str) -> Option<u16> {
    let alert = event_id.strip_prefix(CARD_ID_PREFIX)?;
    let alert = alert.split_once('@').map_or(alert, |(a, _)| a);
    parse_alert_id(alert).map(|(_, _, n)| n)
}

/// Splits an alert id `<case>/<rule code>/<n>`.
pub fn parse_alert_id(id: &str) -> Option<(String, Rule, u16)> {
    let mut parts = id.rsplitn(3, '/');
    let n = parts.next()?.parse().ok()?;
    let rule = Rule::from_code(parts.next()?)?;
    let case = parts.next()?;
    Some((case.to_owned(), rule, n))
}

/// How alert lists are ordered: by the instant raised, then case, rule code and id.
fn alert_order(a: &AlertView, b: &AlertView) -> std::cmp::Ordering {
    (a.raised_at_ms, &a.case, &a.rule)
        .cmp(&(b.raised_at_ms, &b.case, &b.rule))
        .then(a.id.cmp(&b.id))
}

/// The id of an alert on a case.
pub fn alert_id(case: &str, alert: &Alert) -> String {
    format!("{case}/{}/{}", alert.rule.code(), alert.n)
}

/// What one event did to a case's alerts: the ones appended after the first `before`, and
/// the ones it closed (their `closed_by` is its position).
fn diff(stream: Option<Arc<str>>, before: usize, after: &[Alert], position: u64) -> Applied {
    let mut applied = Applied {
        case: stream,
        ..Applied::default()
    };
    applied.raised = after.get(before..).unwrap_or_default().to_vec();
    applied.closed = after
        .iter()
        .filter(|a| a.closed_by == Some(position))
        .cloned()
        .collect();
    applied
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod prop_tests;

#[cfg(test)]
mod ledger_tests;
