-- Orders awaiting payment: when a checkout URL is configured, a buyer's `book` creates
-- one (`pending_payment`) and the ticket site confirms it server to server before its
-- deadline (`paid`, with the booking it became), or it is `cancelled` or `expired`.
-- One order per entry session (jti): a retried checkout finds the same order.
CREATE TABLE orders (
    id BIGSERIAL PRIMARY KEY,
    event_id BIGINT NOT NULL,
    buyer TEXT NOT NULL,
    jti TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    total BIGINT NOT NULL,
    deadline_ms BIGINT NOT NULL,
    payment_ref TEXT,
    booking_id BIGINT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE INDEX orders_pending ON orders (deadline_ms) WHERE status = 'pending_payment';

CREATE TABLE order_seats (
    order_id BIGINT NOT NULL REFERENCES orders (id),
    seat_id BIGINT NOT NULL,
    price BIGINT NOT NULL
);

CREATE INDEX order_seats_order ON order_seats (order_id);
