-- The case index (`index.rs`): one row per case and project, derived from the log and
-- checkpointed with the position it covers. Unlike `events` these tables are not the log: rows
-- are replaced and marked as the index catches up, and may be dropped and rebuilt.
--
-- Without a rowid the table is kept in stream order (lookups by stream, output sorted by
-- stream), and every secondary index carries the stream, so both questions are answered from
-- the indexes alone.
CREATE TABLE case_index (
    stream       TEXT    PRIMARY KEY,
    min_occurred INTEGER NOT NULL,
    max_occurred INTEGER NOT NULL,
    reach        INTEGER NOT NULL,
    active       INTEGER NOT NULL,
    alerted      INTEGER NOT NULL,
    irregular    INTEGER NOT NULL
) WITHOUT ROWID;

-- A report looks at a recent period: the rows whose fold reaches into it (`reach >= reaching`)
-- are few of a year's, and `min_occurred <= by` is checked in the same index.
CREATE INDEX case_index_reach ON case_index (reach, min_occurred);
-- The rows `mark_after` marks (`max_occurred > after`).
CREATE INDEX case_index_max ON case_index (max_occurred, min_occurred);
-- The active rows: the report's other half, `index_active` and `mark_active`. Few of all.
-- Without statistics SQLite may prefer the next index for them: the queries name this one.
CREATE INDEX case_index_active ON case_index (min_occurred) WHERE active;
-- The alerts' question: rows that ever had an alert, are active or irregular (a minority of a
-- year's cases). The query repeats this condition word for word, so that SQLite uses it.
-- (Output is sorted by the reader, not by ORDER BY: SQLite would rather scan the whole table in
-- stream order than sort what an index finds.)
CREATE INDEX case_index_flagged ON case_index (min_occurred) WHERE active OR alerted OR irregular;

-- What the rows cover: one row, written with them in one transaction.
CREATE TABLE case_index_state (
    id                   INTEGER PRIMARY KEY CHECK (id = 1),
    position             INTEGER NOT NULL,
    globals_max_occurred INTEGER NOT NULL
);

-- A project's context holds every project's registration (`proc.split`): found here instead of
-- by a scan of the log.
CREATE INDEX events_procurement_registrations ON events (position)
    WHERE type = 'ProcurementRegistered';

-- A context holds every supervision event that names no case (declared imports, closed
-- periods, upheld appeals): the expression of `events_supervision_case` (0007) is NULL for
-- them, and SQLite searches an expression index by equality only.
CREATE INDEX events_supervision_no_case ON events (position)
    WHERE stream = 'supervision' AND coalesce(
        json_extract(data, '$.case'),
        substr(
            coalesce(json_extract(data, '$.alert'), json_extract(data, '$.complaint'), json_extract(data, '$.notification')),
            1,
            instr(coalesce(json_extract(data, '$.alert'), json_extract(data, '$.complaint'), json_extract(data, '$.notification')), '/') - 1
        )
    ) IS NULL;
