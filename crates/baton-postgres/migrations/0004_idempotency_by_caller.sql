-- An idempotency key belongs to the caller that used it.
--
-- Until now one record was kept per (project, key), so a second session reusing another's key got the first
-- session's result back: told it held an item it did not, or that an entry was logged that was never
-- written. Records are now keyed by who made the call: `session:<id>` for calls made for a session,
-- `agent:<name>` for calls made before there is one (session start), `import` for the keys imports derive
-- from documents. Existing records get the scope their stored result names.

ALTER TABLE idempotency ADD COLUMN scope TEXT;

UPDATE idempotency SET scope = CASE
    WHEN command = 'session import' THEN 'import'
    WHEN command = 'session start' THEN 'agent:' || coalesce(result::jsonb #>> '{session,agent}', '')
    ELSE 'session:' || coalesce(result::jsonb ->> 'session_id', result::jsonb #>> '{claim,session_id}',
                                result::jsonb #>> '{session,id}', '')
END;

ALTER TABLE idempotency ALTER COLUMN scope SET NOT NULL;
ALTER TABLE idempotency DROP CONSTRAINT idempotency_pkey;
ALTER TABLE idempotency ADD PRIMARY KEY (project, scope, key);
