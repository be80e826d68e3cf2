-- An event may play on several dates: each performance has its own copy of the seat map
-- (its own inventory, sold-out state and orders) and one waiting room serves them all.
-- In the engine and in the seat tables performance p's seat i is seat p * n + i (n: seats
-- of the map), so seat ids stay unique per event and every existing constraint holds.
CREATE TABLE performances (
    event_id BIGINT NOT NULL,
    number BIGINT NOT NULL,
    starts_at_ms BIGINT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    -- Its seat i is engine seat first_seat + i (first_seat = number * seats of the map).
    first_seat BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, number)
);

-- Every event with a seat map had one performance: at the event's start.
INSERT INTO performances (event_id, number, starts_at_ms, label, first_seat)
SELECT id, 0, starts_at_ms, '', 0 FROM events WHERE id IN (SELECT DISTINCT event_id FROM seats);

ALTER TABLE orders ADD COLUMN performance BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN performance BIGINT NOT NULL DEFAULT 0;
