-- baton schema, version 1. Times are microseconds since the Unix epoch (UTC).

CREATE TABLE sessions (
    id               TEXT PRIMARY KEY,
    project          TEXT NOT NULL,
    agent            TEXT NOT NULL,
    name             TEXT,
    role             TEXT,
    context          TEXT,
    task_ids         TEXT NOT NULL DEFAULT '[]',
    status           TEXT NOT NULL,
    git_branch       TEXT,
    git_commit       TEXT,
    worktree         TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    last_seen        INTEGER NOT NULL,
    ended_at         INTEGER,
    compaction_count INTEGER NOT NULL DEFAULT 0,
    summary          TEXT,
    handoff          TEXT
);
CREATE INDEX sessions_by_project_status ON sessions (project, status, updated_at);
CREATE INDEX sessions_by_project_agent ON sessions (project, agent, updated_at);
CREATE INDEX sessions_by_updated ON sessions (project, updated_at);
CREATE INDEX sessions_by_status_seen ON sessions (status, last_seen);

CREATE TABLE journal_entries (
    id         TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    text       TEXT NOT NULL,
    rationale  TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX entries_by_session ON journal_entries (session_id, created_at);
CREATE INDEX entries_by_kind ON journal_entries (kind, created_at);

-- One row per grant. The current grant of an item is the row with the highest token.
CREATE TABLE claims (
    id             TEXT PRIMARY KEY,
    project        TEXT NOT NULL,
    item_type      TEXT NOT NULL,
    repo           TEXT NOT NULL,
    item_id        TEXT NOT NULL,
    token          INTEGER NOT NULL,
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
    UNIQUE (project, item_type, repo, item_id, token)
);
-- The database itself refuses a second holder of one item.
CREATE UNIQUE INDEX claims_one_holder ON claims (project, item_type, repo, item_id) WHERE state = 'held';
CREATE INDEX claims_by_session ON claims (session_id, state);
CREATE INDEX claims_by_expiry ON claims (state, expires_at);
CREATE INDEX claims_by_project ON claims (project, state, granted_at);

CREATE TABLE events (
    seq        INTEGER PRIMARY KEY,
    time       INTEGER NOT NULL,
    project    TEXT NOT NULL,
    agent      TEXT NOT NULL,
    session_id TEXT,
    kind       TEXT NOT NULL,
    target     TEXT NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX events_by_project ON events (project, seq);
CREATE INDEX events_by_time ON events (project, time);

CREATE TABLE idempotency (
    project    TEXT NOT NULL,
    key        TEXT NOT NULL,
    command    TEXT NOT NULL,
    request    TEXT NOT NULL,
    result     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project, key)
);
