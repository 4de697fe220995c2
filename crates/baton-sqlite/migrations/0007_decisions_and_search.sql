-- baton schema, version 7: decisions that supersede older ones, and full-text search.
--
-- A decision may name the older decision it replaces (`supersedes`). The unique index lets at most one
-- decision replace a given one, whatever the timing, and finds what replaced a decision by its id.
--
-- Search uses FTS5. Each index keeps its own copy of the text, filled by triggers in the transaction that
-- writes the row, so it is never out of step with it. They copy rather than point at rowids: the tables
-- have text keys, and VACUUM may renumber the rowids of such tables. `journal_search` holds each journal
-- entry's text and rationale, with its project and kind to filter on without a join; `handoff_search` each
-- session's summary and the strings of its handoff (notes, done, next, blockers). Tokens are runs of letters
-- and digits, case folded, diacritics kept: the same words PostgreSQL's `simple` configuration makes, so both
-- stores find the same things. Four-letter prefixes are indexed too (`prefix = 4`), so that a searched word
-- of four letters finds the words it begins without merging the lists of every word that starts with it.

ALTER TABLE journal_entries ADD COLUMN supersedes TEXT;
CREATE UNIQUE INDEX entries_superseded ON journal_entries (supersedes) WHERE supersedes IS NOT NULL;

CREATE VIRTUAL TABLE journal_search USING fts5(
    text, rationale, entry_id UNINDEXED, project UNINDEXED, kind UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 0', prefix = 4
);
INSERT INTO journal_search (text, rationale, entry_id, project, kind)
SELECT e.text, e.rationale, e.id, s.project, e.kind
FROM journal_entries e LEFT JOIN sessions s ON s.id = e.session_id
ORDER BY e.created_at, e.id;

CREATE TRIGGER journal_search_insert AFTER INSERT ON journal_entries BEGIN
    INSERT INTO journal_search (text, rationale, entry_id, project, kind)
    VALUES (new.text, new.rationale, new.id, (SELECT project FROM sessions WHERE id = new.session_id), new.kind);
END;
-- baton never changes or deletes an entry; if anything else does, the index follows.
CREATE TRIGGER journal_search_update AFTER UPDATE OF text, rationale ON journal_entries BEGIN
    UPDATE journal_search SET text = new.text, rationale = new.rationale WHERE entry_id = old.id;
END;
CREATE TRIGGER journal_search_delete AFTER DELETE ON journal_entries BEGIN
    DELETE FROM journal_search WHERE entry_id = old.id;
END;

CREATE VIRTUAL TABLE handoff_search USING fts5(
    summary, handoff, session_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 0', prefix = 4
);
INSERT INTO handoff_search (summary, handoff, session_id)
SELECT summary,
       CASE WHEN json_valid(handoff) THEN (SELECT group_concat(value, ' ') FROM json_tree(handoff) WHERE type = 'text') END,
       id
FROM sessions WHERE summary IS NOT NULL OR handoff IS NOT NULL;

CREATE TRIGGER handoff_search_insert AFTER INSERT ON sessions
WHEN new.summary IS NOT NULL OR new.handoff IS NOT NULL BEGIN
    INSERT INTO handoff_search (summary, handoff, session_id)
    VALUES (new.summary,
            CASE WHEN json_valid(new.handoff) THEN (SELECT group_concat(value, ' ') FROM json_tree(new.handoff) WHERE type = 'text') END,
            new.id);
END;
-- Every update of a session sets every column; only a changed summary or handoff touches the index.
CREATE TRIGGER handoff_search_update AFTER UPDATE OF summary, handoff ON sessions
WHEN old.summary IS NOT new.summary OR old.handoff IS NOT new.handoff BEGIN
    DELETE FROM handoff_search WHERE session_id = old.id;
    INSERT INTO handoff_search (summary, handoff, session_id)
    SELECT new.summary,
           CASE WHEN json_valid(new.handoff) THEN (SELECT group_concat(value, ' ') FROM json_tree(new.handoff) WHERE type = 'text') END,
           new.id
    WHERE new.summary IS NOT NULL OR new.handoff IS NOT NULL;
END;
CREATE TRIGGER handoff_search_delete AFTER DELETE ON sessions BEGIN
    DELETE FROM handoff_search WHERE session_id = old.id;
END;
