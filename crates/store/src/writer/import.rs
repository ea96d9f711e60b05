//! The import pipeline: one transaction for a whole stream of chunks. The fast path assumes
//! a chunk's ids (and the cases it begins) are new, plans it without the database and writes it
//! in a run of chunks under one savepoint, planning the next chunk while the database takes the
//! one before; the unique indexes say when that was wrong, and only then is the run taken back
//! and each chunk looked up and planned again. A historical import's declaration leads the
//! first chunk and its declared count is checked before the commit.

use hashbrown::HashSet;

use jiancha_events::envelope::AUTO_ID_PREFIX;
use jiancha_events::{EventData, NewEvent, RawEvent};
use tokio::sync::mpsc;

use super::connection::is_unique_violation;
use super::lookup::{IdLookup, Prefetch};
use super::{LogConnection, PlannedIds, PreviousChunk, RunPlanner, Tagged, Writer};
use crate::error::StoreError;
use crate::historical::{HistoricalImport, HistoryOrder, DECLARATION_TAG};
use crate::plan::{plan_batch, Delta, Planned, TxState, Undo};
use crate::{ImportChunk, ImportMode, ImportOutcome};

/// Import chunks written as one run (one bulk write under one savepoint), at most: a refused
/// run is planned again chunk by chunk with lookups.
const RUN_CHUNKS_MAX: usize = 16;

impl<C: LogConnection> Writer<C> {
    /// Imports every chunk the producer sends, in one transaction.
    pub(super) async fn import(
        &mut self,
        chunks: mpsc::Receiver<ImportChunk>,
        mode: ImportMode,
    ) -> Result<ImportOutcome, StoreError> {
        let mut state = self.begin(PlannedIds::LeaveToDatabase).await?;
        state.moved_allowed |= mode == ImportMode::Moved;
        let mut outcome = ImportOutcome::default();
        let mut feed = Feed {
            chunks,
            held: None,
            last_chunk: PreviousChunk::Closed,
            declaration: None,
            historical: None,
            order: HistoryOrder::default(),
        };
        let imported = self.import_all(&mut state, &mut feed, &mut outcome).await;
        self.refuse_repeats = false;
        match imported {
            Ok(()) => {
                let advanced_to = (outcome.appended > 0).then_some(state.head.position);
                self.commit(state, advanced_to).await?;
                Ok(outcome)
            }
            Err(e) => {
                self.rollback().await;
                Err(e)
            }
        }
    }

    /// A historical import's declaration first, then every chunk; then the declared count.
    async fn import_all(
        &mut self,
        state: &mut TxState,
        feed: &mut Feed,
        outcome: &mut ImportOutcome,
    ) -> Result<(), StoreError> {
        feed.declare(state).await?;
        self.refuse_repeats = feed.historical.is_some();
        self.import_chunks(state, feed, outcome).await?;
        match &feed.historical {
            Some(h) => h.check_count(outcome),
            None => Ok(()),
        }
    }

    /// Writes every chunk until the producer says commit. The fast path assumes a chunk's ids
    /// (and the cases it begins) are new and lets the unique indexes say otherwise; only then
    /// is the chunk looked up and planned again (a retried import, an id repeated within the
    /// file). While the database takes one chunk, the next one is planned.
    async fn import_chunks(
        &mut self,
        state: &mut TxState,
        feed: &mut Feed,
        outcome: &mut ImportOutcome,
    ) -> Result<(), StoreError> {
        let mut next: Option<Next> = None;
        loop {
            let chunk = match next.take() {
                Some(chunk) => chunk,
                None => match feed.next().await? {
                    Some(events) => Next::Unplanned(events),
                    None => return Ok(()),
                },
            };
            let (events, plan) = match chunk {
                Next::Planned(events, plan) => (events, Some(plan)),
                Next::Unplanned(events) => {
                    let plan = self.plan_online(state, &events).await?;
                    (events, plan)
                }
            };
            let Some((planned, delta)) = plan else {
                let planned = self.import_chunk_looked_up(state, &events).await?;
                count_import(outcome, &planned);
                continue;
            };
            next = self
                .write_run(state, feed, outcome, (events, planned, delta))
                .await?;
        }
    }

    /// Writes a chunk planned on the fast path so that it can be taken back, with the chunks
    /// after it that are already waiting and plan on the fast path too (as many as the
    /// database takes in one bulk write, at most [`RUN_CHUNKS_MAX`]), planning each while the
    /// database takes the previous one. Returns the chunk that did not join the run (planned
    /// ahead when it could be).
    async fn write_run(
        &mut self,
        state: &mut TxState,
        feed: &mut Feed,
        outcome: &mut ImportOutcome,
        (events, planned, delta): (Tagged, Vec<Planned>, Delta),
    ) -> Result<Option<Next>, StoreError> {
        let first = state.head.position + 1;
        self.conn.open_chunk(feed.last_chunk).await?;
        feed.last_chunk = PreviousChunk::Open;
        let mut run = Run {
            state,
            feed,
            chunks: Vec::new(),
            counted: ImportOutcome::default(),
            next: None,
        };
        let rows = run.join(events, (planned, delta));
        let written = self.conn.insert_bulk_run(rows, &mut run).await;
        let Run {
            state,
            feed,
            chunks: mut run,
            counted,
            next: tail,
        } = run;
        match written {
            Ok(()) => {
                merge_counts(outcome, &counted);
                Ok(tail)
            }
            Err(StoreError::Database(e)) if is_unique_violation(&e) => {
                self.conn.drop_chunk(first).await?;
                feed.last_chunk = PreviousChunk::Closed;
                let mut chunks = Vec::with_capacity(run.len());
                while let Some((events, undo)) = run.pop() {
                    state.undo(undo);
                    chunks.push(events);
                }
                while let Some(events) = chunks.pop() {
                    let planned = self.import_chunk_looked_up(state, &events).await?;
                    count_import(outcome, &planned);
                }
                // The chunk after the run was planned on top of the run's failed plan.
                Ok(tail.map(Next::unplanned))
            }
            Err(e) => Err(e),
        }
    }

    /// Plans a chunk on the fast path, asking the database for the streams it does not know;
    /// `None` when the chunk must be looked up.
    async fn plan_online(
        &mut self,
        state: &mut TxState,
        events: &[(u64, NewEvent)],
    ) -> Result<Option<(Vec<Planned>, Delta)>, StoreError> {
        let all: Vec<&(u64, NewEvent)> = events.iter().collect();
        self.prefetch(state, &all, Prefetch::FastPath).await?;
        Ok(plan_offline(state, events))
    }

    /// Writes a chunk planned with every lookup (its ids and streams read from the log); a
    /// historical import refuses an id already stored.
    async fn import_chunk_looked_up(
        &mut self,
        state: &mut TxState,
        events: &[(u64, NewEvent)],
    ) -> Result<Vec<Planned>, StoreError> {
        let all: Vec<&(u64, NewEvent)> = events.iter().collect();
        let ids = self.prefetch(state, &all, Prefetch::LookedUp).await?;
        let (planned, delta) =
            plan_batch(state, &ids, events, None).map_err(StoreError::Rejected)?;
        if self.refuse_repeats {
            HistoricalImport::check_planned(events, &planned)?;
        }
        self.conn.insert_bulk(&new_rows(&planned)).await?;
        state.apply(delta);
        Ok(planned)
    }
}

/// The rows a plan adds (its duplicates are already stored).
fn new_rows(planned: &[Planned]) -> Vec<&RawEvent> {
    planned
        .iter()
        .filter_map(|p| match p {
            Planned::New(raw) => Some(&**raw),
            Planned::Duplicate(_) => None,
        })
        .collect()
}

/// A run being written: the chunks in it so far and what each replaced in the transaction's
/// state, their counts (added to the import's once the run is written), and the chunk after
/// the run once met. As the [`RunPlanner`] of the bulk write, it plans each chunk already
/// waiting while the database takes the one before; a chunk joins the run when it plans on the
/// fast path and the run has room ([`RUN_CHUNKS_MAX`]), and is otherwise kept as the next one.
struct Run<'a> {
    state: &'a mut TxState,
    feed: &'a mut Feed,
    chunks: Vec<(Tagged, Undo)>,
    counted: ImportOutcome,
    next: Option<Next>,
}

impl Run<'_> {
    /// Takes a chunk planned on the fast path into the run: counts it, applies its delta
    /// (keeping what it replaced) and returns its new rows.
    fn join(&mut self, events: Tagged, (planned, delta): (Vec<Planned>, Delta)) -> Vec<RawEvent> {
        count_import(&mut self.counted, &planned);
        self.chunks.push((events, self.state.apply_undoable(delta)));
        planned
            .into_iter()
            .filter_map(|p| match p {
                Planned::New(raw) => Some(*raw),
                Planned::Duplicate(_) => None,
            })
            .collect()
    }

    /// The chunk already waiting, planned on the fast path; `None` once the chunk after the run
    /// is known, when none waits, or when it cannot be planned so (then it is the next chunk,
    /// unplanned).
    fn plan_waiting(&mut self) -> Option<(Tagged, (Vec<Planned>, Delta))> {
        if self.next.is_some() {
            return None;
        }
        let events = self.feed.ready()?;
        match plan_offline(self.state, &events) {
            Some(plan) => Some((events, plan)),
            None => {
                self.next = Some(Next::Unplanned(events));
                None
            }
        }
    }
}

impl RunPlanner for Run<'_> {
    fn next_chunk(&mut self) -> Option<Vec<RawEvent>> {
        let (events, plan) = self.plan_waiting()?;
        if self.chunks.len() < RUN_CHUNKS_MAX {
            Some(self.join(events, plan))
        } else {
            self.next = Some(Next::Planned(events, plan));
            None
        }
    }

    fn plan_ahead(&mut self) {
        if let Some((events, plan)) = self.plan_waiting() {
            self.next = Some(Next::Planned(events, plan));
        }
    }
}

/// Adds a written run's counts to the import's.
fn merge_counts(outcome: &mut ImportOutcome, part: &ImportOutcome) {
    outcome.appended += part.appended;
    outcome.duplicates += part.duplicates;
    if let Some((first, last)) = part.range {
        outcome.range = Some((outcome.range.map_or(first, |(a, _)| a), last));
    }
}

/// Counts a written chunk's new rows and duplicates into the import's outcome.
fn count_import(outcome: &mut ImportOutcome, planned: &[Planned]) {
    for p in planned {
        match p {
            Planned::Duplicate(_) => outcome.duplicates += 1,
            Planned::New(raw) => {
                outcome.appended += 1;
                let first = outcome.range.map_or(raw.position, |(a, _)| a);
                outcome.range = Some((first, raw.position));
            }
        }
    }
}

/// The producer's side of an import, with a control message held back when it came while
/// looking for a waiting chunk, and whether the last chunk is still open. A historical
/// import's declaration leads the first chunk.
struct Feed {
    chunks: mpsc::Receiver<ImportChunk>,
    held: Option<ImportChunk>,
    last_chunk: PreviousChunk,
    declaration: Option<NewEvent>,
    historical: Option<HistoricalImport>,
    /// A historical import's order within each case.
    order: HistoryOrder,
}

impl Feed {
    /// Reads the first message: a historical declaration is built at the transaction's head
    /// and stamp; anything else is held for [`Feed::next`].
    async fn declare(&mut self, state: &TxState) -> Result<(), StoreError> {
        match self.chunks.recv().await {
            Some(ImportChunk::Historical(h)) => {
                let at = state.recorded_at;
                self.declaration = Some(h.declaration(state.head.position, at)?);
                self.historical = Some(h);
            }
            other => self.held = other,
        }
        Ok(())
    }

    /// The next chunk's events; `None` when the producer said commit.
    async fn next(&mut self) -> Result<Option<Tagged>, StoreError> {
        let message = match self.held.take() {
            Some(m) => Some(m),
            None => self.chunks.recv().await,
        };
        match message {
            Some(ImportChunk::Events(mut events)) => {
                if self.historical.is_some() {
                    HistoricalImport::check_events(&events)?;
                    self.order.check(&events)?;
                }
                if let Some(declaration) = self.declaration.take() {
                    events.insert(0, (DECLARATION_TAG, declaration));
                }
                Ok(Some(events))
            }
            Some(ImportChunk::Commit) => match self.declaration.take() {
                Some(declaration) => {
                    self.held = Some(ImportChunk::Commit);
                    Ok(Some(vec![(DECLARATION_TAG, declaration)]))
                }
                None => Ok(None),
            },
            Some(ImportChunk::Historical(_)) => Err(StoreError::Aborted(
                "a historical declaration comes first, before any events".into(),
            )),
            Some(ImportChunk::Abort(why)) => Err(StoreError::Aborted(why)),
            None => Err(StoreError::Aborted(
                "the producer stopped before the end".into(),
            )),
        }
    }

    /// The next chunk's events if they are already waiting.
    fn ready(&mut self) -> Option<Tagged> {
        if self.held.is_some() || self.declaration.is_some() {
            return None;
        }
        match self.chunks.try_recv() {
            Ok(ImportChunk::Events(events))
                if self.historical.is_some()
                    && (HistoricalImport::check_events(&events).is_err()
                        || self.order.check(&events).is_err()) =>
            {
                // `next` refuses it with the line at fault.
                self.held = Some(ImportChunk::Events(events));
                None
            }
            Ok(ImportChunk::Events(events)) => Some(events),
            Ok(other) => {
                self.held = Some(other);
                None
            }
            Err(_) => None,
        }
    }
}

/// The chunk after the one being written.
enum Next {
    /// Planned on the fast path while the previous chunk was being written.
    Planned(Tagged, (Vec<Planned>, Delta)),
    /// Still to be planned (it needs the database, or came later).
    Unplanned(Tagged),
}

impl Next {
    fn unplanned(self) -> Next {
        match self {
            Next::Planned(events, _) | Next::Unplanned(events) => Next::Unplanned(events),
        }
    }
}

/// Plans a chunk on the fast path without the database: every stream is known to the
/// transaction or begins here with `Submitted` (taken to be new), and every id is taken to be
/// new. `None` when that cannot be planned so: ids the log assigned (not in the unique index),
/// a stream to look up, or a refusal (which may only mean the events are already there).
fn plan_offline(state: &TxState, events: &[(u64, NewEvent)]) -> Option<(Vec<Planned>, Delta)> {
    let mut first_seen = HashSet::new();
    for (_, e) in events {
        let stream = e.stream.as_str();
        let assigned =
            e.id.as_deref()
                .is_some_and(|id| id.starts_with(AUTO_ID_PREFIX));
        let unknown = !state.versions.contains_key(stream)
            && first_seen.insert(stream)
            && !matches!(e.data, EventData::Submitted(_));
        if assigned || unknown {
            return None;
        }
    }
    // A repeated id is planned again with lookups, where a historical import refuses it.
    plan_batch(state, &IdLookup::default(), events, None)
        .ok()
        .filter(|(planned, _)| !planned.iter().any(|p| matches!(p, Planned::Duplicate(_))))
}
