//! The [`EventStore`] both SQL stores are: everything that writes goes to the shared writer
//! task (`writer.rs`), everything that reads to the database's own [`Reads`]. `SqliteStore` and
//! `PostgresStore` are this type over their reads.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use futures::FutureExt;
use jiancha_events::{ChainBreak, NewEvent, RawEvent, StoredEvent, GENESIS_HASH};
use tokio::sync::{mpsc, watch};

use crate::error::StoreError;
use crate::index::{last_per_stream, IndexRow, IndexSelect, IndexState, IndexWrite, KeptAlerts};
use crate::plan::Head;
use crate::rows::decode_all;
use crate::writer::WriterHandle;
use crate::{AppendOutcome, EventStore, ImportChunk, ImportMode, ImportOutcome, Snapshot};

/// How one database reads the log and keeps snapshots, on connections of its own (a pool).
pub trait Reads: Clone + Send + Sync + std::fmt::Debug + 'static {
    /// Every stored row of one stream, in version order.
    fn stream(
        &self,
        stream: &str,
    ) -> impl Future<Output = Result<Vec<RawEvent>, StoreError>> + Send;

    /// The stored rows of the supervision events that name a case, in position order (found
    /// through the `events_supervision_case` index).
    fn concerning(
        &self,
        case: &str,
    ) -> impl Future<Output = Result<Vec<RawEvent>, StoreError>> + Send;

    /// The stored rows a case's context may hold (see `EventStore::read_case_context`), in
    /// position order, read in one statement: at least every one it needs.
    fn case_context(
        &self,
        case: &str,
    ) -> impl Future<Output = Result<Vec<RawEvent>, StoreError>> + Send;

    /// The stored row of the event a given id names, if any (through the `events_id` index).
    fn by_id(&self, id: &str) -> impl Future<Output = Result<Option<RawEvent>, StoreError>> + Send;

    /// Up to `limit` stored rows after position `after`, in position order.
    fn after(
        &self,
        after: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RawEvent>, StoreError>> + Send;

    /// The last position and its hash.
    fn head(&self) -> impl Future<Output = Result<Head, StoreError>> + Send;

    /// Keeps a snapshot, replacing the previous one of that name.
    fn save_snapshot(
        &self,
        name: &str,
        position: u64,
        bytes: Vec<u8>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The snapshot of that name.
    fn load_snapshot(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<Snapshot>, StoreError>> + Send;

    /// The names of every snapshot kept, sorted.
    fn snapshot_names(&self) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// The stored rows the contexts of `streams` may hold (see `EventStore::read_contexts`),
    /// found through indexes, in any order and possibly more than once: at least every one
    /// [`jiancha_events::Contexts::keeps`] keeps.
    fn contexts(
        &self,
        streams: &[String],
    ) -> impl Future<Output = Result<Vec<RawEvent>, StoreError>> + Send;

    /// The case index's state ([`IndexState::EMPTY`] when none is stored).
    fn index_state(&self) -> impl Future<Output = Result<IndexState, StoreError>> + Send;

    /// The stored index rows of `streams`, in any order.
    fn index_rows(
        &self,
        streams: &[String],
    ) -> impl Future<Output = Result<Vec<IndexRow>, StoreError>> + Send;

    /// The streams of the active index rows, sorted (byte order).
    fn index_active(&self) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// Writes one checkpoint of the index in one transaction (see `EventStore::write_index`);
    /// `rows` is one row per stream, sorted (`index::kept_rows` picks the kept alerts stored).
    fn write_index(
        &self,
        write: &IndexWrite,
        rows: &[IndexRow],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Drops the case index when its state is still `expected` (see `EventStore::reset_index`).
    fn reset_index(
        &self,
        expected: IndexState,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The streams a question selects, sorted (byte order).
    fn index_select(
        &self,
        select: IndexSelect,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// The kept alerts of the rows settled by `by`, sorted by stream (byte order).
    fn index_kept(
        &self,
        by: i64,
    ) -> impl Future<Output = Result<Vec<KeptAlerts>, StoreError>> + Send;

    /// Someone follows the log: a database that can announce other processes' commits starts
    /// listening.
    fn following(&self) {}

    /// Closes the connections.
    fn close(&self) -> impl Future<Output = ()> + Send;
}

/// Joins a snapshot read as rows in part order: the first row (part 0) carries the position; a
/// read that found parts without it found no snapshot.
pub(crate) fn join_snapshot(rows: Vec<(Option<i64>, &[u8])>) -> Option<Snapshot> {
    let total = rows.iter().map(|(_, part)| part.len()).sum();
    let mut rows = rows.into_iter();
    let (position, first) = rows.next()?;
    let position = u64::try_from(position?).ok()?;
    // In one allocation: a large snapshot is a gigabyte or more.
    let mut bytes = Vec::with_capacity(total);
    bytes.extend_from_slice(first);
    for (_, part) in rows {
        bytes.extend_from_slice(part);
    }
    Some((position, bytes))
}

/// A SQL store: the shared writer task and a database's reads.
#[derive(Debug, Clone)]
pub struct SqlStore<R> {
    pub(crate) writer: WriterHandle,
    pub(crate) reads: R,
    /// The last position committed by this process (or announced by others).
    pub(crate) committed: watch::Receiver<u64>,
    /// Whether the whole chain was verified before the first append, and where it breaks.
    pub(crate) chain: Arc<ChainGuard>,
}

/// The writer's knowledge of the chain: verified once before the first append (a log broken in
/// the middle must not take appends either, and the writer checks only the head on each
/// transaction), and marked broken by any verification that finds a break.
#[derive(Debug, Default)]
pub(crate) struct ChainGuard {
    checked: tokio::sync::OnceCell<()>,
    broken: Mutex<Option<ChainBreak>>,
}

impl ChainGuard {
    fn broken(&self) -> Option<ChainBreak> {
        self.broken
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn mark(&self, at: ChainBreak) {
        let mut broken = self.broken.lock().unwrap_or_else(PoisonError::into_inner);
        // The first break found stays: it is where the log stops being trustworthy.
        if broken.as_ref().is_none_or(|b| at.position < b.position) {
            tracing::error!(%at, "the event log is broken: appends are refused");
            *broken = Some(at);
        }
    }
}

impl<R: Reads> SqlStore<R> {
    /// Verifies the chain once, then refuses when it is known to be broken.
    async fn guard(&self) -> Result<(), StoreError> {
        match self.check_chain().await? {
            Some(b) => Err(StoreError::ChainBroken(b)),
            None => Ok(()),
        }
    }

    /// Notes a break the writer itself found (at the head).
    fn noted<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(StoreError::ChainBroken(b)) = &result {
            self.chain.mark(b.clone());
        }
        result
    }
}

impl<R: Reads> EventStore for SqlStore<R> {
    fn append_scoped(
        &self,
        events: Vec<NewEvent>,
        scope: Option<String>,
    ) -> BoxFuture<'_, Result<AppendOutcome, StoreError>> {
        async move {
            self.guard().await?;
            self.noted(self.writer.append(events, scope).await)
        }
        .boxed()
    }

    fn import_with(
        &self,
        chunks: mpsc::Receiver<ImportChunk>,
        mode: ImportMode,
    ) -> BoxFuture<'_, Result<ImportOutcome, StoreError>> {
        async move {
            self.guard().await?;
            self.noted(self.writer.import(chunks, mode).await)
        }
        .boxed()
    }

    fn check_chain(&self) -> BoxFuture<'_, Result<Option<ChainBreak>, StoreError>> {
        async move {
            self.chain
                .checked
                .get_or_try_init(|| async {
                    let walked = crate::verify::walk(self, 0, GENESIS_HASH, |_, _| ()).await?;
                    if let Some(b) = walked.broken {
                        self.chain.mark(b);
                    }
                    Ok::<(), StoreError>(())
                })
                .await?;
            Ok(self.chain.broken())
        }
        .boxed()
    }

    fn mark_broken(&self, at: ChainBreak) {
        self.chain.mark(at);
    }

    fn broken(&self) -> Option<ChainBreak> {
        self.chain.broken()
    }

    fn snapshot_names(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        self.reads.snapshot_names().boxed()
    }

    fn read_stream<'a>(
        &'a self,
        stream: &'a str,
    ) -> BoxFuture<'a, Result<Vec<StoredEvent>, StoreError>> {
        async move { decode_all(self.reads.stream(stream).await?) }.boxed()
    }

    fn read_after(
        &self,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<StoredEvent>, StoreError>> {
        async move { decode_all(self.reads.after(after, limit).await?) }.boxed()
    }

    fn read_by_id<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredEvent>, StoreError>> {
        async move {
            let Some(raw) = self.reads.by_id(id).await? else {
                return Ok(None);
            };
            Ok(decode_all(vec![raw])?.into_iter().next())
        }
        .boxed()
    }

    fn read_case_context<'a>(
        &'a self,
        case: &'a str,
    ) -> BoxFuture<'a, Result<Vec<StoredEvent>, StoreError>> {
        async move {
            let events = decode_all(self.reads.case_context(case).await?)?;
            Ok(crate::case_context(events, case))
        }
        .boxed()
    }

    fn read_concerning<'a>(
        &'a self,
        case: &'a str,
    ) -> BoxFuture<'a, Result<Vec<StoredEvent>, StoreError>> {
        async move {
            let mut events = decode_all(self.reads.concerning(case).await?)?;
            events.retain(|e| e.data.concerns_case() == Some(case));
            Ok(events)
        }
        .boxed()
    }

    fn read_raw_after(
        &self,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<RawEvent>, StoreError>> {
        self.reads.after(after, limit).boxed()
    }

    fn head(&self) -> BoxFuture<'_, Result<Head, StoreError>> {
        self.reads.head().boxed()
    }

    fn committed(&self) -> watch::Receiver<u64> {
        self.reads.following();
        self.committed.clone()
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        async move {
            self.writer.close().await;
            self.reads.close().await;
        }
        .boxed()
    }

    fn save_snapshot<'a>(
        &'a self,
        name: &'a str,
        position: u64,
        bytes: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.reads.save_snapshot(name, position, bytes).boxed()
    }

    fn load_snapshot<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Snapshot>, StoreError>> {
        self.reads.load_snapshot(name).boxed()
    }

    fn read_contexts<'a>(
        &'a self,
        streams: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<StoredEvent>, StoreError>> {
        async move {
            let contexts = jiancha_events::Contexts::new(streams.iter().cloned());
            let mut raws = self.reads.contexts(streams).await?;
            // A row selected twice is the same row: the order among equals does not matter.
            raws.sort_unstable_by_key(|r| r.position);
            raws.dedup_by_key(|r| r.position);
            let mut events = crate::rows::decode_many(raws)?;
            events.retain(|e| contexts.keeps(e));
            Ok(events)
        }
        .boxed()
    }

    fn index_state(&self) -> BoxFuture<'_, Result<IndexState, StoreError>> {
        self.reads.index_state().boxed()
    }

    fn index_rows<'a>(
        &'a self,
        streams: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<IndexRow>, StoreError>> {
        async move {
            let mut rows = self.reads.index_rows(streams).await?;
            rows.sort_by(|a, b| a.stream.cmp(&b.stream));
            rows.dedup_by(|a, b| a.stream == b.stream);
            Ok(rows)
        }
        .boxed()
    }

    fn index_active(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        self.reads.index_active().boxed()
    }

    fn write_index(&self, write: IndexWrite) -> BoxFuture<'_, Result<(), StoreError>> {
        async move {
            let IndexWrite {
                from,
                state,
                mark_after,
                mark_active,
                rows,
                kept,
            } = write;
            let rows = last_per_stream(rows);
            let write = IndexWrite {
                from,
                state,
                mark_after,
                mark_active,
                rows: Vec::new(),
                kept,
            };
            self.reads.write_index(&write, &rows).await
        }
        .boxed()
    }

    fn reset_index(&self, expected: IndexState) -> BoxFuture<'_, Result<(), StoreError>> {
        self.reads.reset_index(expected).boxed()
    }

    fn index_select(&self, select: IndexSelect) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        self.reads.index_select(select).boxed()
    }

    fn index_kept(&self, by: i64) -> BoxFuture<'_, Result<Vec<KeptAlerts>, StoreError>> {
        self.reads.index_kept(by).boxed()
    }
}
