//! Checking the stored case index against the log: the index is rebuilt from nothing beside
//! the verification's walk (one fold, one [`Indexer`], as a new index over a long log is built)
//! and every stored row, the stored state and every kept body is compared with it.
//!
//! The comparison is conservative, not byte for byte. An index kept up in many checkpoints
//! marks more rows irregular (and may find a row's reach later) than one built at once, and
//! that is safe: such a row is folded by more questions, never left out. What is reported is a
//! stored index that says *less* than the log: a row missing or not the log's, a first or last
//! instant that is not the events', a reach earlier than the fold's, a flag (active, alerted,
//! irregular) the rebuild sets and the row does not, kept alerts that are not the case's, or a
//! stored state behind the globals it covers. Each of those can make `alerts --now` or
//! `report --now` leave out a case, or read alerts the case never had, without saying so.

use std::collections::BTreeMap;

use jiancha_events::StoredEvent;
use jiancha_projections::{KeptCase, Projections};
use jiancha_store::{IndexRow, IndexSelect, IndexState, KeptAlerts, StoreError};

use crate::index::{judging, Indexer};

/// How many differences a check names (it counts them all).
pub const DIFFERENCES_NAMED: usize = 20;

/// The index rebuilt beside a walk of the log, up to the position the stored index covers.
pub(crate) struct Rebuild {
    /// The position the stored index covers.
    pub(crate) position: u64,
    fold: Projections,
    ix: Indexer,
    reached: bool,
}

impl Rebuild {
    /// A rebuild towards `position` (the stored index's).
    pub(crate) fn towards(position: u64) -> Self {
        Rebuild {
            position,
            fold: judging(),
            ix: Indexer::new(IndexState::EMPTY),
            reached: position == 0,
        }
    }

    /// Observes the next event of the walk (nothing after the position).
    pub(crate) fn feed(&mut self, event: &StoredEvent) {
        if self.reached || event.position > self.position {
            return;
        }
        let applied = self.fold.apply(event);
        self.ix.observe(event, Some((&self.fold, &applied)));
        self.reached = event.position == self.position;
    }

    /// Whether the walk reached the position.
    pub(crate) fn reached(&self) -> bool {
        self.reached
    }

    /// Compares the stored index with the rebuild.
    pub(crate) fn compare(&self, stored: &Stored) -> Differences {
        let fresh = self.ix.write();
        let mut d = Differences::default();
        if stored.state.globals_max_occurred < fresh.state.globals_max_occurred {
            d.note(format!(
                "the index's state gives {} as the latest global instant, where the log gives {}",
                stored.state.globals_max_occurred, fresh.state.globals_max_occurred
            ));
        }
        let stored_rows: BTreeMap<&str, &IndexRow> =
            stored.rows.iter().map(|r| (r.stream.as_str(), r)).collect();
        let fresh_rows: BTreeMap<&str, &IndexRow> =
            fresh.rows.iter().map(|r| (r.stream.as_str(), r)).collect();
        for (stream, f) in &fresh_rows {
            match stored_rows.get(stream) {
                None => d.note(format!(
                    "no row for {stream}, which has events by position {}: questions at an \
                     instant leave it out",
                    self.position
                )),
                Some(s) => row_differences(s, f, &mut d),
            }
        }
        for stream in stored_rows.keys().filter(|s| !fresh_rows.contains_key(*s)) {
            d.note(format!(
                "a row for {stream}, which has no event by position {}",
                self.position
            ));
        }
        for k in &stored.kept {
            let ours = KeptCase::of(&self.fold, &k.stream);
            match KeptCase::decode(&k.stream, &k.body) {
                Err(e) => d.note(e.to_string()),
                Ok(kept) if Some(&kept) != ours.as_ref() => d.note(format!(
                    "the kept alerts of {} are not the ones its events give ({} kept, {} \
                     from the log)",
                    k.stream,
                    kept.alerts.len(),
                    ours.map_or(0, |o| o.alerts.len())
                )),
                Ok(_) => {}
            }
        }
        d.rows = stored.rows.len();
        d.kept = stored.kept.len();
        d
    }
}

/// The differences of one row: where the stored one says less than the rebuilt one.
fn row_differences(s: &IndexRow, f: &IndexRow, d: &mut Differences) {
    let stream = &s.stream;
    if s.min_occurred != f.min_occurred {
        d.note(format!(
            "row of {stream}: first event at {}, where the log gives {}",
            s.min_occurred, f.min_occurred
        ));
    }
    if s.max_occurred < f.max_occurred {
        d.note(format!(
            "row of {stream}: last event at {}, where the log gives {}",
            s.max_occurred, f.max_occurred
        ));
    }
    if s.reach < f.reach {
        d.note(format!(
            "row of {stream}: reach {}, before the {} the log gives",
            s.reach, f.reach
        ));
    }
    for (name, stored, fresh) in [
        ("active", s.active, f.active),
        ("alerted", s.alerted, f.alerted),
        ("irregular", s.irregular, f.irregular),
    ] {
        if fresh && !stored {
            d.note(format!(
                "row of {stream}: not {name}, where the log makes it {name}"
            ));
        }
    }
}

/// What the store holds of the index, read at one position.
pub(crate) struct Stored {
    pub(crate) state: IndexState,
    pub(crate) rows: Vec<IndexRow>,
    /// The kept alerts of the rows settled at any instant (the only ones a question reads).
    pub(crate) kept: Vec<KeptAlerts>,
}

impl Stored {
    /// Reads the stored index whole, if it still covers `position` (another process may have
    /// brought it forward since the walk began: `None`).
    pub(crate) async fn read(
        store: &dyn jiancha_store::EventStore,
        position: u64,
    ) -> Result<Option<Stored>, StoreError> {
        // Every row: the report's selection with no bounds selects them all.
        let all = IndexSelect::Report {
            by: i64::MAX,
            reaching: i64::MIN,
        };
        let streams = store.index_select(all).await?;
        let rows = store.index_rows(&streams).await?;
        let kept = store.index_kept(i64::MAX).await?;
        let state = store.index_state().await?;
        Ok((state.position == position).then_some(Stored { state, rows, kept }))
    }
}

/// What the comparison found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Differences {
    /// Stored rows compared.
    pub rows: usize,
    /// Stored kept bodies compared.
    pub kept: usize,
    /// How many differences were found.
    pub count: usize,
    /// The first [`DIFFERENCES_NAMED`] of them: the state's, then by stream.
    pub named: Vec<String>,
}

impl Differences {
    /// One difference, nothing compared.
    pub(crate) fn one(what: String) -> Self {
        let mut d = Differences::default();
        d.note(what);
        d
    }

    fn note(&mut self, what: String) {
        self.count += 1;
        if self.named.len() < DIFFERENCES_NAMED {
            self.named.push(what);
        }
    }
}
