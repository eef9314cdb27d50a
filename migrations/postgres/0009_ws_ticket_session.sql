-- A WebSocket ticket remembers the session it was issued from, so a connection opened with it
-- ends when that session does (logout), as one opened with the session's token does.
-- NULL for tickets issued before this migration (they expire within a minute).
ALTER TABLE ws_tickets ADD COLUMN session_hash TEXT;
