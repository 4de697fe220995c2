-- An idempotency key belongs to the caller that used it.
--
-- Until now one record was kept per (project, key), so a second session reusing another's key got the first
-- session's result back: told it held an item it did not, or that an entry was logged that was never
-- written. Records are now keyed by who made the call: `session:<id>` for calls made for a session,
-- `agent:<name>` for calls made before there is one (session start), `import` for the keys imports derive
-- from documents. Existing records get the scope their stored result names; a forced release's result names
-- the holder, not the caller, so those (and any record that cannot be read) go to a scope no caller has.

ALTER TABLE idempotency ADD COLUMN scope TEXT;

DO $$
DECLARE
    r RECORD;
    s TEXT;
BEGIN
    FOR r IN SELECT project, key, command, request, result FROM idempotency LOOP
        BEGIN
            s := CASE
                WHEN r.command = 'session import' THEN 'import'
                WHEN r.command = 'release' AND (r.request::jsonb ->> 'force') = 'true' THEN 'legacy'
                WHEN r.command = 'session start' THEN 'agent:' || coalesce(r.result::jsonb #>> '{session,agent}', '')
                ELSE 'session:' || coalesce(r.result::jsonb ->> 'session_id', r.result::jsonb #>> '{claim,session_id}',
                                            r.result::jsonb #>> '{session,id}', '')
            END;
        EXCEPTION WHEN others THEN
            s := 'legacy';
        END;
        UPDATE idempotency SET scope = s WHERE project = r.project AND key = r.key;
    END LOOP;
END
$$;

ALTER TABLE idempotency ALTER COLUMN scope SET NOT NULL;
ALTER TABLE idempotency DROP CONSTRAINT idempotency_pkey;
ALTER TABLE idempotency ADD PRIMARY KEY (project, scope, key);
