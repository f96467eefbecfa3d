-- Management API keys, stored hashed: the key itself is never stored.
-- scope and hash are opaque to the store; revoked_at is NULL while the key is active.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    scope       TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
