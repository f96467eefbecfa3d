-- The audit log moves out of `records` into a table of its own, made cheap
-- to append to: keyed by a time-ordered id (UUIDv7; newest first, time
-- windows and retention are ranges of it) with one index by topic.
-- kind, status and caller are columns so they can be filtered on; the rest
-- of an entry (method, path, outcome, ...) is the JSON object in `detail`.
CREATE TABLE audit (
    id      UUID PRIMARY KEY,
    kind    TEXT NOT NULL,
    topic   TEXT NOT NULL,
    status  INTEGER,
    caller  TEXT NOT NULL,
    detail  TEXT NOT NULL,
    body    BYTEA
);
CREATE INDEX audit_by_topic ON audit (topic, id);

-- Entries written before this migration keep their ids, times and fields.
-- Those from before `kind` existed were all proxied calls.
INSERT INTO audit (id, kind, topic, status, caller, detail, body)
SELECT id,
       coalesce(meta::jsonb ->> 'kind', 'proxy'),
       topic,
       CASE WHEN jsonb_typeof(meta::jsonb -> 'status') = 'number'
                 AND (meta::jsonb ->> 'status')::numeric BETWEEN 0 AND 65535
            THEN (meta::jsonb ->> 'status')::numeric::integer END,
       coalesce(meta::jsonb ->> 'caller', ''),
       (meta::jsonb - 'kind' - 'status' - 'caller')::text,
       nullif(body, ''::bytea)
FROM records WHERE kind = 'audit';
DELETE FROM records WHERE kind = 'audit';
