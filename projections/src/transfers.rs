//! Where each transferred case was accountable over time, kept beside the cases (a case never
//! transferred costs nothing): a report's `overdue_open` for a past month counts a case for the
//! org that held it at the month's end, not for the one holding it now.
//!
//! A transfer counts from the instant it occurred, or, when it was entered after the fact
//! (outside a declared historical import), from the instant it was recorded, as a back-dated
//! conclusion or withdrawal does: a transfer dated back cannot move a past month's overdue
//! case to another org.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::Millis;

/// No record: the end of a chain.
const NONE: u32 = u32::MAX;

/// One transfer: the instant it counts from, the org it went to, and the case's transfer
/// before it (`NONE` for its first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Transfer {
    from: Millis,
    #[serde(with = "crate::shared::string")]
    to: Arc<str>,
    prev: u32,
}

/// Every transferred case's transfers, in fold order: one list of records, each case's a
/// chain from its last (the head, indexed by the case's sequence number), as the step log
/// keeps steps, so a transfer costs a push and a case never transferred nothing but its slot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TransferLog {
    records: Vec<Transfer>,
    heads: Vec<u32>,
}

impl TransferLog {
    /// Notes that case `seq` went to `to`, counting from `from`.
    pub(crate) fn note(&mut self, seq: u32, from: Millis, to: Arc<str>) {
        let (Ok(at), Ok(next)) = (usize::try_from(seq), u32::try_from(self.records.len())) else {
            return;
        };
        if next == NONE {
            return;
        }
        if self.heads.len() <= at {
            self.heads.resize(at + 1, NONE);
        }
        let prev = self.heads[at];
        self.records.push(Transfer { from, to, prev });
        self.heads[at] = next;
    }

    /// The org case `seq` was transferred to by `at`, if a transfer counts by then: the last
    /// folded of those counting by then, so that after every transfer counts it is the case's
    /// own [`crate::CaseState::org`].
    pub(crate) fn held_by(&self, seq: u32, at: Millis) -> Option<&Arc<str>> {
        let head = self.head(seq)?;
        std::iter::successors(self.records.get(head as usize), |r| {
            self.records.get(r.prev as usize)
        })
        .find(|t| t.from <= at)
        .map(|t| &t.to)
    }

    /// Whether case `seq` was ever transferred.
    pub(crate) fn has(&self, seq: u32) -> bool {
        self.head(seq).is_some()
    }

    fn head(&self, seq: u32) -> Option<u32> {
        usize::try_from(seq)
            .ok()
            .and_then(|at| self.heads.get(at))
            .copied()
            .filter(|h| *h != NONE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_transfer_folded_of_those_counting_by_an_instant_holds_the_case() {
        let mut log = TransferLog::default();
        log.note(3, 100, Arc::from("a/town"));
        log.note(3, 300, Arc::from("a/dept"));
        // Folded last, counting before the one folded before it.
        log.note(3, 200, Arc::from("a/other"));
        assert_eq!(log.held_by(3, 99), None);
        assert_eq!(log.held_by(3, 100).map(|o| &**o), Some("a/town"));
        assert_eq!(log.held_by(3, 250).map(|o| &**o), Some("a/other"));
        assert_eq!(log.held_by(3, 300).map(|o| &**o), Some("a/other"));
        assert_eq!(log.held_by(4, 300), None);
        assert!(log.has(3) && !log.has(4));
    }
}
