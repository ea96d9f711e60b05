//! The SQLite store, the embedded default: one file in WAL mode, one writer task doing group
//! commit on its own connection, and a small pool of readers.
//!
//! The writer takes `BEGIN IMMEDIATE` (SQLite's write lock) for each group, reads and checks
//! the head row, plans the group's batches and inserts them with multi-row statements. Each
//! caller is answered after the commit. Positions are assigned under the write lock, so they
//! are gap-free and in commit order even when another process shares the file.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use jiancha_events::envelope::AUTO_ID_PREFIX;
use jiancha_events::{auto_id, ChainBreak, Hash, NewEvent, RawEvent, StoredEvent};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Row};
use tokio::sync::{mpsc, oneshot, watch};

use crate::clock::Clock;
use crate::error::{Rejection, StoreError};
use crate::plan::{plan_batch, ExistingId, Head, Lookup, Planned, TxState};
use crate::{AppendOutcome, EventStore, ImportChunk, ImportOutcome, GROUP_EVENTS_MAX};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Rows per multi-row INSERT: 13 parameters each, well under SQLite's variable limit.
const ROWS_PER_INSERT: usize = 100;

/// Values per `IN (…)` lookup.
const LOOKUP_KEYS_MAX: usize = 500;

/// Requests queued for the writer before appenders wait.
const WRITER_QUEUE_MAX: usize = 1024;

/// WAL pages between automatic checkpoints (SQLite's default is 1000).
const WAL_AUTOCHECKPOINT_PAGES: &str = "10000";

/// Reader connections.
const READERS_MAX: u32 = 4;

/// How long a connection waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) const COLUMNS: &str = "position, stream, version, id, type, schema, occurred_at, \
     recorded_at, actor, org, data, prev_hash, hash";

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A batch with each event's tag (its index in the batch).
type Tagged = Vec<(u64, NewEvent)>;

enum Request {
    Append {
        events: Vec<NewEvent>,
        reply: Reply<AppendOutcome>,
    },
    Import {
        chunks: mpsc::Receiver<ImportChunk>,
        reply: Reply<ImportOutcome>,
    },
    Close {
        done: oneshot::Sender<()>,
    },
}

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    requests: mpsc::Sender<Request>,
    pool: SqlitePool,
    committed: watch::Receiver<u64>,
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

impl SqliteStore {
    /// Opens (creating if needed) the file a `sqlite://` URL or plain path names, runs the
    /// migrations and starts the writer task.
    pub async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let url = if url.contains("://") {
            url.to_owned()
        } else {
            format!("sqlite://{url}")
        };
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(|e| StoreError::BadUrl {
                url: url.clone(),
                reason: e.to_string(),
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            // Statement journals of multi-row inserts stay in memory instead of temp files.
            .pragma("temp_store", "memory")
            // Checkpoint less often: a hot page is then copied to the database file once for
            // many commits instead of once for every few.
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)
            .log_statements(tracing::log::LevelFilter::Trace);
        let mut conn = options.connect().await?;
        MIGRATOR.run(&mut conn).await?;
        // The head's hash is checked by the writer before each append, not here: a store with
        // a broken chain must still open, so that `verify` can say where it breaks.
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM events")
            .fetch_one(&mut conn)
            .await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(READERS_MAX)
            .connect_with(options)
            .await?;
        let (requests, rx) = mpsc::channel(WRITER_QUEUE_MAX);
        let (committed_tx, committed) = watch::channel(last.map_or(0, to_u64));
        let writer = Writer {
            conn,
            clock,
            committed: committed_tx,
            broken: None,
            sql: SqlCache::default(),
            cache: HashMap::new(),
            cache_head: Head {
                position: u64::MAX,
                ..Head::default()
            },
        };
        tokio::spawn(writer.run(rx));
        Ok(SqliteStore {
            requests,
            pool,
            committed,
        })
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(make(reply))
            .await
            .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    async fn fetch_raw(&self, sql: &str, binds: &[i64]) -> Result<Vec<RawEvent>, StoreError> {
        let mut q = sqlx::query(sql);
        for b in binds {
            q = q.bind(*b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        Ok(rows.iter().map(raw_from_row).collect::<Result<_, _>>()?)
    }
}

fn decode_all(raws: Vec<RawEvent>) -> Result<Vec<StoredEvent>, StoreError> {
    raws.iter()
        .map(|r| r.decode().map_err(StoreError::from))
        .collect()
}

impl EventStore for SqliteStore {
    fn append(&self, events: Vec<NewEvent>) -> BoxFuture<'_, Result<AppendOutcome, StoreError>> {
        async move {
            if events.is_empty() {
                return Ok(AppendOutcome::default());
            }
            self.ask(|reply| Request::Append { events, reply }).await
        }
        .boxed()
    }

    fn import(
        &self,
        chunks: mpsc::Receiver<ImportChunk>,
    ) -> BoxFuture<'_, Result<ImportOutcome, StoreError>> {
        async move { self.ask(|reply| Request::Import { chunks, reply }).await }.boxed()
    }

    fn read_stream<'a>(
        &'a self,
        stream: &'a str,
    ) -> BoxFuture<'a, Result<Vec<StoredEvent>, StoreError>> {
        async move {
            let sql = format!("SELECT {COLUMNS} FROM events WHERE stream = ? ORDER BY version");
            let rows = sqlx::query(&sql).bind(stream).fetch_all(&self.pool).await?;
            let raws = rows
                .iter()
                .map(raw_from_row)
                .collect::<Result<Vec<_>, _>>()?;
            decode_all(raws)
        }
        .boxed()
    }

    fn read_after(
        &self,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<StoredEvent>, StoreError>> {
        async move { decode_all(self.read_raw_after(after, limit).await?) }.boxed()
    }

    fn read_raw_after(
        &self,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<RawEvent>, StoreError>> {
        async move {
            let sql = format!(
                "SELECT {COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?"
            );
            self.fetch_raw(&sql, &[to_i64(after), to_i64(limit as u64)])
                .await
        }
        .boxed()
    }

    fn head(&self) -> BoxFuture<'_, Result<Head, StoreError>> {
        async move {
            let row =
                sqlx::query("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1")
                    .fetch_optional(&self.pool)
                    .await?;
            Ok(match row {
                None => Head::default(),
                Some(row) => Head {
                    position: to_u64(row.try_get(0)?),
                    hash: hash_from(&row.try_get::<Vec<u8>, _>(1)?),
                },
            })
        }
        .boxed()
    }

    fn committed(&self) -> watch::Receiver<u64> {
        self.committed.clone()
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        async move {
            let (done, wait) = oneshot::channel();
            if self.requests.send(Request::Close { done }).await.is_ok() {
                let _ = wait.await;
            }
            self.pool.close().await;
        }
        .boxed()
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A stored hash; a blob of the wrong length becomes a hash that cannot match, so verification
/// reports the row instead of the reader failing.
fn hash_from(bytes: &[u8]) -> Hash {
    let mut out = [0u8; 32];
    let n = bytes.len().min(32);
    out[..n].copy_from_slice(&bytes[..n]);
    if bytes.len() != 32 {
        out[31] ^= 0xff;
    }
    Hash(out)
}

/// The id column's value: NULL for the id the log assigns itself.
fn stored_id(raw: &RawEvent) -> Option<&str> {
    let assigned =
        raw.id.starts_with(AUTO_ID_PREFIX) && raw.id == auto_id(&raw.stream, raw.version);
    (!assigned).then_some(raw.id.as_str())
}

pub(crate) fn raw_from_row(row: &SqliteRow) -> Result<RawEvent, sqlx::Error> {
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

async fn read_head(conn: &mut SqliteConnection) -> Result<Head, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM events ORDER BY position DESC LIMIT 1");
    let Some(row) = sqlx::query(&sql).fetch_optional(&mut *conn).await? else {
        return Ok(Head::default());
    };
    let raw = raw_from_row(&row)?;
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

#[derive(Default)]
struct SqlCache {
    inserts: HashMap<usize, String>,
    lookups: HashMap<(&'static str, usize), String>,
}

impl SqlCache {
    fn insert(&mut self, rows: usize) -> &str {
        self.inserts.entry(rows).or_insert_with(|| {
            let one = format!("({})", vec!["?"; 13].join(","));
            format!(
                "INSERT INTO events ({COLUMNS}) VALUES {}",
                vec![one; rows].join(",")
            )
        })
    }

    fn lookup(&mut self, kind: &'static str, keys: usize) -> &str {
        self.lookups.entry((kind, keys)).or_insert_with(|| {
            let marks = vec!["?"; keys].join(",");
            match kind {
                "stream" => format!(
                    "SELECT stream, MAX(version) FROM events WHERE stream IN ({marks}) GROUP BY stream"
                ),
                "position" => format!(
                    "SELECT id, position, stream, type, occurred_at, data, version FROM events WHERE position IN ({marks})"
                ),
                _ => format!(
                    "SELECT id, position, stream, type, occurred_at, data, version FROM events WHERE id IN ({marks})"
                ),
            }
        })
    }
}

struct Writer {
    conn: SqliteConnection,
    clock: Arc<dyn Clock>,
    committed: watch::Sender<u64>,
    broken: Option<ChainBreak>,
    sql: SqlCache,
    /// Stream versions as of `cache_head`; valid while the log's head is still there when a
    /// transaction begins (no other process wrote in between).
    cache: HashMap<String, u64>,
    cache_head: Head,
}

/// Stream versions cached between transactions, at most.
const VERSION_CACHE_MAX: usize = 1_000_000;

/// The ids the planner may meet, fetched before planning.
struct IdLookup(HashMap<String, ExistingId>);

impl Lookup for IdLookup {
    fn stream_version(&self, _stream: &str) -> u64 {
        // Every stream of a batch is fetched into the transaction state before planning.
        0
    }

    fn find_id(&self, id: &str) -> Option<ExistingId> {
        self.0.get(id).cloned()
    }
}

enum Step<T> {
    Done(T),
    Refused(Rejection),
}

fn new_rows(planned: &[Planned]) -> impl Iterator<Item = &RawEvent> {
    planned.iter().filter_map(|p| match p {
        Planned::New(raw) => Some(&**raw),
        Planned::Duplicate(_) => None,
    })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl Writer {
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
                Request::Import { chunks, reply } => {
                    let result = self.import(chunks).await;
                    let _ = reply.send(result);
                }
                Request::Append { events, reply } => {
                    let mut group = vec![(events, reply)];
                    let mut size = group[0].0.len();
                    while size < GROUP_EVENTS_MAX {
                        match requests.try_recv() {
                            Ok(Request::Append { events, reply }) => {
                                size += events.len();
                                group.push((events, reply));
                            }
                            Ok(other) => {
                                held = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    self.commit_group(group).await;
                }
            }
        }
        tracing::debug!("event log writer stopped");
    }

    async fn begin(&mut self, track_ids: bool) -> Result<TxState, StoreError> {
        if let Some(b) = &self.broken {
            return Err(StoreError::ChainBroken(b.clone()));
        }
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut self.conn)
            .await?;
        match read_head(&mut self.conn).await {
            Ok(head) => {
                let now = self.clock.now().with_timezone(&jiancha_events::time::CHINA);
                let mut state = TxState::new(head, now);
                state.track_ids = track_ids;
                if head == self.cache_head && self.cache.len() <= VERSION_CACHE_MAX {
                    state.versions = std::mem::take(&mut self.cache);
                }
                Ok(state)
            }
            Err(e) => {
                self.rollback().await;
                if let StoreError::ChainBroken(b) = &e {
                    tracing::error!(%b, "refusing to append to a broken chain");
                    self.broken = Some(b.clone());
                }
                Err(e)
            }
        }
    }

    async fn execute(&mut self, sql: &'static str) -> Result<(), sqlx::Error> {
        sqlx::query(sql).execute(&mut self.conn).await.map(|_| ())
    }

    async fn rollback(&mut self) {
        self.cache.clear();
        self.cache_head = Head {
            position: u64::MAX,
            ..Head::default()
        };
        if let Err(e) = self.execute("ROLLBACK").await {
            tracing::warn!(error = %e, "rollback failed");
        }
    }

    async fn commit(&mut self, state: TxState) -> Result<(), StoreError> {
        if let Err(e) = self.execute("COMMIT").await {
            self.rollback().await;
            return Err(e.into());
        }
        self.committed.send_replace(state.head.position);
        self.cache_head = state.head;
        self.cache = state.versions;
        Ok(())
    }

    /// One transaction for a group of appends: one lookup of their streams and ids, each batch
    /// planned on its own (a refused batch is skipped), all rows inserted together.
    async fn commit_group(&mut self, group: Vec<(Vec<NewEvent>, Reply<AppendOutcome>)>) {
        let mut state = match self.begin(true).await {
            Ok(s) => s,
            Err(e) => return fail_all(group.into_iter().map(|(_, r)| r), &e),
        };
        let batches: Vec<(Tagged, Reply<AppendOutcome>)> = group
            .into_iter()
            .map(|(events, reply)| {
                (
                    events
                        .into_iter()
                        .enumerate()
                        .map(|(i, e)| (i as u64, e))
                        .collect(),
                    reply,
                )
            })
            .collect();
        let all: Vec<&(u64, NewEvent)> = batches.iter().flat_map(|(b, _)| b).collect();
        let ids = match self.prefetch(&mut state, &all, true).await {
            Ok(ids) => ids,
            Err(e) => {
                self.rollback().await;
                return fail_all(batches.into_iter().map(|(_, r)| r), &e);
            }
        };
        let mut answers = Vec::with_capacity(batches.len());
        let mut rows: Vec<Box<RawEvent>> = Vec::new();
        for (events, reply) in batches {
            match plan_batch(&state, &ids, &events) {
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
                    answers.push((
                        reply,
                        Ok(AppendOutcome {
                            positions,
                            appended,
                        }),
                    ));
                }
                Err(r) => answers.push((reply, Err(StoreError::Rejected(r)))),
            }
        }
        let refs: Vec<&RawEvent> = rows.iter().map(|r| &**r).collect();
        let written = match self.insert(&refs).await {
            Ok(()) => self.commit(state).await,
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
        mut chunks: mpsc::Receiver<ImportChunk>,
    ) -> Result<ImportOutcome, StoreError> {
        let mut state = self.begin(false).await?;
        let mut outcome = ImportOutcome::default();
        let result = loop {
            match chunks.recv().await {
                Some(ImportChunk::Events(events)) => {
                    match self.import_chunk(&mut state, &events).await {
                        Ok(Step::Done(planned)) => count_import(&mut outcome, &planned),
                        Ok(Step::Refused(r)) => break Err(StoreError::Rejected(r)),
                        Err(e) => break Err(e),
                    }
                }
                Some(ImportChunk::Commit) => break Ok(()),
                Some(ImportChunk::Abort(why)) => break Err(StoreError::Aborted(why)),
                None => {
                    break Err(StoreError::Aborted(
                        "the producer stopped before the end".into(),
                    ))
                }
            }
        };
        match result {
            Ok(()) => {
                self.commit(state).await?;
                Ok(outcome)
            }
            Err(e) => {
                self.rollback().await;
                Err(e)
            }
        }
    }

    /// Plans and writes one chunk of an import. The fast path assumes its ids are new and lets
    /// the unique index say otherwise; only then are the ids looked up and the chunk planned
    /// again (a retried import, or an id repeated within the file).
    async fn import_chunk(
        &mut self,
        state: &mut TxState,
        events: &[(u64, NewEvent)],
    ) -> Result<Step<Vec<Planned>>, StoreError> {
        let all: Vec<&(u64, NewEvent)> = events.iter().collect();
        self.prefetch(state, &all, false).await?;
        let assigned_ids = events.iter().any(|(_, e)| {
            e.id.as_deref()
                .is_some_and(|id| id.starts_with(AUTO_ID_PREFIX))
        });
        if assigned_ids {
            // Such ids are not in the unique index, so only a lookup can find them again.
            return self.import_chunk_looked_up(state, events).await;
        }
        let none = IdLookup(HashMap::new());
        let (planned, delta) = match plan_batch(state, &none, events) {
            Ok(p) => p,
            Err(r) => return Ok(Step::Refused(r)),
        };
        self.execute("SAVEPOINT chunk").await?;
        match self.insert(&new_rows(&planned).collect::<Vec<_>>()).await {
            Ok(()) => {
                self.execute("RELEASE chunk").await?;
                state.apply(delta);
                return Ok(Step::Done(planned));
            }
            Err(StoreError::Database(e)) if is_unique_violation(&e) => {
                self.execute("ROLLBACK TO chunk").await?;
                self.execute("RELEASE chunk").await?;
            }
            Err(e) => return Err(e),
        }
        self.import_chunk_looked_up(state, events).await
    }

    async fn import_chunk_looked_up(
        &mut self,
        state: &mut TxState,
        events: &[(u64, NewEvent)],
    ) -> Result<Step<Vec<Planned>>, StoreError> {
        let all: Vec<&(u64, NewEvent)> = events.iter().collect();
        let ids = self.prefetch(state, &all, true).await?;
        let (planned, delta) = match plan_batch(state, &ids, events) {
            Ok(p) => p,
            Err(r) => return Ok(Step::Refused(r)),
        };
        self.insert(&new_rows(&planned).collect::<Vec<_>>()).await?;
        state.apply(delta);
        Ok(Step::Done(planned))
    }

    /// Loads the versions of streams the transaction does not know yet, and (when asked) the
    /// events already stored under the batch's ids.
    async fn prefetch(
        &mut self,
        state: &mut TxState,
        events: &[&(u64, NewEvent)],
        with_ids: bool,
    ) -> Result<IdLookup, StoreError> {
        let mut missing: Vec<&str> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (_, e) in events {
            let s = e.stream.as_str();
            if !state.versions.contains_key(s) && seen.insert(s) {
                missing.push(s);
            }
        }
        for keys in missing.chunks(LOOKUP_KEYS_MAX) {
            let rows = self.lookup("stream", keys).await?;
            for k in keys {
                state.versions.insert((*k).to_owned(), 0);
            }
            for row in rows {
                state
                    .versions
                    .insert(row.try_get(0)?, to_u64(row.try_get(1)?));
            }
        }
        let mut found = HashMap::new();
        if with_ids {
            self.fetch_ids(events, &mut found).await?;
        }
        Ok(IdLookup(found))
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
        let mut positions: Vec<String> = Vec::new();
        for (_, e) in events {
            match e.id.as_deref() {
                Some(id) if id.starts_with(AUTO_ID_PREFIX) => {
                    if let Some(p) = e.moved.as_ref().and_then(|m| m.position) {
                        positions.push(p.to_string());
                    }
                }
                Some(id) => given.push(id),
                None => {}
            }
        }
        let by_position: Vec<&str> = positions.iter().map(String::as_str).collect();
        for (kind, keys) in [("id", &given), ("position", &by_position)] {
            for chunk in keys.chunks(LOOKUP_KEYS_MAX) {
                for row in self.lookup(kind, chunk).await? {
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
                    found.insert(id, existing);
                }
            }
        }
        Ok(())
    }

    async fn lookup(
        &mut self,
        kind: &'static str,
        keys: &[&str],
    ) -> Result<Vec<SqliteRow>, StoreError> {
        let sql = self.sql.lookup(kind, keys.len()).to_owned();
        let mut q = sqlx::query(&sql);
        for k in keys {
            q = q.bind(*k);
        }
        Ok(q.fetch_all(&mut self.conn).await?)
    }

    async fn insert(&mut self, rows: &[&RawEvent]) -> Result<(), StoreError> {
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let sql = self.sql.insert(chunk.len()).to_owned();
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q
                    .bind(to_i64(r.position))
                    .bind(r.stream.as_str())
                    .bind(to_i64(r.version))
                    .bind(stored_id(r))
                    .bind(r.event_type.as_str())
                    .bind(i64::from(r.schema))
                    .bind(r.occurred_at.as_str())
                    .bind(r.recorded_at.as_str())
                    .bind(r.actor.as_str())
                    .bind(r.org.as_str())
                    .bind(r.data.as_str())
                    .bind(&r.prev_hash.0[..])
                    .bind(&r.hash.0[..]);
            }
            q.execute(&mut self.conn).await?;
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
