-- Where the stage and each section are in the venue's plan (a 1000 x 1000 square, x to
-- the right, y down), for the seat page's overview of a big venue. Optional, fixed with the
-- seat map: a map without areas has no rows here and the page lays its sections out
-- itself. `section` is the section's name, NULL for the stage.
CREATE TABLE seat_map_areas (
    event_id BIGINT NOT NULL REFERENCES events (id),
    section TEXT,
    x BIGINT NOT NULL,
    y BIGINT NOT NULL,
    w BIGINT NOT NULL,
    h BIGINT NOT NULL
);
CREATE INDEX seat_map_areas_event ON seat_map_areas (event_id);
