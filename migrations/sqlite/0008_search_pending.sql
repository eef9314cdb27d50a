-- New posts' search terms wait here until the indexer moves them into the full-text index
-- (post_search) many at a time: FTS5 writes a new segment at every commit that touches it, which
-- was a third of a lone post's write. A search first indexes whatever is waiting, so it finds
-- every post written before it. The rows are durable: after a crash the indexer resumes.
CREATE TABLE search_pending (
    post_id INTEGER PRIMARY KEY,
    terms   TEXT    NOT NULL
);
