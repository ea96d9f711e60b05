-- Snapshots of derived state beside the log, each with the position it covers. They are a
-- cache: a snapshot that does not match the log is ignored and rebuilt. Several engine
-- processes may save under one name; the last one wins.
CREATE TABLE snapshots (
    name     TEXT   PRIMARY KEY,
    position BIGINT NOT NULL,
    bytes    BYTEA  NOT NULL
);
