//! The views of the projections at an instant: alerts, a case's deadline state, what the clock
//! raises next. Each evaluates a case in its context ([`Projections::with_ctx`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::case::{Alert, CaseState, Ctx};
use crate::{view, AlertView, CaseView, Millis, Projections};

impl Projections {
    /// The active cases (open, or ended with a workflow the clock can still move), in no
    /// particular order: the only ones the clock can raise an alert on.
    pub fn active_cases(&self) -> impl Iterator<Item = (&str, &CaseState)> {
        self.watched
            .active()
            .filter_map(|s| self.cases.get_key_value(s).map(|(k, c)| (&**k, &**c)))
    }

    /// The cases that may have been open and overdue on the promise at `at`: the open ones,
    /// and the ended ones once overdue that ended after `at`; in no particular order.
    pub(crate) fn maybe_overdue_at(&self, at: Millis) -> impl Iterator<Item = (&str, &CaseState)> {
        let open = self.active_cases().filter(|(_, c)| c.status.is_open());
        let ended = self
            .watched
            .overdue_ended_after(at)
            .filter_map(|s| self.cases.get_key_value(s).map(|(k, c)| (&**k, &**c)));
        open.chain(ended)
    }

    /// Runs `f` with the context a case is evaluated in: its org's calendar, the thresholds and
    /// the calendar generation.
    pub(crate) fn with_ctx<R>(&self, case: &CaseState, f: impl FnOnce(&Ctx<'_>) -> R) -> R {
        let calendar = self.calendar_of(case);
        f(&Ctx {
            calendar: &calendar,
            config: &self.config,
            limits: &self.limits,
            generation: self.generation(),
        })
    }

    /// The calendar that applies to a case, for read-only views: for a concluded case, the one
    /// in force when it concluded (a later amendment re-derives running cases only, and the
    /// ledger counted the conclusion then).
    pub fn calendar_of(&self, case: &CaseState) -> jiancha_calendar::Calendar {
        match case.concluded {
            Some((_, _, position)) => self.calendars.peek_as_of(case.org(), position),
            None => self.calendars.peek(case.org()),
        }
    }

    /// The alerts of every case at `now` (raised so far, and raised by the clock by `now`),
    /// sorted by raising instant, then case, then rule.
    pub fn alerts(&self, now: Millis) -> Vec<AlertView> {
        let parts = if self.cases.len() + self.projects.len() >= ALERTS_SPLIT_CASES {
            2
        } else {
            1
        };
        self.alerts_in_parts(now, parts)
    }

    /// [`Projections::alerts`] rendered in `parts` (1 or 2) halves of the cases, the second
    /// on a thread of its own (a decade's district lists hundreds of thousands), each sorted,
    /// then merged: the order is total, so the list is the same whatever the parts.
    pub(crate) fn alerts_in_parts(&self, now: Millis, parts: usize) -> Vec<AlertView> {
        let cases: Vec<(&Arc<str>, &CaseState)> = self
            .cases
            .iter()
            .chain(&self.projects)
            .map(|(s, c)| (s, &**c))
            .collect();
        let render = |part: &[(&Arc<str>, &CaseState)]| {
            let mut out = Vec::new();
            for (stream, case) in part {
                out.extend(self.case_alerts(stream, case, now));
            }
            out.sort_unstable_by(alert_order);
            out
        };
        if parts < 2 {
            return render(&cases);
        }
        let (a, b) = in_halves(&cases, render);
        merge_alerts([a, b])
    }

    /// One case's alerts at `now`, in the order of [`Projections::alerts`].
    pub fn case_alerts(&self, stream: &str, case: &CaseState, now: Millis) -> Vec<AlertView> {
        self.with_ctx(case, |ctx| {
            let pending = if now >= case.cursor {
                case.pending(ctx, now)
            } else {
                Vec::new()
            };
            let mut out: Vec<AlertView> = case
                .alerts
                .iter()
                .filter(|a| a.raised_at <= now)
                .chain(pending.iter())
                .map(|a| AlertView::new(stream, a, now).named(&self.catalog, &case.item))
                .collect();
            out.sort_unstable_by(alert_order);
            out
        })
    }

    /// The first instant after `after` at which the clock raises an alert on the case (one the
    /// fold has not raised yet), if any: where a scheduler should wake for this case.
    pub fn next_threshold(&self, stream: &str, after: Millis) -> Option<Millis> {
        let case = self.case(stream)?;
        if !case.is_active(&self.config) {
            return None;
        }
        self.with_ctx(case, |ctx| {
            case.pending(ctx, Millis::MAX)
                .iter()
                .map(|a| a.raised_at)
                .find(|at| *at > after)
        })
    }

    /// The alerts the clock raises on a case between its last event and `now`, as the fold
    /// will number them when the next event arrives.
    pub fn pending_alerts(&self, stream: &str, now: Millis) -> Vec<AlertView> {
        let Some(case) = self.case(stream) else {
            return Vec::new();
        };
        self.with_ctx(case, |ctx| {
            case.pending(ctx, now)
                .iter()
                .map(|a| AlertView::new(stream, a, now).named(&self.catalog, &case.item))
                .collect()
        })
    }

    /// The alerts the clock raises on a case between its last event and `now`, as the fold
    /// will raise them.
    pub(crate) fn pending_raw_alerts(&self, case: &CaseState, now: Millis) -> Vec<Alert> {
        self.with_ctx(case, |ctx| case.pending(ctx, now))
    }

    /// Active cases, sorted (the ones a scheduler watches): open ones, and ended ones whose
    /// workflow still waits on an act the clock can turn into an alert.
    pub fn open_cases(&self) -> Vec<&str> {
        let mut v: Vec<_> = self
            .cases
            .iter()
            .chain(&self.projects)
            .filter(|(_, c)| c.is_active(&self.config))
            .map(|(s, _)| &**s)
            .collect();
        v.sort_unstable();
        v
    }

    /// One case's deadline state at `now`.
    pub fn case_view(&self, stream: &str, now: Millis) -> Option<CaseView> {
        let case = self.cases.get(stream)?;
        let mut view = self.with_ctx(case, |ctx| CaseView::new(stream, case, ctx, now));
        view.item_name = self.catalog.item_name(&view.item).map(str::to_owned);
        view.org_name = self.catalog.org_name(&view.org).map(str::to_owned);
        Some(view)
    }

    /// How a concluded case stands against its due dates, as [`Projections::case_view`]
    /// reports it.
    pub(crate) fn conclusion(&self, case: &CaseState) -> view::Conclusion {
        self.with_ctx(case, |ctx| {
            let (promised, statutory) = case.dues(ctx);
            view::Conclusion::new(case, promised, statutory)
        })
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

/// Sorts alerts as every alert list is sorted: by the instant raised, then case, rule code
/// and id. The order is total (an id names one alert), so an unstable sort gives it exactly.
pub fn sort_alerts(alerts: &mut [AlertView]) {
    alerts.sort_unstable_by(alert_order);
}

/// The cases from which [`Projections::alerts`] renders in two halves side by side.
const ALERTS_SPLIT_CASES: usize = 20_000;

/// `render` of the first half of `items` on a thread of its own and of the second half on this
/// one, side by side: the two results in that order.
pub fn in_halves<T: Sync, R: Send>(items: &[T], render: impl Fn(&[T]) -> R + Sync) -> (R, R) {
    let (a, b) = items.split_at(items.len() / 2);
    std::thread::scope(|s| {
        let first = s.spawn(|| render(a));
        let second = render(b);
        let first = first
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (first, second)
    })
}

/// Sorted alert lists (by [`alert_order`]) as one, in the same order, in one pass.
pub fn merge_alerts<const N: usize>(runs: [Vec<AlertView>; N]) -> Vec<AlertView> {
    let mut out = Vec::with_capacity(runs.iter().map(Vec::len).sum());
    let mut runs = runs.map(Vec::into_iter);
    loop {
        let mut least: Option<usize> = None;
        for i in 0..N {
            let Some(x) = runs[i].as_slice().first() else {
                continue;
            };
            let smaller = match least.and_then(|l| runs[l].as_slice().first()) {
                Some(y) => alert_order(x, y).is_lt(),
                None => true,
            };
            if smaller {
                least = Some(i);
            }
        }
        match least.and_then(|l| runs[l].next()) {
            Some(alert) => out.push(alert),
            None => return out,
        }
    }
}

/// How alert lists are ordered: by the instant raised, then case, rule code and id (an id
/// names one alert: the order is total).
pub fn alert_order(a: &AlertView, b: &AlertView) -> std::cmp::Ordering {
    (a.raised_at_ms, &a.case, &a.rule)
        .cmp(&(b.raised_at_ms, &b.case, &b.rule))
        .then(a.id.cmp(&b.id))
}

#[cfg(test)]
mod tests {
    use crate::tests::{fold, scenario_events, scenarios};

    #[test]
    fn alerts_rendered_in_halves_are_the_list_rendered_whole() {
        let mut compared = 0;
        for path in scenarios() {
            let text = std::fs::read_to_string(&path).unwrap();
            let (events, now) = scenario_events(&text);
            let p = fold(&events);
            let Some(now) = now else { continue };
            for at in [now, now - 10 * 86_400_000, now + 40 * 86_400_000] {
                let whole = p.alerts_in_parts(at, 1);
                assert_eq!(p.alerts_in_parts(at, 2), whole, "{}", path.display());
                compared += whole.len();
            }
        }
        assert!(compared > 100, "{compared} alerts compared");
    }
}
