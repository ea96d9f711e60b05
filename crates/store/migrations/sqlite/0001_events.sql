-- The event log. Positions are assigned by the single writer: gap-free, in commit order.
CREATE TABLE events (
    position    INTEGER PRIMARY KEY,
    stream      TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    -- NULL when the id is the one the log assigns (auto:<stream>:<version>): only ids given
    -- by callers take room in the unique index.
    id          TEXT,
    type        TEXT    NOT NULL,
    schema      INTEGER NOT NULL,
    occurred_at TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    org         TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    prev_hash   BLOB    NOT NULL,
    hash        BLOB    NOT NULL
);

-- A retried append with the same id is found here, and a second row with it is impossible.
CREATE UNIQUE INDEX events_id ON events (id) WHERE id IS NOT NULL;
CREATE UNIQUE INDEX events_stream_version ON events (stream, version);

-- The log is append-only: rows are never changed or removed by jiancha.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;
