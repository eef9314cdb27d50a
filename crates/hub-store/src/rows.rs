//! Turning rows into domain records. Hand-written rather than derived: the `Any` driver speaks
//! only integers and text, and the conversions (times, JSON lists, vocabularies) live here once.

use crate::from_micros;
use hub_domain::{Aspect, AuthorRef, Post, PostKind, PostStatus, StakeholderGroup, Thread};
use sqlx::any::AnyRow;
use sqlx::Row;

/// The author columns every post or thread query selects, aliased with `u_`.
pub(crate) const AUTHOR_COLUMNS: &str =
    "u.id AS u_id, u.display_name AS u_display_name, u.organisation AS u_organisation, \
     u.stakeholder_group AS u_stakeholder_group, u.country AS u_country";

/// The post columns, from `posts p JOIN users u`.
pub(crate) const POST_COLUMNS: &str =
    "p.id, p.thread_id, p.region, p.parent_id, p.depth, p.path, p.kind, p.body, p.body_html, \
     p.language, p.language_detected, p.objectives, p.aspects, p.status, p.status_reason, \
     p.endorsements, p.revision, p.created_at, p.edited_at";

/// The thread columns, from `threads t JOIN users u`.
pub(crate) const THREAD_COLUMNS: &str =
    "t.id, t.region, t.title, t.kind, t.objectives, t.opening_post_id, t.pinned, t.locked, \
     t.post_count, t.endorsements, t.created_at, t.last_activity_at";

pub(crate) fn decode_err(column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unexpected value {value:?} in column {column}").into())
}

pub(crate) fn ids_json(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn aspects_json(a: &[Aspect]) -> String {
    serde_json::to_string(a).unwrap_or_else(|_| "[]".into())
}

fn json_list<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    col: &str,
) -> Result<Vec<T>, sqlx::Error> {
    let s: String = row.try_get(col)?;
    serde_json::from_str(&s).map_err(|_| decode_err(col, &s))
}

fn vocab<T>(row: &AnyRow, col: &str, parse: fn(&str) -> Option<T>) -> Result<T, sqlx::Error> {
    let s: String = row.try_get(col)?;
    parse(&s).ok_or_else(|| decode_err(col, &s))
}

pub(crate) fn author(row: &AnyRow) -> Result<AuthorRef, sqlx::Error> {
    Ok(AuthorRef {
        id: row.try_get("u_id")?,
        display_name: row.try_get("u_display_name")?,
        organisation: row.try_get("u_organisation")?,
        stakeholder_group: vocab(row, "u_stakeholder_group", StakeholderGroup::parse)?,
        country: row.try_get("u_country")?,
    })
}

pub(crate) fn post(row: &AnyRow) -> Result<Post, sqlx::Error> {
    Ok(Post {
        id: row.try_get("id")?,
        thread_id: row.try_get("thread_id")?,
        region: row.try_get("region")?,
        parent_id: row.try_get("parent_id")?,
        depth: row.try_get("depth")?,
        author: author(row)?,
        kind: vocab(row, "kind", PostKind::parse)?,
        body: Some(row.try_get("body")?),
        body_html: Some(row.try_get("body_html")?),
        language: row.try_get("language")?,
        language_detected: row.try_get::<i64, _>("language_detected")? != 0,
        objectives: json_list(row, "objectives")?,
        aspects: json_list(row, "aspects")?,
        status: vocab(row, "status", PostStatus::parse)?,
        status_reason: row.try_get("status_reason")?,
        endorsements: row.try_get("endorsements")?,
        revision: row.try_get("revision")?,
        created_at: from_micros(row.try_get("created_at")?),
        edited_at: row.try_get::<Option<i64>, _>("edited_at")?.map(from_micros),
    })
}

pub(crate) fn thread(row: &AnyRow) -> Result<Thread, sqlx::Error> {
    Ok(Thread {
        id: row.try_get("id")?,
        region: row.try_get("region")?,
        title: row.try_get("title")?,
        kind: vocab(row, "kind", PostKind::parse)?,
        objectives: json_list(row, "objectives")?,
        author: author(row)?,
        opening_post_id: row.try_get("opening_post_id")?,
        pinned: row.try_get::<i64, _>("pinned")? != 0,
        locked: row.try_get::<i64, _>("locked")? != 0,
        post_count: row.try_get("post_count")?,
        endorsements: row.try_get("endorsements")?,
        created_at: from_micros(row.try_get("created_at")?),
        last_activity_at: from_micros(row.try_get("last_activity_at")?),
    })
}

/// Encodes a keyset cursor. Opaque to clients; only this crate reads it back.
pub(crate) fn encode_cursor(parts: &[String]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(parts.join("\u{1f}"))
}

/// Decodes a cursor made by [`encode_cursor`] with `n` parts.
pub(crate) fn decode_cursor(cursor: &str, n: usize) -> Result<Vec<String>, crate::StoreError> {
    use base64::Engine;
    let bad = || crate::StoreError::Invalid {
        field: "cursor",
        message: "is not a cursor this list gave out".into(),
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let s = String::from_utf8(bytes).map_err(|_| bad())?;
    let parts: Vec<String> = s.split('\u{1f}').map(str::to_string).collect();
    // No cursor this crate makes holds a control character (and PostgreSQL refuses a NUL in
    // text, so a forged one must not reach it).
    if parts.len() == n && !parts.iter().any(|p| p.chars().any(char::is_control)) {
        Ok(parts)
    } else {
        Err(bad())
    }
}

/// Parses an integer cursor part.
pub(crate) fn cursor_int(s: &str) -> Result<i64, crate::StoreError> {
    s.parse().map_err(|_| crate::StoreError::Invalid {
        field: "cursor",
        message: "is not a cursor this list gave out".into(),
    })
}

/// Arguments of a query assembled from optional filters: each push returns its placeholder, so
/// placeholders are numbered in the order they are bound, on both backends.
#[derive(Default)]
pub(crate) struct Args(Vec<Arg>);

enum Arg {
    Int(i64),
    Text(String),
}

impl Args {
    pub(crate) fn push_int(&mut self, v: i64) -> String {
        self.0.push(Arg::Int(v));
        format!("${}", self.0.len())
    }

    pub(crate) fn push_text(&mut self, v: String) -> String {
        self.0.push(Arg::Text(v));
        format!("${}", self.0.len())
    }

    pub(crate) fn bind_all<'q>(
        self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for a in self.0 {
            q = match a {
                Arg::Int(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
            };
        }
        q
    }
}
