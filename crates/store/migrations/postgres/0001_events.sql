-- The event log on PostgreSQL. Positions are assigned by one writer at a time, under a
-- transaction-scoped advisory lock taken before the head is read, so they are gap-free and in
-- commit order even with several processes appending.
CREATE TABLE events (
    position    BIGINT  PRIMARY KEY CHECK (position > 0),
    stream      TEXT    NOT NULL,
    version     BIGINT  NOT NULL CHECK (version > 0),
    -- NULL when the id is the one the log assigns (auto:<stream>:<version>): only ids given
    -- by callers take room in the unique index.
    id          TEXT,
    type        TEXT    NOT NULL,
    schema      INTEGER NOT NULL,
    -- Canonical RFC 3339 text, exactly as hashed.
    occurred_at TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    org         TEXT    NOT NULL,
    -- The JSON text exactly as hashed (jsonb would reorder keys and break the chain).
    data        TEXT    NOT NULL,
    prev_hash   BYTEA   NOT NULL,
    hash        BYTEA   NOT NULL,
    -- The transaction that wrote the event: the events of one commit share it, and it grows
    -- with the position (it is assigned under the advisory lock).
    xid         XID8    NOT NULL DEFAULT pg_current_xact_id()
);

-- A retried append with the same id is found here, and a second row with it is impossible.
CREATE UNIQUE INDEX events_id ON events (id) WHERE id IS NOT NULL;
CREATE UNIQUE INDEX events_stream_version ON events (stream, version);

-- The log is append-only: rows are never changed or removed by jiancha.
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only';
END;
$$;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();

CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();
