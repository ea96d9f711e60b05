-- The case index (`index.rs`): one row per case and project, derived from the log and
-- checkpointed with the position it covers. Unlike `events` these tables are not the log: rows
-- are replaced and marked as the index catches up, and may be dropped and rebuilt. Streams are
-- compared byte by byte ("C"), as in `events` (0005): the order SQLite gives too.
CREATE TABLE case_index (
    stream       TEXT COLLATE "C" PRIMARY KEY,
    min_occurred BIGINT  NOT NULL,
    max_occurred BIGINT  NOT NULL,
    reach        BIGINT  NOT NULL,
    active       BOOLEAN NOT NULL,
    alerted      BOOLEAN NOT NULL,
    irregular    BOOLEAN NOT NULL
);

-- A report looks at a recent period: the rows whose fold reaches into it (`reach >= reaching`)
-- are few of a year's, and `min_occurred <= by` is checked in the same index.
CREATE INDEX case_index_reach ON case_index (reach, min_occurred) INCLUDE (stream);
-- The rows `mark_after` marks (`max_occurred > after`). Each index includes the stream, so that both
-- questions are answered by index-only scans.
CREATE INDEX case_index_max ON case_index (max_occurred, min_occurred) INCLUDE (stream);
-- The active rows: the report's other half, `index_active` and `mark_active`. Few of all.
CREATE INDEX case_index_active ON case_index (min_occurred) INCLUDE (stream) WHERE active;
-- The alerts' question: rows that ever had an alert, are active or irregular (a minority of a
-- year's cases).
CREATE INDEX case_index_flagged ON case_index (min_occurred) INCLUDE (stream)
    WHERE active OR alerted OR irregular;

-- What the rows cover: one row, written with them in one transaction (and locked by it, so
-- that two writers cannot both move it from the same position).
CREATE TABLE case_index_state (
    id                   INTEGER PRIMARY KEY CHECK (id = 1),
    position             BIGINT NOT NULL,
    globals_max_occurred BIGINT NOT NULL
);

-- A project's context holds every project's registration (`proc.split`): found here instead of
-- by a scan of the log.
CREATE INDEX events_procurement_registrations ON events (position)
    WHERE type = 'ProcurementRegistered';
