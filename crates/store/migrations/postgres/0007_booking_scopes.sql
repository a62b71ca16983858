-- A command reads only the bookings its scope names (zs_core::scope): those in an active
-- status, and of the scheduled ones the next two and those near a span it claims. These keep
-- each read proportional to that, not to every live booking of the space: a month ahead of
-- bookings must not slow down a check-in. The start and end are both in the scheduled index,
-- so a claimed span's neighbours are found from the index alone.
CREATE INDEX IF NOT EXISTS bookings_active ON bookings (space_id)
    WHERE status IN ('upcoming','awaiting_check_in','checked_in');
CREATE INDEX IF NOT EXISTS bookings_scheduled ON bookings (space_id, start_ms, end_ms)
    WHERE status = 'scheduled';
