//! Reading the event log: its head, a subscriber's replay, what a replay withholds.

use super::{EventFilter, EventRecord};
use crate::visible;
use crate::{from_micros, Result, Store};
use sqlx::Row;

// The statements this module sends, by name: a test prepares each on both backends.
pub(crate) const STATEMENTS: &[(&str, &str)] = &[
    ("events::read::HEAD_SEQ", HEAD_SEQ),
    ("events::read::EVENTS_AFTER", EVENTS_AFTER),
];

const HEAD_SEQ: &str = "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM events";
const EVENTS_AFTER: &str =
    "SELECT seq, type, region, thread_id, post_id, user_id, audience, payload, created_at \
             FROM events WHERE seq > $1 ORDER BY seq LIMIT $2";

/// A subscriber's replay: events after `after_p` matching any of `ors`, at most `limit_p`.
fn events_for_sql(after_p: &str, ors: &[String], limit_p: &str) -> String {
    format!(
        "SELECT seq, type, region, thread_id, post_id, user_id, audience, payload, created_at \
         FROM events WHERE seq > {after_p} AND ({}) ORDER BY seq LIMIT {limit_p}",
        ors.join(" OR ")
    )
}

/// Which of the posts whose ids are the parameters `ps` are withheld.
fn withheld_posts_sql(ps: &[String]) -> String {
    format!(
        "SELECT p.id FROM posts p JOIN threads t ON t.id = p.thread_id \
         LEFT JOIN posts op ON {opening} \
         WHERE p.id IN ({}) AND {withheld}",
        ps.join(", "),
        opening = visible::opening_post_of!("t", "op"),
        withheld = visible::post_or_thread_withheld!("p", "op"),
    )
}

/// The statements built per call, each as one representative instance (a filter on every
/// field, one post), by name.
pub(crate) fn built_statements() -> Vec<(String, String)> {
    let ors = ["region IN ($2)", "thread_id IN ($3)", "user_id IN ($4)"].map(String::from);
    vec![
        (
            "events::read::events_for (built)".to_string(),
            events_for_sql("$1", &ors, "$5"),
        ),
        (
            "events::read::withheld_posts (built)".to_string(),
            withheld_posts_sql(&["$1".to_string()]),
        ),
    ]
}

impl Store {
    /// The highest sequenced event.
    pub async fn head_seq(&self) -> Result<i64> {
        Ok(sqlx::query_scalar(HEAD_SEQ).fetch_one(&self.pool).await?)
    }

    /// Sequenced events after `after` that concern any of these regions, threads or users, in
    /// order, at most `limit` (a subscriber's replay).
    pub async fn events_for(
        &self,
        after: i64,
        f: &EventFilter,
        limit: i64,
    ) -> Result<Vec<EventRecord>> {
        if f.regions.is_empty() && f.threads.is_empty() && f.users.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = crate::rows::Args::default();
        let after_p = args.push_int(after);
        let mut ors = Vec::new();
        if !f.regions.is_empty() {
            let ps: Vec<String> = f
                .regions
                .iter()
                .map(|r| args.push_text(r.clone()))
                .collect();
            ors.push(format!("region IN ({})", ps.join(", ")));
        }
        if !f.threads.is_empty() {
            let ps: Vec<String> = f.threads.iter().map(|t| args.push_int(*t)).collect();
            ors.push(format!("thread_id IN ({})", ps.join(", ")));
        }
        if !f.users.is_empty() {
            let ps: Vec<String> = f.users.iter().map(|u| args.push_int(*u)).collect();
            ors.push(format!("user_id IN ({})", ps.join(", ")));
        }
        let limit_p = args.push_int(limit);
        let sql = events_for_sql(&after_p, &ors, &limit_p);
        let rows = args
            .bind_all(sqlx::query(&sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_row).collect()
    }

    /// Which of these posts are withheld now: not published (hidden, removed or pending), or
    /// in a thread whose opening post is not published. A replay of the log withholds what
    /// was logged about them from those who may no longer see it.
    pub async fn withheld_posts(&self, posts: &[i64]) -> Result<std::collections::HashSet<i64>> {
        let mut out = std::collections::HashSet::new();
        // Bounded lists: the database's limit on parameters is far above this.
        for chunk in posts.chunks(500) {
            let mut args = crate::rows::Args::default();
            let ps: Vec<String> = chunk.iter().map(|p| args.push_int(*p)).collect();
            let sql = withheld_posts_sql(&ps);
            for r in args
                .bind_all(sqlx::query(&sql))
                .fetch_all(&self.pool)
                .await?
            {
                out.insert(r.try_get::<i64, _>("id")?);
            }
        }
        Ok(out)
    }

    /// Sequenced events after `after`, in order, at most `limit`.
    pub async fn events_after(&self, after: i64, limit: i64) -> Result<Vec<EventRecord>> {
        let rows = sqlx::query(EVENTS_AFTER)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_row).collect()
    }
}

fn event_row(r: &sqlx::any::AnyRow) -> Result<EventRecord> {
    Ok(EventRecord {
        seq: r.try_get("seq")?,
        kind: r.try_get("type")?,
        region: r.try_get("region")?,
        thread_id: r.try_get("thread_id")?,
        post_id: r.try_get("post_id")?,
        user_id: r.try_get("user_id")?,
        audience: r.try_get("audience")?,
        payload: r.try_get("payload")?,
        created_at: from_micros(r.try_get("created_at")?),
    })
}
