-- Environments, PostgreSQL: the tables of migrations/sqlite/0003_environments.sql with
-- BIGSERIAL for the ids.
CREATE TABLE blueprints (
    name         TEXT NOT NULL,
    version      BIGINT NOT NULL,
    document     TEXT NOT NULL,
    digest       TEXT NOT NULL,
    published_by TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE environments (
    id                BIGSERIAL PRIMARY KEY,
    blueprint         TEXT NOT NULL,
    version           BIGINT NOT NULL,
    space             TEXT NOT NULL REFERENCES spaces (name),
    owner             TEXT NOT NULL,
    owner_kind        TEXT NOT NULL,
    inputs            TEXT NOT NULL,
    state             TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    ends_at           BIGINT NOT NULL,
    pending_ends_at   BIGINT,
    outputs           TEXT,
    monthly_cost      DOUBLE PRECISION,
    decision_id       BIGINT,
    approval_id       BIGINT,
    teardown_attempts BIGINT NOT NULL,
    next_attempt_at   BIGINT,
    flagged_reason    TEXT,
    FOREIGN KEY (blueprint, version) REFERENCES blueprints (name, version)
);
CREATE INDEX environments_by_state ON environments (state, ends_at);
CREATE INDEX environments_by_space ON environments (space, state);

CREATE TABLE environment_events (
    id             BIGSERIAL PRIMARY KEY,
    environment_id BIGINT NOT NULL REFERENCES environments (id),
    at             BIGINT NOT NULL,
    actor          TEXT NOT NULL,
    kind           TEXT NOT NULL,
    from_state     TEXT,
    to_state       TEXT NOT NULL,
    detail         TEXT NOT NULL
);
CREATE INDEX environment_events_by_environment ON environment_events (environment_id, id);
