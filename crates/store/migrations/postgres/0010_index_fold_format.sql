-- The fold format the case index was built with (`IndexState::fold_format`): the rules a build
-- judges cases by are part of what the rows and kept alerts say, so an index written by a build
-- that folds the same events otherwise is dropped and rebuilt, never read as if current. 0: an
-- index written before the format was kept. `format_position` is the position the format was
-- written with: a build that knows no format (one still running beside the new one) moves the
-- position without it, and the index then reads as written by another fold.
ALTER TABLE case_index_state ADD COLUMN fold_format INTEGER NOT NULL DEFAULT 0;
ALTER TABLE case_index_state ADD COLUMN format_position BIGINT NOT NULL DEFAULT -1;
