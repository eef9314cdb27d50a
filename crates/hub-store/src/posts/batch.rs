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
//! are handed to one committer task, which writes whatever has queued up in one statement, its
//! own transaction (no `BEGIN`/`COMMIT` round trips; see [`BATCH_SQL`]): it checks every post
//! (thread, parent, duplicate), takes an id for each that passed, and inserts those posts,
//! their objectives, the threads' counters and their events, numbered in the batch's order
//! after the highest `seq`, read by `hub_numbering_base()` (migration 0006) once it holds the
//! event log's numbering lock (`events/`), which the statement keeps until it has committed:
//! numberings commit one at a time, in `seq` order, and every post is durable, its event in
//! the log, before any post of the batch is answered. Checking in a statement of its own first
//! cost a round trip per batch: at one writer a tenth of a post's time, at eight writers a
//! fifth of the committer's.
//!
//! The checks read committed data as the single write's checks do (read committed, no row
//! locks): a thread locked meanwhile or a parent deleted meanwhile is the same race either way.
//! A post that fails its checks gets the answer it would get alone (a missing thread, a
//! duplicate, a locked thread, a bad parent) and the others go on; a duplicate of an earlier
//! post of the same batch is refused as if that one had committed. Should the statement fail,
//! nothing of it is committed and its posts are sent back to be written one by one
//! ([`Outcome::Alone`]), so one bad post cannot fail the others. While a batch is written the
//! next one gathers, so the batch size follows the load: one post at a time when writes are
//! few.

use super::{body_hash, new_post_record, post_event, Checked};
use crate::visible;
use crate::{now_micros, NewPost, Result, StoreError};
use hub_domain::Post;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::Row;
use std::str::FromStr;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};

/// Most posts written in one transaction.
const MAX_BATCH: usize = 64;

/// The statement that checks and writes a batch (`__ROWS__`: a row source with each post's
/// fields, in the order of [`TYPES`], then `n`, its place in the batch; `__NOW__`: the creation
/// time's parameter), in one round trip:
///
/// - `c`, `v`, `w`: each post's checks, the same conditions as the single write's in `posts/checks.rs`
///   and [`Checked::placement`]: its thread (no region: no such thread), locked or not, the
///   parent (given, or the opening post) in the same thread and not too deep, and whether the
///   text is a duplicate of a recent post or of an earlier post of the batch that is written
///   (`fits` and not itself a duplicate of a stored post; the first such one is written);
/// - `r`, `ids`: an id from the sequence for each post that passed, in the batch's order;
/// - `a`: the posts that passed, with their depth and `path` (the parent's, then the id on
///   [`crate::posts::PATH_SEGMENT`] digits) and `k`, their place among those written;
/// - the posts, their objectives, their threads' counters and their `post.created` events,
///   numbered `base + k` after the highest `seq`, read by `hub_numbering_base()` (migration
///   0006) once it holds the event log's numbering lock. Every row comes through `j`, which
///   joins the numbering base: the lock is taken before any row is written or locked, so a
///   statement waiting for it holds nothing a numbering writer could wait for. The event's
///   payload is the post's JSON made in Rust with marks for the four fields only known here
///   (see [`Marks`]), replaced with their values;
/// - every post's checks, its duplicate verdict and, if written, its id: Rust answers each
///   post from them (`Checked::placement` gives the same verdict as `fits`).
const BATCH_SQL: &str = concat!(
    "WITH b AS (SELECT hub_numbering_base() AS base), \
     j AS (SELECT u.*, b.base FROM b, __ROWS__ AS u(thread_id, parent_id, dup, author_id, \
     since, hash, kind, body, body_html, language, language_detected, objectives, aspects, \
     status, search_terms, audience, payload, n)), \
     c AS (SELECT j.*, t.region, t.locked, t.opening_post_id, \
     COALESCE(j.parent_id, t.opening_post_id) AS pid, pp.thread_id AS parent_thread, \
     pp.depth AS parent_depth, pp.path AS parent_path, \
     op.status AS opening_status, op.author_id AS opening_author, \
     pp.status AS parent_status, pp.author_id AS parent_author, \
     COALESCE(j.dup AND EXISTS (SELECT 1 FROM posts d WHERE d.author_id = j.author_id \
     AND d.body_hash = j.hash AND d.created_at > j.since \
     AND d.region = t.region AND d.thread_id = t.id), false) AS stored_dup \
     FROM j LEFT JOIN threads t ON t.id = j.thread_id \
     LEFT JOIN posts pp ON pp.id = COALESCE(j.parent_id, t.opening_post_id) \
     LEFT JOIN posts op ON ",
    visible::opening_post_of!("t", "op"),
    "), v AS (SELECT c.*, (c.region IS NOT NULL AND COALESCE(c.locked, 0) = 0 AND ",
    visible::author_sees!("c.opening_status", "c.opening_author", "c.author_id"),
    " AND ",
    visible::author_sees!("c.parent_status", "c.parent_author", "c.author_id"),
    " AND (c.pid IS NULL OR COALESCE(c.parent_thread = c.thread_id \
     AND c.parent_depth + 1 <= __DEPTH_MAX__, false))) AS fits FROM c), \
     w AS (SELECT v.*, (v.stored_dup OR (v.dup AND v.since < __NOW__ \
     AND COALESCE(bool_or(v.fits AND NOT v.stored_dup) OVER (PARTITION BY v.author_id, \
     v.thread_id, v.hash ORDER BY v.n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), \
     false))) AS duplicate FROM v), \
     r AS (SELECT w.n, nextval(pg_get_serial_sequence('posts', 'id')) AS id FROM w \
     WHERE w.fits AND NOT w.duplicate), \
     ids AS (SELECT x.n, y.id, x.k FROM \
     (SELECT r.n, row_number() OVER (ORDER BY r.n) AS k FROM r) x JOIN \
     (SELECT r.id, row_number() OVER (ORDER BY r.id) AS k FROM r) y ON y.k = x.k), \
     a AS (SELECT w.*, ids.id, ids.k, \
     CASE WHEN w.pid IS NULL THEN 0 ELSE w.parent_depth + 1 END AS depth, \
     COALESCE(w.parent_path, '') || lpad(ids.id::text, greatest(__SEGMENT__, \
     length(ids.id::text)), '0') || '/' AS path FROM w JOIN ids ON ids.n = w.n), \
     p AS (INSERT INTO posts (id, thread_id, parent_id, region, author_id, depth, path, \
     kind, body, body_html, language, language_detected, objectives, aspects, status, \
     created_at, search_terms, body_hash) SELECT id, thread_id, pid, region, \
     author_id, depth, path, kind, body, body_html, language, language_detected, \
     objectives, aspects, status, __NOW__, string_to_array(search_terms, ' '), hash \
     FROM a ORDER BY n RETURNING id), \
     o AS (INSERT INTO post_objectives (objective, post_id) \
     SELECT CAST(x.o AS BIGINT), a.id FROM p JOIN a ON a.id = p.id, \
     json_array_elements_text(CAST(a.objectives AS json)) AS x(o)), \
     t AS (UPDATE threads SET post_count = post_count + c.k, \
     last_activity_at = CASE WHEN c.k > 0 THEN __NOW__ ELSE last_activity_at END, \
     page_version = page_version + 1 \
     FROM (SELECT thread_id, count(*) FILTER (WHERE status = 'published') AS k FROM a \
     GROUP BY thread_id) c WHERE threads.id = c.thread_id), \
     e AS (INSERT INTO events (type, region, thread_id, post_id, user_id, audience, \
     payload, created_at, seq) SELECT 'post.created', region, thread_id, id, author_id, \
     ",
    visible::thread_audience!("opening_status", "audience"),
    ", replace(replace(replace(replace(payload, \
     '\"id\":__MARK_ID__', '\"id\":' || id), \
     '\"region\":\"__MARK_REGION__\"', '\"region\":' || to_json(region)::text), \
     '\"parent_id\":__MARK_PARENT__', '\"parent_id\":' || COALESCE(pid::text, 'null')), \
     '\"depth\":__MARK_DEPTH__', '\"depth\":' || depth), __NOW__, base + k FROM a ORDER BY n) \
     SELECT w.region, w.locked, w.opening_post_id, w.parent_thread, w.parent_depth, \
     w.parent_path, w.opening_status, w.opening_author, w.parent_status, w.parent_author, \
     w.duplicate, ids.id FROM w LEFT JOIN ids ON ids.n = w.n ORDER BY w.n"
);

/// The types of the batch statement's fields, in order.
const TYPES: [&str; 17] = [
    "int8", "int8", "bool", "int8", "int8", "int8", "text", "text", "text", "text", "int8", "text",
    "text", "text", "text", "text", "text",
];

/// The array form of the batch's rows: one array per field.
fn arrays_sql() -> String {
    let arrays: Vec<String> = TYPES
        .iter()
        .enumerate()
        .map(|(i, ty)| format!("${}::{ty}[]", i + 1))
        .collect();
    format!("unnest({}) WITH ORDINALITY", arrays.join(", "))
}

/// Marks in a post's JSON for the fields the batch statement fills in: the id, the region, the
/// parent and the depth. Serialized as JSON numbers (and a plain string), after their field's
/// name and colon: the text of a post cannot hold them so, since a JSON string escapes every
/// quote in it.
struct Marks;

impl Marks {
    const ID: i64 = -7_316_000_000_000_000_001;
    const PARENT: i64 = -7_316_000_000_000_000_002;
    const DEPTH: i64 = -7_316_000_000_000_000_003;
    const REGION: &'static str = "@region@";

    /// The payload of a new post's event, with marks where the statement puts the four fields.
    fn payload(thread_id: i64, p: &NewPost, now: i64) -> String {
        let at = super::Placement {
            thread_id,
            region: Self::REGION.to_string(),
            parent: Some((Self::PARENT, Self::DEPTH - 1, String::new())),
            withheld: false,
        };
        let (post, _) = new_post_record(Self::ID, &at, p, now);
        post_event("post.created", &post).payload
    }
}

/// The batch statement over plain parameters for `n` posts, up to [`PLAIN_UP_TO`]; `None`
/// beyond, where the statement over arrays ([`ARRAYS`]) serves.
fn plain_sql(n: usize) -> Option<&'static str> {
    n.checked_sub(1)
        .and_then(|i| PLAIN.get(i))
        .map(String::as_str)
}

/// `BATCH_SQL` with its constants in, and `__NOW__` the parameter numbered `now`.
fn batch_statement(rows: &str, now: usize) -> String {
    BATCH_SQL
        .replace("__ROWS__", rows)
        .replace("__NOW__", &format!("${now}"))
        .replace(
            "__DEPTH_MAX__",
            &hub_domain::validate::DEPTH_MAX.to_string(),
        )
        .replace("__SEGMENT__", &super::PATH_SEGMENT.to_string())
        .replace("__MARK_ID__", &Marks::ID.to_string())
        .replace("__MARK_PARENT__", &Marks::PARENT.to_string())
        .replace("__MARK_DEPTH__", &Marks::DEPTH.to_string())
        .replace("__MARK_REGION__", Marks::REGION)
}

/// The batch statement over arrays (any size).
static ARRAYS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| batch_statement(&arrays_sql(), TYPES.len() + 1));

/// Batches of at most this many posts are written by statements over plain parameters, a
/// `VALUES` row per post, one statement text per batch size: PostgreSQL plans such a statement
/// once on a connection and keeps the plan, where a statement over arrays is planned at every
/// run (at one post a batch that planning was a large part of its cost, and at eight writers a
/// batch holds about four posts). Larger batches use the arrays.
const PLAIN_UP_TO: usize = 16;

/// `(VALUES ($1::int8, ...), ...)` for `n` rows of the fields of [`TYPES`], the parameters
/// numbered row by row from `$1`, each row ending with its place (`1` to `n`).
fn values_sql(n: usize) -> String {
    let rows: Vec<String> = (0..n)
        .map(|row| {
            let fields: Vec<String> = TYPES
                .iter()
                .enumerate()
                .map(|(i, ty)| format!("${}::{ty}", row * TYPES.len() + i + 1))
                .collect();
            format!("({}, {}::int8)", fields.join(", "), row + 1)
        })
        .collect();
    format!("(VALUES {})", rows.join(", "))
}

/// For each batch size from 1 to [`PLAIN_UP_TO`]: the batch statement over plain parameters,
/// the creation time the parameter after the rows'.
static PLAIN: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    (1..=PLAIN_UP_TO)
        .map(|n| batch_statement(&values_sql(n), n * TYPES.len() + 1))
        .collect()
});

/// The group commit's statements (PostgreSQL; SQLite writes a batch with the single write's
/// statements): one per batch size over plain parameters, and the one over arrays.
pub(super) fn statements(backend: crate::Backend) -> Vec<(String, String)> {
    if backend == crate::Backend::Sqlite {
        return Vec::new();
    }
    let plain = PLAIN.iter().enumerate();
    let mut out: Vec<(String, String)> = plain
        .map(|(i, sql)| (format!("batch::plain_{}", i + 1), sql.clone()))
        .collect();
    out.push(("batch::arrays".to_string(), ARRAYS.clone()));
    out
}

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
    /// Written and committed, or refused by its checks, or the batch's statement failed in a
    /// way that leaves unknown whether it committed.
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
    /// Its statement over arrays (batches of more than [`PLAIN_UP_TO`] posts) is planned at
    /// each run (PostgreSQL's default for statements with array parameters): forcing generic
    /// plans, planned once on a connection while the tables were small, made the batches
    /// slower in the benchmark, not faster, and did not speed up the plain statements either.
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
    let rows = match write(&mut conn, &jobs, now).await {
        Ok(rows) => rows,
        // The database refused the statement: nothing of it was committed.
        Err(StoreError::Db(sqlx::Error::Database(e))) => {
            tracing::warn!(error = %e, "post batch: its write failed; writing its posts one by one");
            return alone(jobs);
        }
        Err(e) => {
            // Whether the statement committed is unknown (a lost connection, a row that did not
            // decode): answer with the error rather than write the posts again, and let the
            // log's readers look (a wake-up for nothing if it did not commit).
            tracing::error!(error = %e, "post batch: its write failed");
            crate::tick(log_tick);
            let msg = e.to_string();
            for j in jobs {
                let err = sqlx::Error::Protocol(format!("write of a batch of posts: {msg}"));
                let _ = j.reply.send(Outcome::Done(Box::new(Err(err.into()))));
            }
            return;
        }
    };
    let mut answers = Vec::with_capacity(jobs.len());
    let mut written = false;
    for (job, (checked, id)) in jobs.into_iter().zip(rows) {
        // Moderators' posts do not come here (`create_post_checked`): no regions to pass.
        let outcome = match (
            checked.placement(
                job.thread_id,
                job.post.parent_id,
                job.post.author.id,
                Some(&[]),
            ),
            id,
        ) {
            (Ok(at), Some(id)) => {
                written = true;
                Outcome::Done(Box::new(Ok(new_post_record(id, &at, &job.post, now).0)))
            }
            // Refused by its checks: nothing of it was written.
            (Err(refusal), None) => Outcome::Done(Box::new(Err(refusal))),
            // The statement and `placement` disagree (a bug): not written, so written alone.
            (Ok(_), None) => {
                tracing::error!("post batch: a post that passed its checks was not written");
                Outcome::Alone
            }
            (Err(refusal), Some(id)) => {
                written = true;
                tracing::error!(id, %refusal, "post batch: a refused post was written");
                let err = sqlx::Error::Protocol(format!("post {id} was written though {refusal}"));
                Outcome::Done(Box::new(Err(err.into())))
            }
        };
        answers.push((job.reply, outcome));
    }
    if written {
        crate::tick(log_tick);
    }
    for (reply, outcome) in answers {
        let _ = reply.send(outcome);
    }
}

/// Sends every job back to be written alone.
fn alone(jobs: Vec<Job>) {
    for j in jobs {
        let _ = j.reply.send(Outcome::Alone);
    }
}

/// One value per item, in order: a column of a batch statement's arrays.
fn column<'a, T, U>(items: &'a [T], f: impl FnMut(&'a T) -> U) -> Vec<U> {
    items.iter().map(f).collect()
}

/// Checks and writes the posts of `jobs` in one statement ([`BATCH_SQL`]): each post's
/// checks, in order, and its id if it was written.
async fn write(
    conn: &mut sqlx::PgConnection,
    jobs: &[Job],
    now: i64,
) -> Result<Vec<(Checked, Option<i64>)>> {
    let n = jobs.len();
    /// Binds the fields of [`TYPES`], each given as a function of a job and passed through
    /// `$each` (the value of one job, or the array of every job's).
    macro_rules! fields {
        ($q:expr, $each:ident) => {
            $q.bind($each!(|j: &Job| j.thread_id))
                .bind($each!(|j: &Job| j.post.parent_id))
                .bind($each!(|j: &Job| j.duplicate_window.is_some()))
                .bind($each!(|j: &Job| j.post.author.id))
                .bind($each!(|j: &Job| now - j.duplicate_window.unwrap_or(0)))
                .bind($each!(|j: &Job| body_hash(&j.post.body)))
                .bind($each!(|j: &Job| j.post.kind.as_str()))
                .bind($each!(|j: &Job| j.post.body.as_str()))
                .bind($each!(|j: &Job| j.post.body_html.as_str()))
                .bind($each!(|j: &Job| j.post.language.as_deref()))
                .bind($each!(|j: &Job| i64::from(j.post.language_detected)))
                .bind($each!(|j: &Job| crate::rows::ids_json(&j.post.objectives)))
                .bind($each!(|j: &Job| crate::rows::aspects_json(&j.post.aspects)))
                .bind($each!(|j: &Job| j.post.status.as_str()))
                .bind($each!(|j: &Job| j.post.search_terms.as_str()))
                .bind($each!(|j: &Job| super::audience(j.post.status)))
                .bind($each!(|j: &Job| Marks::payload(j.thread_id, &j.post, now)))
        };
    }
    let rows = if let Some(sql) = plain_sql(n) {
        fn value<'a, T>(j: &'a Job, f: impl FnOnce(&'a Job) -> T) -> T {
            f(j)
        }
        // A row of parameters per post, then the creation time.
        let mut q = sqlx::query(sql);
        for one in jobs {
            macro_rules! scalar {
                ($f:expr) => {
                    value(one, $f)
                };
            }
            q = fields!(q, scalar);
        }
        q.bind(now).fetch_all(&mut *conn).await?
    } else {
        macro_rules! array {
            ($f:expr) => {
                column(jobs, $f)
            };
        }
        fields!(sqlx::query(&ARRAYS), array)
            .bind(now)
            .fetch_all(&mut *conn)
            .await?
    };
    if rows.len() != n {
        return Err(StoreError::Db(sqlx::Error::Protocol(format!(
            "post batch: {} rows for {n} posts",
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
                opening_status: r.try_get("opening_status")?,
                opening_author: r.try_get("opening_author")?,
                parent_status: r.try_get("parent_status")?,
                parent_author: r.try_get("parent_author")?,
                duplicate: r.try_get::<Option<bool>, _>("duplicate")?.unwrap_or(false),
            },
            r.try_get("id")?,
        ));
    }
    Ok(out)
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
            .write_post(
                &mut tx,
                job.thread_id,
                &job.post,
                job.duplicate_window,
                Some(&[]),
                now,
            )
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

#[cfg(test)]
mod tests {
    use super::*;
    use hub_domain::{AuthorRef, PostKind, PostStatus, StakeholderGroup};

    /// Each mark occurs once in a post's marked JSON, whatever its text and author's name hold
    /// (even the marks themselves), and is in the batch statement; replaced as the statement
    /// replaces them, they give the JSON of the post as written.
    #[test]
    fn marks_occur_once_and_give_the_post_as_written() {
        let body = format!(
            "\"id\":{} \"region\":\"{}\" \"depth\":{}",
            Marks::ID,
            Marks::REGION,
            Marks::DEPTH
        );
        let post = NewPost {
            author: AuthorRef {
                id: 7,
                display_name: format!("\"parent_id\":{}", Marks::PARENT),
                organisation: None,
                stakeholder_group: StakeholderGroup::Other,
                country: None,
            },
            parent_id: None,
            kind: PostKind::Comment,
            body_html: format!("<p>{body}</p>"),
            body,
            search_terms: String::new(),
            language: Some("en".into()),
            language_detected: false,
            objectives: vec![3],
            aspects: vec![],
            status: PostStatus::Published,
        };
        let now = 1_700_000_000_000_000;
        let marked = Marks::payload(42, &post, now);
        let fields = [
            (format!("\"id\":{}", Marks::ID), "\"id\":913"),
            (
                format!("\"region\":\"{}\"", Marks::REGION),
                "\"region\":\"asia-pacific\"",
            ),
            (
                format!("\"parent_id\":{}", Marks::PARENT),
                "\"parent_id\":null",
            ),
            (format!("\"depth\":{}", Marks::DEPTH), "\"depth\":0"),
        ];
        let mut filled = marked.clone();
        for (mark, value) in &fields {
            assert_eq!(
                marked.matches(mark.as_str()).count(),
                1,
                "{mark} in {marked}"
            );
            for sql in [plain_sql(1).unwrap_or_default(), ARRAYS.as_str()] {
                assert!(
                    sql.contains(&format!("'{mark}'")),
                    "{mark} in the statement"
                );
            }
            filled = filled.replace(mark.as_str(), value);
        }
        let at = crate::posts::Placement {
            thread_id: 42,
            region: "asia-pacific".into(),
            parent: None,
            withheld: false,
        };
        let (written, _) = new_post_record(913, &at, &post, now);
        assert_eq!(filled, post_event("post.created", &written).payload);
    }
}
