-- Records (events, queued calls, messages, audit entries) and their delivery jobs.
-- Times are milliseconds since the Unix epoch; ids are UUIDv7 text (time-ordered).
CREATE TABLE records (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    topic       TEXT NOT NULL,
    dedupe_key  TEXT,
    created_at  INTEGER NOT NULL,
    headers     TEXT NOT NULL,
    body        BLOB NOT NULL,
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
    id           TEXT PRIMARY KEY,
    record_id    TEXT NOT NULL,
    kind         TEXT NOT NULL,
    topic        TEXT NOT NULL,
    target       TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    due_at       INTEGER NOT NULL,
    lease_owner  TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    last_error   TEXT
);
-- Claiming reads this index only: due ready jobs, oldest first.
CREATE INDEX jobs_due ON jobs (due_at) WHERE state = 'ready';
CREATE INDEX jobs_by_record ON jobs (record_id);

-- number restarts at 1 when a job is re-driven; rows are ordered by id.
CREATE TABLE attempts (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id            TEXT NOT NULL,
    number            INTEGER NOT NULL,
    started_at        INTEGER NOT NULL,
    duration_ms       INTEGER NOT NULL,
    status            INTEGER,
    error             TEXT,
    response_excerpt  TEXT
);
CREATE INDEX attempts_by_job ON attempts (job_id, id);

-- state: started | completed.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    state        TEXT NOT NULL,
    status       INTEGER,
    headers      TEXT,
    body         BLOB,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_by_expiry ON idempotency_keys (expires_at);
