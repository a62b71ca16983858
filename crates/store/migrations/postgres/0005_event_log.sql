-- The event log behind `/v1/events`. Identity values are handed out in insertion order,
-- not commit order, so a reader could pass a row that commits later with a smaller one.
-- Each row therefore also records its transaction id (`pg_current_xact_id()`); readers
-- only read rows whose transaction is older than every transaction still running
-- (`pg_snapshot_xmin`), ordered by (log_tx, log_pos). Rows written before this migration
-- get log_tx 0 and come first.
ALTER TABLE transitions ADD COLUMN log_tx BIGINT NOT NULL DEFAULT 0;
ALTER TABLE transitions ALTER COLUMN log_tx SET DEFAULT (pg_current_xact_id()::text::bigint);
ALTER TABLE transitions ADD COLUMN log_pos BIGINT GENERATED ALWAYS AS IDENTITY;
CREATE INDEX transitions_log ON transitions (log_tx, log_pos);
