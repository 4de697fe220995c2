-- Indexes that cover only open rows: grants that are held or expired (not yet taken over or released), and
-- sessions that have not ended. What every claim, digest and hook reads stays as small as what is open, however
-- long the history grows.
--
-- The full (project, granted_at) claims index let the planner read an item's newest grant by walking the whole
-- project's history when its statistics were stale: the index matched the project and spared a sort, and both
-- plans looked equally cheap. A partial index cannot be used by a query that does not name its states, so the
-- item's own (project, type, repo, id, token) index is the only fit for that read. Likewise a generic plan for
-- "the project's open sessions, newest first" walked every session of the project through the full
-- (project, updated_at) index: it cannot know that the statuses asked for are the rare ones. Queries for open
-- rows name their states as literals, and these indexes hold only those rows.
--
-- They also cost less to keep: a released grant or an ended session leaves them.

DROP INDEX claims_project_granted;
DROP INDEX claims_state_expires;

CREATE INDEX claims_open_by_project ON claims (project, granted_at, id) WHERE state IN ('held', 'expired');
CREATE INDEX claims_held_by_expiry ON claims (project, expires_at) WHERE state = 'held';

CREATE INDEX sessions_open_by_project ON sessions (project, updated_at)
    WHERE status IN ('drafting', 'planned', 'active', 'paused');
