//! Writing helpers shared by the demo corpus and the Pol.is import: accounts, authors, and the
//! dates of generated or imported rows.

use anyhow::{bail, Context, Result};
use hub_domain::{AuthorRef, User};
use hub_store::{Backend, NewUser, Store, StoreError};

/// The author of a post, as the store wants it.
pub(crate) fn author_of(u: &User) -> AuthorRef {
    AuthorRef {
        id: u.id,
        display_name: u.display_name.clone(),
        organisation: u.organisation.clone(),
        stakeholder_group: u.stakeholder_group,
        country: u.country.clone(),
    }
}

/// The account with this e-mail, created when missing; `true` when created now.
pub(crate) async fn get_or_create_user(store: &Store, u: &NewUser) -> Result<(User, bool)> {
    if let Some((user, _)) = store.user_by_email(&u.email).await? {
        return Ok((user, false));
    }
    match store.create_user(u).await {
        Ok(user) => Ok((user, true)),
        // Created by someone else between the two calls.
        Err(StoreError::Conflict(_)) => match store.user_by_email(&u.email).await? {
            Some((user, _)) => Ok((user, false)),
            None => bail!("account {} conflicts but cannot be found", u.email),
        },
        Err(e) => Err(e).with_context(|| format!("cannot create account {}", u.email)),
    }
}

/// Gives generated or imported posts the time they were written rather than the time they
/// were loaded, so that documents built from them are reproducible and their week-by-week
/// figures mean something.
///
/// `posts` are `(post id, microseconds)` of posts of `thread_id`; endorsements of those posts
/// by `endorsers` (the synthetic accounts that made them) take their post's time, and the
/// thread's `created_at` and `last_activity_at` become its earliest and latest post's. One
/// transaction; rows already dated are not rewritten, so a second run writes nothing.
///
/// Raw SQL because the store stamps every write with the current time. This changes no
/// event: the log keeps when the rows were loaded.
pub(crate) async fn date_thread(
    store: &Store,
    thread_id: i64,
    posts: &[(i64, i64)],
    endorsers: &[i64],
) -> Result<()> {
    if posts.is_empty() {
        return Ok(());
    }
    // SQLite: take the write lock at once (a deferred transaction that reads first may be
    // refused its upgrade while another connection writes).
    let mut tx = match store.backend() {
        Backend::Sqlite => store.pool().begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => store.pool().begin().await,
    }
    .context("cannot start a transaction")?;
    let endorsers = endorsers
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    for &(post_id, at) in posts {
        sqlx::query(
            "UPDATE posts SET created_at = $1 WHERE id = $2 AND thread_id = $3 AND created_at <> $1",
        )
        .bind(at)
        .bind(post_id)
        .bind(thread_id)
        .execute(&mut *tx)
        .await
        .with_context(|| format!("cannot date post {post_id}"))?;
        if !endorsers.is_empty() {
            // The ids are integers formatted here, not input: safe to inline.
            sqlx::query(&format!(
                "UPDATE endorsements SET created_at = $1 \
                 WHERE post_id = $2 AND user_id IN ({endorsers}) AND created_at <> $1"
            ))
            .bind(at)
            .bind(post_id)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("cannot date the endorsements of post {post_id}"))?;
        }
    }
    sqlx::query(
        "UPDATE threads SET \
         created_at = (SELECT MIN(p.created_at) FROM posts p WHERE p.thread_id = $1), \
         last_activity_at = (SELECT MAX(p.created_at) FROM posts p WHERE p.thread_id = $1) \
         WHERE id = $1 AND (created_at <> (SELECT MIN(p.created_at) FROM posts p WHERE p.thread_id = $1) \
         OR last_activity_at <> (SELECT MAX(p.created_at) FROM posts p WHERE p.thread_id = $1))",
    )
    .bind(thread_id)
    .execute(&mut *tx)
    .await
    .with_context(|| format!("cannot date thread {thread_id}"))?;
    tx.commit()
        .await
        .with_context(|| format!("cannot date thread {thread_id}"))?;
    Ok(())
}
