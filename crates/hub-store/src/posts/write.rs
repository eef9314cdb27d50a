//! Writing a new post: alone, in its own transaction, or through the group commit.

use super::checks::{
    new_post_record, post_checks_query, Checked, Placement, PG_POST_CHECKS,
    SQLITE_BEGIN_POST_CHECKS, SQLITE_POST_CHECKS,
};
use super::{body_hash, post_event, NewPost, PostChecks};
use crate::rows;
use crate::{now_micros, Backend, Created, IdempotencyKey, Result, Store, StoreError, WriteTx};
use hub_domain::{Post, PostStatus};
use sqlx::Row;

// The statements this module sends, by name: a test prepares each on both backends.
pub(crate) const STATEMENTS: &[(&str, &str)] =
    &[("posts::write::WRITE_LONE_POST", WRITE_LONE_POST)];
/// Sent on SQLite only.
pub(crate) const SQLITE_STATEMENTS: &[(&str, &str)] =
    &[("posts::write::NEXT_POST_ID_SQLITE", NEXT_POST_ID_SQLITE)];
/// Sent on PostgreSQL only.
pub(crate) const POSTGRES_STATEMENTS: &[(&str, &str)] =
    &[("posts::write::NEXT_POST_ID_POSTGRES", NEXT_POST_ID_POSTGRES)];

/// The id the next post gets: one more than the largest under SQLite's write lock...
const NEXT_POST_ID_SQLITE: &str = "SELECT COALESCE(MAX(id), 0) + 1 FROM posts";
/// ...the serial's next value on PostgreSQL.
const NEXT_POST_ID_POSTGRES: &str = "SELECT nextval(pg_get_serial_sequence('posts', 'id'))";

const WRITE_LONE_POST: &str = "ROLLBACK";

/// The columns of a new post, `$1`-`$16`, its search terms, `$17`, and the hash of its text,
/// `$18` (see [`Store::insert_post`]); the event's type, audience and payload are `$19`-`$21`.
macro_rules! insert_post_sql {
    (sqlite, $event:expr) => {
        concat!(
            "INSERT INTO posts (id, thread_id, parent_id, region, author_id, depth, path, kind, body, \
             body_html, language, language_detected, objectives, aspects, status, created_at, \
             body_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
             $16, $18); \
             INSERT INTO post_objectives (objective, post_id) SELECT value, $1 FROM json_each($13); \
             INSERT INTO search_pending (post_id, terms) VALUES ($1, $17); \
             UPDATE threads SET post_count = post_count + ($15 = 'published'), \
             last_activity_at = CASE WHEN $15 = 'published' THEN $16 ELSE last_activity_at END, \
             page_version = page_version + 1 WHERE id = $2;",
            $event
        )
    };
    (postgres, $event:expr) => {
        concat!(
            "WITH p AS (INSERT INTO posts (id, thread_id, parent_id, region, author_id, depth, path, \
             kind, body, body_html, language, language_detected, objectives, aspects, status, \
             created_at, search_terms, body_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11, $12, $13, $14, $15, $16, string_to_array($17, ' '), $18) RETURNING id), \
             o AS (INSERT INTO post_objectives (objective, post_id) \
             SELECT CAST(x.o AS BIGINT), p.id FROM p, json_array_elements_text(CAST($13 AS json)) AS x(o)), \
             t AS (UPDATE threads SET \
             post_count = post_count + CASE WHEN $15 = 'published' THEN 1 ELSE 0 END, \
             last_activity_at = CASE WHEN $15 = 'published' THEN $16 ELSE last_activity_at END, \
             page_version = page_version + 1 WHERE id = $2)",
            $event,
            " SELECT id FROM p"
        )
    };
}

const SQLITE_INSERT_POST: &str = insert_post_sql!(sqlite, "");
/// The `post.created` event of a new post on SQLite (numbered as it is inserted).
macro_rules! sqlite_post_event {
    () => {
        " INSERT INTO events (type, region, thread_id, post_id, user_id, audience, payload, created_at) \
         VALUES ($19, $4, $2, $1, $5, $20, $21, $16);"
    };
}
const SQLITE_INSERT_POST_EVENT: &str = insert_post_sql!(sqlite, sqlite_post_event!());
/// [`SQLITE_INSERT_POST_EVENT`] committing its transaction (`Store::write_lone_post`).
const SQLITE_INSERT_POST_EVENT_COMMIT: &str =
    insert_post_sql!(sqlite, concat!(sqlite_post_event!(), " COMMIT;"));
const PG_INSERT_POST: &str = insert_post_sql!(postgres, "");
const PG_INSERT_POST_EVENT: &str = insert_post_sql!(
    postgres,
    ", e AS (INSERT INTO events (type, region, thread_id, post_id, user_id, audience, payload, created_at) \
     SELECT $19, $4, $2, p.id, $5, $20, $21, $16 FROM p)"
);
/// The same, numbering the event: only while holding the numbering lock, taken by an earlier
/// statement (so this one's snapshot sees every number given before).
const PG_INSERT_POST_NUMBERED_EVENT: &str = insert_post_sql!(
    postgres,
    ", e AS (INSERT INTO events (type, region, thread_id, post_id, user_id, audience, payload, created_at, seq) \
     SELECT $19, $4, $2, p.id, $5, $20, $21, $16, (SELECT COALESCE(MAX(seq), 0) + 1 FROM events) FROM p)"
);

/// The writer connection while [`Store::write_lone_post`] may have a transaction open on it:
/// unless that is settled (committed or rolled back), it is closed when dropped rather than
/// returned to the pool, where the next `BEGIN` would find the transaction still open.
struct Unsettled {
    conn: sqlx::pool::PoolConnection<sqlx::Any>,
    settled: bool,
}

impl Drop for Unsettled {
    fn drop(&mut self) {
        if !self.settled {
            self.conn.close_on_drop();
        }
    }
}

/// The statement `sql` (one of the `insert_post_sql!` statements) bound to a new post: its
/// columns, and with `event` its `post.created` event.
fn insert_post_query<'q>(
    sql: &'q str,
    at: &'q Placement,
    p: &'q NewPost,
    post: &Post,
    path: &'q str,
    now: i64,
    event: bool,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let q = sqlx::query(sql)
        .bind(post.id)
        .bind(at.thread_id)
        .bind(post.parent_id)
        .bind(&at.region)
        .bind(p.author.id)
        .bind(post.depth)
        .bind(path)
        .bind(p.kind.as_str())
        .bind(&p.body)
        .bind(&p.body_html)
        .bind(&p.language)
        .bind(i64::from(p.language_detected))
        .bind(rows::ids_json(&p.objectives))
        .bind(rows::aspects_json(&p.aspects))
        .bind(p.status.as_str())
        .bind(now)
        .bind(&p.search_terms)
        .bind(body_hash(&p.body));
    if event {
        let e = post_event("post.created", post);
        let audience = if at.withheld {
            "restricted"
        } else {
            e.audience
        };
        q.bind(e.kind).bind(audience).bind(e.payload)
    } else {
        q
    }
}

impl Store {
    /// The id the next post gets, taken before its insert so that its `path` (which ends with
    /// the id) is written with the row instead of by an update afterwards. On SQLite the write
    /// lock is held, so the next rowid is one more than the largest; on PostgreSQL it is the
    /// serial's next value.
    pub(crate) async fn next_post_id(&self, tx: &mut WriteTx) -> Result<i64> {
        let sql = match self.backend {
            Backend::Sqlite => NEXT_POST_ID_SQLITE,
            Backend::Postgres => NEXT_POST_ID_POSTGRES,
        };
        Ok(sqlx::query_scalar(sql).fetch_one(&mut *tx.tx).await?)
    }

    /// Inserts a post with id `id` (from [`Store::next_post_id`]), its objectives and search
    /// terms, bumps its thread, and, with `event`, appends its `post.created` event: one
    /// statement on PostgreSQL (data-modifying CTEs), one batch of statements in one call on
    /// SQLite (each call is a hop to the connection's worker thread).
    pub(crate) async fn insert_post(
        &self,
        tx: &mut WriteTx,
        id: i64,
        at: &Placement,
        p: &NewPost,
        now: i64,
        event: bool,
    ) -> Result<Post> {
        let (post, path) = new_post_record(id, at, p, now);
        let sql = match (self.backend, event, tx.numbering) {
            (Backend::Sqlite, false, _) => SQLITE_INSERT_POST,
            (Backend::Sqlite, true, _) => SQLITE_INSERT_POST_EVENT,
            (Backend::Postgres, false, _) => PG_INSERT_POST,
            (Backend::Postgres, true, false) => PG_INSERT_POST_EVENT,
            (Backend::Postgres, true, true) => PG_INSERT_POST_NUMBERED_EVENT,
        };
        insert_post_query(sql, at, p, &post, &path, now, event)
            .execute(&mut *tx.tx)
            .await?;
        if event {
            if tx.numbering {
                tx.numbered_events = true;
            } else {
                tx.wrote_events = true;
            }
        }
        Ok(post)
    }

    /// Adds a reply (or top-level post) to a thread.
    pub async fn create_post(
        &self,
        thread_id: i64,
        p: &NewPost,
        idem: Option<&IdempotencyKey>,
    ) -> Result<Created<Post>> {
        self.create_post_checked(thread_id, p, idem, &PostChecks::default())
            .await
    }

    /// Adds a reply (or top-level post) to a thread, with `checks` made in its write
    /// transaction. The thread, the parent, the duplicate check and the new post's id are one
    /// query; the post, its objectives, search terms, thread counters and event one more.
    pub async fn create_post_checked(
        &self,
        thread_id: i64,
        p: &NewPost,
        idem: Option<&IdempotencyKey>,
        checks: &PostChecks,
    ) -> Result<Created<Post>> {
        // In flight from here (the group commit's transaction is not this call's).
        let _busy = self.activity.enter();
        // A published post without a key joins the next group commit (`batch.rs`); keyed and
        // pending posts, which write more rows, go alone.
        // So do moderators' posts: the batch statement does not know their regions.
        if let (Some(batcher), None, PostStatus::Published, true) = (
            &self.batcher,
            idem,
            p.status,
            checks.moderated_regions.is_empty() && !checks.unrestricted,
        ) {
            match batcher
                .submit(thread_id, p.clone(), checks.duplicate_window_micros)
                .await
            {
                super::batch::Outcome::Done(r) => return (*r).map(Created::New),
                super::batch::Outcome::Alone => {}
            }
        }
        let mut tx = self.begin_write().await?;
        if let Some(key) = idem {
            if let Some(id) = self.claim_idempotency_key(&mut tx, key, "post").await? {
                drop(tx);
                self.await_numbered(thread_id, Some(id)).await?;
                return Ok(Created::Replayed(id));
            }
        }
        let post = self
            .write_post(
                &mut tx,
                thread_id,
                p,
                checks.duplicate_window_micros,
                (!checks.unrestricted).then_some(checks.moderated_regions.as_slice()),
                now_micros(),
            )
            .await?;
        if let Some(key) = idem {
            self.complete_idempotency_key(&mut tx, key, post.id).await?;
        }
        self.commit(tx).await?;
        Ok(Created::New(post))
    }

    /// Checks and writes one new post in `tx`: the thread, the parent, the duplicate check and
    /// the new post's id are one query; the post, its objectives, search terms, thread
    /// counters and event one more (and a pending post its queue entry). A refusal (no such
    /// thread, a duplicate, ...) writes nothing.
    pub(crate) async fn write_post(
        &self,
        tx: &mut WriteTx,
        thread_id: i64,
        p: &NewPost,
        duplicate_window: Option<i64>,
        moderated_regions: Option<&[String]>,
        now: i64,
    ) -> Result<Post> {
        let sql = match self.backend {
            Backend::Sqlite => SQLITE_POST_CHECKS,
            Backend::Postgres => PG_POST_CHECKS,
        };
        let row = post_checks_query(sql, thread_id, p, duplicate_window, now)
            .fetch_optional(&mut *tx.tx)
            .await?
            .ok_or(StoreError::NotFound("thread"))?;
        tx.numbering = self.backend == Backend::Postgres && row.try_get::<bool, _>("numbering")?;
        let (checked, id) = Checked::from_row(&row)?;
        let at = checked.placement(thread_id, p.parent_id, p.author.id, moderated_regions)?;
        let post = self.insert_post(tx, id, &at, p, now, true).await?;
        if post.status == PostStatus::Pending {
            self.enqueue(tx, &post).await?;
        }
        Ok(post)
    }

    /// [`Store::write_post`] of a published post in a transaction of its own, on SQLite, in
    /// two calls to the writer connection's thread instead of four: `BEGIN IMMEDIATE` with the
    /// checks, then the insert with `COMMIT`. Each call is a hand-over to that thread and back,
    /// which on this kind of machine costs more than the statements (the profile of one
    /// writer: a fifth of the time in switching threads). Should anything fail, the
    /// transaction is rolled back, and a connection left in an unknown state is closed.
    pub(crate) async fn write_lone_post(
        &self,
        thread_id: i64,
        p: &NewPost,
        duplicate_window: Option<i64>,
        now: i64,
    ) -> Result<Post> {
        debug_assert!(self.backend == Backend::Sqlite && p.status == PostStatus::Published);
        let _turn = self.write_turn().await;
        let mut conn = Unsettled {
            conn: self.writer.acquire().await?,
            settled: false,
        };
        let written = async {
            let row = post_checks_query(
                SQLITE_BEGIN_POST_CHECKS,
                thread_id,
                p,
                duplicate_window,
                now,
            )
            // All rows: `fetch_optional` would stop at `BEGIN`'s result, which has none.
            .fetch_all(&mut *conn.conn)
            .await?
            .pop()
            .ok_or(StoreError::NotFound("thread"))?;
            let (checked, id) = Checked::from_row(&row)?;
            // Moderators' posts are not written here (`create_post_checked`).
            let at = checked.placement(thread_id, p.parent_id, p.author.id, Some(&[]))?;
            let (post, path) = new_post_record(id, &at, p, now);
            insert_post_query(
                SQLITE_INSERT_POST_EVENT_COMMIT,
                &at,
                p,
                &post,
                &path,
                now,
                true,
            )
            .execute(&mut *conn.conn)
            .await?;
            Ok::<_, StoreError>(post)
        }
        .await;
        match written {
            Ok(post) => {
                conn.settled = true;
                self.tick_log();
                Ok(post)
            }
            Err(e) => {
                // The transaction may be open (a refusal, a failed insert) or not (`BEGIN`
                // failed): roll back if it is; "no transaction is active" is fine too.
                conn.settled = match sqlx::query(WRITE_LONE_POST).execute(&mut *conn.conn).await {
                    Ok(_) => true,
                    Err(sqlx::Error::Database(d)) => d.message().contains("no transaction"),
                    Err(_) => false,
                };
                Err(e)
            }
        }
    }
}

/// The insert statements of a new post in `backend`'s dialect, by name.
pub(super) fn statements(backend: Backend) -> Vec<(String, String)> {
    let list: &[(&'static str, &str)] = match backend {
        Backend::Sqlite => &[
            ("posts::insert", SQLITE_INSERT_POST),
            ("posts::insert_with_event", SQLITE_INSERT_POST_EVENT),
            (
                "posts::insert_with_event_commit",
                SQLITE_INSERT_POST_EVENT_COMMIT,
            ),
        ],
        Backend::Postgres => &[
            ("posts::insert", PG_INSERT_POST),
            ("posts::insert_with_event", PG_INSERT_POST_EVENT),
            (
                "posts::insert_with_numbered_event",
                PG_INSERT_POST_NUMBERED_EVENT,
            ),
        ],
    };
    list.iter()
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect()
}
