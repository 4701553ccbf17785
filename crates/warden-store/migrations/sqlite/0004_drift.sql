-- Drift: the resources each change touched (for attribution), drift scans, and the drift
-- events they open, keep and resolve. Portable SQL but for the ids (PostgreSQL: BIGSERIAL).
-- Times are unix milliseconds; JSON documents are TEXT.

-- The addresses of the resources a change touches (not no-op or read), once per space and
-- change digest: a decision's own write adds them only when no earlier decision in the space
-- recorded that change (most are repeats: retries, re-runs), and attribution joins them to
-- the decisions by digest.
CREATE TABLE change_resources (
    space        TEXT,
    input_digest TEXT NOT NULL,
    address      TEXT NOT NULL
);
CREATE INDEX change_resources_by_address ON change_resources (space, address);
CREATE INDEX change_resources_by_change ON change_resources (input_digest, space);

CREATE TABLE drift_scans (
    id          INTEGER PRIMARY KEY,
    space       TEXT NOT NULL,
    target      TEXT NOT NULL,
    source      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    compared    BIGINT NOT NULL,
    drifted     BIGINT NOT NULL,
    error       TEXT,
    summary     TEXT NOT NULL
);
CREATE INDEX drift_scans_by_target ON drift_scans (space, target, id);
CREATE INDEX drift_scans_by_time ON drift_scans (finished_at);

CREATE TABLE drift_events (
    id            INTEGER PRIMARY KEY,
    space         TEXT NOT NULL,
    target        TEXT NOT NULL,
    address       TEXT NOT NULL,
    resource_kind TEXT NOT NULL,
    status        TEXT NOT NULL,
    changes       TEXT NOT NULL,
    introduced    TEXT NOT NULL,
    severity      TEXT,
    attribution   TEXT NOT NULL,
    remediation   TEXT NOT NULL,
    opened_scan   BIGINT NOT NULL REFERENCES drift_scans (id),
    opened_at     BIGINT NOT NULL,
    last_scan     BIGINT NOT NULL REFERENCES drift_scans (id),
    last_seen_at  BIGINT NOT NULL,
    resolved_scan BIGINT REFERENCES drift_scans (id),
    resolved_at   BIGINT
);
-- One open event per resource of a target.
CREATE UNIQUE INDEX drift_events_open ON drift_events (space, target, address) WHERE resolved_at IS NULL;
CREATE INDEX drift_events_by_target ON drift_events (space, target, id);
