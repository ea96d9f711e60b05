//! Row decoding both SQL databases share: the stored columns of an event row back into a
//! [`RawEvent`] (or an [`ExistingId`]), the conversions between the log's unsigned numbers and
//! database integers, and the id and hash columns as stored. The SQL that selects these columns
//! lives with each database (`sqlite.rs`, `postgres.rs`); the order of the columns is the
//! contract, written on each decoder.

use jiancha_events::envelope::AUTO_ID_PREFIX;
use jiancha_events::{auto_id, Hash, RawEvent, StoredEvent};
use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::error::StoreError;
use crate::index::IndexRow;
use crate::plan::ExistingId;
use crate::writer::OwnerRow;

/// A row of either database as sqlx reads it, with the types the shared decoders read: the
/// bounds stated once, for `SqliteRow` and `PgRow` alike.
pub(crate) trait SqlxRow: Row {
    /// An integer column (64-bit).
    fn int(&self, i: usize) -> Result<i64, sqlx::Error>;
    /// A text column, possibly null.
    fn text_or_null(&self, i: usize) -> Result<Option<String>, sqlx::Error>;
    /// A text column.
    fn text(&self, i: usize) -> Result<String, sqlx::Error>;
    /// A bytes column.
    fn bytes(&self, i: usize) -> Result<Vec<u8>, sqlx::Error>;
    /// A boolean column.
    fn boolean(&self, i: usize) -> Result<bool, sqlx::Error>;
}

impl<R> SqlxRow for R
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    String: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    bool: for<'r> Decode<'r, R::Database> + Type<R::Database>,
{
    fn int(&self, i: usize) -> Result<i64, sqlx::Error> {
        self.try_get(i)
    }

    fn text_or_null(&self, i: usize) -> Result<Option<String>, sqlx::Error> {
        self.try_get(i)
    }

    fn text(&self, i: usize) -> Result<String, sqlx::Error> {
        self.try_get(i)
    }

    fn bytes(&self, i: usize) -> Result<Vec<u8>, sqlx::Error> {
        self.try_get(i)
    }

    fn boolean(&self, i: usize) -> Result<bool, sqlx::Error> {
        self.try_get(i)
    }
}

/// Decodes every row with `decode`.
pub(crate) fn decode_rows<R, T>(
    rows: &[R],
    decode: fn(&R) -> Result<T, sqlx::Error>,
) -> Result<Vec<T>, StoreError> {
    Ok(rows.iter().map(decode).collect::<Result<_, _>>()?)
}

/// Decodes rows selected with the columns of [`EventColumns`]. A row holding a value of the wrong
/// type (written behind the log's back) is reported at its position as
/// [`StoreError::Undecodable`], so that verification can name it, rather than as a driver
/// failure.
pub(crate) fn decode_raw_rows<R: SqlxRow>(rows: &[R]) -> Result<Vec<RawEvent>, StoreError> {
    rows.iter().map(decode_raw_row).collect()
}

/// Decodes one row like [`decode_raw_rows`].
pub(crate) fn decode_raw_row<R: SqlxRow>(row: &R) -> Result<RawEvent, StoreError> {
    raw_event(&SqlxColumns(row)).map_err(|e| match (&e, row.int(0)) {
        (sqlx::Error::ColumnDecode { .. }, Ok(position)) => StoreError::Undecodable {
            position: to_u64(position),
            reason: e.to_string(),
        },
        _ => StoreError::Database(e),
    })
}

/// Decodes stored rows into typed events.
pub(crate) fn decode_all(raws: Vec<RawEvent>) -> Result<Vec<StoredEvent>, StoreError> {
    raws.into_iter()
        .map(|r| r.into_decoded().map_err(StoreError::from))
        .collect()
}

/// Rows a thread of [`decode_many`] decodes at least.
const DECODE_PER_THREAD_MIN: usize = 20_000;

/// [`decode_all`] on every core, for the many rows of one question (the contexts of thousands
/// of cases), in their order; the first row that does not decode is the error.
pub(crate) fn decode_many(raws: Vec<RawEvent>) -> Result<Vec<StoredEvent>, StoreError> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let threads = cores.min(raws.len() / DECODE_PER_THREAD_MIN).max(1);
    if threads == 1 {
        return decode_all(raws);
    }
    let (total, size) = (raws.len(), raws.len().div_ceil(threads));
    let mut chunks = Vec::with_capacity(threads);
    let mut rest = raws;
    while rest.len() > size {
        let tail = rest.split_off(size);
        chunks.push(rest);
        rest = tail;
    }
    chunks.push(rest);
    std::thread::scope(|scope| {
        let parts: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || decode_all(chunk)))
            .collect();
        let mut out = Vec::with_capacity(total);
        for part in parts {
            // Decoding returns its errors; a panic there is a bug, and stays one.
            match part.join() {
                Ok(decoded) => out.extend(decoded?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(out)
    })
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

/// The columns of a stored event row, whichever driver read it, in the order `position, stream,
/// version, id, type, schema, occurred_at, recorded_at, actor, org, data, prev_hash, hash`
/// (integers as 64-bit): what [`raw_event`] reads.
pub(crate) trait EventColumns {
    /// The driver's error for a missing or wrongly typed value.
    type Error;
    /// An integer column.
    fn int(&self, i: usize) -> Result<i64, Self::Error>;
    /// A text column, possibly null.
    fn text_or_null(&self, i: usize) -> Result<Option<String>, Self::Error>;
    /// A text column.
    fn text(&self, i: usize) -> Result<String, Self::Error>;
    /// A hash column as stored (see [`hash_from`]).
    fn hash(&self, i: usize) -> Result<Hash, Self::Error>;
}

/// Decodes one stored event row: the one decoder of both databases' drivers.
pub(crate) fn raw_event<C: EventColumns>(row: &C) -> Result<RawEvent, C::Error> {
    let (stream, version, id) = identity(row, [1, 2, 3])?;
    Ok(RawEvent {
        position: to_u64(row.int(0)?),
        stream,
        version,
        id,
        event_type: row.text(4)?,
        schema: u32::try_from(row.int(5)?).unwrap_or(0),
        occurred_at: row.text(6)?,
        recorded_at: row.text(7)?,
        actor: row.text(8)?,
        org: row.text(9)?,
        data: row.text(10)?,
        prev_hash: row.hash(11)?,
        hash: row.hash(12)?,
    })
}

/// The stream, version and id of an event row, from the columns at `[stream, version, id]`: a
/// null id is the one assigned from the stream and version ([`auto_id`]).
fn identity<C: EventColumns>(row: &C, at: [usize; 3]) -> Result<(String, u64, String), C::Error> {
    let stream = row.text(at[0])?;
    let version = to_u64(row.int(at[1])?);
    let id = row
        .text_or_null(at[2])?
        .unwrap_or_else(|| auto_id(&stream, version));
    Ok((stream, version, id))
}

/// A row sqlx read, as [`EventColumns`].
struct SqlxColumns<'r, R>(&'r R);

impl<R: SqlxRow> EventColumns for SqlxColumns<'_, R> {
    type Error = sqlx::Error;

    fn int(&self, i: usize) -> Result<i64, sqlx::Error> {
        self.0.int(i)
    }

    fn text_or_null(&self, i: usize) -> Result<Option<String>, sqlx::Error> {
        self.0.text_or_null(i)
    }

    fn text(&self, i: usize) -> Result<String, sqlx::Error> {
        self.0.text(i)
    }

    fn hash(&self, i: usize) -> Result<Hash, sqlx::Error> {
        Ok(hash_from(&self.0.bytes(i)?))
    }
}

/// Decodes a row selected as `id, position, stream, type, occurred_at, data, version, actor,
/// org`.
pub(crate) fn existing_from_row<R: SqlxRow>(row: &R) -> Result<(String, ExistingId), sqlx::Error> {
    let (stream, _, id) = identity(&SqlxColumns(row), [2, 6, 0])?;
    let existing = ExistingId {
        position: to_u64(row.int(1)?),
        stream,
        event_type: row.text(3)?,
        occurred_at: row.text(4)?,
        data: row.text(5)?,
        actor: row.text(7)?,
        org: row.text(8)?,
    };
    Ok((id, existing))
}

/// Decodes a row selected as `stream, type, org, data` (each database's owner lookup).
pub(crate) fn owner_row<R: SqlxRow>(row: &R) -> Result<OwnerRow, sqlx::Error> {
    Ok((row.text(0)?, row.text(1)?, row.text(2)?, row.text(3)?))
}

/// Decodes a case index row selected as `stream, min_occurred, max_occurred, reach, active,
/// alerted, irregular` (each database's `INDEX_COLUMNS`).
pub(crate) fn index_row<R: SqlxRow>(row: &R) -> Result<IndexRow, sqlx::Error> {
    Ok(IndexRow {
        stream: row.text(0)?,
        min_occurred: row.int(1)?,
        max_occurred: row.int(2)?,
        reach: row.int(3)?,
        active: row.boolean(4)?,
        alerted: row.boolean(5)?,
        irregular: row.boolean(6)?,
    })
}
