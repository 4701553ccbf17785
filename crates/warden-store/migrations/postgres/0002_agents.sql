-- The agent retry contract and quotas: what a decision was an attempt at, which attempt, and
-- the monthly cost delta it committed. Portable SQL (PostgreSQL runs the same statements).
ALTER TABLE decisions ADD COLUMN subject TEXT;
ALTER TABLE decisions ADD COLUMN attempt BIGINT;
ALTER TABLE decisions ADD COLUMN cost_delta DOUBLE PRECISION;
CREATE INDEX decisions_by_actor ON decisions (actor, created_at);
CREATE INDEX decisions_by_subject ON decisions (actor, space, subject, id);
