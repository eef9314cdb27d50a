//! The event log: every change a client may see, appended in the transaction of the change.
//!
//! `seq` must be strictly increasing in commit order, so a client that saw `n` and resumes
//! from `n` misses nothing. On SQLite the single writer makes an autoincrement enough. On
//! PostgreSQL a sequence is not (values are taken before commit, commits land in any order),
//! so events are written unsequenced and a relay gives them their `seq` after they commit:
//! one relay transaction at a time (an advisory lock held to its commit) numbers every
//! committed unsequenced event after the current maximum. Batches therefore commit in `seq`
//! order, and within a batch numbers follow insertion order. A write that finds that lock free
//! may take it instead and number its own event (the next after the maximum) as it commits:
//! one transaction per write instead of two when writes are few; when they are many, the lock
//! is busy and the relay numbers them in batches. New posts, the bulk of writes, are numbered
//! by their group commit (`batch.rs`), which waits for the lock in `hub_numbering_base()`.

use crate::{from_micros, now_micros, Backend, Result, Store, WriteTx};
use serde::Serialize;
use sqlx::Row;
use std::time::Duration;

/// The advisory lock that every numbering of events holds until its transaction commits
/// ("GCMHUB" in ASCII, as an integer): the relay's runs, and a write that numbers its own event
/// because it found the lock free (`posts.rs`). Numberings therefore commit one at a time, in
/// `seq` order, each reading the highest `seq` after taking the lock.
pub(crate) const NUMBERING_LOCK: i64 = 0x4743_4d48_5542;
/// Most events numbered in one relay transaction.
const RELAY_BATCH: i64 = 5_000;
/// How often the relay looks for events left unsequenced by an instance that died between
/// its commit and its relay run.
const RELAY_SWEEP: Duration = Duration::from_millis(500);

/// Counts of relay runs, so writers can wait for one that started after their commit.
#[derive(Debug)]
pub(crate) struct RelayRuns {
    started: std::sync::atomic::AtomicU64,
    completed: tokio::sync::watch::Sender<u64>,
    running: std::sync::atomic::AtomicBool,
}

impl Default for RelayRuns {
    fn default() -> Self {
        Self {
            started: std::sync::atomic::AtomicU64::new(0),
            completed: tokio::sync::watch::channel(0).0,
            running: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

/// The longest a writer waits for its events to be numbered before answering anyway (they
/// will be numbered by a later run; nothing is lost, only delayed).
const RELAY_WAIT: Duration = Duration::from_secs(5);

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// `post.created`, `thread.updated`, ...
    pub kind: &'static str,
    /// Region of the thread or post.
    pub region: Option<String>,
    /// Thread concerned.
    pub thread_id: Option<i64>,
    /// Post concerned.
    pub post_id: Option<i64>,
    /// The user concerned (the author, or the user a `user:` event is for).
    pub user_id: Option<i64>,
    /// Who may receive it: `public`, `restricted` (the author and the region's moderators),
    /// `moderators` (the region's moderators) or `user` (`user_id` only).
    pub audience: &'static str,
    /// The JSON body clients receive as `data`.
    pub payload: String,
}

/// A sequenced event read back from the log.
#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    /// Position in the log.
    pub seq: i64,
    /// Event type.
    pub kind: String,
    /// Region.
    pub region: Option<String>,
    /// Thread.
    pub thread_id: Option<i64>,
    /// Post.
    pub post_id: Option<i64>,
    /// User concerned.
    pub user_id: Option<i64>,
    /// Audience (see [`NewEvent::audience`]).
    pub audience: String,
    /// JSON payload.
    pub payload: String,
    /// When the change was made.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl Store {
    /// Appends an event inside a write transaction.
    pub(crate) async fn append_event(&self, tx: &mut WriteTx, e: &NewEvent) -> Result<()> {
        sqlx::query(
            "INSERT INTO events (type, region, thread_id, post_id, user_id, audience, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
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
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(NUMBERING_LOCK)
            .execute(&mut *tx)
            .await?;
        let base: i64 =
            sqlx::query_scalar("SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM events")
                .fetch_one(&mut *tx)
                .await?;
        let numbered = sqlx::query(
            "UPDATE events e SET seq = $1 + p.rn \
             FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM events \
                   WHERE seq IS NULL ORDER BY id LIMIT $2) p \
             WHERE e.id = p.id",
        )
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
            Some(_) => "SELECT EXISTS (SELECT 1 FROM events WHERE seq IS NULL AND post_id = $1)",
            None => "SELECT EXISTS (SELECT 1 FROM events WHERE seq IS NULL AND thread_id = $1)",
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

    /// The highest sequenced event.
    pub async fn head_seq(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM events")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Sequenced events after `after` that concern any of these regions, threads or users, in
    /// order, at most `limit` (a subscriber's replay).
    pub async fn events_for(
        &self,
        after: i64,
        f: &EventFilter,
        limit: i64,
    ) -> Result<Vec<EventRecord>> {
        if f.regions.is_empty() && f.threads.is_empty() && f.users.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = crate::threads::Args::default();
        let after_p = args.push_int(after);
        let mut ors = Vec::new();
        if !f.regions.is_empty() {
            let ps: Vec<String> = f
                .regions
                .iter()
                .map(|r| args.push_text(r.clone()))
                .collect();
            ors.push(format!("region IN ({})", ps.join(", ")));
        }
        if !f.threads.is_empty() {
            let ps: Vec<String> = f.threads.iter().map(|t| args.push_int(*t)).collect();
            ors.push(format!("thread_id IN ({})", ps.join(", ")));
        }
        if !f.users.is_empty() {
            let ps: Vec<String> = f.users.iter().map(|u| args.push_int(*u)).collect();
            ors.push(format!("user_id IN ({})", ps.join(", ")));
        }
        let limit_p = args.push_int(limit);
        let sql = format!(
            "SELECT seq, type, region, thread_id, post_id, user_id, audience, payload, created_at \
             FROM events WHERE seq > {after_p} AND ({}) ORDER BY seq LIMIT {limit_p}",
            ors.join(" OR ")
        );
        let rows = args
            .bind_all(sqlx::query(&sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_row).collect()
    }

    /// Which of these posts are withheld now: not published (hidden, removed or pending), or
    /// in a thread whose opening post is not published. A replay of the log withholds what
    /// was logged about them from those who may no longer see it.
    pub async fn withheld_posts(&self, posts: &[i64]) -> Result<std::collections::HashSet<i64>> {
        let mut out = std::collections::HashSet::new();
        // Bounded lists: the database's limit on parameters is far above this.
        for chunk in posts.chunks(500) {
            let mut args = crate::threads::Args::default();
            let ps: Vec<String> = chunk.iter().map(|p| args.push_int(*p)).collect();
            let sql = format!(
                "SELECT p.id FROM posts p JOIN threads t ON t.id = p.thread_id \
                 LEFT JOIN posts op ON op.id = t.opening_post_id \
                 WHERE p.id IN ({}) AND (p.status <> 'published' OR op.status <> 'published')",
                ps.join(", ")
            );
            for r in args
                .bind_all(sqlx::query(&sql))
                .fetch_all(&self.pool)
                .await?
            {
                out.insert(r.try_get::<i64, _>("id")?);
            }
        }
        Ok(out)
    }

    /// Sequenced events after `after`, in order, at most `limit`.
    pub async fn events_after(&self, after: i64, limit: i64) -> Result<Vec<EventRecord>> {
        let rows = sqlx::query(
            "SELECT seq, type, region, thread_id, post_id, user_id, audience, payload, created_at \
             FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_row).collect()
    }
}

/// What a subscriber's replay reads: events of these regions, threads or users.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Region slugs (`region:` and `moderation:` channels).
    pub regions: Vec<String>,
    /// Thread ids.
    pub threads: Vec<i64>,
    /// User ids (`user:` channels).
    pub users: Vec<i64>,
}

fn event_row(r: &sqlx::any::AnyRow) -> Result<EventRecord> {
    Ok(EventRecord {
        seq: r.try_get("seq")?,
        kind: r.try_get("type")?,
        region: r.try_get("region")?,
        thread_id: r.try_get("thread_id")?,
        post_id: r.try_get("post_id")?,
        user_id: r.try_get("user_id")?,
        audience: r.try_get("audience")?,
        payload: r.try_get("payload")?,
        created_at: from_micros(r.try_get("created_at")?),
    })
}
