CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    venue TEXT NOT NULL,
    starts_at_ms BIGINT NOT NULL,
    sale_opens_at_ms BIGINT NOT NULL,
    admission_rate DOUBLE PRECISION NOT NULL,
    max_active BIGINT NOT NULL,
    session_secs BIGINT NOT NULL,
    grace_secs BIGINT NOT NULL,
    paused BIGINT NOT NULL DEFAULT 0,
    created_at_ms BIGINT NOT NULL
);

-- Secrets every instance on this database shares (token signing key, credential key).
CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
