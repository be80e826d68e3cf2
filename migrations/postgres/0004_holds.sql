-- Every seat hold the engine granted, written in the same step as the engine's hold: the
-- durable record a store that lost its data is rebuilt from. One row per held seat; the
-- row goes when the hold ends (release, expiry, sale). `jti` is the entry token that took
-- the hold, so a hold can be traced to its buyer's admission (and, later, an order).
CREATE TABLE holds (
    event_id BIGINT NOT NULL REFERENCES events (id),
    seat_id BIGINT NOT NULL,
    buyer TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (event_id, seat_id)
);

CREATE INDEX holds_by_buyer ON holds (event_id, buyer);
CREATE INDEX holds_by_expiry ON holds (event_id, expires_at_ms);
