-- The event log behind `/v1/events`: every transition gets a position that only grows in
-- commit order. SQLite has one writer, so a position taken inside the write transaction
-- (the largest so far plus one, read through this index) is commit ordered.
-- Rows written before this migration keep their insertion order (their rowid).
ALTER TABLE transitions ADD COLUMN log_pos INTEGER;
UPDATE transitions SET log_pos = rowid;
CREATE UNIQUE INDEX transitions_log ON transitions (log_pos);
