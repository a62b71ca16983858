-- zs-scheduler embedded schema: instants are epoch milliseconds (UTC).
CREATE TABLE spaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    business_hours TEXT,              -- JSON, NULL = open around the clock
    upcoming_lead_ms INTEGER NOT NULL,
    no_show_grace_ms INTEGER NOT NULL,
    cleaning_ms INTEGER NOT NULL,
    maintenance INTEGER NOT NULL DEFAULT 0,
    space_state TEXT NOT NULL,
    room_state TEXT NOT NULL,
    booking_id TEXT,
    next_booking_at INTEGER,
    since INTEGER NOT NULL,
    sequence INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE bookings (
    id TEXT PRIMARY KEY,
    space_id TEXT NOT NULL REFERENCES spaces(id),
    title TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    checked_in_at INTEGER,
    ended_at INTEGER,
    cancelled_at INTEGER,
    cancel_reason TEXT
);
CREATE INDEX bookings_space_start ON bookings (space_id, start_ms);

CREATE TABLE transitions (
    space_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    event TEXT NOT NULL,
    booking_id TEXT,
    from_space TEXT NOT NULL,
    from_room TEXT NOT NULL,
    to_space TEXT NOT NULL,
    to_room TEXT NOT NULL,
    state_booking_id TEXT,
    next_booking_at INTEGER,
    occurred_at INTEGER NOT NULL,
    PRIMARY KEY (space_id, sequence)
);

-- The three queues. Timer jobs and delivery jobs alike: due_ms + rank + seq is the run order.
CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    queue TEXT NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    due_ms INTEGER NOT NULL,
    rank INTEGER NOT NULL DEFAULT 9,
    grp TEXT,                         -- jobs of one group run one at a time, in order
    attempts_made INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (queue, due_ms, rank, seq);
CREATE INDEX jobs_grp ON jobs (queue, grp, seq);

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,             -- JSON array of types
    secret TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,              -- the webhook-id, stable across retries
    endpoint_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,             -- pending | delivered | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_status INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, created_at);

CREATE TABLE delivery_attempts (
    delivery_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms INTEGER NOT NULL,
    success INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,            -- SHA-256 of the token; the token itself is never stored
    id TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
