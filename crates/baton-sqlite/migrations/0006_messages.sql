-- baton schema, version 6: messages between sessions, each recipient's copy of them, and requests.
--
-- A message is addressed to a session, an agent, a role or everyone (`to_addr`); each recipient it reaches
-- (a session, or an agent, whose sessions share its copy) gets a delivery: its place in that inbox (`pos`,
-- the rowid: the single writer numbers them in commit order) and what the recipient did with it. A message
-- to a role or everyone stays `open` to sessions that start until it expires or every recipient acked it.

CREATE TABLE messages (
    id           TEXT PRIMARY KEY,
    project      TEXT NOT NULL,
    from_session TEXT NOT NULL,
    from_agent   TEXT NOT NULL,
    to_addr      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    text         TEXT NOT NULL,
    reply_to     TEXT,
    thread       TEXT NOT NULL,
    request_id   TEXT,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    open         INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE INDEX messages_by_sender ON messages (from_session, created_at, id);
CREATE INDEX messages_by_thread ON messages (thread, created_at, id);
CREATE INDEX messages_open_by_project ON messages (project, created_at, id) WHERE open;

CREATE TABLE deliveries (
    pos         INTEGER PRIMARY KEY,
    message_id  TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    read_at     INTEGER,
    acked_at    INTEGER,
    notified_at INTEGER,
    UNIQUE (message_id, recipient)
);

CREATE INDEX deliveries_by_recipient ON deliveries (recipient, pos);
CREATE INDEX deliveries_unread ON deliveries (recipient, pos) WHERE read_at IS NULL;
CREATE INDEX deliveries_unacked ON deliveries (recipient, pos) WHERE acked_at IS NULL;
CREATE INDEX deliveries_unnotified ON deliveries (recipient, pos) WHERE notified_at IS NULL;

CREATE TABLE requests (
    id           TEXT PRIMARY KEY,
    project      TEXT NOT NULL,
    from_session TEXT NOT NULL,
    from_agent   TEXT NOT NULL,
    to_addr      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    text         TEXT NOT NULL,
    status       TEXT NOT NULL,
    response     TEXT,
    answered_by  TEXT,
    message_id   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX requests_by_addressee ON requests (project, to_addr, created_at, id);
CREATE INDEX requests_by_requester ON requests (from_session, created_at, id);
