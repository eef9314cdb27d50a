//! The audit log's lines, written in the transaction of the change they record.

use crate::{now_micros, Result, Store, WriteTx};

// The statements this module sends, by name: a test prepares each on both backends.
pub(crate) const STATEMENTS: &[(&str, &str)] = &[("audit::AUDIT_INSERT", AUDIT_INSERT)];

const AUDIT_INSERT: &str = "INSERT INTO audit_log (region, actor_id, action, object_type, object_id, reason, before, after, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

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

impl Store {
    /// Writes an audit line in `tx`.
    pub(crate) async fn audit(&self, tx: &mut WriteTx, a: Audit<'_>) -> Result<()> {
        sqlx::query(AUDIT_INSERT)
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
}
