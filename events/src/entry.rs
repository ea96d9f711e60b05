//! Ledger entry ids: `<position>/<measure>[/<n>]`, the position of the event that caused the
//! entry, the measure it counts and, where one event causes several entries of one measure,
//! their number (2, 3, …; the first has none). The same log gives the same ids however it is
//! evaluated, so an appeal (`AppealUpheld.entry`) names its entry for good.

use std::fmt;

/// Every measure an entry can count, by its wire name.
pub const ENTRY_MEASURES: [&str; 28] = [
    "accepted",
    "concluded",
    "on_time",
    "early",
    "statutory_on_time",
    "rated",
    "satisfied",
    "bad_rated",
    "complaints",
    "warnings",
    "yellow",
    "red",
    "unmonitored",
    "ordered",
    "corrected_on_time",
    "correction_overdue",
    "bad_valid",
    "rectified_on_time",
    "callback_satisfied",
    "defaulted",
    "complaints_upheld",
    "complaints_late",
    "proc_projects",
    "proc_awards",
    "proc_contracts",
    "proc_contracts_on_time",
    "proc_yellow",
    "proc_red",
];

/// The measures an appeal may reverse: cards, and ratings (an appeal of any entry of a rating
/// removes the whole rating).
pub const APPEALABLE_MEASURES: [&str; 7] = [
    "yellow",
    "red",
    "rated",
    "satisfied",
    "bad_rated",
    "proc_yellow",
    "proc_red",
];

/// Why an entry id cannot be appealed; the text says what a valid one looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryIdError {
    /// Not of the form `<position>/<measure>[/<n>]`: copy the id `report explain` lists.
    #[error(
        "{0:?} is not a ledger entry id: use <position>/<measure>[/<n>] as `report explain` lists it, e.g. 1042/red"
    )]
    Malformed(String),
    /// A well-formed id of an entry that is not a card nor a rating: such entries cannot be
    /// appealed.
    #[error(
        "entry {id} counts `{measure}`: only cards (yellow, red, proc_yellow, proc_red) and ratings (rated, satisfied, bad_rated) can be appealed"
    )]
    NotAppealable {
        /// The id as given.
        id: String,
        /// The measure it counts.
        measure: &'static str,
    },
}

/// A parsed ledger entry id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId {
    /// The position of the event that caused the entry.
    pub position: u64,
    /// The measure's wire name (one of [`ENTRY_MEASURES`]).
    pub measure: &'static str,
    /// 1 for the first entry of the measure caused by the event, 2 for the next, …
    pub n: u16,
}

impl EntryId {
    /// Parses `<position>/<measure>[/<n>]`, refusing anything an appeal cannot target.
    pub fn parse(text: &str) -> Result<EntryId, EntryIdError> {
        let usage = || EntryIdError::Malformed(text.to_owned());
        let mut parts = text.split('/');
        let position = parts
            .next()
            .and_then(|p| p.parse::<u64>().ok())
            .filter(|p| *p >= 1)
            .ok_or_else(usage)?;
        let measure = parts.next().ok_or_else(usage)?;
        let measure = ENTRY_MEASURES
            .iter()
            .find(|m| **m == measure)
            .copied()
            .ok_or_else(usage)?;
        let n = match parts.next() {
            None => 1,
            Some(n) => n
                .parse::<u16>()
                .ok()
                .filter(|n| *n >= 2)
                .ok_or_else(usage)?,
        };
        if parts.next().is_some() {
            return Err(usage());
        }
        if !APPEALABLE_MEASURES.contains(&measure) {
            return Err(EntryIdError::NotAppealable {
                id: text.to_owned(),
                measure,
            });
        }
        Ok(EntryId {
            position,
            measure,
            n,
        })
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.position, self.measure)?;
        if self.n > 1 {
            write!(f, "/{}", self.n)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_round_trip_and_refuse_what_cannot_be_appealed() {
        for text in ["12/red", "12/yellow/2", "7/rated", "7/bad_rated"] {
            assert_eq!(EntryId::parse(text).unwrap().to_string(), text);
        }
        for bad in [
            "",
            "L12",
            "0/red",
            "12",
            "12/blue",
            "12/red/1",
            "12/red/x",
            "12/red/2/3",
        ] {
            assert!(EntryId::parse(bad).is_err(), "{bad}");
        }
        let e = EntryId::parse("12/on_time").unwrap_err();
        assert!(
            matches!(
                e,
                EntryIdError::NotAppealable {
                    measure: "on_time",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("only cards"), "{e}");
    }
}
