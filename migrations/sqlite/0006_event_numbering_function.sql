-- PostgreSQL only (a function numbering events for the group commit of new posts): SQLite
-- numbers each event as it is inserted by its single writer. Kept so both backends share
-- migration numbers.
SELECT 1;
