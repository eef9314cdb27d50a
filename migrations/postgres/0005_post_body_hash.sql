-- Duplicate detection (the same text from the same author within minutes) looks posts up by a
-- hash of their text instead of reading every recent post of the author: an index range of the
-- matching ones, whose text is then compared. Set by the hub on insert and edit; posts written
-- before this migration have none (only the last minutes matter).
ALTER TABLE posts ADD COLUMN body_hash BIGINT;
CREATE INDEX posts_author_body ON posts (author_id, body_hash, created_at);
