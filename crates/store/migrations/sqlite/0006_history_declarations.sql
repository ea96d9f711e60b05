-- A case's context includes every declared historical import (`HistoryImported`): it says how
-- the positions it covers are judged (not back-dated, counted at their own date), so a case
-- folded alone must see it. The declarations are few; this keeps finding them off a scan.
CREATE INDEX events_history_declarations ON events (position)
    WHERE stream = 'supervision' AND type = 'HistoryImported';
