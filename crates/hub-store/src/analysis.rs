//! Analysis jobs and documents, and the snapshot a build reads.
//!
//! A job is a row of `analyses`: `queued`, then `building` under a lease held by one worker,
//! then `ready` (with its document, in the same transaction) or `failed`. Scheduled runs carry
//! a `run_key` that is unique, so instances that schedule the same run make one job; a claim
//! is one conditional `UPDATE` (with `FOR UPDATE SKIP LOCKED` on PostgreSQL), so exactly one
//! worker builds it. A worker that dies leaves its lease to expire; the job is then claimed
//! again, up to [`MAX_ATTEMPTS`] times.

use crate::{
    now_micros, rows, Backend, Created, IdempotencyKey, NewEvent, Result, Store, StoreError,
    WriteTx,
};
use hub_domain::{Aspect, PostKind, StakeholderGroup};
use sqlx::any::AnyRow;
use sqlx::Row;

/// How many times a job is tried before it is marked failed.
pub const MAX_ATTEMPTS: i64 = 3;

/// Why a job exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Due `lead_days` before a review.
    Scheduled,
    /// The weekly build while a space is open.
    Weekly,
    /// Asked for by the secretariat.
    Manual,
    /// `hub analysis build`.
    Cli,
}

impl Origin {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Scheduled => "scheduled",
            Origin::Weekly => "weekly",
            Origin::Manual => "manual",
            Origin::Cli => "cli",
        }
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewAnalysis {
    /// Region slug.
    pub region: String,
    /// Unique key of the run (scheduled runs: region, cycle and due date).
    pub run_key: String,
    /// Why.
    pub origin: Origin,
    /// The review cycle it prepares, if known.
    pub cycle: Option<String>,
    /// Posts created at or before this time (microseconds) are read.
    pub cutoff_at: i64,
    /// Who asked (manual builds).
    pub requested_by: Option<i64>,
}

/// A job and, once ready, its document's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisJob {
    /// Id.
    pub id: i64,
    /// Region slug.
    pub region: String,
    /// Unique run key.
    pub run_key: String,
    /// `scheduled`, `weekly`, `manual`, `cli`.
    pub origin: String,
    /// Review cycle.
    pub cycle: Option<String>,
    /// `queued`, `building`, `ready`, `failed`.
    pub status: String,
    /// Cutoff (microseconds).
    pub cutoff_at: i64,
    /// Who asked.
    pub requested_by: Option<i64>,
    /// Tries so far.
    pub attempts: i64,
    /// The worker holding the lease.
    pub worker: Option<String>,
    /// Lease end (microseconds).
    pub lease_until: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// Document version (ready only).
    pub version: Option<i64>,
    /// Event head when the snapshot was read (ready only).
    pub cutoff_seq: Option<i64>,
    /// SHA-256 of the document's content (ready only).
    pub content_sha256: Option<String>,
    /// Contributions counted (ready only).
    pub posts: Option<i64>,
    /// Size of the JSON document in bytes (ready only).
    pub size_bytes: Option<i64>,
    /// Enqueued (microseconds).
    pub created_at: i64,
    /// Last claimed (microseconds).
    pub started_at: Option<i64>,
    /// Ready or failed (microseconds).
    pub finished_at: Option<i64>,
}

const JOB_COLUMNS: &str = "id, region, run_key, origin, cycle, status, cutoff_at, requested_by, \
    attempts, worker, lease_until, error, version, cutoff_seq, content_sha256, posts, \
    size_bytes, created_at, started_at, finished_at";

fn job(r: &AnyRow) -> std::result::Result<AnalysisJob, sqlx::Error> {
    Ok(AnalysisJob {
        id: r.try_get("id")?,
        region: r.try_get("region")?,
        run_key: r.try_get("run_key")?,
        origin: r.try_get("origin")?,
        cycle: r.try_get("cycle")?,
        status: r.try_get("status")?,
        cutoff_at: r.try_get("cutoff_at")?,
        requested_by: r.try_get("requested_by")?,
        attempts: r.try_get("attempts")?,
        worker: r.try_get("worker")?,
        lease_until: r.try_get("lease_until")?,
        error: r.try_get("error")?,
        version: r.try_get("version")?,
        cutoff_seq: r.try_get("cutoff_seq")?,
        content_sha256: r.try_get("content_sha256")?,
        posts: r.try_get("posts")?,
        size_bytes: r.try_get("size_bytes")?,
        created_at: r.try_get("created_at")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

/// A finished document to store.
#[derive(Debug, Clone)]
pub struct FinishedDocument {
    /// Its version (the previous ready version of the region plus one).
    pub version: i64,
    /// Event head of the snapshot.
    pub cutoff_seq: i64,
    /// SHA-256 of the content.
    pub content_sha256: String,
    /// Contributions counted.
    pub posts: i64,
    /// Size of the JSON in bytes.
    pub size_bytes: i64,
    /// The job's claim this build ran under (its `started_at`).
    pub claim: i64,
    /// The gzip-compressed JSON.
    pub json_gz: Vec<u8>,
    /// What the next version compares itself with, gzip'd (kept beside the document).
    pub summary_gz: Vec<u8>,
    /// The `analysis.ready` event's payload.
    pub event_payload: String,
}

/// What a ready document leaves for the next version to compare with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreviousDocument {
    /// Its summary, gzip'd JSON.
    Summary(Vec<u8>),
    /// The whole document, gzip'd JSON (stored before summaries were).
    Whole(Vec<u8>),
}

/// What completing a job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// Stored and ready.
    Ready,
    /// The lease was lost (another worker took the job over): nothing stored.
    LeaseLost,
    /// Another build of the region took this version first: the job is queued again.
    VersionTaken,
}

impl Store {
    /// Enqueues a job unless one with the same `run_key` exists. Returns the job and whether
    /// it is new.
    pub async fn enqueue_analysis(&self, a: &NewAnalysis) -> Result<(AnalysisJob, bool)> {
        let mut tx = self.begin_background_write().await?;
        let out = self.enqueue_in(&mut tx, a).await?;
        self.commit(tx).await?;
        Ok(out)
    }

    /// Enqueues a requested build once per `Idempotency-Key`: a retry with the same key (same
    /// user, same request, within 24 h) gets the job made the first time and enqueues nothing.
    pub async fn enqueue_analysis_once(
        &self,
        a: &NewAnalysis,
        key: Option<&IdempotencyKey>,
    ) -> Result<Created<AnalysisJob>> {
        let mut tx = self.begin_background_write().await?;
        if let Some(k) = key {
            if let Some(id) = self.claim_idempotency_key(&mut tx, k, "analysis").await? {
                self.commit(tx).await?;
                return Ok(Created::Replayed(id));
            }
        }
        let (job, _) = self.enqueue_in(&mut tx, a).await?;
        if let Some(k) = key {
            self.complete_idempotency_key(&mut tx, k, job.id).await?;
        }
        self.commit(tx).await?;
        Ok(Created::New(job))
    }

    async fn enqueue_in(&self, tx: &mut WriteTx, a: &NewAnalysis) -> Result<(AnalysisJob, bool)> {
        let inserted = sqlx::query(
            "INSERT INTO analyses (region, run_key, origin, cycle, status, cutoff_at, requested_by, created_at) \
             VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7) ON CONFLICT (run_key) DO NOTHING",
        )
        .bind(&a.region)
        .bind(&a.run_key)
        .bind(a.origin.as_str())
        .bind(&a.cycle)
        .bind(a.cutoff_at)
        .bind(a.requested_by)
        .bind(now_micros())
        .execute(&mut *tx.tx)
        .await?
        .rows_affected()
            == 1;
        let row = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM analyses WHERE run_key = $1"
        ))
        .bind(&a.run_key)
        .fetch_one(&mut *tx.tx)
        .await?;
        Ok((job(&row)?, inserted))
    }

    /// One job.
    pub async fn analysis(&self, id: i64) -> Result<AnalysisJob> {
        let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM analyses WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("analysis"))?;
        Ok(job(&row)?)
    }

    /// A region's jobs, newest first, at most `limit`, before id `before` when given.
    pub async fn analyses(
        &self,
        region: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AnalysisJob>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM analyses WHERE region = $1 AND id < $2 \
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(region)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(job)
            .collect::<std::result::Result<_, _>>()?)
    }

    /// Claims the oldest job that is queued, or building under an expired lease, for
    /// `worker` until `lease_until`. A region with a build under a live lease is skipped, so
    /// one region builds one document at a time. Jobs out of attempts are marked failed, and
    /// the document parts of jobs not ready that belong to no claim still building are deleted.
    pub async fn claim_analysis(
        &self,
        worker: &str,
        lease_until: i64,
    ) -> Result<Option<AnalysisJob>> {
        let now = now_micros();
        let mut tx = self.begin_background_write().await?;
        sqlx::query(
            "UPDATE analyses SET status = 'failed', finished_at = $1, worker = NULL, \
             lease_until = NULL, error = COALESCE(error, 'the build stopped before it finished') \
             WHERE status = 'building' AND lease_until < $1 AND attempts >= $2",
        )
        .bind(now)
        .bind(MAX_ATTEMPTS)
        .execute(&mut *tx.tx)
        .await?;
        // Document parts that make no document and belong to no claim still building: left by
        // builds killed or failed after writing some (see `complete_analysis`). Ready jobs are
        // passed over (their other claims' parts went when they became ready), so this reads
        // the parts of the few jobs not ready, not of every document kept.
        sqlx::query(
            "DELETE FROM analysis_document_parts WHERE NOT EXISTS (SELECT 1 FROM analysis_documents d \
                 WHERE d.analysis_id = analysis_document_parts.analysis_id \
                 AND d.parts_of = analysis_document_parts.claim) \
             AND NOT EXISTS (SELECT 1 FROM analyses a WHERE a.id = analysis_document_parts.analysis_id \
                 AND a.status = 'building' AND a.started_at = analysis_document_parts.claim) \
             AND analysis_id IN (SELECT id FROM analyses WHERE status <> 'ready')",
        )
        .execute(&mut *tx.tx)
        .await?;
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let open = "(a.status = 'queued' OR (a.status = 'building' AND a.lease_until < $2))";
        let row = sqlx::query(&format!(
            "UPDATE analyses SET status = 'building', attempts = attempts + 1, worker = $1, \
             lease_until = $3, started_at = $2, error = NULL \
             WHERE id = (SELECT a.id FROM analyses a WHERE {open} AND a.cutoff_at <= $2 \
                 AND NOT EXISTS (SELECT 1 FROM analyses b WHERE b.region = a.region \
                     AND b.status = 'building' AND b.lease_until >= $2 AND b.id <> a.id) \
                 ORDER BY a.id LIMIT 1{lock}) \
             AND (status = 'queued' OR (status = 'building' AND lease_until < $2)) \
             RETURNING {JOB_COLUMNS}"
        ))
        .bind(worker)
        .bind(now)
        .bind(lease_until)
        .fetch_optional(&mut *tx.tx)
        .await?;
        self.commit(tx).await?;
        Ok(row.as_ref().map(job).transpose()?)
    }

    /// Extends a lease the worker still holds. False when it was lost.
    pub async fn renew_analysis_lease(
        &self,
        id: i64,
        worker: &str,
        lease_until: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_background_write().await?;
        let n = sqlx::query(
            "UPDATE analyses SET lease_until = $1 WHERE id = $2 AND worker = $3 AND status = 'building'",
        )
        .bind(lease_until)
        .bind(id)
        .bind(worker)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        self.commit(tx).await?;
        Ok(n == 1)
    }

    /// Stores a finished document and marks its job ready, with an `analysis.ready` event on
    /// the region's channel.
    ///
    /// The document goes in first, in parts of [`DOCUMENT_PART`] bytes, each in a short
    /// transaction of its own, giving way between them to the process's work in flight (see
    /// [`crate::activity`]): one write of tens of megabytes held every commit behind it for as
    /// long (on SQLite, posting waited a fifth of a second). Then one short transaction makes
    /// the job ready, naming its claim's parts as the document, once it has checked they are
    /// all there; until it commits the parts belong to no document, and a build killed midway
    /// leaves none. A claim's own parts are deleted as soon as it learns they will make no
    /// document; parts of a job not ready that belong to no claim still building, at the next
    /// claim (see [`Store::claim_analysis`]).
    pub async fn complete_analysis(
        &self,
        id: i64,
        worker: &str,
        doc: &FinishedDocument,
    ) -> Result<Completion> {
        if !self.holds_claim(id, worker, doc.claim).await? {
            return Ok(Completion::LeaseLost);
        }
        let mut pacer = self.activity().pacer();
        for (part, bytes) in doc.json_gz.chunks(DOCUMENT_PART).enumerate() {
            pacer.pause_async().await;
            let mut tx = self.begin_background_write().await?;
            sqlx::query(
                "INSERT INTO analysis_document_parts (analysis_id, claim, part, bytes) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(doc.claim)
            .bind(i64::try_from(part).unwrap_or(i64::MAX))
            .bind(bytes)
            .execute(&mut *tx.tx)
            .await?;
            self.commit(tx).await?;
        }
        let outcome = self.make_ready(id, worker, doc).await;
        // Only when the job is known not to be ready by this claim: an error (a commit whose
        // answer was lost, say) may hide a document made of these very parts.
        if matches!(
            outcome,
            Ok(Completion::LeaseLost | Completion::VersionTaken)
        ) {
            let mut tx = self.begin_background_write().await?;
            sqlx::query(
                "DELETE FROM analysis_document_parts WHERE analysis_id = $1 AND claim = $2 \
                 AND NOT EXISTS (SELECT 1 FROM analysis_documents d \
                     WHERE d.analysis_id = $1 AND d.parts_of = $2)",
            )
            .bind(id)
            .bind(doc.claim)
            .execute(&mut *tx.tx)
            .await?;
            self.commit(tx).await?;
        }
        outcome
    }

    /// Whether `worker` still builds job `id` under the claim that started at `claim`.
    async fn holds_claim(&self, id: i64, worker: &str, claim: i64) -> Result<bool> {
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT id FROM analyses WHERE id = $1 AND worker = $2 AND status = 'building' \
             AND started_at = $3",
        )
        .bind(id)
        .bind(worker)
        .bind(claim)
        .fetch_optional(&self.pool)
        .await?
        .is_some())
    }

    /// The job of `doc.claim` becomes ready with the parts stored under that claim as its
    /// document, in one transaction.
    async fn make_ready(
        &self,
        id: i64,
        worker: &str,
        doc: &FinishedDocument,
    ) -> Result<Completion> {
        let mut tx = self.begin_background_write().await?;
        let region: Option<String> = sqlx::query_scalar(
            "SELECT region FROM analyses WHERE id = $1 AND worker = $2 AND status = 'building' \
             AND started_at = $3",
        )
        .bind(id)
        .bind(worker)
        .bind(doc.claim)
        .fetch_optional(&mut *tx.tx)
        .await?;
        let Some(region) = region else {
            return Ok(Completion::LeaseLost);
        };
        let latest: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM analyses WHERE region = $1",
        )
        .bind(&region)
        .fetch_one(&mut *tx.tx)
        .await?;
        if latest + 1 != doc.version {
            drop(tx);
            self.requeue_analysis(id, worker).await?;
            return Ok(Completion::VersionTaken);
        }
        let now = now_micros();
        let updated = sqlx::query(
            "UPDATE analyses SET status = 'ready', version = $1, cutoff_seq = $2, content_sha256 = $3, \
             posts = $4, size_bytes = $5, finished_at = $6, lease_until = NULL \
             WHERE id = $7 AND worker = $8 AND status = 'building'",
        )
        .bind(doc.version)
        .bind(doc.cutoff_seq)
        .bind(&doc.content_sha256)
        .bind(doc.posts)
        .bind(doc.size_bytes)
        .bind(now)
        .bind(id)
        .bind(worker)
        .execute(&mut *tx.tx)
        .await;
        match updated {
            Ok(r) if r.rows_affected() == 1 => {}
            Ok(_) => return Ok(Completion::LeaseLost),
            Err(e) => {
                let e = StoreError::from(e);
                if e.is_unique_violation() {
                    drop(tx);
                    self.requeue_analysis(id, worker).await?;
                    return Ok(Completion::VersionTaken);
                }
                return Err(e);
            }
        }
        // Every part of this claim, and nothing else under it (two claims of one job that
        // started in the same microsecond would share it).
        let (parts, bytes): (i64, i64) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(LENGTH(bytes)), 0) AS BIGINT) \
             FROM analysis_document_parts WHERE analysis_id = $1 AND claim = $2",
        )
        .bind(id)
        .bind(doc.claim)
        .fetch_one(&mut *tx.tx)
        .await?;
        let expected = doc.json_gz.len().div_ceil(DOCUMENT_PART);
        if usize::try_from(parts).ok() != Some(expected)
            || usize::try_from(bytes).ok() != Some(doc.json_gz.len())
        {
            return Err(StoreError::Conflict(format!(
                "analysis {id}: {parts} parts of {bytes} bytes stored, {expected} of {} written",
                doc.json_gz.len()
            )));
        }
        sqlx::query(
            "INSERT INTO analysis_documents (analysis_id, json_gz, summary_gz, parts_of) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(&b""[..])
        .bind((!doc.summary_gz.is_empty()).then_some(doc.summary_gz.as_slice()))
        .bind(doc.claim)
        .execute(&mut *tx.tx)
        .await?;
        sqlx::query("DELETE FROM analysis_document_parts WHERE analysis_id = $1 AND claim <> $2")
            .bind(id)
            .bind(doc.claim)
            .execute(&mut *tx.tx)
            .await?;
        self.append_event(
            &mut tx,
            &NewEvent {
                kind: "analysis.ready",
                region: Some(region),
                thread_id: None,
                post_id: None,
                user_id: None,
                audience: "public",
                payload: doc.event_payload.clone(),
            },
        )
        .await?;
        self.commit(tx).await?;
        Ok(Completion::Ready)
    }

    async fn requeue_analysis(&self, id: i64, worker: &str) -> Result<()> {
        let mut tx = self.begin_background_write().await?;
        sqlx::query(
            "UPDATE analyses SET status = 'queued', worker = NULL, lease_until = NULL, \
             attempts = attempts - 1 WHERE id = $1 AND worker = $2 AND status = 'building'",
        )
        .bind(id)
        .bind(worker)
        .execute(&mut *tx.tx)
        .await?;
        self.commit(tx).await
    }

    /// Records a failed attempt: queued again while attempts remain, else failed.
    pub async fn fail_analysis(&self, id: i64, worker: &str, error: &str) -> Result<()> {
        let mut tx = self.begin_background_write().await?;
        let failed = sqlx::query(
            "UPDATE analyses SET status = CASE WHEN attempts >= $1 THEN 'failed' ELSE 'queued' END, \
             finished_at = CASE WHEN attempts >= $1 THEN $2 ELSE NULL END, \
             error = $3, worker = NULL, lease_until = NULL \
             WHERE id = $4 AND worker = $5 AND status = 'building'",
        )
        .bind(MAX_ATTEMPTS)
        .bind(now_micros())
        .bind(error)
        .bind(id)
        .bind(worker)
        .execute(&mut *tx.tx)
        .await?;
        if failed.rows_affected() == 1 {
            // No claim of the job is building now: whatever parts it has make no document.
            sqlx::query("DELETE FROM analysis_document_parts WHERE analysis_id = $1")
                .bind(id)
                .execute(&mut *tx.tx)
                .await?;
        }
        self.commit(tx).await
    }

    /// What the region's latest ready document before version `version` says the next one
    /// compares itself with: its gzip'd summary or, for a document stored without one, its
    /// gzip'd JSON.
    pub async fn previous_document(
        &self,
        region: &str,
        version: i64,
    ) -> Result<Option<PreviousDocument>> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM analyses WHERE region = $1 AND status = 'ready' \
             AND version < $2 ORDER BY version DESC LIMIT 1",
        )
        .bind(region)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        let Some(id) = id else { return Ok(None) };
        let summary: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT summary_gz FROM analysis_documents WHERE analysis_id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound("analysis document"))?;
        let doc = match summary {
            Some(gz) => PreviousDocument::Summary(gz),
            None => PreviousDocument::Whole(self.document_gz(id).await?),
        };
        Ok(Some(doc))
    }

    /// The latest ready version of a region (0 when none).
    pub async fn latest_analysis_version(&self, region: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM analyses WHERE region = $1",
        )
        .bind(region)
        .fetch_one(&self.pool)
        .await?)
    }

    /// A ready document's gzip'd JSON (its parts, in order, or as stored whole before parts).
    pub async fn document_gz(&self, id: i64) -> Result<Vec<u8>> {
        let row =
            sqlx::query("SELECT json_gz, parts_of FROM analysis_documents WHERE analysis_id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound("analysis document"))?;
        let Some(claim) = row.try_get::<Option<i64>, _>("parts_of")? else {
            return Ok(row.try_get("json_gz")?);
        };
        let parts: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT bytes FROM analysis_document_parts WHERE analysis_id = $1 AND claim = $2 \
             ORDER BY part",
        )
        .bind(id)
        .bind(claim)
        .fetch_all(&self.pool)
        .await?;
        Ok(parts.concat())
    }

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
        let head: i64 = sqlx::query_scalar(
            "SELECT seq FROM events WHERE seq IS NOT NULL AND type NOT LIKE 'analysis.%' \
             ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(&mut tx)
        .await?
        .unwrap_or(0);
        if self.backend == Backend::Postgres {
            sqlx::query("SET LOCAL enable_sort = off")
                .execute(&mut tx)
                .await?;
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
const COUNTED: &str = "p.region = $1 AND p.status = 'published' AND p.created_at <= $2";

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

/// Bytes of a stored document per part (see [`Store::complete_analysis`]).
pub const DOCUMENT_PART: usize = 256 * 1024;

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
        if self.sqlite {
            "posts p NOT INDEXED"
        } else {
            "posts p"
        }
    }

    /// Streams every counted post, by id.
    pub async fn posts(
        &mut self,
        mut f: impl FnMut(SnapshotPost) -> std::result::Result<(), StoreError>,
    ) -> Result<()> {
        let sql = format!(
            "SELECT p.id, p.thread_id, p.kind, p.language, p.objectives, p.aspects, p.created_at, \
             p.author_id, u.stakeholder_group, u.country, u.organisation, u.attribution, \
             (SELECT COUNT(*) FROM endorsements e WHERE e.post_id = p.id AND e.created_at <= $2) AS endorsed \
             FROM {scan} JOIN users u ON u.id = p.author_id WHERE {COUNTED} ORDER BY p.id",
            scan = self.scan()
        );
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
        let sql = format!(
            "SELECT p.id, p.body, p.language, p.objectives FROM {scan} \
             WHERE {COUNTED}{only} ORDER BY p.id",
            scan = self.scan()
        );
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
            let rows = sqlx::query(&format!(
                "SELECT p.id, p.body, p.language, p.objectives FROM posts p \
                 WHERE {COUNTED} AND p.id IN ({list}) ORDER BY p.id"
            ))
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
        self.ranged(
            &format!(
                "SELECT COUNT(*) AS n FROM {scan} WHERE p.region <> $1 AND p.status = 'published' \
                 AND p.created_at <= $2 AND p.id > $3 AND p.id <= $4",
                scan = self.scan()
            ),
            |r| {
                total += r.try_get::<i64, _>("n")?;
                Ok(())
            },
        )
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
        let rows = self
            .rows(
                "SELECT p.id, p.body, p.language, p.objectives FROM posts p \
             WHERE p.region <> $1 AND p.status = 'published' AND p.created_at <= $2 \
             AND p.id % $3 = 0 ORDER BY p.id",
                Some(step),
            )
            .await?;
        send_batches(rows, batch, |_| true, out).await
    }

    /// Endorsements of counted recommendations made by the cutoff, by the endorser's
    /// stakeholder group: `(post_id, group, count)`, by post id then group.
    pub async fn recommendation_endorsements(&mut self) -> Result<Vec<(i64, String, i64)>> {
        self.counts(
            &format!(
                "SELECT e.post_id, u.stakeholder_group, COUNT(*) AS n FROM {scan} \
                 JOIN endorsements e ON e.post_id = p.id JOIN users u ON u.id = e.user_id \
                 WHERE {COUNTED} AND p.kind = 'recommendation' AND e.created_at <= $2 \
                 AND p.id > $3 AND p.id <= $4 GROUP BY e.post_id, u.stakeholder_group",
                scan = self.scan()
            ),
            ["post_id", "stakeholder_group"],
        )
        .await
    }

    /// Posts of the region created by the cutoff that moderation keeps out:
    /// `(status, reason, count)` for pending, hidden and removed posts, by status then reason
    /// (no reason first).
    pub async fn excluded(&mut self) -> Result<Vec<(String, Option<String>, i64)>> {
        self.counts(
            &format!(
                "SELECT p.status, p.status_reason, COUNT(*) AS n FROM {scan} \
                 WHERE p.region = $1 AND p.created_at <= $2 AND p.status <> 'published' \
                 AND p.id > $3 AND p.id <= $4 GROUP BY p.status, p.status_reason",
                scan = self.scan()
            ),
            ["status", "status_reason"],
        )
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
        while let Some(next) =
            sqlx::query_scalar::<_, Option<i64>>("SELECT MIN(id) FROM posts WHERE id > $1")
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
