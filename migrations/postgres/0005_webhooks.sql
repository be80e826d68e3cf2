-- The webhook outbox: one row per event to tell the ticket site about, inserted in the
-- same transaction as the change it reports (a booking and its `order.paid` commit or
-- roll back together). Every instance delivers: a row is claimed with a lease
-- (`lease_until_ms`, `lease_owner`), so two instances never send one event at the same
-- time; a lease that runs out (its instance died mid-delivery) lets another take over.
CREATE TABLE webhook_events (
    id BIGSERIAL PRIMARY KEY,
    -- What receivers de-duplicate on: the same for every attempt (`evt_` + 32 hex digits).
    event_uid TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    -- The sale it is about (no foreign key: a later "event deleted" must still be told).
    event_id BIGINT NOT NULL,
    -- The `data` object of the body, as JSON text.
    payload TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at_ms BIGINT NOT NULL,
    -- Retries stop after this (created + webhook_retry_secs; an admin retry moves it).
    give_up_at_ms BIGINT NOT NULL,
    lease_until_ms BIGINT,
    lease_owner TEXT,
    delivered_at_ms BIGINT,
    last_error TEXT,
    gave_up BIGINT NOT NULL DEFAULT 0
);

-- What the delivery loop scans: undelivered rows that have not given up, by due time.
CREATE INDEX webhook_events_due ON webhook_events (next_attempt_at_ms)
    WHERE delivered_at_ms IS NULL AND gave_up = 0;
