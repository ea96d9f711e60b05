//! A snapshot's tables: every string of the fields below and every item definition written
//! once, and each field as its index in the table.
//!
//! A decade's district repeats a few hundred org paths, item codes and rule codes, and each
//! case's stream name, across a million cases and several million ledger entries; every case
//! also carried its item's whole definition. Written in place, they were most of a snapshot's
//! bytes, and read back they were one allocation each, shared again by a pass after decoding.
//! Through the tables a string is written and allocated once, and a field read from a snapshot
//! shares it: decoding interns.
//!
//! The tables exist only on a thread inside [`write`] (a snapshot is serialised on one thread)
//! or [`reading`] (each thread decoding a part of it holds the decoded tables); outside them the
//! same fields serialise as they always did (a string, an item definition as JSON), so any
//! other encoding of these types is unchanged. An index a table does not hold is a decoding
//! error, never a panic.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;

use hashbrown::HashMap;
use jiancha_events::ItemDefined;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

thread_local! {
    static TABLES: RefCell<Option<Tables>> = const { RefCell::new(None) };
}

enum Tables {
    Writing(Writing),
    Reading(Reading),
}

/// The tables as they fill while a snapshot is written.
#[derive(Default)]
struct Writing {
    strings: HashMap<Arc<str>, u32>,
    string_order: Vec<Arc<str>>,
    /// By the definition's allocation: the fold shares one per catalog version.
    defs: HashMap<*const ItemDefined, u32>,
    def_order: Vec<Arc<ItemDefined>>,
}

/// The tables a snapshot is read with, on each thread that decodes a part of it.
struct Reading {
    tables: Decoded,
    /// The strings read as rule codes so far, by index (a code is matched once, not per entry).
    rules: Vec<Option<Cow<'static, str>>>,
}

/// A snapshot's tables decoded, to read its parts with ([`reading`]), on as many threads.
#[derive(Clone)]
pub(crate) struct Decoded {
    strings: Arc<[Arc<str>]>,
    defs: Arc<[Arc<ItemDefined>]>,
}

/// The tables as a snapshot stores them: the strings, and the definitions as JSON (as the
/// catalog always wrote them).
#[derive(Serialize, Deserialize)]
pub(crate) struct Stored<'a> {
    #[serde(borrow)]
    strings: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    defs: Vec<Cow<'a, str>>,
}

/// Clears the thread's tables when dropped, on every path out (an error or a panic included).
struct Cleared;

impl Drop for Cleared {
    fn drop(&mut self) {
        TABLES.with(|t| t.borrow_mut().take());
    }
}

/// Why the tables cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TablesError {
    /// A snapshot is already being written or read on this thread.
    #[error("a snapshot is already being written or read on this thread")]
    Busy,
    /// A stored definition is not an item definition.
    #[error("item definition {index} of the snapshot's table does not decode: {reason}")]
    Definition {
        /// Its index.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The tables do not decode, or could not be written.
    #[error("the snapshot's tables: {0}")]
    Tables(String),
}

fn begin(tables: Tables) -> Result<Cleared, TablesError> {
    TABLES.with(|t| {
        let mut t = t.borrow_mut();
        if t.is_some() {
            return Err(TablesError::Busy);
        }
        *t = Some(tables);
        Ok(Cleared)
    })
}

/// Runs `f` (which serialises a snapshot's body) with empty tables filling as it goes; returns
/// its result and the tables it filled, to be stored beside the body.
pub(crate) fn write<T>(f: impl FnOnce() -> T) -> Result<(T, Vec<u8>), TablesError> {
    let cleared = begin(Tables::Writing(Writing::default()))?;
    let out = f();
    let Some(Tables::Writing(w)) = TABLES.with(|t| t.borrow_mut().take()) else {
        return Err(TablesError::Busy);
    };
    drop(cleared);
    let mut defs = Vec::with_capacity(w.def_order.len());
    for (index, d) in w.def_order.iter().enumerate() {
        let text = serde_json::to_string(&**d).map_err(|e| TablesError::Definition {
            index,
            reason: e.to_string(),
        })?;
        defs.push(Cow::Owned(text));
    }
    let stored = Stored {
        strings: w.string_order.iter().map(|s| Cow::Borrowed(&**s)).collect(),
        defs,
    };
    let bytes = postcard::to_allocvec(&stored).map_err(|e| TablesError::Tables(e.to_string()))?;
    Ok((out, bytes))
}

/// Decodes a snapshot's stored tables.
pub(crate) fn decode(tables: &[u8]) -> Result<Decoded, TablesError> {
    let stored: Stored<'_> = postcard::from_bytes(tables)
        .map_err(|e| TablesError::Tables(format!("they do not decode: {e}")))?;
    let strings = stored.strings.iter().map(|s| Arc::from(&**s)).collect();
    let mut defs = Vec::with_capacity(stored.defs.len());
    for (index, text) in stored.defs.iter().enumerate() {
        let d = serde_json::from_str::<ItemDefined>(text).map_err(|e| TablesError::Definition {
            index,
            reason: e.to_string(),
        })?;
        defs.push(Arc::new(d));
    }
    Ok(Decoded {
        strings,
        defs: defs.into(),
    })
}

/// Runs `f` (which decodes a part of a snapshot) with the decoded tables on this thread.
pub(crate) fn reading<T>(tables: &Decoded, f: impl FnOnce() -> T) -> Result<T, TablesError> {
    let cleared = begin(Tables::Reading(Reading {
        tables: tables.clone(),
        rules: Vec::new(),
    }))?;
    let out = f();
    drop(cleared);
    Ok(out)
}

/// What the thread's tables say of a value being written: its index, if tables are filling.
fn index_of_string(s: &str) -> Option<Result<u32, Full>> {
    TABLES.with(|t| match &mut *t.borrow_mut() {
        Some(Tables::Writing(w)) => Some(match w.strings.get(s) {
            Some(i) => Ok(*i),
            None => u32::try_from(w.string_order.len())
                .map_err(|_| Full)
                .inspect(|i| {
                    let s: Arc<str> = Arc::from(s);
                    w.strings.insert(s.clone(), *i);
                    w.string_order.push(s);
                }),
        }),
        _ => None,
    })
}

/// A table that holds 2^32 entries already: the snapshot is refused, not written wrong.
#[derive(Debug)]
struct Full;

impl std::fmt::Display for Full {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a snapshot table holds 2^32 entries at most")
    }
}

fn index_of_def(d: &Arc<ItemDefined>) -> Option<Result<u32, Full>> {
    TABLES.with(|t| match &mut *t.borrow_mut() {
        Some(Tables::Writing(w)) => Some(match w.defs.get(&Arc::as_ptr(d)) {
            Some(i) => Ok(*i),
            None => u32::try_from(w.def_order.len())
                .map_err(|_| Full)
                .inspect(|i| {
                    w.defs.insert(Arc::as_ptr(d), *i);
                    w.def_order.push(d.clone());
                }),
        }),
        _ => None,
    })
}

/// Whether a snapshot is being read with tables on this thread.
fn is_reading() -> bool {
    TABLES.with(|t| matches!(&*t.borrow(), Some(Tables::Reading(_))))
}

fn string_at<E: serde::de::Error>(i: u32) -> Result<Arc<str>, E> {
    TABLES
        .with(|t| match &*t.borrow() {
            Some(Tables::Reading(r)) => r.tables.strings.get(i as usize).cloned(),
            _ => None,
        })
        .ok_or_else(|| E::custom(format!("string {i} is not in the snapshot's table")))
}

fn rule_at<E: serde::de::Error>(i: u32) -> Result<Cow<'static, str>, E> {
    TABLES
        .with(|t| match &mut *t.borrow_mut() {
            Some(Tables::Reading(r)) => {
                let text = r.tables.strings.get(i as usize)?;
                let at = i as usize;
                if r.rules.len() <= at {
                    r.rules.resize(at + 1, None);
                }
                Some(
                    r.rules[at]
                        .get_or_insert_with(|| crate::ledger::static_rule(text))
                        .clone(),
                )
            }
            _ => None,
        })
        .ok_or_else(|| E::custom(format!("string {i} is not in the snapshot's table")))
}

fn def_at<E: serde::de::Error>(i: u32) -> Result<Arc<ItemDefined>, E> {
    TABLES
        .with(|t| match &*t.borrow() {
            Some(Tables::Reading(r)) => r.tables.defs.get(i as usize).cloned(),
            _ => None,
        })
        .ok_or_else(|| {
            E::custom(format!(
                "item definition {i} is not in the snapshot's table"
            ))
        })
}

/// An `Arc<str>` field through the string table.
pub(crate) mod string {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
        match index_of_string(v) {
            Some(i) => s.serialize_u32(i.map_err(serde::ser::Error::custom)?),
            None => s.serialize_str(v),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
        if is_reading() {
            string_at(u32::deserialize(d)?)
        } else {
            Arc::<str>::deserialize(d)
        }
    }
}

/// An `Option<Arc<str>>` field through the string table.
pub(crate) mod option_string {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<Arc<str>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(&Shared(v)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Arc<str>>, D::Error> {
        Ok(Option::<Owned>::deserialize(d)?.map(|o| o.0))
    }
}

/// A rule code through the string table, read back as the code's `'static` text when it is
/// one (every code the fold writes is), so that a ledger entry read from a snapshot allocates
/// nothing for it.
pub(crate) mod rule {
    use super::*;

    pub fn serialize<S: Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
        match index_of_string(v) {
            Some(i) => s.serialize_u32(i.map_err(serde::ser::Error::custom)?),
            None => s.serialize_str(v),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Cow<'static, str>, D::Error> {
        if is_reading() {
            rule_at(u32::deserialize(d)?)
        } else {
            Ok(crate::ledger::static_rule(&String::deserialize(d)?))
        }
    }
}

/// An item definition through the definition table (as JSON outside it, as before).
pub(crate) mod def {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Arc<ItemDefined>, s: S) -> Result<S::Ok, S::Error> {
        match index_of_def(v) {
            Some(i) => s.serialize_u32(i.map_err(serde::ser::Error::custom)?),
            None => crate::catalog::item_json::serialize(v, s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<ItemDefined>, D::Error> {
        if is_reading() {
            def_at(u32::deserialize(d)?)
        } else {
            crate::catalog::item_json::deserialize(d)
        }
    }
}

/// An optional item definition through the definition table.
pub(crate) mod option_def {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<Arc<ItemDefined>>, s: S) -> Result<S::Ok, S::Error> {
        if in_tables() {
            match v {
                Some(v) => s.serialize_some(&SharedDef(v)),
                None => s.serialize_none(),
            }
        } else {
            crate::catalog::item_json::option::serialize(v, s)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Arc<ItemDefined>>, D::Error> {
        if is_reading() {
            Ok(Option::<u32>::deserialize(d)?.map(def_at).transpose()?)
        } else {
            crate::catalog::item_json::option::deserialize(d)
        }
    }
}

fn in_tables() -> bool {
    TABLES.with(|t| t.borrow().is_some())
}

/// A business date: in a snapshot, its day number (from the common era) rather than the
/// ISO text, which chrono parses field by field; elsewhere as chrono writes it.
pub(crate) struct Day(pub(crate) chrono::NaiveDate);

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use chrono::Datelike;
        if in_tables() {
            s.serialize_i32(self.0.num_days_from_ce())
        } else {
            self.0.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if is_reading() {
            let n = i32::deserialize(d)?;
            chrono::NaiveDate::from_num_days_from_ce_opt(n)
                .map(Day)
                .ok_or_else(|| serde::de::Error::custom(format!("day {n} is not a date")))
        } else {
            chrono::NaiveDate::deserialize(d).map(Day)
        }
    }
}

/// A `NaiveDate` field as a [`Day`].
pub(crate) mod date {
    use super::*;

    pub fn serialize<S: Serializer>(v: &chrono::NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        Day(*v).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<chrono::NaiveDate, D::Error> {
        Ok(Day::deserialize(d)?.0)
    }
}

/// An `Option<NaiveDate>` field as an optional [`Day`].
pub(crate) mod option_date {
    use super::*;

    pub fn serialize<S: Serializer>(
        v: &Option<chrono::NaiveDate>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        v.map(Day).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<chrono::NaiveDate>, D::Error> {
        Ok(Option::<Day>::deserialize(d)?.map(|d| d.0))
    }
}

/// A case's conclusion (instant, business date, position) with its date as a [`Day`].
pub(crate) mod concluded {
    use super::*;

    type Concluded = (crate::Millis, chrono::NaiveDate, u64);

    pub fn serialize<S: Serializer>(v: &Option<Concluded>, s: S) -> Result<S::Ok, S::Error> {
        v.map(|(at, on, position)| (at, Day(on), position))
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Concluded>, D::Error> {
        Ok(Option::<(crate::Millis, Day, u64)>::deserialize(d)?
            .map(|(at, on, position)| (at, on.0, position)))
    }
}

/// A string written through the table.
pub(crate) struct Shared<'a>(pub(crate) &'a Arc<str>);

impl Serialize for Shared<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        string::serialize(self.0, s)
    }
}

/// A string read through the table.
pub(crate) struct Owned(pub(crate) Arc<str>);

impl<'de> Deserialize<'de> for Owned {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string::deserialize(d).map(Owned)
    }
}

struct SharedDef<'a>(&'a Arc<ItemDefined>);

impl Serialize for SharedDef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        def::serialize(self.0, s)
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::sync::Arc;

    use hashbrown::HashMap;

    use crate::tests::{scenario_events, scenarios};
    use crate::Projections;

    /// Every scenario folded with the ledger, snapshotted and restored.
    fn restored() -> Vec<(Projections, Projections)> {
        scenarios()
            .iter()
            .map(|path| {
                let text = std::fs::read_to_string(path).unwrap();
                let (events, _) = scenario_events(&text);
                let mut p = Projections::default().with_ledger(crate::Scoring::default());
                for e in &events {
                    p.apply(e);
                }
                let bytes = p.snapshot(p.head()).unwrap();
                let (r, _) = Projections::restore(&bytes).unwrap();
                (p, r)
            })
            .collect()
    }

    /// Asserts that `a` is the allocation the first string of its text was read into.
    fn same<'a>(texts: &mut HashMap<&'a str, &'a Arc<str>>, what: &str, a: &'a Arc<str>) {
        let first = *texts.entry(&**a).or_insert(a);
        assert!(Arc::ptr_eq(first, a), "{what} {a:?} read twice");
    }

    #[test]
    fn a_restored_snapshot_holds_each_string_once() {
        let mut entries = 0;
        for (folded, r) in restored() {
            assert_eq!(folded.ledger(), r.ledger());
            let all: Vec<_> = r.ledger().unwrap().entries().collect();
            let keys: HashMap<&str, &Arc<str>> = r.cases.keys().map(|k| (&**k, k)).collect();
            let mut texts: HashMap<&str, &Arc<str>> = HashMap::new();
            for case in r.cases.values() {
                same(&mut texts, "org", &case.submitted_org);
                same(&mut texts, "item", &case.item);
                for alert in &case.alerts {
                    same(&mut texts, "alert org", &alert.org);
                }
            }
            for e in &all {
                entries += 1;
                same(&mut texts, "entry org", &e.org);
                same(&mut texts, "entry item", &e.item);
                if let Some(key) = keys.get(&*e.case) {
                    assert!(Arc::ptr_eq(key, &e.case), "{} read twice", e.case);
                }
                // A rule code is the fold's own text again, not a copy per entry.
                assert!(matches!(e.rule, Cow::Borrowed(_)), "{}", e.rule);
            }
            for case in r.cases.values() {
                if let Some(def) = &case.def {
                    let history = r.catalog.history(&def.code);
                    assert!(history.iter().any(|d| Arc::ptr_eq(&d.item, def)));
                }
            }
        }
        assert!(entries > 100, "{entries} ledger entries compared");
    }

    /// The fold of the scenario with the most cases.
    fn largest() -> Projections {
        restored()
            .into_iter()
            .map(|(folded, _)| folded)
            .max_by_key(Projections::case_count)
            .unwrap()
    }

    #[test]
    fn an_index_the_tables_do_not_hold_is_an_error() {
        let folded = largest();
        let bytes = folded.snapshot(folded.head()).unwrap();
        let tables = crate::snapshot::sections(&bytes).unwrap().tables;
        // The same sections with empty tables: their first string index names nothing.
        let mut damaged = bytes[..bytes.len() - tables.len()].to_vec();
        damaged.extend(
            postcard::to_allocvec(&super::Stored {
                strings: Vec::new(),
                defs: Vec::new(),
            })
            .unwrap(),
        );
        assert!(matches!(
            Projections::restore(&damaged),
            Err(crate::snapshot::SnapshotError::Body(_))
        ));
        // Tables cut short do not decode.
        let cut = &bytes[..bytes.len() - 1];
        assert!(Projections::restore(cut).is_err());
        // And a snapshot read while another is being read on the thread is refused, not mixed.
        let tables = super::decode(tables).unwrap();
        let inner = super::reading(&tables, || Projections::restore(&bytes).map(|_| ()));
        assert!(matches!(inner, Ok(Err(_))), "{inner:?}");
    }

    #[test]
    fn outside_a_snapshot_the_fields_encode_as_before() {
        let folded = largest();
        let entry = folded.ledger().unwrap().entries().next().unwrap();
        let json = serde_json::to_value(&entry).unwrap();
        assert_eq!(json["org"], serde_json::json!(&*entry.org));
        assert_eq!(json["case"], serde_json::json!(&*entry.case));
        let back: crate::ledger::Entry = serde_json::from_value(json).unwrap();
        assert_eq!(back, entry);
        // Dates stay ISO text outside a snapshot.
        let (_, case) = folded.cases_sorted()[0];
        let json = serde_json::to_value(case).unwrap();
        assert_eq!(
            json["submitted_on"],
            serde_json::json!(case.submitted_on.to_string())
        );
        let back: crate::case::CaseState = serde_json::from_value(json).unwrap();
        assert_eq!(back.submitted_on, case.submitted_on);
        assert_eq!(back.concluded, case.concluded);
    }
}
