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
}

/// Width of one path segment: ids up to 10^12 - 1 keep their byte order.
const PATH_SEGMENT: usize = 12;

/// Where a new post goes: the thread and, for a reply, its parent.
pub(crate) struct Placement {
    pub thread_id: i64,
    pub region: String,
    pub parent: Option<(i64, i64, String)>,
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

    /// Inserts a post, its objectives and its search terms, and bumps its thread.
    pub(crate) async fn insert_post(
        &self,
        tx: &mut WriteTx,
        at: &Placement,
        p: &NewPost,
        now: i64,
    ) -> Result<Post> {
        let (depth, parent_path) = match &at.parent {
            Some((_, d, path)) => (d + 1, path.as_str()),
            None => (0, ""),
        };
        let sql = match self.backend {
            Backend::Sqlite => "INSERT INTO posts (thread_id, parent_id, region, author_id, depth, path, kind, body, \
                body_html, language, language_detected, objectives, aspects, status, created_at) \
                VALUES ($1, $2, $3, $4, $5, '', $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
            Backend::Postgres => "INSERT INTO posts (thread_id, parent_id, region, author_id, depth, path, kind, body, \
                body_html, language, language_detected, objectives, aspects, status, created_at, search_terms) \
                VALUES ($1, $2, $3, $4, $5, '', $6, $7, $8, $9, $10, $11, $12, $13, $14, string_to_array($15, ' ')) RETURNING id",
        };
        let id: i64 = sqlx::query_scalar(sql)
            .bind(at.thread_id)
            .bind(at.parent.as_ref().map(|p| p.0))
            .bind(&at.region)
            .bind(p.author.id)
            .bind(depth)
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
            .fetch_one(&mut *tx.tx)
            .await?;
        let path = format!("{parent_path}{id:0width$}/", width = PATH_SEGMENT);
        sqlx::query("UPDATE posts SET path = $1 WHERE id = $2")
            .bind(&path)
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        self.index_post(tx, id, &p.objectives, Some(&p.search_terms), true)
            .await?;
        if p.status == PostStatus::Published {
            sqlx::query("UPDATE threads SET post_count = post_count + 1, last_activity_at = $1 WHERE id = $2")
                .bind(now)
                .bind(at.thread_id)
                .execute(&mut *tx.tx)
                .await?;
        }
        Ok(Post {
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
        })
    }

    /// (Re)writes a post's objective rows and its search terms. `terms` of `None` leaves the
    /// search index as it is; `fresh` says the post was just inserted (nothing to replace, and
    /// on PostgreSQL the insert already stored the terms).
    async fn index_post(
        &self,
        tx: &mut WriteTx,
        id: i64,
        objectives: &[i64],
        terms: Option<&str>,
        fresh: bool,
    ) -> Result<()> {
        if !fresh {
            sqlx::query("DELETE FROM post_objectives WHERE post_id = $1")
                .bind(id)
                .execute(&mut *tx.tx)
                .await?;
        }
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
                    if !fresh {
                        sqlx::query("DELETE FROM post_search WHERE rowid = $1")
                            .bind(id)
                            .execute(&mut *tx.tx)
                            .await?;
                    }
                    sqlx::query("INSERT INTO post_search (rowid, terms) VALUES ($1, $2)")
                        .bind(id)
                        .bind(terms)
                        .execute(&mut *tx.tx)
                        .await?;
                }
                Backend::Postgres if fresh => {}
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
        let mut tx = self.begin_write().await?;
        if let Some(key) = idem {
            if let Some(id) = self.claim_idempotency_key(&mut tx, key, "post").await? {
                return Ok(Created::Replayed(id));
            }
        }
        let thread =
            sqlx::query("SELECT region, locked, opening_post_id FROM threads WHERE id = $1")
                .bind(thread_id)
                .fetch_optional(&mut *tx.tx)
                .await?
                .ok_or(StoreError::NotFound("thread"))?;
        if thread.try_get::<i64, _>("locked")? != 0 {
            return Err(StoreError::Conflict("the thread is locked".into()));
        }
        // A reply to the thread itself answers its opening post: every thread is one tree.
        let parent_id = p
            .parent_id
            .or(thread.try_get::<Option<i64>, _>("opening_post_id")?);
        let parent = match parent_id {
            None => None,
            Some(pid) => {
                let row = sqlx::query("SELECT thread_id, depth, path FROM posts WHERE id = $1")
                    .bind(pid)
                    .fetch_optional(&mut *tx.tx)
                    .await?;
                match row {
                    Some(r) if r.try_get::<i64, _>("thread_id")? == thread_id => {
                        let depth: i64 = r.try_get("depth")?;
                        if depth + 1 > DEPTH_MAX {
                            return Err(StoreError::Invalid {
                                field: "parent_id",
                                message: format!("replies nest at most {DEPTH_MAX} deep"),
                            });
                        }
                        Some((pid, depth, r.try_get::<String, _>("path")?))
                    }
                    _ => {
                        return Err(StoreError::Invalid {
                            field: "parent_id",
                            message: format!("post {pid} is not in thread {thread_id}"),
                        })
                    }
                }
            }
        };
        let at = Placement {
            thread_id,
            region: thread.try_get("region")?,
            parent,
        };
        let post = self.insert_post(&mut tx, &at, p, now_micros()).await?;
        self.append_event(&mut tx, &post_event("post.created", &post))
            .await?;
        if post.status == PostStatus::Pending {
            self.enqueue(&mut tx, &post).await?;
        }
        if let Some(key) = idem {
            self.complete_idempotency_key(&mut tx, key, post.id).await?;
        }
        self.commit(tx).await?;
        Ok(Created::New(post))
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
        let after = match cursor {
            Some(c) => rows::decode_cursor(c, 1)?.remove(0),
            None => String::new(),
        };
        let rows = sqlx::query(&format!(
            "SELECT {POST_COLUMNS}, {AUTHOR_COLUMNS} FROM posts p JOIN users u ON u.id = p.author_id \
             WHERE p.thread_id = $1 AND p.path > $2 ORDER BY p.path LIMIT $3"
        ))
        .bind(thread_id)
        .bind(&after)
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        let more = rows.len() as i64 > limit;
        let mut items = Vec::with_capacity(rows.len());
        let mut last_path = String::new();
        for r in rows.iter().take(usize::try_from(limit).unwrap_or(0)) {
            last_path = r.try_get("path")?;
            items.push(rows::post(r)?);
        }
        Ok(Page {
            items,
            next_cursor: more.then(|| rows::encode_cursor(&[last_path])),
        })
    }

    /// A post's row (with `editor_id`) inside a write transaction.
    pub(crate) async fn post_row_in(&self, tx: &mut WriteTx, id: i64) -> Result<sqlx::any::AnyRow> {
        sqlx::query(&format!(
            "SELECT {POST_COLUMNS}, p.editor_id, {AUTHOR_COLUMNS} FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *tx.tx)
        .await?
        .ok_or(StoreError::NotFound("post"))
    }

    /// Edits a post, keeping the version it replaces as a revision.
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
        let mut terms = None;
        if let Some((body, html, t)) = &e.body {
            post.body = Some(body.clone());
            post.body_html = Some(html.clone());
            terms = Some(t.as_str());
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
             language = $6, language_detected = $7, revision = $8, edited_at = $9, editor_id = $10 WHERE id = $11",
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
        .execute(&mut *tx.tx)
        .await?;
        self.index_post(&mut tx, id, &post.objectives, terms, false)
            .await?;
        self.append_event(&mut tx, &post_event("post.updated", &post))
            .await?;
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
    /// keep their place in the tree.
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
        self.index_post(tx, post.id, &post.objectives, Some(""), false)
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
            sqlx::query("UPDATE threads SET endorsements = endorsements + $1 WHERE id = $2")
                .bind(delta)
                .bind(thread_id)
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
