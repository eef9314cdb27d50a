-- What the next version of a document compares itself with (its totals, objective ranks, top
-- recommendations and the ids of its contributions), gzip-compressed JSON, kept beside the
-- document so that the next build need not read a document of a million contributions to
-- say what changed. NULL for documents stored before it: the next build reads those whole.
ALTER TABLE analysis_documents ADD COLUMN summary_gz BYTEA;

-- A document is stored in parts, each in a transaction of its own, before the short
-- transaction that makes it ready: one write of tens of megabytes held up every commit behind
-- it. The parts belong to one claim of the job (its started_at); the job's row and its
-- document row still become ready together, naming the claim whose parts make the document
-- (parts_of). Parts of other claims are deleted when the job completes or fails, and at any
-- claim those of jobs not ready that belong to no claim still building. NULL parts_of: json_gz
-- holds the whole document (documents stored before parts).
ALTER TABLE analysis_documents ADD COLUMN parts_of BIGINT;
CREATE TABLE analysis_document_parts (
    analysis_id BIGINT NOT NULL REFERENCES analyses(id),
    claim       BIGINT NOT NULL,
    part        BIGINT NOT NULL,
    bytes       BYTEA NOT NULL,
    PRIMARY KEY (analysis_id, claim, part)
);
