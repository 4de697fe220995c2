-- Interfaces sessions declare (one declaration per session and name, updated in place), and what other sessions
-- need of them: each need names the interface and the session or agent it is needed from.

CREATE TABLE interfaces (
    id          TEXT PRIMARY KEY,
    project     TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    agent       TEXT NOT NULL,
    name        TEXT NOT NULL,
    file        TEXT,
    description TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (session_id, name)
) WITHOUT ROWID;

CREATE INDEX interfaces_by_name ON interfaces (project, name, created_at, id);

CREATE TABLE dependencies (
    id         TEXT PRIMARY KEY,
    project    TEXT NOT NULL,
    session_id TEXT NOT NULL,
    agent      TEXT NOT NULL,
    name       TEXT NOT NULL,
    from_addr  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (session_id, name, from_addr)
) WITHOUT ROWID;

CREATE INDEX dependencies_by_name ON dependencies (project, name, created_at, id);
