//! A region's moderation queue: its pages, assignment and moderators' notes.

use crate::audit::Audit;
use crate::rows::{self, AUTHOR_COLUMNS, POST_COLUMNS};
use crate::{from_micros, now_micros, Page, Result, Store, StoreError};
use hub_domain::{FlagReason, ModeratorNote, QueueItem, ReasonCount};
use serde_json::json;
use sqlx::Row;

// The statements this module sends, by name: a test prepares each on both backends.
pub(crate) const STATEMENTS: &[(&str, &str)] = &[
    ("moderation::queue::ASSIGN_UPDATE", ASSIGN_UPDATE),
    ("moderation::queue::ADD_NOTE_INSERT", ADD_NOTE_INSERT),
];

const ASSIGN_UPDATE: &str =
    "UPDATE posts SET assigned_to = $1 WHERE id = $2 AND queued_at IS NOT NULL";
const ADD_NOTE_INSERT: &str = "INSERT INTO moderation_notes (post_id, moderator_id, note, created_at) VALUES ($1, $2, $3, $4)";

/// A page of a region's queue: `after` holds the cursor's urgency, queue time and id.
fn queue_sql(region_p: &str, after: Option<[String; 3]>, limit_p: &str) -> String {
    let mut sql = format!(
        "SELECT {POST_COLUMNS}, p.open_flags, p.flag_weight, p.personal_data_flags, p.urgency, p.queued_at, \
         p.assigned_to, {AUTHOR_COLUMNS} FROM posts p JOIN users u ON u.id = p.author_id \
         WHERE p.region = {region_p} AND p.queued_at IS NOT NULL"
    );
    if let Some([urg, q, id]) = after {
        sql.push_str(&format!(
            " AND (p.urgency < {urg} OR (p.urgency = {urg} AND (p.queued_at > {q} OR (p.queued_at = {q} AND p.id > {id}))))"
        ));
    }
    sql.push_str(&format!(
        " ORDER BY p.urgency DESC, p.queued_at, p.id LIMIT {limit_p}"
    ));
    sql
}

/// The open flags' reasons of the posts in `list` (ids, inlined).
fn queue_reasons_sql(list: &str) -> String {
    format!(
        "SELECT post_id, reason, CAST(COUNT(*) AS BIGINT) AS n FROM flags \
         WHERE post_id IN ({list}) AND open = 1 GROUP BY post_id, reason ORDER BY post_id, reason"
    )
}

/// The moderators' notes on the posts in `list`.
fn queue_notes_sql(list: &str) -> String {
    format!(
        "SELECT post_id, moderator_id, note, created_at FROM moderation_notes WHERE post_id IN ({list}) ORDER BY id"
    )
}

/// The appeals of the latest decisions on the posts in `list`.
fn queue_appeals_sql(list: &str) -> String {
    format!(
        "SELECT d.post_id, a.note FROM appeals a JOIN decisions d ON d.id = a.decision_id \
         WHERE d.post_id IN ({list}) AND d.id = (SELECT MAX(d2.id) FROM decisions d2 WHERE d2.post_id = d.post_id)"
    )
}

/// The statements built per call, each as one representative instance (a page after a
/// cursor; two posts), by name.
pub(crate) fn built_statements() -> Vec<(String, String)> {
    let after = Some(["$2", "$3", "$4"].map(String::from));
    vec![
        (
            "moderation::queue::queue (built)".to_string(),
            queue_sql("$1", after, "$5"),
        ),
        (
            "moderation::queue::reasons (built)".to_string(),
            queue_reasons_sql("1, 2"),
        ),
        (
            "moderation::queue::notes (built)".to_string(),
            queue_notes_sql("1, 2"),
        ),
        (
            "moderation::queue::appeals (built)".to_string(),
            queue_appeals_sql("1, 2"),
        ),
    ]
}

/// What a queue page shows besides the posts.
#[derive(Default)]
struct QueueDetails {
    reasons: std::collections::HashMap<i64, Vec<ReasonCount>>,
    notes: std::collections::HashMap<i64, Vec<ModeratorNote>>,
    appeals: std::collections::HashMap<i64, String>,
}

impl Store {
    /// A region's queue, most urgent first: personal-data flags, then flag weight, then age.
    pub async fn queue(
        &self,
        region: &str,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Page<QueueItem>> {
        let mut args = crate::rows::Args::default();
        let region_p = args.push_text(region.to_string());
        let after = match cursor {
            Some(c) => {
                let parts = rows::decode_cursor(c, 3)?;
                let urg = args.push_int(rows::cursor_int(&parts[0])?);
                let q = args.push_int(rows::cursor_int(&parts[1])?);
                let id = args.push_int(rows::cursor_int(&parts[2])?);
                Some([urg, q, id])
            }
            None => None,
        };
        let limit_p = args.push_int(limit + 1);
        let sql = queue_sql(&region_p, after, &limit_p);
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
        let reasons = sqlx::query(&queue_reasons_sql(&list))
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
        let notes = sqlx::query(&queue_notes_sql(&list))
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
        let appeals = sqlx::query(&queue_appeals_sql(&list))
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
        let done = sqlx::query(ASSIGN_UPDATE)
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
        sqlx::query(ADD_NOTE_INSERT)
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
}
