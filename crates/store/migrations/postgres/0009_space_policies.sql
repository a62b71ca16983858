-- Booking policies of a space (CONTRACT §11), in milliseconds; NULL = not set.
ALTER TABLE spaces
    ADD COLUMN max_duration_ms BIGINT,
    ADD COLUMN min_duration_ms BIGINT,
    ADD COLUMN booking_horizon_ms BIGINT,
    ADD COLUMN min_notice_ms BIGINT;
