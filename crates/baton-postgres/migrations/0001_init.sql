-- baton's first schema. Times are microseconds since the Unix epoch (BIGINT); JSON is stored as TEXT;
-- enums are stored as their text names.

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
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    last_seen        BIGINT NOT NULL,
    ended_at         BIGINT,
    compaction_count BIGINT NOT NULL DEFAULT 0,
    summary          TEXT,
    handoff          TEXT
);

-- Resolving "this agent's active session" and listing newest first.
CREATE INDEX sessions_project_agent_status ON sessions (project, agent, status, updated_at);
CREATE INDEX sessions_project_updated ON sessions (project, updated_at);
-- The stale sweep.
CREATE INDEX sessions_status_last_seen ON sessions (status, last_seen);

CREATE TABLE journal_entries (
    id         TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    text       TEXT NOT NULL,
    rationale  TEXT,
    created_at BIGINT NOT NULL
);

CREATE INDEX journal_entries_session ON journal_entries (session_id, created_at);

-- One row per grant of an item; the current grant is the one with the highest token.
CREATE TABLE claims (
    id             TEXT PRIMARY KEY,
    project        TEXT NOT NULL,
    item_type      TEXT NOT NULL,
    repo           TEXT NOT NULL,
    item_id        TEXT NOT NULL,
    token          BIGINT NOT NULL,
    session_id     TEXT NOT NULL,
    agent          TEXT NOT NULL,
    state          TEXT NOT NULL,
    ttl_secs       BIGINT NOT NULL,
    granted_at     BIGINT NOT NULL,
    renewed_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    ended_at       BIGINT,
    release_status TEXT,
    notes          TEXT,
    loss_reported  BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT claims_item_token UNIQUE (project, item_type, repo, item_id, token)
);

-- Backstop under the rules' item lock: the database itself refuses a second held grant of one item.
CREATE UNIQUE INDEX claims_one_held ON claims (project, item_type, repo, item_id) WHERE state = 'held';
CREATE INDEX claims_session ON claims (session_id, granted_at);
CREATE INDEX claims_state_expires ON claims (state, expires_at);
CREATE INDEX claims_project_granted ON claims (project, granted_at);

CREATE TABLE events (
    seq        BIGINT PRIMARY KEY,
    time       BIGINT NOT NULL,
    project    TEXT NOT NULL,
    agent      TEXT NOT NULL,
    session_id TEXT,
    kind       TEXT NOT NULL,
    target     TEXT NOT NULL,
    data       TEXT NOT NULL
);

CREATE INDEX events_project_seq ON events (project, seq);
CREATE INDEX events_project_time ON events (project, time);

-- The last seq handed out. Its single row is locked from the moment a transaction takes its seqs until it
-- commits, so seqs are handed out in commit order.
CREATE TABLE baton_event_seq (
    id    SMALLINT PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);

INSERT INTO baton_event_seq (id, value) VALUES (1, 0);

CREATE TABLE idempotency (
    project    TEXT NOT NULL,
    key        TEXT NOT NULL,
    command    TEXT NOT NULL,
    request    TEXT NOT NULL,
    result     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project, key)
);
