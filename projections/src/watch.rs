//! The cases a report must look at beyond the ledger, kept beside the fold so that a report
//! never walks the district: the active cases (open, or ended with a workflow the clock can
//! still move: [`CaseState::is_active`]), whose clock-raised cards are pending, and the ended
//! cases once overdue on the promise, by the instant they ended, which `overdue_open` counts
//! for a period that ended before they did. A report at an instant reads the first set and the
//! part of the second that ended after the instant.

use std::collections::BTreeSet;
use std::sync::Arc;

use hashbrown::HashSet;

use crate::case::CaseState;
use crate::{instant, AlertConfig, Millis, Rule};

/// Where a case belongs in [`Watched`], remembered on the case so a change moves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Place {
    /// In the active set.
    active: bool,
    /// In the overdue-ended set, at this end instant (`Millis::MAX` for a case that left
    /// the open states without an end date).
    overdue_end: Option<Millis>,
}

impl Place {
    /// Where `case` belongs now.
    fn of(case: &CaseState, config: &AlertConfig) -> Place {
        let ended_overdue =
            !case.status.is_open() && case.alerts.iter().any(|a| a.rule == Rule::PromisedOverdue);
        Place {
            active: case.is_active(config),
            overdue_end: ended_overdue.then(|| end_instant(case).unwrap_or(Millis::MAX)),
        }
    }
}

/// The end of the case's last day: its conclusion date, else the date it otherwise ended.
pub(crate) fn end_instant(case: &CaseState) -> Option<Millis> {
    case.concluded
        .map(|c| instant::end_of(c.1))
        .or(case.ended_on.map(instant::end_of))
}

/// The two sets (rebuilt after a snapshot; see [`crate::Projections`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Watched {
    active: HashSet<Arc<str>>,
    overdue_ended: BTreeSet<(Millis, Arc<str>)>,
}

impl Watched {
    /// Moves `case` (keyed `key`) to where it belongs now, from where it was.
    pub(crate) fn update(&mut self, key: &Arc<str>, case: &mut CaseState, config: &AlertConfig) {
        let after = Place::of(case, config);
        let before = case.place.replace(after).unwrap_or_default();
        if before == after {
            return;
        }
        if before.active != after.active {
            if after.active {
                self.active.insert(key.clone());
            } else {
                self.active.remove(key);
            }
        }
        if before.overdue_end != after.overdue_end {
            if let Some(end) = before.overdue_end {
                self.overdue_ended.remove(&(end, key.clone()));
            }
            if let Some(end) = after.overdue_end {
                self.overdue_ended.insert((end, key.clone()));
            }
        }
    }

    /// The active cases, in no particular order.
    pub(crate) fn active(&self) -> impl Iterator<Item = &Arc<str>> {
        self.active.iter()
    }

    /// The ended cases once overdue on the promise that ended after `at`, by end instant.
    pub(crate) fn overdue_ended_after(&self, at: Millis) -> impl Iterator<Item = &Arc<str>> {
        let from: (Millis, Arc<str>) = (at.saturating_add(1), Arc::from(""));
        self.overdue_ended.range(from..).map(|(_, k)| k)
    }
}
