-- Snapshots of derived state beside the log, each with the position it covers. They are a
-- cache: a snapshot that does not match the log is ignored and rebuilt.
CREATE TABLE snapshots (
    name     TEXT    PRIMARY KEY,
    position INTEGER NOT NULL,
    bytes    BLOB    NOT NULL
);
