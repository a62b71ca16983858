-- Timer jobs relayed to a BullMQ queue in Redis (ZS_REDIS_URL): 0 until the relay has added
-- the job's current plan (id + due) to the queue.
ALTER TABLE jobs ADD COLUMN relayed BIGINT NOT NULL DEFAULT 0;
CREATE INDEX jobs_unrelayed ON jobs (queue, relayed, due_ms);
