-- The audit log moves out of `records` into a table of its own, made cheap
-- to append to: one B-tree keyed by a time-ordered id (UUIDv7 bytes; newest
-- first, time windows and retention are ranges of it) and one index by topic.
-- kind, status and caller are columns so they can be filtered on; the rest
-- of an entry (method, path, outcome, ...) is the JSON object in `detail`.
CREATE TABLE audit (
    id      BLOB PRIMARY KEY,
    kind    TEXT NOT NULL,
    topic   TEXT NOT NULL,
    status  INTEGER,
    caller  TEXT NOT NULL,
    detail  TEXT NOT NULL,
    body    BLOB
) WITHOUT ROWID;
CREATE INDEX audit_by_topic ON audit (topic, id);

-- Entries written before this migration keep their ids, times and fields.
-- Those from before `kind` existed were all proxied calls.
INSERT INTO audit (id, kind, topic, status, caller, detail, body)
SELECT unhex(replace(id, '-', '')),
       coalesce(meta ->> 'kind', 'proxy'),
       topic,
       CASE WHEN json_type(meta, '$.status') = 'integer' AND meta ->> 'status' BETWEEN 0 AND 65535
            THEN meta ->> 'status' END,
       coalesce(meta ->> 'caller', ''),
       json_remove(meta, '$.kind', '$.status', '$.caller'),
       nullif(body, x'')
FROM records WHERE kind = 'audit';
DELETE FROM records WHERE kind = 'audit';
