//! Endorsements of posts.

use crate::visible;
use crate::{now_micros, Result, Store, StoreError, WriteTx};
use sqlx::Row;

// The statements this module sends, by name: a test prepares each on both backends.
pub(crate) const STATEMENTS: &[(&str, &str)] = &[
    ("posts::endorse::ENDORSE_SELECT", ENDORSE_SELECT),
    ("posts::endorse::ENDORSE_INSERT", ENDORSE_INSERT),
    ("posts::endorse::UNENDORSE_SELECT", UNENDORSE_SELECT),
    ("posts::endorse::UNENDORSE_DELETE", UNENDORSE_DELETE),
    (
        "posts::endorse::BUMP_ENDORSEMENTS_UPDATE",
        BUMP_ENDORSEMENTS_UPDATE,
    ),
    (
        "posts::endorse::BUMP_ENDORSEMENTS_SELECT",
        BUMP_ENDORSEMENTS_SELECT,
    ),
    (
        "posts::endorse::BUMP_THREAD_ENDORSEMENTS",
        BUMP_THREAD_ENDORSEMENTS,
    ),
];

/// A thread counts its published posts' endorsements only.
const BUMP_THREAD_ENDORSEMENTS: &str = concat!(
    "UPDATE threads SET endorsements = endorsements + $1 WHERE id = $2 \
     AND EXISTS (SELECT 1 FROM posts WHERE id = $3 AND ",
    visible::published!(),
    ")"
);

const ENDORSE_SELECT: &str = "SELECT author_id, status, thread_id FROM posts WHERE id = $1";
const ENDORSE_INSERT: &str = "INSERT INTO endorsements (post_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (post_id, user_id) DO NOTHING";
const UNENDORSE_SELECT: &str = "SELECT thread_id FROM posts WHERE id = $1";
const UNENDORSE_DELETE: &str = "DELETE FROM endorsements WHERE post_id = $1 AND user_id = $2";
const BUMP_ENDORSEMENTS_UPDATE: &str =
    "UPDATE posts SET endorsements = endorsements + $1 WHERE id = $2";
const BUMP_ENDORSEMENTS_SELECT: &str = "SELECT endorsements FROM posts WHERE id = $1";

impl Store {
    /// Endorses a published post once per user. Returns the post's endorsement count and
    /// whether this call changed it.
    pub async fn endorse(&self, post_id: i64, user_id: i64) -> Result<(i64, bool)> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(ENDORSE_SELECT)
            .bind(post_id)
            .fetch_optional(&mut *tx.tx)
            .await?
            .ok_or(StoreError::NotFound("post"))?;
        if row.try_get::<String, _>("status")? != "published" {
            return Err(StoreError::Conflict(
                "only published posts can be endorsed".into(),
            ));
        }
        if row.try_get::<i64, _>("author_id")? == user_id {
            return Err(StoreError::Conflict(
                "authors cannot endorse their own posts".into(),
            ));
        }
        let thread_id: i64 = row.try_get("thread_id")?;
        let added = sqlx::query(ENDORSE_INSERT)
            .bind(post_id)
            .bind(user_id)
            .bind(now_micros())
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        let count = self
            .bump_endorsements(&mut tx, post_id, thread_id, added as i64)
            .await?;
        self.commit(tx).await?;
        Ok((count, added > 0))
    }

    /// Withdraws an endorsement. Returns the count and whether this call changed it.
    pub async fn unendorse(&self, post_id: i64, user_id: i64) -> Result<(i64, bool)> {
        let mut tx = self.begin_write().await?;
        let thread_id: i64 = sqlx::query_scalar(UNENDORSE_SELECT)
            .bind(post_id)
            .fetch_optional(&mut *tx.tx)
            .await?
            .ok_or(StoreError::NotFound("post"))?;
        let removed = sqlx::query(UNENDORSE_DELETE)
            .bind(post_id)
            .bind(user_id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        let count = self
            .bump_endorsements(&mut tx, post_id, thread_id, -(removed as i64))
            .await?;
        self.commit(tx).await?;
        Ok((count, removed > 0))
    }

    async fn bump_endorsements(
        &self,
        tx: &mut WriteTx,
        post_id: i64,
        thread_id: i64,
        delta: i64,
    ) -> Result<i64> {
        if delta != 0 {
            sqlx::query(BUMP_ENDORSEMENTS_UPDATE)
                .bind(delta)
                .bind(post_id)
                .execute(&mut *tx.tx)
                .await?;
            // A thread counts its published posts' endorsements only (see `set_status`).
            sqlx::query(BUMP_THREAD_ENDORSEMENTS)
                .bind(delta)
                .bind(thread_id)
                .bind(post_id)
                .execute(&mut *tx.tx)
                .await?;
        }
        Ok(sqlx::query_scalar(BUMP_ENDORSEMENTS_SELECT)
            .bind(post_id)
            .fetch_one(&mut *tx.tx)
            .await?)
    }
}
