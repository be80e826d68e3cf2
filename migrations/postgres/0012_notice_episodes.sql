-- Notices become episodes: an event can sell out, come back on sale (a refund) and sell
-- out again, and the ticket site hears each transition once. A notice is now
-- (event, kind, episode): `event.sold_out` #k, then `event.back_on_sale` #k, then
-- `event.sold_out` #k+1. The primary key makes exactly one instance's insert of each win,
-- and that instance writes the webhook in the same transaction. `sale.opened` is episode 1
-- of its kind, the only one. Notices written before this are episode 1.
ALTER TABLE event_notices ADD COLUMN episode BIGINT NOT NULL DEFAULT 1;
ALTER TABLE event_notices ALTER COLUMN episode DROP DEFAULT;
ALTER TABLE event_notices DROP CONSTRAINT event_notices_pkey;
ALTER TABLE event_notices ADD PRIMARY KEY (event_id, kind, episode);

-- Sales that opened (or ended) before `sale.opened` existed are not announced late: they
-- count as told.
INSERT INTO event_notices (event_id, kind, episode, created_at_ms)
    SELECT id, 'sale.opened', 1, (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT FROM events
    WHERE sale_opens_at_ms <= (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT OR ended_at_ms <> 0;
