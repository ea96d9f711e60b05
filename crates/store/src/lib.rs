//! The event log: the [`EventStore`] trait and its implementations — in memory for tests, SQLite
//! (the embedded default), PostgreSQL (a province's shared log) — with group commit, gap-free
//! positions and the hash chain.
//!
//! Only this crate knows SQL. Everything above it appends [`NewEvent`]s and reads
//! [`StoredEvent`]s; the bytes and hashes are this crate's business.

#![warn(missing_docs)]

pub mod clock;
pub mod district;
pub mod error;
pub mod historical;
pub mod index;
pub mod memory;
pub mod owner;
pub mod pages;
pub mod plan;
pub mod postgres;
mod rows;
mod sql;
pub mod sqlite;
pub mod tail;
pub mod verify;
mod writer;

use std::sync::Arc;

use futures::future::BoxFuture;
use jiancha_events::{ChainBreak, NewEvent, RawEvent, StoredEvent};
use tokio::sync::{mpsc, watch};

pub use clock::{Clock, ManualClock, SystemClock};
pub use district::{check_district_name, database_url, district_url, DistrictError};
pub use error::{Rejection, RejectionKind, StoreError};
pub use historical::HistoricalImport;
pub use index::{IndexRow, IndexSelect, IndexState, IndexWrite, KeptAlerts};
pub use pages::Pages;
pub use plan::Head;
pub use tail::subscribe;

pub use jiancha_events::SUPERVISION_STREAM;
use jiancha_events::{CALENDAR_STREAM, CATALOG_STREAM};

/// The most bytes one stored value of a snapshot holds: a larger snapshot is kept in parts
/// (SQLite and PostgreSQL refuse values near 1 GB).
pub const SNAPSHOT_PART_BYTES: usize = 64 << 20;

/// Events read per page when following the log.
pub const READ_PAGE_EVENTS: usize = 10_000;

/// The most events one group commit gathers from concurrent appends.
pub const GROUP_EVENTS_MAX: usize = 10_000;

/// Events per chunk an importer should send.
pub const IMPORT_CHUNK_EVENTS: usize = 1_000;

/// Statements slower than this are logged at debug level. Not a warning: the commit of a large
/// import (which checkpoints the WAL into the database file) is expected to take seconds.
pub(crate) const SLOW_STATEMENT: std::time::Duration = std::time::Duration::from_secs(1);

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppendOutcome {
    /// The position of each event of the batch, in order: new, or the original one for an id
    /// that was already in the log.
    pub positions: Vec<u64>,
    /// How many events were newly written.
    pub appended: u64,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportOutcome {
    /// How many events were newly written.
    pub appended: u64,
    /// How many were already in the log (same id).
    pub duplicates: u64,
    /// The first and last new positions, when anything was written.
    pub range: Option<(u64, u64)>,
}

/// A piece of a streaming import. The import commits only on [`ImportChunk::Commit`]; an
/// [`ImportChunk::Abort`] or a dropped sender rolls everything back.
#[derive(Debug)]
pub enum ImportChunk {
    /// Events with their tags (line numbers), in order.
    Events(Vec<(u64, NewEvent)>),
    /// The producer found a problem: write nothing.
    Abort(String),
    /// Everything was sent: commit.
    Commit,
    /// Sent first, before any events: the import is declared history, and the store writes a
    /// `HistoryImported` event covering it at the head, before the events (see
    /// [`HistoricalImport`]).
    Historical(HistoricalImport),
}

/// Which exported (moved) events an import takes. An exported line carries its own stamp and
/// hash, so on the head of a live log it could back-date whatever it likes: it is taken only
/// where moving a log is what is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportMode {
    /// Exported lines only into a log that is empty when the import begins (moving a whole
    /// log); everywhere else such a line is refused on its `position` field.
    #[default]
    Plain,
    /// `import --moved`: exported lines continuing the log's current head exactly as exported
    /// (each at its position, linked to the head, its hash recomputed and equal).
    Moved,
}

/// A snapshot of derived state: the position it covers and its bytes.
pub type Snapshot = (u64, Vec<u8>);

/// The event log.
pub trait EventStore: Send + Sync + std::fmt::Debug {
    /// Appends a batch, all or nothing. Tags in a [`Rejection`] are indexes into the batch.
    fn append(&self, events: Vec<NewEvent>) -> BoxFuture<'_, Result<AppendOutcome, StoreError>> {
        self.append_scoped(events, None)
    }

    /// Appends a batch, all or nothing, on behalf of an org: with a `scope` (an org path),
    /// every case event must be written by an org at or under it and fall on a case whose
    /// accountable org (see [`owner`]) lies at or under it, as the case stands before the
    /// event — decided inside the write transaction, so no concurrent append can slip between
    /// the check and the write. Refusals:
    /// [`RejectionKind::OutOfScope`], and, for every batch,
    /// [`RejectionKind::AlreadySubmitted`] and [`RejectionKind::OutsideDistrict`].
    fn append_scoped(
        &self,
        events: Vec<NewEvent>,
        scope: Option<String>,
    ) -> BoxFuture<'_, Result<AppendOutcome, StoreError>>;

    /// Appends a stream of chunks in one transaction: all of them, or nothing; exported
    /// events only as `mode` allows.
    fn import_with(
        &self,
        chunks: mpsc::Receiver<ImportChunk>,
        mode: ImportMode,
    ) -> BoxFuture<'_, Result<ImportOutcome, StoreError>>;

    /// [`EventStore::import_with`] in [`ImportMode::Plain`].
    fn import(
        &self,
        chunks: mpsc::Receiver<ImportChunk>,
    ) -> BoxFuture<'_, Result<ImportOutcome, StoreError>> {
        self.import_with(chunks, ImportMode::Plain)
    }

    /// Every event of one stream, in version order.
    fn read_stream<'a>(
        &'a self,
        stream: &'a str,
    ) -> BoxFuture<'a, Result<Vec<StoredEvent>, StoreError>>;

    /// The supervision events that name a case (cards, correction orders, exemptions,
    /// acknowledgements of its alerts; see `EventData::concerns_case`), in position order. The
    /// SQL stores find them through an index; this default reads the supervision stream.
    fn read_concerning<'a>(
        &'a self,
        case: &'a str,
    ) -> BoxFuture<'a, Result<Vec<StoredEvent>, StoreError>> {
        futures::FutureExt::boxed(async move {
            let mut events = self.read_stream(SUPERVISION_STREAM).await?;
            events.retain(|e| e.data.concerns_case() == Some(case));
            Ok(events)
        })
    }

    /// The events one case's state depends on, in position order: the case's own stream, the
    /// definitions of the item it applied for (every `ItemDefined` of that code), the names of
    /// the orgs its views show (the `OrgDefined` of every org that acted on its stream, of a
    /// transfer's receiver and of a project's purchaser), the workflow's limits
    /// (`WorkflowLimitsDefined`), the calendar
    /// amendments, the declared historical imports (`HistoryImported`) and the supervision
    /// events that name it; for a procurement project (`proc-…`), also the open-tender
    /// thresholds (`ThresholdDefined`) and every project's registration, which `proc.split`
    /// reads. Empty when no case of that name was submitted.
    fn read_case_context<'a>(
        &'a self,
        case: &'a str,
    ) -> BoxFuture<'a, Result<Vec<StoredEvent>, StoreError>> {
        futures::FutureExt::boxed(async move {
            let mut events = self.read_stream(case).await?;
            if events.is_empty() {
                return Ok(events);
            }
            if case.starts_with("proc-") {
                // A project's `proc.split` reads the other projects' registrations: the whole
                // log, narrowed by `case_context` (the SQL stores narrow by index instead).
                let mut all = Vec::new();
                let mut pages = self.pages(0);
                while let Some(page) = pages.next().await? {
                    all.extend(page);
                }
                return Ok(case_context(all, case));
            }
            events.extend(self.read_stream(CATALOG_STREAM).await?);
            events.extend(self.read_stream(CALENDAR_STREAM).await?);
            events.extend(
                self.read_stream(SUPERVISION_STREAM)
                    .await?
                    .into_iter()
                    .filter(|e| {
                        e.data.concerns_case() == Some(case)
                            || matches!(e.data, jiancha_events::EventData::HistoryImported(_))
                    }),
            );
            events.sort_by_key(|e| e.position);
            Ok(case_context(events, case))
        })
    }

    /// Up to `limit` events after position `after`, in position order.
    fn read_after(
        &self,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<StoredEvent>, StoreError>>;

    /// Up to `limit` stored rows after position `after`, exactly as stored (for export and
    /// verification).
    fn read_raw_after(
        &self,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<RawEvent>, StoreError>>;

    /// The log after position `after`, a page of at most [`READ_PAGE_EVENTS`] events at a time,
    /// up to the head.
    fn pages(&self, after: u64) -> Pages<'_, StoredEvent> {
        Pages::new(
            after,
            Box::new(move |after| self.read_after(after, READ_PAGE_EVENTS)),
            pages::stored_position,
        )
    }

    /// The stored rows after position `after`, exactly as stored, a page of at most
    /// [`READ_PAGE_EVENTS`] at a time, up to the head.
    fn raw_pages(&self, after: u64) -> Pages<'_, RawEvent> {
        Pages::new(
            after,
            Box::new(move |after| self.read_raw_after(after, READ_PAGE_EVENTS)),
            pages::raw_position,
        )
    }

    /// The event a given id names (an id the caller chose, not one the log assigns); `None`
    /// when none does. What an idempotency key was used for.
    fn read_by_id<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredEvent>, StoreError>>;

    /// The event at `position`; `None` at 0 and past the head.
    fn read_at(&self, position: u64) -> BoxFuture<'_, Result<Option<StoredEvent>, StoreError>> {
        futures::FutureExt::boxed(async move {
            let Some(before) = position.checked_sub(1) else {
                return Ok(None);
            };
            let page = self.read_after(before, 1).await?;
            Ok(page.into_iter().next().filter(|e| e.position == position))
        })
    }

    /// The row stored at `position`, exactly as stored; `None` at 0 and past the head.
    fn read_raw_at(&self, position: u64) -> BoxFuture<'_, Result<Option<RawEvent>, StoreError>> {
        futures::FutureExt::boxed(async move {
            let Some(before) = position.checked_sub(1) else {
                return Ok(None);
            };
            let page = self.read_raw_after(before, 1).await?;
            Ok(page.into_iter().next().filter(|r| r.position == position))
        })
    }

    /// The last position and its hash.
    fn head(&self) -> BoxFuture<'_, Result<Head, StoreError>>;

    /// The last committed position, updated after every commit of this process (and, on
    /// PostgreSQL, when another process announces one); followers wait on it, and poll for
    /// commits nobody announced.
    fn committed(&self) -> watch::Receiver<u64>;

    /// Stops the writer after the work already queued. Appends after this fail.
    fn close(&self) -> BoxFuture<'_, ()>;

    /// Keeps a snapshot of derived state under `name`, covering the log up to `position`,
    /// replacing the previous one. A store that keeps none ignores it.
    fn save_snapshot<'a>(
        &'a self,
        name: &'a str,
        position: u64,
        bytes: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = (name, position, bytes);
        futures::FutureExt::boxed(async { Ok(()) })
    }

    /// The names of every snapshot kept, sorted.
    fn snapshot_names(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        futures::FutureExt::boxed(async { Ok(Vec::new()) })
    }

    /// Verifies the whole chain once per store (what a writer does before its first append;
    /// later calls answer at once) and returns the first break, if any. A store that cannot be
    /// changed behind its back (in memory) has nothing to check.
    fn check_chain(&self) -> BoxFuture<'_, Result<Option<ChainBreak>, StoreError>> {
        futures::FutureExt::boxed(async { Ok(None) })
    }

    /// Marks the log broken at `at` (a verification found it so): appends are refused with
    /// [`StoreError::ChainBroken`] from now on, in this process.
    fn mark_broken(&self, at: ChainBreak) {
        let _ = at;
    }

    /// Where the log is known to be broken, if it is.
    fn broken(&self) -> Option<ChainBreak> {
        None
    }

    /// The events the states of `streams` (cases and projects) depend on, in position order,
    /// each once: exactly what [`jiancha_events::Contexts::keeps`] keeps of the log. The SQL
    /// stores narrow by index; this default reads the whole log.
    fn read_contexts<'a>(
        &'a self,
        streams: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<StoredEvent>, StoreError>> {
        futures::FutureExt::boxed(async move {
            let contexts = jiancha_events::Contexts::new(streams.iter().cloned());
            let mut out = Vec::new();
            let mut pages = self.pages(0);
            while let Some(page) = pages.next().await? {
                out.extend(page.into_iter().filter(|e| contexts.keeps(e)));
            }
            Ok(out)
        })
    }

    /// What the case index (see [`index`]) covers: the stored state, or [`IndexState::EMPTY`]
    /// when nothing was written yet.
    fn index_state(&self) -> BoxFuture<'_, Result<IndexState, StoreError>>;

    /// The stored rows of `streams` (those that have one), sorted by stream (byte order), each
    /// once.
    fn index_rows<'a>(
        &'a self,
        streams: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<IndexRow>, StoreError>>;

    /// The streams of the stored rows that are active, sorted (byte order).
    fn index_active(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;

    /// Writes one checkpoint of the index in one transaction, in this order: checks that the
    /// stored position (0 when none) is `write.from`, else writes nothing
    /// ([`StoreError::IndexMoved`]); checks that `write.state.position` is at most the log's
    /// head, else writes nothing ([`StoreError::IndexAhead`]); marks irregular every stored row
    /// whose `max_occurred` is after `write.mark_after`, then, with `write.mark_active`, every
    /// active one; inserts or replaces each row of `write.rows` whole (of two rows of one
    /// stream, the later one); drops the kept alerts of those streams and stores
    /// `write.kept` (of two of one stream, the later one); and stores `write.state`.
    fn write_index(&self, write: IndexWrite) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Drops the whole case index (rows, kept alerts and state) in one transaction, when its
    /// stored state is still `expected` (another process may have rebuilt it meanwhile: then
    /// nothing is dropped); the next catch-up builds it again from the start. For an index
    /// written by a build that folds the same events otherwise (another
    /// [`IndexState::fold_format`]).
    fn reset_index(&self, expected: IndexState) -> BoxFuture<'_, Result<(), StoreError>>;

    /// The streams of the stored rows a question selects ([`IndexSelect::selects`]), sorted
    /// (byte order).
    fn index_select(&self, select: IndexSelect) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;

    /// The kept alerts of the rows settled by `by` ([`IndexRow::settled_by`]): what
    /// [`IndexSelect::Alerts`] leaves out. Sorted by stream (byte order).
    fn index_kept(&self, by: i64) -> BoxFuture<'_, Result<Vec<KeptAlerts>, StoreError>>;

    /// The snapshot kept under `name`, with the position it covers.
    fn load_snapshot<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Snapshot>, StoreError>> {
        let _ = name;
        futures::FutureExt::boxed(async { Ok(None) })
    }
}

/// Keeps, of events read in position order for a case's context, exactly those
/// [`EventStore::read_case_context`] names (a SQL read narrows by index, this decides); none
/// when the case was never submitted.
pub(crate) fn case_context(mut events: Vec<StoredEvent>, case: &str) -> Vec<StoredEvent> {
    use jiancha_events::EventData;
    // What opened the case: an approval case's item, or a project (whose `proc.split` reads the
    // thresholds and the other projects' registrations).
    let opened = events
        .iter()
        .find(|e| e.stream == case)
        .and_then(|e| match &e.data {
            EventData::Submitted(s) => Some(Some(s.item.clone())),
            EventData::ProcurementRegistered(_) => Some(None),
            _ => None,
        });
    let Some(item) = opened else {
        return Vec::new();
    };
    let project = item.is_none();
    // The orgs the case's views can name: the orgs that acted on its stream, a transfer's
    // receiver, a project's purchaser (an accountable org is always one of them).
    let mut orgs = std::collections::BTreeSet::new();
    for e in events.iter().filter(|e| e.stream == case) {
        orgs.insert(e.org.clone());
        match &e.data {
            EventData::Transferred(t) => {
                orgs.insert(t.to_org.clone());
            }
            EventData::ProcurementRegistered(p) => {
                orgs.insert(p.purchaser_org.clone());
            }
            _ => {}
        }
    }
    events.retain(|e| match e.stream.as_str() {
        CATALOG_STREAM => match &e.data {
            EventData::ItemDefined(d) => item.as_deref() == Some(d.code.as_str()),
            EventData::OrgDefined(o) => orgs.contains(&o.path),
            EventData::ThresholdDefined(_) => project,
            EventData::WorkflowLimitsDefined(_) => true,
            _ => false,
        },
        CALENDAR_STREAM => true,
        SUPERVISION_STREAM => {
            e.data.concerns_case() == Some(case)
                || matches!(e.data, jiancha_events::EventData::HistoryImported(_))
        }
        stream => {
            stream == case || (project && matches!(e.data, EventData::ProcurementRegistered(_)))
        }
    });
    events
}

/// Opens the store a URL names: `sqlite://FILE` (or a plain file path), `postgres://…` (or
/// `postgresql://…`; `options=-c search_path=SCHEMA` puts the log in its own schema) or
/// `memory:`.
pub async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<Arc<dyn EventStore>, StoreError> {
    if url == "memory:" {
        return Ok(Arc::new(memory::MemoryStore::new(clock)));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(postgres::PostgresStore::open(url, clock).await?));
    }
    if let Some((scheme, _)) = url.split_once("://") {
        if scheme != "sqlite" {
            return Err(StoreError::BadUrl {
                url: url.to_owned(),
                reason: format!(
                    "unknown scheme {scheme:?}: use sqlite://FILE, postgres://… or memory:"
                ),
            });
        }
    }
    Ok(Arc::new(sqlite::SqliteStore::open(url, clock).await?))
}

/// Opens the log of district `name` in the PostgreSQL database `url` names, only if it exists
/// (a schema `name` holding an event table): a reading command never creates a district.
/// Boxed, so that a caller's future (an HTTP handler's) is `Send` whatever the driver's
/// lifetimes.
pub fn open_district(
    url: &str,
    name: &str,
    clock: Arc<dyn Clock>,
) -> BoxFuture<'static, Result<Arc<dyn EventStore>, StoreError>> {
    let (url, name) = (url.to_owned(), name.to_owned());
    Box::pin(async move {
        let district = district_url(&url, &name).map_err(|e| StoreError::BadUrl {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        if !postgres::log_exists(&url, &name).await? {
            return Err(StoreError::NoDistrict { name });
        }
        let store = postgres::PostgresStore::open(&district, clock).await?;
        Ok(Arc::new(store) as Arc<dyn EventStore>)
    })
}
