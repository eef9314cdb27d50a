-- Moderation: flags, the queue (denormalised on posts so the region's queue is one index
-- scan), notes, decisions and appeals, suspensions, and the append-only audit log.

ALTER TABLE posts ADD COLUMN open_flags INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN flag_weight INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN personal_data_flags INTEGER NOT NULL DEFAULT 0;
-- Set while the post waits for a moderator (pending, flagged or appealed); cleared by a decision.
ALTER TABLE posts ADD COLUMN queued_at INTEGER;
ALTER TABLE posts ADD COLUMN assigned_to INTEGER REFERENCES users(id);
-- Queue order: personal data first, then flag weight (personal_data_flags * 1e6 + flag_weight).
ALTER TABLE posts ADD COLUMN urgency INTEGER NOT NULL DEFAULT 0;
CREATE INDEX posts_queue ON posts (region, urgency DESC, queued_at, id) WHERE queued_at IS NOT NULL;
-- Duplicate detection looks at an author's latest posts.
CREATE INDEX posts_author_created ON posts (author_id, created_at);

CREATE TABLE flags (
    id         INTEGER PRIMARY KEY,
    post_id    INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    reason     TEXT    NOT NULL,
    note       TEXT,
    open       INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX flags_one_open ON flags (post_id, user_id) WHERE open = 1;
CREATE INDEX flags_post ON flags (post_id);

CREATE TABLE moderation_notes (
    id           INTEGER PRIMARY KEY,
    post_id      INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    moderator_id INTEGER NOT NULL REFERENCES users(id),
    note         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX moderation_notes_post ON moderation_notes (post_id);

CREATE TABLE decisions (
    id           INTEGER PRIMARY KEY,
    region       TEXT    NOT NULL,
    post_id      INTEGER REFERENCES posts(id),
    thread_id    INTEGER REFERENCES threads(id),
    subject_id   INTEGER REFERENCES users(id),
    moderator_id INTEGER NOT NULL REFERENCES users(id),
    action       TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX decisions_post ON decisions (post_id, id);

CREATE TABLE appeals (
    id          INTEGER PRIMARY KEY,
    decision_id INTEGER NOT NULL UNIQUE REFERENCES decisions(id),
    user_id     INTEGER NOT NULL REFERENCES users(id),
    note        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE suspensions (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    until      INTEGER NOT NULL,
    reason     TEXT    NOT NULL,
    by_id      INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    lifted_at  INTEGER
);
CREATE INDEX suspensions_user ON suspensions (user_id, until);

-- Append-only: no code path updates or deletes it, and the database refuses to.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    region      TEXT,
    actor_id    INTEGER,
    action      TEXT    NOT NULL,
    object_type TEXT    NOT NULL,
    object_id   INTEGER,
    reason      TEXT,
    before      TEXT,
    after       TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX audit_log_region ON audit_log (region, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
