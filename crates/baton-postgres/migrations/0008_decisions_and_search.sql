-- Decisions that supersede older ones, and full-text search.
--
-- A decision may name the older decision it replaces (`supersedes`). The unique index lets at most one
-- decision replace a given one, whatever the timing, and finds what replaced a decision by its id.
--
-- Search reads two GIN indexes of `to_tsvector('simple', ...)`: a journal entry's text and rationale, and
-- a session's summary with the strings of its handoff (notes, done, next, blockers). Indexes are written
-- with their rows, so they are never out of step. The `simple` configuration only folds case (no stemming,
-- no stop words), which finds the same words as the embedded store's FTS5 tokenizer; a searched word of
-- three characters or more also matches the words it begins. Queries repeat these expressions exactly, so
-- the planner uses the indexes.

ALTER TABLE journal_entries ADD COLUMN supersedes TEXT;
CREATE UNIQUE INDEX journal_entries_superseded ON journal_entries (supersedes) WHERE supersedes IS NOT NULL;

CREATE INDEX journal_entries_search ON journal_entries
    USING gin (to_tsvector('simple', text || ' ' || coalesce(rationale, '')));

CREATE INDEX sessions_handoff_search ON sessions
    USING gin ((to_tsvector('simple', coalesce(summary, '')) || to_tsvector('simple', coalesce(handoff, 'null')::jsonb)))
    WHERE summary IS NOT NULL OR handoff IS NOT NULL;
