//! The business date each step of a case's item was first completed on, kept beside the cases
//! for the insight's per-step figures. A fold appends one record per completion and looks
//! nothing up by name: a case's records are a chain from its last one (the head, indexed
//! by the case's sequence number), as the ledger chains a case's entries, so a step costs the
//! fold an array read and a push, and a case without steps costs nothing.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// No record: the end of a chain.
const NONE: u32 = u32::MAX;

/// One first completion of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct StepDate {
    /// The step's index in the item's steps.
    index: u16,
    /// The business date it was completed on.
    #[serde(with = "crate::shared::date")]
    on: NaiveDate,
    /// The case's record before this one (`NONE` for its first).
    prev: u32,
}

/// Every case's step dates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StepLog {
    records: Vec<StepDate>,
    /// The last record of each case, by its sequence number (`NONE` for none).
    heads: Vec<u32>,
}

impl StepLog {
    /// Records that step `index` of case `seq` was completed `on` (a repeat is kept too, and
    /// passed over when read: the fold never walks a chain).
    pub(crate) fn note(&mut self, seq: u32, index: u16, on: NaiveDate) {
        let Ok(at) = usize::try_from(seq) else {
            return;
        };
        let head = self.heads.get(at).copied().unwrap_or(NONE);
        let Ok(next) = u32::try_from(self.records.len()) else {
            return;
        };
        if next == NONE {
            return;
        }
        self.records.push(StepDate {
            index,
            on,
            prev: head,
        });
        if self.heads.len() <= at {
            self.heads.resize(at + 1, NONE);
        }
        self.heads[at] = next;
    }

    /// The case's steps: (index in the item's steps, date of its first completion), in order
    /// of completion.
    pub(crate) fn of(&self, seq: u32) -> Vec<(u16, NaiveDate)> {
        let head = usize::try_from(seq)
            .ok()
            .and_then(|at| self.heads.get(at))
            .copied()
            .unwrap_or(NONE);
        let mut all: Vec<(u16, NaiveDate)> = self.chain(head).map(|r| (r.index, r.on)).collect();
        all.reverse();
        let mut out: Vec<(u16, NaiveDate)> = Vec::with_capacity(all.len());
        for (index, on) in all {
            if !out.iter().any(|(i, _)| *i == index) {
                out.push((index, on));
            }
        }
        out
    }

    /// The records of a chain, last first.
    fn chain(&self, from: u32) -> impl Iterator<Item = &StepDate> {
        std::iter::successors(self.records.get(from as usize), |r| {
            self.records.get(r.prev as usize)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    #[test]
    fn each_case_keeps_its_first_completions_in_order() {
        let mut log = StepLog::default();
        log.note(2, 0, day(2));
        log.note(0, 1, day(3));
        log.note(2, 1, day(4));
        log.note(2, 0, day(5)); // again: the first completion stands
        log.note(0, 0, day(6));
        assert_eq!(log.of(2), vec![(0, day(2)), (1, day(4))]);
        assert_eq!(log.of(0), vec![(1, day(3)), (0, day(6))]);
        assert_eq!(log.of(1), vec![]);
        assert_eq!(log.of(7), vec![]);
    }
}
