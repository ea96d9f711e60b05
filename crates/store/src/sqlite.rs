//! The SQLite store, the embedded default: one file in WAL mode, one writer task doing group
//! commit on its own connection, and a small pool of readers.
//!
//! The writer (shared with PostgreSQL, in `writer.rs`) takes `BEGIN IMMEDIATE` (SQLite's write
//! lock) for each group, reads and checks the head row, plans the group's batches and inserts
//! them with multi-row statements. Each caller is answered after the commit. Positions are
//! assigned under the write lock, so they are gap-free and in commit order even when another
//! process shares the file.

use std::collections::HashMap;
use std::future::Future as _;
use std::str::FromStr;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use jiancha_events::RawEvent;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Row};
use tokio::sync::watch;

mod bulk;

use crate::clock::Clock;
use crate::error::StoreError;
use crate::index::{is_kept, kept_rows, IndexRow, IndexSelect, IndexState, IndexWrite, KeptAlerts};
use crate::plan::{ExistingId, Head};
use crate::rows::{
    decode_raw_row, decode_raw_rows, decode_rows, existing_from_row, hash_from, index_row,
    owner_row, stored_id, to_i64, to_u64,
};
use crate::sql::{join_snapshot, Reads, SqlStore};
use crate::writer::{LogConnection, OwnerRow, PreviousChunk, WriterHandle};
use crate::{Snapshot, SNAPSHOT_PART_BYTES};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The case a supervision act names: the expression of the `events_supervision_case` index
/// (migration 0007), word for word, so that the index is used. `NULL` for an event that names
/// no case, `''` for an id without a case part.
macro_rules! case_of_act {
    () => {
        "coalesce(json_extract(data, '$.case'), substr(coalesce(json_extract(data, '$.alert'), \
         json_extract(data, '$.complaint'), json_extract(data, '$.notification')), 1, \
         instr(coalesce(json_extract(data, '$.alert'), json_extract(data, '$.complaint'), \
         json_extract(data, '$.notification')), '/') - 1))"
    };
}

/// The supervision acts that name the case `?1`.
const ACTS_ON_CASE: &str = concat!(
    " FROM events WHERE stream = 'supervision' AND ",
    case_of_act!(),
    " = ?1"
);

/// The case a supervision act names, as [`ACTS_ON_CASE`] reads it.
const CASE_OF_ACT: &str = case_of_act!();

/// Streams per statement of a read by stream names (bound parameters; each is used twice in a
/// context read's statement).
const STREAMS_PER_READ: usize = 500;

/// Index rows per INSERT of `write_index`: 7 parameters each, under SQLite's limit of 32,766.
const INDEX_ROWS_PER_INSERT: usize = 4_000;
const _: () = assert!(INDEX_ROWS_PER_INSERT * 8 <= 32_766);

/// Kept alerts per INSERT of `write_index` (three parameters each).
const KEPT_PER_INSERT: usize = 4_000;

/// The columns of an index row, in [`IndexRow`]'s order.
const INDEX_COLUMNS: &str = "stream, min_occurred, max_occurred, reach, active, alerted, irregular";

/// The page size of a new log. Every commit writes each index leaf it touched to the WAL
/// whole, and concurrent appends touch one `(stream, version)` leaf per stream: 2 KiB pages
/// write half the bytes of the default 4 KiB per commit (BENCHMARKS.md has the effect on
/// appends and imports). An existing log keeps the page size it was created with.
const PAGE_BYTES: u32 = 2048;

/// Rows per multi-row INSERT of a group commit: 13 parameters each.
const ROWS_PER_INSERT: usize = 100;

/// Rows per multi-row INSERT of an import: a whole chunk in one statement (13,000 parameters,
/// under SQLite's limit of 32,766): a chunk costs one round trip to the database thread, and a
/// refused chunk is undone by SQLite itself.
const ROWS_PER_BULK_INSERT: usize = crate::IMPORT_CHUNK_EVENTS;
const _: () = assert!(ROWS_PER_BULK_INSERT * 13 <= 32_766);

/// WAL pages between automatic checkpoints (SQLite's default is 1000).
const WAL_AUTOCHECKPOINT_PAGES: &str = "10000";

/// Reader connections.
const READERS_MAX: u32 = 4;

/// How long a connection waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) const COLUMNS: &str = "position, stream, version, id, type, schema, occurred_at, \
     recorded_at, actor, org, data, prev_hash, hash";

/// The SQLite store: the shared writer over [`SqliteReads`].
pub type SqliteStore = SqlStore<SqliteReads>;

/// The SQLite store's readers: a small pool of connections to the file.
#[derive(Debug, Clone)]
pub struct SqliteReads {
    pool: SqlitePool,
    /// The bulk reader of the file (none for a database in memory, read through sqlx alone).
    bulk: Option<bulk::Bulk>,
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
            .page_size(PAGE_BYTES)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            // Statement journals of multi-row inserts stay in memory instead of temp files.
            .pragma("temp_store", "memory")
            // Checkpoint less often: a hot page is then copied to the database file once for
            // many commits instead of once for every few.
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Debug, crate::SLOW_STATEMENT);
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
        let (committed_tx, committed) = watch::channel(last.map_or(0, to_u64));
        let log = SqliteLog {
            conn,
            sql: SqlCache::default(),
        };
        let writer = WriterHandle::spawn(log, clock, Arc::new(committed_tx));
        Ok(SqlStore {
            chain: Arc::default(),
            writer,
            reads: SqliteReads {
                pool,
                bulk: file_of(&url).map(bulk::Bulk::new),
            },
            committed,
        })
    }
}

/// The file a SQLite URL (`sqlite://FILE`, `sqlite:FILE` or a plain path, query options
/// aside) names; `None` for an in-memory database or another kind of URL.
pub fn file_of(url: &str) -> Option<std::path::PathBuf> {
    if url == "memory:" || url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return None;
    }
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if url.contains("://") && !url.starts_with("sqlite://") {
        return None;
    }
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" || url.contains("mode=memory") {
        return None;
    }
    Some(std::path::PathBuf::from(path))
}

impl SqliteReads {
    async fn fetch_raw(&self, sql: &str, binds: &[i64]) -> Result<Vec<RawEvent>, StoreError> {
        let mut q = sqlx::query(sql);
        for b in binds {
            q = q.bind(*b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        decode_raw_rows(&rows)
    }
}

/// `?1, ?2, …, ?n`.
fn numbered_marks(n: usize) -> String {
    (1..=n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// `sql` with `streams` bound to its marks, in order.
fn with_streams<'q>(
    sql: &'q str,
    streams: impl IntoIterator<Item = &'q str>,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    streams
        .into_iter()
        .fold(sqlx::query(sql), |q, stream| q.bind(stream))
}

/// An INSERT OR REPLACE of `rows` index rows: a row is replaced whole (these rows are derived
/// state; `events`' triggers do not concern them).
fn index_insert_sql(rows: usize) -> String {
    let one = "(?,?,?,?,?,?,?,?)";
    format!(
        "INSERT OR REPLACE INTO case_index ({INDEX_COLUMNS}, kept) VALUES {}",
        vec![one; rows].join(",")
    )
}

impl Reads for SqliteReads {
    async fn stream(&self, stream: &str) -> Result<Vec<RawEvent>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM events WHERE stream = ? ORDER BY version");
        let rows = sqlx::query(&sql).bind(stream).fetch_all(&self.pool).await?;
        decode_raw_rows(&rows)
    }

    async fn concerning(&self, case: &str) -> Result<Vec<RawEvent>, StoreError> {
        let sql = format!("SELECT {COLUMNS}{ACTS_ON_CASE} ORDER BY position");
        let rows = sqlx::query(&sql).bind(case).fetch_all(&self.pool).await?;
        decode_raw_rows(&rows)
    }

    async fn case_context(&self, case: &str) -> Result<Vec<RawEvent>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE stream = ?1 \
             UNION ALL SELECT {COLUMNS} FROM events WHERE stream = 'catalog' \
               AND json_extract(data, '$.code') = (SELECT json_extract(data, '$.item') \
               FROM events WHERE stream = ?1 AND version = 1) \
             UNION ALL SELECT {COLUMNS} FROM events WHERE stream = 'catalog' \
               AND type = 'OrgDefined' AND json_extract(data, '$.path') IN \
               (SELECT org FROM events WHERE stream = ?1 \
                UNION SELECT json_extract(data, '$.to_org') FROM events \
                  WHERE stream = ?1 AND type = 'Transferred' \
                UNION SELECT json_extract(data, '$.purchaser_org') FROM events \
                  WHERE stream = ?1 AND type = 'ProcurementRegistered') \
             UNION ALL SELECT {COLUMNS} FROM events WHERE stream = 'calendar' \
             UNION ALL SELECT {COLUMNS} FROM events WHERE stream = 'catalog' \
               AND type = 'WorkflowLimitsDefined' \
             UNION ALL SELECT {COLUMNS} FROM events \
               INDEXED BY events_history_declarations WHERE stream = 'supervision' \
               AND type = 'HistoryImported' \
             UNION ALL SELECT {COLUMNS} FROM events WHERE stream = 'catalog' \
               AND type = 'ThresholdDefined' AND ?1 LIKE 'proc-%' \
             UNION ALL SELECT {COLUMNS} FROM events WHERE type = 'ProcurementRegistered' \
               AND ?1 LIKE 'proc-%' AND stream <> ?1 \
             UNION ALL SELECT {COLUMNS}{ACTS_ON_CASE} \
             ORDER BY position"
        );
        let rows = sqlx::query(&sql).bind(case).fetch_all(&self.pool).await?;
        decode_raw_rows(&rows)
    }

    async fn by_id(&self, id: &str) -> Result<Option<RawEvent>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM events WHERE id = ?");
        let rows = sqlx::query(&sql).bind(id).fetch_all(&self.pool).await?;
        Ok(decode_raw_rows(&rows)?.into_iter().next())
    }

    async fn after(&self, after: u64, limit: usize) -> Result<Vec<RawEvent>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?");
        self.fetch_raw(&sql, &[to_i64(after), to_i64(limit as u64)])
            .await
    }

    async fn head(&self) -> Result<Head, StoreError> {
        let row = sqlx::query("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1")
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

    async fn save_snapshot(
        &self,
        name: &str,
        position: u64,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        let mut parts = bytes.chunks(SNAPSHOT_PART_BYTES);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO snapshots (name, position, bytes) VALUES (?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET position = excluded.position, bytes = excluded.bytes",
        )
        .bind(name)
        .bind(to_i64(position))
        .bind(parts.next().unwrap_or_default())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM snapshot_parts WHERE name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        for (n, part) in parts.enumerate() {
            sqlx::query("INSERT INTO snapshot_parts (name, part, bytes) VALUES (?, ?, ?)")
                .bind(name)
                .bind(to_i64(n as u64 + 1))
                .bind(part)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn load_snapshot(&self, name: &str) -> Result<Option<Snapshot>, StoreError> {
        // One statement reads the snapshot and its parts as of one moment.
        const SQL: &str = "SELECT position, bytes, 0 AS part FROM snapshots WHERE name = ?1 \
             UNION ALL SELECT NULL, bytes, part FROM snapshot_parts WHERE name = ?1 \
             ORDER BY part";
        if let Some(bulk) = &self.bulk {
            return bulk.snapshot(SQL, name).await;
        }
        let rows = sqlx::query(SQL).bind(name).fetch_all(&self.pool).await?;
        let rows = rows
            .iter()
            .map(|r| Ok((r.try_get::<Option<i64>, _>(0)?, r.try_get::<&[u8], _>(1)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(join_snapshot(rows))
    }

    async fn snapshot_names(&self) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT name FROM snapshots ORDER BY name")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// In one read transaction (one snapshot of the file): the catalog, the calendar, the
    /// supervision events naming no case and, when a project is among `streams`, every
    /// registration; then, by chunks of [`STREAMS_PER_READ`], the streams themselves and the
    /// supervision acts naming them — each through its index.
    async fn contexts(&self, streams: &[String]) -> Result<Vec<RawEvent>, StoreError> {
        let projects = jiancha_events::Contexts::new(streams.iter().cloned()).has_projects();
        // Without statistics SQLite would take the supervision acts from the stream's index
        // (all of them): the statements name the indexes of migrations 0007 and 0008.
        let mut sql = format!(
            "SELECT {COLUMNS} FROM events WHERE stream = 'catalog' \
             UNION ALL SELECT {COLUMNS} FROM events WHERE stream = 'calendar' \
             UNION ALL SELECT {COLUMNS} FROM events INDEXED BY events_supervision_no_case \
               WHERE stream = 'supervision' AND {CASE_OF_ACT} IS NULL \
             UNION ALL SELECT {COLUMNS} FROM events INDEXED BY events_supervision_case \
               WHERE stream = 'supervision' AND {CASE_OF_ACT} = ''"
        );
        if projects {
            sql.push_str(&format!(
                " UNION ALL SELECT {COLUMNS} FROM events WHERE type = 'ProcurementRegistered'"
            ));
        }
        let chunk_sql = |n: usize| {
            let marks = numbered_marks(n);
            format!(
                "SELECT {COLUMNS} FROM events WHERE stream IN ({marks}) \
                 UNION ALL SELECT {COLUMNS} FROM events INDEXED BY events_supervision_case \
                   WHERE stream = 'supervision' AND {CASE_OF_ACT} IN ({marks})"
            )
        };
        if let Some(bulk) = &self.bulk {
            let mut statements = vec![bulk::Statement {
                sql,
                binds: Vec::new(),
            }];
            statements.extend(
                streams
                    .chunks(STREAMS_PER_READ)
                    .map(|chunk| bulk::Statement {
                        sql: chunk_sql(chunk.len()),
                        binds: chunk.to_vec(),
                    }),
            );
            return bulk.events(statements).await;
        }
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(&sql).fetch_all(&mut *tx).await?;
        let mut out = decode_raw_rows(&rows)?;
        for chunk in streams.chunks(STREAMS_PER_READ) {
            let sql = chunk_sql(chunk.len());
            let rows = with_streams(&sql, chunk.iter().map(String::as_str))
                .fetch_all(&mut *tx)
                .await?;
            out.extend(decode_raw_rows(&rows)?);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn index_state(&self) -> Result<IndexState, StoreError> {
        let row: Option<(i64, i64, i64)> = sqlx::query_as(
            "SELECT position, globals_max_occurred, \
             CASE WHEN format_position = position THEN fold_format ELSE 0 END \
             FROM case_index_state WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(IndexState::stored(row))
    }

    async fn index_rows(&self, streams: &[String]) -> Result<Vec<IndexRow>, StoreError> {
        let mut out = Vec::new();
        let mut tx = self.pool.begin().await?;
        for chunk in streams.chunks(STREAMS_PER_READ) {
            let sql = format!(
                "SELECT {INDEX_COLUMNS} FROM case_index WHERE stream IN ({})",
                numbered_marks(chunk.len())
            );
            let q = with_streams(&sql, chunk.iter().map(String::as_str));
            for row in q.fetch_all(&mut *tx).await? {
                out.push(index_row(&row)?);
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn index_active(&self) -> Result<Vec<String>, StoreError> {
        let mut streams: Vec<String> = sqlx::query_scalar(
            "SELECT stream FROM case_index INDEXED BY case_index_active WHERE active",
        )
        .fetch_all(&self.pool)
        .await?;
        streams.sort_unstable();
        Ok(streams)
    }

    /// Under `BEGIN IMMEDIATE`: the state read again, and the three tables emptied when it is
    /// still `expected`.
    async fn reset_index(&self, expected: IndexState) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row: Option<(i64, i64, i64)> = sqlx::query_as(
            "SELECT position, globals_max_occurred, \
             CASE WHEN format_position = position THEN fold_format ELSE 0 END \
             FROM case_index_state WHERE id = 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        if IndexState::stored(row) == expected {
            for table in ["case_alerts", "case_index", "case_index_state"] {
                sqlx::query(&format!("DELETE FROM {table}"))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// Under `BEGIN IMMEDIATE` (the file's write lock, taken before the position is read, so
    /// no other writer moves it in between): the checks, the marks, the rows in statements of
    /// [`INDEX_ROWS_PER_INSERT`], the state. An error drops the transaction, which rolls back.
    async fn write_index(&self, write: &IndexWrite, rows: &[IndexRow]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let (stored, head): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT position FROM case_index_state WHERE id = 1), \
             (SELECT MAX(position) FROM events)",
        )
        .fetch_one(&mut *tx)
        .await?;
        write.check(stored.map_or(0, to_u64), head.map_or(0, to_u64))?;
        if let Some(after) = write.mark_after {
            sqlx::query(
                "DELETE FROM case_alerts WHERE stream IN \
                 (SELECT stream FROM case_index WHERE kept AND max_occurred > ?1)",
            )
            .bind(after)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE case_index SET irregular = 1, kept = 0 WHERE max_occurred > ?1")
                .bind(after)
                .execute(&mut *tx)
                .await?;
        }
        if write.mark_active {
            sqlx::query(
                "UPDATE case_index INDEXED BY case_index_active SET irregular = 1 WHERE active",
            )
            .execute(&mut *tx)
            .await?;
        }
        let kept = kept_rows(rows, &write.kept);
        let mut full: Option<String> = None;
        for chunk in rows.chunks(INDEX_ROWS_PER_INSERT) {
            let partial;
            let sql = if chunk.len() == INDEX_ROWS_PER_INSERT {
                full.get_or_insert_with(|| index_insert_sql(INDEX_ROWS_PER_INSERT))
                    .as_str()
            } else {
                partial = index_insert_sql(chunk.len());
                partial.as_str()
            };
            let mut q = sqlx::query(sql);
            for r in chunk {
                q = q
                    .bind(r.stream.as_str())
                    .bind(r.min_occurred)
                    .bind(r.max_occurred)
                    .bind(r.reach)
                    .bind(r.active)
                    .bind(r.alerted)
                    .bind(r.irregular)
                    .bind(is_kept(r, &kept));
            }
            q.execute(&mut *tx).await?;
        }
        // The kept alerts follow their rows: dropped with every row written, stored anew.
        for chunk in rows.chunks(STREAMS_PER_READ) {
            let sql = format!(
                "DELETE FROM case_alerts WHERE stream IN ({})",
                numbered_marks(chunk.len())
            );
            with_streams(&sql, chunk.iter().map(|r| r.stream.as_str()))
                .execute(&mut *tx)
                .await?;
        }
        for chunk in kept.chunks(KEPT_PER_INSERT) {
            let sql = format!(
                "INSERT INTO case_alerts (stream, reach, body) VALUES {}",
                vec!["(?, ?, ?)"; chunk.len()].join(",")
            );
            let mut q = sqlx::query(&sql);
            for (k, row) in chunk {
                q = q
                    .bind(k.stream.as_str())
                    .bind(row.reach)
                    .bind(k.body.as_slice());
            }
            q.execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT OR REPLACE INTO case_index_state \
             (id, position, globals_max_occurred, fold_format, format_position) \
             VALUES (1, ?1, ?2, ?3, ?1)",
        )
        .bind(to_i64(write.state.position))
        .bind(write.state.globals_max_occurred)
        .bind(i64::from(write.state.fold_format))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Each half of the condition through its own index (see migrations 0008 and 0009): a
    /// report's rows reaching into its period or active; the alerts' flagged rows without kept
    /// alerts, and the kept ones reaching past the instant. Sorted here (byte
    /// order, as SQLite's `BINARY`), not by ORDER BY, which would make SQLite scan the table.
    async fn index_select(&self, select: IndexSelect) -> Result<Vec<String>, StoreError> {
        let q = match select {
            IndexSelect::Report { by, reaching } => sqlx::query_scalar(
                "SELECT stream FROM case_index WHERE reach >= ?2 AND min_occurred <= ?1 \
                 UNION ALL SELECT stream FROM case_index INDEXED BY case_index_active \
                 WHERE active AND min_occurred <= ?1 AND NOT (reach >= ?2)",
            )
            .bind(by)
            .bind(reaching),
            IndexSelect::Alerts { by } => sqlx::query_scalar(
                "SELECT stream FROM case_index \
                 WHERE (active OR alerted OR irregular) AND NOT kept AND min_occurred <= ?1 \
                 UNION ALL SELECT stream FROM case_index INDEXED BY case_index_kept \
                 WHERE kept AND reach > ?1 AND min_occurred <= ?1",
            )
            .bind(by),
        };
        let mut streams: Vec<String> = q.fetch_all(&self.pool).await?;
        streams.sort_unstable();
        Ok(streams)
    }

    async fn index_kept(&self, by: i64) -> Result<Vec<KeptAlerts>, StoreError> {
        // In the table's own order (by stream): no index on `reach`, which would need a sort.
        const SQL: &str = "SELECT stream, body FROM case_alerts WHERE reach <= ?1 ORDER BY stream";
        if let Some(bulk) = &self.bulk {
            return bulk.kept(SQL, by).await;
        }
        Ok(sqlx::query_as::<_, KeptAlerts>(SQL)
            .bind(by)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

#[derive(Default)]
struct SqlCache {
    inserts: HashMap<(usize, bool), String>,
    lookups: HashMap<(&'static str, usize), String>,
}

impl SqlCache {
    /// An INSERT of `rows` rows, followed by `COMMIT` when `commit` is set.
    fn insert(&mut self, rows: usize, commit: bool) -> &str {
        self.inserts.entry((rows, commit)).or_insert_with(|| {
            let one = format!("({})", vec!["?"; 13].join(","));
            let mut sql = format!(
                "INSERT INTO events ({COLUMNS}) VALUES {}",
                vec![one; rows].join(",")
            );
            if commit {
                sql.push_str("; COMMIT");
            }
            sql
        })
    }

    fn lookup(&mut self, kind: &'static str, keys: usize) -> &str {
        self.lookups.entry((kind, keys)).or_insert_with(|| {
            let marks = vec!["?"; keys].join(",");
            match kind {
                "stream" => format!(
                    "SELECT stream, MAX(version) FROM events WHERE stream IN ({marks}) GROUP BY stream"
                ),
                "owner" => format!(
                    "SELECT stream, type, org, data FROM events WHERE stream IN ({marks}) \
                     AND type IN ({}) ORDER BY stream, version",
                    crate::owner::OWNER_TYPES.map(|t| format!("'{t}'")).join(",")
                ),
                "position" => format!(
                    "SELECT id, position, stream, type, occurred_at, data, version, actor, org FROM events WHERE position IN ({marks})"
                ),
                _ => format!(
                    "SELECT id, position, stream, type, occurred_at, data, version, actor, org FROM events WHERE id IN ({marks})"
                ),
            }
        })
    }
}

/// The writer's connection to the file.
struct SqliteLog {
    conn: SqliteConnection,
    sql: SqlCache,
}

impl SqliteLog {
    /// Inserts sealed rows with statements of `per_statement` rows.
    async fn insert_rows(
        &mut self,
        rows: &[&RawEvent],
        per_statement: usize,
    ) -> Result<(), StoreError> {
        self.insert_rows_then(rows, per_statement, false).await
    }

    /// Inserts rows like [`SqliteLog::insert_rows`], and commits in the last statement's round
    /// trip when `commit` is set.
    async fn insert_rows_then(
        &mut self,
        rows: &[&RawEvent],
        per_statement: usize,
        commit: bool,
    ) -> Result<(), StoreError> {
        if rows.is_empty() && commit {
            return Ok(self.run("COMMIT").await?);
        }
        let statements = rows.len().div_ceil(per_statement);
        for (n, chunk) in rows.chunks(per_statement).enumerate() {
            let sql = self.sql.insert(chunk.len(), commit && n + 1 == statements);
            let mut q = sqlx::query(sql);
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

    /// Inserts rows in statements of [`ROWS_PER_BULK_INSERT`], running `meanwhile` once the
    /// last one is with the database thread.
    async fn insert_overlapped<R>(
        &mut self,
        rows: &[&RawEvent],
        meanwhile: impl FnOnce() -> R,
    ) -> (Result<(), StoreError>, R) {
        let last = rows.len().saturating_sub(1) / ROWS_PER_BULK_INSERT * ROWS_PER_BULK_INSERT;
        let (before, last) = rows.split_at(last);
        if let Err(e) = self.insert_rows(before, ROWS_PER_BULK_INSERT).await {
            return (Err(e), meanwhile());
        }
        let mut pending = std::pin::pin!(self.insert_rows(last, ROWS_PER_BULK_INSERT));
        // The first poll binds the rows and hands the statement to the database thread.
        let sent = std::future::poll_fn(|cx| Poll::Ready(pending.as_mut().poll(cx))).await;
        let result = meanwhile();
        let written = match sent {
            Poll::Ready(written) => written,
            Poll::Pending => pending.await,
        };
        (written, result)
    }

    async fn run(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        sqlx::query(sql).execute(&mut self.conn).await.map(|_| ())
    }

    async fn lookup<'a, K>(
        &'a mut self,
        kind: &'static str,
        keys: &'a [K],
    ) -> Result<Vec<SqliteRow>, StoreError>
    where
        K: 'a + sqlx::Encode<'a, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Copy + Send + Sync,
    {
        let sql = self.sql.lookup(kind, keys.len());
        let mut q = sqlx::query(sql);
        for k in keys {
            q = q.bind(*k);
        }
        Ok(q.fetch_all(&mut self.conn).await?)
    }

    async fn existing<'a, K>(
        &'a mut self,
        kind: &'static str,
        keys: &'a [K],
    ) -> Result<Vec<(String, ExistingId)>, StoreError>
    where
        K: 'a + sqlx::Encode<'a, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Copy + Send + Sync,
    {
        let rows = self.lookup(kind, keys).await?;
        decode_rows(&rows, existing_from_row)
    }
}

impl LogConnection for SqliteLog {
    async fn begin(&mut self) -> Result<(), StoreError> {
        Ok(self.run("BEGIN IMMEDIATE").await?)
    }

    async fn last_event(&mut self) -> Result<Option<RawEvent>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM events ORDER BY position DESC LIMIT 1");
        let row = sqlx::query(&sql).fetch_optional(&mut self.conn).await?;
        row.as_ref().map(decode_raw_row).transpose()
    }

    async fn commit(&mut self, _advanced_to: Option<u64>) -> Result<(), StoreError> {
        Ok(self.run("COMMIT").await?)
    }

    async fn rollback(&mut self) {
        if let Err(e) = self.run("ROLLBACK").await {
            tracing::warn!(error = %e, "rollback failed");
        }
    }

    /// Takes the write lock and reads the head in one round trip to the database thread.
    async fn begin_at_head(&mut self) -> Result<Option<RawEvent>, StoreError> {
        let sql =
            format!("BEGIN IMMEDIATE; SELECT {COLUMNS} FROM events ORDER BY position DESC LIMIT 1");
        let last = match sqlx::query(&sql).fetch_optional(&mut self.conn).await {
            Ok(row) => row.as_ref().map(decode_raw_row).transpose(),
            Err(e) => Err(e.into()),
        };
        if last.is_err() {
            // Either statement may have failed: end whatever is open, and nothing if none is.
            if let Err(e) = self.run("ROLLBACK").await {
                tracing::debug!(error = %e, "nothing to roll back after a failed begin");
            }
        }
        last
    }

    /// Inserts the group's rows and commits, the commit riding with the last INSERT.
    async fn insert_and_commit(
        &mut self,
        rows: &[&RawEvent],
        _advanced_to: Option<u64>,
    ) -> Result<(), StoreError> {
        self.insert_rows_then(rows, ROWS_PER_INSERT, true).await
    }

    async fn execute(&mut self, sql: &'static str) -> Result<(), StoreError> {
        Ok(self.run(sql).await?)
    }

    async fn stream_versions(
        &mut self,
        streams: &[&str],
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let rows = self.lookup("stream", streams).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push((row.try_get(0)?, to_u64(row.try_get(1)?)));
        }
        Ok(out)
    }

    async fn find_ids(&mut self, ids: &[&str]) -> Result<Vec<(String, ExistingId)>, StoreError> {
        self.existing("id", ids).await
    }

    async fn owner_rows(&mut self, streams: &[&str]) -> Result<Vec<OwnerRow>, StoreError> {
        let rows = self.lookup("owner", streams).await?;
        decode_rows(&rows, owner_row)
    }

    async fn find_positions(
        &mut self,
        positions: &[i64],
    ) -> Result<Vec<(String, ExistingId)>, StoreError> {
        self.existing("position", positions).await
    }

    async fn insert(&mut self, rows: &[&RawEvent]) -> Result<(), StoreError> {
        self.insert_rows(rows, ROWS_PER_INSERT).await
    }

    async fn insert_bulk(&mut self, rows: &[&RawEvent]) -> Result<(), StoreError> {
        self.insert_bulk_while(rows, || ()).await.0
    }

    /// Inserts an import chunk atomically: one statement (SQLite undoes a refused statement
    /// and the transaction goes on), or, for a chunk larger than that, several under a
    /// savepoint. The last statement is sent before `meanwhile` runs, so the database thread
    /// takes it while this one plans the next chunk.
    async fn insert_bulk_while<R: Send>(
        &mut self,
        rows: &[&RawEvent],
        meanwhile: impl FnOnce() -> R + Send,
    ) -> (Result<(), StoreError>, R) {
        let several = rows.len() > ROWS_PER_BULK_INSERT;
        if several {
            if let Err(e) = self.run("SAVEPOINT bulk").await {
                return (Err(e.into()), meanwhile());
            }
        }
        let (written, result) = self.insert_overlapped(rows, meanwhile).await;
        if !several {
            return (written, result);
        }
        let end = if written.is_ok() {
            "RELEASE bulk"
        } else {
            "ROLLBACK TO bulk; RELEASE bulk"
        };
        let written = match (written, self.run(end).await) {
            (written, Ok(())) => written,
            // Rows may be left behind: fail with this error, never as a refusal to retry.
            (_, Err(e)) => Err(e.into()),
        };
        (written, result)
    }

    /// Nothing to open: [`LogConnection::insert_bulk`] is atomic by itself here.
    async fn open_chunk(&mut self, _previous: PreviousChunk) -> Result<(), StoreError> {
        Ok(())
    }

    /// Nothing to take back: a refused [`LogConnection::insert_bulk`] left no row.
    async fn drop_chunk(&mut self, _first: u64) -> Result<(), StoreError> {
        Ok(())
    }
}
