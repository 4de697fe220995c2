-- baton schema, version 3: an idempotency key belongs to the caller that used it.
--
-- Version 2 kept one record per (project, key), so a second session reusing another's key got the first
-- session's result back: told it held an item it did not, or that an entry was logged that was never
-- written. Records are now keyed by who made the call: `session:<id>` for calls made for a session,
-- `agent:<name>` for calls made before there is one (session start), `import` for the keys imports derive
-- from documents. Existing records get the scope their stored result names; a forced release's result names
-- the holder, not the caller, so those (and any record that cannot be read) go to a scope no caller has.

CREATE TABLE idempotency_v3 (
    project    TEXT NOT NULL,
    scope      TEXT NOT NULL,
    key        TEXT NOT NULL,
    command    TEXT NOT NULL,
    request    TEXT NOT NULL,
    result     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project, scope, key)
);

INSERT INTO idempotency_v3 (project, scope, key, command, request, result, created_at)
SELECT project,
       CASE
           WHEN command = 'session import' THEN 'import'
           WHEN NOT json_valid(result) OR NOT json_valid(request) THEN 'legacy'
           WHEN command = 'release' AND json_extract(request, '$.force') = 1 THEN 'legacy'
           WHEN command = 'session start' THEN
               'agent:' || coalesce(json_extract(result, '$.session.agent'), '')
           ELSE
               'session:' || coalesce(json_extract(result, '$.session_id'), json_extract(result, '$.claim.session_id'),
                                      json_extract(result, '$.session.id'), '')
       END,
       key, command, request, result, created_at
FROM idempotency;

DROP TABLE idempotency;
ALTER TABLE idempotency_v3 RENAME TO idempotency;
