//! Reading posts: one post, and pages of a thread in tree order.

use super::{posts_json, Bodies, OpeningPost, PublicThreadPage, ThreadPage};
use crate::rows::{self, AUTHOR_COLUMNS, POST_COLUMNS};
use crate::visible;
use crate::{Page, Result, Store, StoreError};
use hub_domain::{Post, PostKind, PostStatus};
use sqlx::Row;

/// Runs a thread page query (`$1` thread, `$2` after, `$3` limit + 1) on a native pool:
/// the first row's `opening` column (`None` for no rows) and each post with its path.
macro_rules! native_page {
    ($sql:expr, $pool:expr, $thread:expr, $after:expr, $limit:expr) => {{
        let rows = sqlx::query($sql)
            .bind($thread)
            .bind($after)
            .bind($limit + 1)
            .fetch_all($pool)
            .await?;
        let opening: Option<Option<String>> = match rows.first() {
            Some(r) => Some(r.try_get("opening")?),
            None => None,
        };
        let mut posts = Vec::with_capacity(rows.len());
        for r in &rows {
            posts.push((native_post!(r), r.try_get::<String, _>("path")?));
        }
        (opening, posts)
    }};
}

/// A post from a native row of `POST_COLUMNS` and `AUTHOR_COLUMNS` (as `rows::post` does for
/// the `Any` driver).
macro_rules! native_post {
    ($r:expr) => {{
        let r = $r;
        let text = |col: &str| -> std::result::Result<String, sqlx::Error> { r.try_get(col) };
        let (kind, status, group) = (text("kind")?, text("status")?, text("u_stakeholder_group")?);
        let (objectives, aspects) = (text("objectives")?, text("aspects")?);
        Post {
            id: r.try_get("id")?,
            thread_id: r.try_get("thread_id")?,
            region: r.try_get("region")?,
            parent_id: r.try_get("parent_id")?,
            depth: r.try_get("depth")?,
            author: hub_domain::AuthorRef {
                id: r.try_get("u_id")?,
                display_name: r.try_get("u_display_name")?,
                organisation: r.try_get("u_organisation")?,
                stakeholder_group: hub_domain::StakeholderGroup::parse(&group)
                    .ok_or_else(|| rows::decode_err("u_stakeholder_group", &group))?,
                country: r.try_get("u_country")?,
            },
            kind: PostKind::parse(&kind).ok_or_else(|| rows::decode_err("kind", &kind))?,
            body: Some(r.try_get("body")?),
            body_html: Some(r.try_get("body_html")?),
            language: r.try_get("language")?,
            language_detected: r.try_get::<i64, _>("language_detected")? != 0,
            objectives: serde_json::from_str(&objectives)
                .map_err(|_| rows::decode_err("objectives", &objectives))?,
            aspects: serde_json::from_str(&aspects)
                .map_err(|_| rows::decode_err("aspects", &aspects))?,
            status: PostStatus::parse(&status)
                .ok_or_else(|| rows::decode_err("status", &status))?,
            status_reason: r.try_get("status_reason")?,
            endorsements: r.try_get("endorsements")?,
            revision: r.try_get("revision")?,
            created_at: crate::from_micros(r.try_get("created_at")?),
            edited_at: r
                .try_get::<Option<i64>, _>("edited_at")?
                .map(crate::from_micros),
        }
    }};
}

/// The path a page of a thread starts after: the cursor's, or before the first post. A path
/// is segments of digits (ids padded to [`PATH_SEGMENT`]), each followed by '/'; a cursor
/// holding anything else was not given out by a thread page.
fn after_path(cursor: Option<&str>) -> Result<String> {
    let Some(c) = cursor else {
        return Ok(String::new());
    };
    let path = rows::decode_cursor(c, 1)?.remove(0);
    let is_path = !path.is_empty()
        && path
            .split_terminator('/')
            .all(|segment| !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()))
        && path.ends_with('/');
    if is_path {
        Ok(path)
    } else {
        Err(crate::StoreError::Invalid {
            field: "cursor",
            message: "is not a cursor this list gave out".into(),
        })
    }
}

/// A post's status, author and region as one text, `status:author:region` (read back by
/// [`OpeningPost::parse`]), for the post aliased `alias`.
macro_rules! status_author_region {
    ($alias:literal) => {
        concat!(
            $alias,
            ".status || ':' || ",
            $alias,
            ".author_id || ':' || ",
            $alias,
            ".region"
        )
    };
}

/// The opening post's status, author and region as one text (`op` joined to `threads t`).
const OPENING_POST: &str = status_author_region!("op");

impl OpeningPost {
    /// From `status:author:region` (`column` names it in a decoding error).
    fn parse(text: &str, column: &str) -> Result<Self> {
        let mut parts = text.splitn(3, ':');
        let (status, author, region) = (parts.next(), parts.next(), parts.next());
        let bad = || rows::decode_err(column, text);
        Ok(OpeningPost {
            status: status.and_then(PostStatus::parse).ok_or_else(bad)?,
            author_id: author.and_then(|a| a.parse().ok()).ok_or_else(bad)?,
            region: region.ok_or_else(bad)?.to_string(),
        })
    }
}

/// A page of a thread's posts (`$1` thread, `$2` after this path, `$3` at most) with the
/// opening post's visibility data, read once per query (an uncorrelated subquery).
fn thread_page_sql(body: &str, body_html: &str) -> String {
    let columns = POST_COLUMNS
        .replace("p.body_html", body_html)
        .replace("p.body,", &format!("{body},"));
    format!(
        "SELECT {columns}, {AUTHOR_COLUMNS}, (SELECT {OPENING_POST} FROM threads t \
         JOIN posts op ON {opening} WHERE t.id = $1) AS opening \
         FROM posts p JOIN users u ON u.id = p.author_id \
         WHERE p.thread_id = $1 AND p.path > $2 ORDER BY p.path LIMIT $3",
        opening = visible::opening_post_of!("t", "op"),
    )
}

static THREAD_PAGE_BOTH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| thread_page_sql("p.body", "p.body_html"));
static THREAD_PAGE_MARKDOWN: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| thread_page_sql("p.body", "'' AS body_html"));
static THREAD_PAGE_HTML: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| thread_page_sql("'' AS body", "p.body_html"));

/// An instant stored as microseconds since 1970 (`col`), in SQLite, as `chrono` writes a
/// `DateTime<Utc>` in JSON: RFC 3339 in UTC with as many fractional digits as it needs (none,
/// 3 or 6), `Z` for the offset.
fn json_instant(col: &str) -> String {
    format!(
        "CASE WHEN {col} IS NULL THEN NULL ELSE \
         strftime('%Y-%m-%dT%H:%M:%S', {col} / 1000000, 'unixepoch') || \
         CASE WHEN {col} % 1000000 = 0 THEN '' \
         WHEN {col} % 1000 = 0 THEN printf('.%03d', ({col} % 1000000) / 1000) \
         ELSE printf('.%06d', {col} % 1000000) END || 'Z' END"
    )
}

/// A post of a page (`p`: [`POST_COLUMNS`] and [`AUTHOR_COLUMNS`]) as JSON, in SQLite, as
/// `serde_json` writes a [`Post`] redacted for an anonymous reader (who sees the texts and
/// reason of a published post only), with the texts `bodies` asks for. The fields are in
/// `Post`'s order; `status_reason` is left out when null.
fn public_post_json(bodies: Bodies) -> String {
    let published = visible::published!("p");
    let body = match bodies {
        Bodies::Html => "NULL".to_string(),
        _ => format!("CASE WHEN {published} THEN p.body END"),
    };
    let body_html = match bodies {
        Bodies::Markdown => "NULL".to_string(),
        _ => format!("CASE WHEN {published} THEN p.body_html END"),
    };
    let (created, edited) = (json_instant("p.created_at"), json_instant("p.edited_at"));
    let fields = |reason: bool| {
        format!(
            "json_object('id', p.id, 'thread_id', p.thread_id, 'region', p.region, \
             'parent_id', p.parent_id, 'depth', p.depth, \
             'author', json_object('id', p.u_id, 'display_name', p.u_display_name, \
             'organisation', p.u_organisation, 'stakeholder_group', p.u_stakeholder_group, \
             'country', p.u_country), \
             'kind', p.kind, 'body', {body}, 'body_html', {body_html}, 'language', p.language, \
             'language_detected', \
             json(CASE WHEN p.language_detected <> 0 THEN 'true' ELSE 'false' END), \
             'objectives', json(p.objectives), 'aspects', json(p.aspects), \
             'status', p.status, {reason}'endorsements', p.endorsements, \
             'revision', p.revision, 'created_at', {created}, 'edited_at', {edited})",
            reason = if reason {
                "'status_reason', p.status_reason, "
            } else {
                ""
            },
        )
    };
    format!(
        "CASE WHEN {published} AND p.status_reason IS NOT NULL THEN {} ELSE {} END",
        fields(true),
        fields(false)
    )
}

/// A public page in SQLite (`$1` thread, `$2` after this path, `$3` at most) as one row: the
/// posts' JSON array in tree order (pending ones left out) as bytes (the driver need not check
/// the UTF-8 of what SQLite wrote from our text), the last post's path, the unpublished posts
/// as `status:author:region` separated by spaces, how many posts follow `$2` (up to `$3 + 1`,
/// to tell whether there is a next page) and the opening post (as in [`thread_page_sql`]).
/// One value for the whole page: the driver's cost is per value and per row. The array takes
/// the posts in the subquery's order (an `ORDER BY` in the aggregate would sort the posts'
/// JSON again; the storage suite checks the order).
fn public_page_sql(bodies: Bodies) -> String {
    let post = public_post_json(bodies);
    let unpublished = status_author_region!("p");
    format!(
        "SELECT CAST(json_group_array({post}) FILTER (WHERE {listed}) AS BLOB) \
         AS items, max(p.path) AS last_path, \
         group_concat(CASE WHEN {withheld} THEN {unpublished} END, ' ') \
         AS unpublished, \
         (SELECT count(*) FROM (SELECT 1 FROM posts WHERE thread_id = $1 AND path > $2 \
         LIMIT $3 + 1) AS f) AS following, \
         (SELECT {OPENING_POST} FROM threads t \
         JOIN posts op ON {opening} WHERE t.id = $1) AS opening \
         FROM (SELECT {POST_COLUMNS}, p.author_id, {AUTHOR_COLUMNS} \
         FROM posts p JOIN users u ON u.id = p.author_id \
         WHERE p.thread_id = $1 AND p.path > $2 ORDER BY p.path LIMIT $3) AS p",
        listed = visible::listed!("p"),
        withheld = visible::withheld!("p"),
        opening = visible::opening_post_of!("t", "op"),
    )
}

/// [`public_page_sql`] for `Both`, `Markdown` and `Html`, in that order.
static PUBLIC_PAGE: std::sync::LazyLock<[String; 3]> = std::sync::LazyLock::new(|| {
    [Bodies::Both, Bodies::Markdown, Bodies::Html].map(public_page_sql)
});

/// The page statements of `backend`, by name: a thread's page (both backends, read through
/// the native pool) and, on SQLite, its public page as JSON.
pub(super) fn statements(backend: crate::Backend) -> Vec<(String, String)> {
    let mut out = vec![
        ("thread_page_both", &*THREAD_PAGE_BOTH),
        ("thread_page_markdown", &*THREAD_PAGE_MARKDOWN),
        ("thread_page_html", &*THREAD_PAGE_HTML),
    ];
    if backend == crate::Backend::Sqlite {
        let [both, markdown, html] = &*PUBLIC_PAGE;
        out.extend([
            ("public_page_both", both),
            ("public_page_markdown", markdown),
            ("public_page_html", html),
        ]);
    }
    out.into_iter()
        .map(|(n, s)| (format!("posts::{n}"), s.clone()))
        .collect()
}

/// One post with its author (formatted once, from the column lists).
static POST_BY_ID: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {POST_COLUMNS}, {AUTHOR_COLUMNS} FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id = $1"
    )
});
/// A thread's opening post, read apart from a page.
static OPENING_POST_OF_THREAD: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {OPENING_POST} AS opening FROM threads t \
         LEFT JOIN posts op ON {opening} WHERE t.id = $1",
        opening = visible::opening_post_of!("t", "op"),
    )
});

/// The statements formatted once from constants, by name.
pub(crate) fn formatted_statements() -> Vec<(String, String)> {
    vec![
        ("posts::read::POST_BY_ID".to_string(), POST_BY_ID.clone()),
        (
            "posts::read::OPENING_POST_OF_THREAD".to_string(),
            OPENING_POST_OF_THREAD.clone(),
        ),
    ]
}

impl Store {
    /// One post, whatever its status (callers redact).
    pub async fn post(&self, id: i64) -> Result<Post> {
        let row = sqlx::query(&POST_BY_ID)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("post"))?;
        Ok(rows::post(&row)?)
    }

    /// A thread's posts in tree order, `limit` at a time from `cursor`.
    pub async fn thread_posts(
        &self,
        thread_id: i64,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Page<Post>> {
        Ok(self
            .thread_page(thread_id, cursor, limit, Bodies::Both)
            .await?
            .page)
    }

    /// The version of a thread's pages (migration 0007): it moves whenever anything a page of
    /// the thread shows changes, so a page read after reading version `v` is at least as new as
    /// `v`; with the thread's creation time (microseconds), which tells this thread from one
    /// of the same id in another database. `None` when there is no such thread.
    pub async fn thread_page_version(&self, thread_id: i64) -> Result<Option<(i64, i64)>> {
        const SQL: &str = "SELECT page_version, created_at FROM threads WHERE id = $1";
        Ok(match &self.reads {
            crate::NativePool::Sqlite(pool) => {
                sqlx::query_as(SQL)
                    .bind(thread_id)
                    .fetch_optional(pool)
                    .await?
            }
            crate::NativePool::Postgres(pool) => {
                sqlx::query_as(SQL)
                    .bind(thread_id)
                    .fetch_optional(pool)
                    .await?
            }
        })
    }

    /// A thread's posts in tree order, `limit` at a time from `cursor`, with the texts asked
    /// for and what decides whether a viewer may see the thread at all (its opening post's
    /// status, author and region), in one query. `NotFound` when there is no such thread.
    pub async fn thread_page(
        &self,
        thread_id: i64,
        cursor: Option<&str>,
        limit: i64,
        bodies: Bodies,
    ) -> Result<ThreadPage> {
        let after = after_path(cursor)?;
        let sql = match bodies {
            Bodies::Both => &*THREAD_PAGE_BOTH,
            Bodies::Markdown => &*THREAD_PAGE_MARKDOWN,
            Bodies::Html => &*THREAD_PAGE_HTML,
        };
        // Through the backend's own driver: (the opening post, the posts with their paths).
        let (first_opening, rows) = match &self.reads {
            crate::NativePool::Sqlite(pool) => {
                native_page!(sql, pool, thread_id, &after, limit)
            }
            crate::NativePool::Postgres(pool) => {
                native_page!(sql, pool, thread_id, &after, limit)
            }
        };
        let opening = self.opening_post(thread_id, first_opening).await?;
        let more = rows.len() as i64 > limit;
        let mut items = Vec::with_capacity(rows.len());
        let mut last_path = String::new();
        for (mut post, path) in rows.into_iter().take(usize::try_from(limit).unwrap_or(0)) {
            last_path = path;
            match bodies {
                Bodies::Both => {}
                Bodies::Markdown => post.body_html = None,
                Bodies::Html => post.body = None,
            }
            items.push(post);
        }
        Ok(ThreadPage {
            page: Page {
                items,
                next_cursor: more.then(|| rows::encode_cursor(&[last_path])),
            },
            opening,
        })
    }

    /// The opening post of a thread from a page query's first row (`Some(None)`: the thread
    /// has none), or read apart when the page is empty. `NotFound` when there is no thread.
    async fn opening_post(
        &self,
        thread_id: i64,
        first_row: Option<Option<String>>,
    ) -> Result<Option<OpeningPost>> {
        let opening = match first_row {
            Some(o) => o,
            // An empty page: the thread may not exist.
            None => sqlx::query(&OPENING_POST_OF_THREAD)
                .bind(thread_id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound("thread"))?
                .try_get::<Option<String>, _>("opening")?,
        };
        opening
            .map(|o| OpeningPost::parse(&o, "opening post"))
            .transpose()
    }

    /// A page of a thread as everyone sees it but the authors of its unpublished posts and the
    /// moderators of their regions ([`PublicThreadPage::withheld_from`]): what
    /// [`Store::thread_page`] gives, each post redacted with [`Post::redacted_for`] for an
    /// anonymous reader, already as JSON. `NotFound` when there is no thread.
    ///
    /// SQLite writes the page's JSON itself, as one value: through sqlx a page costs per
    /// value and per row, and two dozen values for each of 500 posts were most of a read.
    /// PostgreSQL writes JSON slower than serde does (about 6 ms more for such a page), so
    /// there the posts are read and written here.
    pub async fn public_thread_page(
        &self,
        thread_id: i64,
        cursor: Option<&str>,
        limit: i64,
        bodies: Bodies,
    ) -> Result<PublicThreadPage> {
        let after = after_path(cursor)?;
        let at = match bodies {
            Bodies::Both => 0,
            Bodies::Markdown => 1,
            Bodies::Html => 2,
        };
        // (items, last path, unpublished, following, opening)
        type Row = (Vec<u8>, Option<String>, Option<String>, i64, Option<String>);
        let row: Row = match &self.reads {
            crate::NativePool::Sqlite(pool) => {
                sqlx::query_as(&PUBLIC_PAGE[at])
                    .bind(thread_id)
                    .bind(&after)
                    .bind(limit)
                    .fetch_one(pool)
                    .await?
            }
            crate::NativePool::Postgres(_) => {
                return self
                    .public_page_of_posts(thread_id, cursor, limit, bodies)
                    .await;
            }
        };
        let (items, last_path, unpublished, following, opening) = row;
        // No posts: the thread may not exist.
        let opening = self
            .opening_post(thread_id, (following > 0).then_some(opening))
            .await?;
        let withheld_from = unpublished
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(|w| OpeningPost::parse(w, "unpublished post").map(|p| (p.author_id, p.region)))
            .collect::<Result<Vec<_>>>()?;
        Ok(PublicThreadPage {
            items,
            next_cursor: (following > limit)
                .then(|| last_path.map(|p| rows::encode_cursor(&[p])))
                .flatten(),
            withheld_from,
            opening,
        })
    }

    /// [`Store::public_thread_page`] from the posts of [`Store::thread_page`].
    async fn public_page_of_posts(
        &self,
        thread_id: i64,
        cursor: Option<&str>,
        limit: i64,
        bodies: Bodies,
    ) -> Result<PublicThreadPage> {
        let tp = self.thread_page(thread_id, cursor, limit, bodies).await?;
        let withheld_from = tp
            .page
            .items
            .iter()
            .filter(|p| p.status != PostStatus::Published)
            .map(|p| (p.author.id, p.region.clone()))
            .collect();
        let anyone = hub_domain::Viewer::default();
        let posts: Vec<Post> = tp
            .page
            .items
            .into_iter()
            .filter_map(|p| p.redacted_for(&anyone))
            .collect();
        let items =
            posts_json(&posts).map_err(|e| StoreError::Db(sqlx::Error::Encode(e.into())))?;
        Ok(PublicThreadPage {
            items,
            next_cursor: tp.page.next_cursor,
            withheld_from,
            opening: tp.opening,
        })
    }
}
