//! Threads and the posts under them.

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{
    ApiJson, ApiQuery, Auth, AuthSuspension, BearerToken, ClientIp, Id, IdempotencyKeyHeader,
    MaybeAuth,
};
use crate::page_cache::{CachedPage, PageKey};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hub_domain::validate::{self, Checker};
use hub_domain::visibility::PostFacts;
use hub_domain::{
    lang, markup, search, visibility, Aspect, Post, PostKind, PostStatus, Thread, ThreadSort, User,
};
use hub_store::{Bodies, Created, IdempotencyKey, NewPost, NewThread, PostChecks, ThreadQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_threads, create_thread))
        .routes(routes!(get_thread))
        .routes(routes!(list_posts, create_post))
}

/// A page of items.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// Items of this page.
    pub items: Vec<T>,
    /// Cursor of the next page; null on the last.
    pub next_cursor: Option<String>,
}

impl<T> From<hub_store::Page<T>> for Page<T> {
    fn from(p: hub_store::Page<T>) -> Self {
        Page {
            items: p.items,
            next_cursor: p.next_cursor,
        }
    }
}

/// Page size: 50 by default, at most 200.
pub(crate) fn page_limit(limit: Option<i64>) -> ApiResult<i64> {
    page_limit_up_to(limit, 200)
}

/// Page size: 50 by default, at most `max`.
fn page_limit_up_to(limit: Option<i64>, max: i64) -> ApiResult<i64> {
    match limit {
        None => Ok(50),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::invalid("limit", format!("must be 1 to {max}"))),
    }
}

/// Filters of the thread list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ThreadFilters {
    /// Only threads about this objective (1-23).
    pub objective: Option<i64>,
    /// Only threads opened by a post of this kind.
    pub kind: Option<PostKind>,
    /// Words that must all occur in a post or the title (any language; Chinese by characters).
    pub q: Option<String>,
    /// `activity` (default), `new` or `top`.
    pub sort: Option<ThreadSort>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
    /// Page size (1-200, default 50).
    pub limit: Option<i64>,
}

fn region_or_404(state: &AppState, slug: &str) -> ApiResult<()> {
    state
        .region(slug)
        .map(|_| ())
        .ok_or_else(|| ApiError::not_found("region"))
}

/// Threads of a regional space.
#[utoipa::path(get, path = "/regions/{slug}/threads", tag = "threads", security((), ("bearer" = [])),
    params(("slug" = String, Path, description = "Region slug"), ThreadFilters),
    responses((status = 200, body = Page<Thread>), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn list_threads(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    viewer: MaybeAuth,
    ApiQuery(f): ApiQuery<ThreadFilters>,
) -> ApiResult<Json<Page<Thread>>> {
    region_or_404(&state, &slug)?;
    if let Some(o) = f.objective {
        validate::objective_ids(&[o]).map_err(|e| ApiError::invalid("objective", e.message))?;
    }
    if f.q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(ApiError::invalid("q", "must be at most 200 characters"));
    }
    let page = state
        .store
        .list_threads(&ThreadQuery {
            region: slug.clone(),
            objective: f.objective,
            kind: f.kind,
            q: f.q,
            sort: f.sort.unwrap_or(ThreadSort::Activity),
            cursor: f.cursor,
            limit: page_limit(f.limit)?,
            viewer_id: viewer.0.as_ref().map(|u| u.id),
            moderator: viewer.viewer().moderates(&slug),
        })
        .await?;
    Ok(Json(page.into()))
}

/// A new thread.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateThreadRequest {
    /// Title (3-200 characters).
    pub title: String,
    /// Markdown of the opening post (at most 20,000 characters).
    pub body: String,
    /// Kind of the opening post.
    pub kind: PostKind,
    /// GCM objectives (1-23, at most 10).
    #[serde(default)]
    pub objectives: Vec<i64>,
    /// What the post reports on.
    #[serde(default)]
    pub aspects: Vec<Aspect>,
    /// Language (BCP 47); detected when absent.
    pub language: Option<String>,
}

/// A new thread with its opening post.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadCreated {
    /// The thread.
    #[serde(flatten)]
    pub thread: Thread,
    /// Its opening post.
    pub opening_post: Post,
}

/// Validates and renders the parts of a post; errors are collected into `c`.
pub(crate) struct PostDraft {
    pub body: String,
    pub body_html: String,
    pub search_terms: String,
    pub language: Option<String>,
    pub language_detected: bool,
}

impl PostDraft {
    /// The post to store, by `user`, with its initial status.
    fn into_post(
        self,
        user: &User,
        parent_id: Option<i64>,
        kind: PostKind,
        objectives: Vec<i64>,
        aspects: &[Aspect],
        status: PostStatus,
    ) -> NewPost {
        NewPost {
            author: author_ref(user),
            parent_id,
            kind,
            body: self.body,
            body_html: self.body_html,
            search_terms: self.search_terms,
            language: self.language,
            language_detected: self.language_detected,
            objectives,
            aspects: validate::aspects(aspects),
            status,
        }
    }
}

pub(crate) fn draft_body(c: &mut Checker, body: &str, language: Option<&str>) -> Option<PostDraft> {
    let body = c.check(validate::body(body));
    let declared = match language {
        Some(l) => Some(c.check(validate::language(l))?),
        None => None,
    };
    let body = body?;
    let plain = markup::plain_text(&body);
    let (language, language_detected) = match declared {
        Some(l) => (Some(l), false),
        None => {
            let d = lang::detect(&plain);
            let detected = d.is_some();
            (d, detected)
        }
    };
    Some(PostDraft {
        body_html: markup::render_markdown(&body),
        search_terms: search::index_text(&plain),
        body,
        language,
        language_detected,
    })
}

pub(crate) fn author_ref(u: &User) -> hub_domain::AuthorRef {
    hub_domain::AuthorRef {
        id: u.id,
        display_name: u.display_name.clone(),
        organisation: u.organisation.clone(),
        stakeholder_group: u.stakeholder_group,
        country: u.country.clone(),
    }
}

/// The checks a new post passes (suspension, rate limits, duplicates; for the replay of an
/// idempotency key already used, the suspension only) and the status pre-moderation gives it.
async fn screen(
    state: &AppState,
    user: &User,
    ip: &str,
    key: Option<&str>,
    (region, thread_id): (&str, Option<i64>),
    body: &str,
) -> ApiResult<PostStatus> {
    let replay = match key {
        Some(k) => state.store.idempotency_seen(user.id, k).await?,
        None => false,
    };
    if replay {
        // A replay writes nothing new, but a key may stop counting as used between this read
        // and the write (24 h after its first use), which then writes anew: a suspended
        // account is refused either way.
        super::moderation::not_suspended(state, user, region).await?;
    } else {
        super::moderation::may_post(state, user, ip, body, key.is_some(), thread_id, region)
            .await?;
    }
    super::moderation::initial_status(state, region, user, body).await
}

fn idem(user: &User, key: Option<String>, fingerprint: &str) -> Option<IdempotencyKey> {
    key.map(|key| IdempotencyKey {
        user_id: user.id,
        key,
        fingerprint: fingerprint.to_string(),
    })
}

fn created<T: Serialize>(body: T, replayed: bool) -> Response {
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    if replayed {
        res.headers_mut().insert(
            "idempotent-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
    }
    res
}

/// Opens a thread in a regional space.
#[utoipa::path(post, path = "/regions/{slug}/threads", tag = "threads", security(("bearer" = [])),
    params(("slug" = String, Path, description = "Region slug"),
           ("Idempotency-Key" = Option<String>, Header, description = "Retry key: the same key within 24 h returns the first result")),
    request_body = CreateThreadRequest,
    responses((status = 201, description = "Created", body = ThreadCreated, headers(("Idempotent-Replayed" = String, description = "`true` when this repeats the answer to an earlier request with the same Idempotency-Key"))), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The account is suspended", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The same text a moment ago, or an Idempotency-Key used with another request", body = Problem, content_type = "application/problem+json"),
              (status = 429, description = "Too many posts", body = Problem, content_type = "application/problem+json")))]
async fn create_thread(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Auth(user): Auth,
    ClientIp(ip): ClientIp,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    body: ApiJson<CreateThreadRequest>,
) -> ApiResult<Response> {
    region_or_404(&state, &slug)?;
    let r = body.value;
    let mut c = Checker::new();
    let title = c.check(validate::title(&r.title));
    let objectives = c.check(validate::objective_ids(&r.objectives));
    let draft = draft_body(&mut c, &r.body, r.language.as_deref());
    c.finish().map_err(ApiError::validation)?;
    let (Some(title), Some(objectives), Some(d)) = (title, objectives, draft) else {
        return Err(ApiError::internal("validation passed without values"));
    };
    let status = screen(&state, &user, &ip, key.as_deref(), (&slug, None), &d.body).await?;
    let new = NewThread {
        region: slug,
        title,
        opening: d.into_post(&user, None, r.kind, objectives, &r.aspects, status),
    };
    match state
        .store
        .create_thread(&new, idem(&user, key, &body.fingerprint).as_ref())
        .await?
    {
        Created::New((thread, opening_post)) => Ok(created(
            ThreadCreated {
                thread,
                opening_post,
            },
            false,
        )),
        Created::Replayed(id) => {
            let thread = state.store.thread(id).await?;
            let opening_post = match thread.opening_post_id {
                Some(pid) => state.store.post(pid).await?,
                None => return Err(ApiError::internal("thread without opening post")),
            };
            Ok(created(
                ThreadCreated {
                    thread,
                    opening_post,
                },
                true,
            ))
        }
    }
}

/// One thread.
#[utoipa::path(get, path = "/threads/{id}", tag = "threads", security((), ("bearer" = [])),
    params(("id" = i64, Path, description = "Thread id")),
    responses((status = 200, body = Thread), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_thread(
    State(state): State<AppState>,
    Id(id): Id,
    viewer: MaybeAuth,
) -> ApiResult<Json<Thread>> {
    Ok(Json(visible_thread(&state, id, &viewer).await?))
}

/// A thread and its opening post (none for a thread without one).
pub(crate) async fn thread_and_opening(
    state: &AppState,
    id: i64,
) -> ApiResult<(Thread, Option<Post>)> {
    let thread = state.store.thread(id).await?;
    let opening = match thread.opening_post_id {
        Some(op) => Some(state.store.post(op).await?),
        None => None,
    };
    Ok((thread, opening))
}

/// A thread as the viewer may see it: a thread stands on its opening post
/// ([`visibility::thread_withheld`]).
pub(crate) async fn visible_thread(
    state: &AppState,
    id: i64,
    viewer: &MaybeAuth,
) -> ApiResult<Thread> {
    let (thread, opening) = thread_and_opening(state, id).await?;
    let opening = opening.as_ref().map(Post::facts);
    if visibility::thread_withheld(&viewer.viewer(), opening.as_ref()) {
        return Err(ApiError::not_found("thread"));
    }
    Ok(thread)
}

/// What visibility depends on about a thread's opening post.
fn opening_facts(op: &hub_store::OpeningPost) -> PostFacts<'_> {
    PostFacts {
        status: op.status,
        author_id: op.author_id,
        region: &op.region,
    }
}

/// Paging of a thread's posts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PostPaging {
    /// Cursor from the previous page.
    pub cursor: Option<String>,
    /// Page size (1-500, default 50): a thread of up to 500 posts reads in one request.
    pub limit: Option<i64>,
    /// Which texts each post carries: `both` (default) the Markdown `body` and its
    /// `body_html`; `html` or `markdown` only that one (the other is null), for clients that
    /// render one of them.
    pub body: Option<BodyChoice>,
}

/// Which texts of each post a thread read carries.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BodyChoice {
    /// `body` and `body_html`.
    Both,
    /// `body_html` only.
    Html,
    /// `body` only.
    Markdown,
}

/// Most posts in one page of a thread.
const THREAD_PAGE_MAX: i64 = 500;

/// The posts of a thread in tree order (depth-first, siblings oldest first), each with its
/// `depth` and `parent_id`. Hidden and removed posts are tombstones for others; pending posts
/// are shown to their author and the region's moderators only.
#[utoipa::path(get, path = "/threads/{id}/posts", tag = "threads", security((), ("bearer" = [])),
    params(("id" = i64, Path, description = "Thread id"), PostPaging),
    responses((status = 200, body = Page<Post>,
            description = "The page; with an `ETag` when it is the same for every reader who is not the author or a moderator of a post on it"),
        (status = 304, description = "Not modified: `If-None-Match` named the page's current `ETag`"),
        (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn list_posts(
    State(state): State<AppState>,
    Id(id): Id,
    viewer: MaybeAuth,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<PostPaging>,
) -> ApiResult<Response> {
    let limit = page_limit_up_to(p.limit, THREAD_PAGE_MAX)?;
    let bodies = match p.body.unwrap_or(BodyChoice::Both) {
        BodyChoice::Both => Bodies::Both,
        BodyChoice::Html => Bodies::Html,
        BodyChoice::Markdown => Bodies::Markdown,
    };
    let viewer = viewer.viewer();
    // The thread's page version first: a page read after it is at least as new.
    let cache = &state.thread_pages;
    let key = PageKey::new(id, limit, bodies, p.cursor.as_deref());
    let version = if cache.enabled() {
        match state.store.thread_page_version(id).await? {
            Some(v) => Some(v),
            None => return Err(ApiError::not_found("thread")),
        }
    } else {
        None
    };
    if let Some((v, _)) = version {
        if let Some(page) = cache.get(&key, v).filter(|page| page.serves(&viewer)) {
            metrics::counter!("hub_thread_page_cache_total", "result" => "hit").increment(1);
            return Ok(cached_response(&page, id, &headers));
        }
        metrics::counter!("hub_thread_page_cache_total", "result" => "miss").increment(1);
    }
    // The page as everyone sees it but the authors of its unpublished posts and their
    // regions' moderators, written as JSON by the database, with whether the viewer may see
    // the thread.
    let public = state
        .store
        .public_thread_page(id, p.cursor.as_deref(), limit, bodies)
        .await?;
    // As `visible_thread`.
    let opening = public.opening.as_ref().map(opening_facts);
    if visibility::thread_withheld(&viewer, opening.as_ref()) {
        return Err(ApiError::not_found("thread"));
    }
    let (page_version, thread_created) = version.unwrap_or((0, 0));
    let body = page_json(&public.items, &public.next_cursor)?;
    let entry = CachedPage {
        version: page_version,
        thread_created,
        body: body.into(),
        withheld_from: CachedPage::withheld_from(&public.withheld_from),
    };
    if entry.serves(&viewer) {
        // What everyone gets who is not withheld from: file it. (A thread whose opening post
        // is not published is not filed: who may see it at all depends on the viewer.)
        let opening_published = opening.is_some_and(|op| visibility::is_public(op.status));
        if version.is_some() && opening_published {
            cache.put(key, entry.clone());
            return Ok(cached_response(&entry, id, &headers));
        }
        return Ok(private_json(entry.body));
    }
    // This viewer sees more than everyone: their own page, read whole and redacted for them.
    let tp = state
        .store
        .thread_page(id, p.cursor.as_deref(), limit, bodies)
        .await?;
    let items: Vec<_> = tp
        .page
        .items
        .into_iter()
        .filter_map(|post| post.redacted_for(&viewer))
        .collect();
    let items = hub_store::posts_json(&items).map_err(ApiError::internal)?;
    Ok(private_json(
        page_json(&items, &tp.page.next_cursor)?.into(),
    ))
}

/// A page's JSON (`{"items": [...], "next_cursor": ...}`, as [`Page`]) around its items'.
fn page_json(items: &[u8], next_cursor: &Option<String>) -> ApiResult<Vec<u8>> {
    let mut body = Vec::with_capacity(items.len() + 64);
    body.extend_from_slice(b"{\"items\":");
    body.extend_from_slice(items);
    body.extend_from_slice(b",\"next_cursor\":");
    serde_json::to_writer(&mut body, next_cursor).map_err(ApiError::internal)?;
    body.push(b'}');
    Ok(body)
}

/// A page not to be kept by anyone but its reader (or with the cache off).
fn private_json(body: axum::body::Bytes) -> Response {
    let mut res = json_bytes(body);
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("private, no-store"),
    );
    res
}

/// A page from the cache (or filed in it): with its entity tag, or 304 when the client has it.
fn cached_response(page: &CachedPage, thread: i64, headers: &HeaderMap) -> Response {
    let etag = page.etag(thread);
    let fresh = headers
        .get_all(axum::http::header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
        });
    let validators = [
        (
            axum::http::header::ETAG,
            axum::http::HeaderValue::from_str(&etag)
                .unwrap_or_else(|_| axum::http::HeaderValue::from_static("\"\"")),
        ),
        (
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("private, no-cache"),
        ),
    ];
    if fresh {
        return (axum::http::StatusCode::NOT_MODIFIED, validators).into_response();
    }
    (validators, json_bytes(page.body.clone())).into_response()
}

/// A JSON answer of bytes already serialised.
fn json_bytes(body: axum::body::Bytes) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// A reply.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePostRequest {
    /// Markdown (at most 20,000 characters).
    pub body: String,
    /// The post replied to; absent for a reply to the thread (its opening post).
    pub parent_id: Option<i64>,
    /// Kind.
    pub kind: PostKind,
    /// GCM objectives (1-23, at most 10).
    #[serde(default)]
    pub objectives: Vec<i64>,
    /// What the post reports on.
    #[serde(default)]
    pub aspects: Vec<Aspect>,
    /// Language (BCP 47); detected when absent.
    pub language: Option<String>,
}

/// Largest body (bytes of Markdown) rendered while the requester's session is looked up.
const EARLY_RENDER_BYTES: usize = 8 * 1024;

/// Adds a post to a thread.
#[utoipa::path(post, path = "/threads/{id}/posts", tag = "threads", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Thread id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Retry key: the same key within 24 h returns the first result")),
    request_body = CreatePostRequest,
    responses((status = 201, description = "Created", body = Post, headers(("Idempotent-Replayed" = String, description = "`true` when this repeats the answer to an earlier request with the same Idempotency-Key"))), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
              (status = 429, body = Problem, content_type = "application/problem+json")))]
async fn create_post(
    State(state): State<AppState>,
    Id(thread_id): Id,
    token: BearerToken,
    ClientIp(ip): ClientIp,
    key: Result<IdempotencyKeyHeader, ApiError>,
    body: Result<ApiJson<CreatePostRequest>, ApiError>,
) -> ApiResult<Response> {
    // The session is looked up while the text is checked and rendered (a tenth of a post's
    // time at one writer). A request without a token got its 401 before its body was read;
    // only a body of everyday size is rendered before the token is known to be good, so that
    // no one without an account makes the hub render large texts. The answers keep their
    // order (401, then the header's and the body's 4xx).
    let early = body
        .as_ref()
        .is_ok_and(|b| b.value.body.len() <= EARLY_RENDER_BYTES);
    let checked = |r: &CreatePostRequest| {
        let mut c = Checker::new();
        let objectives = c.check(validate::objective_ids(&r.objectives));
        let draft = draft_body(&mut c, &r.body, r.language.as_deref());
        if r.parent_id.is_some_and(|p| p <= 0) {
            c.push(validate::FieldError::new("parent_id", "is not a post id"));
        }
        (c, objectives, draft)
    };
    let (auth, pre) = tokio::join!(token.authenticate(&state), async {
        match &body {
            Ok(b) if early => Some(checked(&b.value)),
            _ => None,
        }
    });
    let AuthSuspension {
        user,
        suspension,
        suspended_in_a_region,
    } = auth?;
    let IdempotencyKeyHeader(key) = key?;
    let body = body?;
    let r = &body.value;
    let (c, objectives, draft) = match pre {
        Some(pre) => pre,
        None => checked(r),
    };
    c.finish().map_err(ApiError::validation)?;
    let (Some(objectives), Some(d)) = (objectives, draft) else {
        return Err(ApiError::internal("validation passed without values"));
    };
    // The replay of a key already used skips the rate limits meant for new writes, not the
    // suspension (see `screen`).
    super::moderation::unless_suspended(suspension.as_ref())?;
    // A suspension in one region: is it this thread's? (Read only for those who have one.)
    if suspended_in_a_region {
        let region = state.store.thread(thread_id).await?.region;
        super::moderation::not_suspended(&state, &user, &region).await?;
    }
    let replay = match key.as_deref() {
        Some(k) => state.store.idempotency_seen(user.id, k).await?,
        None => false,
    };
    if !replay {
        // The duplicate check is left to the write's transaction.
        super::moderation::post_rate_limits(&state, &user, &ip).await?;
    }
    // Pre-moderation depends on the thread's region: read it only where some region
    // pre-moderates.
    let status = if state.config.premoderation.is_empty() {
        PostStatus::Published
    } else {
        let region = state.store.thread(thread_id).await?.region;
        super::moderation::initial_status(&state, &region, &user, &d.body).await?
    };
    // Double submissions (without a key to dedupe them) are refused in the write's
    // transaction, with the thread and parent checks.
    let checks = PostChecks {
        duplicate_window_micros: key
            .is_none()
            .then(|| state.config.limits.duplicate_window_secs * 1_000_000),
        moderated_regions: crate::extract::viewer_of(Some(&user)).moderated_regions(),
        unrestricted: false,
    };
    let new = d.into_post(&user, r.parent_id, r.kind, objectives, &r.aspects, status);
    match state
        .store
        .create_post_checked(
            thread_id,
            &new,
            idem(&user, key, &body.fingerprint).as_ref(),
            &checks,
        )
        .await?
    {
        Created::New(post) => Ok(created(post, false)),
        Created::Replayed(id) => Ok(created(state.store.post(id).await?, true)),
    }
}
