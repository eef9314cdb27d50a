//! Editing and removing posts, and their revisions.

use super::{body_hash, post_event, PostEdit};
use crate::rows::{self, AUTHOR_COLUMNS, POST_COLUMNS};
use crate::{now_micros, Backend, Result, Store, StoreError, WriteTx};
use hub_domain::{Post, PostKind, PostStatus, Revision};
use sqlx::Row;

// The statements this module sends, by name: a test prepares each on both backends.
pub(crate) const STATEMENTS: &[(&str, &str)] = &[
    ("posts::edit::EDIT_POST_INSERT", EDIT_POST_INSERT),
    ("posts::edit::EDIT_POST_SELECT", EDIT_POST_SELECT),
    ("posts::edit::EDIT_POST_UPDATE", EDIT_POST_UPDATE),
    ("posts::edit::INDEX_POST_DELETE", INDEX_POST_DELETE),
    ("posts::edit::REVISIONS_SELECT", REVISIONS_SELECT),
    ("posts::edit::REVISIONS_SELECT_2", REVISIONS_SELECT_2),
    ("posts::edit::REMOVE_POST_SELECT", REMOVE_POST_SELECT),
];
/// Sent on SQLite only (the full-text index and its queue).
pub(crate) const SQLITE_STATEMENTS: &[(&str, &str)] = &[
    ("posts::edit::INDEX_POST_DELETE_2", INDEX_POST_DELETE_2),
    ("posts::edit::INDEX_POST_DELETE_3", INDEX_POST_DELETE_3),
    ("posts::edit::INDEX_POST_INSERT", INDEX_POST_INSERT),
];
/// Sent on PostgreSQL only (the posts' own search terms).
pub(crate) const POSTGRES_STATEMENTS: &[(&str, &str)] =
    &[("posts::edit::INDEX_POST_UPDATE", INDEX_POST_UPDATE)];

/// A post with its author, in `lock`'s mode.
fn post_row_sql(lock: &str) -> String {
    format!(
        "SELECT {POST_COLUMNS}, p.editor_id, {AUTHOR_COLUMNS} FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id = $1{lock}"
    )
}
/// A post read in a write transaction: on SQLite, which has one writer at a time...
static POST_ROW: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| post_row_sql(""));
/// ...and on PostgreSQL, locking it.
static POST_ROW_LOCKED: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| post_row_sql(" FOR UPDATE OF p"));

/// A post's objectives, `values` being its `(objective, $1)` pairs.
fn post_objectives_sql(values: &[String]) -> String {
    format!(
        "INSERT INTO post_objectives (objective, post_id) VALUES {}",
        values.join(", ")
    )
}

/// The statements formatted per dialect or built per call (one instance: two objectives),
/// by name, as `backend` is sent them.
pub(crate) fn built_statements(backend: Backend) -> Vec<(String, String)> {
    let row = match backend {
        Backend::Postgres => ("posts::edit::POST_ROW_LOCKED", &*POST_ROW_LOCKED),
        Backend::Sqlite => ("posts::edit::POST_ROW", &*POST_ROW),
    };
    let values = ["(1, $1)", "(2, $1)"].map(String::from);
    vec![
        (row.0.to_string(), row.1.clone()),
        (
            "posts::edit::post_objectives (built)".to_string(),
            post_objectives_sql(&values),
        ),
    ]
}

const EDIT_POST_INSERT: &str = "INSERT INTO post_revisions (post_id, revision, body, kind, objectives, editor_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)";
const EDIT_POST_SELECT: &str = "SELECT title FROM threads WHERE id = $1 AND opening_post_id = $2";
const EDIT_POST_UPDATE: &str = "UPDATE posts SET body = $1, body_html = $2, kind = $3, objectives = $4, aspects = $5, \
             language = $6, language_detected = $7, revision = $8, edited_at = $9, editor_id = $10, \
             body_hash = $12 WHERE id = $11";
const INDEX_POST_DELETE: &str = "DELETE FROM post_objectives WHERE post_id = $1";
const INDEX_POST_DELETE_2: &str = "DELETE FROM search_pending WHERE post_id = $1";
const INDEX_POST_DELETE_3: &str = "DELETE FROM post_search WHERE rowid = $1";
const INDEX_POST_INSERT: &str = "INSERT INTO post_search (rowid, terms) VALUES ($1, $2)";
const INDEX_POST_UPDATE: &str =
    "UPDATE posts SET search_terms = string_to_array($1, ' ') WHERE id = $2";
const REVISIONS_SELECT: &str =
    "SELECT post_id, revision, body, kind, objectives, editor_id, created_at FROM post_revisions \
             WHERE post_id = $1 ORDER BY revision";
const REVISIONS_SELECT_2: &str = "SELECT editor_id FROM posts WHERE id = $1";
const REMOVE_POST_SELECT: &str = "SELECT queued_at FROM posts WHERE id = $1";

impl Store {
    /// A post's row (with `editor_id`) inside a write transaction.
    ///
    /// On PostgreSQL the row is locked (`FOR UPDATE`) until the transaction ends: what the
    /// transaction decides from it (an edit's new revision, a removal's erasure, a decision)
    /// cannot be overtaken by another change of the post read before it committed. (An edit
    /// racing a removal wrote the erased text back.) SQLite has one writer at a time.
    pub(crate) async fn post_row_in(&self, tx: &mut WriteTx, id: i64) -> Result<sqlx::any::AnyRow> {
        let sql = match self.backend {
            Backend::Postgres => &*POST_ROW_LOCKED,
            Backend::Sqlite => &*POST_ROW,
        };
        sqlx::query(sql)
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
        sqlx::query(EDIT_POST_INSERT)
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
                sqlx::query_scalar(EDIT_POST_SELECT)
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
        sqlx::query(EDIT_POST_UPDATE)
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
                crate::audit::Audit {
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

    /// Rewrites a post's objective rows and its search terms (after an edit or a removal).
    /// `terms` of `None` leaves the search index as it is.
    async fn index_post(
        &self,
        tx: &mut WriteTx,
        id: i64,
        objectives: &[i64],
        terms: Option<&str>,
    ) -> Result<()> {
        sqlx::query(INDEX_POST_DELETE)
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        if !objectives.is_empty() {
            // One statement for all of them: (objective, post) pairs.
            let values: Vec<String> = objectives.iter().map(|o| format!("({o}, $1)")).collect();
            sqlx::query(&post_objectives_sql(&values))
                .bind(id)
                .execute(&mut *tx.tx)
                .await?;
        }
        if let Some(terms) = terms {
            match self.backend {
                Backend::Sqlite => {
                    // Terms still waiting for the indexer are out of date now (and a removed
                    // post's must never reach the index).
                    sqlx::query(INDEX_POST_DELETE_2)
                        .bind(id)
                        .execute(&mut *tx.tx)
                        .await?;
                    sqlx::query(INDEX_POST_DELETE_3)
                        .bind(id)
                        .execute(&mut *tx.tx)
                        .await?;
                    sqlx::query(INDEX_POST_INSERT)
                        .bind(id)
                        .bind(terms)
                        .execute(&mut *tx.tx)
                        .await?;
                }
                Backend::Postgres => {
                    sqlx::query(INDEX_POST_UPDATE)
                        .bind(terms)
                        .bind(id)
                        .execute(&mut *tx.tx)
                        .await?;
                }
            }
        }
        Ok(())
    }
    /// Every version of a post, oldest first; the last is the current one.
    pub async fn revisions(&self, post_id: i64) -> Result<Vec<Revision>> {
        let current = self.post(post_id).await?;
        let rows = sqlx::query(REVISIONS_SELECT)
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
        let editor: Option<i64> = sqlx::query_scalar(REVISIONS_SELECT_2)
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
        let queued: Option<i64> = sqlx::query_scalar(REMOVE_POST_SELECT)
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
            crate::audit::Audit {
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
}
