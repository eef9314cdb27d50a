//! Analysis documents: the list of a region's documents, building one now, and the downloads
//! (HTML, Markdown, JSON, CSV). For the secretariat and the region's moderators only.

use super::threads::Page;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{viewer_of, ApiQuery, AuthSuspension, Id, IdempotencyKeyHeader};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use hub_analysis::job::JobError;
use hub_analysis::render::{self, RenderOptions};
use hub_domain::{RoleKind, Suspension, User};
use hub_store::analysis::{AnalysisJob, Origin};
use hub_store::{Created, IdempotencyKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, request))
        .routes(routes!(show))
        .routes(routes!(download))
}

impl From<JobError> for ApiError {
    fn from(e: JobError) -> Self {
        match e {
            JobError::Store(e) => e.into(),
            JobError::UnknownRegion(_) => ApiError::not_found("region"),
            JobError::Build(e) => ApiError::internal(e),
        }
    }
}

/// An analysis document: its build job and, once ready, what it holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalysisView {
    /// Id.
    pub id: i64,
    /// Region slug.
    pub region: String,
    /// `queued`, `building`, `ready` or `failed`.
    pub status: String,
    /// `scheduled` (lead days before a review), `weekly`, `manual` (the secretariat) or `cli`.
    pub origin: String,
    /// The review cycle it prepares.
    pub cycle: Option<String>,
    /// Posts created at or before this time are read.
    pub cutoff_at: DateTime<Utc>,
    /// Version (ready only): 1, 2, ... per region.
    pub version: Option<i64>,
    /// The last event `seq` the snapshot saw, analysis events aside (ready only).
    pub cutoff_seq: Option<i64>,
    /// Contributions counted (ready only).
    pub posts: Option<i64>,
    /// Size of the JSON document in bytes (ready only).
    pub size_bytes: Option<i64>,
    /// SHA-256 of the content, equal for rebuilds of the same snapshot (ready only).
    pub content_sha256: Option<String>,
    /// Tries so far.
    pub attempts: i64,
    /// Why the last try failed.
    pub error: Option<String>,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When the last try started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it became ready or failed.
    pub finished_at: Option<DateTime<Utc>>,
    /// Download paths by format (ready only).
    pub documents: Option<Downloads>,
}

/// Where to download a ready document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Downloads {
    /// Self-contained HTML (print-ready).
    pub html: String,
    /// Markdown.
    pub md: String,
    /// JSON, every figure.
    pub json: String,
    /// CSV, one row per contribution.
    pub csv: String,
}

impl From<AnalysisJob> for AnalysisView {
    fn from(j: AnalysisJob) -> Self {
        let t = hub_store::from_micros;
        let documents = (j.status == "ready").then(|| {
            let base = format!("/api/v1/analyses/{}/document", j.id);
            Downloads {
                html: format!("{base}.html"),
                md: format!("{base}.md"),
                json: format!("{base}.json"),
                csv: format!("{base}.csv"),
            }
        });
        AnalysisView {
            id: j.id,
            region: j.region,
            status: j.status,
            origin: j.origin,
            cycle: j.cycle,
            cutoff_at: t(j.cutoff_at),
            version: j.version,
            cutoff_seq: j.cutoff_seq,
            posts: j.posts,
            size_bytes: j.size_bytes,
            content_sha256: j.content_sha256,
            attempts: j.attempts,
            error: j.error,
            created_at: t(j.created_at),
            started_at: j.started_at.map(t),
            finished_at: j.finished_at.map(t),
            documents,
        }
    }
}

/// The secretariat sees every region's documents; a moderator those of their regions. An
/// account suspended everywhere has no such power while it lasts.
fn may_read(user: &User, suspension: Option<&Suspension>, region: &str) -> ApiResult<()> {
    super::moderation::unless_suspended(suspension)?;
    let v = viewer_of(Some(user));
    if v.has(RoleKind::Secretariat) || v.moderates(region) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "analysis documents of {region} are for the secretariat and its moderators"
        )))
    }
}

fn known_region(state: &AppState, slug: &str) -> ApiResult<()> {
    state
        .region(slug)
        .map(|_| ())
        .ok_or_else(|| ApiError::not_found("region"))
}

/// Paging of the documents list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AnalysisPaging {
    /// Cursor from the previous page.
    pub cursor: Option<String>,
    /// Page size (1-100, default 20).
    pub limit: Option<i64>,
}

/// The region's analysis documents (and builds in progress or failed), newest first.
#[utoipa::path(get, path = "/regions/{slug}/analyses", tag = "analysis", security(("bearer" = [])),
    params(("slug" = String, Path, description = "Region slug"), AnalysisPaging),
    responses((status = 200, body = Page<AnalysisView>), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    AuthSuspension {
        user, suspension, ..
    }: AuthSuspension,
    ApiQuery(q): ApiQuery<AnalysisPaging>,
) -> ApiResult<Json<Page<AnalysisView>>> {
    known_region(&state, &slug)?;
    may_read(&user, suspension.as_ref(), &slug)?;
    let limit = match q.limit {
        None => 20,
        Some(n) if (1..=100).contains(&n) => n,
        Some(_) => return Err(ApiError::invalid("limit", "must be between 1 and 100")),
    };
    let before = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| ApiError::invalid("cursor", "not a cursor of this list"))?,
        ),
    };
    let mut jobs = state.store.analyses(&slug, before, limit + 1).await?;
    let next_cursor = if jobs.len() > usize::try_from(limit).unwrap_or(0) {
        jobs.truncate(usize::try_from(limit).unwrap_or(0));
        jobs.last().map(|j| j.id.to_string())
    } else {
        None
    };
    Ok(Json(Page {
        items: jobs.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// What to build.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildRequest {
    /// Read posts created until the end of this day (UTC); default: now.
    pub until: Option<NaiveDate>,
}

/// Builds the region's document now: 202 with the job; `analysis.ready` follows on the
/// region's channel.
#[utoipa::path(post, path = "/regions/{slug}/analyses", tag = "analysis", security(("bearer" = [])),
    params(("slug" = String, Path, description = "Region slug"),
           ("Idempotency-Key" = Option<String>, Header, description = "Retry key: the same key within 24 h returns the first job")),
    request_body(content = Option<BuildRequest>, description = "Optional: `{until}`"),
    responses((status = 202, description = "Accepted: the build is queued", body = AnalysisView, headers(("Location" = String, description = "The document's URL"), ("Idempotent-Replayed" = String, description = "`true` when this repeats the answer to an earlier request with the same Idempotency-Key"))), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn request(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    AuthSuspension {
        user, suspension, ..
    }: AuthSuspension,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    known_region(&state, &slug)?;
    if !viewer_of(Some(&user)).has(RoleKind::Secretariat) {
        return Err(ApiError::forbidden(
            "only the secretariat builds analysis documents",
        ));
    }
    super::moderation::unless_suspended(suspension.as_ref())?;
    let req: BuildRequest = if body.iter().all(u8::is_ascii_whitespace) {
        BuildRequest::default()
    } else {
        crate::extract::parse_json(&body)?
    };
    if let Some(d) = req.until {
        if d > Utc::now().date_naive() {
            return Err(ApiError::invalid("until", "must not be in the future"));
        }
    }
    // A retry with the same key returns the first job (the contract's rule for every
    // creating POST); the fingerprint tells a retry from another request under the same key.
    let key = key.map(|key| {
        let mut h = Sha256::new();
        h.update(format!("POST /regions/{slug}/analyses\n").as_bytes());
        h.update(&body);
        IdempotencyKey {
            user_id: user.id,
            key,
            fingerprint: hex::encode(h.finalize()),
        }
    });
    let (job, replayed) = match state
        .analyses
        .request_once(
            &slug,
            Origin::Manual,
            Some(user.id),
            req.until,
            key.as_ref(),
        )
        .await?
    {
        Created::New(job) => (job, false),
        Created::Replayed(id) => (state.store.analysis(id).await?, true),
    };
    let location = format!("/api/v1/analyses/{}", job.id);
    let mut resp = (StatusCode::ACCEPTED, Json(AnalysisView::from(job))).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(resp)
}

/// One document's metadata and status.
#[utoipa::path(get, path = "/analyses/{id}", tag = "analysis", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Analysis id")),
    responses((status = 200, body = AnalysisView), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn show(
    State(state): State<AppState>,
    Id(id): Id,
    AuthSuspension {
        user, suspension, ..
    }: AuthSuspension,
) -> ApiResult<Json<AnalysisView>> {
    let job = state.store.analysis(id).await?;
    may_read(&user, suspension.as_ref(), &job.region)?;
    Ok(Json(job.into()))
}

/// Label language of a download.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DownloadQuery {
    /// `en` (default), `fr` or `es`.
    pub lang: Option<String>,
}

/// The file names of a document's downloads.
#[derive(Debug, Clone, Copy, ToSchema)]
pub enum DocumentFile {
    /// HTML.
    #[schema(rename = "document.html")]
    Html,
    /// Markdown.
    #[schema(rename = "document.md")]
    Md,
    /// JSON.
    #[schema(rename = "document.json")]
    Json,
    /// CSV.
    #[schema(rename = "document.csv")]
    Csv,
}

impl DocumentFile {
    fn parse(file: &str) -> Option<Self> {
        match file {
            "document.html" => Some(Self::Html),
            "document.md" => Some(Self::Md),
            "document.json" => Some(Self::Json),
            "document.csv" => Some(Self::Csv),
            _ => None,
        }
    }

    fn format(self) -> &'static str {
        match self {
            Self::Html => "html",
            Self::Md => "md",
            Self::Json => "json",
            Self::Csv => "csv",
        }
    }
}

/// A document: `document.html`, `document.md`, `document.json` or `document.csv`. Labels in
/// English, French or Spanish (`?lang=`); JSON and CSV carry codes.
#[utoipa::path(get, path = "/analyses/{id}/{file}", tag = "analysis", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Analysis id"),
        ("file" = inline(DocumentFile), Path, description = "`document.html`, `document.md`, `document.json` or `document.csv`"),
        DownloadQuery),
    responses((status = 200, description = "The document, in the media type of its extension: HTML (print-ready, self-contained), Markdown, JSON (every figure, this schema) or CSV (one row per contribution)",
            content((hub_analysis::Document = "application/json"), (String = "text/html"), (String = "text/markdown"), (String = "text/csv")),
            headers(("Content-Disposition" = String, description = "`inline; filename=\"gcm-{region}-analysis-v{version}.{ext}\"`"))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn download(
    State(state): State<AppState>,
    Path((id, file)): Path<(String, String)>,
    AuthSuspension {
        user, suspension, ..
    }: AuthSuspension,
    ApiQuery(q): ApiQuery<DownloadQuery>,
) -> ApiResult<Response> {
    let id: i64 = id
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::invalid("id", "must be a positive integer"))?;
    let format = DocumentFile::parse(&file)
        .ok_or_else(|| ApiError::not_found("document format"))?
        .format();
    let lang = match q.lang.as_deref() {
        None => "en",
        Some(l @ ("en" | "fr" | "es")) => l,
        Some(_) => return Err(ApiError::invalid("lang", "must be en, fr or es")),
    };
    let job = state.store.analysis(id).await?;
    may_read(&user, suspension.as_ref(), &job.region)?;
    if job.status != "ready" {
        return Err(ApiError::conflict(format!(
            "the document is not ready (status: {})",
            job.status
        )));
    }
    let gz = state.store.document_gz(id).await?;
    let base_url = state.config.public_url.trim_end_matches('/').to_string();
    let name = format!(
        "gcm-{}-analysis-v{}",
        job.region,
        job.version.unwrap_or_default()
    );
    let lang = lang.to_string();
    let (bytes, content_type, ext) = tokio::task::spawn_blocking(
        move || -> ApiResult<(Vec<u8>, &'static str, &'static str)> {
            let json = hub_analysis::build::gunzip(&gz).map_err(ApiError::internal)?;
            if format == "json" {
                return Ok((json, "application/json", "json"));
            }
            let doc: hub_analysis::Document =
                serde_json::from_slice(&json).map_err(ApiError::internal)?;
            drop(json);
            let opts = RenderOptions {
                lang: &lang,
                base_url: &base_url,
            };
            Ok(match format {
                "html" => (
                    render::html(&doc, &opts).into_bytes(),
                    "text/html; charset=utf-8",
                    "html",
                ),
                "md" => (
                    render::markdown(&doc, &opts).into_bytes(),
                    "text/markdown; charset=utf-8",
                    "md",
                ),
                _ => (
                    render::csv(&doc, &opts).map_err(ApiError::internal)?,
                    "text/csv; charset=utf-8",
                    "csv",
                ),
            })
        },
    )
    .await
    .map_err(ApiError::internal)??;
    let mut resp = Response::new(Body::from(bytes));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The document quotes user text: even if escaping failed, nothing may run or load.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox",
        ),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600, immutable"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{name}.{ext}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
