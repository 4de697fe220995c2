-- Claim indexes that cover only open grants (held, or expired but not yet taken over or released).
--
-- The full (project, granted_at) index let the planner read an item's newest grant by walking the whole
-- project's history whenever its statistics were stale (a new or fast-growing table): the index matched
-- the project and spared a sort, and both plans looked equally cheap. Partial indexes cannot be used by a
-- query that does not name their states, so the item's own (project, type, repo, id, token) index is the
-- only fit for that read. Listings of open claims and the expiry sweep name their states and use these;
-- a listing that includes released grants sorts the project's grants instead.
--
-- They also cost less to keep: a released or taken-over grant leaves them.

DROP INDEX claims_project_granted;
DROP INDEX claims_state_expires;

CREATE INDEX claims_open_by_project ON claims (project, granted_at, id) WHERE state IN ('held', 'expired');
CREATE INDEX claims_held_by_expiry ON claims (project, expires_at) WHERE state = 'held';
