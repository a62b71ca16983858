-- The live bookings' index (0003) is covered by the two of 0007: the active statuses and the
-- scheduled one. Every status change rewrote its entry (the key unchanged, the condition
-- read again), a fifth of the cost of a booking's update; its two readers now read the
-- active and scheduled indexes instead.
DROP INDEX IF EXISTS bookings_live;
