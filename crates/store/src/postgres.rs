//! The PostgreSQL store, for a province: one database shared by several engine processes, each
//! with its own writer task doing group commit (the same writer as SQLite, `writer.rs`), a
//! small pool of readers, and a listener that turns other processes' commits into wake-ups.
//!
//! Every write transaction takes a transaction-scoped advisory lock (keyed by the `events`
//! table) before it reads the head and assigns positions, and holds it until its commit. So
//! positions are gap-free and in commit order across processes: a reader that has seen position
//! P has seen every commit before it, and no event below P can commit later. Each row keeps the
//! id of the transaction that wrote it (`xid`). After each commit that wrote, the writer sends
//! `pg_notify` on the table's channel with the new head; a listener (started when someone
//! follows the log) moves `committed()` forward, and the follower's polling stays the truth.
//! Imports go through `COPY … FROM STDIN` in binary format: runs of up to `RUN_CHUNKS_MAX`
//! chunks in one COPY under a savepoint (a refused run falls back to the looked-up path, chunk
//! by chunk), its rows sent in pieces while the writer plans the next chunk.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use jiancha_events::{Hash, RawEvent};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{ConnectOptions, Executor as _, Row};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::error::StoreError;
use crate::index::{is_kept, kept_rows, IndexRow, IndexSelect, IndexState, IndexWrite, KeptAlerts};
use crate::plan::{ExistingId, Head};
use crate::rows::{
    decode_raw_row, decode_raw_rows, decode_rows, existing_from_row, hash_from, index_row,
    owner_row, stored_id, to_i64, to_u64,
};
use crate::sql::{join_snapshot, Reads, SqlStore};
use crate::writer::{LogConnection, OwnerRow, RunPlanner, WriterHandle};
use crate::{Snapshot, SNAPSHOT_PART_BYTES};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Reader connections per store.
const READERS_MAX: u32 = 4;

/// The high 32 bits of the advisory lock key (ASCII "jcha"); the low 32 bits are the OID of the
/// `events` table, so logs in different schemas of one database do not wait for each other.
const LOCK_CLASS: i64 = 0x6a63_6861;

/// The notification channel is this prefix and the OID of the `events` table.
const CHANNEL_PREFIX: &str = "jiancha_events_";

/// How long the listener waits before connecting again after losing its connection.
const LISTEN_RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// Rows encoded and sent at a time within one COPY.
const COPY_PIECE_ROWS: usize = 200;

/// SQLSTATE `read_only_sql_transaction`: a write on a read replica.
const READ_ONLY_SQLSTATE: &str = "25006";

/// The application name shown in `pg_stat_activity` unless the URL sets one.
const APPLICATION_NAME: &str = "jiancha";

/// The stored columns as the shared row decoder reads them (integers as 64-bit).
macro_rules! columns {
    () => {
        "position, stream, version, id, type, schema::int8, occurred_at, recorded_at, actor, \
         org, data, prev_hash, hash"
    };
}

const READ_AFTER_SQL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM events WHERE position > $1 ORDER BY position LIMIT $2"
);
const READ_BY_ID_SQL: &str = concat!("SELECT ", columns!(), " FROM events WHERE id = $1");
const READ_STREAM_SQL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM events WHERE stream = $1 ORDER BY version"
);
/// The case a supervision act names: the expression of the `events_supervision_case` index
/// (migration 0007), word for word, so that the index is used. `NULL` for an event that names
/// no case or an id without a case part.
macro_rules! case_of_act {
    () => {
        "coalesce(data::jsonb ->> 'case', \
         substring(coalesce(data::jsonb ->> 'alert', data::jsonb ->> 'complaint', \
         data::jsonb ->> 'notification') FROM '^([^/]*)/'))"
    };
}

/// The supervision acts that name the case `$1`.
macro_rules! acts_on_case {
    () => {
        concat!(
            " FROM events WHERE stream = 'supervision' AND ",
            case_of_act!(),
            " = $1"
        )
    };
}

const READ_CONCERNING_SQL: &str =
    concat!("SELECT ", columns!(), acts_on_case!(), " ORDER BY position");
const CASE_CONTEXT_SQL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM events WHERE stream = $1 UNION ALL SELECT ",
    columns!(),
    " FROM events WHERE stream = 'catalog' AND data::jsonb ->> 'code' = \
     (SELECT data::jsonb ->> 'item' FROM events WHERE stream = $1 AND version = 1) \
     UNION ALL SELECT ",
    columns!(),
    " FROM events WHERE stream = 'catalog' AND type = 'OrgDefined' AND data::jsonb ->> 'path' IN \
     (SELECT org FROM events WHERE stream = $1 \
      UNION SELECT data::jsonb ->> 'to_org' FROM events WHERE stream = $1 AND type = 'Transferred' \
      UNION SELECT data::jsonb ->> 'purchaser_org' FROM events \
        WHERE stream = $1 AND type = 'ProcurementRegistered') \
     UNION ALL SELECT ",
    columns!(),
    " FROM events WHERE stream = 'calendar' UNION ALL SELECT ",
    columns!(),
    " FROM events WHERE stream = 'catalog' AND type = 'WorkflowLimitsDefined' UNION ALL SELECT ",
    columns!(),
    " FROM events WHERE stream = 'supervision' AND type = 'HistoryImported' UNION ALL SELECT ",
    columns!(),
    " FROM events WHERE stream = 'catalog' AND type = 'ThresholdDefined' AND $1 LIKE 'proc-%' \
     UNION ALL SELECT ",
    columns!(),
    " FROM events WHERE type = 'ProcurementRegistered' AND $1 LIKE 'proc-%' AND stream <> $1 \
     UNION ALL SELECT ",
    columns!(),
    acts_on_case!(),
    " ORDER BY position"
);
/// The events the contexts of the streams `$1` may hold, each part through its index: the
/// streams and the supervision events naming one of them, looked up stream by stream (the
/// `OFFSET 0` keeps the planner from turning the lookups into a scan of a whole index or table,
/// which it chose for thousands of streams, on three parallel workers, when the table had no
/// statistics yet); the catalog, the calendar, the supervision events naming no case (or an
/// empty one), and, when `$2` (a project is among them), every registration. One statement: one
/// snapshot. A stream named twice is read twice; the caller drops the repeats.
const CONTEXTS_SQL: &str = concat!(
    "SELECT e.* FROM unnest($1::text[]) AS wanted(name) CROSS JOIN LATERAL (SELECT ",
    columns!(),
    " FROM events WHERE stream = wanted.name UNION ALL SELECT ",
    columns!(),
    " FROM events WHERE stream = 'supervision' AND ",
    case_of_act!(),
    " = wanted.name OFFSET 0) AS e UNION ALL SELECT ",
    columns!(),
    " FROM events WHERE stream = 'catalog' UNION ALL SELECT ",
    columns!(),
    " FROM events WHERE stream = 'calendar' UNION ALL SELECT ",
    columns!(),
    " FROM events WHERE stream = 'supervision' AND ",
    case_of_act!(),
    " IS NULL UNION ALL SELECT ",
    columns!(),
    " FROM events WHERE stream = 'supervision' AND ",
    case_of_act!(),
    " = '' UNION ALL SELECT ",
    columns!(),
    " FROM events WHERE type = 'ProcurementRegistered' AND $2"
);
/// The columns of an index row, in `IndexRow`'s order.
macro_rules! index_columns {
    () => {
        "stream, min_occurred, max_occurred, reach, active, alerted, irregular"
    };
}
const INDEX_STATE_SQL: &str = "SELECT position, globals_max_occurred, \
     CASE WHEN format_position = position THEN fold_format ELSE 0 END::int8 \
     FROM case_index_state WHERE id = 1";
const INDEX_ROWS_SQL: &str = concat!(
    "SELECT ",
    index_columns!(),
    " FROM case_index WHERE stream = ANY($1)"
);
const INDEX_ACTIVE_SQL: &str = "SELECT stream FROM case_index WHERE active ORDER BY stream";
/// The state row exists before it is locked (a first write inserts it; a concurrent first
/// write waits for that insert and then finds the row).
const INDEX_STATE_ROW_SQL: &str =
    "INSERT INTO case_index_state (id, position, globals_max_occurred) \
     VALUES (1, 0, -9223372036854775808) ON CONFLICT (id) DO NOTHING";
/// Locks the state row until the commit: a concurrent writer reads the position only after
/// this one's commit, and then finds it moved.
const INDEX_LOCK_SQL: &str = "SELECT (SELECT position FROM case_index_state WHERE id = 1 \
     FOR UPDATE), (SELECT max(position) FROM events)";
/// A row marked irregular loses its kept alerts.
const INDEX_MARK_AFTER_SQL: &str = "WITH marked AS (UPDATE case_index SET irregular = true, \
     kept = false WHERE max_occurred > $1 RETURNING stream) \
     DELETE FROM case_alerts WHERE stream IN (SELECT stream FROM marked)";
const INDEX_MARK_ACTIVE_SQL: &str = "UPDATE case_index SET irregular = true WHERE active";
/// Rows as column arrays, unnested; a stored row of the same stream is replaced whole.
const INDEX_UPSERT_SQL: &str = concat!(
    "INSERT INTO case_index (",
    index_columns!(),
    ", kept) SELECT * FROM UNNEST($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::bool[], \
     $6::bool[], $7::bool[], $8::bool[]) ON CONFLICT (stream) DO UPDATE SET min_occurred = \
     excluded.min_occurred, max_occurred = excluded.max_occurred, reach = excluded.reach, \
     active = excluded.active, \
     alerted = excluded.alerted, irregular = excluded.irregular, kept = excluded.kept"
);
/// The same into an empty table (the first checkpoint of a new index): a plain INSERT, which
/// spares the server the conflict check of each row (a fifth of a million-row write).
const INDEX_INSERT_SQL: &str = concat!(
    "INSERT INTO case_index (",
    index_columns!(),
    ", kept) SELECT * FROM UNNEST($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::bool[], \
     $6::bool[], $7::bool[], $8::bool[])"
);
const INDEX_EMPTY_SQL: &str = "SELECT NOT EXISTS (SELECT 1 FROM case_index)";
const INDEX_SAVE_STATE_SQL: &str =
    "UPDATE case_index_state SET position = $1, globals_max_occurred = $2, fold_format = $3, \
     format_position = $1 WHERE id = 1";
/// Each half of a report's condition through its own index (migration 0008).
const INDEX_REPORT_SQL: &str = "SELECT stream FROM case_index \
     WHERE reach >= $2 AND min_occurred <= $1 \
     UNION SELECT stream FROM case_index WHERE active AND min_occurred <= $1 ORDER BY stream";
/// The flagged rows without kept alerts, and the kept ones reaching past the instant (each
/// through its own index, migration 0009).
const INDEX_ALERTS_SQL: &str = "SELECT stream FROM case_index \
     WHERE (active OR alerted OR irregular) AND NOT kept AND min_occurred <= $1 \
     UNION ALL SELECT stream FROM case_index WHERE kept AND reach > $1 AND min_occurred <= $1 \
     ORDER BY stream";
/// The kept alerts of the rows settled by an instant.
const INDEX_KEPT_SQL: &str =
    "SELECT stream, body FROM case_alerts WHERE reach <= $1 ORDER BY stream";
/// The kept alerts follow their rows: dropped with every row written.
const KEPT_DROP_SQL: &str = "DELETE FROM case_alerts WHERE stream = ANY($1)";
const KEPT_INSERT_SQL: &str = "INSERT INTO case_alerts (stream, reach, body) \
     SELECT * FROM UNNEST($1::text[], $2::int8[], $3::bytea[])";

/// Index rows per UNNEST statement of `write_index`.
const INDEX_ROWS_PER_UPSERT: usize = 50_000;

const LAST_SQL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM events ORDER BY position DESC LIMIT 1"
);
const HEAD_SQL: &str = "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1";
const VERSIONS_SQL: &str =
    "SELECT stream, max(version) FROM events WHERE stream = ANY($1) GROUP BY stream";
const IDS_SQL: &str = "SELECT id, position, stream, type, occurred_at, data, version, actor, org \
     FROM events WHERE id = ANY($1) AND id IS NOT NULL";
const OWNER_SQL: &str = "SELECT stream, type, org, data FROM events \
     WHERE stream = ANY($1) AND type = ANY($2) ORDER BY stream, version";
const POSITIONS_SQL: &str =
    "SELECT id, position, stream, type, occurred_at, data, version, actor, \
     org FROM events WHERE position = ANY($1)";
const INSERT_SQL: &str = "INSERT INTO events (position, stream, version, id, type, schema, \
     occurred_at, recorded_at, actor, org, data, prev_hash, hash) \
     SELECT * FROM UNNEST($1::int8[], $2::text[], $3::int8[], $4::text[], $5::text[], \
     $6::int4[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bytea[], \
     $13::bytea[])";
const SAVE_SNAPSHOT_SQL: &str =
    "INSERT INTO snapshots (name, position, bytes) VALUES ($1, $2, $3) \
     ON CONFLICT (name) DO UPDATE SET position = excluded.position, bytes = excluded.bytes";
const DELETE_PARTS_SQL: &str = "DELETE FROM snapshot_parts WHERE name = $1";
const SAVE_PART_SQL: &str = "INSERT INTO snapshot_parts (name, part, bytes) VALUES ($1, $2, $3)";
// One statement reads the snapshot and its parts as of one moment.
const LOAD_SNAPSHOT_SQL: &str = "SELECT position, bytes, 0 AS part FROM snapshots WHERE name = $1 \
     UNION ALL SELECT NULL, bytes, part FROM snapshot_parts WHERE name = $1 ORDER BY part";
const COPY_SQL: &str = "COPY events (position, stream, version, id, type, schema, occurred_at, \
     recorded_at, actor, org, data, prev_hash, hash) FROM STDIN (FORMAT binary)";

/// The binary COPY stream's header: its signature, no flags, no header extension.
const COPY_HEADER: &[u8; 19] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The binary COPY stream's trailer: a tuple of -1 fields.
const COPY_TRAILER: [u8; 2] = (-1i16).to_be_bytes();
/// Fields of each row in the binary COPY stream.
const COPY_FIELDS: i16 = 13;

/// The PostgreSQL store: the shared writer over [`PgReads`].
pub type PostgresStore = SqlStore<PgReads>;

/// The PostgreSQL store's readers: a small pool, and the listener that turns other processes'
/// commits into wake-ups.
#[derive(Debug, Clone)]
pub struct PgReads {
    pool: PgPool,
    wake: Arc<Wake>,
}

impl PostgresStore {
    /// Connects to the database a `postgres://` URL names, creates the first schema of its
    /// `search_path` if none exists yet, runs the migrations and starts the writer task.
    pub async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let options = connect_options(url)?;
        // A schema PostgreSQL keeps for itself, in the URL as with --district: the user's
        // mistake, named before anything is tried.
        if let Some(schema) = options
            .get_options()
            .and_then(crate::district::search_path_of)
            .filter(|s| s.starts_with("pg_"))
        {
            return Err(StoreError::BadUrl {
                url: url.to_owned(),
                reason: crate::district::DistrictError::Reserved(schema).to_string(),
            });
        }
        let mut conn = options.connect().await?;
        // The schema as PostgreSQL reads the connection's search_path (URL options and
        // PGOPTIONS, in any spelling), checked before anything is made; the connections are
        // named by it.
        let named = selected_schema(&mut conn, url).await?;
        if let Some(schema) = named.as_deref().filter(|s| s.starts_with("pg_")) {
            return Err(StoreError::BadUrl {
                url: url.to_owned(),
                reason: crate::district::DistrictError::Reserved(schema.to_owned()).to_string(),
            });
        }
        let options = named_for(options, named.as_deref());
        if let Some(name) = options.get_application_name() {
            sqlx::query("SELECT set_config('application_name', $1, false)")
                .bind(name)
                .execute(&mut conn)
                .await?;
        }
        // A read replica (a hot standby, or a session read-only by default) serves the reading
        // commands on the schema its primary keeps up to date.
        let read_only: bool =
            sqlx::query_scalar("SELECT current_setting('transaction_read_only') = 'on'")
                .fetch_one(&mut conn)
                .await?;
        if !read_only {
            ensure_schema(&mut conn, named.as_deref()).await?;
            migrate(&mut conn).await?;
        }
        // The log is the schema the URL names, or none: a read-only connection creates nothing.
        if let Some(schema) = named {
            let current: Option<String> = sqlx::query_scalar("SELECT current_schema()")
                .fetch_one(&mut conn)
                .await?;
            if current.as_deref() != Some(schema.as_str()) {
                return Err(StoreError::BadUrl {
                    url: url.to_owned(),
                    reason: format!(
                        "the search_path's schema {schema:?} is not one this connection can \
                         read (a read-only connection creates none)"
                    ),
                });
            }
        }
        // As with SQLite, the head's hash is checked by the writer, not here, so that a log
        // with a broken chain still opens for `verify`.
        let (table, last): (i64, Option<i64>) = sqlx::query_as(
            "SELECT 'events'::regclass::oid::int8, (SELECT max(position) FROM events)",
        )
        .fetch_one(&mut conn)
        .await?;
        let pool = PgPoolOptions::new()
            .max_connections(READERS_MAX)
            .connect_lazy_with(options.clone());
        let (committed_tx, committed) = watch::channel(last.map_or(0, to_u64));
        let committed_tx = Arc::new(committed_tx);
        let channel = format!("{CHANNEL_PREFIX}{table}");
        let log = PgLog {
            options: options.clone(),
            conn: Some(conn),
            begin_sql: format!(
                "BEGIN; SELECT pg_advisory_xact_lock({})",
                (LOCK_CLASS << 32) | table
            ),
            channel: channel.clone(),
            copy: Vec::new(),
        };
        let writer = WriterHandle::spawn(log, clock, committed_tx.clone());
        let wake = Wake {
            options,
            channel,
            committed: committed_tx,
            started: AtomicBool::new(false),
            stop: watch::channel(false).0,
        };
        Ok(SqlStore {
            chain: Arc::default(),
            writer,
            reads: PgReads {
                pool,
                wake: Arc::new(wake),
            },
            committed,
        })
    }
}

impl PgReads {
    async fn fetch_raw(
        &self,
        query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> Result<Vec<RawEvent>, StoreError> {
        let rows = query.fetch_all(&self.pool).await?;
        decode_raw_rows(&rows)
    }

    /// Writes a snapshot and its parts in one transaction.
    async fn save_parts(&self, name: &str, position: u64, bytes: &[u8]) -> Result<(), sqlx::Error> {
        let mut parts = bytes.chunks(SNAPSHOT_PART_BYTES);
        let mut tx = self.pool.begin().await?;
        sqlx::query(SAVE_SNAPSHOT_SQL)
            .bind(name)
            .bind(to_i64(position))
            .bind(parts.next().unwrap_or_default())
            .execute(&mut *tx)
            .await?;
        sqlx::query(DELETE_PARTS_SQL)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        for (n, part) in parts.enumerate() {
            sqlx::query(SAVE_PART_SQL)
                .bind(name)
                .bind(i32::try_from(n + 1).unwrap_or(i32::MAX))
                .bind(part)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }
}

fn connect_options(url: &str) -> Result<PgConnectOptions, StoreError> {
    let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    if let Some(o) = options.get_options() {
        crate::district::check_search_path(o).map_err(|reason| StoreError::BadUrl {
            url: url.to_owned(),
            reason,
        })?;
    }
    // Named by the district it opens: a refused import that created a district keeps it when
    // another process has it open (`drop_empty_district`). A name the URL gives follows ours.
    let name = application_name(options.get_options(), options.get_application_name());
    let options = options.application_name(&name);
    // No JIT compilation unless the URL asks for it: every statement here is an index lookup
    // or a scan in position order, which JIT does not speed up, and the planner's estimate for
    // thousands of streams' contexts crossed its threshold and spent 0.28 s of a 0.4 s read
    // compiling.
    let options = if options.get_options().is_some_and(|o| o.contains("jit")) {
        options
    } else {
        options.options([("jit", "off")])
    };
    Ok(options
        .log_statements(tracing::log::LevelFilter::Trace)
        .log_slow_statements(tracing::log::LevelFilter::Debug, crate::SLOW_STATEMENT))
}

/// The application name of a connection whose `options` may select a district's schema:
/// `jiancha <process> <tag> <schema>` ([`process_tag`], [`district_tag`]), or `jiancha`, then
/// the name the URL gave (`application_name`), if any. PostgreSQL keeps 63 bytes of it: the
/// tags come first, whole, and a long schema name or the given name may be cut.
fn application_name(options: Option<&str>, given: Option<&str>) -> String {
    let ours = application_name_of(options.and_then(crate::district::search_path_of).as_deref());
    match given.map(str::trim).filter(|g| !g.is_empty()) {
        Some(given) => format!("{ours} {given}"),
        None => ours,
    }
}

/// `jiancha <process> <tag> <schema>` for a connection to the district `schema`, or `jiancha`.
fn application_name_of(schema: Option<&str>) -> String {
    match schema {
        Some(schema) => format!(
            "{APPLICATION_NAME} {} {} {schema}",
            process_tag(),
            district_tag(schema)
        ),
        None => APPLICATION_NAME.to_owned(),
    }
}

/// This process among every process that connects to the database, on any machine: its id
/// and 24 random bits (two machines may run processes of one id).
fn process_tag() -> &'static str {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TAG.get_or_init(|| {
        use std::hash::{BuildHasher as _, Hasher as _};
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        format!("{}-{:06x}", std::process::id(), random & 0xff_ffff)
    })
}

/// The tag a connection to the district `schema` carries in its application name (after the
/// process's): 16 hexadecimal digits of the schema name's FNV-1a hash, so that the name matches
/// one district exactly however long the schema name is.
pub fn district_tag(schema: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in schema.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The one schema the connection's `search_path` selects when the connection set it (the URL's
/// options or `PGOPTIONS`), as PostgreSQL reads it; `None` when it is the server's own (a
/// district is then no schema of its own). A setting naming several schemas is refused: a log
/// is one schema, and PostgreSQL would read the first that exists, whichever a message named.
async fn selected_schema(conn: &mut PgConnection, url: &str) -> Result<Option<String>, StoreError> {
    let (path, source): (String, String) = sqlx::query_as(
        "SELECT current_setting('search_path'), source::text FROM pg_settings \
         WHERE name = 'search_path'",
    )
    .fetch_one(&mut *conn)
    .await?;
    if source != "client" {
        return Ok(None);
    }
    let schemas = schemas_of(&path);
    match schemas.as_slice() {
        [one] => Ok(Some(one.clone())),
        _ => Err(StoreError::BadUrl {
            url: url.to_owned(),
            reason: format!(
                "the search_path this connection sets (\"{path}\", from the URL's options or \
                 PGOPTIONS) names {} schemas: set it to the one schema that holds the log",
                schemas.len()
            ),
        }),
    }
}

/// `options` with the application name of a connection to the district `schema` (the one
/// PostgreSQL reads), the name the URL gave kept after it.
fn named_for(options: PgConnectOptions, schema: Option<&str>) -> PgConnectOptions {
    let ours = application_name_of(schema);
    let given = options
        .get_application_name()
        .and_then(|n| n.strip_prefix(&application_name_of(search_path(&options).as_deref())))
        .map(|rest| rest.trim().to_owned());
    let name = match given.filter(|g| !g.is_empty()) {
        Some(given) => format!("{ours} {given}"),
        None => ours,
    };
    options.application_name(&name)
}

/// The schema the URL's options name (as written; PostgreSQL's reading is checked on
/// connecting).
fn search_path(options: &PgConnectOptions) -> Option<String> {
    options
        .get_options()
        .and_then(crate::district::search_path_of)
}

/// Runs the migrations on `conn`. Through `run_direct` (what `Migrator::run` calls once it has
/// the connection), because `run`'s `Acquire<'a>` bound on `&mut PgConnection` is not proven for
/// every lifetime, which makes a future that opens a store (an HTTP handler's) not `Send`.
async fn migrate(conn: &mut PgConnection) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run_direct(conn).await
}

/// Whether schema `schema` holds an event log.
async fn log_in_schema(conn: &mut PgConnection, schema: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT to_regclass(format('%I.events', $1)) IS NOT NULL")
        .bind(schema)
        .fetch_one(conn)
        .await
}

/// Whether the database `url` names holds a schema `schema` with an event log (one connection,
/// closed after the question).
pub async fn log_exists(url: &str, schema: &str) -> Result<bool, StoreError> {
    let mut conn = connect_options(url)?.connect().await?;
    let exists = log_in_schema(&mut conn, schema).await?;
    let _ = sqlx::Connection::close(conn).await;
    Ok(exists)
}

/// Whether the URL's database holds an event log where the URL's `search_path` (a district's
/// schema, or the default) looks: what a reading command checks before it opens a log, which
/// would create one.
pub async fn log_at(url: &str) -> Result<bool, StoreError> {
    let mut conn = connect_options(url)?.connect().await?;
    // In the schema the connection names, not another its search path would fall back on.
    let exists: bool = match selected_schema(&mut conn, url).await? {
        Some(schema) => log_in_schema(&mut conn, &schema).await?,
        None => {
            sqlx::query_scalar("SELECT to_regclass('events') IS NOT NULL")
                .fetch_one(&mut conn)
                .await?
        }
    };
    let _ = sqlx::Connection::close(conn).await;
    Ok(exists)
}

/// Whether a schema of the connection's `search_path` exists (the district `url` selects is
/// there, with or without a log).
pub async fn schema_exists(url: &str) -> Result<bool, StoreError> {
    let mut conn = connect_options(url)?.connect().await?;
    let exists: bool = sqlx::query_scalar("SELECT current_schema() IS NOT NULL")
        .fetch_one(&mut conn)
        .await?;
    let _ = sqlx::Connection::close(conn).await;
    Ok(exists)
}

/// Drops the district (schema) `url` selects when its log holds no event: what an import that
/// created it and was refused undoes, so that a refused import leaves no empty district behind.
/// Answers whether it dropped one; the `public` schema and a log with events are left alone.
/// The log's table is locked first, so no writer can be appending meanwhile.
pub async fn drop_empty_district(url: &str) -> Result<bool, StoreError> {
    let mut conn = connect_options(url)?.connect().await?;
    let mut tx = sqlx::Connection::begin(&mut conn).await?;
    let schema: Option<String> = sqlx::query_scalar(
        "SELECT n.nspname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.oid = to_regclass('events')",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(schema) = schema.filter(|s| s != "public") else {
        return Ok(false);
    };
    let table = format!("{}.events", quote_ident(&schema));
    tx.execute(format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE").as_str())
        .await?;
    let events: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut *tx)
        .await?;
    if events > 0 {
        return Ok(false);
    }
    // Another process that opened the district meanwhile (a server, another import) would lose
    // its tables: the district stays. The import's own connections, just closed, may take a
    // moment to leave the server's list (up to 5 s on a loaded server).
    let mut others = others_in(&mut tx, &schema).await?;
    for _ in 0..100 {
        if others == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        others = others_in(&mut tx, &schema).await?;
    }
    if others > 0 {
        tracing::warn!(
            schema,
            others,
            "the new district is open in another process: it is kept"
        );
        return Ok(false);
    }
    tx.execute(format!("DROP SCHEMA {} CASCADE", quote_ident(&schema)).as_str())
        .await?;
    tx.commit().await?;
    let _ = sqlx::Connection::close(conn).await;
    Ok(true)
}

/// How many connections of other processes are named by the district `schema` (its
/// [`district_tag`] after a process tag other than this one's).
async fn others_in(conn: &mut PgConnection, schema: &str) -> Result<i64, StoreError> {
    // Statistics are read once per transaction unless cleared.
    sqlx::query("SELECT pg_stat_clear_snapshot()")
        .execute(&mut *conn)
        .await?;
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE pid <> pg_backend_pid() \
           AND split_part(application_name, ' ', 1) = $1 \
           AND split_part(application_name, ' ', 2) <> $2 \
           AND split_part(application_name, ' ', 3) = $3",
    )
    .bind(APPLICATION_NAME)
    .bind(process_tag())
    .bind(district_tag(schema))
    .fetch_one(&mut *conn)
    .await?)
}

/// Creates the schema the URL names first (`named`) when it does not exist, or with none
/// named the first of the connection's `search_path` when none of them exists, as SQLite
/// creates a missing file: `options=-c search_path=district_07` in the URL puts a log in its
/// own schema.
async fn ensure_schema(conn: &mut PgConnection, named: Option<&str>) -> Result<(), StoreError> {
    let (current, path): (Option<String>, String) =
        sqlx::query_as("SELECT current_schema(), current_setting('search_path')")
            .fetch_one(&mut *conn)
            .await?;
    let schema = match named {
        Some(named) if current.as_deref() == Some(named) => return Ok(()),
        Some(named) => named.to_owned(),
        None if current.is_some() => return Ok(()),
        None => match first_schema(&path) {
            Some(first) => first,
            // The migration says that no schema was selected.
            None => return Ok(()),
        },
    };
    let sql = format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(&schema));
    match conn.execute(sql.as_str()).await {
        Ok(_) => {
            tracing::info!(schema, "created the schema for the event log");
            Ok(())
        }
        // Another process created it at the same moment.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The first schema a `search_path` setting names, `$user` left out.
pub(crate) fn first_schema(path: &str) -> Option<String> {
    schemas_of(path).into_iter().next()
}

/// The schemas a `search_path` setting names, in order, `$user` left out.
pub(crate) fn schemas_of(path: &str) -> Vec<String> {
    path.split(',')
        .map(str::trim)
        .map(
            |name| match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
                Some(quoted) => quoted.replace("\"\"", "\""),
                None => name.to_lowercase(),
            },
        )
        .filter(|name| !name.is_empty() && name != "$user")
        .collect()
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Reads for PgReads {
    async fn stream(&self, stream: &str) -> Result<Vec<RawEvent>, StoreError> {
        self.fetch_raw(sqlx::query(READ_STREAM_SQL).bind(stream))
            .await
    }

    async fn concerning(&self, case: &str) -> Result<Vec<RawEvent>, StoreError> {
        self.fetch_raw(sqlx::query(READ_CONCERNING_SQL).bind(case))
            .await
    }

    async fn case_context(&self, case: &str) -> Result<Vec<RawEvent>, StoreError> {
        self.fetch_raw(sqlx::query(CASE_CONTEXT_SQL).bind(case))
            .await
    }

    async fn by_id(&self, id: &str) -> Result<Option<RawEvent>, StoreError> {
        let rows = self.fetch_raw(sqlx::query(READ_BY_ID_SQL).bind(id)).await?;
        Ok(rows.into_iter().next())
    }

    async fn after(&self, after: u64, limit: usize) -> Result<Vec<RawEvent>, StoreError> {
        let query = sqlx::query(READ_AFTER_SQL)
            .bind(to_i64(after))
            .bind(to_i64(limit as u64));
        self.fetch_raw(query).await
    }

    async fn head(&self) -> Result<Head, StoreError> {
        let row: Option<(i64, Vec<u8>)> =
            sqlx::query_as(HEAD_SQL).fetch_optional(&self.pool).await?;
        Ok(row.map_or_else(Head::default, |(position, hash)| Head {
            position: to_u64(position),
            hash: hash_from(&hash),
        }))
    }

    async fn save_snapshot(
        &self,
        name: &str,
        position: u64,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        match self.save_parts(name, position, &bytes).await {
            Ok(()) => Ok(()),
            // A read replica keeps no snapshot of its own: a snapshot is only a cache.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(READ_ONLY_SQLSTATE) => {
                tracing::debug!(name, "a read-only database keeps no snapshot");
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn load_snapshot(&self, name: &str) -> Result<Option<Snapshot>, StoreError> {
        let rows: Vec<(Option<i64>, Vec<u8>, i32)> = sqlx::query_as(LOAD_SNAPSHOT_SQL)
            .bind(name)
            .fetch_all(&self.pool)
            .await?;
        Ok(join_snapshot(
            rows.iter()
                .map(|(position, bytes, _)| (*position, bytes.as_slice()))
                .collect(),
        ))
    }

    async fn contexts(&self, streams: &[String]) -> Result<Vec<RawEvent>, StoreError> {
        let projects = jiancha_events::Contexts::new(streams.iter().cloned()).has_projects();
        self.fetch_raw(sqlx::query(CONTEXTS_SQL).bind(streams).bind(projects))
            .await
    }

    async fn index_state(&self) -> Result<IndexState, StoreError> {
        let row: Option<(i64, i64, i64)> = sqlx::query_as(INDEX_STATE_SQL)
            .fetch_optional(&self.pool)
            .await?;
        Ok(IndexState::stored(row))
    }

    async fn index_rows(&self, streams: &[String]) -> Result<Vec<IndexRow>, StoreError> {
        let rows = sqlx::query(INDEX_ROWS_SQL)
            .bind(streams)
            .fetch_all(&self.pool)
            .await?;
        decode_rows(&rows, index_row)
    }

    async fn index_active(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(INDEX_ACTIVE_SQL)
            .fetch_all(&self.pool)
            .await?)
    }

    /// In one transaction, the state row locked first: the three tables emptied when it is
    /// still `expected`.
    async fn reset_index(&self, expected: IndexState) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // The three tables locked first, in the order a checkpoint writes them: two resets (or
        // a reset and a checkpoint) wait for each other instead of deadlocking.
        sqlx::query(
            "LOCK TABLE case_index_state, case_index, case_alerts IN ACCESS EXCLUSIVE MODE",
        )
        .execute(&mut *tx)
        .await?;
        let row: Option<(i64, i64, i64)> = sqlx::query_as(
            "SELECT position, globals_max_occurred, \
             CASE WHEN format_position = position THEN fold_format ELSE 0 END::int8 \
             FROM case_index_state WHERE id = 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        if IndexState::stored(row) == expected {
            sqlx::query("TRUNCATE case_alerts, case_index, case_index_state")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// In one transaction, the state row locked first (see [`INDEX_LOCK_SQL`]); the rows in
    /// UNNEST statements of [`INDEX_ROWS_PER_UPSERT`]. An error drops the transaction, which
    /// rolls back.
    async fn write_index(&self, write: &IndexWrite, rows: &[IndexRow]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(INDEX_STATE_ROW_SQL).execute(&mut *tx).await?;
        let (stored, head): (Option<i64>, Option<i64>) =
            sqlx::query_as(INDEX_LOCK_SQL).fetch_one(&mut *tx).await?;
        write.check(stored.map_or(0, to_u64), head.map_or(0, to_u64))?;
        if let Some(after) = write.mark_after {
            sqlx::query(INDEX_MARK_AFTER_SQL)
                .bind(after)
                .execute(&mut *tx)
                .await?;
        }
        if write.mark_active {
            sqlx::query(INDEX_MARK_ACTIVE_SQL).execute(&mut *tx).await?;
        }
        // The rows are one per stream: into an empty table no row can conflict.
        let empty: bool = sqlx::query_scalar(INDEX_EMPTY_SQL)
            .fetch_one(&mut *tx)
            .await?;
        let sql = if empty {
            INDEX_INSERT_SQL
        } else {
            INDEX_UPSERT_SQL
        };
        let kept = kept_rows(rows, &write.kept);
        for chunk in rows.chunks(INDEX_ROWS_PER_UPSERT) {
            let column = |f: fn(&IndexRow) -> bool| chunk.iter().map(f).collect::<Vec<_>>();
            sqlx::query(sql)
                .bind(chunk.iter().map(|r| r.stream.as_str()).collect::<Vec<_>>())
                .bind(chunk.iter().map(|r| r.min_occurred).collect::<Vec<_>>())
                .bind(chunk.iter().map(|r| r.max_occurred).collect::<Vec<_>>())
                .bind(chunk.iter().map(|r| r.reach).collect::<Vec<_>>())
                .bind(column(|r| r.active))
                .bind(column(|r| r.alerted))
                .bind(column(|r| r.irregular))
                .bind(chunk.iter().map(|r| is_kept(r, &kept)).collect::<Vec<_>>())
                .execute(&mut *tx)
                .await?;
        }
        for chunk in rows.chunks(INDEX_ROWS_PER_UPSERT) {
            sqlx::query(KEPT_DROP_SQL)
                .bind(chunk.iter().map(|r| r.stream.as_str()).collect::<Vec<_>>())
                .execute(&mut *tx)
                .await?;
        }
        for chunk in kept.chunks(INDEX_ROWS_PER_UPSERT) {
            sqlx::query(KEPT_INSERT_SQL)
                .bind(
                    chunk
                        .iter()
                        .map(|(k, _)| k.stream.as_str())
                        .collect::<Vec<_>>(),
                )
                .bind(chunk.iter().map(|(_, r)| r.reach).collect::<Vec<_>>())
                .bind(
                    chunk
                        .iter()
                        .map(|(k, _)| k.body.as_slice())
                        .collect::<Vec<_>>(),
                )
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(INDEX_SAVE_STATE_SQL)
            .bind(to_i64(write.state.position))
            .bind(write.state.globals_max_occurred)
            .bind(i64::from(write.state.fold_format) as i32)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn index_select(&self, select: IndexSelect) -> Result<Vec<String>, StoreError> {
        let q = match select {
            IndexSelect::Report { by, reaching } => {
                sqlx::query_scalar(INDEX_REPORT_SQL).bind(by).bind(reaching)
            }
            IndexSelect::Alerts { by } => sqlx::query_scalar(INDEX_ALERTS_SQL).bind(by),
        };
        Ok(q.fetch_all(&self.pool).await?)
    }

    async fn index_kept(&self, by: i64) -> Result<Vec<KeptAlerts>, StoreError> {
        Ok(sqlx::query_as::<_, KeptAlerts>(INDEX_KEPT_SQL)
            .bind(by)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn snapshot_names(&self) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT name FROM snapshots ORDER BY name COLLATE \"C\"")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    fn following(&self) {
        self.wake.start();
    }

    async fn close(&self) {
        self.wake.stop.send_replace(true);
        self.pool.close().await;
    }
}

/// The writer's connection. It reconnects at the start of a transaction after the connection
/// failed, never within one.
struct PgLog {
    options: PgConnectOptions,
    conn: Option<PgConnection>,
    /// `BEGIN` and the advisory lock, in one round trip.
    begin_sql: String,
    channel: String,
    /// The COPY text of the chunk being imported, reused.
    copy: Vec<u8>,
}

impl PgLog {
    /// The connection of the open transaction.
    fn live(&mut self) -> Result<&mut PgConnection, StoreError> {
        self.conn.as_mut().ok_or_else(lost)
    }

    async fn rows(
        &mut self,
        query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> Result<Vec<PgRow>, StoreError> {
        Ok(query.fetch_all(self.live()?).await?)
    }

    async fn existing(
        &mut self,
        query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> Result<Vec<(String, ExistingId)>, StoreError> {
        let rows = self.rows(query).await?;
        decode_rows(&rows, existing_from_row)
    }
}

impl PgLog {
    /// `BEGIN` and the lock on the connection, connecting first if there is none.
    async fn try_begin(&mut self) -> Result<(), sqlx::Error> {
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => self.options.connect().await?,
        };
        let conn = self.conn.insert(conn);
        if let Err(e) = conn.execute(self.begin_sql.as_str()).await {
            self.rollback().await;
            return Err(e);
        }
        Ok(())
    }
}

impl LogConnection for PgLog {
    async fn begin(&mut self) -> Result<(), StoreError> {
        let had_connection = self.conn.is_some();
        match self.try_begin().await {
            // A connection that died while idle (the server restarted, an administrator or a
            // proxy ended it; the server may say so first, as a database error) is replaced
            // once: nothing of the transaction has run yet, so trying again is harmless.
            Err(e) if had_connection => {
                tracing::info!(error = %e, "the writer's connection was lost; reconnecting");
                self.conn = None;
                Ok(self.try_begin().await?)
            }
            other => Ok(other?),
        }
    }

    async fn last_event(&mut self) -> Result<Option<RawEvent>, StoreError> {
        let rows = self.rows(sqlx::query(LAST_SQL)).await?;
        rows.first().map(decode_raw_row).transpose()
    }

    async fn commit(&mut self, advanced_to: Option<u64>) -> Result<(), StoreError> {
        // The notification is delivered when, and only if, the transaction commits.
        let sql = match advanced_to {
            Some(head) => format!("SELECT pg_notify('{}', '{head}'); COMMIT", self.channel),
            None => "COMMIT".to_owned(),
        };
        self.live()?.execute(sql.as_str()).await?;
        Ok(())
    }

    async fn rollback(&mut self) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        if let Err(e) = conn.execute("ROLLBACK").await {
            tracing::warn!(error = %e, "rollback failed; the next transaction reconnects");
            // Dropping the connection ends its transaction on the server.
            self.conn = None;
        }
    }

    async fn execute(&mut self, sql: &'static str) -> Result<(), StoreError> {
        self.live()?.execute(sql).await?;
        Ok(())
    }

    async fn stream_versions(
        &mut self,
        streams: &[&str],
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let rows = self.rows(sqlx::query(VERSIONS_SQL).bind(streams)).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push((row.try_get(0)?, to_u64(row.try_get(1)?)));
        }
        Ok(out)
    }

    async fn find_ids(&mut self, ids: &[&str]) -> Result<Vec<(String, ExistingId)>, StoreError> {
        self.existing(sqlx::query(IDS_SQL).bind(ids)).await
    }

    async fn owner_rows(&mut self, streams: &[&str]) -> Result<Vec<OwnerRow>, StoreError> {
        let types = &crate::owner::OWNER_TYPES[..];
        let rows = self
            .rows(sqlx::query(OWNER_SQL).bind(streams).bind(types))
            .await?;
        decode_rows(&rows, owner_row)
    }

    async fn find_positions(
        &mut self,
        positions: &[i64],
    ) -> Result<Vec<(String, ExistingId)>, StoreError> {
        self.existing(sqlx::query(POSITIONS_SQL).bind(positions))
            .await
    }

    /// One statement for the whole group: each column as an array, unnested into rows.
    async fn insert(&mut self, rows: &[&RawEvent]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let ints = |f: fn(&RawEvent) -> u64| rows.iter().map(|r| to_i64(f(r))).collect::<Vec<_>>();
        let texts = |f: fn(&RawEvent) -> &str| rows.iter().map(|r| f(r)).collect::<Vec<_>>();
        let hashes =
            |f: fn(&RawEvent) -> &Hash| rows.iter().map(|r| &f(r).0[..]).collect::<Vec<_>>();
        let query = sqlx::query(INSERT_SQL)
            .bind(ints(|r| r.position))
            .bind(texts(|r| &r.stream))
            .bind(ints(|r| r.version))
            .bind(rows.iter().map(|r| stored_id(r)).collect::<Vec<_>>())
            .bind(texts(|r| &r.event_type))
            .bind(
                rows.iter()
                    .map(|r| i32::try_from(r.schema).unwrap_or(i32::MAX))
                    .collect::<Vec<_>>(),
            )
            .bind(texts(|r| &r.occurred_at))
            .bind(texts(|r| &r.recorded_at))
            .bind(texts(|r| &r.actor))
            .bind(texts(|r| &r.org))
            .bind(texts(|r| &r.data))
            .bind(hashes(|r| &r.prev_hash))
            .bind(hashes(|r| &r.hash));
        query.execute(self.live()?).await?;
        Ok(())
    }

    /// `COPY … FROM STDIN` in binary format: the fastest way into PostgreSQL.
    async fn insert_bulk(&mut self, rows: &[&RawEvent]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        self.copy_rows(rows, || None).await
    }

    /// One COPY for the whole run: each chunk's rows are sent as soon as the previous chunk's
    /// are, and the next chunk is planned while the server takes them; the server answers once,
    /// at the end.
    async fn insert_bulk_run(
        &mut self,
        first: Vec<RawEvent>,
        planner: &mut impl RunPlanner,
    ) -> Result<(), StoreError> {
        let rows: Vec<&RawEvent> = first.iter().collect();
        self.copy_rows(&rows, || planner.next_chunk()).await
    }
}

impl PgLog {
    /// COPYs `first`, then each chunk `more` returns until `None`, in one binary COPY.
    async fn copy_rows(
        &mut self,
        first: &[&RawEvent],
        mut more: impl FnMut() -> Option<Vec<RawEvent>> + Send,
    ) -> Result<(), StoreError> {
        let PgLog {
            conn, copy: buf, ..
        } = self;
        let conn = conn.as_mut().ok_or_else(lost)?;
        let mut copy = conn.copy_in_raw(COPY_SQL).await?;
        buf.clear();
        buf.extend_from_slice(COPY_HEADER);
        let mut later: Vec<RawEvent>;
        let mut rows: Vec<&RawEvent> = first.to_vec();
        loop {
            // In pieces: the server takes one while the next is encoded.
            for piece in rows.chunks(COPY_PIECE_ROWS) {
                for row in piece {
                    copy_row(row, buf);
                }
                // A failed send drops the COPY, which tells the server to abandon it.
                copy.send(buf.as_slice()).await?;
                buf.clear();
            }
            match more() {
                Some(next) => {
                    later = next;
                    rows = later.iter().collect();
                }
                None => break,
            }
        }
        copy.send(COPY_TRAILER.as_slice()).await?;
        copy.finish().await?;
        Ok(())
    }
}

fn lost() -> StoreError {
    StoreError::GroupFailed("the connection to PostgreSQL was lost".into())
}

/// Appends one row in COPY's binary format: the field count, then each field as its length
/// (-1 for NULL) and its bytes — integers big-endian, text as UTF-8, bytea as is. Nothing is
/// escaped, so the server reads back exactly the bytes that were hashed.
fn copy_row(raw: &RawEvent, out: &mut Vec<u8>) {
    out.extend_from_slice(&COPY_FIELDS.to_be_bytes());
    copy_field(out, &to_i64(raw.position).to_be_bytes());
    copy_field(out, raw.stream.as_bytes());
    copy_field(out, &to_i64(raw.version).to_be_bytes());
    match stored_id(raw) {
        Some(id) => copy_field(out, id.as_bytes()),
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
    }
    copy_field(out, raw.event_type.as_bytes());
    copy_field(
        out,
        &i32::try_from(raw.schema).unwrap_or(i32::MAX).to_be_bytes(),
    );
    for text in [
        &raw.occurred_at,
        &raw.recorded_at,
        &raw.actor,
        &raw.org,
        &raw.data,
    ] {
        copy_field(out, text.as_bytes());
    }
    copy_field(out, &raw.prev_hash.0);
    copy_field(out, &raw.hash.0);
}

/// One non-NULL field of a binary COPY row. A value over 2 GiB (never a real event: lines and
/// bodies are limited far below) is sent with a wrong length, which the server refuses.
fn copy_field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&i32::try_from(bytes.len()).unwrap_or(-1).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The listener's side of a store: started by the first follower, stopped by `close` or when
/// the last clone of the store is dropped.
#[derive(Debug)]
struct Wake {
    options: PgConnectOptions,
    channel: String,
    committed: Arc<watch::Sender<u64>>,
    started: AtomicBool,
    stop: watch::Sender<bool>,
}

impl Wake {
    fn start(&self) {
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // Outside a runtime nobody can wait on `committed` anyway; try again next time.
            self.started.store(false, Ordering::Release);
            return;
        };
        runtime.spawn(listen(
            self.options.clone(),
            self.channel.clone(),
            self.committed.clone(),
            self.stop.subscribe(),
        ));
    }
}

/// Moves `committed` forward on every notification, reconnecting after a failure, until told
/// to stop. Notifications lost meanwhile only delay followers until their next poll.
async fn listen(
    options: PgConnectOptions,
    channel: String,
    committed: Arc<watch::Sender<u64>>,
    mut stop: watch::Receiver<bool>,
) {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_lazy_with(options);
    loop {
        let failed = tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            failed = follow(&pool, &channel, &committed) => failed,
        };
        tracing::debug!(error = %failed, "listening for commits failed; followers poll meanwhile");
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            () = tokio::time::sleep(LISTEN_RETRY_INTERVAL) => {}
        }
    }
    pool.close().await;
}

/// Listens until the connection fails.
async fn follow(pool: &PgPool, channel: &str, committed: &watch::Sender<u64>) -> sqlx::Error {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(l) => l,
        Err(e) => return e,
    };
    if let Err(e) = listener.listen(channel).await {
        return e;
    }
    loop {
        match listener.recv().await {
            Ok(n) => {
                if let Ok(head) = n.payload().parse::<u64>() {
                    committed.send_if_modified(|c| {
                        let moved = head > *c;
                        if moved {
                            *c = head;
                        }
                        moved
                    });
                }
            }
            Err(e) => return e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection names its process and district first, whatever name the URL gives: the
    /// drop of a refused import's district counts it by that name.
    #[test]
    fn a_connection_names_its_district_before_the_name_the_url_gives() {
        let ours = format!("jiancha {} {} d1", process_tag(), district_tag("d1"));
        assert!(process_tag().starts_with(&format!("{}-", std::process::id())));
        let options = Some("-c search_path=d1");
        assert_eq!(
            application_name(options, Some("bureau")),
            format!("{ours} bureau")
        );
        assert_eq!(application_name(options, None), ours);
        assert_eq!(application_name(options, Some(" ")), ours);
        assert_eq!(application_name(None, Some("bureau")), "jiancha bureau");
        let url = "postgres://u@h/db?application_name=bureau&options=-c%20search_path%3Dd1";
        let named = connect_options(url).ok();
        assert_eq!(
            named.as_ref().and_then(|o| o.get_application_name()),
            Some(format!("{ours} bureau").as_str())
        );
        // One district's tag is not another's, whatever their names share.
        assert_ne!(district_tag("d1"), district_tag("d10"));
        assert_eq!(district_tag("d1").len(), 16);
    }

    /// A URL's options set `search_path` once, to one schema, in any spelling PostgreSQL reads.
    #[test]
    fn a_search_path_of_several_schemas_or_settings_is_refused() {
        for options in [
            "-c%20search_path%3Da%2Cb",
            "-c%20search_path%3Da%20-c%20search_path%3Db",
            "-csearch_path%3Da%20--search_path%3Da",
            "-c%20SEARCH_PATH%3Da%2Cb",
            "--search-path%3Da%2Cb",
            "-c%20search_path%3Da%20-c%20Search_Path%3Db",
        ] {
            let url = format!("postgres://u@h/db?options={options}");
            assert!(
                matches!(connect_options(&url), Err(StoreError::BadUrl { .. })),
                "{options}"
            );
        }
        for options in [
            "-c%20search_path%3Da",
            "-c%20search_path%3D%22%24user%22%2Ca",
        ] {
            let url = format!("postgres://u@h/db?options={options}");
            assert!(connect_options(&url).is_ok(), "{options}");
        }
    }

    #[test]
    fn a_binary_copy_row_is_lengths_and_bytes() {
        let raw = RawEvent {
            position: 258,
            stream: "case-1".into(),
            version: 2,
            id: "x\ty".into(),
            event_type: "Accepted".into(),
            schema: 1,
            occurred_at: "o".into(),
            recorded_at: "r".into(),
            actor: "a".into(),
            org: "身".into(),
            data: "{}".into(),
            prev_hash: Hash([1; 32]),
            hash: Hash([2; 32]),
        };
        let mut out = Vec::new();
        copy_row(&raw, &mut out);
        let mut want: Vec<u8> = vec![0, 13, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1, 2];
        want.extend_from_slice(&[0, 0, 0, 6]);
        want.extend_from_slice(b"case-1");
        want.extend_from_slice(&[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 2]);
        want.extend_from_slice(&[0, 0, 0, 3]);
        want.extend_from_slice(b"x\ty");
        want.extend_from_slice(&[0, 0, 0, 8]);
        want.extend_from_slice(b"Accepted");
        want.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 1]);
        for text in ["o", "r", "a"] {
            want.extend_from_slice(&[0, 0, 0, 1]);
            want.extend_from_slice(text.as_bytes());
        }
        want.extend_from_slice(&[0, 0, 0, 3]);
        want.extend_from_slice("身".as_bytes());
        want.extend_from_slice(&[0, 0, 0, 2]);
        want.extend_from_slice(b"{}");
        want.extend_from_slice(&[0, 0, 0, 32]);
        want.extend_from_slice(&[1; 32]);
        want.extend_from_slice(&[0, 0, 0, 32]);
        want.extend_from_slice(&[2; 32]);
        assert_eq!(out, want);
    }

    #[test]
    fn the_copy_header_is_the_binary_signature() {
        assert_eq!(&COPY_HEADER[..11], b"PGCOPY\n\xff\r\n\0");
        assert_eq!(&COPY_HEADER[11..], &[0; 8]);
    }

    #[test]
    fn the_first_schema_of_a_search_path() {
        assert_eq!(first_schema("\"$user\", public").as_deref(), Some("public"));
        assert_eq!(first_schema("District_7, x").as_deref(), Some("district_7"));
        assert_eq!(
            first_schema("\"Odd \"\"name\"\"\"").as_deref(),
            Some("Odd \"name\"")
        );
        assert_eq!(first_schema("").as_deref(), None);
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
