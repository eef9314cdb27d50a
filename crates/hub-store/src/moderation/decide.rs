//! Moderators' decisions on posts and threads, and authors' appeals.

use super::{public, state_of};
use crate::audit::Audit;
use crate::posts::post_event;
use crate::rows::{self};
use crate::{from_micros, now_micros, Backend, NewEvent, Result, Store, StoreError, WriteTx};
use hub_domain::{Decision, Post, PostAction, PostStatus, Thread, ThreadAction};
use serde_json::json;
use sqlx::Row;

// The statements this module sends, by name: a test prepares each on both backends.
pub(crate) const STATEMENTS: &[(&str, &str)] = &[
    (
        "moderation::decide::RECORD_DECISION_INSERT",
        RECORD_DECISION_INSERT,
    ),
    (
        "moderation::decide::DECIDE_THREAD_UPDATE",
        DECIDE_THREAD_UPDATE,
    ),
    (
        "moderation::decide::DECIDE_THREAD_UPDATE_2",
        DECIDE_THREAD_UPDATE_2,
    ),
    (
        "moderation::decide::DECIDE_THREAD_UPDATE_3",
        DECIDE_THREAD_UPDATE_3,
    ),
    (
        "moderation::decide::DECIDE_THREAD_UPDATE_4",
        DECIDE_THREAD_UPDATE_4,
    ),
    (
        "moderation::decide::DECIDE_THREAD_SELECT_2",
        DECIDE_THREAD_SELECT_2,
    ),
    ("moderation::decide::APPEAL_SELECT", APPEAL_SELECT),
    ("moderation::decide::APPEAL_INSERT", APPEAL_INSERT),
    ("moderation::decide::APPEAL_UPDATE", APPEAL_UPDATE),
];
/// Sent on PostgreSQL only.
pub(crate) const POSTGRES_STATEMENTS: &[(&str, &str)] =
    &[("moderation::decide::LOCK_THREAD_POSTS", LOCK_THREAD_POSTS)];

const RECORD_DECISION_INSERT: &str = "INSERT INTO decisions (region, post_id, thread_id, subject_id, moderator_id, action, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
const DECIDE_THREAD_UPDATE: &str = "UPDATE threads SET locked = $1 WHERE id = $2";
const DECIDE_THREAD_UPDATE_2: &str = "UPDATE threads SET pinned = $1 WHERE id = $2";
const LOCK_THREAD_POSTS: &str = "SELECT id FROM posts WHERE thread_id = $1 ORDER BY id FOR UPDATE";
const DECIDE_THREAD_UPDATE_3: &str = "UPDATE threads SET region = $1 WHERE id = $2";
const DECIDE_THREAD_UPDATE_4: &str = "UPDATE posts SET region = $1 WHERE thread_id = $2";
const DECIDE_THREAD_SELECT_2: &str = "SELECT status FROM posts WHERE id = $1";
const APPEAL_SELECT: &str = "SELECT id, region, post_id, thread_id, subject_id, moderator_id, action, reason, created_at FROM decisions \
             WHERE post_id = $1 ORDER BY id DESC LIMIT 1";
const APPEAL_INSERT: &str =
    "INSERT INTO appeals (decision_id, user_id, note, created_at) VALUES ($1, $2, $3, $4)";
const APPEAL_UPDATE: &str = "UPDATE posts SET queued_at = $1 WHERE id = $2";

/// A decision to record.
struct Decided<'a> {
    region: &'a str,
    post_id: Option<i64>,
    thread_id: Option<i64>,
    subject_id: Option<i64>,
    moderator_id: i64,
    action: &'a str,
    reason: &'a str,
}

impl Store {
    /// Records a decision and tells its subject (the author) why.
    async fn record_decision(&self, tx: &mut WriteTx, d: Decided<'_>) -> Result<Decision> {
        let Decided {
            region,
            post_id,
            thread_id,
            subject_id,
            moderator_id,
            action,
            reason,
        } = d;
        let now = now_micros();
        let id: i64 = sqlx::query_scalar(RECORD_DECISION_INSERT)
            .bind(region)
            .bind(post_id)
            .bind(thread_id)
            .bind(subject_id)
            .bind(moderator_id)
            .bind(action)
            .bind(reason)
            .bind(now)
            .fetch_one(&mut *tx.tx)
            .await?;
        let decision = Decision {
            id,
            region: region.to_string(),
            post_id,
            thread_id,
            subject_id,
            moderator_id,
            action: action.to_string(),
            reason: reason.to_string(),
            created_at: from_micros(now),
        };
        if let Some(user) = subject_id {
            // The author is told what was decided and why.
            self.append_event(
                tx,
                &NewEvent {
                    kind: "decision.made",
                    region: Some(region.to_string()),
                    thread_id,
                    post_id,
                    user_id: Some(user),
                    audience: "user",
                    payload: serde_json::to_string(&decision).unwrap_or_default(),
                },
            )
            .await?;
        }
        Ok(decision)
    }

    /// A moderator's decision on a post, with the reason its author sees.
    pub async fn decide_post(
        &self,
        post_id: i64,
        moderator_id: i64,
        action: PostAction,
        reason: &str,
    ) -> Result<(Decision, Post)> {
        let mut tx = self.begin_write().await?;
        let out = self
            .decide_post_in(&mut tx, post_id, moderator_id, action, reason)
            .await?;
        self.commit(tx).await?;
        Ok(out)
    }

    /// The same decision on several posts, all or none: one transaction, which any post that
    /// cannot be decided (removed, missing) rolls back. A post named twice is decided once;
    /// the answer follows the order of first mention.
    pub async fn decide_posts(
        &self,
        post_ids: &[i64],
        moderator_id: i64,
        action: PostAction,
        reason: &str,
    ) -> Result<Vec<(Decision, Post)>> {
        // Posts are taken in id order, as a thread move locks them (no deadlock between two).
        let mut ids = post_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut tx = self.begin_write().await?;
        let mut done = std::collections::HashMap::with_capacity(ids.len());
        for id in ids {
            let d = self
                .decide_post_in(&mut tx, id, moderator_id, action, reason)
                .await?;
            done.insert(id, d);
        }
        self.commit(tx).await?;
        Ok(post_ids.iter().filter_map(|id| done.remove(id)).collect())
    }

    async fn decide_post_in(
        &self,
        tx: &mut WriteTx,
        post_id: i64,
        moderator_id: i64,
        action: PostAction,
        reason: &str,
    ) -> Result<(Decision, Post)> {
        let mut post = rows::post(&self.post_row_in(tx, post_id).await?)?;
        if post.status == PostStatus::Removed {
            return Err(StoreError::Conflict(
                "the post was removed; nothing more can be decided".into(),
            ));
        }
        let before = state_of(&post);
        let event = match action {
            PostAction::Approve | PostAction::Restore => {
                let was = post.status;
                self.set_status(tx, &mut post, PostStatus::Published, None)
                    .await?;
                match was {
                    PostStatus::Pending => "post.approved",
                    PostStatus::Hidden => "post.restored",
                    _ => "post.updated",
                }
            }
            PostAction::Hide => {
                self.set_status(tx, &mut post, PostStatus::Hidden, Some(reason))
                    .await?;
                "post.hidden"
            }
            PostAction::Remove => {
                self.set_status(tx, &mut post, PostStatus::Removed, Some(reason))
                    .await?;
                self.erase_content(tx, &post).await?;
                post.body = None;
                post.body_html = None;
                "post.removed"
            }
        };
        self.dequeue(tx, post_id).await?;
        let decision = self
            .record_decision(
                tx,
                Decided {
                    region: &post.region,
                    post_id: Some(post_id),
                    thread_id: Some(post.thread_id),
                    subject_id: Some(post.author.id),
                    moderator_id,
                    action: action.as_str(),
                    reason,
                },
            )
            .await?;
        self.audit(
            tx,
            Audit {
                region: Some(&post.region),
                actor_id: Some(moderator_id),
                action: action.as_str(),
                object_type: "post",
                object_id: Some(post_id),
                reason: Some(reason),
                before: Some(before),
                after: Some(state_of(&post)),
            },
        )
        .await?;
        self.append_event(tx, &public(post_event(event, &post)))
            .await?;
        self.queue_event(tx, &post.region, post_id, "decided")
            .await?;
        Ok((decision, post))
    }
    /// A moderator's decision on a thread: lock, unlock, pin, unpin, or move to `to_region`.
    pub async fn decide_thread(
        &self,
        thread_id: i64,
        moderator_id: i64,
        action: ThreadAction,
        reason: &str,
        to_region: Option<&str>,
    ) -> Result<(Decision, Thread)> {
        let mut tx = self.begin_write().await?;
        let before = self.thread_in(&mut tx, thread_id).await?;
        let region = before.region.clone();
        match action {
            ThreadAction::Lock | ThreadAction::Unlock => {
                sqlx::query(DECIDE_THREAD_UPDATE)
                    .bind(i64::from(action == ThreadAction::Lock))
                    .bind(thread_id)
                    .execute(&mut *tx.tx)
                    .await?;
            }
            ThreadAction::Pin | ThreadAction::Unpin => {
                sqlx::query(DECIDE_THREAD_UPDATE_2)
                    .bind(i64::from(action == ThreadAction::Pin))
                    .bind(thread_id)
                    .execute(&mut *tx.tx)
                    .await?;
            }
            ThreadAction::Move => {
                let to = to_region.ok_or(StoreError::Invalid {
                    field: "region",
                    message: "moving a thread needs the region to move it to".into(),
                })?;
                // PostgreSQL: the thread's posts are locked (in id order) before its row. A
                // post's edit, endorsement or decision locks the post, then the thread (its page
                // version, migration 0007): taking the thread first here could deadlock with it.
                if self.backend == Backend::Postgres {
                    sqlx::query(LOCK_THREAD_POSTS)
                        .bind(thread_id)
                        .fetch_all(&mut *tx.tx)
                        .await?;
                }
                sqlx::query(DECIDE_THREAD_UPDATE_3)
                    .bind(to)
                    .bind(thread_id)
                    .execute(&mut *tx.tx)
                    .await?;
                sqlx::query(DECIDE_THREAD_UPDATE_4)
                    .bind(to)
                    .bind(thread_id)
                    .execute(&mut *tx.tx)
                    .await?;
            }
        }
        let after = self.thread_in(&mut tx, thread_id).await?;
        let decision = self
            .record_decision(
                &mut tx,
                Decided {
                    region: &region,
                    post_id: None,
                    thread_id: Some(thread_id),
                    subject_id: Some(before.author.id),
                    moderator_id,
                    action: action.as_str(),
                    reason,
                },
            )
            .await?;
        self.audit(&mut tx, Audit {
            region: Some(&region),
            actor_id: Some(moderator_id),
            action: action.as_str(),
            object_type: "thread",
            object_id: Some(thread_id),
            reason: Some(reason),
            before: Some(json!({"region": before.region, "locked": before.locked, "pinned": before.pinned})),
            after: Some(json!({"region": after.region, "locked": after.locked, "pinned": after.pinned})),
        })
        .await?;
        // The thread goes out as its opening post may: to its author and the region's
        // moderators only while that post is not published.
        // (Read without locking the post: the thread is locked already, and posts are locked
        // before their thread everywhere else.)
        let opening_status = match after.opening_post_id {
            Some(op) => {
                let s: String = sqlx::query_scalar(DECIDE_THREAD_SELECT_2)
                    .bind(op)
                    .fetch_one(&mut *tx.tx)
                    .await?;
                PostStatus::parse(&s).ok_or_else(|| rows::decode_err("status", &s))?
            }
            None => PostStatus::Published,
        };
        for r in [
            Some(region.clone()),
            (after.region != region).then(|| after.region.clone()),
        ]
        .into_iter()
        .flatten()
        {
            self.append_event(
                &mut tx,
                &NewEvent {
                    kind: "thread.updated",
                    region: Some(r),
                    thread_id: Some(thread_id),
                    post_id: after.opening_post_id,
                    user_id: Some(after.author.id),
                    audience: crate::posts::audience(opening_status),
                    payload: serde_json::to_string(&after).unwrap_or_default(),
                },
            )
            .await?;
        }
        self.commit(tx).await?;
        Ok((decision, after))
    }

    /// The author's appeal of the latest decision on their post: once per decision; the post
    /// goes back to the queue.
    pub async fn appeal(&self, post_id: i64, user_id: i64, note: &str) -> Result<Decision> {
        let mut tx = self.begin_write().await?;
        let post = rows::post(&self.post_row_in(&mut tx, post_id).await?)?;
        if post.author.id != user_id {
            return Err(StoreError::Forbidden(
                "only the post's author may appeal".into(),
            ));
        }
        if post.status == PostStatus::Removed {
            return Err(StoreError::Conflict(
                "the post was removed; there is nothing left to appeal".into(),
            ));
        }
        let row = sqlx::query(APPEAL_SELECT)
            .bind(post_id)
            .fetch_optional(&mut *tx.tx)
            .await?
            .ok_or_else(|| {
                StoreError::Conflict("there is no decision on this post to appeal".into())
            })?;
        let decision = Decision {
            id: row.try_get("id")?,
            region: row.try_get("region")?,
            post_id: row.try_get("post_id")?,
            thread_id: row.try_get("thread_id")?,
            subject_id: row.try_get("subject_id")?,
            moderator_id: row.try_get("moderator_id")?,
            action: row.try_get("action")?,
            reason: row.try_get("reason")?,
            created_at: from_micros(row.try_get("created_at")?),
        };
        if decision.action == "remove" {
            return Err(StoreError::Conflict(
                "a removal erased the content; it cannot be appealed here".into(),
            ));
        }
        sqlx::query(APPEAL_INSERT)
            .bind(decision.id)
            .bind(user_id)
            .bind(note)
            .bind(now_micros())
            .execute(&mut *tx.tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                e if e.is_unique_violation() => {
                    StoreError::Conflict("this decision was already appealed".into())
                }
                e => e,
            })?;
        sqlx::query(APPEAL_UPDATE)
            .bind(now_micros())
            .bind(post_id)
            .execute(&mut *tx.tx)
            .await?;
        self.audit(
            &mut tx,
            Audit {
                region: Some(&post.region),
                actor_id: Some(user_id),
                action: "appeal",
                object_type: "decision",
                object_id: Some(decision.id),
                reason: Some(note),
                before: None,
                after: None,
            },
        )
        .await?;
        self.queue_event(&mut tx, &post.region, post_id, "appealed")
            .await?;
        self.commit(tx).await?;
        Ok(decision)
    }
}
