ALTER TABLE events ADD COLUMN hold_secs BIGINT NOT NULL DEFAULT 300;

-- The seat map: fixed once the event is created.
CREATE TABLE seats (
    event_id BIGINT NOT NULL REFERENCES events (id),
    seat_id BIGINT NOT NULL,
    section TEXT NOT NULL,
    row_label TEXT NOT NULL,
    number BIGINT NOT NULL,
    grade TEXT NOT NULL,
    PRIMARY KEY (event_id, seat_id)
);

CREATE TABLE prices (
    event_id BIGINT NOT NULL REFERENCES events (id),
    grade TEXT NOT NULL,
    price BIGINT NOT NULL,
    PRIMARY KEY (event_id, grade)
);

-- One booking per entry token (jti): a replayed confirm cannot book twice.
CREATE TABLE bookings (
    id BIGSERIAL PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events (id),
    buyer TEXT NOT NULL,
    jti TEXT NOT NULL UNIQUE,
    total BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

-- The last guard: a seat of an event is sold once, whatever happened in Redis.
CREATE TABLE booked_seats (
    event_id BIGINT NOT NULL,
    seat_id BIGINT NOT NULL,
    booking_id BIGINT NOT NULL REFERENCES bookings (id),
    price BIGINT NOT NULL,
    UNIQUE (event_id, seat_id)
);
