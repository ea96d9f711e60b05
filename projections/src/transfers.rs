//! Where each transferred case was accountable over time, kept beside the cases (a case never
//! transferred costs nothing): a report's `overdue_open` for a past month counts a case for the
//! org that held it at the month's end, not for the one holding it now.
//!
//! A transfer counts from the instant it occurred, or, when it was entered after the fact
//! (outside a declared historical import), from the instant it was recorded, as a back-dated
//! conclusion or withdrawal does: a transfer dated back cannot move a past month's overdue
//! case to another org.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::Millis;

/// One transfer: the instant it counts from and the org it went to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Transfer {
    from: Millis,
    #[serde(with = "crate::shared::string")]
    to: Arc<str>,
}

/// Every transferred case's transfers, by the case's sequence number, in fold order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TransferLog {
    by_case: BTreeMap<u32, Vec<Transfer>>,
}

impl TransferLog {
    /// Notes that case `seq` went to `to`, counting from `from`.
    pub(crate) fn note(&mut self, seq: u32, from: Millis, to: Arc<str>) {
        self.by_case
            .entry(seq)
            .or_default()
            .push(Transfer { from, to });
    }

    /// The org case `seq` was transferred to by `at`, if a transfer counts by then: the last
    /// folded of those counting by then, so that after every transfer counts it is the case's
    /// own [`crate::CaseState::org`].
    pub(crate) fn held_by(&self, seq: u32, at: Millis) -> Option<&Arc<str>> {
        self.by_case
            .get(&seq)?
            .iter()
            .rfind(|t| t.from <= at)
            .map(|t| &t.to)
    }

    /// Whether case `seq` was ever transferred.
    pub(crate) fn has(&self, seq: u32) -> bool {
        self.by_case.contains_key(&seq)
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
