//! Flags: anyone may flag a post; enough flags hide it pending review.

use super::{public, state_of, FlagOutcome};
use crate::audit::Audit;
use crate::posts::post_event;
use crate::rows::{self};
use crate::{now_micros, NewEvent, Result, Store, StoreError, WriteTx};
use hub_domain::{FlagReason, PostStatus};
use serde_json::json;
use sqlx::Row;

// The statements this module sends, by name: a test prepares each on both backends.
pub(crate) const STATEMENTS: &[(&str, &str)] = &[
    ("moderation::flags::FLAG_POST_INSERT", FLAG_POST_INSERT),
    ("moderation::flags::FLAG_POST_UPDATE", FLAG_POST_UPDATE),
    ("moderation::flags::FLAG_POST_SELECT", FLAG_POST_SELECT),
    (
        "moderation::flags::KEPT_BY_MODERATOR_SELECT",
        KEPT_BY_MODERATOR_SELECT,
    ),
];

const FLAG_POST_INSERT: &str = "INSERT INTO flags (post_id, user_id, reason, note, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id";
const FLAG_POST_UPDATE: &str =
    "UPDATE posts SET open_flags = open_flags + 1, flag_weight = flag_weight + $1, \
             personal_data_flags = personal_data_flags + $2, \
             urgency = (personal_data_flags + $2) * $3 + flag_weight + $1, \
             queued_at = COALESCE(queued_at, $4) WHERE id = $5 RETURNING open_flags";
const FLAG_POST_SELECT: &str =
    "SELECT CAST(COUNT(*) AS BIGINT) FROM flags f JOIN users u ON u.id = f.user_id \
                 WHERE f.post_id = $1 AND f.open = 1 AND u.created_at <= $2";
const KEPT_BY_MODERATOR_SELECT: &str = "SELECT CAST(CASE WHEN EXISTS (SELECT 1 FROM posts p \
             JOIN decisions d ON d.post_id = p.id AND d.action IN ('approve', 'restore') \
             AND d.created_at >= COALESCE(p.edited_at, p.created_at) \
             JOIN flags f ON f.post_id = p.id AND f.open = 0 \
             AND f.created_at >= COALESCE(p.edited_at, p.created_at) \
             AND f.created_at <= d.created_at \
             WHERE p.id = $1) THEN 1 ELSE 0 END AS BIGINT)";

/// Urgency of a queued post: personal data first, then flag weight.
const PERSONAL_DATA_URGENCY: i64 = 1_000_000;

impl Store {
    /// Flags a post. One open flag per user per post; at `threshold` open flags a published
    /// post is hidden pending review.
    /// Flags a post; hides it pending review once `threshold` open flags of accounts created
    /// before `established_before` (microseconds) are on it.
    pub async fn flag_post(
        &self,
        post_id: i64,
        user_id: i64,
        reason: FlagReason,
        note: Option<&str>,
        threshold: i64,
        established_before: i64,
    ) -> Result<FlagOutcome> {
        let mut tx = self.begin_write().await?;
        let mut post = rows::post(&self.post_row_in(&mut tx, post_id).await?)?;
        if post.status == PostStatus::Removed {
            return Err(StoreError::Conflict("the post was removed".into()));
        }
        if post.author.id == user_id {
            return Err(StoreError::Conflict("you cannot flag your own post".into()));
        }
        let now = now_micros();
        let flag_id: i64 = sqlx::query_scalar(FLAG_POST_INSERT)
            .bind(post_id)
            .bind(user_id)
            .bind(reason.as_str())
            .bind(note)
            .bind(now)
            .fetch_one(&mut *tx.tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                e if e.is_unique_violation() => {
                    StoreError::Conflict("you have already flagged this post".into())
                }
                e => e,
            })?;
        let pd = i64::from(reason == FlagReason::PersonalData);
        let row = sqlx::query(FLAG_POST_UPDATE)
            .bind(reason.weight())
            .bind(pd)
            .bind(PERSONAL_DATA_URGENCY)
            .bind(now)
            .bind(post_id)
            .fetch_one(&mut *tx.tx)
            .await?;
        let open_flags: i64 = row.try_get("open_flags")?;
        self.audit(
            &mut tx,
            Audit {
                region: Some(&post.region),
                actor_id: Some(user_id),
                action: "flag",
                object_type: "post",
                object_id: Some(post_id),
                reason: Some(reason.as_str()),
                before: None,
                after: Some(json!({"open_flags": open_flags, "note": note})),
            },
        )
        .await?;
        self.append_event(
            &mut tx,
            &NewEvent {
                kind: "flag.created",
                region: Some(post.region.clone()),
                thread_id: Some(post.thread_id),
                post_id: Some(post_id),
                user_id: None,
                audience: "moderators",
                payload: json!({"flag_id": flag_id, "post_id": post_id, "reason": reason, "open_flags": open_flags}).to_string(),
            },
        )
        .await?;
        // A post a moderator kept is not hidden by flags again: they queue it for another
        // review, and it stays up until a moderator decides.
        // Only flags of established accounts (created before `established_before`) count
        // toward hiding: three accounts made the same day cannot take any post down. A new
        // account's flag still queues the post for review.
        let counted = if post.status == PostStatus::Published && open_flags >= threshold {
            sqlx::query_scalar::<_, i64>(FLAG_POST_SELECT)
                .bind(post_id)
                .bind(established_before)
                .fetch_one(&mut *tx.tx)
                .await?
        } else {
            0
        };
        let auto_hidden = counted >= threshold && !self.kept_by_moderator(&mut tx, post_id).await?;
        if auto_hidden {
            let before = state_of(&post);
            let reason_text =
                format!("hidden automatically after {counted} flags, pending a moderator's review");
            self.set_status(&mut tx, &mut post, PostStatus::Hidden, Some(&reason_text))
                .await?;
            self.audit(
                &mut tx,
                Audit {
                    region: Some(&post.region),
                    actor_id: None,
                    action: "auto_hide",
                    object_type: "post",
                    object_id: Some(post_id),
                    reason: Some(&reason_text),
                    before: Some(before),
                    after: Some(state_of(&post)),
                },
            )
            .await?;
            self.append_event(&mut tx, &public(post_event("post.hidden", &post)))
                .await?;
        }
        self.commit(tx).await?;
        Ok(FlagOutcome {
            flag_id,
            open_flags,
            auto_hidden,
        })
    }
    /// Whether a moderator kept the post against flags: approved or restored it after flags
    /// were raised on its current text. Flags close when a moderator decides, and anyone may
    /// flag again afterwards: without this, the few accounts that had a post hidden could hide
    /// it again at once, however often a moderator restored it. An edit makes a new text, and
    /// approving a post out of pre-moderation (before anyone could flag it) keeps nothing.
    async fn kept_by_moderator(&self, tx: &mut WriteTx, post_id: i64) -> Result<bool> {
        let kept: i64 = sqlx::query_scalar(KEPT_BY_MODERATOR_SELECT)
            .bind(post_id)
            .fetch_one(&mut *tx.tx)
            .await?;
        Ok(kept != 0)
    }
}
