//! Moderation: flags, the queue, decisions, appeals, suspensions, and the audit log.
//!
//! Every change here writes its audit line in the same transaction, with the state before and
//! after, so the log cannot miss a change that happened. The log table is append-only in the
//! database itself (triggers refuse updates and deletes).

use crate::posts::post_event;
use crate::rows::{self, AUTHOR_COLUMNS, POST_COLUMNS};
use crate::{from_micros, now_micros, Backend, NewEvent, Page, Result, Store, StoreError, WriteTx};
use hub_domain::{
    AuditEntry, Decision, FlagReason, ModeratorNote, Post, PostAction, PostStatus, QueueItem,
    ReasonCount, Suspension, Thread, ThreadAction,
};
use serde_json::json;
use sqlx::Row;

/// Urgency of a queued post: personal data first, then flag weight.
const PERSONAL_DATA_URGENCY: i64 = 1_000_000;

/// What flagging did.
#[derive(Debug, Clone)]
pub struct FlagOutcome {
    /// The flag's id.
    pub flag_id: i64,
    /// Open flags on the post now.
    pub open_flags: i64,
    /// Whether this flag crossed the threshold and hid the post.
    pub auto_hidden: bool,
}

/// What a queue page shows besides the posts.
#[derive(Default)]
struct QueueDetails {
    reasons: std::collections::HashMap<i64, Vec<ReasonCount>>,
    notes: std::collections::HashMap<i64, Vec<ModeratorNote>>,
    appeals: std::collections::HashMap<i64, String>,
}

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

/// An audit line to write.
pub(crate) struct Audit<'a> {
    pub region: Option<&'a str>,
    pub actor_id: Option<i64>,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: Option<i64>,
    pub reason: Option<&'a str>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

fn state_of(p: &Post) -> serde_json::Value {
    json!({"status": p.status, "status_reason": p.status_reason})
}

impl Store {
    pub(crate) async fn audit(&self, tx: &mut WriteTx, a: Audit<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (region, actor_id, action, object_type, object_id, reason, before, after, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(a.region)
        .bind(a.actor_id)
        .bind(a.action)
        .bind(a.object_type)
        .bind(a.object_id)
        .bind(a.reason)
        .bind(a.before.map(|v| v.to_string()))
        .bind(a.after.map(|v| v.to_string()))
        .bind(now_micros())
        .execute(&mut *tx.tx)
        .await?;
        Ok(())
    }

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
        let flag_id: i64 = sqlx::query_scalar(
            "INSERT INTO flags (post_id, user_id, reason, note, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(post_id)
        .bind(user_id)
        .bind(reason.as_str())
        .bind(note)
        .bind(now)
        .fetch_one(&mut *tx.tx)
        .await
        .map_err(|e| match StoreError::from(e) {
            e if e.is_unique_violation() => StoreError::Conflict("you have already flagged this post".into()),
            e => e,
        })?;
        let pd = i64::from(reason == FlagReason::PersonalData);
        let row = sqlx::query(
            "UPDATE posts SET open_flags = open_flags + 1, flag_weight = flag_weight + $1, \
             personal_data_flags = personal_data_flags + $2, \
             urgency = (personal_data_flags + $2) * $3 + flag_weight + $1, \
             queued_at = COALESCE(queued_at, $4) WHERE id = $5 RETURNING open_flags",
        )
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
            sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM flags f JOIN users u ON u.id = f.user_id \
                 WHERE f.post_id = $1 AND f.open = 1 AND u.created_at <= $2",
            )
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
        sqlx::query("UPDATE posts SET status = $1, status_reason = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(reason)
            .bind(post.id)
            .execute(&mut *tx.tx)
            .await?;
        if delta != 0 {
            sqlx::query(
                "UPDATE threads SET post_count = post_count + $1, \
                 endorsements = endorsements + $1 * $2 WHERE id = $3",
            )
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

    /// Whether a moderator kept the post against flags: approved or restored it after flags
    /// were raised on its current text. Flags close when a moderator decides, and anyone may
    /// flag again afterwards: without this, the few accounts that had a post hidden could hide
    /// it again at once, however often a moderator restored it. An edit makes a new text, and
    /// approving a post out of pre-moderation (before anyone could flag it) keeps nothing.
    async fn kept_by_moderator(&self, tx: &mut WriteTx, post_id: i64) -> Result<bool> {
        let kept: i64 = sqlx::query_scalar(
            "SELECT CAST(CASE WHEN EXISTS (SELECT 1 FROM posts p \
             JOIN decisions d ON d.post_id = p.id AND d.action IN ('approve', 'restore') \
             AND d.created_at >= COALESCE(p.edited_at, p.created_at) \
             JOIN flags f ON f.post_id = p.id AND f.open = 0 \
             AND f.created_at >= COALESCE(p.edited_at, p.created_at) \
             AND f.created_at <= d.created_at \
             WHERE p.id = $1) THEN 1 ELSE 0 END AS BIGINT)",
        )
        .bind(post_id)
        .fetch_one(&mut *tx.tx)
        .await?;
        Ok(kept != 0)
    }

    /// Takes a post off the queue and closes its flags.
    pub(crate) async fn dequeue(&self, tx: &mut WriteTx, post_id: i64) -> Result<()> {
        sqlx::query("UPDATE flags SET open = 0 WHERE post_id = $1 AND open = 1")
            .bind(post_id)
            .execute(&mut *tx.tx)
            .await?;
        sqlx::query(
            "UPDATE posts SET queued_at = NULL, assigned_to = NULL, open_flags = 0, flag_weight = 0, \
             personal_data_flags = 0, urgency = 0 WHERE id = $1",
        )
        .bind(post_id)
        .execute(&mut *tx.tx)
        .await?;
        Ok(())
    }

    /// Puts a post on its region's queue (pre-moderation), in the transaction that made it.
    pub(crate) async fn enqueue(&self, tx: &mut WriteTx, post: &Post) -> Result<()> {
        sqlx::query("UPDATE posts SET queued_at = $1 WHERE id = $2")
            .bind(now_micros())
            .bind(post.id)
            .execute(&mut *tx.tx)
            .await?;
        self.queue_event(tx, &post.region, post.id, "pending").await
    }

    /// A region's queue, most urgent first: personal-data flags, then flag weight, then age.
    pub async fn queue(
        &self,
        region: &str,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Page<QueueItem>> {
        let mut args = crate::threads::Args::default();
        let region_p = args.push_text(region.to_string());
        let mut sql = format!(
            "SELECT {POST_COLUMNS}, p.open_flags, p.flag_weight, p.personal_data_flags, p.urgency, p.queued_at, \
             p.assigned_to, {AUTHOR_COLUMNS} FROM posts p JOIN users u ON u.id = p.author_id \
             WHERE p.region = {region_p} AND p.queued_at IS NOT NULL"
        );
        if let Some(c) = cursor {
            let parts = rows::decode_cursor(c, 3)?;
            let urg = args.push_int(rows::cursor_int(&parts[0])?);
            let q = args.push_int(rows::cursor_int(&parts[1])?);
            let id = args.push_int(rows::cursor_int(&parts[2])?);
            sql.push_str(&format!(
                " AND (p.urgency < {urg} OR (p.urgency = {urg} AND (p.queued_at > {q} OR (p.queued_at = {q} AND p.id > {id}))))"
            ));
        }
        let limit_p = args.push_int(limit + 1);
        sql.push_str(&format!(
            " ORDER BY p.urgency DESC, p.queued_at, p.id LIMIT {limit_p}"
        ));
        let found = args
            .bind_all(sqlx::query(&sql))
            .fetch_all(&self.pool)
            .await?;
        let n = usize::try_from(limit).unwrap_or(0);
        let ids: Vec<i64> = found
            .iter()
            .take(n)
            .map(|r| r.try_get::<i64, _>("id"))
            .collect::<std::result::Result<_, _>>()?;
        let mut details = self.queue_details(&ids).await?;
        let mut items = Vec::with_capacity(found.len().min(n));
        let mut last = None;
        for r in found.iter().take(n) {
            let post = rows::post(r)?;
            let queued_at: i64 = r.try_get("queued_at")?;
            last = Some((r.try_get::<i64, _>("urgency")?, queued_at, post.id));
            items.push(QueueItem {
                open_flags: r.try_get("open_flags")?,
                flag_weight: r.try_get("flag_weight")?,
                personal_data_flags: r.try_get("personal_data_flags")?,
                reasons: details.reasons.remove(&post.id).unwrap_or_default(),
                queued_at: from_micros(queued_at),
                assigned_to: r.try_get("assigned_to")?,
                notes: details.notes.remove(&post.id).unwrap_or_default(),
                appeal: details.appeals.remove(&post.id),
                post,
            });
        }
        let next_cursor = match last {
            Some((u, q, i)) if found.len() > n => Some(rows::encode_cursor(&[
                u.to_string(),
                q.to_string(),
                i.to_string(),
            ])),
            _ => None,
        };
        Ok(Page { items, next_cursor })
    }

    /// Flag reasons, notes and appeals of a page of queued posts: three queries per page,
    /// whatever its size.
    async fn queue_details(&self, ids: &[i64]) -> Result<QueueDetails> {
        let mut d = QueueDetails::default();
        if ids.is_empty() {
            return Ok(d);
        }
        // Ids are integers from the database: safe to inline.
        let list = ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let reasons = sqlx::query(&format!(
            "SELECT post_id, reason, CAST(COUNT(*) AS BIGINT) AS n FROM flags \
             WHERE post_id IN ({list}) AND open = 1 GROUP BY post_id, reason ORDER BY post_id, reason"
        ))
        .fetch_all(&self.pool)
        .await?;
        for r in &reasons {
            let reason: String = r.try_get("reason")?;
            d.reasons
                .entry(r.try_get("post_id")?)
                .or_default()
                .push(ReasonCount {
                    reason: FlagReason::parse(&reason)
                        .ok_or_else(|| rows::decode_err("reason", &reason))?,
                    count: r.try_get("n")?,
                });
        }
        let notes = sqlx::query(&format!(
            "SELECT post_id, moderator_id, note, created_at FROM moderation_notes WHERE post_id IN ({list}) ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        for r in &notes {
            d.notes
                .entry(r.try_get("post_id")?)
                .or_default()
                .push(ModeratorNote {
                    moderator_id: r.try_get("moderator_id")?,
                    note: r.try_get("note")?,
                    created_at: from_micros(r.try_get("created_at")?),
                });
        }
        // The appeal of each post's latest decision, if any.
        let appeals = sqlx::query(&format!(
            "SELECT d.post_id, a.note FROM appeals a JOIN decisions d ON d.id = a.decision_id \
             WHERE d.post_id IN ({list}) AND d.id = (SELECT MAX(d2.id) FROM decisions d2 WHERE d2.post_id = d.post_id)"
        ))
        .fetch_all(&self.pool)
        .await?;
        for r in &appeals {
            d.appeals.insert(r.try_get("post_id")?, r.try_get("note")?);
        }
        Ok(d)
    }

    /// "I take this": assigns a queued post to a moderator.
    pub async fn assign(&self, post_id: i64, moderator_id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let post = rows::post(&self.post_row_in(&mut tx, post_id).await?)?;
        let done = sqlx::query(
            "UPDATE posts SET assigned_to = $1 WHERE id = $2 AND queued_at IS NOT NULL",
        )
        .bind(moderator_id)
        .bind(post_id)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Err(StoreError::Conflict("the post is not in the queue".into()));
        }
        self.audit(
            &mut tx,
            Audit {
                region: Some(&post.region),
                actor_id: Some(moderator_id),
                action: "assign",
                object_type: "post",
                object_id: Some(post_id),
                reason: None,
                before: None,
                after: Some(json!({"assigned_to": moderator_id})),
            },
        )
        .await?;
        self.queue_event(&mut tx, &post.region, post_id, "assigned")
            .await?;
        self.commit(tx).await
    }

    /// Adds a moderator's note to a post.
    pub async fn add_note(&self, post_id: i64, moderator_id: i64, note: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let post = rows::post(&self.post_row_in(&mut tx, post_id).await?)?;
        sqlx::query("INSERT INTO moderation_notes (post_id, moderator_id, note, created_at) VALUES ($1, $2, $3, $4)")
            .bind(post_id)
            .bind(moderator_id)
            .bind(note)
            .bind(now_micros())
            .execute(&mut *tx.tx)
            .await?;
        self.audit(
            &mut tx,
            Audit {
                region: Some(&post.region),
                actor_id: Some(moderator_id),
                action: "note",
                object_type: "post",
                object_id: Some(post_id),
                reason: Some(note),
                before: None,
                after: None,
            },
        )
        .await?;
        self.queue_event(&mut tx, &post.region, post_id, "note")
            .await?;
        self.commit(tx).await
    }

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
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO decisions (region, post_id, thread_id, subject_id, moderator_id, action, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
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

    /// Erases a post's content and history, keeping its place in the tree.
    pub(crate) async fn erase_content(&self, tx: &mut WriteTx, post: &Post) -> Result<()> {
        sqlx::query("UPDATE posts SET body = '', body_html = '' WHERE id = $1")
            .bind(post.id)
            .execute(&mut *tx.tx)
            .await?;
        sqlx::query("DELETE FROM post_revisions WHERE post_id = $1")
            .bind(post.id)
            .execute(&mut *tx.tx)
            .await?;
        self.reindex_removed(tx, post).await
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
                sqlx::query("UPDATE threads SET locked = $1 WHERE id = $2")
                    .bind(i64::from(action == ThreadAction::Lock))
                    .bind(thread_id)
                    .execute(&mut *tx.tx)
                    .await?;
            }
            ThreadAction::Pin | ThreadAction::Unpin => {
                sqlx::query("UPDATE threads SET pinned = $1 WHERE id = $2")
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
                    sqlx::query("SELECT id FROM posts WHERE thread_id = $1 ORDER BY id FOR UPDATE")
                        .bind(thread_id)
                        .fetch_all(&mut *tx.tx)
                        .await?;
                }
                sqlx::query("UPDATE threads SET region = $1 WHERE id = $2")
                    .bind(to)
                    .bind(thread_id)
                    .execute(&mut *tx.tx)
                    .await?;
                sqlx::query("UPDATE posts SET region = $1 WHERE thread_id = $2")
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
                let s: String = sqlx::query_scalar("SELECT status FROM posts WHERE id = $1")
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
        let row = sqlx::query(
            "SELECT id, region, post_id, thread_id, subject_id, moderator_id, action, reason, created_at FROM decisions \
             WHERE post_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(post_id)
        .fetch_optional(&mut *tx.tx)
        .await?
        .ok_or_else(|| StoreError::Conflict("there is no decision on this post to appeal".into()))?;
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
        sqlx::query(
            "INSERT INTO appeals (decision_id, user_id, note, created_at) VALUES ($1, $2, $3, $4)",
        )
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
        sqlx::query("UPDATE posts SET queued_at = $1 WHERE id = $2")
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

    /// Suspends a user until `until` (microseconds), imposed in `region` (None: by an admin,
    /// everywhere).
    pub async fn suspend(
        &self,
        user_id: i64,
        until: i64,
        reason: &str,
        by: i64,
        region: Option<&str>,
    ) -> Result<Suspension> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO suspensions (user_id, until, reason, by_id, created_at, region) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(user_id)
            .bind(until)
            .bind(reason)
            .bind(by)
            .bind(now_micros())
            .bind(region)
            .execute(&mut *tx.tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Db(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => StoreError::NotFound("user"),
                e => e,
            })?;
        let s = Suspension {
            user_id,
            until: from_micros(until),
            reason: reason.to_string(),
            region: region.map(str::to_string),
        };
        self.audit(
            &mut tx,
            Audit {
                region,
                actor_id: Some(by),
                action: "suspend",
                object_type: "user",
                object_id: Some(user_id),
                reason: Some(reason),
                before: None,
                after: Some(json!({"until": s.until})),
            },
        )
        .await?;
        self.append_event(
            &mut tx,
            &NewEvent {
                kind: "suspension.created",
                region: region.map(str::to_string),
                thread_id: None,
                post_id: None,
                user_id: Some(user_id),
                audience: "user",
                payload: serde_json::to_string(&s).unwrap_or_default(),
            },
        )
        .await?;
        self.commit(tx).await?;
        Ok(s)
    }

    /// Lifts a user's suspensions in force; true when there was one. `by` is the lifter (None:
    /// the operator, from the command line). `scope` is the regions
    /// the lifter moderates (None: an admin, any suspension): when any suspension in force was
    /// imposed outside it (or by an admin), nothing is lifted and the answer is Forbidden.
    /// Each region whose suspensions were lifted gets its audit line.
    pub async fn lift_suspension(
        &self,
        user_id: i64,
        by: Option<i64>,
        scope: Option<&[String]>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let now = now_micros();
        let lock = if self.backend == Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let found = sqlx::query(&format!(
            "SELECT id, region FROM suspensions WHERE user_id = $1 AND lifted_at IS NULL AND until > $2 ORDER BY id{lock}"
        ))
        .bind(user_id)
        .bind(now)
        .fetch_all(&mut *tx.tx)
        .await?;
        let mut by_region: std::collections::BTreeMap<Option<String>, Vec<i64>> =
            std::collections::BTreeMap::new();
        for r in &found {
            by_region
                .entry(r.try_get("region")?)
                .or_default()
                .push(r.try_get("id")?);
        }
        if by_region.is_empty() {
            return Ok(false);
        }
        if let Some(regions) = scope {
            let outside = by_region
                .keys()
                .any(|r| !r.as_ref().is_some_and(|r| regions.contains(r)));
            if outside {
                return Err(StoreError::Forbidden(
                    "this suspension was imposed outside the regions you moderate".into(),
                ));
            }
        }
        // Exactly the suspensions read above (locked on PostgreSQL), not one imposed since.
        // Ids are integers from the database: safe to inline.
        let list = by_region
            .values()
            .flatten()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        sqlx::query(&format!(
            "UPDATE suspensions SET lifted_at = $1 WHERE id IN ({list})"
        ))
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        for (region, ids) in &by_region {
            self.audit(
                &mut tx,
                Audit {
                    region: region.as_deref(),
                    actor_id: by,
                    action: "lift_suspension",
                    object_type: "user",
                    object_id: Some(user_id),
                    reason: None,
                    before: None,
                    after: Some(json!({"suspension_ids": ids})),
                },
            )
            .await?;
        }
        self.commit(tx).await?;
        Ok(true)
    }

    /// The suspension in force that keeps a user from acting in `region` (one everywhere, or
    /// one imposed in that region), if any: the latest ending. With `region` None, only a
    /// suspension everywhere counts.
    pub async fn suspension_in(
        &self,
        user_id: i64,
        region: Option<&str>,
    ) -> Result<Option<Suspension>> {
        let row = sqlx::query(
            "SELECT until, reason, region FROM suspensions WHERE user_id = $1 AND lifted_at IS NULL AND until > $2 \
             AND (region IS NULL OR region = $3) ORDER BY until DESC LIMIT 1",
        )
        .bind(user_id)
        .bind(now_micros())
        .bind(region)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some(Suspension {
                user_id,
                until: from_micros(r.try_get("until")?),
                reason: r.try_get("reason")?,
                region: r.try_get("region")?,
            })),
            None => Ok(None),
        }
    }

    /// An admin's grant or revocation of a role, with its audit line in the same transaction
    /// (a role never changes unlogged).
    pub async fn change_role(
        &self,
        admin_id: i64,
        user_id: i64,
        granted: bool,
        role: &hub_domain::Role,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if granted {
            self.grant_role_in(&mut tx, user_id, role).await?;
        } else {
            self.revoke_role_in(&mut tx, user_id, role).await?;
        }
        self.audit(
            &mut tx,
            Audit {
                region: role.region.as_deref(),
                actor_id: Some(admin_id),
                action: if granted { "grant_role" } else { "revoke_role" },
                object_type: "user",
                object_id: Some(user_id),
                reason: None,
                before: None,
                after: Some(json!(role)),
            },
        )
        .await?;
        self.commit(tx).await
    }

    /// The audit log of a region, newest first.
    pub async fn audit_log(
        &self,
        region: &str,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Page<AuditEntry>> {
        let before = match cursor {
            Some(c) => rows::cursor_int(&rows::decode_cursor(c, 1)?[0])?,
            None => i64::MAX,
        };
        let found = sqlx::query(
            "SELECT id, region, actor_id, action, object_type, object_id, reason, before, after, created_at FROM audit_log \
             WHERE region = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(region)
        .bind(before)
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        let n = usize::try_from(limit).unwrap_or(0);
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        let mut items = Vec::new();
        for r in found.iter().take(n) {
            items.push(AuditEntry {
                id: r.try_get("id")?,
                region: r.try_get("region")?,
                actor_id: r.try_get("actor_id")?,
                action: r.try_get("action")?,
                object_type: r.try_get("object_type")?,
                object_id: r.try_get("object_id")?,
                reason: r.try_get("reason")?,
                before: parse(r.try_get("before")?),
                after: parse(r.try_get("after")?),
                created_at: from_micros(r.try_get("created_at")?),
            });
        }
        let next_cursor = match items.last() {
            Some(last) if found.len() > n => Some(rows::encode_cursor(&[last.id.to_string()])),
            _ => None,
        };
        Ok(Page { items, next_cursor })
    }

    /// The regions a user has posted in.
    pub async fn user_regions(&self, user_id: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT region FROM posts WHERE author_id = $1 ORDER BY region",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Published posts by a user (pre-moderation of new accounts).
    pub async fn published_posts_by(&self, user_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM posts WHERE author_id = $1 AND status = 'published'")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?)
    }

    /// Whether the user posted this exact body in the last `window_micros`, in this thread
    /// (a reply) or this region (a new thread): a double submission.
    pub async fn recent_duplicate(
        &self,
        user_id: i64,
        body: &str,
        window_micros: i64,
        thread_id: Option<i64>,
        region: &str,
    ) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM posts WHERE author_id = $1 AND body_hash = $5 AND created_at > $2 \
             AND region = $3 AND ($4 = 0 OR thread_id = $4) LIMIT 1",
        )
        .bind(user_id)
        .bind(now_micros() - window_micros)
        .bind(region)
        .bind(thread_id.unwrap_or(0))
        .bind(crate::posts::body_hash(body))
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }
}

/// Events about moderated posts go to everyone (the fan-out redacts the content for those
/// who may not see it).
fn public(mut e: NewEvent) -> NewEvent {
    e.audience = "public";
    e
}
