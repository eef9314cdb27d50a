//! Idempotency keys: a creating request sent again with the same key creates nothing new.

use crate::{now_micros, IdempotencyKey, Result, Store, StoreError, WriteTx};
use sqlx::Row;

// The statements this module sends, by name: a test prepares each on both backends.
pub(crate) const STATEMENTS: &[(&str, &str)] = &[
    (
        "idempotency::CLAIM_IDEMPOTENCY_KEY_DELETE",
        CLAIM_IDEMPOTENCY_KEY_DELETE,
    ),
    (
        "idempotency::CLAIM_IDEMPOTENCY_KEY_INSERT",
        CLAIM_IDEMPOTENCY_KEY_INSERT,
    ),
    (
        "idempotency::CLAIM_IDEMPOTENCY_KEY_SELECT",
        CLAIM_IDEMPOTENCY_KEY_SELECT,
    ),
    (
        "idempotency::IDEMPOTENCY_SEEN_SELECT",
        IDEMPOTENCY_SEEN_SELECT,
    ),
    (
        "idempotency::COMPLETE_IDEMPOTENCY_KEY_UPDATE",
        COMPLETE_IDEMPOTENCY_KEY_UPDATE,
    ),
];

const CLAIM_IDEMPOTENCY_KEY_DELETE: &str =
    "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND created_at < $3";
const CLAIM_IDEMPOTENCY_KEY_INSERT: &str =
    "INSERT INTO idempotency_keys (user_id, key, fingerprint, resource, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, key) DO NOTHING";
const CLAIM_IDEMPOTENCY_KEY_SELECT: &str = "SELECT fingerprint, resource, resource_id FROM idempotency_keys WHERE user_id = $1 AND key = $2";
const IDEMPOTENCY_SEEN_SELECT: &str = "SELECT resource_id FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND created_at > $3 AND resource_id IS NOT NULL";
const COMPLETE_IDEMPOTENCY_KEY_UPDATE: &str =
    "UPDATE idempotency_keys SET resource_id = $1 WHERE user_id = $2 AND key = $3";

impl Store {
    /// Claims an idempotency key in `tx`. `Some(id)` when the key was used before (within
    /// 24 h) for the same request: the caller returns that resource and writes nothing.
    pub(crate) async fn claim_idempotency_key(
        &self,
        tx: &mut WriteTx,
        key: &IdempotencyKey,
        resource: &str,
    ) -> Result<Option<i64>> {
        let now = now_micros();
        let day = 24 * 3600 * 1_000_000_i64;
        sqlx::query(CLAIM_IDEMPOTENCY_KEY_DELETE)
            .bind(key.user_id)
            .bind(&key.key)
            .bind(now - day)
            .execute(&mut *tx.tx)
            .await?;
        // On PostgreSQL a concurrent holder of the same key makes this insert wait for its
        // commit, after which the conflict is seen: two racing retries cannot both create.
        let inserted = sqlx::query(CLAIM_IDEMPOTENCY_KEY_INSERT)
            .bind(key.user_id)
            .bind(&key.key)
            .bind(&key.fingerprint)
            .bind(resource)
            .bind(now)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if inserted == 1 {
            return Ok(None);
        }
        let row = sqlx::query(CLAIM_IDEMPOTENCY_KEY_SELECT)
            .bind(key.user_id)
            .bind(&key.key)
            .fetch_one(&mut *tx.tx)
            .await?;
        let fingerprint: String = row.try_get("fingerprint")?;
        let stored_resource: String = row.try_get("resource")?;
        let id: Option<i64> = row.try_get("resource_id")?;
        match id {
            Some(id) if fingerprint == key.fingerprint && stored_resource == resource => {
                Ok(Some(id))
            }
            _ => Err(StoreError::Conflict(
                "this Idempotency-Key was used with a different request".into(),
            )),
        }
    }

    /// Whether a key was already used (and completed) by this user within 24 h: callers skip
    /// the checks meant for new writes (rate limits, duplicates) for a replay.
    pub async fn idempotency_seen(&self, user_id: i64, key: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(IDEMPOTENCY_SEEN_SELECT)
            .bind(user_id)
            .bind(key)
            .bind(now_micros() - 24 * 3600 * 1_000_000)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    pub(crate) async fn complete_idempotency_key(
        &self,
        tx: &mut WriteTx,
        key: &IdempotencyKey,
        id: i64,
    ) -> Result<()> {
        sqlx::query(COMPLETE_IDEMPOTENCY_KEY_UPDATE)
            .bind(id)
            .bind(key.user_id)
            .bind(&key.key)
            .execute(&mut *tx.tx)
            .await?;
        Ok(())
    }
}
