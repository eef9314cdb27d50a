//! Analysis jobs: queued, claimed under a lease, completed with their document, or failed.

use super::{
    job, AnalysisJob, Completion, FinishedDocument, NewAnalysis, PreviousDocument, DOCUMENT_PART,
    JOB_COLUMNS, MAX_ATTEMPTS,
};
use crate::{
    now_micros, Backend, Created, IdempotencyKey, NewEvent, Result, Store, StoreError, WriteTx,
};
use sqlx::Row;

// The statements this module sends, by name: a test prepares each on both backends.
pub(crate) const STATEMENTS: &[(&str, &str)] = &[
    ("analysis::jobs::ENQUEUE_IN_INSERT", ENQUEUE_IN_INSERT),
    (
        "analysis::jobs::CLAIM_ANALYSIS_UPDATE",
        CLAIM_ANALYSIS_UPDATE,
    ),
    (
        "analysis::jobs::CLAIM_ANALYSIS_DELETE",
        CLAIM_ANALYSIS_DELETE,
    ),
    (
        "analysis::jobs::RENEW_ANALYSIS_LEASE_UPDATE",
        RENEW_ANALYSIS_LEASE_UPDATE,
    ),
    (
        "analysis::jobs::COMPLETE_ANALYSIS_INSERT",
        COMPLETE_ANALYSIS_INSERT,
    ),
    (
        "analysis::jobs::COMPLETE_ANALYSIS_DELETE",
        COMPLETE_ANALYSIS_DELETE,
    ),
    ("analysis::jobs::HOLDS_CLAIM_SELECT", HOLDS_CLAIM_SELECT),
    ("analysis::jobs::MAKE_READY_SELECT", MAKE_READY_SELECT),
    ("analysis::jobs::MAKE_READY_SELECT_2", MAKE_READY_SELECT_2),
    ("analysis::jobs::MAKE_READY_UPDATE", MAKE_READY_UPDATE),
    ("analysis::jobs::MAKE_READY_SELECT_3", MAKE_READY_SELECT_3),
    ("analysis::jobs::MAKE_READY_INSERT", MAKE_READY_INSERT),
    ("analysis::jobs::MAKE_READY_DELETE", MAKE_READY_DELETE),
    (
        "analysis::jobs::REQUEUE_ANALYSIS_UPDATE",
        REQUEUE_ANALYSIS_UPDATE,
    ),
    ("analysis::jobs::FAIL_ANALYSIS_DELETE", FAIL_ANALYSIS_DELETE),
    (
        "analysis::jobs::PREVIOUS_DOCUMENT_SELECT",
        PREVIOUS_DOCUMENT_SELECT,
    ),
    (
        "analysis::jobs::PREVIOUS_DOCUMENT_SELECT_2",
        PREVIOUS_DOCUMENT_SELECT_2,
    ),
    (
        "analysis::jobs::LATEST_ANALYSIS_VERSION_SELECT",
        LATEST_ANALYSIS_VERSION_SELECT,
    ),
    ("analysis::jobs::DOCUMENT_GZ_SELECT", DOCUMENT_GZ_SELECT),
    ("analysis::jobs::DOCUMENT_GZ_SELECT_2", DOCUMENT_GZ_SELECT_2),
];
/// Sent on both backends, but prepared by the test on SQLite only: without the bound values'
/// types, PostgreSQL infers `$2` in `CASE ... THEN $2 ELSE NULL END` as text (at run time the
/// bound integer types it).
pub(crate) const UNTYPED_STATEMENTS: &[(&str, &str)] =
    &[("analysis::jobs::FAIL_ANALYSIS_UPDATE", FAIL_ANALYSIS_UPDATE)];

const ENQUEUE_IN_INSERT: &str = "INSERT INTO analyses (region, run_key, origin, cycle, status, cutoff_at, requested_by, created_at) \
             VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7) ON CONFLICT (run_key) DO NOTHING";
const CLAIM_ANALYSIS_UPDATE: &str =
    "UPDATE analyses SET status = 'failed', finished_at = $1, worker = NULL, \
             lease_until = NULL, error = COALESCE(error, 'the build stopped before it finished') \
             WHERE status = 'building' AND lease_until < $1 AND attempts >= $2";
const CLAIM_ANALYSIS_DELETE: &str = "DELETE FROM analysis_document_parts WHERE NOT EXISTS (SELECT 1 FROM analysis_documents d \
                 WHERE d.analysis_id = analysis_document_parts.analysis_id \
                 AND d.parts_of = analysis_document_parts.claim) \
             AND NOT EXISTS (SELECT 1 FROM analyses a WHERE a.id = analysis_document_parts.analysis_id \
                 AND a.status = 'building' AND a.started_at = analysis_document_parts.claim) \
             AND analysis_id IN (SELECT id FROM analyses WHERE status <> 'ready')";
const RENEW_ANALYSIS_LEASE_UPDATE: &str =
    "UPDATE analyses SET lease_until = $1 WHERE id = $2 AND worker = $3 AND status = 'building'";
const COMPLETE_ANALYSIS_INSERT: &str =
    "INSERT INTO analysis_document_parts (analysis_id, claim, part, bytes) \
                 VALUES ($1, $2, $3, $4)";
const COMPLETE_ANALYSIS_DELETE: &str =
    "DELETE FROM analysis_document_parts WHERE analysis_id = $1 AND claim = $2 \
                 AND NOT EXISTS (SELECT 1 FROM analysis_documents d \
                     WHERE d.analysis_id = $1 AND d.parts_of = $2)";
const HOLDS_CLAIM_SELECT: &str =
    "SELECT id FROM analyses WHERE id = $1 AND worker = $2 AND status = 'building' \
             AND started_at = $3";
const MAKE_READY_SELECT: &str =
    "SELECT region FROM analyses WHERE id = $1 AND worker = $2 AND status = 'building' \
             AND started_at = $3";
const MAKE_READY_SELECT_2: &str =
    "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM analyses WHERE region = $1";
const MAKE_READY_UPDATE: &str =
    "UPDATE analyses SET status = 'ready', version = $1, cutoff_seq = $2, content_sha256 = $3, \
             posts = $4, size_bytes = $5, finished_at = $6, lease_until = NULL \
             WHERE id = $7 AND worker = $8 AND status = 'building'";
const MAKE_READY_SELECT_3: &str =
    "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(LENGTH(bytes)), 0) AS BIGINT) \
             FROM analysis_document_parts WHERE analysis_id = $1 AND claim = $2";
const MAKE_READY_INSERT: &str =
    "INSERT INTO analysis_documents (analysis_id, json_gz, summary_gz, parts_of) \
             VALUES ($1, $2, $3, $4)";
const MAKE_READY_DELETE: &str =
    "DELETE FROM analysis_document_parts WHERE analysis_id = $1 AND claim <> $2";
const REQUEUE_ANALYSIS_UPDATE: &str =
    "UPDATE analyses SET status = 'queued', worker = NULL, lease_until = NULL, \
             attempts = attempts - 1 WHERE id = $1 AND worker = $2 AND status = 'building'";
const FAIL_ANALYSIS_UPDATE: &str =
    "UPDATE analyses SET status = CASE WHEN attempts >= $1 THEN 'failed' ELSE 'queued' END, \
             finished_at = CASE WHEN attempts >= $1 THEN $2 ELSE NULL END, \
             error = $3, worker = NULL, lease_until = NULL \
             WHERE id = $4 AND worker = $5 AND status = 'building'";
const FAIL_ANALYSIS_DELETE: &str = "DELETE FROM analysis_document_parts WHERE analysis_id = $1";
const PREVIOUS_DOCUMENT_SELECT: &str =
    "SELECT id FROM analyses WHERE region = $1 AND status = 'ready' \
             AND version < $2 ORDER BY version DESC LIMIT 1";
const PREVIOUS_DOCUMENT_SELECT_2: &str =
    "SELECT summary_gz FROM analysis_documents WHERE analysis_id = $1";
const LATEST_ANALYSIS_VERSION_SELECT: &str =
    "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM analyses WHERE region = $1";
const DOCUMENT_GZ_SELECT: &str =
    "SELECT json_gz, parts_of FROM analysis_documents WHERE analysis_id = $1";
const DOCUMENT_GZ_SELECT_2: &str =
    "SELECT bytes FROM analysis_document_parts WHERE analysis_id = $1 AND claim = $2 \
             ORDER BY part";

// Statements formatted once, from the column list.
static JOB_BY_RUN_KEY: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {JOB_COLUMNS} FROM analyses WHERE run_key = $1"));
static JOB_BY_ID: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {JOB_COLUMNS} FROM analyses WHERE id = $1"));
static JOBS_OF_REGION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {JOB_COLUMNS} FROM analyses WHERE region = $1 AND id < $2 \
         ORDER BY id DESC LIMIT $3"
    )
});

/// Claims the oldest job open to a worker, in `backend`'s dialect (formatted per claim).
fn claim_sql(backend: Backend) -> String {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let open = "(a.status = 'queued' OR (a.status = 'building' AND a.lease_until < $2))";
    format!(
        "UPDATE analyses SET status = 'building', attempts = attempts + 1, worker = $1, \
         lease_until = $3, started_at = $2, error = NULL \
         WHERE id = (SELECT a.id FROM analyses a WHERE {open} AND a.cutoff_at <= $2 \
             AND NOT EXISTS (SELECT 1 FROM analyses b WHERE b.region = a.region \
                 AND b.status = 'building' AND b.lease_until >= $2 AND b.id <> a.id) \
             ORDER BY a.id LIMIT 1{lock}) \
         AND (status = 'queued' OR (status = 'building' AND lease_until < $2)) \
         RETURNING {JOB_COLUMNS}"
    )
}

/// The statements formatted from constants or per dialect, by name, as `backend` is sent them.
pub(crate) fn formatted_statements(backend: Backend) -> Vec<(String, String)> {
    vec![
        (
            "analysis::jobs::JOB_BY_RUN_KEY".to_string(),
            JOB_BY_RUN_KEY.clone(),
        ),
        ("analysis::jobs::JOB_BY_ID".to_string(), JOB_BY_ID.clone()),
        (
            "analysis::jobs::JOBS_OF_REGION".to_string(),
            JOBS_OF_REGION.clone(),
        ),
        (
            "analysis::jobs::claim (per dialect)".to_string(),
            claim_sql(backend),
        ),
    ]
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
        let inserted = sqlx::query(ENQUEUE_IN_INSERT)
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
        let row = sqlx::query(&JOB_BY_RUN_KEY)
            .bind(&a.run_key)
            .fetch_one(&mut *tx.tx)
            .await?;
        Ok((job(&row)?, inserted))
    }

    /// One job.
    pub async fn analysis(&self, id: i64) -> Result<AnalysisJob> {
        let row = sqlx::query(&JOB_BY_ID)
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
        let rows = sqlx::query(&JOBS_OF_REGION)
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
        sqlx::query(CLAIM_ANALYSIS_UPDATE)
            .bind(now)
            .bind(MAX_ATTEMPTS)
            .execute(&mut *tx.tx)
            .await?;
        // Document parts that make no document and belong to no claim still building: left by
        // builds killed or failed after writing some (see `complete_analysis`). Ready jobs are
        // passed over (their other claims' parts went when they became ready), so this reads
        // the parts of the few jobs not ready, not of every document kept.
        sqlx::query(CLAIM_ANALYSIS_DELETE)
            .execute(&mut *tx.tx)
            .await?;
        let row = sqlx::query(&claim_sql(self.backend))
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
        let n = sqlx::query(RENEW_ANALYSIS_LEASE_UPDATE)
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
            sqlx::query(COMPLETE_ANALYSIS_INSERT)
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
            sqlx::query(COMPLETE_ANALYSIS_DELETE)
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
        Ok(sqlx::query_scalar::<_, i64>(HOLDS_CLAIM_SELECT)
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
        let region: Option<String> = sqlx::query_scalar(MAKE_READY_SELECT)
            .bind(id)
            .bind(worker)
            .bind(doc.claim)
            .fetch_optional(&mut *tx.tx)
            .await?;
        let Some(region) = region else {
            return Ok(Completion::LeaseLost);
        };
        let latest: i64 = sqlx::query_scalar(MAKE_READY_SELECT_2)
            .bind(&region)
            .fetch_one(&mut *tx.tx)
            .await?;
        if latest + 1 != doc.version {
            drop(tx);
            self.requeue_analysis(id, worker).await?;
            return Ok(Completion::VersionTaken);
        }
        let now = now_micros();
        let updated = sqlx::query(MAKE_READY_UPDATE)
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
        let (parts, bytes): (i64, i64) = sqlx::query_as(MAKE_READY_SELECT_3)
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
        sqlx::query(MAKE_READY_INSERT)
            .bind(id)
            .bind(&b""[..])
            .bind((!doc.summary_gz.is_empty()).then_some(doc.summary_gz.as_slice()))
            .bind(doc.claim)
            .execute(&mut *tx.tx)
            .await?;
        sqlx::query(MAKE_READY_DELETE)
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
        sqlx::query(REQUEUE_ANALYSIS_UPDATE)
            .bind(id)
            .bind(worker)
            .execute(&mut *tx.tx)
            .await?;
        self.commit(tx).await
    }

    /// Records a failed attempt: queued again while attempts remain, else failed.
    pub async fn fail_analysis(&self, id: i64, worker: &str, error: &str) -> Result<()> {
        let mut tx = self.begin_background_write().await?;
        let failed = sqlx::query(FAIL_ANALYSIS_UPDATE)
            .bind(MAX_ATTEMPTS)
            .bind(now_micros())
            .bind(error)
            .bind(id)
            .bind(worker)
            .execute(&mut *tx.tx)
            .await?;
        if failed.rows_affected() == 1 {
            // No claim of the job is building now: whatever parts it has make no document.
            sqlx::query(FAIL_ANALYSIS_DELETE)
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
        let id: Option<i64> = sqlx::query_scalar(PREVIOUS_DOCUMENT_SELECT)
            .bind(region)
            .bind(version)
            .fetch_optional(&self.pool)
            .await?;
        let Some(id) = id else { return Ok(None) };
        let summary: Option<Vec<u8>> = sqlx::query_scalar(PREVIOUS_DOCUMENT_SELECT_2)
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
        Ok(sqlx::query_scalar(LATEST_ANALYSIS_VERSION_SELECT)
            .bind(region)
            .fetch_one(&self.pool)
            .await?)
    }

    /// A ready document's gzip'd JSON (its parts, in order, or as stored whole before parts).
    pub async fn document_gz(&self, id: i64) -> Result<Vec<u8>> {
        let row = sqlx::query(DOCUMENT_GZ_SELECT)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("analysis document"))?;
        let Some(claim) = row.try_get::<Option<i64>, _>("parts_of")? else {
            return Ok(row.try_get("json_gz")?);
        };
        let parts: Vec<Vec<u8>> = sqlx::query_scalar(DOCUMENT_GZ_SELECT_2)
            .bind(id)
            .bind(claim)
            .fetch_all(&self.pool)
            .await?;
        Ok(parts.concat())
    }
}
