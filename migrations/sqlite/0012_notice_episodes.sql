-- Notices become episodes: an event can sell out, come back on sale (a refund) and sell
-- out again, and the ticket site hears each transition once. A notice is now
-- (event, kind, episode): `event.sold_out` #k, then `event.back_on_sale` #k, then
-- `event.sold_out` #k+1. The primary key makes exactly one instance's insert of each win,
-- and that instance writes the webhook in the same transaction. `sale.opened` is episode 1
-- of its kind, the only one. Notices written before this are episode 1.
--
-- SQLite cannot change a primary key in place: the table is copied.
CREATE TABLE event_notices_episodes (
    event_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    episode BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (event_id, kind, episode)
);
INSERT INTO event_notices_episodes (event_id, kind, episode, created_at_ms)
    SELECT event_id, kind, 1, created_at_ms FROM event_notices;
DROP TABLE event_notices;
ALTER TABLE event_notices_episodes RENAME TO event_notices;

-- Sales that opened (or ended) before `sale.opened` existed are not announced late: they
-- count as told.
INSERT INTO event_notices (event_id, kind, episode, created_at_ms)
    SELECT id, 'sale.opened', 1, CAST(strftime('%s', 'now') AS INTEGER) * 1000 FROM events
    WHERE sale_opens_at_ms <= CAST(strftime('%s', 'now') AS INTEGER) * 1000 OR ended_at_ms <> 0;
