-- A thread's endorsements are those of its published posts: hidden, removed and pending posts'
-- endorsements no longer lift it in the `top` order. Counted again once; the hub keeps it so.
UPDATE threads SET endorsements = (
    SELECT COALESCE(SUM(p.endorsements), 0) FROM posts p
    WHERE p.thread_id = threads.id AND p.status = 'published'
);
