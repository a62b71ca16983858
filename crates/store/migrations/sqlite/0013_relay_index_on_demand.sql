-- The relay's index (0002: the jobs whose plan is not in the Redis queue yet) only the relay
-- reads, and every job added, leased, moved or removed updated its entry: a fifth of the
-- B-trees each job touches, about 7 % of a 100,000-timer burst. On the embedded store it now
-- exists only while a relay runs on the file: `serve` with ZS_REDIS_URL creates it at start
-- and drops it at a start without (`jobs::relay_index`). PostgreSQL keeps it.
DROP INDEX IF EXISTS jobs_unrelayed;
