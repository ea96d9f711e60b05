-- The alerts of settled cases, kept beside their index rows (`index.rs`, `KeptAlerts`): a
-- question at an instant reads them instead of folding those cases' events again. Written in
-- the same transaction as the rows and the position they cover; the body is the engine's
-- encoding. Derived, like the index: dropped and rebuilt with it.
--
-- A row has kept alerts (`kept`) only while it is settled (neither active nor irregular): a
-- row written again without them, or marked irregular, loses them. `reach` repeats the row's,
-- so that the alerts' question reads the kept alerts settled by its instant without a join.
CREATE TABLE case_alerts (
    stream TEXT    PRIMARY KEY,
    reach  INTEGER NOT NULL,
    body   BLOB    NOT NULL
) WITHOUT ROWID;

ALTER TABLE case_index ADD COLUMN kept INTEGER NOT NULL DEFAULT 0;

-- The alerts' question folds the flagged rows without kept alerts, and the kept ones that reach
-- past its instant; the queries repeat these conditions word for word, so that SQLite uses them.
DROP INDEX case_index_flagged;
CREATE INDEX case_index_unsettled ON case_index (min_occurred)
    WHERE (active OR alerted OR irregular) AND NOT kept;
CREATE INDEX case_index_kept ON case_index (reach, min_occurred) WHERE kept;

-- An index written before kept no alerts: it is rebuilt on the next question at an instant.
DELETE FROM case_index;
DELETE FROM case_index_state;
