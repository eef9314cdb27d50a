-- Analysis documents: the build jobs (queued, building under a lease, ready or failed) and
-- the documents themselves, kept per version. A job's row and its document become ready in
-- one transaction, so a build killed midway leaves a stale lease and no document.

CREATE TABLE analyses (
    id             BIGSERIAL PRIMARY KEY,
    region         TEXT    NOT NULL,
    -- Deduplicates scheduled runs across instances: `europe:2027:due`, `manual:<uuid>`.
    run_key        TEXT    NOT NULL UNIQUE,
    origin         TEXT    NOT NULL,
    cycle          TEXT,
    status         TEXT    NOT NULL,
    cutoff_at      BIGINT NOT NULL,
    requested_by   BIGINT REFERENCES users(id),
    attempts       BIGINT NOT NULL DEFAULT 0,
    lease_until    BIGINT,
    worker         TEXT,
    error          TEXT,
    version        BIGINT,
    cutoff_seq     BIGINT,
    content_sha256 TEXT,
    posts          BIGINT,
    size_bytes     BIGINT,
    created_at     BIGINT NOT NULL,
    started_at     BIGINT,
    finished_at    BIGINT
);
CREATE UNIQUE INDEX analyses_region_version ON analyses (region, version) WHERE version IS NOT NULL;
CREATE INDEX analyses_region ON analyses (region, id);
CREATE INDEX analyses_open ON analyses (status, id) WHERE status IN ('queued', 'building');

CREATE TABLE analysis_documents (
    analysis_id BIGINT PRIMARY KEY REFERENCES analyses(id),
    -- The canonical JSON, gzip-compressed.
    json_gz     BYTEA   NOT NULL
);

CREATE INDEX endorsements_post_created ON endorsements (post_id, created_at);
