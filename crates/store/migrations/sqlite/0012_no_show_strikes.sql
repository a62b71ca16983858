-- No-show strikes (CONTRACT §9): a space's setting (0 = off), and per series the count of
-- consecutive no-shows of its occurrences and the instant the count released it.
ALTER TABLE spaces ADD COLUMN no_show_strikes INTEGER NOT NULL DEFAULT 3;
ALTER TABLE series ADD COLUMN no_show_streak INTEGER NOT NULL DEFAULT 0;
ALTER TABLE series ADD COLUMN released_at_ms INTEGER;
