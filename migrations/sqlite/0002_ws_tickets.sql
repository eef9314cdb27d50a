-- One-time tickets for browser WebSocket connections (browsers cannot set headers on a
-- WebSocket). Stored hashed, valid 60 s, deleted when used, so a replayed ticket fails on any
-- instance.
CREATE TABLE ws_tickets (
    ticket_hash TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX events_region_seq ON events (region, seq);
CREATE INDEX events_thread_seq ON events (thread_id, seq);
CREATE INDEX events_user_seq ON events (user_id, seq);
