-- A suspension remembers the region it was imposed in (NULL: by an admin, everywhere), so a
-- regional moderator may lift only the suspensions of the regions they moderate.
ALTER TABLE suspensions ADD COLUMN region TEXT;
-- Suspensions imposed before this migration take the region their audit line recorded (written
-- in the same transaction, just after the suspension).
UPDATE suspensions SET region = (
    SELECT a.region FROM audit_log a
    WHERE a.action = 'suspend' AND a.object_type = 'user' AND a.object_id = suspensions.user_id
      AND a.actor_id = suspensions.by_id AND a.created_at >= suspensions.created_at
    ORDER BY a.id LIMIT 1
);
