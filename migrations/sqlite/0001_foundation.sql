-- Foundation: accounts, sessions, threads, posts, revisions, endorsements, idempotency keys,
-- the event log and the full-text index. Times are microseconds since the Unix epoch (UTC),
-- the same representation as on PostgreSQL so both backends share one query layer.

CREATE TABLE users (
    id                INTEGER PRIMARY KEY,
    email             TEXT    NOT NULL UNIQUE,
    password_hash     TEXT    NOT NULL,
    display_name      TEXT    NOT NULL,
    organisation      TEXT,
    stakeholder_group TEXT    NOT NULL,
    country           TEXT,
    language          TEXT,
    attribution       INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL
);

CREATE TABLE user_roles (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       TEXT    NOT NULL,
    region     TEXT    NOT NULL DEFAULT '',
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, role, region)
);

CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE threads (
    id               INTEGER PRIMARY KEY,
    region           TEXT    NOT NULL,
    title            TEXT    NOT NULL,
    author_id        INTEGER NOT NULL REFERENCES users(id),
    kind             TEXT    NOT NULL,
    objectives       TEXT    NOT NULL,
    opening_post_id  INTEGER,
    pinned           INTEGER NOT NULL DEFAULT 0,
    locked           INTEGER NOT NULL DEFAULT 0,
    post_count       INTEGER NOT NULL DEFAULT 0,
    endorsements     INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL
);
CREATE INDEX threads_region_activity ON threads (region, last_activity_at, id);
CREATE INDEX threads_region_top ON threads (region, endorsements, id);

CREATE TABLE thread_objectives (
    objective INTEGER NOT NULL,
    thread_id INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    PRIMARY KEY (objective, thread_id)
);

CREATE TABLE posts (
    id                INTEGER PRIMARY KEY,
    thread_id         INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    parent_id         INTEGER REFERENCES posts(id),
    region            TEXT    NOT NULL,
    author_id         INTEGER NOT NULL REFERENCES users(id),
    depth             INTEGER NOT NULL,
    path              TEXT    NOT NULL,
    kind              TEXT    NOT NULL,
    body              TEXT    NOT NULL,
    body_html         TEXT    NOT NULL,
    language          TEXT,
    language_detected INTEGER NOT NULL DEFAULT 0,
    objectives        TEXT    NOT NULL,
    aspects           TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    status_reason     TEXT,
    endorsements      INTEGER NOT NULL DEFAULT 0,
    revision          INTEGER NOT NULL DEFAULT 1,
    created_at        INTEGER NOT NULL,
    edited_at         INTEGER,
    -- Who wrote the current version, when not the author (a moderator's correction).
    editor_id         INTEGER REFERENCES users(id)
);
CREATE INDEX posts_thread_path ON posts (thread_id, path);
CREATE INDEX posts_region_created ON posts (region, created_at);
CREATE INDEX posts_author ON posts (author_id);

CREATE TABLE post_objectives (
    objective INTEGER NOT NULL,
    post_id   INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    PRIMARY KEY (objective, post_id)
);

CREATE TABLE post_revisions (
    post_id    INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    revision   INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    objectives TEXT    NOT NULL,
    editor_id  INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (post_id, revision)
);

CREATE TABLE endorsements (
    post_id    INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (post_id, user_id)
);

CREATE TABLE idempotency_keys (
    user_id     INTEGER NOT NULL,
    key         TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    resource    TEXT    NOT NULL,
    resource_id INTEGER,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- On SQLite one writer holds the database at a time, so a seq given inside the writing
-- transaction is already in commit order.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    type       TEXT    NOT NULL,
    region     TEXT,
    thread_id  INTEGER,
    post_id    INTEGER,
    user_id    INTEGER,
    audience   TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- Terms are folded and split in Rust (hub_domain::search) so both backends match alike.
CREATE VIRTUAL TABLE post_search USING fts5 (terms, tokenize = 'unicode61 remove_diacritics 0');
