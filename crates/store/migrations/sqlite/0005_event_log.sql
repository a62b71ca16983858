-- The event log behind `/v1/events`: every transition gets a position that only grows in
-- commit order. SQLite has one writer, so a position taken inside the write transaction
-- (the largest so far plus one, read through this index) is commit ordered.
-- Rows written before this migration keep their insertion order (their rowid).
ALTER TABLE transitions ADD COLUMN log_pos INTEGER;
UPDATE transitions SET log_pos = rowid;
CREATE UNIQUE INDEX transitions_log ON transitions (log_pos);
-- A position is never handed out twice: deleting a space deletes its transitions, and when
-- they held the largest position the next insert would take it again, behind a client's
-- cursor. Deleting raises this floor to the largest position first; inserts start above
-- both.
CREATE TABLE event_log_floor (pos INTEGER NOT NULL);
INSERT INTO event_log_floor (pos) VALUES (0);
