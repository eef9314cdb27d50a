-- Analysis documents: the build jobs (queued, building under a lease, ready or failed) and
-- the documents themselves, kept per version. A job's row and its document become ready in
-- one transaction, so a build killed midway leaves a stale lease and no document.

CREATE TABLE analyses (
    id             INTEGER PRIMARY KEY,
    region         TEXT    NOT NULL,
    -- Deduplicates scheduled runs across instances: `europe:2027:due`, `manual:<uuid>`.
    run_key        TEXT    NOT NULL UNIQUE,
    origin         TEXT    NOT NULL,
    cycle          TEXT,
    status         TEXT    NOT NULL,
    cutoff_at      INTEGER NOT NULL,
    requested_by   INTEGER REFERENCES users(id),
    attempts       INTEGER NOT NULL DEFAULT 0,
    lease_until    INTEGER,
    worker         TEXT,
    error          TEXT,
    version        INTEGER,
    cutoff_seq     INTEGER,
    content_sha256 TEXT,
    posts          INTEGER,
    size_bytes     INTEGER,
    created_at     INTEGER NOT NULL,
    started_at     INTEGER,
    finished_at    INTEGER
);
CREATE UNIQUE INDEX analyses_region_version ON analyses (region, version) WHERE version IS NOT NULL;
CREATE INDEX analyses_region ON analyses (region, id);
CREATE INDEX analyses_open ON analyses (status, id) WHERE status IN ('queued', 'building');

CREATE TABLE analysis_documents (
    analysis_id INTEGER PRIMARY KEY REFERENCES analyses(id),
    -- The canonical JSON, gzip-compressed.
    json_gz     BLOB    NOT NULL
);

CREATE INDEX endorsements_post_created ON endorsements (post_id, created_at);
