//! Appending events and numbering them (the PostgreSQL relay).

use super::{NewEvent, NUMBERING_LOCK, RELAY_BATCH, RELAY_SWEEP, RELAY_WAIT};
use crate::{now_micros, Backend, Result, Store, WriteTx};
use std::time::Duration;

// The statements this module sends, by name: a test prepares each on its backends.
pub(crate) const STATEMENTS: &[(&str, &str)] = &[("events::relay::APPEND_EVENT", APPEND_EVENT)];
/// Sent on PostgreSQL only (the relay and its waits).
pub(crate) const POSTGRES_STATEMENTS: &[(&str, &str)] = &[
    ("events::relay::NUMBERING_LOCK_TAKE", NUMBERING_LOCK_TAKE),
    ("events::relay::NUMBERING_BASE", NUMBERING_BASE),
    ("events::relay::NUMBER_EVENTS", NUMBER_EVENTS),
    ("events::relay::POST_UNNUMBERED", POST_UNNUMBERED),
    ("events::relay::THREAD_UNNUMBERED", THREAD_UNNUMBERED),
];

const APPEND_EVENT: &str = "INSERT INTO events (type, region, thread_id, post_id, user_id, audience, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const NUMBERING_LOCK_TAKE: &str = "SELECT pg_advisory_xact_lock($1)";
const NUMBERING_BASE: &str = "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM events";
const NUMBER_EVENTS: &str = "UPDATE events e SET seq = $1 + p.rn \
             FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM events \
                   WHERE seq IS NULL ORDER BY id LIMIT $2) p \
             WHERE e.id = p.id";
const POST_UNNUMBERED: &str =
    "SELECT EXISTS (SELECT 1 FROM events WHERE seq IS NULL AND post_id = $1)";
const THREAD_UNNUMBERED: &str =
    "SELECT EXISTS (SELECT 1 FROM events WHERE seq IS NULL AND thread_id = $1)";

impl Store {
    /// Appends an event inside a write transaction.
    pub(crate) async fn append_event(&self, tx: &mut WriteTx, e: &NewEvent) -> Result<()> {
        sqlx::query(APPEND_EVENT)
            .bind(e.kind)
            .bind(&e.region)
            .bind(e.thread_id)
            .bind(e.post_id)
            .bind(e.user_id)
            .bind(e.audience)
            .bind(&e.payload)
            .bind(now_micros())
            .execute(&mut *tx.tx)
            .await?;
        tx.wrote_events = true;
        Ok(())
    }

    /// Sequences every committed event that has no `seq` yet (PostgreSQL; a no-op on SQLite).
    /// Returns the highest `seq` in the log afterwards.
    pub async fn sequence_events(&self) -> Result<i64> {
        if self.backend == Backend::Sqlite {
            return self.head_seq().await;
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query(NUMBERING_LOCK_TAKE)
            .bind(NUMBERING_LOCK)
            .execute(&mut *tx)
            .await?;
        let base: i64 = sqlx::query_scalar(NUMBERING_BASE)
            .fetch_one(&mut *tx)
            .await?;
        let numbered = sqlx::query(NUMBER_EVENTS)
            .bind(base)
            .bind(RELAY_BATCH)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        let head = base + i64::try_from(numbered).unwrap_or(0);
        if numbered > 0 {
            self.tick_log();
        }
        if numbered as i64 == RELAY_BATCH {
            // More may be waiting: run again soon.
            self.relay.notify_one();
        }
        Ok(head)
    }

    /// Starts the PostgreSQL relay (once per store) until the pool closes: after every local
    /// commit that wrote events, and on a short sweep for events other instances left
    /// unsequenced.
    pub(crate) fn spawn_relay(&self) {
        use std::sync::atomic::Ordering;
        if self.backend != Backend::Postgres || self.relay_runs.running.swap(true, Ordering::SeqCst)
        {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move {
            loop {
                let _ = tokio::time::timeout(RELAY_SWEEP, store.relay.notified()).await;
                if store.pool.is_closed() {
                    break;
                }
                let n = store.relay_runs.started.fetch_add(1, Ordering::SeqCst) + 1;
                if let Err(e) = store.sequence_events().await {
                    tracing::warn!(error = %e, "event relay failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    store.relay.notify_one();
                    continue;
                }
                store.relay_runs.completed.send_replace(n);
            }
        });
    }

    /// Waits until a relay run that starts after this call has completed.
    pub(crate) async fn await_relay(&self) {
        use std::sync::atomic::Ordering;
        let target = self.relay_runs.started.load(Ordering::SeqCst) + 1;
        let mut done = self.relay_runs.completed.subscribe();
        self.relay.notify_one();
        let _ = tokio::time::timeout(RELAY_WAIT, done.wait_for(|n| *n >= target)).await;
    }

    /// Waits, as the first answer to a write did, until the events of a thread (or of one post
    /// in it) are numbered: a replayed answer must not reach a client before its events can
    /// (the process that wrote them may have died between its commit and their numbering).
    /// Bounded like the first answer's wait; a no-op on SQLite, which numbers as it commits.
    pub(crate) async fn await_numbered(&self, thread_id: i64, post_id: Option<i64>) -> Result<()> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        let sql = match post_id {
            Some(_) => POST_UNNUMBERED,
            None => THREAD_UNNUMBERED,
        };
        let pending: bool = sqlx::query_scalar(sql)
            .bind(post_id.unwrap_or(thread_id))
            .fetch_one(&self.pool)
            .await?;
        if pending {
            self.await_relay().await;
        }
        Ok(())
    }
}
