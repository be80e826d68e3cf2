-- A refunded booking keeps its row (and its seats, moved to refunded_seats) for the
-- record; its seats leave booked_seats, so they can be sold again.
ALTER TABLE bookings ADD COLUMN refunded_at_ms BIGINT NOT NULL DEFAULT 0;

CREATE TABLE refunded_seats (
    booking_id BIGINT NOT NULL REFERENCES bookings (id),
    event_id BIGINT NOT NULL,
    seat_id BIGINT NOT NULL,
    price BIGINT NOT NULL
);

CREATE INDEX refunded_seats_booking ON refunded_seats (booking_id);
