//! Group commit of new posts.
//!
//! On SQLite (at the end of this file), concurrent new posts share one write transaction: the
//! committer writes each with the single write's statements (`Store::write_post`) inside one
//! `BEGIN IMMEDIATE` ... `COMMIT`, so they share its write lock, its commit and its `fsync`;
//! each post's checks see the batch's earlier posts, as they would had those committed alone.
//! A refused post writes nothing and the others go on; should a statement fail, the
//! transaction is rolled back and its posts are written one by one.
//!
//! On PostgreSQL:
//! Each post written in a transaction of its own costs PostgreSQL a `BEGIN`, a `COMMIT` with its
//! WAL flush, the statements' planning and execution overhead, four round trips, and, when many
//! write at once, a relay run to number the events. Under load that overhead, not the rows, was
//! most of the CPU of a post. So concurrent new posts (published, without an `Idempotency-Key`)
//! are handed to one committer task, which writes whatever has queued up in two statements,
//! each its own transaction (no `BEGIN`/`COMMIT` round trips):
//!
//! 1. one query checks every post (thread, parent, duplicate) and reserves their ids;
//! 2. one statement inserts the posts that passed, their objectives, the threads' counters and
//!    their events, numbered in the batch's order after the highest `seq`, read by
//!    `hub_numbering_base()` (migration 0006) once it holds the event log's numbering lock
//!    (`events.rs`), which the statement keeps until it has committed: numberings commit one
//!    at a time, in `seq` order, and every post is durable, its event in the log, before any
//!    post of the batch is answered.
//!
//! The checks read committed data outside the insert's transaction, as the single write's
//! checks do within theirs (read committed, no row locks): a thread locked meanwhile or a
//! parent deleted meanwhile is the same race either way. A post that fails its checks gets the
//! answer it would get alone (a missing thread, a duplicate, a locked thread, a bad parent) and
//! the others go on; a duplicate of an earlier post of the same batch is refused as if that
//! one had committed. Should the insert fail, nothing of it is committed and its posts are
//! sent back to be written one by one ([`Outcome::Alone`]), so one bad post cannot fail the
//! others. While a batch is written the next one gathers, so the batch size follows the load:
//! one post at a time when writes are few.

use crate::posts::{body_hash, new_post_record, post_event, Checked};
use crate::{now_micros, NewPost, Result, StoreError};
use hub_domain::Post;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::Row;
use std::str::FromStr;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};

/// Most posts written in one transaction.
const MAX_BATCH: usize = 64;

/// The checks of every post of a batch (`$rows`: a row source `j` with the fields of each post
/// and `n`, its place in the batch) and a reserved id for each: the same conditions as the
/// single write's query in `posts.rs`.
macro_rules! checks_sql {
    ($rows:literal) => {
        concat!(
            "SELECT t.region, t.locked, t.opening_post_id, pp.thread_id AS parent_thread, \
             pp.depth AS parent_depth, pp.path AS parent_path, \
             (j.dup AND EXISTS (SELECT 1 FROM posts d WHERE d.author_id = j.author_id \
             AND d.body_hash = j.hash AND d.created_at > j.since \
             AND d.region = t.region AND d.thread_id = t.id)) AS duplicate, \
             nextval(pg_get_serial_sequence('posts', 'id')) AS next_id FROM ",
            $rows,
            " AS j(thread_id, parent_id, dup, author_id, since, hash, n) \
             LEFT JOIN threads t ON t.id = j.thread_id \
             LEFT JOIN posts pp ON pp.id = COALESCE(j.parent_id, t.opening_post_id) \
             ORDER BY j.n"
        )
    };
}

/// The checks over one array per field, in the batch's order.
const CHECKS: &str = checks_sql!(
    "unnest($1::int8[], $2::int8[], $3::bool[], $4::int8[], $5::int8[], $6::int8[]) \
     WITH ORDINALITY"
);

/// The types of the checks' fields, in order.
const CHECK_TYPES: [&str; 6] = ["int8", "int8", "bool", "int8", "int8", "int8"];

/// The statement that inserts the posts of `j` (a row source with the columns of the batch's
/// arrays, `n`, their order, and `base`, the numbering base): the posts, their objectives,
/// their threads' counters and their `post.created` events, numbered in order after the highest
/// `seq`. Every row written comes through `j`, which joins the numbering base: the numbering
/// lock is taken before any row is written or locked, so a statement waiting for it holds
/// nothing that a numbering writer could wait for.
macro_rules! insert_sql {
    ($rows:literal) => {
        concat!(
            "WITH b AS (SELECT hub_numbering_base() AS base), j AS (",
            $rows,
            "), p AS (INSERT INTO posts (id, thread_id, parent_id, region, author_id, depth, path, \
             kind, body, body_html, language, language_detected, objectives, aspects, status, \
             created_at, search_terms, body_hash) SELECT id, thread_id, parent_id, region, \
             author_id, depth, path, kind, body, body_html, language, language_detected, \
             objectives, aspects, status, $20, string_to_array(search_terms, ' '), body_hash \
             FROM j ORDER BY n RETURNING id), \
             o AS (INSERT INTO post_objectives (objective, post_id) \
             SELECT CAST(x.o AS BIGINT), j.id FROM p JOIN j ON j.id = p.id, \
             json_array_elements_text(CAST(j.objectives AS json)) AS x(o)), \
             t AS (UPDATE threads SET post_count = post_count + c.k, \
             last_activity_at = CASE WHEN c.k > 0 THEN $20 ELSE last_activity_at END, \
             page_version = page_version + 1 \
             FROM (SELECT thread_id, count(*) FILTER (WHERE status = 'published') AS k FROM j \
             GROUP BY thread_id) c WHERE threads.id = c.thread_id), \
             e AS (INSERT INTO events (type, region, thread_id, post_id, user_id, audience, \
             payload, created_at, seq) SELECT 'post.created', region, thread_id, id, author_id, \
             audience, payload, $20, base + n FROM j ORDER BY n) \
             SELECT CAST(count(*) AS BIGINT) FROM p"
        )
    };
}

/// The insert of a batch: one array per column.
const INSERT: &str = insert_sql!(
    "SELECT u.*, b.base FROM b, unnest($1::int8[], $2::int8[], $3::int8[], \
     $4::text[], $5::int8[], $6::int8[], $7::text[], $8::text[], $9::text[], $10::text[], \
     $11::text[], $12::int8[], $13::text[], $14::text[], $15::text[], $16::text[], $17::int8[], \
     $18::text[], $19::text[]) WITH ORDINALITY AS u(id, thread_id, parent_id, region, author_id, \
     depth, path, kind, body, body_html, language, language_detected, objectives, aspects, \
     status, search_terms, body_hash, audience, payload, n)"
);

/// The types of the insert's columns, in order.
const INSERT_TYPES: [&str; 19] = [
    "int8", "int8", "int8", "text", "int8", "int8", "text", "text", "text", "text", "text", "int8",
    "text", "text", "text", "text", "int8", "text", "text",
];

/// Batches of at most this many posts are written by statements over plain parameters, a
/// `VALUES` row per post, one statement text per batch size: PostgreSQL plans such a statement
/// once on a connection and keeps the plan, where a statement over arrays is planned at every
/// run (at one post a batch that planning was a large part of its cost, and at eight writers a
/// batch holds about four posts). Larger batches use the arrays.
const PLAIN_UP_TO: usize = 16;

/// `(VALUES ($1::int8, ...), ...)` for `n` rows of fields of `types`, the parameters numbered
/// row by row from `$1`, each row ending with its place (`1` to `n`).
fn values_sql(types: &[&str], n: usize) -> String {
    let rows: Vec<String> = (0..n)
        .map(|row| {
            let fields: Vec<String> = types
                .iter()
                .enumerate()
                .map(|(i, ty)| format!("${}::{ty}", row * types.len() + i + 1))
                .collect();
            format!("({}, {}::int8)", fields.join(", "), row + 1)
        })
        .collect();
    format!("(VALUES {})", rows.join(", "))
}

/// For each batch size from 1 to [`PLAIN_UP_TO`]: the checks and the insert over plain
/// parameters. `insert_sql!` names the creation time `$20` (after the 19 arrays); here it is
/// renumbered to the parameter after the rows' (before the rows go in, whose own `$20` stays).
static PLAIN: std::sync::LazyLock<Vec<(String, String)>> = std::sync::LazyLock::new(|| {
    const ROWS: &str = "__ROWS__";
    let checks = checks_sql!("__ROWS__");
    let insert = insert_sql!(
        "SELECT u.*, b.base FROM b, __ROWS__ AS u(id, thread_id, parent_id, \
         region, author_id, depth, path, kind, body, body_html, language, language_detected, \
         objectives, aspects, status, search_terms, body_hash, audience, payload, n)"
    );
    (1..=PLAIN_UP_TO)
        .map(|n| {
            let now = format!("${}", n * INSERT_TYPES.len() + 1);
            (
                checks.replace(ROWS, &values_sql(&CHECK_TYPES, n)),
                insert
                    .replace("$20", &now)
                    .replace(ROWS, &values_sql(&INSERT_TYPES, n)),
            )
        })
        .collect()
});

/// A post waiting for its batch.
struct Job {
    thread_id: i64,
    post: NewPost,
    /// The duplicate window (see `PostChecks`).
    duplicate_window: Option<i64>,
    reply: oneshot::Sender<Outcome>,
}

/// What became of a post handed to the committer.
pub(crate) enum Outcome {
    /// Written and committed, or refused by its checks, or the batch's insert failed in a way
    /// that leaves unknown whether it committed.
    Done(Box<Result<Post>>),
    /// Not written: the caller writes it in a transaction of its own.
    Alone,
}

/// The handle through which posts reach the committer task.
#[derive(Clone)]
pub(crate) struct Batcher {
    jobs: mpsc::UnboundedSender<Job>,
    /// Posts sent back to be written alone: a statement of their batch failed (or the
    /// committer stopped before answering).
    sent_back: Arc<std::sync::atomic::AtomicU64>,
    /// PostgreSQL: the committer's own connection.
    pool: Option<PgPool>,
}

impl Batcher {
    /// Starts the committer on a connection of its own to `url` (its prepared statements stay
    /// cached there); it ticks `log_tick` after each batch with events and stops when every
    /// handle is dropped.
    ///
    /// Its statements are planned for each batch (PostgreSQL's default for statements with
    /// array parameters): forcing generic plans, planned once on a connection while the tables
    /// were small, made the batches slower in the benchmark, not faster.
    pub(crate) fn start(
        url: &str,
        opts: &crate::StoreOptions,
        log_tick: Arc<watch::Sender<u64>>,
    ) -> Result<Self> {
        let connect = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("database URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(opts.acquire_timeout)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| Box::pin(crate::fit(conn, meta, crate::Backend::Postgres)))
            .connect_lazy_with(connect);
        let committer = pool.clone();
        let jobs = spawn_committer(move |jobs| {
            let (committer, log_tick) = (committer.clone(), log_tick.clone());
            async move { commit_batch(&committer, &log_tick, jobs).await }
        });
        Ok(Self {
            jobs,
            sent_back: Arc::default(),
            pool: Some(pool),
        })
    }

    /// Starts the SQLite committer over `store` (a store without a batcher of its own); it
    /// stops when every handle is dropped.
    pub(crate) fn start_sqlite(store: crate::Store) -> Self {
        let jobs = spawn_committer(move |jobs| {
            let store = store.clone();
            async move { commit_sqlite_batch(&store, jobs).await }
        });
        Self {
            jobs,
            sent_back: Arc::default(),
            pool: None,
        }
    }

    /// Closes the committer's connection (posts submitted afterwards are written alone).
    pub(crate) async fn close(&self) {
        if let Some(pool) = &self.pool {
            pool.close().await;
        }
    }

    /// Writes `post` in the next batch and waits for its outcome.
    pub(crate) async fn submit(
        &self,
        thread_id: i64,
        post: NewPost,
        duplicate_window: Option<i64>,
    ) -> Outcome {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            thread_id,
            post,
            duplicate_window,
            reply,
        };
        if self.jobs.send(job).is_err() {
            return Outcome::Alone;
        }
        let outcome = answer.await.unwrap_or(Outcome::Alone);
        if matches!(outcome, Outcome::Alone) {
            self.sent_back
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        outcome
    }

    /// Posts sent back to be written alone so far.
    pub(crate) fn sent_back(&self) -> u64 {
        self.sent_back.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Spawns the committer task: it takes whatever has queued up (at most [`MAX_BATCH`]), leaves
/// out posts whose client went away (they need no write), hands the rest to `commit`, and
/// stops when every sender is dropped. While a batch is written the next one gathers.
fn spawn_committer<F, Fut>(mut commit: F) -> mpsc::UnboundedSender<Job>
where
    F: FnMut(Vec<Job>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
    tokio::spawn(async move {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
            jobs.retain(|j| !j.reply.is_closed());
            if !jobs.is_empty() {
                commit(std::mem::take(&mut jobs)).await;
            }
        }
    });
    tx
}

/// A post that passed its checks, ready to insert.
struct Accepted {
    job: Job,
    post: Post,
    path: String,
}

/// Writes one batch and answers each of its posts.
async fn commit_batch(pool: &PgPool, log_tick: &watch::Sender<u64>, jobs: Vec<Job>) {
    let now = now_micros();
    let mut conn = match pool.acquire().await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "post batch: no connection; writing its posts one by one");
            return alone(jobs);
        }
    };
    let checked = match check(&mut conn, &jobs, now).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "post batch: checks failed; writing its posts one by one");
            return alone(jobs);
        }
    };
    let mut ids: Vec<i64> = checked.iter().map(|(_, id)| *id).collect();
    // Ids in the batch's order (the sequence's values may come in any order).
    ids.sort_unstable();
    let mut accepted: Vec<Accepted> = Vec::with_capacity(jobs.len());
    for ((job, (mut c, _)), id) in jobs.into_iter().zip(checked).zip(ids) {
        c.duplicate |= duplicate_in_batch(&accepted, &job);
        match c.placement(job.thread_id, job.post.parent_id) {
            Ok(at) => {
                let (post, path) = new_post_record(id, &at, &job.post, now);
                accepted.push(Accepted { job, post, path });
            }
            Err(e) => {
                let _ = job.reply.send(Outcome::Done(Box::new(Err(e))));
            }
        }
    }
    if accepted.is_empty() {
        return;
    }
    match insert(&mut conn, &accepted, now).await {
        Ok(()) => {
            log_tick.send_modify(|n| *n = n.wrapping_add(1));
            for a in accepted {
                let _ = a.job.reply.send(Outcome::Done(Box::new(Ok(a.post))));
            }
        }
        // The database refused the statement: nothing of it was committed.
        Err(StoreError::Db(sqlx::Error::Database(e))) => {
            tracing::warn!(error = %e, "post batch: insert failed; writing its posts one by one");
            alone(accepted.into_iter().map(|a| a.job).collect());
        }
        Err(e) => {
            // Whether the statement committed is unknown (a lost connection): answer with the
            // error rather than write the posts again.
            tracing::error!(error = %e, "post batch: insert failed");
            let msg = e.to_string();
            for a in accepted {
                let err = sqlx::Error::Protocol(format!("insert of a batch of posts: {msg}"));
                let _ = a.job.reply.send(Outcome::Done(Box::new(Err(err.into()))));
            }
        }
    }
}

/// Sends every job back to be written alone.
fn alone(jobs: Vec<Job>) {
    for j in jobs {
        let _ = j.reply.send(Outcome::Alone);
    }
}

/// Whether an earlier post of the batch is what the duplicate check would have found, had it
/// been committed: same author and thread, the same text trimmed of whitespace, and created
/// within the window.
fn duplicate_in_batch(accepted: &[Accepted], job: &Job) -> bool {
    // The batch's posts share one creation time: within any window longer than zero.
    if job.duplicate_window.is_none_or(|w| w <= 0) {
        return false;
    }
    let body = job.post.body.trim();
    accepted.iter().any(|a| {
        a.post.author.id == job.post.author.id
            && a.post.thread_id == job.thread_id
            && a.job.post.body.trim() == body
    })
}

/// One value per item, in order: a column of a batch statement's arrays.
fn column<'a, T, U>(items: &'a [T], f: impl FnMut(&'a T) -> U) -> Vec<U> {
    items.iter().map(f).collect()
}

/// Runs the checks of every job: each job's result and its reserved id, in order.
async fn check(tx: &mut sqlx::PgConnection, jobs: &[Job], now: i64) -> Result<Vec<(Checked, i64)>> {
    let n = jobs.len();
    let since = |j: &Job| now - j.duplicate_window.unwrap_or(0);
    let rows = if let Some((sql, _)) = n.checked_sub(1).and_then(|i| PLAIN.get(i)) {
        let mut q = sqlx::query(sql);
        for j in jobs {
            q = q
                .bind(j.thread_id)
                .bind(j.post.parent_id)
                .bind(j.duplicate_window.is_some())
                .bind(j.post.author.id)
                .bind(since(j))
                .bind(body_hash(&j.post.body));
        }
        q.fetch_all(&mut *tx).await?
    } else {
        sqlx::query(CHECKS)
            .bind(column(jobs, |j| j.thread_id))
            .bind(column(jobs, |j| j.post.parent_id))
            .bind(column(jobs, |j| j.duplicate_window.is_some()))
            .bind(column(jobs, |j| j.post.author.id))
            .bind(column(jobs, since))
            .bind(column(jobs, |j| body_hash(&j.post.body)))
            .fetch_all(&mut *tx)
            .await?
    };
    if rows.len() != n {
        return Err(StoreError::Db(sqlx::Error::Protocol(format!(
            "post batch checks: {} rows for {n} posts",
            rows.len()
        ))));
    }
    let mut out = Vec::with_capacity(n);
    for r in &rows {
        out.push((
            Checked {
                region: r.try_get("region")?,
                locked: r.try_get::<Option<i64>, _>("locked")?.unwrap_or(0) != 0,
                opening_post_id: r.try_get("opening_post_id")?,
                parent_thread: r.try_get("parent_thread")?,
                parent_depth: r.try_get("parent_depth")?,
                parent_path: r.try_get("parent_path")?,
                duplicate: r.try_get::<Option<bool>, _>("duplicate")?.unwrap_or(false),
            },
            r.try_get("next_id")?,
        ));
    }
    Ok(out)
}

/// Inserts the accepted posts with their objectives, counters and numbered events: a batch of
/// up to [`PLAIN_UP_TO`] posts over plain parameters (a row each), a larger one over one array
/// per column (the same columns).
async fn insert(tx: &mut sqlx::PgConnection, accepted: &[Accepted], now: i64) -> Result<()> {
    let n = accepted.len();
    /// Binds the 19 columns of the insert, each given as a function of an accepted post and
    /// passed through `$each` (the value of one post, or the array of every post's).
    macro_rules! columns {
        ($q:expr, $each:ident) => {
            $q.bind($each!(|a: &Accepted| a.post.id))
                .bind($each!(|a: &Accepted| a.post.thread_id))
                .bind($each!(|a: &Accepted| a.post.parent_id))
                .bind($each!(|a: &Accepted| a.post.region.as_str()))
                .bind($each!(|a: &Accepted| a.post.author.id))
                .bind($each!(|a: &Accepted| a.post.depth))
                .bind($each!(|a: &Accepted| a.path.as_str()))
                .bind($each!(|a: &Accepted| a.post.kind.as_str()))
                .bind($each!(|a: &Accepted| a.job.post.body.as_str()))
                .bind($each!(|a: &Accepted| a.job.post.body_html.as_str()))
                .bind($each!(|a: &Accepted| a.post.language.as_deref()))
                .bind($each!(|a: &Accepted| i64::from(a.post.language_detected)))
                .bind($each!(|a: &Accepted| crate::rows::ids_json(
                    &a.post.objectives
                )))
                .bind($each!(|a: &Accepted| crate::rows::aspects_json(
                    &a.post.aspects
                )))
                .bind($each!(|a: &Accepted| a.post.status.as_str()))
                .bind($each!(|a: &Accepted| a.job.post.search_terms.as_str()))
                .bind($each!(|a: &Accepted| body_hash(&a.job.post.body)))
                .bind($each!(|a: &Accepted| crate::posts::audience(a.post.status)))
                .bind($each!(
                    |a: &Accepted| post_event("post.created", &a.post).payload
                ))
        };
    }
    let inserted: i64 = if let Some((_, sql)) = n.checked_sub(1).and_then(|i| PLAIN.get(i)) {
        fn value<'a, T>(a: &'a Accepted, f: impl FnOnce(&'a Accepted) -> T) -> T {
            f(a)
        }
        // A row of parameters per post, then the creation time.
        let mut q = sqlx::query_scalar(sql);
        for one in accepted {
            macro_rules! scalar {
                ($f:expr) => {
                    value(one, $f)
                };
            }
            q = columns!(q, scalar);
        }
        q.bind(now).fetch_one(&mut *tx).await?
    } else {
        macro_rules! array {
            ($f:expr) => {
                column(accepted, $f)
            };
        }
        columns!(sqlx::query_scalar(INSERT), array)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?
    };
    if usize::try_from(inserted).ok() != Some(n) {
        return Err(StoreError::Db(sqlx::Error::Protocol(format!(
            "post batch: {inserted} posts inserted of {n}"
        ))));
    }
    Ok(())
}

/// Writes a published post that came alone on SQLite (`Store::write_lone_post`) and answers it.
async fn commit_sqlite_lone(store: &crate::Store, job: Job) {
    let written = store
        .write_lone_post(job.thread_id, &job.post, job.duplicate_window, now_micros())
        .await;
    let outcome = match written {
        // Rolled back: written again in a transaction of its own.
        Err(StoreError::Db(e)) => {
            tracing::warn!(error = %e, "a post's write failed; writing it again");
            Outcome::Alone
        }
        other => Outcome::Done(Box::new(other)),
    };
    let _ = job.reply.send(outcome);
}

/// Writes one batch on SQLite, in one transaction, and answers each of its posts.
async fn commit_sqlite_batch(store: &crate::Store, mut jobs: Vec<Job>) {
    // A published post alone (the usual case unless many post at once): fewer calls to the
    // writer connection.
    if matches!(jobs.as_slice(), [j] if j.post.status == hub_domain::PostStatus::Published) {
        return commit_sqlite_lone(store, jobs.swap_remove(0)).await;
    }
    let mut tx = match store.begin_write().await {
        Ok(tx) => tx,
        Err(e) => {
            tracing::warn!(error = %e, "post batch: cannot begin; writing its posts one by one");
            return alone(jobs);
        }
    };
    let now = now_micros();
    let mut written: Vec<(Job, Post)> = Vec::with_capacity(jobs.len());
    let mut jobs = jobs.into_iter();
    while let Some(job) = jobs.next() {
        match store
            .write_post(&mut tx, job.thread_id, &job.post, job.duplicate_window, now)
            .await
        {
            Ok(post) => written.push((job, post)),
            // A statement failed: roll everything back (dropping the transaction does) and
            // let each post be written alone.
            Err(StoreError::Db(e)) => {
                tracing::warn!(error = %e, "post batch: a write failed; writing its posts one by one");
                drop(tx);
                alone(
                    written
                        .into_iter()
                        .map(|(j, _)| j)
                        .chain(std::iter::once(job))
                        .chain(jobs)
                        .collect(),
                );
                return;
            }
            // Refused by its checks: nothing of it was written.
            Err(refusal) => {
                let _ = job.reply.send(Outcome::Done(Box::new(Err(refusal))));
            }
        }
    }
    if written.is_empty() {
        return;
    }
    match store.commit(tx).await {
        Ok(()) => {
            for (job, post) in written {
                let _ = job.reply.send(Outcome::Done(Box::new(Ok(post))));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "post batch: commit failed");
            let msg = e.to_string();
            for (job, _) in written {
                let err = sqlx::Error::Protocol(format!("commit of a batch of posts: {msg}"));
                let _ = job.reply.send(Outcome::Done(Box::new(Err(err.into()))));
            }
        }
    }
}
