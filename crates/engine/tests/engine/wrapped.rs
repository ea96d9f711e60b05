//! A store around another that tests can make misbehave: the one place its delegation is
//! written. A test gives it [`Hooks`]: a batch to append just before the first cards (the race
//! between the engine's delivery and another writer), or reads that fail (the database down).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use jiancha_events::{EventData, NewEvent, RawEvent, StoredEvent};
use jiancha_store::{
    AppendOutcome, EventStore, Head, ImportChunk, ImportMode, ImportOutcome, IndexRow, IndexSelect,
    IndexState, IndexWrite, KeptAlerts, Snapshot, StoreError,
};
use tokio::sync::{mpsc, watch};

/// How a [`Wrapped`] store departs from the one it wraps.
#[derive(Debug, Default)]
pub struct Hooks {
    /// Appended just before the first batch that holds a card.
    pub before_cards: Mutex<Option<Vec<NewEvent>>>,
    /// While set, reading the log fails as if the database were down.
    pub down: AtomicBool,
}

/// A store that delegates to `inner`, except as its hooks say.
#[derive(Debug)]
pub struct Wrapped {
    pub inner: Arc<dyn EventStore>,
    pub hooks: Hooks,
}

impl Wrapped {
    pub fn new(inner: Arc<dyn EventStore>) -> Self {
        Wrapped {
            inner,
            hooks: Hooks::default(),
        }
    }

    pub fn set_down(&self, down: bool) {
        self.hooks.down.store(down, Ordering::SeqCst);
    }
}

impl EventStore for Wrapped {
    fn append_scoped(
        &self,
        events: Vec<NewEvent>,
        scope: Option<String>,
    ) -> BoxFuture<'_, Result<AppendOutcome, StoreError>> {
        Box::pin(async move {
            let cards = events
                .iter()
                .any(|e| matches!(e.data, EventData::CardIssued(_)));
            let batch = if cards {
                self.hooks.before_cards.lock().unwrap().take()
            } else {
                None
            };
            if let Some(batch) = batch {
                self.inner.append(batch).await?;
            }
            self.inner.append_scoped(events, scope).await
        })
    }
    fn import_with(
        &self,
        chunks: mpsc::Receiver<ImportChunk>,
        mode: ImportMode,
    ) -> BoxFuture<'_, Result<ImportOutcome, StoreError>> {
        self.inner.import_with(chunks, mode)
    }
    fn read_stream<'a>(
        &'a self,
        stream: &'a str,
    ) -> BoxFuture<'a, Result<Vec<StoredEvent>, StoreError>> {
        self.inner.read_stream(stream)
    }
    fn read_by_id<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredEvent>, StoreError>> {
        self.inner.read_by_id(id)
    }
    fn read_after(
        &self,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<StoredEvent>, StoreError>> {
        if self.hooks.down.load(Ordering::SeqCst) {
            return Box::pin(async { Err(StoreError::Aborted("the database is down".into())) });
        }
        self.inner.read_after(after, limit)
    }
    fn read_raw_after(
        &self,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<RawEvent>, StoreError>> {
        self.inner.read_raw_after(after, limit)
    }
    fn head(&self) -> BoxFuture<'_, Result<Head, StoreError>> {
        self.inner.head()
    }
    fn committed(&self) -> watch::Receiver<u64> {
        self.inner.committed()
    }
    fn close(&self) -> BoxFuture<'_, ()> {
        self.inner.close()
    }
    fn save_snapshot<'a>(
        &'a self,
        name: &'a str,
        position: u64,
        bytes: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.inner.save_snapshot(name, position, bytes)
    }
    fn load_snapshot<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Snapshot>, StoreError>> {
        self.inner.load_snapshot(name)
    }
    fn index_state(&self) -> BoxFuture<'_, Result<IndexState, StoreError>> {
        self.inner.index_state()
    }
    fn index_rows<'a>(
        &'a self,
        streams: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<IndexRow>, StoreError>> {
        self.inner.index_rows(streams)
    }
    fn index_active(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        self.inner.index_active()
    }
    fn write_index(&self, write: IndexWrite) -> BoxFuture<'_, Result<(), StoreError>> {
        self.inner.write_index(write)
    }
    fn reset_index(
        &self,
        expected: jiancha_store::IndexState,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.inner.reset_index(expected)
    }
    fn index_select(&self, select: IndexSelect) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        self.inner.index_select(select)
    }
    fn index_kept(&self, by: i64) -> BoxFuture<'_, Result<Vec<KeptAlerts>, StoreError>> {
        self.inner.index_kept(by)
    }
}
