//! A post's status and its place on the queue, kept with the thread's counters.

use crate::{now_micros, NewEvent, Result, Store, WriteTx};
use hub_domain::{Post, PostStatus};
use serde_json::json;

// The statements this module sends, by name: a test prepares each on both backends.
pub(crate) const STATEMENTS: &[(&str, &str)] = &[
    ("moderation::status::SET_STATUS_UPDATE", SET_STATUS_UPDATE),
    (
        "moderation::status::SET_STATUS_UPDATE_2",
        SET_STATUS_UPDATE_2,
    ),
    ("moderation::status::DEQUEUE_UPDATE", DEQUEUE_UPDATE),
    ("moderation::status::DEQUEUE_UPDATE_2", DEQUEUE_UPDATE_2),
    ("moderation::status::ENQUEUE_UPDATE", ENQUEUE_UPDATE),
    (
        "moderation::status::ERASE_CONTENT_UPDATE",
        ERASE_CONTENT_UPDATE,
    ),
    (
        "moderation::status::ERASE_CONTENT_DELETE",
        ERASE_CONTENT_DELETE,
    ),
];

const SET_STATUS_UPDATE: &str = "UPDATE posts SET status = $1, status_reason = $2 WHERE id = $3";
const SET_STATUS_UPDATE_2: &str = "UPDATE threads SET post_count = post_count + $1, \
                 endorsements = endorsements + $1 * $2 WHERE id = $3";
const DEQUEUE_UPDATE: &str = "UPDATE flags SET open = 0 WHERE post_id = $1 AND open = 1";
const DEQUEUE_UPDATE_2: &str =
    "UPDATE posts SET queued_at = NULL, assigned_to = NULL, open_flags = 0, flag_weight = 0, \
             personal_data_flags = 0, urgency = 0 WHERE id = $1";
const ENQUEUE_UPDATE: &str = "UPDATE posts SET queued_at = $1 WHERE id = $2";
const ERASE_CONTENT_UPDATE: &str = "UPDATE posts SET body = '', body_html = '' WHERE id = $1";
const ERASE_CONTENT_DELETE: &str = "DELETE FROM post_revisions WHERE post_id = $1";

impl Store {
    /// Tells moderators of a region that its queue changed.
    pub(crate) async fn queue_event(
        &self,
        tx: &mut WriteTx,
        region: &str,
        post_id: i64,
        what: &str,
    ) -> Result<()> {
        self.append_event(
            tx,
            &NewEvent {
                kind: "queue.updated",
                region: Some(region.to_string()),
                thread_id: None,
                post_id: Some(post_id),
                user_id: None,
                audience: "moderators",
                payload: json!({"post_id": post_id, "change": what}).to_string(),
            },
        )
        .await
    }
    /// Changes a post's status, keeping thread counts right: a thread counts the posts, and
    /// the endorsements, of its published posts only.
    pub(crate) async fn set_status(
        &self,
        tx: &mut WriteTx,
        post: &mut Post,
        status: PostStatus,
        reason: Option<&str>,
    ) -> Result<()> {
        let delta = i64::from(status == PostStatus::Published)
            - i64::from(post.status == PostStatus::Published);
        sqlx::query(SET_STATUS_UPDATE)
            .bind(status.as_str())
            .bind(reason)
            .bind(post.id)
            .execute(&mut *tx.tx)
            .await?;
        if delta != 0 {
            sqlx::query(SET_STATUS_UPDATE_2)
                .bind(delta)
                .bind(post.endorsements)
                .bind(post.thread_id)
                .execute(&mut *tx.tx)
                .await?;
        }
        post.status = status;
        post.status_reason = reason.map(str::to_string);
        Ok(())
    }
    /// Takes a post off the queue and closes its flags.
    pub(crate) async fn dequeue(&self, tx: &mut WriteTx, post_id: i64) -> Result<()> {
        sqlx::query(DEQUEUE_UPDATE)
            .bind(post_id)
            .execute(&mut *tx.tx)
            .await?;
        sqlx::query(DEQUEUE_UPDATE_2)
            .bind(post_id)
            .execute(&mut *tx.tx)
            .await?;
        Ok(())
    }

    /// Puts a post on its region's queue (pre-moderation), in the transaction that made it.
    pub(crate) async fn enqueue(&self, tx: &mut WriteTx, post: &Post) -> Result<()> {
        sqlx::query(ENQUEUE_UPDATE)
            .bind(now_micros())
            .bind(post.id)
            .execute(&mut *tx.tx)
            .await?;
        self.queue_event(tx, &post.region, post.id, "pending").await
    }
    /// Erases a post's content and history, keeping its place in the tree.
    pub(crate) async fn erase_content(&self, tx: &mut WriteTx, post: &Post) -> Result<()> {
        sqlx::query(ERASE_CONTENT_UPDATE)
            .bind(post.id)
            .execute(&mut *tx.tx)
            .await?;
        sqlx::query(ERASE_CONTENT_DELETE)
            .bind(post.id)
            .execute(&mut *tx.tx)
            .await?;
        self.reindex_removed(tx, post).await
    }
}
