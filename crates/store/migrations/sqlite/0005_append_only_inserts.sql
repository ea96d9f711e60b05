-- Inserts too keep the log append-only. `INSERT OR REPLACE` (or `REPLACE INTO`) resolves a
-- collision by deleting the row it collides with, and SQLite fires no delete trigger for that
-- (unless a connection turns `recursive_triggers` on), so 0001's triggers let a whole run of
-- positions be rewritten consistently. A row is taken only at the position right after the
-- head, and only when its id and its (stream, version) are new: refused here, before any
-- conflict resolution, whatever the statement's `OR` clause says. The writer only ever inserts
-- such rows. (Anyone who can write the file can still drop these triggers: attested heads are
-- the defence against that; see the README's security section.)
CREATE TRIGGER events_insert_at_head BEFORE INSERT ON events
WHEN NEW.position IS NOT coalesce((SELECT MAX(position) FROM events), 0) + 1
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: a row goes right after the head');
END;

CREATE TRIGGER events_insert_new BEFORE INSERT ON events
WHEN EXISTS (SELECT 1 FROM events WHERE stream = NEW.stream AND version = NEW.version)
  OR (NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM events WHERE id = NEW.id))
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: duplicate id or stream version');
END;
