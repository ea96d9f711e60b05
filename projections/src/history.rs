//! Which cases were entered as history: those whose first event lay inside a declared
//! historical import (`HistoryImported`). Only their later events inside one count as history
//! (at their `occurred_at`, raising no `data.backdated`): a case entered live cannot be given a
//! history afterwards, so a back-dated conclusion declared as history still counts when it was
//! recorded. One bit per case, by its sequence number, so a case costs nothing measurable.

use serde::{Deserialize, Serialize};

/// A set of case sequence numbers, as bits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EnteredAsHistory {
    words: Vec<u64>,
}

impl EnteredAsHistory {
    /// Notes that case `seq` was entered as history.
    pub(crate) fn insert(&mut self, seq: u32) {
        let (word, bit) = (seq as usize / 64, seq % 64);
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        self.words[word] |= 1 << bit;
    }

    /// Whether case `seq` was entered as history.
    pub(crate) fn contains(&self, seq: u32) -> bool {
        self.words
            .get(seq as usize / 64)
            .is_some_and(|w| w & (1 << (seq % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_exactly_the_cases_inserted() {
        let mut set = EnteredAsHistory::default();
        for seq in [0, 63, 64, 1_000] {
            set.insert(seq);
        }
        for seq in 0..1_100 {
            assert_eq!(
                set.contains(seq),
                [0, 63, 64, 1_000].contains(&seq),
                "{seq}"
            );
        }
        assert!(!set.contains(u32::MAX));
    }
}
