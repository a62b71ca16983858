-- A series without an end (no COUNT or UNTIL) is booked up to a rolling horizon: the
-- instant up to which its occurrences are booked; NULL for a series that ends.
ALTER TABLE series ADD COLUMN materialized_until_ms INTEGER;
CREATE INDEX series_open ON series (materialized_until_ms) WHERE materialized_until_ms IS NOT NULL;
