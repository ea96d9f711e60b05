//! The fold: [`Projections::apply`] takes stored events in position order, folds each case
//! event into its case's state, the ledger and the set of watched cases, and the catalog and
//! calendar events into theirs.

use std::sync::Arc;

use hashbrown::hash_map::EntryRef;
use hashbrown::HashMap;
use jiancha_events::{EventData, StoredEvent, StreamKind};

use crate::case::{self, Alert, CaseState, Ctx};
use crate::kinds::Kind;
use crate::{fold, instant, ledger, view, Applied, ClosedPeriod, Projections};

impl Projections {
    /// Folds one stored event in. Events must come in position order; an event at or before
    /// the current position is ignored (a replayed page), so applying is idempotent.
    pub fn apply(&mut self, event: &StoredEvent) -> Applied {
        if event.position <= self.position && self.position > 0 {
            return Applied::default();
        }
        self.position = event.position;
        self.head = event.hash;
        match event.data.stream_kind() {
            // The ledger folds a case event beside the case's state.
            StreamKind::Case => return self.apply_case(event),
            StreamKind::Procurement => {
                return self.apply_kind::<crate::kinds::procurement::Procurement>(event)
            }
            _ => {}
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
            EventData::ThresholdDefined(t) => {
                self.procurement.define(t);
                Applied::default()
            }
            EventData::WorkflowLimitsDefined(d) => {
                self.define_limits(event, d);
                Applied::default()
            }
            EventData::OrgDefined(org) => {
                self.catalog.define_org(org);
                Applied::default()
            }
            EventData::CalendarAmended(a) => {
                self.calendars.amend(a, event.position);
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
                    if let Some(case) = &applied.case {
                        self.watch(case);
                    }
                    applied
                }
                _ => Applied::default(),
            },
        }
    }

    /// Keeps `watched` up to date for one case.
    pub(crate) fn watch(&mut self, stream: &str) {
        if let Some((key, case)) = self.cases.get_key_value_mut(stream) {
            self.watched.update(key, case, &self.config);
        }
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
            known_by: self.known_by.unwrap_or(crate::Millis::MAX),
        };
        let seq = u32::try_from(self.cases.len() + self.projects.len()).unwrap_or(u32::MAX);
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
                if step.historical {
                    self.entered_as_history.insert(seq);
                }
                // A submission entered late is back-dated like any later event of the case.
                state.check_backdated_config(&self.config, &step);
                let raised = state.alerts.clone();
                let mut entry = entry.insert_entry(Box::new(state));
                let key = entry.key().clone();
                self.watched.update(&key, entry.get_mut(), &self.config);
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
        // Inside a historical import, a case entered live stays live (`history.rs`).
        let step = case::Step {
            historical: step.historical && self.entered_as_history.contains(case.seq),
            ..step
        };
        let current = match &event.data {
            EventData::Accepted(_) => self.catalog.current(&case.item).map(|d| d.item.clone()),
            _ => None,
        };
        let ctx = Ctx {
            calendar: self.calendars.resolve(case.org()),
            config: &self.config,
            limits: &self.limits,
            generation,
        };
        let before = case.alerts.len();
        let was_open = case.status.is_open();
        case.advance(&ctx, CaseState::effective_at(&step, &self.config));
        case.apply(&ctx, &step, current.as_ref());
        match &event.data {
            EventData::StepCompleted(done) => {
                note_step_date(&mut self.step_dates, case, &done.step, on);
            }
            // A transfer of an ended case changes nothing (`procedure.after_conclusion`).
            EventData::Transferred(_) if was_open => {
                let from = CaseState::effective_at(&step, &self.config);
                if let Some(to) = &case.transferred_to {
                    self.transfers.note(case.seq, from, to.clone());
                }
            }
            _ => {}
        }
        let applied = diff(None, before, &case.alerts, event.position);
        if let Some(ledger) = self.ledger.as_deref_mut() {
            let (calendars, config, limits) = (&mut self.calendars, &self.config, &self.limits);
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
                    limits,
                    generation,
                };
                let (promised, statutory) = case.dues(&ctx);
                view::Conclusion::new(case, promised, statutory)
            });
        }
        self.watched.update(&key, case, &self.config);
        Applied {
            case: Some(key),
            ..applied
        }
    }
}

impl Projections {
    /// Folds an event of another kind than approval into its case: the kind opens the case
    /// or applies the event; the clock and the alerts are the shared record's.
    fn apply_kind<K>(&mut self, event: &StoredEvent) -> Applied
    where
        K: Kind<Book = crate::kinds::procurement::Book>,
    {
        let generation = self.generation();
        let at = instant::millis(&event.occurred_at);
        let step = case::Step {
            recorded_at: instant::millis(&event.recorded_at),
            position: event.position,
            at,
            on: instant::date_of(at),
            org: None,
            data: &event.data,
            historical: self.historical(event.position),
            known_by: self.known_by.unwrap_or(crate::Millis::MAX),
        };
        let stream = event.stream.as_str();
        if !self.projects.contains_key(stream) {
            let Some(mut case) = K::open(&step, &mut self.procurement) else {
                return Applied::default();
            };
            // One sequence for the cases of every kind: the ledger chains entries by it.
            case.seq = u32::try_from(self.cases.len() + self.projects.len()).unwrap_or(u32::MAX);
            if step.historical {
                self.entered_as_history.insert(case.seq);
            }
            case.submitted_org = fold::intern(&mut self.orgs, &case.submitted_org.clone()).clone();
            // Entered long after the act, like any case event (体外循环).
            case.check_backdated_config(&self.config, &step);
            let key: Arc<str> = Arc::from(stream);
            let calendar = self.calendars.resolve(case.org());
            let ctx = Ctx {
                calendar,
                config: &self.config,
                limits: &self.limits,
                generation,
            };
            case.settle(&ctx, event.position);
            let raised = case.alerts.clone();
            self.project_ledger(event, (&key, &case), &raised, K::OPENING_COUNTS);
            self.projects.insert(key.clone(), Box::new(case));
            return Applied {
                case: Some(key),
                raised,
                ..Applied::default()
            };
        }
        let Some((key, case)) = self.projects.get_key_value_mut(stream) else {
            return Applied::default();
        };
        let key = key.clone();
        let step = case::Step {
            historical: step.historical && self.entered_as_history.contains(case.seq),
            ..step
        };
        let ctx = Ctx {
            calendar: self.calendars.resolve(case.org()),
            config: &self.config,
            limits: &self.limits,
            generation,
        };
        let before = case.alerts.len();
        case.advance(&ctx, at);
        let counted = K::apply(case, &mut self.procurement, &ctx, &step);
        case.check_backdated_config(&self.config, &step);
        case.settle(&ctx, event.position);
        let applied = diff(Some(key.clone()), before, &case.alerts, event.position);
        if let Some(case) = self.projects.get(&*key) {
            let mut ledger = self.ledger.take();
            if let Some(ledger) = ledger.as_deref_mut() {
                let dates = (step.on, instant::date_of(step.recorded_at));
                ledger.apply_to_project(event, dates, (&key, case), &applied.raised, &counted);
            }
            self.ledger = ledger;
        }
        applied
    }

    /// The ledger's part of a project's opening.
    fn project_ledger(
        &mut self,
        event: &StoredEvent,
        (key, case): (&Arc<str>, &CaseState),
        raised: &[Alert],
        counted: &[crate::ledger::Measure],
    ) {
        if let Some(ledger) = self.ledger.as_deref_mut() {
            let at = instant::millis(&event.occurred_at);
            let dates = (
                instant::date_of(at),
                instant::date_of(instant::millis(&event.recorded_at)),
            );
            ledger.apply_to_project(event, dates, (key, case), raised, counted);
        }
    }
}

/// Records the first completion date of one of the case's item steps.
fn note_step_date(
    dates: &mut crate::steps::StepLog,
    case: &CaseState,
    name: &str,
    on: chrono::NaiveDate,
) {
    let Some(def) = case.def.as_deref() else {
        return;
    };
    let Some(index) = def.steps.iter().position(|d| d == name) else {
        return;
    };
    if let Ok(index) = u16::try_from(index) {
        dates.note(case.seq, index, on);
    }
}

/// The one shared allocation of an org path.
pub(crate) fn intern<'a>(orgs: &'a mut HashMap<String, Arc<str>>, org: &str) -> &'a Arc<str> {
    orgs.entry_ref(org).or_insert_with(|| Arc::from(org))
}

/// What one event did to a case's alerts: the ones appended after the first `before`, and
/// the ones it closed (their `closed_by` is its position).
pub(crate) fn diff(
    stream: Option<Arc<str>>,
    before: usize,
    after: &[Alert],
    position: u64,
) -> Applied {
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
