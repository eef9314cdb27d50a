//! Suspensions, roles, the audit log's pages, and what moderation asks about authors.

use crate::audit::Audit;
use crate::rows::{self};
use crate::visible;
use crate::{from_micros, now_micros, Backend, NewEvent, Page, Result, Store, StoreError};
use hub_domain::{AuditEntry, Suspension};
use serde_json::json;
use sqlx::Row;

// The statements this module sends, by name: a test prepares each on both backends.
pub(crate) const STATEMENTS: &[(&str, &str)] = &[
    ("moderation::accounts::SUSPEND_INSERT", SUSPEND_INSERT),
    (
        "moderation::accounts::SUSPENSION_IN_SELECT",
        SUSPENSION_IN_SELECT,
    ),
    ("moderation::accounts::AUDIT_LOG_SELECT", AUDIT_LOG_SELECT),
    (
        "moderation::accounts::USER_REGIONS_SELECT",
        USER_REGIONS_SELECT,
    ),
    (
        "moderation::accounts::RECENT_DUPLICATE_SELECT",
        RECENT_DUPLICATE_SELECT,
    ),
    (
        "moderation::accounts::PUBLISHED_POSTS_BY",
        PUBLISHED_POSTS_BY,
    ),
];
/// Sent on SQLite only.
pub(crate) const SQLITE_STATEMENTS: &[(&str, &str)] =
    &[("moderation::accounts::LIVE_SUSPENSIONS", LIVE_SUSPENSIONS)];
/// Sent on PostgreSQL only.
pub(crate) const POSTGRES_STATEMENTS: &[(&str, &str)] = &[(
    "moderation::accounts::LIVE_SUSPENSIONS_LOCKED",
    LIVE_SUSPENSIONS_LOCKED,
)];

/// A user's suspensions in force (their rows locked, on PostgreSQL).
const LIVE_SUSPENSIONS: &str = "SELECT id, region FROM suspensions WHERE user_id = $1 AND lifted_at IS NULL AND until > $2 ORDER BY id";
const LIVE_SUSPENSIONS_LOCKED: &str = "SELECT id, region FROM suspensions WHERE user_id = $1 AND lifted_at IS NULL AND until > $2 ORDER BY id FOR UPDATE";
const PUBLISHED_POSTS_BY: &str = concat!(
    "SELECT CAST(COUNT(*) AS BIGINT) FROM posts WHERE author_id = $1 AND ",
    visible::published!()
);

/// Lifts the suspensions whose ids are in `list` (inlined).
fn lift_suspensions_sql(list: &str) -> String {
    format!("UPDATE suspensions SET lifted_at = $1 WHERE id IN ({list})")
}

/// The statements built per call, each as one representative instance, by name.
pub(crate) fn built_statements() -> Vec<(String, String)> {
    vec![(
        "moderation::accounts::lift_suspensions (built)".to_string(),
        lift_suspensions_sql("1, 2"),
    )]
}

const SUSPEND_INSERT: &str = "INSERT INTO suspensions (user_id, until, reason, by_id, created_at, region) VALUES ($1, $2, $3, $4, $5, $6)";
const SUSPENSION_IN_SELECT: &str = "SELECT until, reason, region FROM suspensions WHERE user_id = $1 AND lifted_at IS NULL AND until > $2 \
             AND (region IS NULL OR region = $3) ORDER BY until DESC LIMIT 1";
const AUDIT_LOG_SELECT: &str = "SELECT id, region, actor_id, action, object_type, object_id, reason, before, after, created_at FROM audit_log \
             WHERE region = $1 AND id < $2 ORDER BY id DESC LIMIT $3";
const USER_REGIONS_SELECT: &str =
    "SELECT DISTINCT region FROM posts WHERE author_id = $1 ORDER BY region";
const RECENT_DUPLICATE_SELECT: &str =
    "SELECT id FROM posts WHERE author_id = $1 AND body_hash = $5 AND created_at > $2 \
             AND region = $3 AND ($4 = 0 OR thread_id = $4) LIMIT 1";

impl Store {
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
        sqlx::query(SUSPEND_INSERT)
            .bind(user_id)
            .bind(until)
            .bind(reason)
            .bind(by)
            .bind(now_micros())
            .bind(region)
            .execute(&mut *tx.tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Db(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => {
                    StoreError::NotFound("user")
                }
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
        let sql = if self.backend == Backend::Postgres {
            LIVE_SUSPENSIONS_LOCKED
        } else {
            LIVE_SUSPENSIONS
        };
        let found = sqlx::query(sql)
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
        sqlx::query(&lift_suspensions_sql(&list))
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
        let row = sqlx::query(SUSPENSION_IN_SELECT)
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
        let found = sqlx::query(AUDIT_LOG_SELECT)
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
        Ok(sqlx::query_scalar(USER_REGIONS_SELECT)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Published posts by a user (pre-moderation of new accounts).
    pub async fn published_posts_by(&self, user_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(PUBLISHED_POSTS_BY)
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
        let found: Option<i64> = sqlx::query_scalar(RECENT_DUPLICATE_SELECT)
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
