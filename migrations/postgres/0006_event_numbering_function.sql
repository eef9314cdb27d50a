-- The first seq a batch of new events may take after (it returns the highest seq given so far),
-- for a single statement that writes and numbers events outside a transaction block (the
-- hub's group commit of new posts). It waits for the event log's numbering lock (the same
-- advisory lock as the relay's, held until the caller's transaction ends, so numberings commit
-- one at a time, in seq order) and only then reads the highest seq: a VOLATILE function's
-- queries each take a fresh snapshot, so the read sees every numbering committed before the
-- lock was granted, which the calling statement's own snapshot, taken earlier, may not.
CREATE FUNCTION hub_numbering_base() RETURNS BIGINT LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(78354384966978);
    RETURN (SELECT COALESCE(MAX(seq), 0) FROM events);
END
$$;
