-- Foundation: accounts, sessions, threads, posts, revisions, endorsements, idempotency keys,
-- the event log and the full-text index. Times are microseconds since the Unix epoch (UTC),
-- the same representation as on SQLite so both backends share one query layer.

CREATE TABLE users (
    id                BIGSERIAL PRIMARY KEY,
    email             TEXT      NOT NULL UNIQUE,
    password_hash     TEXT      NOT NULL,
    display_name      TEXT      NOT NULL,
    organisation      TEXT,
    stakeholder_group TEXT      NOT NULL,
    country           TEXT,
    language          TEXT,
    attribution       BIGINT    NOT NULL DEFAULT 0,
    created_at        BIGINT    NOT NULL
);

CREATE TABLE user_roles (
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       TEXT   NOT NULL,
    region     TEXT   NOT NULL DEFAULT '',
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, role, region)
);

CREATE TABLE sessions (
    token_hash TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE threads (
    id               BIGSERIAL PRIMARY KEY,
    region           TEXT   NOT NULL,
    title            TEXT   NOT NULL,
    author_id        BIGINT NOT NULL REFERENCES users(id),
    kind             TEXT   NOT NULL,
    objectives       TEXT   NOT NULL,
    opening_post_id  BIGINT,
    pinned           BIGINT NOT NULL DEFAULT 0,
    locked           BIGINT NOT NULL DEFAULT 0,
    post_count       BIGINT NOT NULL DEFAULT 0,
    endorsements     BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    last_activity_at BIGINT NOT NULL
);
CREATE INDEX threads_region_activity ON threads (region, last_activity_at, id);
CREATE INDEX threads_region_top ON threads (region, endorsements, id);

CREATE TABLE thread_objectives (
    objective BIGINT NOT NULL,
    thread_id BIGINT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    PRIMARY KEY (objective, thread_id)
);

CREATE TABLE posts (
    id                BIGSERIAL PRIMARY KEY,
    thread_id         BIGINT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    parent_id         BIGINT REFERENCES posts(id),
    region            TEXT   NOT NULL,
    author_id         BIGINT NOT NULL REFERENCES users(id),
    depth             BIGINT NOT NULL,
    -- Byte order, whatever the database's collation: the path encodes the tree.
    path              TEXT COLLATE "C" NOT NULL,
    kind              TEXT   NOT NULL,
    body              TEXT   NOT NULL,
    body_html         TEXT   NOT NULL,
    language          TEXT,
    language_detected BIGINT NOT NULL DEFAULT 0,
    objectives        TEXT   NOT NULL,
    aspects           TEXT   NOT NULL,
    status            TEXT   NOT NULL,
    status_reason     TEXT,
    endorsements      BIGINT NOT NULL DEFAULT 0,
    revision          BIGINT NOT NULL DEFAULT 1,
    created_at        BIGINT NOT NULL,
    edited_at         BIGINT,
    -- Who wrote the current version, when not the author (a moderator's correction).
    editor_id         BIGINT REFERENCES users(id),
    -- Folded search terms (hub_domain::search), matched with @> through a GIN index.
    search_terms      TEXT[] NOT NULL DEFAULT '{}'
);
CREATE INDEX posts_thread_path ON posts (thread_id, path);
CREATE INDEX posts_region_created ON posts (region, created_at);
CREATE INDEX posts_author ON posts (author_id);
CREATE INDEX posts_search ON posts USING GIN (search_terms);

CREATE TABLE post_objectives (
    objective BIGINT NOT NULL,
    post_id   BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    PRIMARY KEY (objective, post_id)
);

CREATE TABLE post_revisions (
    post_id    BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    revision   BIGINT NOT NULL,
    body       TEXT   NOT NULL,
    kind       TEXT   NOT NULL,
    objectives TEXT   NOT NULL,
    editor_id  BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (post_id, revision)
);

CREATE TABLE endorsements (
    post_id    BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (post_id, user_id)
);

CREATE TABLE idempotency_keys (
    user_id     BIGINT NOT NULL,
    key         TEXT   NOT NULL,
    fingerprint TEXT   NOT NULL,
    resource    TEXT   NOT NULL,
    resource_id BIGINT,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- A sequence value is taken before commit, so two writers can commit 101 before 100. Events
-- are therefore written with no seq; a relay, one at a time under an advisory lock, gives
-- committed events the next seqs in a transaction of its own, so seq order is commit order
-- and a reader never sees seq n+1 before n.
CREATE TABLE events (
    id         BIGSERIAL PRIMARY KEY,
    seq        BIGINT UNIQUE,
    type       TEXT   NOT NULL,
    region     TEXT,
    thread_id  BIGINT,
    post_id    BIGINT,
    user_id    BIGINT,
    audience   TEXT   NOT NULL,
    payload    TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_unsequenced ON events (id) WHERE seq IS NULL;
