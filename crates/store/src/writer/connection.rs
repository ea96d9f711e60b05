//! What the writer needs from its database: the [`LogConnection`] trait SQLite and PostgreSQL
//! implement (the write lock, the head, the lookups a plan needs, inserts, and import chunks
//! that can be taken back), the [`RunPlanner`] a bulk write asks for the chunks after its
//! first, and how a database says that rows collide with stored ones.

use std::future::Future;

use jiancha_events::RawEvent;

use crate::error::StoreError;
use crate::plan::ExistingId;

/// Values per lookup statement (`IN (…)` or `= ANY(…)`).
pub(crate) const LOOKUP_KEYS_MAX: usize = 500;

/// The savepoint each import chunk is written under.
const SAVEPOINT: &str = "SAVEPOINT chunk";
/// Keeps the previous chunk and opens the next chunk's savepoint, in one round trip.
const RELEASE_AND_SAVEPOINT: &str = "RELEASE chunk; SAVEPOINT chunk";
/// Drops what the chunk wrote.
const ROLLBACK_TO_AND_RELEASE: &str = "ROLLBACK TO chunk; RELEASE chunk";
/// A stored event that can move a case's accountable org: `(stream, type, org, data)`.
pub(crate) type OwnerRow = (String, String, String, String);

/// Whether the import chunk before the one being opened is still open (its savepoint not yet
/// released).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PreviousChunk {
    /// Kept when the next one opens, or by the commit.
    Open,
    /// None is open: the first chunk, or the last one was taken back.
    Closed,
}

/// Where the chunks of a bulk run after its first come from: the import plans each while the
/// database takes the one before.
pub(crate) trait RunPlanner: Send {
    /// The rows of the next chunk to write in the same bulk write, asked once the previous
    /// chunk's rows are sent; `None` ends the run.
    fn next_chunk(&mut self) -> Option<Vec<RawEvent>>;

    /// Plans the next chunk ahead, to be written after this run: called once, while a database
    /// whose bulk write takes only one chunk works on it.
    fn plan_ahead(&mut self);
}

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
    /// previous chunk if it is still open. By default a savepoint per chunk.
    fn open_chunk(
        &mut self,
        previous: PreviousChunk,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.execute(match previous {
            PreviousChunk::Open => RELEASE_AND_SAVEPOINT,
            PreviousChunk::Closed => SAVEPOINT,
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
    /// each chunk [`RunPlanner::next_chunk`] gives (asked once the previous one is sent), until
    /// it gives `None`. A database whose bulk write takes one chunk calls
    /// [`RunPlanner::plan_ahead`] once while it works instead. On failure the run may be partly
    /// written, until [`LogConnection::drop_chunk`].
    fn insert_bulk_run(
        &mut self,
        first: Vec<RawEvent>,
        planner: &mut impl RunPlanner,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            let rows: Vec<&RawEvent> = first.iter().collect();
            let (written, ()) = self.insert_bulk_while(&rows, || planner.plan_ahead()).await;
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

/// Whether the database refused rows because their id or (stream, version) is taken. SQLite's
/// append-only trigger refuses such a row before the unique index would (so that `INSERT OR
/// REPLACE` cannot delete the row it collides with), with a message carrying
/// [`DUPLICATE_REFUSAL`].
pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db)
        if db.is_unique_violation() || db.message().contains(DUPLICATE_REFUSAL))
}

/// The words SQLite's append-only trigger (migration 0005) refuses a duplicate id or (stream,
/// version) with.
pub(crate) const DUPLICATE_REFUSAL: &str = "duplicate id or stream version";
