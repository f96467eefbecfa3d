-- Records (events, queued calls, messages, audit entries) and their delivery jobs.
-- Times are milliseconds since the Unix epoch (BIGINT), as in the SQLite schema.
CREATE TABLE records (
    id          UUID PRIMARY KEY,
    kind        TEXT NOT NULL,
    topic       TEXT NOT NULL,
    dedupe_key  TEXT,
    created_at  BIGINT NOT NULL,
    headers     TEXT NOT NULL,
    body        BYTEA NOT NULL,
    meta        TEXT NOT NULL,
    status      TEXT NOT NULL
);
CREATE UNIQUE INDEX records_dedupe ON records (kind, topic, dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX records_by_topic ON records (kind, topic, id);
CREATE INDEX records_by_status ON records (status, id);
CREATE INDEX records_by_age ON records (created_at);

-- state: ready (leased when lease_owner is set) | delivered | dead.
-- due_at: when a ready job is next due; while leased, when the lease expires.
CREATE TABLE jobs (
    id           UUID PRIMARY KEY,
    record_id    UUID NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    topic        TEXT NOT NULL,
    target       TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    due_at       BIGINT NOT NULL,
    lease_owner  TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    last_error   TEXT
);
CREATE INDEX jobs_due ON jobs (due_at) WHERE state = 'ready';
CREATE INDEX jobs_by_record ON jobs (record_id);

-- number restarts at 1 when a job is re-driven; rows are ordered by id.
CREATE TABLE attempts (
    id                BIGSERIAL PRIMARY KEY,
    job_id            UUID NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    number            INTEGER NOT NULL,
    started_at        BIGINT NOT NULL,
    duration_ms       BIGINT NOT NULL,
    status            INTEGER,
    error             TEXT,
    response_excerpt  TEXT
);
CREATE INDEX attempts_by_job ON attempts (job_id, id);

CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    state        TEXT NOT NULL,
    status       INTEGER,
    headers      TEXT,
    body         BYTEA,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_by_expiry ON idempotency_keys (expires_at);
