-- The end of a sale: when an operator ended it for good (ms since the epoch); 0 while it
-- runs. Every instance reads it into the room settings it gives the engine.
ALTER TABLE events ADD COLUMN ended_at_ms BIGINT NOT NULL DEFAULT 0;
