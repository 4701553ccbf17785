-- Warden store, schema 1, PostgreSQL: the same tables as migrations/sqlite/0001_init.sql,
-- with BIGSERIAL for SQLite's INTEGER PRIMARY KEY ids. Times are unix milliseconds (BIGINT);
-- JSON documents are TEXT, so what is hashed and exported is byte for byte what SQLite keeps.
-- The audit log's time is compared as text (`warden audit export --since`): COLLATE "C"
-- compares bytes, as SQLite does, whatever the database's locale.

CREATE TABLE spaces (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    settings    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE tokens (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL UNIQUE,
    principal   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    roles       TEXT NOT NULL,
    spaces      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE inputs (
    digest         TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    content        TEXT NOT NULL,
    masked_secrets BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE TABLE decisions (
    id              BIGSERIAL PRIMARY KEY,
    space           TEXT,
    actor           TEXT NOT NULL,
    actor_kind      TEXT NOT NULL,
    input_digest    TEXT NOT NULL,
    policy_revision TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    approval_id     BIGINT,
    document        TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX decisions_by_digest ON decisions (input_digest, policy_revision);

CREATE TABLE approvals (
    id             BIGSERIAL PRIMARY KEY,
    space          TEXT NOT NULL,
    subject        TEXT NOT NULL,
    change_digest  TEXT NOT NULL,
    decision_id    BIGINT,
    requested_by   TEXT NOT NULL,
    requester_kind TEXT NOT NULL,
    state          TEXT NOT NULL,
    required       BIGINT NOT NULL,
    approver_roles TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT,
    resolved_at    BIGINT,
    resolved_by    TEXT,
    reason         TEXT
);
CREATE INDEX approvals_by_digest ON approvals (space, change_digest);
CREATE INDEX approvals_by_subject ON approvals (space, subject, state);

CREATE TABLE approval_votes (
    approval_id BIGINT NOT NULL REFERENCES approvals (id),
    principal   TEXT NOT NULL,
    note        TEXT,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (approval_id, principal)
);

CREATE TABLE exceptions (
    id             BIGSERIAL PRIMARY KEY,
    space          TEXT NOT NULL,
    rule           TEXT NOT NULL,
    resource_glob  TEXT NOT NULL,
    justification  TEXT NOT NULL,
    ticket         TEXT,
    requested_by   TEXT NOT NULL,
    requester_kind TEXT NOT NULL,
    state          TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    decided_by     TEXT,
    decided_at     BIGINT,
    reason         TEXT
);
CREATE INDEX exceptions_by_space ON exceptions (space, state);

CREATE TABLE exception_uses (
    id           BIGSERIAL PRIMARY KEY,
    exception_id BIGINT NOT NULL REFERENCES exceptions (id),
    decision_id  BIGINT NOT NULL REFERENCES decisions (id),
    rule         TEXT NOT NULL,
    resource     TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX exception_uses_by_exception ON exception_uses (exception_id);

-- The audit log: append-only, hash-chained (see src/audit.rs for the canonical form).
CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    at         TEXT COLLATE "C" NOT NULL,
    actor      TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    space      TEXT,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);

-- The chain's head: one row, updated by every append (in PostgreSQL its row lock orders
-- concurrent appends). Verification checks the last record against it, so a truncated tail
-- is found too.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, 'sha256:0000000000000000000000000000000000000000000000000000000000000000');
