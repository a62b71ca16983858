-- Recurring series (CONTRACT §9): the rule a series was made with; its occurrences are
-- bookings that carry its id.
CREATE TABLE series (
    id TEXT PRIMARY KEY,
    space_id TEXT NOT NULL REFERENCES spaces(id),
    title TEXT NOT NULL,
    rrule TEXT NOT NULL,
    start_ms BIGINT NOT NULL,         -- the first occurrence
    end_ms BIGINT NOT NULL,
    conflicts TEXT NOT NULL,          -- refuse | skip
    created_at BIGINT NOT NULL,
    cancelled_from_ms BIGINT,         -- cancelled from this instant on
    owner TEXT                        -- the token that made it
);
CREATE INDEX series_space ON series (space_id);
ALTER TABLE bookings ADD COLUMN series_id TEXT;
CREATE INDEX bookings_series ON bookings (series_id, start_ms) WHERE series_id IS NOT NULL;
