//! Threads: creating one with its opening post, reading and listing with filters.

use crate::posts::{post_event, Placement};
use crate::rows::{self, Args, AUTHOR_COLUMNS, THREAD_COLUMNS};
use crate::visible;
use crate::{
    now_micros, Backend, Created, IdempotencyKey, NewEvent, NewPost, Page, Result, Store,
    StoreError,
};
use hub_domain::{search, Post, PostKind, RegionCounts, Thread, ThreadSort};
use sqlx::Row;

// The statements this module sends, by name: a test prepares each on both backends.
pub(crate) const STATEMENTS: &[(&str, &str)] = &[
    ("threads::CREATE_THREAD_INSERT", CREATE_THREAD_INSERT),
    ("threads::CREATE_THREAD_INSERT_2", CREATE_THREAD_INSERT_2),
    ("threads::CREATE_THREAD_UPDATE", CREATE_THREAD_UPDATE),
    ("threads::REGION_COUNTS", REGION_COUNTS),
];

/// One thread with its author (text formatted once, from the column lists).
static THREAD_BY_ID: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {THREAD_COLUMNS}, {AUTHOR_COLUMNS} FROM threads t JOIN users u ON u.id = t.author_id WHERE t.id = $1"
    )
});
const REGION_COUNTS: &str = concat!(
    "SELECT t.region AS region, CAST(COUNT(DISTINCT t.id) AS BIGINT) AS threads, \
     CAST((SELECT COUNT(*) FROM posts p WHERE p.region = t.region AND ",
    visible::published!("p"),
    ") AS BIGINT) AS posts, \
     CAST((SELECT COUNT(DISTINCT p.author_id) FROM posts p WHERE p.region = t.region AND ",
    visible::published!("p"),
    ") AS BIGINT) AS participants \
     FROM threads t GROUP BY t.region",
);

const CREATE_THREAD_INSERT: &str = "INSERT INTO threads (region, title, author_id, kind, objectives, created_at, last_activity_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id";
const CREATE_THREAD_INSERT_2: &str =
    "INSERT INTO thread_objectives (objective, thread_id) VALUES ($1, $2)";
const CREATE_THREAD_UPDATE: &str = "UPDATE threads SET opening_post_id = $1 WHERE id = $2";

/// The statement listing threads as `q` asks, in `backend`'s dialect, its parameters pushed on
/// `args`.
fn list_threads_sql(backend: Backend, q: &ThreadQuery, args: &mut Args) -> Result<String> {
    let key = match q.sort {
        ThreadSort::Activity => "t.last_activity_at",
        ThreadSort::New => "t.created_at",
        ThreadSort::Top => "t.endorsements",
    };
    let mut sql = format!(
        "SELECT {THREAD_COLUMNS}, {AUTHOR_COLUMNS}, {key} AS sort_key FROM threads t \
             JOIN users u ON u.id = t.author_id WHERE t.region = $1"
    );
    args.push_text(q.region.clone()); // $1, in the statement above
    if let Some(o) = q.objective {
        let p = args.push_int(o);
        sql.push_str(&format!(
            " AND t.id IN (SELECT thread_id FROM thread_objectives WHERE objective = {p})"
        ));
    }
    if let Some(k) = q.kind {
        let p = args.push_text(k.as_str().to_string());
        sql.push_str(&format!(" AND t.kind = {p}"));
    }
    if !q.moderator {
        let v = args.push_int(q.viewer_id.unwrap_or(0));
        sql.push_str(&format!(
            " AND (t.author_id = {v} OR NOT {withheld})",
            withheld = visible::thread_withheld!("t")
        ));
    }
    let terms = q.q.as_deref().map(search::query_terms).unwrap_or_default();
    if !terms.is_empty() {
        match backend {
            Backend::Sqlite => {
                // FTS5 syntax: each term quoted (they are alphanumeric already), all must match.
                let expr = terms
                    .iter()
                    .map(|t| format!("\"{t}\""))
                    .collect::<Vec<_>>()
                    .join(" ");
                let p = args.push_text(expr);
                sql.push_str(&format!(
                        " AND t.id IN (SELECT p.thread_id FROM post_search s JOIN posts p ON p.id = s.rowid \
                         WHERE post_search MATCH {p} AND {published})",
                        published = visible::published!("p")
                    ));
            }
            Backend::Postgres => {
                let p = args.push_text(terms.join(" "));
                sql.push_str(&format!(
                    " AND t.id IN (SELECT p.thread_id FROM posts p \
                         WHERE p.search_terms @> string_to_array({p}, ' ') AND {published})",
                    published = visible::published!("p")
                ));
            }
        }
    }
    if let Some(c) = &q.cursor {
        let parts = rows::decode_cursor(c, 3)?;
        let pinned = args.push_int(rows::cursor_int(&parts[0])?);
        let k = args.push_int(rows::cursor_int(&parts[1])?);
        let id = args.push_int(rows::cursor_int(&parts[2])?);
        sql.push_str(&format!(
            " AND (t.pinned, {key}, t.id) < ({pinned}, {k}, {id})"
        ));
    }
    let limit_p = args.push_int(q.limit + 1);
    sql.push_str(&format!(
        " ORDER BY t.pinned DESC, {key} DESC, t.id DESC LIMIT {limit_p}"
    ));
    Ok(sql)
}

/// The statements built per call, each as one representative instance (every filter, a
/// search, after a cursor), by name.
pub(crate) fn built_statements(backend: Backend) -> Vec<(String, String)> {
    let q = ThreadQuery {
        region: "africa".into(),
        objective: Some(1),
        kind: Some(PostKind::Comment),
        q: Some("water".into()),
        sort: ThreadSort::Top,
        cursor: Some(rows::encode_cursor(&["1".into(), "2".into(), "3".into()])),
        limit: 10,
        viewer_id: Some(1),
        moderator: false,
    };
    let mut args = Args::default();
    list_threads_sql(backend, &q, &mut args)
        .map(|sql| vec![("threads::list_threads (built)".to_string(), sql)])
        .unwrap_or_default()
        .into_iter()
        .chain([("threads::THREAD_BY_ID".to_string(), THREAD_BY_ID.clone())])
        .collect()
}

/// A thread to open.
#[derive(Debug, Clone)]
pub struct NewThread {
    /// Region slug (validated by the caller).
    pub region: String,
    /// Title.
    pub title: String,
    /// The opening post (its `parent_id` is ignored).
    pub opening: NewPost,
}

/// How to list threads.
#[derive(Debug, Clone)]
pub struct ThreadQuery {
    /// Region slug.
    pub region: String,
    /// Only threads about this objective.
    pub objective: Option<i64>,
    /// Only threads whose opening post is of this kind.
    pub kind: Option<PostKind>,
    /// Only threads with a published post (or title) matching all these words.
    pub q: Option<String>,
    /// Order.
    pub sort: ThreadSort,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: i64,
    /// Who lists: threads whose opening post awaits pre-moderation are listed only for their
    /// author and (`moderator`) the region's moderators.
    pub viewer_id: Option<i64>,
    /// Whether the viewer moderates the region.
    pub moderator: bool,
}

impl Store {
    /// Opens a thread with its opening post.
    pub async fn create_thread(
        &self,
        t: &NewThread,
        idem: Option<&IdempotencyKey>,
    ) -> Result<Created<(Thread, Post)>> {
        let mut tx = self.begin_write().await?;
        if let Some(key) = idem {
            if let Some(id) = self.claim_idempotency_key(&mut tx, key, "thread").await? {
                drop(tx);
                self.await_numbered(id, None).await?;
                return Ok(Created::Replayed(id));
            }
        }
        let now = now_micros();
        let p = &t.opening;
        let thread_id: i64 = sqlx::query_scalar(CREATE_THREAD_INSERT)
            .bind(&t.region)
            .bind(&t.title)
            .bind(p.author.id)
            .bind(p.kind.as_str())
            .bind(rows::ids_json(&p.objectives))
            .bind(now)
            .fetch_one(&mut *tx.tx)
            .await?;
        for o in &p.objectives {
            sqlx::query(CREATE_THREAD_INSERT_2)
                .bind(*o)
                .bind(thread_id)
                .execute(&mut *tx.tx)
                .await?;
        }
        // The title is searchable through the opening post.
        let mut opening = p.clone();
        opening.parent_id = None;
        opening.search_terms = format!("{} {}", search::index_text(&t.title), p.search_terms);
        let at = Placement {
            thread_id,
            region: t.region.clone(),
            parent: None,
            withheld: false,
        };
        let id = self.next_post_id(&mut tx).await?;
        let post = self
            .insert_post(&mut tx, id, &at, &opening, now, false)
            .await?;
        sqlx::query(CREATE_THREAD_UPDATE)
            .bind(post.id)
            .bind(thread_id)
            .execute(&mut *tx.tx)
            .await?;
        let thread = self.thread_in(&mut tx, thread_id).await?;
        self.append_event(
            &mut tx,
            &NewEvent {
                kind: "thread.created",
                region: Some(t.region.clone()),
                thread_id: Some(thread_id),
                post_id: Some(post.id),
                user_id: Some(p.author.id),
                audience: crate::posts::audience(post.status),
                payload: serde_json::to_string(&thread).unwrap_or_default(),
            },
        )
        .await?;
        self.append_event(&mut tx, &post_event("post.created", &post))
            .await?;
        if post.status == hub_domain::PostStatus::Pending {
            self.enqueue(&mut tx, &post).await?;
        }
        if let Some(key) = idem {
            self.complete_idempotency_key(&mut tx, key, thread_id)
                .await?;
        }
        self.commit(tx).await?;
        Ok(Created::New((thread, post)))
    }

    pub(crate) async fn thread_in(&self, tx: &mut crate::WriteTx, id: i64) -> Result<Thread> {
        let row = sqlx::query(&THREAD_BY_ID)
            .bind(id)
            .fetch_optional(&mut *tx.tx)
            .await?
            .ok_or(StoreError::NotFound("thread"))?;
        Ok(rows::thread(&row)?)
    }

    /// One thread.
    pub async fn thread(&self, id: i64) -> Result<Thread> {
        let row = sqlx::query(&THREAD_BY_ID)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("thread"))?;
        Ok(rows::thread(&row)?)
    }

    /// Threads of a region, pinned first, then by the chosen order, with keyset pagination.
    pub async fn list_threads(&self, q: &ThreadQuery) -> Result<Page<Thread>> {
        let terms = q.q.as_deref().map(search::query_terms).unwrap_or_default();
        if !terms.is_empty() {
            // Every post written before this search is found.
            self.index_pending_search().await?;
        }
        let mut args = Args::default();
        let sql = list_threads_sql(self.backend, q, &mut args)?;
        let rows = args
            .bind_all(sqlx::query(&sql))
            .fetch_all(&self.pool)
            .await?;
        let limit = usize::try_from(q.limit).unwrap_or(0);
        let mut items = Vec::with_capacity(rows.len().min(limit));
        let mut last = None;
        for r in rows.iter().take(limit) {
            let t = rows::thread(r)?;
            last = Some((i64::from(t.pinned), r.try_get::<i64, _>("sort_key")?, t.id));
            items.push(t);
        }
        let next_cursor = match last {
            Some((p, k, i)) if rows.len() > limit => Some(rows::encode_cursor(&[
                p.to_string(),
                k.to_string(),
                i.to_string(),
            ])),
            _ => None,
        };
        Ok(Page { items, next_cursor })
    }

    /// Counts per region (threads, published posts, participants).
    pub async fn region_counts(&self) -> Result<Vec<(String, RegionCounts)>> {
        let rows = sqlx::query(REGION_COUNTS).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("region")?,
                    RegionCounts {
                        threads: r.try_get("threads")?,
                        posts: r.try_get("posts")?,
                        participants: r.try_get("participants")?,
                    },
                ))
            })
            .collect()
    }
}
