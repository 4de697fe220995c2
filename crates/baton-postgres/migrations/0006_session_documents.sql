-- What an imported document carried beyond baton's columns gets a row of its own.
--
-- The fields of an imported document that baton has no column for (a title, a tracker link, sub-agents) were
-- kept only in the session's `session.imported` event, and rendering the session's document looked for that
-- event by paging through every event of the project: with documents kept up to date, every command that
-- changed a session paid for the whole event log. They now live here too, one row per session, written with
-- the import and read by its key. The event keeps them, so `changes` shows what it showed.
--
-- Existing imports are copied from their events: for each session, its newest import event in its own project
-- that carried fields (a document of null carried none). The text is cut out of the event as it was written
-- (`json`, not `jsonb`, which would reorder the keys). An event whose data cannot be read is left out.

CREATE TABLE session_documents (
    session_id TEXT PRIMARY KEY,
    document   TEXT NOT NULL
);

DO $$
DECLARE
    r RECORD;
    d JSON;
BEGIN
    FOR r IN SELECT e.session_id, e.data FROM events e
             JOIN sessions s ON s.id = e.session_id AND s.project = e.project
             WHERE e.kind = 'session.imported'
             ORDER BY e.seq LOOP
        BEGIN
            d := r.data::json -> 'document';
        EXCEPTION WHEN others THEN
            d := NULL;
        END;
        IF d IS NOT NULL AND json_typeof(d) <> 'null' THEN
            INSERT INTO session_documents (session_id, document) VALUES (r.session_id, d::text)
            ON CONFLICT (session_id) DO UPDATE SET document = EXCLUDED.document;
        END IF;
    END LOOP;
END
$$;
