//! Bulk reads of a SQLite log: the questions at an instant read tens of thousands of rows at
//! once (a period's case contexts, years of kept alerts), and a restart reads a snapshot of a
//! gigabyte or more. sqlx's SQLite driver copies every
//! value of every row (`sqlite3_value_dup`, freed again once decoded) and hands each row from
//! its connection's thread to the task across a channel, which cost more than SQLite's own
//! stepping. Here one blocking task steps the statement on a connection of its own and decodes
//! each row where SQLite holds it, reading the file through a memory map (no read system call
//! and no copy per page).
//!
//! Such a connection is opened for each read and closed after it, so the map lives as long as
//! the question: a long-running `jiancha serve`, whose readers stay on sqlx without a map,
//! keeps none. It refuses writes (`query_only`). The rows are the ones sqlx's readers would
//! return, decoded alike ([`crate::rows`]): the conformance suite reads them through here on
//! every SQLite store.

use std::path::{Path, PathBuf};

use jiancha_events::{Hash, RawEvent};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Row};

use crate::error::StoreError;
use crate::index::KeptAlerts;
use crate::rows::{hash_from, raw_event, to_u64, EventColumns};
use crate::Snapshot;

/// How much of the file a bulk reader maps: all of it, up to the 1 TiB this build allows
/// (`SQLITE_MAX_MMAP_SIZE`, set in the workspace's `.cargo/config.toml`; a build without it
/// maps the first 2 GiB and reads the rest).
const MAP_BYTES: i64 = 1 << 40;

/// A SQLite file's bulk reader.
#[derive(Debug, Clone)]
pub(crate) struct Bulk {
    path: PathBuf,
}

/// One statement of a read, and the texts it binds (`?1`, `?2`, …).
pub(crate) struct Statement {
    pub(crate) sql: String,
    pub(crate) binds: Vec<String>,
}

impl Bulk {
    /// The bulk reader of the file at `path`.
    pub(crate) fn new(path: PathBuf) -> Self {
        Bulk { path }
    }

    /// The events `statements` select (each with the columns of `super::COLUMNS`), in one
    /// read transaction, in the order selected.
    pub(crate) async fn events(
        &self,
        statements: Vec<Statement>,
    ) -> Result<Vec<RawEvent>, StoreError> {
        let path = self.path.clone();
        blocking(move || {
            let conn = open(&path)?;
            let tx = conn.unchecked_transaction()?;
            let mut out = Vec::new();
            for Statement { sql, binds } in &statements {
                let mut stmt = tx.prepare(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(binds))?;
                while let Some(row) = rows.next()? {
                    out.push(event(row)?);
                }
            }
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    /// The kept alerts `sql` selects (`stream, body`), binding `by`.
    pub(crate) async fn kept(
        &self,
        sql: &'static str,
        by: i64,
    ) -> Result<Vec<KeptAlerts>, StoreError> {
        let path = self.path.clone();
        blocking(move || {
            let conn = open(&path)?;
            let mut stmt = conn.prepare(sql)?;
            let mut rows = stmt.query([by])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(KeptAlerts {
                    stream: row.get(0)?,
                    body: blob(row, 1)?.to_vec(),
                });
            }
            Ok(out)
        })
        .await
    }
}

impl Bulk {
    /// The snapshot `sql` selects for `name` (`position, bytes, part`, the parts in order, the
    /// first carrying the position: `crate::sql::join_snapshot`'s rows), joined as it is read:
    /// each part copied once, from the map into the one buffer.
    pub(crate) async fn snapshot(
        &self,
        sql: &'static str,
        name: &str,
    ) -> Result<Option<Snapshot>, StoreError> {
        let (path, name) = (self.path.clone(), name.to_owned());
        blocking(move || {
            let conn = open(&path)?;
            let tx = conn.unchecked_transaction()?;
            let total: Option<i64> = tx.query_row(
                &format!("SELECT sum(length(bytes)) FROM ({sql})"),
                [&name],
                |row| row.get(0),
            )?;
            let mut stmt = tx.prepare(sql)?;
            let mut rows = stmt.query([&name])?;
            let Some(first) = rows.next()? else {
                return Ok(None);
            };
            let Some(position) = first
                .get::<_, Option<i64>>(0)?
                .and_then(|p| u64::try_from(p).ok())
            else {
                return Ok(None);
            };
            let capacity = total.and_then(|t| usize::try_from(t).ok()).unwrap_or(0);
            let mut bytes = Vec::with_capacity(capacity);
            bytes.extend_from_slice(blob(first, 1)?);
            while let Some(row) = rows.next()? {
                bytes.extend_from_slice(blob(row, 1)?);
            }
            Ok(Some((position, bytes)))
        })
        .await
    }
}

/// Runs a read on a blocking thread.
async fn blocking<T: Send + 'static>(
    read: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(read)
        .await
        .map_err(|e| StoreError::ReaderLost(e.to_string()))?
}

fn open(path: &Path) -> Result<Connection, StoreError> {
    // Read-write (never created) so that a log in WAL mode can be read whatever files beside
    // it exist; `query_only` then refuses any write.
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(super::BUSY_TIMEOUT)?;
    conn.pragma_update(None, "query_only", true)?;
    conn.pragma_update(None, "mmap_size", MAP_BYTES)?;
    Ok(conn)
}

/// A row selected with `super::COLUMNS`, decoded by the decoder of sqlx's rows
/// ([`raw_event`]): a value of the wrong type is [`StoreError::Undecodable`] at its position.
fn event(row: &Row<'_>) -> Result<RawEvent, StoreError> {
    raw_event(&LiteColumns(row)).map_err(|e| match (&e, row.get::<_, i64>(0)) {
        (
            rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..),
            Ok(position),
        ) => StoreError::Undecodable {
            position: to_u64(position),
            reason: e.to_string(),
        },
        _ => StoreError::Sqlite(e),
    })
}

/// A row rusqlite read, as [`EventColumns`].
struct LiteColumns<'a, 'r>(&'a Row<'r>);

impl EventColumns for LiteColumns<'_, '_> {
    type Error = rusqlite::Error;

    fn int(&self, i: usize) -> Result<i64, rusqlite::Error> {
        self.0.get(i)
    }

    fn text_or_null(&self, i: usize) -> Result<Option<String>, rusqlite::Error> {
        self.0.get(i)
    }

    fn text(&self, i: usize) -> Result<String, rusqlite::Error> {
        self.0.get(i)
    }

    fn hash(&self, i: usize) -> Result<Hash, rusqlite::Error> {
        Ok(hash_from(blob(self.0, i)?))
    }
}

/// A BLOB column, borrowed from the row: a TEXT value's bytes too, as sqlx reads bytes (a
/// snapshot edited with SQL string functions holds TEXT, and is then refused by its digest,
/// not by the driver).
fn blob<'r>(row: &'r Row<'_>, i: usize) -> Result<&'r [u8], rusqlite::Error> {
    match row.get_ref(i)? {
        ValueRef::Blob(b) | ValueRef::Text(b) => Ok(b),
        other => Err(rusqlite::Error::InvalidColumnType(
            i,
            format!("column {i}"),
            other.data_type(),
        )),
    }
}
