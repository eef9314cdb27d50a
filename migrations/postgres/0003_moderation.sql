-- Moderation: flags, the queue (denormalised on posts so the region's queue is one index
-- scan), notes, decisions and appeals, suspensions, and the append-only audit log.

ALTER TABLE posts ADD COLUMN open_flags BIGINT NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN flag_weight BIGINT NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN personal_data_flags BIGINT NOT NULL DEFAULT 0;
-- Set while the post waits for a moderator (pending, flagged or appealed); cleared by a decision.
ALTER TABLE posts ADD COLUMN queued_at BIGINT;
ALTER TABLE posts ADD COLUMN assigned_to BIGINT REFERENCES users(id);
-- Queue order: personal data first, then flag weight (personal_data_flags * 1e6 + flag_weight).
ALTER TABLE posts ADD COLUMN urgency BIGINT NOT NULL DEFAULT 0;
CREATE INDEX posts_queue ON posts (region, urgency DESC, queued_at, id) WHERE queued_at IS NOT NULL;
-- Duplicate detection looks at an author's latest posts.
CREATE INDEX posts_author_created ON posts (author_id, created_at);

CREATE TABLE flags (
    id         BIGSERIAL PRIMARY KEY,
    post_id    BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    reason     TEXT   NOT NULL,
    note       TEXT,
    open       BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX flags_one_open ON flags (post_id, user_id) WHERE open = 1;
CREATE INDEX flags_post ON flags (post_id);

CREATE TABLE moderation_notes (
    id           BIGSERIAL PRIMARY KEY,
    post_id      BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    moderator_id BIGINT NOT NULL REFERENCES users(id),
    note         TEXT   NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX moderation_notes_post ON moderation_notes (post_id);

CREATE TABLE decisions (
    id           BIGSERIAL PRIMARY KEY,
    region       TEXT   NOT NULL,
    post_id      BIGINT REFERENCES posts(id),
    thread_id    BIGINT REFERENCES threads(id),
    subject_id   BIGINT REFERENCES users(id),
    moderator_id BIGINT NOT NULL REFERENCES users(id),
    action       TEXT   NOT NULL,
    reason       TEXT   NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX decisions_post ON decisions (post_id, id);

CREATE TABLE appeals (
    id          BIGSERIAL PRIMARY KEY,
    decision_id BIGINT NOT NULL UNIQUE REFERENCES decisions(id),
    user_id     BIGINT NOT NULL REFERENCES users(id),
    note        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE suspensions (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    until      BIGINT NOT NULL,
    reason     TEXT   NOT NULL,
    by_id      BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    lifted_at  BIGINT
);
CREATE INDEX suspensions_user ON suspensions (user_id, until);

-- Append-only: no code path updates or deletes it, and the database refuses to.
CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    region      TEXT,
    actor_id    BIGINT,
    action      TEXT   NOT NULL,
    object_type TEXT   NOT NULL,
    object_id   BIGINT,
    reason      TEXT,
    before      TEXT,
    after       TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX audit_log_region ON audit_log (region, id);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
