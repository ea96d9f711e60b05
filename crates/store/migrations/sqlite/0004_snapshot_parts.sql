-- A snapshot larger than one value may hold (both databases stop near 1 GB) is kept in parts:
-- part 0 in `snapshots.bytes`, the rest here in order. A snapshot and its parts are written
-- in one transaction.
CREATE TABLE snapshot_parts (
    name  TEXT    NOT NULL,
    part  INTEGER NOT NULL,
    bytes BLOB    NOT NULL,
    PRIMARY KEY (name, part)
);
