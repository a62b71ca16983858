-- A space's working set (its live bookings and those whose cleaning may still run) is read
-- before every event; these keep that read proportional to the working set, not to every
-- booking the space ever had.
CREATE INDEX IF NOT EXISTS bookings_live ON bookings (space_id, start_ms)
    WHERE status IN ('scheduled','upcoming','awaiting_check_in','checked_in');
CREATE INDEX IF NOT EXISTS bookings_completed ON bookings (space_id, ended_at) WHERE status = 'completed';
