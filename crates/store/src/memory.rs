//! The in-memory store: the reference implementation the conformance suite holds the others
//! to, and a fast store for tests. A mutex stands in for the writer task: it serialises
//! appends, so positions are gap-free and in commit order here too.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::future::BoxFuture;
use futures::FutureExt;
use jiancha_events::{RawEvent, StoredEvent};
use tokio::sync::{mpsc, watch};

use crate::clock::Clock;
use crate::error::StoreError;
use crate::historical::{HistoricalImport, HistoryOrder, DECLARATION_TAG};
use crate::index::{IndexRow, IndexSelect, IndexState, IndexWrite, KeptAlerts};
use crate::owner::{CaseOwner, OwnerMove};
use crate::plan::{plan_batch, ExistingId, Head, Lookup, Planned, TxState};
use crate::{AppendOutcome, EventStore, ImportChunk, ImportMode, ImportOutcome};

#[derive(Debug, Default)]
struct Log {
    raws: Vec<RawEvent>,
    stored: Vec<StoredEvent>,
    ids: HashMap<String, u64>,
    versions: HashMap<String, u64>,
    by_stream: HashMap<String, Vec<u64>>,
    snapshots: HashMap<String, (u64, Vec<u8>)>,
    /// The case index's rows, by stream.
    index: BTreeMap<String, IndexRow>,
    /// The kept alerts of settled index rows, by stream.
    kept: BTreeMap<String, Vec<u8>>,
    /// The case index's state, once written.
    index_state: Option<IndexState>,
    closed: bool,
}

impl Lookup for Log {
    fn stream_version(&self, stream: &str) -> u64 {
        self.versions.get(stream).copied().unwrap_or(0)
    }

    fn find_id(&self, id: &str) -> Option<ExistingId> {
        let position = *self.ids.get(id)?;
        let raw = self
            .raws
            .get(usize::try_from(position).ok()?.checked_sub(1)?)?;
        Some(ExistingId::of(raw))
    }

    fn case_owner(&self, stream: &str) -> Option<CaseOwner> {
        let mut events = self
            .by_stream
            .get(stream)?
            .iter()
            .filter_map(|p| self.stored.get(usize::try_from(*p).ok()?.checked_sub(1)?));
        let first = events.next()?;
        let mut owner = CaseOwner::opened_by(&first.data, &first.org)?;
        for e in events {
            owner.apply(OwnerMove::of(&e.data, &e.org));
        }
        Some(owner)
    }
}

impl Log {
    fn head(&self) -> Head {
        self.raws
            .last()
            .map(|r| Head {
                position: r.position,
                hash: r.hash,
            })
            .unwrap_or_default()
    }

    fn apply(&mut self, planned: Vec<(Planned, StoredEvent)>) {
        for (plan, stored) in planned {
            if let Planned::New(raw) = plan {
                self.ids.insert(raw.id.clone(), raw.position);
                self.versions.insert(raw.stream.clone(), raw.version);
                self.by_stream
                    .entry(raw.stream.clone())
                    .or_default()
                    .push(raw.position);
                self.raws.push(*raw);
                self.stored.push(stored);
            }
        }
    }
}

/// The in-memory store.
#[derive(Debug, Clone)]
pub struct MemoryStore {
    log: Arc<Mutex<Log>>,
    clock: Arc<dyn Clock>,
    committed: Arc<watch::Sender<u64>>,
}

impl MemoryStore {
    /// An empty log stamped by `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let (tx, _rx) = watch::channel(0);
        MemoryStore {
            log: Arc::default(),
            clock,
            committed: Arc::new(tx),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stamp(&self) -> jiancha_events::Timestamp {
        self.clock.now().with_timezone(&jiancha_events::time::CHINA)
    }
}

/// At most `limit` of the log's rows after position `after` (row `i` is position `i + 1`).
fn page<T: Clone>(rows: &[T], after: u64, limit: usize) -> Vec<T> {
    let start = usize::try_from(after).unwrap_or(usize::MAX).min(rows.len());
    rows[start..].iter().take(limit).cloned().collect()
}

/// Pairs each planned new event with its typed form.
fn with_stored(
    planned: Vec<Planned>,
    events: &[(u64, jiancha_events::NewEvent)],
    recorded_at: jiancha_events::Timestamp,
) -> Vec<(Planned, StoredEvent)> {
    planned
        .into_iter()
        .zip(events)
        .filter_map(|(plan, (_, event))| match &plan {
            Planned::New(raw) => {
                let at = event
                    .moved
                    .as_ref()
                    .map(|m| m.recorded_at)
                    .unwrap_or(recorded_at);
                let stored = raw.to_stored(event.occurred_at, at, event.data.clone());
                Some((plan, stored))
            }
            Planned::Duplicate(_) => None,
        })
        .collect()
}

impl EventStore for MemoryStore {
    fn append_scoped(
        &self,
        events: Vec<jiancha_events::NewEvent>,
        scope: Option<String>,
    ) -> BoxFuture<'_, Result<AppendOutcome, StoreError>> {
        let tagged: Vec<_> = events
            .into_iter()
            .enumerate()
            .map(|(i, e)| (i as u64, e))
            .collect();
        let result = (|| {
            let mut log = self.lock();
            if log.closed {
                return Err(StoreError::WriterGone);
            }
            let mut state = TxState::new(log.head(), self.stamp());
            // One batch per transaction: a scoped batch follows its own cases' owners.
            state.track_owners = false;
            let (planned, delta) = plan_batch(&state, &*log, &tagged, scope.as_deref())
                .map_err(StoreError::Rejected)?;
            state.apply(delta);
            let positions: Vec<u64> = planned
                .iter()
                .map(|p| match p {
                    Planned::Duplicate(pos) => *pos,
                    Planned::New(raw) => raw.position,
                })
                .collect();
            let pairs = with_stored(planned, &tagged, state.recorded_at);
            let appended = pairs.len() as u64;
            log.apply(pairs);
            self.committed.send_replace(state.head.position);
            Ok(AppendOutcome {
                positions,
                appended,
            })
        })();
        async move { result }.boxed()
    }

    fn import_with(
        &self,
        mut chunks: mpsc::Receiver<ImportChunk>,
        mode: ImportMode,
    ) -> BoxFuture<'_, Result<ImportOutcome, StoreError>> {
        async move {
            let head = self.lock().head();
            let mut state = TxState::new(head, self.stamp());
            state.track_owners = false;
            state.moved_allowed |= mode == ImportMode::Moved;
            let mut pending = Vec::new();
            let mut outcome = ImportOutcome::default();
            let mut historical: Option<HistoricalImport> = None;
            let mut order = HistoryOrder::default();
            let mut first = true;
            loop {
                let message = chunks.recv().await;
                let message = match (message, first) {
                    (Some(ImportChunk::Historical(h)), true) => {
                        let declaration = h.declaration(head.position, state.recorded_at)?;
                        historical = Some(h);
                        Some(ImportChunk::Events(vec![(DECLARATION_TAG, declaration)]))
                    }
                    (message, _) => message,
                };
                first = false;
                match message {
                    Some(ImportChunk::Events(events)) => {
                        if historical.is_some() {
                            HistoricalImport::check_events(&events)?;
                            order.check(&events)?;
                        }
                        let log = self.lock();
                        let (planned, delta) = plan_batch(&state, &*log, &events, None)
                            .map_err(StoreError::Rejected)?;
                        drop(log);
                        if historical.is_some() {
                            HistoricalImport::check_planned(&events, &planned)?;
                        }
                        state.apply(delta);
                        let total = planned.len() as u64;
                        let pairs = with_stored(planned, &events, state.recorded_at);
                        outcome.duplicates += total - pairs.len() as u64;
                        pending.extend(pairs);
                    }
                    Some(ImportChunk::Abort(why)) => return Err(StoreError::Aborted(why)),
                    Some(ImportChunk::Historical(_)) => {
                        return Err(StoreError::Aborted(
                            "a historical declaration comes first, before any events".into(),
                        ))
                    }
                    None => return Err(StoreError::Aborted("the producer stopped".into())),
                    Some(ImportChunk::Commit) => break,
                }
            }
            let mut log = self.lock();
            if log.head() != head {
                // Another append slipped in: the planned positions no longer hold.
                return Err(StoreError::Aborted(
                    "the log moved during the import; retry".into(),
                ));
            }
            outcome.appended = pending.len() as u64;
            if let Some(h) = &historical {
                h.check_count(&outcome)?;
            }
            if let (Some((Planned::New(a), _)), Some((Planned::New(b), _))) =
                (pending.first(), pending.last())
            {
                outcome.range = Some((a.position, b.position));
            }
            log.apply(pending);
            self.committed.send_replace(state.head.position);
            Ok(outcome)
        }
        .boxed()
    }

    fn read_by_id<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredEvent>, StoreError>> {
        let log = self.lock();
        let found = log
            .ids
            .get(id)
            .and_then(|p| log.stored.get(usize::try_from(*p).ok()?.checked_sub(1)?))
            .cloned();
        futures::FutureExt::boxed(async move { Ok(found) })
    }

    fn read_stream<'a>(
        &'a self,
        stream: &'a str,
    ) -> BoxFuture<'a, Result<Vec<StoredEvent>, StoreError>> {
        let log = self.lock();
        let out = log
            .by_stream
            .get(stream)
            .map(|ps| {
                ps.iter()
                    .filter_map(|p| log.stored.get(*p as usize - 1).cloned())
                    .collect()
            })
            .unwrap_or_default();
        async move { Ok(out) }.boxed()
    }

    fn read_after(
        &self,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<StoredEvent>, StoreError>> {
        let out = page(&self.lock().stored, after, limit);
        async move { Ok(out) }.boxed()
    }

    fn read_raw_after(
        &self,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<RawEvent>, StoreError>> {
        let out = page(&self.lock().raws, after, limit);
        async move { Ok(out) }.boxed()
    }

    fn head(&self) -> BoxFuture<'_, Result<Head, StoreError>> {
        let head = self.lock().head();
        async move { Ok(head) }.boxed()
    }

    fn committed(&self) -> watch::Receiver<u64> {
        self.committed.subscribe()
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        self.lock().closed = true;
        async {}.boxed()
    }

    fn save_snapshot<'a>(
        &'a self,
        name: &'a str,
        position: u64,
        bytes: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.lock()
            .snapshots
            .insert(name.to_owned(), (position, bytes));
        async { Ok(()) }.boxed()
    }

    fn snapshot_names(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        let mut names: Vec<String> = self.lock().snapshots.keys().cloned().collect();
        names.sort();
        async move { Ok(names) }.boxed()
    }

    fn load_snapshot<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<(u64, Vec<u8>)>, StoreError>> {
        let found = self.lock().snapshots.get(name).cloned();
        async move { Ok(found) }.boxed()
    }

    fn index_state(&self) -> BoxFuture<'_, Result<IndexState, StoreError>> {
        let state = self.lock().index_state.unwrap_or(IndexState::EMPTY);
        async move { Ok(state) }.boxed()
    }

    fn index_rows<'a>(
        &'a self,
        streams: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<IndexRow>, StoreError>> {
        let log = self.lock();
        let wanted: std::collections::BTreeSet<&String> = streams.iter().collect();
        let rows = wanted
            .into_iter()
            .filter_map(|s| log.index.get(s).cloned())
            .collect();
        async move { Ok(rows) }.boxed()
    }

    fn index_active(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        let log = self.lock();
        let active = log
            .index
            .values()
            .filter(|r| r.active)
            .map(|r| r.stream.clone())
            .collect();
        async move { Ok(active) }.boxed()
    }

    fn write_index(&self, write: IndexWrite) -> BoxFuture<'_, Result<(), StoreError>> {
        let result = (|| {
            let mut log = self.lock();
            let stored = log.index_state.map_or(0, |s| s.position);
            write.check(stored, log.head().position)?;
            let log = &mut *log;
            for row in log.index.values_mut() {
                let after = write.mark_after.is_some_and(|m| row.max_occurred > m);
                if after || (write.mark_active && row.active) {
                    row.irregular = true;
                    log.kept.remove(&row.stream);
                }
            }
            let rows = crate::index::last_per_stream(write.rows);
            let kept: Vec<(String, Vec<u8>)> = crate::index::kept_rows(&rows, &write.kept)
                .into_iter()
                .map(|(k, _)| (k.stream.clone(), k.body.clone()))
                .collect();
            for row in rows {
                log.kept.remove(&row.stream);
                log.index.insert(row.stream.clone(), row);
            }
            log.kept.extend(kept);
            log.index_state = Some(write.state);
            Ok(())
        })();
        async move { result }.boxed()
    }

    fn reset_index(&self, expected: IndexState) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut log = self.lock();
        if log.index_state.unwrap_or(IndexState::EMPTY) == expected {
            log.index.clear();
            log.kept.clear();
            log.index_state = None;
        }
        async move { Ok(()) }.boxed()
    }

    fn index_select(&self, select: IndexSelect) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        let log = self.lock();
        let streams = log
            .index
            .values()
            .filter(|r| select.selects(r, log.kept.contains_key(&r.stream)))
            .map(|r| r.stream.clone())
            .collect();
        async move { Ok(streams) }.boxed()
    }

    fn index_kept(&self, by: i64) -> BoxFuture<'_, Result<Vec<KeptAlerts>, StoreError>> {
        let log = self.lock();
        let kept = log
            .kept
            .iter()
            .filter(|(s, _)| log.index.get(*s).is_some_and(|r| r.settled_by(by)))
            .map(|(s, body)| KeptAlerts {
                stream: s.clone(),
                body: body.clone(),
            })
            .collect();
        async move { Ok(kept) }.boxed()
    }
}
