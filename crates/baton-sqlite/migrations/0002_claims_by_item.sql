-- baton schema, version 2: claims are stored by item and token, and write fewer index pages.
--
-- Every write transaction appends each page it changes to the WAL, so a claim's cost is roughly the number
-- of B-trees it touches. Version 1 kept claims in a rowid table with an id primary key and a unique
-- (item, token) key beside it, plus four indexes: ten B-trees per claim with its event. Here the (item,
-- token) key is the table's own key (WITHOUT ROWID), the id is a plain column (UUIDv7, unique by
-- construction and never looked up), the expiry index is gone (sweeps read a project's held claims through
-- claims_by_project, and held claims are few), and claims_by_session leaves out the state so a release
-- does not move its entry.

CREATE TABLE claims_v2 (
    project        TEXT NOT NULL,
    item_type      TEXT NOT NULL,
    repo           TEXT NOT NULL,
    item_id        TEXT NOT NULL,
    token          INTEGER NOT NULL,
    id             TEXT NOT NULL,
    session_id     TEXT NOT NULL,
    agent          TEXT NOT NULL,
    state          TEXT NOT NULL,
    ttl_secs       INTEGER NOT NULL,
    granted_at     INTEGER NOT NULL,
    renewed_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    ended_at       INTEGER,
    release_status TEXT,
    notes          TEXT,
    loss_reported  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project, item_type, repo, item_id, token)
) WITHOUT ROWID;

INSERT INTO claims_v2 (project, item_type, repo, item_id, token, id, session_id, agent, state, ttl_secs,
                       granted_at, renewed_at, expires_at, ended_at, release_status, notes, loss_reported)
SELECT project, item_type, repo, item_id, token, id, session_id, agent, state, ttl_secs,
       granted_at, renewed_at, expires_at, ended_at, release_status, notes, loss_reported
FROM claims;

DROP TABLE claims;
ALTER TABLE claims_v2 RENAME TO claims;

-- The database itself refuses a second holder of one item.
CREATE UNIQUE INDEX claims_one_holder ON claims (project, item_type, repo, item_id) WHERE state = 'held';
CREATE INDEX claims_by_session ON claims (session_id);
CREATE INDEX claims_by_project ON claims (project, state, granted_at);
