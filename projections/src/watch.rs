//! The cases a report must look at beyond the ledger, kept beside the fold so that a report
//! never walks the district: the active cases (open, or ended with a workflow the clock can
//! still move: [`CaseState::is_active`]), whose clock-raised cards are pending, and the ended
//! cases once overdue on the promise, by the instant they ended, which `overdue_open` counts
//! for a period that ended before they did. A report at an instant reads the first set and the
//! part of the second that ended after the instant.

use std::collections::BTreeSet;
use std::sync::Arc;

use hashbrown::{HashMap, HashSet};

use crate::case::CaseState;
use crate::{instant, AlertConfig, Millis, Rule};

/// Where a case stands in [`Watched`], remembered in its fold cache (two flags in what was
/// padding, so a running case carries no more) so that a change moves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Place {
    /// In the active set.
    active: bool,
    /// In the overdue-ended set (its end instant is kept in [`Watched`]).
    overdue: bool,
}

/// Where `case` belongs now: in the active set or not, and in the overdue-ended set at which
/// end instant (`Millis::MAX` for a case that left the open states without an end date).
fn place_of(case: &CaseState, config: &AlertConfig) -> (bool, Option<Millis>) {
    let ended_overdue =
        !case.status.is_open() && case.alerts.iter().any(|a| a.rule == Rule::PromisedOverdue);
    (
        case.is_active(config),
        ended_overdue.then(|| end_instant(case).unwrap_or(Millis::MAX)),
    )
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
    /// The end instant each member of `overdue_ended` is filed under.
    ended_at: HashMap<Arc<str>, Millis>,
}

impl Watched {
    /// Moves `case` (keyed `key`) to where it belongs now, from where it was.
    pub(crate) fn update(&mut self, key: &Arc<str>, case: &mut CaseState, config: &AlertConfig) {
        let (active, end) = place_of(case, config);
        let before = case.cache.place;
        if before.active != active {
            if active {
                self.active.insert(key.clone());
            } else {
                self.active.remove(key);
            }
        }
        if before.overdue || end.is_some() {
            let old = self.ended_at.get(key).copied();
            if old != end {
                if let Some(old) = old {
                    self.overdue_ended.remove(&(old, key.clone()));
                    self.ended_at.remove(key);
                }
                if let Some(end) = end {
                    self.overdue_ended.insert((end, key.clone()));
                    self.ended_at.insert(key.clone(), end);
                }
            }
        }
        case.cache.place = Place {
            active,
            overdue: end.is_some(),
        };
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
