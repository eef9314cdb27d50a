//! Analysis jobs and documents, and the snapshot a build reads.
//!
//! A job is a row of `analyses`: `queued`, then `building` under a lease held by one worker,
//! then `ready` (with its document, in the same transaction) or `failed`. Scheduled runs carry
//! a `run_key` that is unique, so instances that schedule the same run make one job; a claim
//! is one conditional `UPDATE` (with `FOR UPDATE SKIP LOCKED` on PostgreSQL), so exactly one
//! worker builds it. A worker that dies leaves its lease to expire; the job is then claimed
//! again, up to [`MAX_ATTEMPTS`] times.
//!
//! `jobs` keeps the queue of jobs and their documents; `snapshot` is what a build reads.

mod jobs;
mod snapshot;

/// The statements of analysis jobs and snapshots, by name, as `backend` is sent them.
pub(crate) fn statements(backend: crate::Backend) -> Vec<(String, String)> {
    let mut out = crate::listed(jobs::STATEMENTS);
    out.extend(jobs::formatted_statements(backend));
    out.extend(crate::listed(snapshot::STATEMENTS));
    out.extend(snapshot::built_statements(backend));
    match backend {
        crate::Backend::Sqlite => out.extend(crate::listed(jobs::UNTYPED_STATEMENTS)),
        crate::Backend::Postgres => out.extend(crate::listed(snapshot::POSTGRES_STATEMENTS)),
    }
    out
}

pub use snapshot::{Snapshot, SnapshotPost, SnapshotText, COUNT_RANGE};

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

/// Bytes of a stored document per part (see [`Store::complete_analysis`]).
pub const DOCUMENT_PART: usize = 256 * 1024;
