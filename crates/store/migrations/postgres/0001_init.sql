-- zs-scheduler PostgreSQL schema: the same tables as the embedded one; instants are epoch
-- milliseconds (UTC) in BIGINT, JSON kept as text so both backends read it the same way.
CREATE TABLE spaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    business_hours TEXT,
    upcoming_lead_ms BIGINT NOT NULL,
    no_show_grace_ms BIGINT NOT NULL,
    cleaning_ms BIGINT NOT NULL,
    maintenance BIGINT NOT NULL DEFAULT 0,
    space_state TEXT NOT NULL,
    room_state TEXT NOT NULL,
    booking_id TEXT,
    next_booking_at BIGINT,
    since BIGINT NOT NULL,
    sequence BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE bookings (
    id TEXT PRIMARY KEY,
    space_id TEXT NOT NULL REFERENCES spaces(id),
    title TEXT NOT NULL,
    start_ms BIGINT NOT NULL,
    end_ms BIGINT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    checked_in_at BIGINT,
    ended_at BIGINT,
    cancelled_at BIGINT,
    cancel_reason TEXT,
    CHECK (end_ms > start_ms),
    -- Double booking is impossible by construction: two live bookings of one space never
    -- overlap in time, whatever the application does (the cleaning gap after each booking
    -- is enforced by the application under the space's row lock).
    CONSTRAINT bookings_live_no_overlap EXCLUDE USING gist (
        space_id WITH =,
        int8range(start_ms, end_ms) WITH &&
    ) WHERE (status IN ('scheduled', 'upcoming', 'awaiting_check_in', 'checked_in'))
);
CREATE INDEX bookings_space_start ON bookings (space_id, start_ms);

CREATE TABLE transitions (
    space_id TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    event TEXT NOT NULL,
    booking_id TEXT,
    from_space TEXT NOT NULL,
    from_room TEXT NOT NULL,
    to_space TEXT NOT NULL,
    to_room TEXT NOT NULL,
    state_booking_id TEXT,
    next_booking_at BIGINT,
    occurred_at BIGINT NOT NULL,
    PRIMARY KEY (space_id, sequence)
);

CREATE TABLE jobs (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    queue TEXT NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    due_ms BIGINT NOT NULL,
    rank BIGINT NOT NULL DEFAULT 9,
    grp TEXT,
    attempts_made BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (queue, due_ms, rank, seq);
CREATE INDEX jobs_grp ON jobs (queue, grp, seq);

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    last_status BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, created_at);

CREATE TABLE delivery_attempts (
    delivery_id TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    status_code BIGINT,
    error TEXT,
    duration_ms BIGINT NOT NULL,
    success BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
