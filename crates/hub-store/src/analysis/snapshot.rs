//! The snapshot an analysis build reads: one read-only transaction over a region's posts.

use crate::visible;
use crate::{rows, Backend, Result, Store, StoreError};
use hub_domain::{Aspect, PostKind, StakeholderGroup};
use sqlx::any::AnyRow;
use sqlx::Row;

// The statements this module sends, by name: a test prepares each on both backends.
pub(crate) const STATEMENTS: &[(&str, &str)] = &[
    (
        "analysis::snapshot::HEAD_BEFORE_ANALYSIS",
        HEAD_BEFORE_ANALYSIS,
    ),
    ("analysis::snapshot::RANGED_SELECT", RANGED_SELECT),
];
/// Sent on PostgreSQL only.
pub(crate) const POSTGRES_STATEMENTS: &[(&str, &str)] =
    &[("analysis::snapshot::SORT_OFF", SORT_OFF)];

const HEAD_BEFORE_ANALYSIS: &str =
    "SELECT seq FROM events WHERE seq IS NOT NULL AND type NOT LIKE 'analysis.%' \
             ORDER BY seq DESC LIMIT 1";
const SORT_OFF: &str = "SET LOCAL enable_sort = off";
const RANGED_SELECT: &str = "SELECT MIN(id) FROM posts WHERE id > $1";

impl Store {
    /// Opens a snapshot of `region` at `cutoff_at`: one read transaction (repeatable read on
    /// PostgreSQL), so every query of the build sees the same database.
    ///
    /// The snapshot has a connection of its own, opened here, not one of the pool: a build
    /// reads for many seconds and must not hold a connection that requests are waiting for.
    /// Opened from a thread of lowered priority, its SQLite worker thread inherits that
    /// priority (a new thread takes its creator's), so the database work of a build yields to
    /// posting as the rest of the build does. Open and use it on one runtime, and
    /// [`Snapshot::finish`] it there.
    pub async fn snapshot(&self, region: &str, cutoff_at: i64) -> Result<Snapshot> {
        use sqlx::Executor;
        let mut tx = self.own_connection().await?;
        tx.execute(match self.backend {
            Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            Backend::Sqlite => "BEGIN",
        })
        .await?;
        // The first read fixes the snapshot; the event head is read inside it. Analysis
        // events are left out: they change nothing a document reads, and counting them made
        // the `analysis.ready` of one build change the next build's `cutoff.seq` (and so its
        // content hash) although both read the same posts.
        let head: i64 = sqlx::query_scalar(HEAD_BEFORE_ANALYSIS)
            .fetch_optional(&mut tx)
            .await?
            .unwrap_or(0);
        if self.backend == Backend::Postgres {
            sqlx::query(SORT_OFF).execute(&mut tx).await?;
        }
        Ok(Snapshot {
            sqlite: self.backend == Backend::Sqlite,
            pacer: self.activity().pacer(),
            count_range: COUNT_RANGE,
            tx,
            region: region.to_string(),
            cutoff_at,
            head,
        })
    }
}

/// One published post as the analysis reads it. No personal names: the author is an id, a
/// stakeholder group, a country and, only as stored, an organisation with its attribution flag.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotPost {
    /// Post id.
    pub id: i64,
    /// Thread id.
    pub thread_id: i64,
    /// Kind.
    pub kind: PostKind,
    /// Language tag, if declared or detected.
    pub language: Option<String>,
    /// Objectives.
    pub objectives: Vec<i64>,
    /// Aspects.
    pub aspects: Vec<Aspect>,
    /// Endorsements made at or before the cutoff.
    pub endorsements: i64,
    /// Created (microseconds).
    pub created_at: i64,
    /// Author id.
    pub author_id: i64,
    /// Author's stakeholder group.
    pub stakeholder_group: StakeholderGroup,
    /// Author's country.
    pub country: Option<String>,
    /// Author's organisation, as stored.
    pub organisation: Option<String>,
    /// Whether the author allows the organisation to be named.
    pub attribution: bool,
}

/// A post's text, read for key terms and quotes.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotText {
    /// Post id.
    pub id: i64,
    /// Markdown body.
    pub body: String,
    /// Language tag.
    pub language: Option<String>,
    /// Objectives.
    pub objectives: Vec<i64>,
}

/// A consistent read of one region up to a cutoff. Rows are streamed to callbacks, never
/// loaded whole.
pub struct Snapshot {
    /// The snapshot's own connection, inside its read transaction.
    tx: sqlx::AnyConnection,
    region: String,
    cutoff_at: i64,
    head: i64,
    sqlite: bool,
    /// Gives way to the process's work in flight, row by row.
    pacer: crate::activity::Pacer,
    /// Post ids per statement of a grouped count.
    count_range: i64,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("region", &self.region)
            .field("cutoff_at", &self.cutoff_at)
            .field("head", &self.head)
            .finish()
    }
}

/// The filter of counted posts: published, in the region, created by the cutoff.
const COUNTED: &str = concat!(
    "p.region = $1 AND ",
    visible::published!("p"),
    " AND p.created_at <= $2"
);

/// How the ordered passes read `posts` on SQLite (`sqlite`) or PostgreSQL (see
/// `Snapshot::scan`).
fn scan_of(sqlite: bool) -> &'static str {
    if sqlite {
        "posts p NOT INDEXED"
    } else {
        "posts p"
    }
}

/// Every counted post, by id, read through `scan`.
fn posts_sql(scan: &str) -> String {
    format!(
        "SELECT p.id, p.thread_id, p.kind, p.language, p.objectives, p.aspects, p.created_at, \
         p.author_id, u.stakeholder_group, u.country, u.organisation, u.attribution, \
         (SELECT COUNT(*) FROM endorsements e WHERE e.post_id = p.id AND e.created_at <= $2) AS endorsed \
         FROM {scan} JOIN users u ON u.id = p.author_id WHERE {COUNTED} ORDER BY p.id"
    )
}

/// The texts of counted posts, only those about `objectives` (or none) when given.
fn texts_sql(scan: &str, objectives: Option<&[i64]>) -> String {
    let only = match objectives {
        Some(list) if !list.is_empty() => format!(
            " AND (p.objectives = '[]' OR EXISTS (SELECT 1 FROM post_objectives po \
             WHERE po.post_id = p.id AND po.objective IN ({})))",
            list.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ),
        Some(_) => " AND p.objectives = '[]'".to_string(),
        None => String::new(),
    };
    format!(
        "SELECT p.id, p.body, p.language, p.objectives FROM {scan} \
         WHERE {COUNTED}{only} ORDER BY p.id"
    )
}

/// The texts of the counted posts in `list` (ids, inlined).
fn texts_of_sql(list: &str) -> String {
    format!(
        "SELECT p.id, p.body, p.language, p.objectives FROM posts p \
         WHERE {COUNTED} AND p.id IN ({list}) ORDER BY p.id"
    )
}

/// The other regions' published posts in a range of ids, counted.
fn background_step_sql(scan: &str) -> String {
    format!(
        "SELECT COUNT(*) AS n FROM {scan} WHERE p.region <> $1 AND {published} \
         AND p.created_at <= $2 AND p.id > $3 AND p.id <= $4",
        published = visible::published!("p"),
    )
}

/// The background corpus: every `$3`-th of the other regions' published posts.
const BACKGROUND: &str = concat!(
    "SELECT p.id, p.body, p.language, p.objectives FROM posts p \
     WHERE p.region <> $1 AND ",
    visible::published!("p"),
    " AND p.created_at <= $2 AND p.id % $3 = 0 ORDER BY p.id"
);

/// Endorsements of counted recommendations in a range of ids, by group.
fn recommendation_endorsements_sql(scan: &str) -> String {
    format!(
        "SELECT e.post_id, u.stakeholder_group, COUNT(*) AS n FROM {scan} \
         JOIN endorsements e ON e.post_id = p.id JOIN users u ON u.id = e.user_id \
         WHERE {COUNTED} AND p.kind = 'recommendation' AND e.created_at <= $2 \
         AND p.id > $3 AND p.id <= $4 GROUP BY e.post_id, u.stakeholder_group"
    )
}

/// The region's posts moderation keeps out in a range of ids, by status and reason.
fn excluded_sql(scan: &str) -> String {
    format!(
        "SELECT p.status, p.status_reason, COUNT(*) AS n FROM {scan} \
         WHERE p.region = $1 AND p.created_at <= $2 AND {withheld} \
         AND p.id > $3 AND p.id <= $4 GROUP BY p.status, p.status_reason",
        withheld = visible::withheld!("p"),
    )
}

/// The snapshot's reads, in `backend`'s dialect, by name: those built per call as one
/// instance each (texts about two objectives, of two posts). On PostgreSQL the streamed ones
/// run inside a `DECLARE ... CURSOR`, whose `FETCH` and `CLOSE` are not listed.
pub(crate) fn built_statements(backend: crate::Backend) -> Vec<(String, String)> {
    let scan = scan_of(backend == crate::Backend::Sqlite);
    vec![
        (
            "analysis::snapshot::posts (built)".to_string(),
            posts_sql(scan),
        ),
        (
            "analysis::snapshot::texts (built)".to_string(),
            texts_sql(scan, Some(&[1, 2])),
        ),
        (
            "analysis::snapshot::texts_of (built)".to_string(),
            texts_of_sql("1,2"),
        ),
        (
            "analysis::snapshot::background_step (built)".to_string(),
            background_step_sql(scan),
        ),
        (
            "analysis::snapshot::BACKGROUND".to_string(),
            BACKGROUND.to_string(),
        ),
        (
            "analysis::snapshot::recommendation_endorsements (built)".to_string(),
            recommendation_endorsements_sql(scan),
        ),
        (
            "analysis::snapshot::excluded (built)".to_string(),
            excluded_sql(scan),
        ),
    ]
}

/// Parses `[1,5,23]` without the JSON machinery (the hot loop of a build).
fn parse_ids(s: &str) -> std::result::Result<Vec<i64>, sqlx::Error> {
    let inner = s.trim().trim_start_matches('[').trim_end_matches(']');
    if inner.trim().is_empty() {
        return Ok(Vec::new());
    }
    inner
        .split(',')
        .map(|t| {
            t.trim()
                .parse::<i64>()
                .map_err(|_| rows::decode_err("objectives", s))
        })
        .collect()
}

fn parse_aspects(s: &str) -> std::result::Result<Vec<Aspect>, sqlx::Error> {
    let inner = s.trim().trim_start_matches('[').trim_end_matches(']');
    if inner.trim().is_empty() {
        return Ok(Vec::new());
    }
    inner
        .split(',')
        .map(|t| {
            Aspect::parse(t.trim().trim_matches('"')).ok_or_else(|| rows::decode_err("aspects", s))
        })
        .collect()
}

/// Post ids a grouped count reads per statement, by default (see [`Snapshot::ranged`]).
pub const COUNT_RANGE: i64 = 4096;

/// Rows a cursor hands over at a time (PostgreSQL).
const CURSOR_CHUNK: usize = 500;

/// The rows of one of the snapshot's ordered passes, each handed over after the process's work
/// in flight (see [`crate::activity`]).
///
/// On PostgreSQL through a cursor, a chunk at a time, so the server works only while the
/// reader asks: a plain query's rows run ahead of their reader by as much as the socket
/// buffers hold (tens of megabytes here), and that server work went on while the build's own
/// threads gave way. On SQLite the rows come from the connection's worker thread through a
/// short channel, which stops when the reader does.
struct Rows<'c> {
    source: Source<'c>,
    pacer: &'c mut crate::activity::Pacer,
}

enum Source<'c> {
    Stream(futures::stream::BoxStream<'c, std::result::Result<AnyRow, sqlx::Error>>),
    Cursor {
        conn: &'c mut sqlx::AnyConnection,
        name: String,
        chunk: std::collections::VecDeque<AnyRow>,
        done: bool,
    },
}

/// Distinct cursor names within a snapshot's transaction.
static CURSORS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl<'c> Rows<'c> {
    /// Starts reading `sql` with `$1` the region, `$2` the cutoff and `$3` `extra`, if any.
    async fn open(
        conn: &'c mut sqlx::AnyConnection,
        pacer: &'c mut crate::activity::Pacer,
        sqlite: bool,
        sql: &'c str,
        (region, cutoff, extra): (&'c str, i64, Option<i64>),
    ) -> Result<Rows<'c>> {
        let source = if sqlite {
            let mut q = sqlx::query(sql).bind(region).bind(cutoff);
            if let Some(x) = extra {
                q = q.bind(x);
            }
            Source::Stream(q.fetch(conn))
        } else {
            let n = CURSORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let name = format!("analysis_rows_{n}");
            let declare = format!("DECLARE {name} NO SCROLL CURSOR FOR {sql}");
            let mut q = sqlx::query(&declare)
                .persistent(false)
                .bind(region)
                .bind(cutoff);
            if let Some(x) = extra {
                q = q.bind(x);
            }
            q.execute(&mut *conn).await?;
            Source::Cursor {
                conn,
                name,
                chunk: std::collections::VecDeque::new(),
                done: false,
            }
        };
        Ok(Rows { source, pacer })
    }

    /// The next row, after giving way to the process's work in flight; `None` at the end.
    async fn next(&mut self) -> Result<Option<AnyRow>> {
        use futures::TryStreamExt;
        self.pacer.pause_async().await;
        match &mut self.source {
            Source::Stream(rows) => Ok(rows.try_next().await?),
            Source::Cursor {
                conn,
                name,
                chunk,
                done,
            } => {
                if chunk.is_empty() && !*done {
                    let rows = sqlx::query(&format!("FETCH {CURSOR_CHUNK} FROM {name}"))
                        .persistent(false)
                        .fetch_all(&mut **conn)
                        .await?;
                    if rows.len() < CURSOR_CHUNK {
                        *done = true;
                        sqlx::query(&format!("CLOSE {name}"))
                            .persistent(false)
                            .execute(&mut **conn)
                            .await?;
                    }
                    chunk.extend(rows);
                }
                Ok(chunk.pop_front())
            }
        }
    }
}

async fn send_batches(
    mut rows: Rows<'_>,
    batch: usize,
    keep: impl Fn(&SnapshotText) -> bool,
    out: &tokio::sync::mpsc::Sender<Vec<SnapshotText>>,
) -> Result<i64> {
    let mut buf = Vec::with_capacity(batch);
    let mut n = 0;
    while let Some(r) = rows.next().await? {
        let t = text_row(&r)?;
        if !keep(&t) {
            continue;
        }
        n += 1;
        buf.push(t);
        if buf.len() >= batch {
            let full = std::mem::replace(&mut buf, Vec::with_capacity(batch));
            out.send(full)
                .await
                .map_err(|_| StoreError::Config("the text consumer stopped".into()))?;
        }
    }
    if !buf.is_empty() {
        out.send(buf)
            .await
            .map_err(|_| StoreError::Config("the text consumer stopped".into()))?;
    }
    Ok(n)
}

fn text_row(r: &AnyRow) -> Result<SnapshotText> {
    let objectives: String = r.try_get("objectives")?;
    Ok(SnapshotText {
        id: r.try_get("id")?,
        body: r.try_get("body")?,
        language: r.try_get("language")?,
        objectives: parse_ids(&objectives)?,
    })
}

impl Snapshot {
    /// The last event `seq` visible in the snapshot, analysis events aside (they change
    /// nothing a document reads).
    pub fn head_seq(&self) -> i64 {
        self.head
    }

    /// The rows of `sql`, with `$1` the region, `$2` the cutoff and `$3` `extra`, if any.
    async fn rows<'c>(&'c mut self, sql: &'c str, extra: Option<i64>) -> Result<Rows<'c>> {
        Rows::open(
            &mut self.tx,
            &mut self.pacer,
            self.sqlite,
            sql,
            (&self.region, self.cutoff_at, extra),
        )
        .await
    }

    /// Sets how many post ids each statement of a grouped count reads ([`COUNT_RANGE`] unless
    /// set; at least 1): fewer make shorter statements and more of them.
    pub fn set_count_range(&mut self, ids: i64) {
        self.count_range = ids.max(1);
    }

    /// A pacer for the work done on what the snapshot reads (see [`crate::activity`]).
    pub fn pacer(&self) -> crate::activity::Pacer {
        self.pacer.fresh()
    }

    /// How long reading the snapshot has given way to other work so far.
    pub fn paused(&self) -> std::time::Duration {
        self.pacer.paused()
    }

    /// How the ordered passes read `posts`: on SQLite in rowid order (`NOT INDEXED`), which is
    /// id order, rather than through the region index and a sort of every row (with its body)
    /// in a temporary B-tree; PostgreSQL is steered the same way by `enable_sort = off` in the
    /// snapshot's transaction (its primary key index is read in id order).
    fn scan(&self) -> &'static str {
        scan_of(self.sqlite)
    }

    /// Streams every counted post, by id.
    pub async fn posts(
        &mut self,
        mut f: impl FnMut(SnapshotPost) -> std::result::Result<(), StoreError>,
    ) -> Result<()> {
        let sql = posts_sql(self.scan());
        let mut rows = self.rows(&sql, None).await?;
        while let Some(r) = rows.next().await? {
            let kind: String = r.try_get("kind")?;
            let group: String = r.try_get("stakeholder_group")?;
            let objectives: String = r.try_get("objectives")?;
            let aspects: String = r.try_get("aspects")?;
            let attribution: i64 = r.try_get("attribution")?;
            f(SnapshotPost {
                id: r.try_get("id")?,
                thread_id: r.try_get("thread_id")?,
                kind: PostKind::parse(&kind).ok_or_else(|| rows::decode_err("kind", &kind))?,
                language: r.try_get("language")?,
                objectives: parse_ids(&objectives)?,
                aspects: parse_aspects(&aspects)?,
                endorsements: r.try_get("endorsed")?,
                created_at: r.try_get("created_at")?,
                author_id: r.try_get("author_id")?,
                stakeholder_group: StakeholderGroup::parse(&group)
                    .ok_or_else(|| rows::decode_err("stakeholder_group", &group))?,
                country: r.try_get("country")?,
                organisation: r.try_get("organisation")?,
                attribution: attribution != 0,
            })?;
        }
        Ok(())
    }

    /// Streams the texts of counted posts that `keep` selects, by id, in batches of `batch`
    /// to `out` (so another thread can work on them while the next rows are read). One query.
    ///
    /// With `objectives`, only posts tagged with one of them or with none are read (the
    /// filter runs in the database, so the other posts' text is never copied out).
    pub async fn texts(
        &mut self,
        batch: usize,
        objectives: Option<&[i64]>,
        keep: impl Fn(&SnapshotText) -> bool,
        out: &tokio::sync::mpsc::Sender<Vec<SnapshotText>>,
    ) -> Result<i64> {
        let sql = texts_sql(self.scan(), objectives);
        let rows = self.rows(&sql, None).await?;
        send_batches(rows, batch, keep, out).await
    }

    /// The texts of these counted posts (a few thousand at most), by id.
    pub async fn texts_of(&mut self, ids: &[i64]) -> Result<Vec<SnapshotText>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let list = chunk
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let rows = sqlx::query(&texts_of_sql(&list))
                .bind(&self.region)
                .bind(self.cutoff_at)
                .fetch_all(&mut self.tx)
                .await?;
            for r in &rows {
                out.push(text_row(r)?);
            }
        }
        out.sort_by_key(|t| t.id);
        Ok(out)
    }

    /// How many published posts the other regions have by the cutoff, and the step that
    /// samples about `cap` of them (every `step`-th id). Counted by id ranges (see
    /// [`Snapshot::ranged`]).
    pub async fn background_step(&mut self, cap: i64) -> Result<(i64, i64)> {
        let mut total = 0i64;
        self.ranged(&background_step_sql(self.scan()), |r| {
            total += r.try_get::<i64, _>("n")?;
            Ok(())
        })
        .await?;
        let step = if cap <= 0 {
            1
        } else {
            ((total + cap - 1) / cap).max(1)
        };
        Ok((total, step))
    }

    /// Streams the texts of the other regions' published posts created by the cutoff, every
    /// `step`-th id (the background corpus of TF-IDF), in batches to `out`. Returns how many.
    pub async fn background(
        &mut self,
        step: i64,
        batch: usize,
        out: &tokio::sync::mpsc::Sender<Vec<SnapshotText>>,
    ) -> Result<i64> {
        let rows = self.rows(BACKGROUND, Some(step)).await?;
        send_batches(rows, batch, |_| true, out).await
    }

    /// Endorsements of counted recommendations made by the cutoff, by the endorser's
    /// stakeholder group: `(post_id, group, count)`, by post id then group.
    pub async fn recommendation_endorsements(&mut self) -> Result<Vec<(i64, String, i64)>> {
        self.counts(
            &recommendation_endorsements_sql(self.scan()),
            ["post_id", "stakeholder_group"],
        )
        .await
    }

    /// Posts of the region created by the cutoff that moderation keeps out:
    /// `(status, reason, count)` for pending, hidden and removed posts, by status then reason
    /// (no reason first).
    pub async fn excluded(&mut self) -> Result<Vec<(String, Option<String>, i64)>> {
        self.counts(&excluded_sql(self.scan()), ["status", "status_reason"])
            .await
    }

    /// Runs a grouped count over the region and cutoff (`$1`, `$2`) by id ranges (`$3`,
    /// `$4`; see [`Snapshot::ranged`]): `(key, key, n)` rows, summed over the ranges, in key
    /// order.
    async fn counts<A, B>(&mut self, sql: &str, keys: [&str; 2]) -> Result<Vec<(A, B, i64)>>
    where
        A: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + Ord,
        B: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + Ord,
    {
        let mut sums = std::collections::BTreeMap::<(A, B), i64>::new();
        self.ranged(sql, |r| {
            *sums
                .entry((r.try_get(keys[0])?, r.try_get(keys[1])?))
                .or_default() += r.try_get::<i64, _>("n")?;
            Ok(())
        })
        .await?;
        Ok(sums.into_iter().map(|((a, b), n)| (a, b, n)).collect())
    }

    /// Runs `sql` once per range of post ids, `$3 < p.id <= $4`, with `$1` the region and
    /// `$2` the cutoff, handing every row to `f`, and gives way to the process's work in
    /// flight between ranges. A grouped count over a million posts is a second or more of
    /// database work that cannot pause; by ranges of [`COUNT_RANGE`] ids each statement is a
    /// millisecond or two, and the build can stop between them (as it does between the rows
    /// of its ordered passes).
    async fn ranged(
        &mut self,
        sql: &str,
        mut f: impl FnMut(&AnyRow) -> std::result::Result<(), sqlx::Error>,
    ) -> Result<()> {
        let mut after = i64::MIN;
        // From the next id there is (ids may leave gaps of any size), to the end.
        while let Some(next) = sqlx::query_scalar::<_, Option<i64>>(RANGED_SELECT)
            .bind(after)
            .fetch_one(&mut self.tx)
            .await?
        {
            let upto = next.saturating_sub(1).saturating_add(self.count_range);
            self.pacer.pause_async().await;
            let rows = sqlx::query(sql)
                .bind(&self.region)
                .bind(self.cutoff_at)
                .bind(after)
                .bind(upto)
                .fetch_all(&mut self.tx)
                .await?;
            for r in &rows {
                f(r)?;
            }
            if upto == i64::MAX {
                break;
            }
            after = upto;
        }
        Ok(())
    }

    /// Ends the read.
    pub async fn finish(mut self) -> Result<()> {
        use sqlx::{Connection, Executor};
        self.tx.execute("ROLLBACK").await?;
        self.tx.close().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_id_and_aspect_lists() {
        assert_eq!(parse_ids("[]").ok(), Some(vec![]));
        assert_eq!(parse_ids("[1,5,23]").ok(), Some(vec![1, 5, 23]));
        assert!(parse_ids("[1,x]").is_err());
        assert_eq!(
            parse_aspects(r#"["gap","practice"]"#).ok(),
            Some(vec![Aspect::Gap, Aspect::Practice])
        );
        assert!(parse_aspects(r#"["nope"]"#).is_err());
    }
}
