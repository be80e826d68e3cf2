-- Each waiting room's counters, so that an engine that lost its data (Redis restarted
-- empty, the memory engine restarted) carries on: queue numbers are reserved here before
-- they are handed out (seq_limit), so a number is never handed out twice; the last number
-- handed out (seq), head and admitted_total are checkpointed every second; salt makes
-- entry token ids repeatable.
CREATE TABLE room_checkpoints (
    event_id BIGINT PRIMARY KEY REFERENCES events (id),
    seq_limit BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    head BIGINT NOT NULL,
    admitted_total BIGINT NOT NULL,
    opened BIGINT NOT NULL,
    salt BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

-- Buyers an operator revoked: put back into a queue store that lost its data.
CREATE TABLE revocations (
    event_id BIGINT NOT NULL REFERENCES events (id),
    buyer TEXT NOT NULL,
    revoked_at_ms BIGINT NOT NULL,
    PRIMARY KEY (event_id, buyer)
);
