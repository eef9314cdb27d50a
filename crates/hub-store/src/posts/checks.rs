//! The checks of a new post (its thread, its parent, a duplicate) and where it goes.

use super::{body_hash, NewPost, PATH_SEGMENT};
use crate::{Result, StoreError};
use hub_domain::{validate::DEPTH_MAX, Post};
use sqlx::Row;

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
             LEFT JOIN posts op ON ",
            crate::visible::opening_post_of!("t", "op"),
            " WHERE t.id = $1"
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
pub(super) const SQLITE_POST_CHECKS: &str = sqlite_post_checks!();
/// [`SQLITE_POST_CHECKS`] opening the write transaction (`Store::write_lone_post`).
pub(super) const SQLITE_BEGIN_POST_CHECKS: &str =
    concat!("BEGIN IMMEDIATE; ", sqlite_post_checks!());

/// On PostgreSQL the write also tries the event log's numbering lock (`$6`): when it is free,
/// the write holds it to its commit and numbers its own event (no relay run to wait for);
/// when it is taken, other writes are numbering or the relay is, and the event is left to the
/// relay, whose runs number many at a time.
pub(super) const PG_POST_CHECKS: &str = post_checks_sql!(
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
    pub(super) fn from_row(row: &sqlx::any::AnyRow) -> Result<(Self, i64)> {
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

/// The checks `sql` (`post_checks_sql!`) bound to a new post to `thread_id`.
pub(super) fn post_checks_query<'q>(
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

/// The checks of a new post in `backend`'s dialect, by name.
pub(super) fn statements(backend: crate::Backend) -> Vec<(String, String)> {
    let list: &[(&'static str, &str)] = match backend {
        crate::Backend::Sqlite => &[
            ("posts::checks", SQLITE_POST_CHECKS),
            ("posts::begin_checks", SQLITE_BEGIN_POST_CHECKS),
        ],
        crate::Backend::Postgres => &[("posts::checks", PG_POST_CHECKS)],
    };
    list.iter()
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect()
}
