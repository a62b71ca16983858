-- Ownership (issue 14, finding 3).
-- The token that created a booking (its public id); NULL when an admin or the BullMQ ingress
-- created it, or it predates this migration: then only admins and devices of its space see it.
ALTER TABLE bookings ADD COLUMN owner TEXT;
CREATE INDEX bookings_owner ON bookings (owner, start_ms);
-- A device token limited to some spaces: `limited` = 1 and its spaces in token_spaces (an
-- emptied list, after its spaces were deleted, still means none, never all).
ALTER TABLE tokens ADD COLUMN limited INTEGER NOT NULL DEFAULT 0;
CREATE TABLE token_spaces (
    token_id TEXT NOT NULL,
    space_id TEXT NOT NULL,
    PRIMARY KEY (token_id, space_id)
);
CREATE INDEX token_spaces_space ON token_spaces (space_id);
-- The last sequence of each deleted space: a space created again with the same id continues
-- above it, so status receivers that drop stale sequences accept its updates.
CREATE TABLE deleted_spaces (
    id TEXT PRIMARY KEY,
    sequence INTEGER NOT NULL,
    deleted_at INTEGER NOT NULL
);
