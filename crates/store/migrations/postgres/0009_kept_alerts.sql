-- The alerts of settled cases, kept beside their index rows (`index.rs`, `KeptAlerts`): a
-- question at an instant reads them instead of folding those cases' events again. Written in
-- the same transaction as the rows and the position they cover; the body is the engine's
-- encoding. Derived, like the index: dropped and rebuilt with it.
CREATE TABLE case_alerts (
    stream TEXT COLLATE "C" PRIMARY KEY,
    body   BYTEA NOT NULL
);

-- An index written before this table existed kept no alerts: it is rebuilt on the next
-- question at an instant.
DELETE FROM case_index;
DELETE FROM case_index_state;
