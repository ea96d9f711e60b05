//! The case index: one row per case and project, kept beside the log and checkpointed with the
//! log position it covers (rows and position written in one transaction), so that a question
//! about an instant (`alerts --now T`, `report --now T`) folds only the cases concerned instead
//! of the whole log.
//!
//! A row says when the case's events occurred (the earliest and the latest of its own stream
//! and of the supervision acts naming it), whether it is still active (the clock can raise
//! something on it), whether it ever had an alert, and whether its events are *irregular*: an
//! event that occurred before an earlier event it depends on (entered late), or a calendar
//! change folded while it was active, so that a fold at an earlier instant may judge it
//! differently from the fold of the whole log. The engine decides those flags
//! (`jiancha_engine::index`); this crate only keeps them.

/// One case's (or project's) row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRow {
    /// The case or project stream.
    pub stream: String,
    /// The earliest `occurred_at` (Unix milliseconds) of its events.
    pub min_occurred: i64,
    /// The latest `occurred_at` (Unix milliseconds) of its events.
    pub max_occurred: i64,
    /// The latest instant (Unix milliseconds) its fold reached: `max_occurred`, or later when
    /// a conclusion entered long after it occurred counts when it was entered. Nothing of the
    /// case lands after it unless the case is active.
    pub reach: i64,
    /// Whether the clock can still raise an alert or a ledger entry on it.
    pub active: bool,
    /// Whether it ever had an alert.
    pub alerted: bool,
    /// Whether a fold at an earlier instant may judge it otherwise than the whole log's fold.
    pub irregular: bool,
}

/// What the index covers: the log position, and the latest instant at which an event the cases
/// depend on globally (catalog, calendar, declared imports) occurred.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexState {
    /// The last log position the rows cover (0: none).
    pub position: u64,
    /// The latest `occurred_at` (Unix milliseconds) of a catalog, calendar or declaration
    /// event up to `position` (`i64::MIN` when none).
    pub globals_max_occurred: i64,
    /// The fold format of the build that wrote it (the engine's snapshot format: what the same
    /// events fold to); 0 for an index written before it was kept. An index of another format
    /// is dropped and rebuilt ([`crate::EventStore::reset_index`]).
    pub fold_format: u32,
}

impl IndexState {
    /// The state as stored (position, globals' latest instant, fold format), or
    /// [`IndexState::EMPTY`] when no row was written yet.
    pub(crate) fn stored(row: Option<(i64, i64, i64)>) -> IndexState {
        row.map_or(IndexState::EMPTY, |(position, globals, format)| {
            IndexState {
                position: u64::try_from(position).unwrap_or(0),
                globals_max_occurred: globals,
                fold_format: u32::try_from(format).unwrap_or(0),
            }
        })
    }

    /// The state of an index that covers nothing.
    pub const EMPTY: IndexState = IndexState {
        position: 0,
        globals_max_occurred: i64::MIN,
        fold_format: 0,
    };
}

/// One checkpoint of the index: the rows changed since `from`, written with the new state in one
/// transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexWrite {
    /// The position the stored index must still be at (another writer moved it otherwise, and
    /// nothing is written: [`crate::StoreError::IndexMoved`]).
    pub from: u64,
    /// The new state (its position at most the log's head).
    pub state: IndexState,
    /// Before the rows are written: mark irregular every stored row whose `max_occurred` is
    /// after this instant (a calendar change entered after events it may change).
    pub mark_after: Option<i64>,
    /// Before the rows are written: mark irregular every stored row that is active (a calendar
    /// change folded while they were).
    pub mark_active: bool,
    /// The rows to insert or replace, whole.
    pub rows: Vec<IndexRow>,
    /// The kept alerts of settled rows among `rows`: the kept alerts of every stream in `rows`
    /// are dropped, and these are stored (of two of one stream, the later one; those of a
    /// stream not in `rows` or whose row is not settled are not stored).
    pub kept: Vec<KeptAlerts>,
}

/// The alerts of a settled case, kept beside its row so that a question at an instant after
/// it settled reads them instead of folding its events again. The body is the engine's
/// encoding (`jiancha_projections::KeptCase`); this crate only keeps it.
///
/// A row is *settled by* an instant T when it is neither active nor irregular and its fold
/// reached no later than T ([`IndexRow::settled_by`]): its events all occurred by T, no clock
/// can raise anything more on it, and a fold at T ends in the state the whole log's fold
/// ended in.
///
/// A row's kept alerts are dropped whenever the row is written again without new ones, and
/// when a mark makes it irregular.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeptAlerts {
    /// The case stream.
    pub stream: String,
    /// The encoded alerts.
    pub body: Vec<u8>,
}

impl IndexRow {
    /// Whether the row is settled by `by` (see [`KeptAlerts`]).
    pub fn settled_by(&self, by: i64) -> bool {
        !self.active && !self.irregular && self.reach <= by
    }
}

/// Which streams a question at an instant must fold, sorted by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexSelect {
    /// A report's: rows with `min_occurred <= by` and (`reach >= reaching` or `active`).
    Report {
        /// The last instant counted.
        by: i64,
        /// The first instant the report looks at.
        reaching: i64,
    },
    /// The alerts': rows with `min_occurred <= by` and (`alerted` or `active` or
    /// `irregular`), except those settled by `by` whose alerts are kept
    /// ([`EventStore::index_kept`](crate::EventStore::index_kept) reads those).
    Alerts {
        /// The instant.
        by: i64,
    },
}

impl IndexSelect {
    /// Whether `row` is selected (what the SQL stores' `WHERE` says), `kept` saying whether
    /// its alerts are kept.
    pub fn selects(&self, row: &IndexRow, kept: bool) -> bool {
        match *self {
            IndexSelect::Report { by, reaching } => {
                row.min_occurred <= by && (row.reach >= reaching || row.active)
            }
            IndexSelect::Alerts { by } => {
                row.min_occurred <= by
                    && (row.alerted || row.active || row.irregular)
                    && !(kept && row.settled_by(by))
            }
        }
    }
}

impl IndexWrite {
    /// The checks every store makes before writing, in this order: the stored position
    /// (`stored`, 0 when none) must be `from`, and the new position at most the log's `head`.
    pub(crate) fn check(&self, stored: u64, head: u64) -> Result<(), crate::StoreError> {
        if stored != self.from {
            return Err(crate::StoreError::IndexMoved {
                expected: self.from,
                found: stored,
            });
        }
        if self.state.position > head {
            return Err(crate::StoreError::IndexAhead {
                position: self.state.position,
                head,
            });
        }
        Ok(())
    }
}

/// The rows of a write, one per stream (of two rows of one stream, the later one), sorted by
/// stream: a SQL upsert may touch a row only once per statement, and sorted keys fill the
/// B-trees in order.
pub(crate) fn last_per_stream(rows: Vec<IndexRow>) -> Vec<IndexRow> {
    let mut by_stream = std::collections::BTreeMap::new();
    for row in rows {
        by_stream.insert(row.stream.clone(), row);
    }
    by_stream.into_values().collect()
}

/// The kept alerts a write stores, given its `rows` (one per stream, sorted): one per stream
/// (the later one), of the rows it writes that are settled (others' are dropped: a row neither
/// written here nor settled has none), each beside its row; sorted by stream.
pub(crate) fn kept_rows<'a>(
    rows: &'a [IndexRow],
    kept: &'a [KeptAlerts],
) -> Vec<(&'a KeptAlerts, &'a IndexRow)> {
    let mut by_stream = std::collections::BTreeMap::new();
    for k in kept {
        by_stream.insert(k.stream.as_str(), k);
    }
    by_stream
        .into_values()
        .filter_map(|k| {
            let i = rows.binary_search_by(|r| r.stream.cmp(&k.stream)).ok()?;
            let row = rows.get(i)?;
            row.settled_by(i64::MAX).then_some((k, row))
        })
        .collect()
}

/// Whether `row` (of a write's rows) has kept alerts stored with it: its stream among `kept`
/// (as [`kept_rows`] gives them).
pub(crate) fn is_kept(row: &IndexRow, kept: &[(&KeptAlerts, &IndexRow)]) -> bool {
    kept.binary_search_by(|(k, _)| k.stream.cmp(&row.stream))
        .is_ok()
}
