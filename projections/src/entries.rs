//! The ledger's entries as it holds them: packed rows of numbers, the strings each kept once.
//!
//! A long log's ledger holds millions of entries and they were most of the engine's memory:
//! an [`Entry`] is 144 bytes (three shared strings, a rule text, ten numbers). A [`Row`] is 56:
//! the org and the item by their number in one table of names, the rule by its number in a
//! table of rule codes, the case by its sequence number (each case's stream kept once, by that
//! number), and the entry's index by its place in the list. Entries are made whole again when
//! they are read ([`Entries::entry`]); what the fold itself reads (a case's chain, an appeal's
//! target) it reads from the rows.
//!
//! In a snapshot the list is written as the entries themselves, so the format is that of a
//! list of [`Entry`] and a snapshot reads the same whichever way the ledger holds them.

use std::borrow::Cow;
use std::sync::Arc;

use hashbrown::HashMap;
use jiancha_events::Channel;
use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ledger::{Entry, EntryKind, Measure, Month};

/// One entry, packed. Its index is its place in [`Entries`] (1 for the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Row {
    /// The position of the event that caused it.
    pub(crate) caused_by: u64,
    /// Score points.
    pub(crate) points: i64,
    /// The index of the entry it reverses, 0 for none.
    adjusts: u64,
    /// The previous entry of the same case, 0 for none.
    pub(crate) prev_of_case: u64,
    /// The month it counts in.
    pub(crate) month: Month,
    /// The case's sequence number.
    pub(crate) seq: u32,
    /// The org, by its number among the names.
    org: u32,
    /// The item, by its number among the names.
    item: u32,
    /// 1 for the first entry of its measure caused by its event, 2 for the next, …
    pub(crate) n: u16,
    /// The rule, by its number among the rules.
    rule: u16,
    /// The channel of the case.
    pub(crate) channel: Channel,
    /// What it counts.
    pub(crate) measure: Measure,
    /// How it came about.
    pub(crate) kind: EntryKind,
    /// +1, or -1 for a reversal.
    amount: i8,
}

impl Row {
    /// +1, or -1 for a reversal.
    pub(crate) fn amount(&self) -> i64 {
        i64::from(self.amount)
    }

    /// The index of the entry it reverses.
    pub(crate) fn adjusts(&self) -> Option<u64> {
        (self.adjusts != 0).then_some(self.adjusts)
    }
}

/// Why an entry cannot be held as a row (read from a snapshot: the fold makes none such).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PackError {
    /// The amount is neither +1 nor -1.
    #[error("entry {index}: amount {amount} is not +1 or -1")]
    Amount {
        /// The entry's index.
        index: u64,
        /// Its amount.
        amount: i64,
    },
    /// The entry's index is not its place in the list.
    #[error("entry {index} stands at place {place} of the list")]
    Place {
        /// The entry's index.
        index: u64,
        /// Its place.
        place: u64,
    },
    /// More names or rules than a row can number.
    #[error("more than {0} distinct names or rules in the ledger")]
    Table(usize),
}

/// The entries of a ledger, in ledger order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Entries {
    rows: Vec<Row>,
    /// Org paths and item codes, each once, numbered in the order first met.
    names: Vec<Arc<str>>,
    numbers: HashMap<Arc<str>, u32>,
    /// Rule codes, each once, numbered in the order first met.
    rules: Vec<Cow<'static, str>>,
    rule_numbers: HashMap<Cow<'static, str>, u16>,
    /// Each case's stream by its sequence number.
    cases: Vec<Option<Arc<str>>>,
    /// Entries whose case is not the one their sequence number names, by index. The fold
    /// numbers each case once, so this stays empty; it keeps any other list exact.
    other_case: std::collections::BTreeMap<u64, Arc<str>>,
}

impl PartialEq for Entries {
    /// The same entries, whatever the numbering of their strings.
    fn eq(&self, other: &Self) -> bool {
        if self.len() != other.len() {
            return false;
        }
        // Lists built from the same entries in the same order number them alike.
        let alike = self.names == other.names
            && self.rules == other.rules
            && self.cases == other.cases
            && self.other_case == other.other_case;
        if alike {
            self.rows == other.rows
        } else {
            self.iter().eq(other.iter())
        }
    }
}

impl Eq for Entries {}

impl Entries {
    /// How many entries.
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// The row of the entry with `index` (1 for the first).
    pub(crate) fn row(&self, index: u64) -> Option<&Row> {
        self.rows.get(usize::try_from(index).ok()?.checked_sub(1)?)
    }

    /// Every row, in ledger order (the row at place `i` has index `i + 1`).
    pub(crate) fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The item of a row.
    pub(crate) fn item(&self, row: &Row) -> &Arc<str> {
        self.name(row.item)
    }

    /// The org of a row.
    pub(crate) fn org(&self, row: &Row) -> &Arc<str> {
        self.name(row.org)
    }

    /// The rule of a row.
    pub(crate) fn rule(&self, row: &Row) -> &str {
        self.rules.get(usize::from(row.rule)).map_or("", |r| r)
    }

    /// The case of the entry with `index`, whose row is `row`.
    pub(crate) fn case(&self, index: u64, row: &Row) -> &Arc<str> {
        if let Some(case) = self.other_case.get(&index) {
            return case;
        }
        match self.cases.get(row.seq as usize) {
            Some(Some(case)) => case,
            _ => empty(),
        }
    }

    /// The entries of `case` that are not on the chain of its number `seq` (none, for the
    /// fold's entries; see `other_case`).
    pub(crate) fn off_their_number(&self, case: &str, seq: u32) -> Vec<Entry> {
        self.other_case
            .iter()
            .filter(|(_, c)| &***c == case)
            .filter_map(|(&i, _)| self.entry(i))
            .filter(|e| e.seq != seq)
            .collect()
    }

    fn name(&self, n: u32) -> &Arc<str> {
        self.names.get(n as usize).unwrap_or_else(|| empty())
    }

    /// The entry with `index`, whole.
    pub(crate) fn entry(&self, index: u64) -> Option<Entry> {
        self.row(index).map(|row| self.whole(index, row))
    }

    fn whole(&self, index: u64, row: &Row) -> Entry {
        Entry {
            index,
            n: row.n,
            month: row.month,
            org: self.org(row).clone(),
            item: self.item(row).clone(),
            channel: row.channel,
            case: self.case(index, row).clone(),
            measure: row.measure,
            amount: row.amount(),
            points: row.points,
            rule: self
                .rules
                .get(usize::from(row.rule))
                .cloned()
                .unwrap_or(Cow::Borrowed("")),
            kind: row.kind,
            caused_by: row.caused_by,
            adjusts: row.adjusts(),
            prev_of_case: row.prev_of_case,
            seq: row.seq,
        }
    }

    /// Every entry, whole, in ledger order.
    pub(crate) fn iter(
        &self,
    ) -> impl DoubleEndedIterator<Item = Entry> + ExactSizeIterator + Clone + '_ {
        self.rows
            .iter()
            .enumerate()
            .map(|(i, row)| self.whole(i as u64 + 1, row))
    }

    /// Appends `entry`, whose index must be the next one.
    pub(crate) fn push(&mut self, entry: &Entry) -> Result<(), PackError> {
        let place = self.rows.len() as u64 + 1;
        if entry.index != place {
            return Err(PackError::Place {
                index: entry.index,
                place,
            });
        }
        let amount = i8::try_from(entry.amount)
            .ok()
            .filter(|a| a.abs() == 1)
            .ok_or(PackError::Amount {
                index: entry.index,
                amount: entry.amount,
            })?;
        let last = self.rows.last().map(|r| (r.org, r.item, r.rule));
        let org = self.number(&entry.org, last.map(|l| l.0))?;
        let item = self.number(&entry.item, last.map(|l| l.1))?;
        let rule = self.rule_number(&entry.rule, last.map(|l| l.2), || entry.rule.clone())?;
        self.keep_case(entry);
        self.rows.push(Row {
            caused_by: entry.caused_by,
            points: entry.points,
            adjusts: entry.adjusts.unwrap_or(0),
            prev_of_case: entry.prev_of_case,
            month: entry.month,
            seq: entry.seq,
            org,
            item,
            n: entry.n,
            rule,
            channel: entry.channel,
            measure: entry.measure,
            kind: entry.kind,
            amount,
        });
        Ok(())
    }

    /// Makes room for `more` entries (the list grows by the caller's measure).
    pub(crate) fn reserve(&mut self, more: usize) {
        self.rows.reserve(more);
    }

    /// The room the list has.
    pub(crate) fn capacity(&self) -> usize {
        self.rows.capacity()
    }

    /// The number of an org or item; `hint` is the previous row's (most entries follow one of
    /// the same case, with the same org and item).
    fn number(&mut self, name: &Arc<str>, hint: Option<u32>) -> Result<u32, PackError> {
        if let Some(n) = hint.filter(|&n| self.names.get(n as usize).is_some_and(|h| h == name)) {
            return Ok(n);
        }
        if let Some(&n) = self.numbers.get(&**name) {
            return Ok(n);
        }
        let n = u32::try_from(self.names.len()).map_err(|_| PackError::Table(u32::MAX as usize))?;
        self.names.push(name.clone());
        self.numbers.insert(name.clone(), n);
        Ok(n)
    }

    /// The number of a rule code (kept as given: the fold's codes stay `'static`).
    fn rule_number(
        &mut self,
        rule: &str,
        hint: Option<u16>,
        keep: impl FnOnce() -> Cow<'static, str>,
    ) -> Result<u16, PackError> {
        if let Some(n) = hint.filter(|&n| self.rules.get(usize::from(n)).is_some_and(|h| h == rule))
        {
            return Ok(n);
        }
        if let Some(&n) = self.rule_numbers.get(rule) {
            return Ok(n);
        }
        let n =
            u16::try_from(self.rules.len()).map_err(|_| PackError::Table(usize::from(u16::MAX)))?;
        let kept = keep();
        self.rules.push(kept.clone());
        self.rule_numbers.insert(kept, n);
        Ok(n)
    }

    fn keep_case(&mut self, entry: &Entry) {
        let seq = entry.seq as usize;
        if self.cases.len() <= seq {
            self.cases.resize(seq + 1, None);
        }
        match &self.cases[seq] {
            Some(case) if *case == entry.case => {}
            Some(_) => {
                self.other_case.insert(entry.index, entry.case.clone());
            }
            None => self.cases[seq] = Some(entry.case.clone()),
        }
    }
}

/// The text of a name or rule a row does not hold (never, for rows this module made).
fn empty() -> &'static Arc<str> {
    static EMPTY: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| Arc::from(""))
}

impl Serialize for Entries {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct List;

        impl<'de> Visitor<'de> for List {
            type Value = Entries;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of ledger entries")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Entries, A::Error> {
                let mut out = Entries::default();
                if let Some(n) = seq.size_hint() {
                    // Refused (no such memory): the pushes below grow it instead.
                    let _ = out.rows.try_reserve_exact(n.min(RESERVE_MAX_ROWS));
                }
                while let Some(entry) = seq.next_element::<Entry>()? {
                    out.push(&entry).map_err(serde::de::Error::custom)?;
                }
                Ok(out)
            }
        }

        d.deserialize_seq(List)
    }
}

/// The most rows reserved up front from a snapshot's count (8 GiB of rows).
const RESERVE_MAX_ROWS: usize = (8 << 30) / std::mem::size_of::<Row>();

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: u64, case: &str, seq: u32, org: &str) -> Entry {
        Entry {
            index,
            n: 1,
            month: 202603,
            org: Arc::from(org),
            item: Arc::from("item-1"),
            channel: Channel::Window,
            case: Arc::from(case),
            measure: Measure::Accepted,
            amount: 1,
            points: -5,
            rule: Cow::Borrowed("ledger.accepted"),
            kind: EntryKind::Regular,
            caused_by: index * 10,
            adjusts: (index > 2).then_some(1),
            prev_of_case: index - 1,
            seq,
        }
    }

    #[test]
    fn a_row_is_much_smaller_than_an_entry() {
        assert!(std::mem::size_of::<Row>() <= 56);
        assert!(std::mem::size_of::<Entry>() >= 2 * std::mem::size_of::<Row>());
    }

    #[test]
    fn entries_read_back_whole_and_a_case_off_its_number_is_kept() {
        let mut e = Entries::default();
        let made = [
            entry(1, "case-1", 0, "d/a"),
            entry(2, "case-2", 1, "d/b"),
            entry(3, "case-1", 0, "d/b"),
            // Not the case its number names: kept as it is.
            entry(4, "case-9", 1, "d/a"),
        ];
        for m in &made {
            assert_eq!(e.push(m), Ok(()));
        }
        assert_eq!(e.iter().collect::<Vec<_>>(), made.to_vec());
        assert_eq!(e.iter().len(), 4);
        assert_eq!(e.iter().next_back(), Some(made[3].clone()));
        assert_eq!(e.entry(5), None);
        assert_eq!(e.entry(0), None);
        assert_eq!(e.names.len(), 3);
    }

    #[test]
    fn what_a_row_cannot_hold_is_refused() {
        let mut e = Entries::default();
        let mut bad = entry(1, "case-1", 0, "d/a");
        bad.amount = 2;
        assert!(matches!(
            e.push(&bad),
            Err(PackError::Amount { amount: 2, .. })
        ));
        let out_of_place = entry(3, "case-1", 0, "d/a");
        assert!(matches!(
            e.push(&out_of_place),
            Err(PackError::Place { index: 3, place: 1 })
        ));
        assert_eq!(e.len(), 0);
    }

    #[test]
    fn the_list_is_written_as_its_entries() {
        let made = vec![entry(1, "case-1", 0, "d/a"), entry(2, "case-2", 1, "d/b")];
        let mut e = Entries::default();
        for m in &made {
            assert_eq!(e.push(m), Ok(()));
        }
        let as_rows = serde_json::to_string(&e).ok();
        assert_eq!(as_rows, serde_json::to_string(&made).ok());
        let back: Option<Entries> = as_rows.and_then(|t| serde_json::from_str(&t).ok());
        assert_eq!(back, Some(e));
    }
}
