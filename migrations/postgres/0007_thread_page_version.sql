-- A thread's page version: it changes with anything a page of the thread's posts shows (a post
-- written, edited, endorsed, moderated or moved; an author's public profile), so a cached page
-- is served only while its version is the thread's current one. A new post moves it in the
-- statement that counts it in its thread (crates/hub-store: posts.rs, batch.rs, one row update
-- that is made anyway; a post inserted by any other statement must move it too); every
-- other change moves it by the triggers below, whatever statement makes it.
ALTER TABLE threads ADD COLUMN page_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION hub_page_version_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE threads SET page_version = page_version + 1 WHERE id = OLD.thread_id;
    ELSE
        UPDATE threads SET page_version = page_version + 1
        WHERE id = NEW.thread_id OR id = OLD.thread_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER posts_page_version_update AFTER UPDATE OF thread_id, parent_id, region,
    author_id, depth, path, kind, body, body_html, language, language_detected, objectives,
    aspects, status, status_reason, endorsements, revision, created_at, edited_at ON posts
    FOR EACH ROW EXECUTE FUNCTION hub_page_version_changed();

CREATE TRIGGER posts_page_version_delete AFTER DELETE ON posts
    FOR EACH ROW EXECUTE FUNCTION hub_page_version_changed();

CREATE FUNCTION hub_page_version_author() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE threads SET page_version = page_version + 1
    WHERE id IN (SELECT thread_id FROM posts WHERE author_id = NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER users_page_version AFTER UPDATE OF display_name, organisation,
    stakeholder_group, country ON users
    FOR EACH ROW EXECUTE FUNCTION hub_page_version_author();
