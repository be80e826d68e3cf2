-- Things told to the ticket site once per event (`event.sold_out`): the primary key makes
-- exactly one instance's insert win, and that instance writes the webhook in the same
-- transaction.
CREATE TABLE event_notices (
    event_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (event_id, kind)
);
