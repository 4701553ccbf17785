-- The web dashboard: server-side sessions (only the hash of the cookie's secret is kept, so
-- several replicas share them and a database dump logs nobody in), and the indexes its reads
-- use. Portable SQL (PostgreSQL runs the same statements).
CREATE TABLE ui_sessions (
    secret_hash TEXT PRIMARY KEY,
    token_id    BIGINT NOT NULL REFERENCES tokens (id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX ui_sessions_by_expiry ON ui_sessions (expires_at);
CREATE INDEX decisions_by_time ON decisions (created_at);
CREATE INDEX audit_by_subject ON audit_log (subject, seq);
