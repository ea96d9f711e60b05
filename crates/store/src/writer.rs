//! The writer task both SQL stores share: one task per store owns a connection, gathers queued
//! appends into one transaction (group commit), streams imports chunk by chunk, and answers
//! every caller after the commit. What differs between databases — how to take the write lock,
//! read the head, look rows up and insert them — sits behind [`LogConnection`]; the rules of the
//! log stay in [`crate::plan`].

use hashbrown::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;

use jiancha_events::envelope::AUTO_ID_PREFIX;
use jiancha_events::{auto_id, ChainBreak, Hash, NewEvent, RawEvent, StoredEvent};
use sqlx::{ColumnIndex, Decode, Row, Type};
use tokio::sync::{mpsc, oneshot, watch};

use crate::clock::Clock;
use crate::error::StoreError;
use crate::historical::{HistoricalImport, DECLARATION_TAG};
use crate::owner::CaseOwner;
use crate::plan::{plan_batch, Delta, ExistingId, Head, Lookup, Planned, TxState, Undo};
use crate::{AppendOutcome, ImportChunk, ImportMode, ImportOutcome, GROUP_EVENTS_MAX};

/// Values per lookup statement (`IN (…)` or `= ANY(…)`).
pub(crate) const LOOKUP_KEYS_MAX: usize = 500;

/// Requests queued for the writer before appenders wait.
const WRITER_QUEUE_MAX: usize = 1024;

/// Import chunks written as one run (one bulk write under one savepoint), at most: a refused
/// run is planned again chunk by chunk with lookups.
const RUN_CHUNKS_MAX: usize = 16;

/// Stream versions cached between transactions, at most.
const VERSION_CACHE_MAX: usize = 1_000_000;

/// The savepoint each import chunk is written under.
const SAVEPOINT: &str = "SAVEPOINT chunk";
/// Keeps the previous chunk and opens the next chunk's savepoint, in one round trip.
const RELEASE_AND_SAVEPOINT: &str = "RELEASE chunk; SAVEPOINT chunk";
/// Drops what the chunk wrote.
const ROLLBACK_TO_AND_RELEASE: &str = "ROLLBACK TO chunk; RELEASE chunk";

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A stored event that can move a case's accountable org: `(stream, type, org, data)`.
pub(crate) type OwnerRow = (String, String, String, String);

/// An append waiting for its group: the events, the org path it is scoped to, the caller.
type Pending = (Vec<NewEvent>, Option<String>, Reply<AppendOutcome>);

/// A batch with each event's tag (its index in the batch, or its line number).
type Tagged = Vec<(u64, NewEvent)>;

/// What the writer needs from its database connection. Every method but `begin` runs inside
/// the transaction `begin` opened; `commit` and `rollback` end it.
pub(crate) trait LogConnection: Send + 'static {
    /// Opens a transaction holding the log's write lock, so that nothing else appends until it
    /// ends. On failure no transaction is left open.
    fn begin(&mut self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The last stored event, as stored.
    fn last_event(&mut self) -> impl Future<Output = Result<Option<RawEvent>, StoreError>> + Send;

    /// `begin`, then `last_event` in the new transaction; a database may do both in one round
    /// trip. On failure no transaction is left open.
    fn begin_at_head(
        &mut self,
    ) -> impl Future<Output = Result<Option<RawEvent>, StoreError>> + Send {
        async move {
            self.begin().await?;
            match self.last_event().await {
                Ok(last) => Ok(last),
                Err(e) => {
                    self.rollback().await;
                    Err(e)
                }
            }
        }
    }

    /// Commits; `advanced_to` is the new head when the transaction wrote anything.
    fn commit(
        &mut self,
        advanced_to: Option<u64>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Rolls back whatever is open; a failure is logged (the connection may be gone).
    fn rollback(&mut self) -> impl Future<Output = ()> + Send;

    /// Runs one statement without parameters (savepoints).
    fn execute(&mut self, sql: &'static str)
        -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Opens an import chunk that [`LogConnection::drop_chunk`] can take back, keeping the
    /// previous chunk if one is still open. By default a savepoint per chunk.
    fn open_chunk(
        &mut self,
        previous_open: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.execute(if previous_open {
            RELEASE_AND_SAVEPOINT
        } else {
            SAVEPOINT
        })
    }

    /// Takes back what the open chunk wrote (its rows begin at position `first`) after the
    /// database refused it, and closes the chunk; the transaction goes on.
    fn drop_chunk(&mut self, first: u64) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = first;
        self.execute(ROLLBACK_TO_AND_RELEASE)
    }

    /// The current version of each of these streams that exists.
    fn stream_versions(
        &mut self,
        streams: &[&str],
    ) -> impl Future<Output = Result<Vec<(String, u64)>, StoreError>> + Send;

    /// The events stored under these caller-given ids, keyed by id.
    fn find_ids(
        &mut self,
        ids: &[&str],
    ) -> impl Future<Output = Result<Vec<(String, ExistingId)>, StoreError>> + Send;

    /// The events of these case streams that can move who answers for them
    /// ([`crate::owner::OWNER_TYPES`]), as `(stream, type, org, data)` in stream and version
    /// order.
    fn owner_rows(
        &mut self,
        streams: &[&str],
    ) -> impl Future<Output = Result<Vec<OwnerRow>, StoreError>> + Send;

    /// The events at these positions, keyed by id.
    fn find_positions(
        &mut self,
        positions: &[i64],
    ) -> impl Future<Output = Result<Vec<(String, ExistingId)>, StoreError>> + Send;

    /// Inserts sealed rows (a group commit).
    fn insert(&mut self, rows: &[&RawEvent])
        -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `insert`, then `commit`; a database may do both in one round trip. On failure the
    /// transaction may still be open.
    fn insert_and_commit(
        &mut self,
        rows: &[&RawEvent],
        advanced_to: Option<u64>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            self.insert(rows).await?;
            self.commit(advanced_to).await
        }
    }

    /// Inserts one import chunk; a database may have a faster path than `insert` for many rows.
    fn insert_bulk(
        &mut self,
        rows: &[&RawEvent],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.insert(rows)
    }

    /// Writes a run of import chunks as one bulk write where the database allows: `first`, then
    /// each chunk `more(true)` returns (asked once the previous one is sent), until it returns
    /// `None`. A database whose bulk write takes one chunk calls `more(false)` once while it
    /// works, for the caller to plan ahead. On failure the run may be partly written, until
    /// [`LogConnection::drop_chunk`].
    fn insert_bulk_run(
        &mut self,
        first: Vec<RawEvent>,
        mut more: impl FnMut(bool) -> Option<Vec<RawEvent>> + Send,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            let rows: Vec<&RawEvent> = first.iter().collect();
            let (written, ()) = self
                .insert_bulk_while(&rows, || {
                    let _ = more(false);
                })
                .await;
            written
        }
    }

    /// Inserts one import chunk like `insert_bulk`, running `meanwhile` while the database
    /// works on it where the database allows (the rows sent, the answer not yet awaited).
    fn insert_bulk_while<R: Send>(
        &mut self,
        rows: &[&RawEvent],
        meanwhile: impl FnOnce() -> R + Send,
    ) -> impl Future<Output = (Result<(), StoreError>, R)> + Send {
        async move {
            let written = self.insert_bulk(rows).await;
            (written, meanwhile())
        }
    }
}

enum Request {
    Append {
        events: Vec<NewEvent>,
        scope: Option<String>,
        reply: Reply<AppendOutcome>,
    },
    Import {
        chunks: mpsc::Receiver<ImportChunk>,
        mode: ImportMode,
        reply: Reply<ImportOutcome>,
    },
    Close {
        done: oneshot::Sender<()>,
    },
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Request::Append { .. } => "Append",
            Request::Import { .. } => "Import",
            Request::Close { .. } => "Close",
        })
    }
}

/// The way to a store's writer task.
#[derive(Debug, Clone)]
pub(crate) struct WriterHandle {
    requests: mpsc::Sender<Request>,
}

impl WriterHandle {
    /// Starts the writer task on `conn`. Each commit advances `committed` to its head.
    pub(crate) fn spawn<C: LogConnection>(
        conn: C,
        clock: Arc<dyn Clock>,
        committed: Arc<watch::Sender<u64>>,
    ) -> Self {
        let (requests, rx) = mpsc::channel(WRITER_QUEUE_MAX);
        let writer = Writer {
            conn,
            clock,
            committed,
            broken: None,
            cache: HashMap::new(),
            cache_head: unknown_head(),
            refuse_repeats: false,
        };
        tokio::spawn(writer.run(rx));
        WriterHandle { requests }
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(make(reply))
            .await
            .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Appends a batch, all or nothing, in the next group commit; with a scope, only to cases
    /// handled under it (checked in the commit's transaction).
    pub(crate) async fn append(
        &self,
        events: Vec<NewEvent>,
        scope: Option<String>,
    ) -> Result<AppendOutcome, StoreError> {
        if events.is_empty() {
            return Ok(AppendOutcome::default());
        }
        self.ask(|reply| Request::Append {
            events,
            scope,
            reply,
        })
        .await
    }

    /// Imports a stream of chunks in one transaction.
    pub(crate) async fn import(
        &self,
        chunks: mpsc::Receiver<ImportChunk>,
        mode: ImportMode,
    ) -> Result<ImportOutcome, StoreError> {
        self.ask(|reply| Request::Import {
            chunks,
            mode,
            reply,
        })
        .await
    }

    /// Stops the writer after the work already queued.
    pub(crate) async fn close(&self) {
        let (done, wait) = oneshot::channel();
        if self.requests.send(Request::Close { done }).await.is_ok() {
            let _ = wait.await;
        }
    }
}

/// A head no transaction starts from: the version cache is empty.
fn unknown_head() -> Head {
    Head {
        position: u64::MAX,
        ..Head::default()
    }
}

/// Decodes every row with `decode`.
pub(crate) fn decode_rows<R, T>(
    rows: &[R],
    decode: fn(&R) -> Result<T, sqlx::Error>,
) -> Result<Vec<T>, StoreError> {
    Ok(rows.iter().map(decode).collect::<Result<_, _>>()?)
}

/// Decodes rows selected as [`raw_from_row`] reads them. A row holding a value of the wrong
/// type (written behind the log's back) is reported at its position as
/// [`StoreError::Undecodable`], so that verification can name it, rather than as a driver
/// failure.
pub(crate) fn decode_raw_rows<R>(rows: &[R]) -> Result<Vec<RawEvent>, StoreError>
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    String: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: for<'r> Decode<'r, R::Database> + Type<R::Database>,
{
    rows.iter().map(decode_raw_row).collect()
}

/// Decodes one row like [`decode_raw_rows`].
pub(crate) fn decode_raw_row<R>(row: &R) -> Result<RawEvent, StoreError>
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    String: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: for<'r> Decode<'r, R::Database> + Type<R::Database>,
{
    raw_from_row(row).map_err(|e| match (&e, row.try_get::<i64, _>(0)) {
        (sqlx::Error::ColumnDecode { .. }, Ok(position)) => StoreError::Undecodable {
            position: to_u64(position),
            reason: e.to_string(),
        },
        _ => StoreError::Database(e),
    })
}

/// Decodes stored rows into typed events.
pub(crate) fn decode_all(raws: Vec<RawEvent>) -> Result<Vec<StoredEvent>, StoreError> {
    raws.iter()
        .map(|r| r.decode().map_err(StoreError::from))
        .collect()
}

/// A stored integer as the log's unsigned number (negative values do not occur).
pub(crate) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A number of the log as a database integer.
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A stored hash; a blob of the wrong length becomes a hash that cannot match, so verification
/// reports the row instead of the reader failing.
pub(crate) fn hash_from(bytes: &[u8]) -> Hash {
    let mut out = [0u8; 32];
    let n = bytes.len().min(32);
    out[..n].copy_from_slice(&bytes[..n]);
    if bytes.len() != 32 {
        out[31] ^= 0xff;
    }
    Hash(out)
}

/// The id column's value: NULL for the id the log assigns itself.
pub(crate) fn stored_id(raw: &RawEvent) -> Option<&str> {
    let assigned =
        raw.id.starts_with(AUTO_ID_PREFIX) && raw.id == auto_id(&raw.stream, raw.version);
    (!assigned).then_some(raw.id.as_str())
}

/// Decodes a row selected as `position, stream, version, id, type, schema, occurred_at,
/// recorded_at, actor, org, data, prev_hash, hash` (integers as 64-bit).
pub(crate) fn raw_from_row<R>(row: &R) -> Result<RawEvent, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    String: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: for<'r> Decode<'r, R::Database> + Type<R::Database>,
{
    let stream: String = row.try_get(1)?;
    let version = to_u64(row.try_get(2)?);
    let id = row
        .try_get::<Option<String>, _>(3)?
        .unwrap_or_else(|| auto_id(&stream, version));
    Ok(RawEvent {
        position: to_u64(row.try_get(0)?),
        stream,
        version,
        id,
        event_type: row.try_get(4)?,
        schema: u32::try_from(row.try_get::<i64, _>(5)?).unwrap_or(0),
        occurred_at: row.try_get(6)?,
        recorded_at: row.try_get(7)?,
        actor: row.try_get(8)?,
        org: row.try_get(9)?,
        data: row.try_get(10)?,
        prev_hash: hash_from(&row.try_get::<Vec<u8>, _>(11)?),
        hash: hash_from(&row.try_get::<Vec<u8>, _>(12)?),
    })
}

/// Decodes a row selected as `id, position, stream, type, occurred_at, data, version`.
pub(crate) fn existing_from_row<R>(row: &R) -> Result<(String, ExistingId), sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    String: for<'r> Decode<'r, R::Database> + Type<R::Database>,
{
    let stream: String = row.try_get(2)?;
    let version = to_u64(row.try_get(6)?);
    let id = row
        .try_get::<Option<String>, _>(0)?
        .unwrap_or_else(|| auto_id(&stream, version));
    let existing = ExistingId {
        position: to_u64(row.try_get(1)?),
        stream,
        event_type: row.try_get(3)?,
        occurred_at: row.try_get(4)?,
        data: row.try_get(5)?,
    };
    Ok((id, existing))
}

struct Writer<C> {
    conn: C,
    clock: Arc<dyn Clock>,
    committed: Arc<watch::Sender<u64>>,
    broken: Option<ChainBreak>,
    /// Stream versions as of `cache_head`; valid while the log's head is still there when a
    /// transaction begins (no other process wrote in between).
    cache: HashMap<String, u64>,
    cache_head: Head,
    /// Set during a historical import: an id already in the log is refused, not skipped.
    refuse_repeats: bool,
}

/// The ids the planner may meet, and the owners of the stored cases scoped batches touch,
/// fetched before planning.
#[derive(Default)]
struct IdLookup {
    ids: HashMap<String, ExistingId>,
    owners: HashMap<String, CaseOwner>,
}

impl Lookup for IdLookup {
    fn stream_version(&self, _stream: &str) -> u64 {
        // Every stream of a batch is fetched into the transaction state before planning.
        0
    }

    fn find_id(&self, id: &str) -> Option<ExistingId> {
        self.ids.get(id).cloned()
    }

    fn case_owner(&self, stream: &str) -> Option<CaseOwner> {
        self.owners.get(stream).cloned()
    }
}

/// Folds owner rows (in stream and version order) into each case's owner.
fn fold_owners(rows: &[OwnerRow], into: &mut HashMap<String, CaseOwner>) {
    let mut rest = rows;
    while let Some((first, _)) = rest.split_first() {
        let stream = first.0.as_str();
        let end = rest
            .iter()
            .position(|r| r.0 != stream)
            .unwrap_or(rest.len());
        let (case, after) = rest.split_at(end);
        let events = case
            .iter()
            .map(|(_, t, org, data)| (t.as_str(), org.as_str(), data.as_str()));
        if let Some(owner) = CaseOwner::fold_rows(events) {
            into.insert(stream.to_owned(), owner);
        }
        rest = after;
    }
}

fn new_rows(planned: &[Planned]) -> Vec<&RawEvent> {
    planned
        .iter()
        .filter_map(|p| match p {
            Planned::New(raw) => Some(&**raw),
            Planned::Duplicate(_) => None,
        })
        .collect()
}

/// Whether the database refused rows because their id or (stream, version) is taken. SQLite's
/// append-only trigger refuses such a row before the unique index would (so that `INSERT OR
/// REPLACE` cannot delete the row it collides with), with a message carrying
/// [`DUPLICATE_REFUSAL`].
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db)
        if db.is_unique_violation() || db.message().contains(DUPLICATE_REFUSAL))
}

/// The words SQLite's append-only trigger (migration 0005) refuses a duplicate id or (stream,
/// version) with.
pub(crate) const DUPLICATE_REFUSAL: &str = "duplicate id or stream version";

/// Checks that the head event's stored hash matches its contents.
fn checked_head(last: Option<RawEvent>) -> Result<Head, StoreError> {
    let Some(raw) = last else {
        return Ok(Head::default());
    };
    if raw.compute_hash() != raw.hash {
        return Err(StoreError::ChainBroken(ChainBreak {
            position: raw.position,
            reason: "the head event's stored hash does not match its contents".into(),
        }));
    }
    Ok(Head {
        position: raw.position,
        hash: raw.hash,
    })
}

impl<C: LogConnection> Writer<C> {
    async fn run(mut self, mut requests: mpsc::Receiver<Request>) {
        let mut held: Option<Request> = None;
        loop {
            let Some(request) = held.take().or(requests.recv().await) else {
                break;
            };
            match request {
                Request::Close { done } => {
                    let _ = done.send(());
                    break;
                }
                Request::Import {
                    chunks,
                    mode,
                    reply,
                } => {
                    let result = self.import(chunks, mode).await;
                    let _ = reply.send(result);
                }
                Request::Append {
                    events,
                    scope,
                    reply,
                } => {
                    let mut group = vec![(events, scope, reply)];
                    let begun = {
                        // The transaction is opened while the group gathers: the first poll
                        // hands `BEGIN` to the database, which takes it while callers send.
                        let mut begin = std::pin::pin!(self.begin(true));
                        let early =
                            std::future::poll_fn(|cx| Poll::Ready(begin.as_mut().poll(cx))).await;
                        held = gather(&mut requests, &mut group).await;
                        match early {
                            Poll::Ready(begun) => begun,
                            Poll::Pending => begin.await,
                        }
                    };
                    match begun {
                        Ok(state) => self.commit_group(state, group).await,
                        Err(e) => fail_all(group.into_iter().map(|(_, _, r)| r), &e),
                    }
                }
            }
        }
        tracing::debug!("event log writer stopped");
    }

    async fn begin(&mut self, track_ids: bool) -> Result<TxState, StoreError> {
        if let Some(b) = &self.broken {
            return Err(StoreError::ChainBroken(b.clone()));
        }
        let last = match self.conn.begin_at_head().await {
            Err(StoreError::Undecodable { position, reason }) => {
                let b = ChainBreak {
                    position,
                    reason: format!("the stored row cannot be read ({reason})"),
                };
                tracing::error!(%b, "refusing to append to a broken chain");
                self.broken = Some(b.clone());
                return Err(StoreError::ChainBroken(b));
            }
            other => other?,
        };
        let head = match checked_head(last) {
            Ok(head) => head,
            Err(e) => {
                self.rollback().await;
                if let StoreError::ChainBroken(b) = &e {
                    tracing::error!(%b, "refusing to append to a broken chain");
                    self.broken = Some(b.clone());
                }
                return Err(e);
            }
        };
        let now = self.clock.now().with_timezone(&jiancha_events::time::CHINA);
        let mut state = TxState::new(head, now);
        state.track_ids = track_ids;
        state.track_owners = false;
        if head == self.cache_head && self.cache.len() <= VERSION_CACHE_MAX {
            state.versions = std::mem::take(&mut self.cache);
        }
        Ok(state)
    }

    async fn rollback(&mut self) {
        self.cache.clear();
        self.cache_head = unknown_head();
        self.conn.rollback().await;
    }

    async fn commit(&mut self, state: TxState, wrote: bool) -> Result<(), StoreError> {
        let head = state.head.position;
        if let Err(e) = self.conn.commit(wrote.then_some(head)).await {
            self.rollback().await;
            return Err(e);
        }
        self.committed(state);
        Ok(())
    }

    /// Tells the followers a commit moved the head, and keeps its versions for the next one.
    fn committed(&mut self, state: TxState) {
        let head = state.head.position;
        self.committed.send_if_modified(|c| {
            let moved = head > *c;
            if moved {
                *c = head;
            }
            moved
        });
        self.cache_head = state.head;
        self.cache = state.versions;
    }

    /// One transaction for a group of appends: one lookup of their streams and ids, each batch
    /// planned on its own (a refused batch is skipped), all rows inserted together.
    async fn commit_group(&mut self, mut state: TxState, group: Vec<Pending>) {
        let batches: Vec<(Tagged, Option<String>, Reply<AppendOutcome>)> = group
            .into_iter()
            .map(|(events, scope, reply)| {
                let tagged = events
                    .into_iter()
                    .zip(0u64..)
                    .map(|(e, i)| (i, e))
                    .collect();
                (tagged, scope, reply)
            })
            .collect();
        let all: Vec<&(u64, NewEvent)> = batches.iter().flat_map(|(b, _, _)| b).collect();
        let scoped: Vec<&(u64, NewEvent)> = batches
            .iter()
            .filter(|(_, scope, _)| scope.is_some())
            .flat_map(|(b, _, _)| b)
            .collect();
        // Owners are followed through the group only when a batch of it is scoped: an
        // unscoped batch before it may move a case the scoped one writes to.
        state.track_owners = !scoped.is_empty();
        let looked_up = match self.prefetch(&mut state, &all, true, false).await {
            Ok(mut ids) => self
                .fetch_owners(&state, &scoped, &mut ids.owners)
                .await
                .map(|()| ids),
            Err(e) => Err(e),
        };
        let ids = match looked_up {
            Ok(ids) => ids,
            Err(e) => {
                self.rollback().await;
                return fail_all(batches.into_iter().map(|(_, _, r)| r), &e);
            }
        };
        let mut answers = Vec::with_capacity(batches.len());
        let mut rows: Vec<Box<RawEvent>> = Vec::new();
        for (events, scope, reply) in batches {
            match plan_batch(&state, &ids, &events, scope.as_deref()) {
                Ok((planned, delta)) => {
                    state.apply(delta);
                    let positions = planned.iter().map(planned_position).collect();
                    let mut appended = 0;
                    for p in planned {
                        if let Planned::New(raw) = p {
                            rows.push(raw);
                            appended += 1;
                        }
                    }
                    let outcome = AppendOutcome {
                        positions,
                        appended,
                    };
                    answers.push((reply, Ok(outcome)));
                }
                Err(r) => answers.push((reply, Err(StoreError::Rejected(r)))),
            }
        }
        let refs: Vec<&RawEvent> = rows.iter().map(|r| &**r).collect();
        let advanced_to = (!refs.is_empty()).then_some(state.head.position);
        let written = match self.conn.insert_and_commit(&refs, advanced_to).await {
            Ok(()) => {
                self.committed(state);
                Ok(())
            }
            Err(e) => {
                self.rollback().await;
                Err(e)
            }
        };
        if let Err(e) = written {
            return fail_all(answers.into_iter().map(|(r, _)| r), &e);
        }
        for (reply, answer) in answers {
            let _ = reply.send(answer);
        }
    }

    async fn import(
        &mut self,
        chunks: mpsc::Receiver<ImportChunk>,
        mode: ImportMode,
    ) -> Result<ImportOutcome, StoreError> {
        let mut state = self.begin(false).await?;
        state.moved_allowed |= mode == ImportMode::Moved;
        let mut outcome = ImportOutcome::default();
        let mut feed = Feed {
            chunks,
            held: None,
            chunk_open: false,
            declaration: None,
            historical: None,
        };
        let imported = self.import_all(&mut state, &mut feed, &mut outcome).await;
        self.refuse_repeats = false;
        match imported {
            Ok(()) => {
                self.commit(state, outcome.appended > 0).await?;
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
        self.conn.open_chunk(feed.chunk_open).await?;
        feed.chunk_open = true;
        let mut run: Vec<(Tagged, Undo)> = Vec::new();
        let mut counted = ImportOutcome::default();
        let mut tail: Option<Next> = None;
        let rows = join_run(state, &mut run, &mut counted, events, (planned, delta));
        let written = {
            let (state, run, counted, tail, chunks) =
                (&mut *state, &mut run, &mut counted, &mut tail, &mut *feed);
            self.conn
                .insert_bulk_run(rows, move |can_take| {
                    if tail.is_some() {
                        return None;
                    }
                    let events = chunks.ready()?;
                    match plan_offline(state, &events) {
                        Some(plan) if can_take && run.len() < RUN_CHUNKS_MAX => {
                            Some(join_run(state, run, counted, events, plan))
                        }
                        Some(plan) => {
                            *tail = Some(Next::Planned(events, plan));
                            None
                        }
                        None => {
                            *tail = Some(Next::Unplanned(events));
                            None
                        }
                    }
                })
                .await
        };
        match written {
            Ok(()) => {
                merge_counts(outcome, &counted);
                Ok(tail)
            }
            Err(StoreError::Database(e)) if is_unique_violation(&e) => {
                self.conn.drop_chunk(first).await?;
                feed.chunk_open = false;
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
        self.prefetch(state, &all, false, true).await?;
        Ok(plan_offline(state, events))
    }

    async fn import_chunk_looked_up(
        &mut self,
        state: &mut TxState,
        events: &[(u64, NewEvent)],
    ) -> Result<Vec<Planned>, StoreError> {
        let all: Vec<&(u64, NewEvent)> = events.iter().collect();
        let ids = self.prefetch(state, &all, true, false).await?;
        let (planned, delta) =
            plan_batch(state, &ids, events, None).map_err(StoreError::Rejected)?;
        if self.refuse_repeats {
            HistoricalImport::check_planned(events, &planned)?;
        }
        self.conn.insert_bulk(&new_rows(&planned)).await?;
        state.apply(delta);
        Ok(planned)
    }

    /// Loads the versions of streams the transaction does not know yet, and (when asked) the
    /// events already stored under the batch's ids.
    /// With `optimistic` (the import's fast path), a stream whose first event here is a
    /// `Submitted` is taken to be new without asking: planning counts it at version 0, and if it
    /// does exist the unique index refuses the rows and the chunk is looked up properly.
    async fn prefetch(
        &mut self,
        state: &mut TxState,
        events: &[&(u64, NewEvent)],
        with_ids: bool,
        optimistic: bool,
    ) -> Result<IdLookup, StoreError> {
        let mut missing: Vec<&str> = Vec::new();
        let mut seen = HashSet::new();
        for (_, e) in events {
            let s = e.stream.as_str();
            if state.versions.contains_key(s) || !seen.insert(s) {
                continue;
            }
            if !(optimistic && e.data.type_name() == "Submitted") {
                missing.push(s);
            }
        }
        for keys in missing.chunks(LOOKUP_KEYS_MAX) {
            let found = self.conn.stream_versions(keys).await?;
            for k in keys {
                state.versions.insert((*k).to_owned(), 0);
            }
            state.versions.extend(found);
        }
        let mut found = IdLookup::default();
        if with_ids {
            self.fetch_ids(events, &mut found.ids).await?;
        }
        Ok(found)
    }

    /// Reads, in this transaction, who answers for each stored case these (scoped) events
    /// touch, unless the transaction already knows.
    async fn fetch_owners(
        &mut self,
        state: &TxState,
        events: &[&(u64, NewEvent)],
        owners: &mut HashMap<String, CaseOwner>,
    ) -> Result<(), StoreError> {
        let mut streams: Vec<&str> = Vec::new();
        let mut seen = HashSet::new();
        for (_, e) in events {
            let s = e.stream.as_str();
            let stored = state.versions.get(s).is_some_and(|v| *v > 0);
            let case = e.stream.kind() == jiancha_events::StreamKind::Case;
            if case && stored && !state.owners.contains_key(s) && seen.insert(s) {
                streams.push(s);
            }
        }
        for keys in streams.chunks(LOOKUP_KEYS_MAX) {
            let rows = self.conn.owner_rows(keys).await?;
            fold_owners(&rows, owners);
        }
        Ok(())
    }

    /// Finds the stored events under the batch's ids. Ids the log assigned are not in the id
    /// index; they come only with moved events, which say their position, so those positions
    /// are read instead.
    async fn fetch_ids(
        &mut self,
        events: &[&(u64, NewEvent)],
        found: &mut HashMap<String, ExistingId>,
    ) -> Result<(), StoreError> {
        let mut given: Vec<&str> = Vec::new();
        let mut positions: Vec<i64> = Vec::new();
        for (_, e) in events {
            match e.id.as_deref() {
                Some(id) if id.starts_with(AUTO_ID_PREFIX) => {
                    if let Some(p) = e.moved.as_ref().and_then(|m| m.position) {
                        positions.push(to_i64(p));
                    }
                }
                Some(id) => given.push(id),
                None => {}
            }
        }
        for keys in given.chunks(LOOKUP_KEYS_MAX) {
            found.extend(self.conn.find_ids(keys).await?);
        }
        for keys in positions.chunks(LOOKUP_KEYS_MAX) {
            found.extend(self.conn.find_positions(keys).await?);
        }
        Ok(())
    }
}

fn planned_position(p: &Planned) -> u64 {
    match p {
        Planned::Duplicate(pos) => *pos,
        Planned::New(raw) => raw.position,
    }
}

/// Takes a chunk planned on the fast path into a run: counts it, applies its delta (keeping
/// what it replaced) and returns its new rows.
fn join_run(
    state: &mut TxState,
    run: &mut Vec<(Tagged, Undo)>,
    counted: &mut ImportOutcome,
    events: Tagged,
    (planned, delta): (Vec<Planned>, Delta),
) -> Vec<RawEvent> {
    count_import(counted, &planned);
    run.push((events, state.apply_undoable(delta)));
    planned
        .into_iter()
        .filter_map(|p| match p {
            Planned::New(raw) => Some(*raw),
            Planned::Duplicate(_) => None,
        })
        .collect()
}

/// Adds a written run's counts to the import's.
fn merge_counts(outcome: &mut ImportOutcome, part: &ImportOutcome) {
    outcome.appended += part.appended;
    outcome.duplicates += part.duplicates;
    if let Some((first, last)) = part.range {
        outcome.range = Some((outcome.range.map_or(first, |(a, _)| a), last));
    }
}

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
/// looking for a waiting chunk, and whether the last chunk is still open (kept when the next
/// one opens, or by the commit). A historical import's declaration leads the first chunk.
struct Feed {
    chunks: mpsc::Receiver<ImportChunk>,
    held: Option<ImportChunk>,
    chunk_open: bool,
    declaration: Option<NewEvent>,
    historical: Option<HistoricalImport>,
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
                    && HistoricalImport::check_events(&events).is_err() =>
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
            && e.data.type_name() != "Submitted";
        if assigned || unknown {
            return None;
        }
    }
    // A repeated id is planned again with lookups, where a historical import refuses it.
    plan_batch(state, &IdLookup::default(), events, None)
        .ok()
        .filter(|(planned, _)| !planned.iter().any(|p| matches!(p, Planned::Duplicate(_))))
}

/// Gathers queued appends into `group` until the queue stays empty across one yield: callers
/// answered by the last commit get to send their next append into this group instead of
/// waiting out a commit of half the callers. Returns a request of another kind that ended the
/// gathering, to be handled next.
async fn gather(
    requests: &mut mpsc::Receiver<Request>,
    group: &mut Vec<Pending>,
) -> Option<Request> {
    let mut size: usize = group.iter().map(|(events, _, _)| events.len()).sum();
    let mut yielded = false;
    while size < GROUP_EVENTS_MAX {
        match requests.try_recv() {
            Ok(Request::Append {
                events,
                scope,
                reply,
            }) => {
                size += events.len();
                group.push((events, scope, reply));
                yielded = false;
            }
            Ok(other) => return Some(other),
            Err(_) if !yielded => {
                tokio::task::yield_now().await;
                yielded = true;
            }
            Err(_) => break,
        }
    }
    None
}

/// Answers every caller of a failed group with the same failure.
fn fail_all<T>(replies: impl Iterator<Item = Reply<T>>, error: &StoreError) {
    for reply in replies {
        let copy = match error {
            StoreError::ChainBroken(b) => StoreError::ChainBroken(b.clone()),
            other => StoreError::GroupFailed(other.to_string()),
        };
        let _ = reply.send(Err(copy));
    }
}
