//! The scheduler's bookkeeping, apart from any I/O: when each open case next needs looking at
//! (a sorted set of `(threshold, case)`, as mini-redis expires keys), and which alerts the clock
//! raised that this engine has published but the fold has not taken in yet.
//!
//! The second record is what keeps an alert from being published twice: the scheduler sees a
//! time-driven alert first as pending (`Projections::pending_alerts`); the fold takes it in
//! later, when the case's next event (often the engine's own `CardIssued`) advances the case,
//! and then reports it again in `Applied::raised`. The record is pruned to what is still pending
//! at each evaluation, so it holds at most one entry per time-driven rule of a case.

use std::collections::{BTreeSet, HashMap};

use jiancha_projections::Millis;

/// Wake-ups per case and the alerts published ahead of the fold.
#[derive(Debug, Clone)]
pub struct Scheduler {
    queue: BTreeSet<(Millis, String)>,
    next: HashMap<String, Millis>,
    published: HashMap<String, Vec<(String, Millis)>>,
    entries_max: usize,
    horizon: Option<Millis>,
}

impl Scheduler {
    /// An empty scheduler keeping at most `entries_max` wake-ups (at least one).
    pub fn new(entries_max: usize) -> Self {
        Scheduler {
            queue: BTreeSet::new(),
            next: HashMap::new(),
            published: HashMap::new(),
            entries_max: entries_max.max(1),
            horizon: None,
        }
    }

    /// How many cases have a wake-up.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether no case has a wake-up.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The case's wake-up, if it has one.
    pub fn scheduled(&self, case: &str) -> Option<Millis> {
        self.next.get(case).copied()
    }

    /// Sets the case's wake-up to `at`, or removes it for `None`. When the set is full, the
    /// latest wake-up is dropped and remembered as the horizon for a full pass.
    pub fn schedule(&mut self, case: &str, at: Option<Millis>) {
        if let Some(old) = self.next.remove(case) {
            self.queue.remove(&(old, case.to_owned()));
        }
        let Some(at) = at else { return };
        self.queue.insert((at, case.to_owned()));
        self.next.insert(case.to_owned(), at);
        if self.queue.len() > self.entries_max {
            self.evict_latest();
        }
    }

    fn evict_latest(&mut self) {
        let Some((at, case)) = self.queue.pop_last() else {
            return;
        };
        self.next.remove(&case);
        if self.horizon.is_none() {
            tracing::warn!(
                entries_max = self.entries_max,
                "the scheduler is full: the latest wake-ups are dropped, a full pass finds them"
            );
        }
        self.horizon = Some(self.horizon.map_or(at, |h| h.min(at)));
    }

    /// The earliest instant at which something is due: a wake-up, or the full pass.
    pub fn earliest(&self) -> Option<Millis> {
        let first = self.queue.first().map(|(at, _)| *at);
        match (first, self.horizon) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Removes and returns every case whose wake-up is at or before `now`, earliest first.
    pub fn take_due(&mut self, now: Millis) -> Vec<String> {
        let mut due = Vec::new();
        while self.queue.first().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, case)) = self.queue.pop_first() {
                self.next.remove(&case);
                due.push(case);
            }
        }
        due
    }

    /// Whether a full pass over every open case is due at `now` (wake-ups were dropped and the
    /// earliest of them has come); answering yes clears it.
    pub fn take_full_pass(&mut self, now: Millis) -> bool {
        if self.horizon.is_some_and(|h| h <= now) {
            self.horizon = None;
            return true;
        }
        false
    }

    /// Records that a pending alert was published; `false` when it already was.
    pub fn mark_published(&mut self, case: &str, id: &str, raised_at: Millis) -> bool {
        let list = self.published.entry(case.to_owned()).or_default();
        if list.iter().any(|(i, at)| i == id && *at == raised_at) {
            return false;
        }
        list.push((id.to_owned(), raised_at));
        true
    }

    /// Called when the fold raised an alert: whether this engine had already published it as
    /// pending (the record is dropped, as the fold will not raise it again).
    pub fn take_published(&mut self, case: &str, id: &str, raised_at: Millis) -> bool {
        let Some(list) = self.published.get_mut(case) else {
            return false;
        };
        let before = list.len();
        list.retain(|(i, at)| !(i == id && *at == raised_at));
        let found = list.len() < before;
        if list.is_empty() {
            self.published.remove(case);
        }
        found
    }

    /// Keeps only the published records of alerts still pending on the case, and returns the
    /// others: alerts this engine published that the fold will never raise (an event entered
    /// after the fact ended the condition before the threshold), to be withdrawn.
    pub fn retain_published(
        &mut self,
        case: &str,
        pending: &[(&str, Millis)],
    ) -> Vec<(String, Millis)> {
        let Some(list) = self.published.get_mut(case) else {
            return Vec::new();
        };
        let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(list)
            .into_iter()
            .partition(|(i, at)| pending.iter().any(|(p, pat)| p == i && pat == at));
        *list = kept;
        if list.is_empty() {
            self.published.remove(case);
        }
        dropped
    }

    /// How many alerts are published ahead of the fold, over all cases.
    pub fn published_len(&self) -> usize {
        self.published.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_cases_come_out_earliest_first_and_rescheduling_replaces() {
        let mut s = Scheduler::new(10);
        s.schedule("case-b", Some(20));
        s.schedule("case-a", Some(30));
        s.schedule("case-a", Some(10));
        s.schedule("case-c", Some(40));
        s.schedule("case-c", None);
        assert_eq!(s.len(), 2);
        assert_eq!(s.earliest(), Some(10));
        assert_eq!(s.take_due(19), ["case-a"]);
        assert_eq!(s.scheduled("case-a"), None);
        assert_eq!(s.take_due(25), ["case-b"]);
        assert!(s.is_empty());
        assert_eq!(s.earliest(), None);
    }

    #[test]
    fn a_full_scheduler_drops_the_latest_and_asks_for_a_full_pass() {
        let mut s = Scheduler::new(2);
        s.schedule("case-a", Some(10));
        s.schedule("case-b", Some(50));
        s.schedule("case-c", Some(30));
        assert_eq!(s.len(), 2);
        assert_eq!(s.scheduled("case-b"), None);
        s.schedule("case-d", Some(40));
        assert_eq!(s.scheduled("case-d"), None);
        assert_eq!(s.take_due(10), ["case-a"]);
        assert_eq!(s.earliest(), Some(30));
        assert_eq!(s.take_due(35), ["case-c"]);
        // The earliest dropped wake-up (40) is where the full pass happens.
        assert_eq!(s.earliest(), Some(40));
        assert!(!s.take_full_pass(39));
        assert!(s.take_full_pass(40));
        assert!(!s.take_full_pass(41));
        assert_eq!(s.earliest(), None);
    }

    #[test]
    fn a_published_alert_is_recognised_once_by_id_and_instant() {
        let mut s = Scheduler::new(10);
        assert!(s.mark_published("case-a", "case-a/x/1", 5));
        assert!(!s.mark_published("case-a", "case-a/x/1", 5));
        assert!(!s.take_published("case-a", "case-a/x/1", 6));
        assert!(s.take_published("case-a", "case-a/x/1", 5));
        assert!(!s.take_published("case-a", "case-a/x/1", 5));
        assert!(s.mark_published("case-a", "case-a/x/1", 5));
        assert!(s.mark_published("case-a", "case-a/y/1", 7));
        s.retain_published("case-a", &[("case-a/y/1", 7)]);
        assert_eq!(s.published_len(), 1);
        s.retain_published("case-a", &[]);
        assert_eq!(s.published_len(), 0);
    }
}
