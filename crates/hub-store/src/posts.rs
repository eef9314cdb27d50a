//! Posts: the tree under a thread, revisions, endorsements.
//!
//! Tree order comes from a materialised path: each post's `path` is its parent's path plus its
//! own id, zero-padded to a fixed width, so ordering by `path` (byte order) lists a thread
//! depth-first with siblings oldest first, in one index range scan, at any depth.

use crate::rows::{self, AUTHOR_COLUMNS, POST_COLUMNS};
use crate::{
    now_micros, Backend, Created, IdempotencyKey, NewEvent, Page, Result, Store, StoreError,
    WriteTx,
};
use hub_domain::{validate::DEPTH_MAX, Aspect, AuthorRef, Post, PostKind, PostStatus, Revision};
use sqlx::Row;

/// A post to add, validated and rendered.
#[derive(Debug, Clone)]
pub struct NewPost {
    /// The author (as shown with the post).
    pub author: AuthorRef,
    /// Parent post; `None` for a reply to the thread (its opening post becomes the parent).
    pub parent_id: Option<i64>,
    /// Kind.
    pub kind: PostKind,
    /// Markdown.
    pub body: String,
    /// Sanitised HTML of `body`.
    pub body_html: String,
    /// Folded search terms of the text (`hub_domain::search::index_text`).
    pub search_terms: String,
    /// Language tag.
    pub language: Option<String>,
    /// Whether the language was detected.
    pub language_detected: bool,
    /// Objectives, validated.
    pub objectives: Vec<i64>,
    /// Aspects.
    pub aspects: Vec<Aspect>,
    /// Initial status (`published`, or `pending` under pre-moderation).
    pub status: PostStatus,
}

/// An edit of a post by its author or a moderator.
#[derive(Debug, Clone)]
pub struct PostEdit {
    /// Who edits.
    pub editor_id: i64,
    /// New Markdown, its HTML and search terms, if the body changes.
    pub body: Option<(String, String, String)>,
    /// New kind.
    pub kind: Option<PostKind>,
    /// New objectives.
    pub objectives: Option<Vec<i64>>,
    /// New aspects.
    pub aspects: Option<Vec<Aspect>>,
    /// New language (and whether detected).
    pub language: Option<(Option<String>, bool)>,
    /// The new text waits for pre-moderation: a published post goes back to pending, onto
    /// its region's queue, until a moderator approves it again.
    pub review: bool,
}

/// The hash duplicate detection finds a post's text by: the first 8 bytes of the SHA-256 of
/// the text without its leading and trailing whitespace, so " twice\n" repeats "twice" in
/// whichever order they come. Duplicates are found by this hash alone (a false match needs a
/// 64-bit collision between one author's posts of the same thread within the window).
pub(crate) fn body_hash(body: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(body.trim().as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_be_bytes(b)
}

/// Width of one path segment: ids up to 10^12 - 1 keep their byte order.
pub(crate) const PATH_SEGMENT: usize = 12;

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

/// Which texts of each post a thread read carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Bodies {
    /// The Markdown and its HTML (the default).
    #[default]
    Both,
    /// The Markdown only (`body_html` is null).
    Markdown,
    /// The HTML only (`body` is null).
    Html,
}

/// A thread's opening post, as far as deciding who may see the thread.
#[derive(Debug, Clone)]
pub struct OpeningPost {
    /// Its status: a pending one hides the thread from others than its author and the
    /// region's moderators.
    pub status: PostStatus,
    /// Its author.
    pub author_id: i64,
    /// Its region.
    pub region: String,
}

/// A page of a thread's posts.
#[derive(Debug, Clone)]
pub struct ThreadPage {
    /// The posts.
    pub page: Page<Post>,
    /// The thread's opening post (none for a thread without one).
    pub opening: Option<OpeningPost>,
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

/// Posts as a JSON array, into a buffer sized for them.
pub fn posts_json(posts: &[Post]) -> serde_json::Result<Vec<u8>> {
    // The texts, a little for escapes, and the other fields.
    let size = posts
        .iter()
        .map(|p| {
            let text = p.body.as_ref().map_or(0, String::len)
                + p.body_html.as_ref().map_or(0, String::len);
            text + text / 16 + 512
        })
        .sum::<usize>();
    let mut buf = Vec::with_capacity(size + 2);
    serde_json::to_writer(&mut buf, posts)?;
    Ok(buf)
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
         JOIN posts op ON op.id = t.opening_post_id WHERE t.id = $1) AS opening \
         FROM posts p JOIN users u ON u.id = p.author_id \
         WHERE p.thread_id = $1 AND p.path > $2 ORDER BY p.path LIMIT $3"
    )
}

static THREAD_PAGE_BOTH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| thread_page_sql("p.body", "p.body_html"));
static THREAD_PAGE_MARKDOWN: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| thread_page_sql("p.body", "'' AS body_html"));
static THREAD_PAGE_HTML: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| thread_page_sql("'' AS body", "p.body_html"));

/// A page of a thread as everyone sees it who is not withheld from (see
/// [`Store::public_thread_page`]).
#[derive(Debug, Clone)]
pub struct PublicThreadPage {
    /// The posts as a JSON array (UTF-8), each as `serde_json` writes a [`Post`] redacted
    /// for an anonymous reader (pending posts left out, hidden and removed ones without texts
    /// or reason).
    pub items: Vec<u8>,
    /// Opaque cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// The author and region of each post on the page that is not published: that author
    /// and the region's moderators see more of the page than `items`.
    pub withheld_from: Vec<(i64, String)>,
    /// The thread's opening post (none for a thread without one).
    pub opening: Option<OpeningPost>,
}

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
    let published = "p.status = 'published'";
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
        "SELECT CAST(json_group_array({post}) FILTER (WHERE p.status <> 'pending') AS BLOB) \
         AS items, max(p.path) AS last_path, \
         group_concat(CASE WHEN p.status <> 'published' THEN {unpublished} END, ' ') \
         AS unpublished, \
         (SELECT count(*) FROM (SELECT 1 FROM posts WHERE thread_id = $1 AND path > $2 \
         LIMIT $3 + 1) AS f) AS following, \
         (SELECT {OPENING_POST} FROM threads t \
         JOIN posts op ON op.id = t.opening_post_id WHERE t.id = $1) AS opening \
         FROM (SELECT {POST_COLUMNS}, p.author_id, {AUTHOR_COLUMNS} \
         FROM posts p JOIN users u ON u.id = p.author_id \
         WHERE p.thread_id = $1 AND p.path > $2 ORDER BY p.path LIMIT $3) AS p"
    )
}

/// [`public_page_sql`] for `Both`, `Markdown` and `Html`, in that order.
static PUBLIC_PAGE: std::sync::LazyLock<[String; 3]> = std::sync::LazyLock::new(|| {
    [Bodies::Both, Bodies::Markdown, Bodies::Html].map(public_page_sql)
});

/// Checks made in the write transaction of a new post, besides the thread's and the parent's.
#[derive(Debug, Clone, Default)]
pub struct PostChecks {
    /// Refuse the post (a conflict) when its author posted the same text (trimmed) in the
    /// same thread within this many microseconds: a double submission.
    pub duplicate_window_micros: Option<i64>,
    /// The regions whose moderator the author is: there they may reply to posts withheld
    /// from others (pending, hidden or removed), and in threads whose opening post is.
    pub moderated_regions: Vec<String>,
    /// An import's write: in any thread and to any parent, withheld or not, as a moderator of
    /// every region (a conversation imported again after a moderator hid its opening post
    /// still gets its new comments).
    pub unrestricted: bool,
}

/// The thread, the parent (given, or the opening post), whether the post is a duplicate
/// (`$3` = 1 to check; author `$4`, the hash of the text `$7`, since `$5`) and the new post's
/// id, in one query.
macro_rules! post_checks_sql {
    ($next_id:expr) => {
        concat!(
            "SELECT t.region, t.locked, t.opening_post_id, pp.thread_id AS parent_thread, \
             pp.depth AS parent_depth, pp.path AS parent_path, \
             op.status AS opening_status, op.author_id AS opening_author, \
             pp.status AS parent_status, pp.author_id AS parent_author, \
             CAST(CASE WHEN $3 = 1 AND EXISTS (SELECT 1 FROM posts d WHERE d.author_id = $4 \
             AND d.body_hash = $7 AND d.created_at > $5 AND d.region = t.region \
             AND d.thread_id = t.id) \
             THEN 1 ELSE 0 END AS BIGINT) AS duplicate, ",
            $next_id,
            " AS next_id FROM threads t LEFT JOIN posts pp ON pp.id = COALESCE($2, t.opening_post_id) \
             LEFT JOIN posts op ON op.id = t.opening_post_id WHERE t.id = $1"
        )
    };
}

/// The checks on SQLite: the new post's id is the highest plus one (in the write
/// transaction, which holds the database's write lock).
macro_rules! sqlite_post_checks {
    () => {
        post_checks_sql!("$6 AS numbering, (SELECT COALESCE(MAX(id), 0) + 1 FROM posts)")
    };
}
const SQLITE_POST_CHECKS: &str = sqlite_post_checks!();
/// [`SQLITE_POST_CHECKS`] opening the write transaction (`Store::write_lone_post`).
const SQLITE_BEGIN_POST_CHECKS: &str = concat!("BEGIN IMMEDIATE; ", sqlite_post_checks!());

/// On PostgreSQL the write also tries the event log's numbering lock (`$6`): when it is free,
/// the write holds it to its commit and numbers its own event (no relay run to wait for);
/// when it is taken, other writes are numbering or the relay is, and the event is left to the
/// relay, whose runs number many at a time.
const PG_POST_CHECKS: &str = post_checks_sql!(
    "pg_try_advisory_xact_lock($6) AS numbering, nextval(pg_get_serial_sequence('posts', 'id'))"
);

/// Where a new post goes: the thread and, for a reply, its parent.
pub(crate) struct Placement {
    pub thread_id: i64,
    pub region: String,
    pub parent: Option<(i64, i64, String)>,
    /// The thread's opening post is not published: the thread is withheld from all but that
    /// post's author and the region's moderators, and so is the new post's event.
    pub withheld: bool,
}

/// What the checks of a new post read: its thread (no region: no such thread), the parent
/// (given, or the opening post) and whether the text is a recent duplicate.
pub(crate) struct Checked {
    pub region: Option<String>,
    pub locked: bool,
    pub opening_post_id: Option<i64>,
    pub parent_thread: Option<i64>,
    pub parent_depth: Option<i64>,
    pub parent_path: Option<String>,
    /// The opening post's status and author (a thread stands on its opening post).
    pub opening_status: Option<String>,
    pub opening_author: Option<i64>,
    /// The parent's status and author.
    pub parent_status: Option<String>,
    pub parent_author: Option<i64>,
    pub duplicate: bool,
}

impl Checked {
    /// The checks' row (`post_checks_sql!`) and the new post's id.
    fn from_row(row: &sqlx::any::AnyRow) -> Result<(Self, i64)> {
        Ok((
            Checked {
                region: row.try_get("region")?,
                locked: row.try_get::<i64, _>("locked")? != 0,
                opening_post_id: row.try_get("opening_post_id")?,
                parent_thread: row.try_get("parent_thread")?,
                parent_depth: row.try_get("parent_depth")?,
                parent_path: row.try_get("parent_path")?,
                opening_status: row.try_get("opening_status")?,
                opening_author: row.try_get("opening_author")?,
                parent_status: row.try_get("parent_status")?,
                parent_author: row.try_get("parent_author")?,
                duplicate: row.try_get::<i64, _>("duplicate")? != 0,
            },
            row.try_get("next_id")?,
        ))
    }

    /// Where a post by `author_id` (moderator of `moderated_regions`; `None`: of every region) to `thread_id` replying
    /// to `parent_id` goes, or why it may not: checked in this order (a missing or withheld
    /// thread, a duplicate, a locked thread, a bad or withheld parent), the same on every
    /// write path.
    pub(crate) fn placement(
        self,
        thread_id: i64,
        parent_id: Option<i64>,
        author_id: i64,
        moderated_regions: Option<&[String]>,
    ) -> Result<Placement> {
        let region = self.region.ok_or(StoreError::NotFound("thread"))?;
        // What is withheld from the author is not there to reply to: a thread whose opening
        // post is not published (as reading it gives 404), a parent not published. Their own
        // posts and, for a region's moderators, the region's are. The batch statement
        // (`batch.rs`) decides the same way for authors who moderate no region.
        let sees = |status: &Option<String>, author: Option<i64>| {
            status.as_deref().is_none_or(|s| s == "published")
                || author == Some(author_id)
                || moderated_regions.is_none_or(|m| m.contains(&region))
        };
        if !sees(&self.opening_status, self.opening_author) {
            return Err(StoreError::NotFound("thread"));
        }
        if self.duplicate {
            return Err(StoreError::Conflict(
                "you posted the same text a moment ago".into(),
            ));
        }
        if self.locked {
            return Err(StoreError::Conflict("the thread is locked".into()));
        }
        // A reply to the thread itself answers its opening post: every thread is one tree.
        let parent = match parent_id.or(self.opening_post_id) {
            None => None,
            Some(pid) => match (self.parent_thread, self.parent_depth, self.parent_path) {
                (Some(t), Some(depth), Some(path))
                    if t == thread_id && sees(&self.parent_status, self.parent_author) =>
                {
                    if depth + 1 > DEPTH_MAX {
                        return Err(StoreError::Invalid {
                            field: "parent_id",
                            message: format!("replies nest at most {DEPTH_MAX} deep"),
                        });
                    }
                    Some((pid, depth, path))
                }
                _ => {
                    return Err(StoreError::Invalid {
                        field: "parent_id",
                        message: format!("post {pid} is not in thread {thread_id}"),
                    })
                }
            },
        };
        let withheld = self
            .opening_status
            .as_deref()
            .is_some_and(|s| s != "published");
        Ok(Placement {
            thread_id,
            region,
            parent,
            withheld,
        })
    }
}

/// A new post as stored and returned, with its `path`.
pub(crate) fn new_post_record(id: i64, at: &Placement, p: &NewPost, now: i64) -> (Post, String) {
    let (depth, parent_path) = match &at.parent {
        Some((_, d, path)) => (d + 1, path.as_str()),
        None => (0, ""),
    };
    let path = format!("{parent_path}{id:0width$}/", width = PATH_SEGMENT);
    let post = Post {
        id,
        thread_id: at.thread_id,
        region: at.region.clone(),
        parent_id: at.parent.as_ref().map(|p| p.0),
        depth,
        author: p.author.clone(),
        kind: p.kind,
        body: Some(p.body.clone()),
        body_html: Some(p.body_html.clone()),
        language: p.language.clone(),
        language_detected: p.language_detected,
        objectives: p.objectives.clone(),
        aspects: p.aspects.clone(),
        status: p.status,
        status_reason: None,
        endorsements: 0,
        revision: 1,
        created_at: crate::from_micros(now),
        edited_at: None,
    };
    (post, path)
}

/// The audience of events about a post with this status.
pub(crate) fn audience(status: PostStatus) -> &'static str {
    if status == PostStatus::Published {
        "public"
    } else {
        "restricted"
    }
}

pub(crate) fn post_event(kind: &'static str, post: &Post) -> NewEvent {
    NewEvent {
        kind,
        region: Some(post.region.clone()),
        thread_id: Some(post.thread_id),
        post_id: Some(post.id),
        user_id: Some(post.author.id),
        audience: audience(post.status),
        payload: serde_json::to_string(post).unwrap_or_default(),
    }
}

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

/// The checks `sql` (`post_checks_sql!`) bound to a new post to `thread_id`.
fn post_checks_query<'q>(
    sql: &'q str,
    thread_id: i64,
    p: &'q NewPost,
    duplicate_window: Option<i64>,
    now: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query(sql)
        .bind(thread_id)
        .bind(p.parent_id)
        .bind(i64::from(duplicate_window.is_some()))
        .bind(p.author.id)
        .bind(now - duplicate_window.unwrap_or(0))
        .bind(crate::events::NUMBERING_LOCK)
        .bind(body_hash(&p.body))
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
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND created_at < $3",
        )
        .bind(key.user_id)
        .bind(&key.key)
        .bind(now - day)
        .execute(&mut *tx.tx)
        .await?;
        // On PostgreSQL a concurrent holder of the same key makes this insert wait for its
        // commit, after which the conflict is seen: two racing retries cannot both create.
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (user_id, key, fingerprint, resource, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, key) DO NOTHING",
        )
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
        let row = sqlx::query("SELECT fingerprint, resource, resource_id FROM idempotency_keys WHERE user_id = $1 AND key = $2")
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
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT resource_id FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND created_at > $3 AND resource_id IS NOT NULL",
        )
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
        sqlx::query("UPDATE idempotency_keys SET resource_id = $1 WHERE user_id = $2 AND key = $3")
            .bind(id)
            .bind(key.user_id)
            .bind(&key.key)
            .execute(&mut *tx.tx)
            .await?;
        Ok(())
    }

    /// The id the next post gets, taken before its insert so that its `path` (which ends with
    /// the id) is written with the row instead of by an update afterwards. On SQLite the write
    /// lock is held, so the next rowid is one more than the largest; on PostgreSQL it is the
    /// serial's next value.
    pub(crate) async fn next_post_id(&self, tx: &mut WriteTx) -> Result<i64> {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT COALESCE(MAX(id), 0) + 1 FROM posts",
            Backend::Postgres => "SELECT nextval(pg_get_serial_sequence('posts', 'id'))",
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

    /// Rewrites a post's objective rows and its search terms (after an edit or a removal).
    /// `terms` of `None` leaves the search index as it is.
    async fn index_post(
        &self,
        tx: &mut WriteTx,
        id: i64,
        objectives: &[i64],
        terms: Option<&str>,
    ) -> Result<()> {
        sqlx::query("DELETE FROM post_objectives WHERE post_id = $1")
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        if !objectives.is_empty() {
            // One statement for all of them: (objective, post) pairs.
            let values: Vec<String> = objectives.iter().map(|o| format!("({o}, $1)")).collect();
            sqlx::query(&format!(
                "INSERT INTO post_objectives (objective, post_id) VALUES {}",
                values.join(", ")
            ))
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        }
        if let Some(terms) = terms {
            match self.backend {
                Backend::Sqlite => {
                    // Terms still waiting for the indexer are out of date now (and a removed
                    // post's must never reach the index).
                    sqlx::query("DELETE FROM search_pending WHERE post_id = $1")
                        .bind(id)
                        .execute(&mut *tx.tx)
                        .await?;
                    sqlx::query("DELETE FROM post_search WHERE rowid = $1")
                        .bind(id)
                        .execute(&mut *tx.tx)
                        .await?;
                    sqlx::query("INSERT INTO post_search (rowid, terms) VALUES ($1, $2)")
                        .bind(id)
                        .bind(terms)
                        .execute(&mut *tx.tx)
                        .await?;
                }
                Backend::Postgres => {
                    sqlx::query(
                        "UPDATE posts SET search_terms = string_to_array($1, ' ') WHERE id = $2",
                    )
                    .bind(terms)
                    .bind(id)
                    .execute(&mut *tx.tx)
                    .await?;
                }
            }
        }
        Ok(())
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
                crate::batch::Outcome::Done(r) => return (*r).map(Created::New),
                crate::batch::Outcome::Alone => {}
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
                conn.settled = match sqlx::query("ROLLBACK").execute(&mut *conn.conn).await {
                    Ok(_) => true,
                    Err(sqlx::Error::Database(d)) => d.message().contains("no transaction"),
                    Err(_) => false,
                };
                Err(e)
            }
        }
    }

    /// One post, whatever its status (callers redact).
    pub async fn post(&self, id: i64) -> Result<Post> {
        let row = sqlx::query(&format!(
            "SELECT {POST_COLUMNS}, {AUTHOR_COLUMNS} FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id = $1"
        ))
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
            None => sqlx::query(&format!(
                "SELECT {OPENING_POST} AS opening FROM threads t \
                 LEFT JOIN posts op ON op.id = t.opening_post_id WHERE t.id = $1"
            ))
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

    /// A post's row (with `editor_id`) inside a write transaction.
    ///
    /// On PostgreSQL the row is locked (`FOR UPDATE`) until the transaction ends: what the
    /// transaction decides from it (an edit's new revision, a removal's erasure, a decision)
    /// cannot be overtaken by another change of the post read before it committed. (An edit
    /// racing a removal wrote the erased text back.) SQLite has one writer at a time.
    pub(crate) async fn post_row_in(&self, tx: &mut WriteTx, id: i64) -> Result<sqlx::any::AnyRow> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE OF p",
            Backend::Sqlite => "",
        };
        sqlx::query(&format!(
            "SELECT {POST_COLUMNS}, p.editor_id, {AUTHOR_COLUMNS} FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id = $1{lock}"
        ))
        .bind(id)
        .fetch_optional(&mut *tx.tx)
        .await?
        .ok_or(StoreError::NotFound("post"))
    }

    /// Edits a post, keeping the version it replaces as a revision. An edit by someone other
    /// than the author (a moderator) writes an audit line; an opening post keeps its thread's
    /// title in its search terms.
    pub async fn edit_post(&self, id: i64, e: &PostEdit) -> Result<Post> {
        let mut tx = self.begin_write().await?;
        let row = self.post_row_in(&mut tx, id).await?;
        let mut post = rows::post(&row)?;
        if post.status == PostStatus::Removed {
            return Err(StoreError::Conflict(
                "a removed post cannot be edited".into(),
            ));
        }
        let prev_editor = row
            .try_get::<Option<i64>, _>("editor_id")?
            .unwrap_or(post.author.id);
        // The version being replaced becomes a revision; its editor is whoever wrote it.
        sqlx::query(
            "INSERT INTO post_revisions (post_id, revision, body, kind, objectives, editor_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(post.revision)
        .bind(post.body.clone().unwrap_or_default())
        .bind(post.kind.as_str())
        .bind(rows::ids_json(&post.objectives))
        .bind(prev_editor)
        .bind(post.edited_at.unwrap_or(post.created_at).timestamp_micros())
        .execute(&mut *tx.tx)
        .await?;
        let now = now_micros();
        let before_revision = post.revision;
        let mut terms = None;
        if let Some((body, html, t)) = &e.body {
            post.body = Some(body.clone());
            post.body_html = Some(html.clone());
            // The title is searchable through the opening post: it stays with the new body.
            // (Through the thread's key: `opening_post_id` has no index.)
            // Only an opening post (no parent) can carry it: a reply's edit asks nothing.
            let title: Option<String> = if post.parent_id.is_none() {
                sqlx::query_scalar(
                    "SELECT title FROM threads WHERE id = $1 AND opening_post_id = $2",
                )
                .bind(post.thread_id)
                .bind(id)
                .fetch_optional(&mut *tx.tx)
                .await?
            } else {
                None
            };
            terms = Some(match title {
                Some(title) => format!("{} {t}", hub_domain::search::index_text(&title)),
                None => t.clone(),
            });
        }
        if let Some(k) = e.kind {
            post.kind = k;
        }
        if let Some(o) = &e.objectives {
            post.objectives = o.clone();
        }
        if let Some(a) = &e.aspects {
            post.aspects = a.clone();
        }
        if let Some((lang, detected)) = &e.language {
            post.language = lang.clone();
            post.language_detected = *detected;
        }
        post.revision += 1;
        post.edited_at = Some(crate::from_micros(now));
        sqlx::query(
            "UPDATE posts SET body = $1, body_html = $2, kind = $3, objectives = $4, aspects = $5, \
             language = $6, language_detected = $7, revision = $8, edited_at = $9, editor_id = $10, \
             body_hash = $12 WHERE id = $11",
        )
        .bind(post.body.clone().unwrap_or_default())
        .bind(post.body_html.clone().unwrap_or_default())
        .bind(post.kind.as_str())
        .bind(rows::ids_json(&post.objectives))
        .bind(rows::aspects_json(&post.aspects))
        .bind(&post.language)
        .bind(i64::from(post.language_detected))
        .bind(post.revision)
        .bind(now)
        .bind(e.editor_id)
        .bind(id)
        .bind(body_hash(post.body.as_deref().unwrap_or_default()))
        .execute(&mut *tx.tx)
        .await?;
        self.index_post(&mut tx, id, &post.objectives, terms.as_deref())
            .await?;
        if e.editor_id != post.author.id {
            // A moderator's edit of someone else's post is a moderation act. The log is
            // append-only and outlives a removal: it names what changed, never the text.
            let changed: Vec<&str> = [
                ("body", e.body.is_some()),
                ("kind", e.kind.is_some()),
                ("objectives", e.objectives.is_some()),
                ("aspects", e.aspects.is_some()),
                ("language", e.language.is_some()),
            ]
            .into_iter()
            .filter_map(|(f, set)| set.then_some(f))
            .collect();
            self.audit(
                &mut tx,
                crate::moderation::Audit {
                    region: Some(&post.region),
                    actor_id: Some(e.editor_id),
                    action: "edit",
                    object_type: "post",
                    object_id: Some(id),
                    reason: None,
                    before: Some(serde_json::json!({"revision": before_revision})),
                    after: Some(serde_json::json!({"revision": post.revision, "changed": changed})),
                },
            )
            .await?;
        }
        let sent_back = e.review && post.status == PostStatus::Published;
        if sent_back {
            self.set_status(
                &mut tx,
                &mut post,
                PostStatus::Pending,
                Some("edited: awaiting review"),
            )
            .await?;
            self.enqueue(&mut tx, &post).await?;
        }
        let mut event = post_event("post.updated", &post);
        if sent_back {
            // Everyone learns it is withdrawn (a tombstone for all but its author and the
            // region's moderators, who get it in full).
            event.audience = "public";
        }
        self.append_event(&mut tx, &event).await?;
        self.commit(tx).await?;
        Ok(post)
    }
}

impl Store {
    /// Every version of a post, oldest first; the last is the current one.
    pub async fn revisions(&self, post_id: i64) -> Result<Vec<Revision>> {
        let current = self.post(post_id).await?;
        let rows = sqlx::query(
            "SELECT post_id, revision, body, kind, objectives, editor_id, created_at FROM post_revisions \
             WHERE post_id = $1 ORDER BY revision",
        )
        .bind(post_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len() + 1);
        for r in &rows {
            let kind: String = r.try_get("kind")?;
            let objectives: String = r.try_get("objectives")?;
            out.push(Revision {
                post_id,
                revision: r.try_get("revision")?,
                body: r.try_get("body")?,
                kind: PostKind::parse(&kind).ok_or_else(|| rows::decode_err("kind", &kind))?,
                objectives: serde_json::from_str(&objectives)
                    .map_err(|_| rows::decode_err("objectives", &objectives))?,
                editor_id: r.try_get("editor_id")?,
                created_at: crate::from_micros(r.try_get("created_at")?),
            });
        }
        let editor: Option<i64> = sqlx::query_scalar("SELECT editor_id FROM posts WHERE id = $1")
            .bind(post_id)
            .fetch_one(&self.pool)
            .await?;
        out.push(Revision {
            post_id,
            revision: current.revision,
            body: current.body.clone().unwrap_or_default(),
            kind: current.kind,
            objectives: current.objectives.clone(),
            editor_id: editor.unwrap_or(current.author.id),
            created_at: current.edited_at.unwrap_or(current.created_at),
        });
        Ok(out)
    }

    /// Removes a post: its content and revisions are erased, a tombstone stays so replies
    /// keep their place in the tree, and it leaves the moderation queue.
    pub async fn remove_post(&self, id: i64, actor_id: i64, reason: Option<&str>) -> Result<Post> {
        let mut tx = self.begin_write().await?;
        let mut post = rows::post(&self.post_row_in(&mut tx, id).await?)?;
        if post.status == PostStatus::Removed {
            return Ok(post);
        }
        let before =
            serde_json::json!({"status": post.status, "status_reason": post.status_reason});
        self.set_status(&mut tx, &mut post, PostStatus::Removed, reason)
            .await?;
        self.erase_content(&mut tx, &post).await?;
        post.body = None;
        post.body_html = None;
        // Nothing is left to decide: off the queue, its flags closed.
        let queued: Option<i64> = sqlx::query_scalar("SELECT queued_at FROM posts WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx.tx)
            .await?;
        if queued.is_some() {
            self.dequeue(&mut tx, id).await?;
            self.queue_event(&mut tx, &post.region, id, "removed")
                .await?;
        }
        self.audit(
            &mut tx,
            crate::moderation::Audit {
                region: Some(&post.region),
                actor_id: Some(actor_id),
                action: "remove",
                object_type: "post",
                object_id: Some(id),
                reason,
                before: Some(before),
                after: Some(
                    serde_json::json!({"status": post.status, "status_reason": post.status_reason}),
                ),
            },
        )
        .await?;
        let mut event = post_event("post.removed", &post);
        event.audience = "public";
        self.append_event(&mut tx, &event).await?;
        self.commit(tx).await?;
        Ok(post)
    }

    /// Takes a removed post out of the search index.
    pub(crate) async fn reindex_removed(&self, tx: &mut WriteTx, post: &Post) -> Result<()> {
        self.index_post(tx, post.id, &post.objectives, Some(""))
            .await
    }

    /// Endorses a published post once per user. Returns the post's endorsement count and
    /// whether this call changed it.
    pub async fn endorse(&self, post_id: i64, user_id: i64) -> Result<(i64, bool)> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT author_id, status, thread_id FROM posts WHERE id = $1")
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
        let added = sqlx::query(
            "INSERT INTO endorsements (post_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (post_id, user_id) DO NOTHING",
        )
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
        let thread_id: i64 = sqlx::query_scalar("SELECT thread_id FROM posts WHERE id = $1")
            .bind(post_id)
            .fetch_optional(&mut *tx.tx)
            .await?
            .ok_or(StoreError::NotFound("post"))?;
        let removed = sqlx::query("DELETE FROM endorsements WHERE post_id = $1 AND user_id = $2")
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
            sqlx::query("UPDATE posts SET endorsements = endorsements + $1 WHERE id = $2")
                .bind(delta)
                .bind(post_id)
                .execute(&mut *tx.tx)
                .await?;
            // A thread counts its published posts' endorsements only (see `set_status`).
            sqlx::query(
                "UPDATE threads SET endorsements = endorsements + $1 WHERE id = $2 \
                 AND EXISTS (SELECT 1 FROM posts WHERE id = $3 AND status = 'published')",
            )
            .bind(delta)
            .bind(thread_id)
            .bind(post_id)
            .execute(&mut *tx.tx)
            .await?;
        }
        Ok(
            sqlx::query_scalar("SELECT endorsements FROM posts WHERE id = $1")
                .bind(post_id)
                .fetch_one(&mut *tx.tx)
                .await?,
        )
    }
}
