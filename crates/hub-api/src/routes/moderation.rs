//! Moderation: flags, appeals, the queue, decisions, suspensions, the audit log, and the
//! admin's role changes. Every moderator power is scoped to the moderator's regions.

use super::threads::Page;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{viewer_of, ApiJson, ApiQuery, Auth, AuthSuspension, Id};
use crate::ratelimit::Limit;
use crate::state::{AppState, PremoderationMode};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use hub_domain::validate::{self, Checker};
use hub_domain::{
    AuditEntry, Decision, FlagReason, Post, PostAction, PostStatus, QueueItem, Role, RoleKind,
    Suspension, Thread, ThreadAction, User,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(flag))
        .routes(routes!(appeal))
        .routes(routes!(queue))
        .routes(routes!(assign))
        .routes(routes!(note))
        .routes(routes!(decide_post))
        .routes(routes!(decide_bulk))
        .routes(routes!(decide_thread))
        .routes(routes!(suspend, lift))
        .routes(routes!(log))
        .routes(routes!(grant_role, revoke_role))
}

/// Refuses a user suspended everywhere or in `region`, saying why and until when.
pub(crate) async fn not_suspended(state: &AppState, user: &User, region: &str) -> ApiResult<()> {
    unless_suspended(
        state
            .store
            .suspension_in(user.id, Some(region))
            .await?
            .as_ref(),
    )
}

/// Refuses a suspension in force (as the session lookup found it, see `AuthSuspension`).
pub(crate) fn unless_suspended(suspension: Option<&Suspension>) -> ApiResult<()> {
    match suspension {
        Some(s) => Err(suspended(s)),
        None => Ok(()),
    }
}

/// Whether the account is still new (stricter limits, as Discourse's trust level 0).
fn is_new(state: &AppState, user: &User) -> bool {
    Utc::now() - user.created_at < chrono::Duration::hours(state.config.limits.new_account_hours)
}

/// Counts a post against the per-user (stricter for new accounts) and per-address limits.
pub(crate) async fn post_rate_limits(state: &AppState, user: &User, ip: &str) -> ApiResult<()> {
    let l = &state.config.limits;
    let per_user = if is_new(state, user) {
        l.posts_per_new_user_per_minute
    } else {
        l.posts_per_user_per_minute
    };
    state
        .limiter
        .check(
            "post_user",
            &user.id.to_string(),
            Limit::per_minute(per_user),
            "posts",
        )
        .await?;
    // The address's ceiling grows with the accounts that post from it (a venue's network).
    let seen = state.limiter.accounts_seen(ip, Some(user.id)).await;
    let per_ip = l
        .posts_per_ip_per_minute
        .saturating_mul(u32::try_from(seen).unwrap_or(u32::MAX));
    state
        .limiter
        .check(
            "post_ip",
            ip,
            Limit::per_minute(per_ip),
            "posts from this address",
        )
        .await
}

/// The refusal of a suspended account, saying why and until when.
pub(crate) fn suspended(s: &hub_domain::Suspension) -> ApiError {
    let place = match &s.region {
        Some(r) => format!(" in {r}"),
        None => String::new(),
    };
    ApiError::forbidden(format!(
        "your account is suspended{place} until {} ({})",
        s.until.to_rfc3339(),
        s.reason
    ))
}

/// Everything checked before a post is written: suspension, rate limits, and (when the client
/// sent no Idempotency-Key to dedupe its own retries) double submissions.
pub(crate) async fn may_post(
    state: &AppState,
    user: &User,
    ip: &str,
    body: &str,
    keyed: bool,
    thread_id: Option<i64>,
    region: &str,
) -> ApiResult<()> {
    not_suspended(state, user, region).await?;
    post_rate_limits(state, user, ip).await?;
    let l = &state.config.limits;
    if !keyed
        && state
            .store
            .recent_duplicate(
                user.id,
                body.trim(),
                l.duplicate_window_secs * 1_000_000,
                thread_id,
                region,
            )
            .await?
    {
        return Err(ApiError::conflict("you posted the same text a moment ago"));
    }
    Ok(())
}

/// The status a new post starts with under its region's pre-moderation.
pub(crate) async fn initial_status(
    state: &AppState,
    region: &str,
    user: &User,
    body: &str,
) -> ApiResult<PostStatus> {
    let viewer = viewer_of(Some(user));
    if viewer.moderates(region) {
        return Ok(PostStatus::Published);
    }
    let Some(p) = state.config.premoderation.get(region) else {
        return Ok(PostStatus::Published);
    };
    let wait = match p.mode {
        PremoderationMode::Off => false,
        PremoderationMode::Everything => true,
        PremoderationMode::Links => {
            let links = body.matches("http://").count()
                + body.matches("https://").count()
                + body.matches("www.").count();
            links > usize::try_from(p.max_links).unwrap_or(usize::MAX)
        }
        PremoderationMode::NewAccounts => {
            state.store.published_posts_by(user.id).await? < i64::from(p.new_account_posts)
        }
    };
    Ok(if wait {
        PostStatus::Pending
    } else {
        PostStatus::Published
    })
}

fn require_moderator(user: &User, region: &str) -> ApiResult<()> {
    if viewer_of(Some(user)).moderates(region) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("you do not moderate {region}")))
    }
}

/// A moderator of `region` who is not suspended: a suspended moderator has no powers.
fn acting_moderator(user: &User, suspension: Option<&Suspension>, region: &str) -> ApiResult<()> {
    require_moderator(user, region)?;
    unless_suspended(suspension)
}

fn require_admin(user: &User) -> ApiResult<()> {
    if viewer_of(Some(user)).has(RoleKind::Admin) {
        Ok(())
    } else {
        Err(ApiError::forbidden("only admins manage roles"))
    }
}

/// A flag.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagRequest {
    /// Why.
    pub reason: FlagReason,
    /// Details for the moderators.
    pub note: Option<String>,
}

/// What a flag did.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlagCreated {
    /// The flag's id.
    pub id: i64,
    /// Open flags on the post.
    pub open_flags: i64,
    /// Whether the post is now hidden pending review.
    pub hidden: bool,
}

/// Flags a post for the region's moderators (one open flag per user per post).
#[utoipa::path(post, path = "/posts/{id}/flags", tag = "moderation", security(("bearer" = [])), request_body = FlagRequest,
    params(("id" = i64, Path, description = "Post id")),
    responses((status = 201, body = FlagCreated), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
async fn flag(
    State(state): State<AppState>,
    Id(id): Id,
    Auth(user): Auth,
    body: ApiJson<FlagRequest>,
) -> ApiResult<(StatusCode, Json<FlagCreated>)> {
    let r = body.value;
    let note = match r.note.as_deref() {
        Some(n) => Some(validate::reason("note", n).map_err(|e| ApiError::validation(vec![e]))?),
        None => None,
    };
    let l = &state.config.limits;
    let per = if is_new(&state, &user) {
        l.flags_per_new_user_per_minute
    } else {
        l.flags_per_user_per_minute
    };
    state
        .limiter
        .check(
            "flag_user",
            &user.id.to_string(),
            Limit::per_minute(per),
            "flags",
        )
        .await?;
    // A post the flagger cannot see does not exist for them.
    let post = state.store.post(id).await?;
    let region = post.region.clone();
    post.redacted_for(&viewer_of(Some(&user)))
        .ok_or_else(|| ApiError::not_found("post"))?;
    not_suspended(&state, &user, &region).await?;
    let out = state
        .store
        .flag_post(
            id,
            user.id,
            r.reason,
            note.as_deref(),
            state.config.flag_threshold,
            (Utc::now() - chrono::Duration::hours(state.config.limits.new_account_hours))
                .timestamp_micros(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(FlagCreated {
            id: out.flag_id,
            open_flags: out.open_flags,
            hidden: out.auto_hidden,
        }),
    ))
}

/// An appeal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealRequest {
    /// Why the decision should change.
    pub note: String,
}

/// The author appeals the latest decision on their post (once per decision); the post goes
/// back into the queue.
#[utoipa::path(post, path = "/posts/{id}/appeal", tag = "moderation", security(("bearer" = [])), request_body = AppealRequest,
    params(("id" = i64, Path, description = "Post id")),
    responses((status = 201, body = Decision), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn appeal(
    State(state): State<AppState>,
    Id(id): Id,
    Auth(user): Auth,
    body: ApiJson<AppealRequest>,
) -> ApiResult<(StatusCode, Json<Decision>)> {
    let note =
        validate::reason("note", &body.value.note).map_err(|e| ApiError::validation(vec![e]))?;
    let d = state
        .store
        .appeal(id, user.id, &note)
        .await
        .map_err(|e| match e {
            hub_store::StoreError::Forbidden(m) => ApiError::forbidden(m),
            e => e.into(),
        })?;
    Ok((StatusCode::CREATED, Json(d)))
}

/// Which region's queue or log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RegionPage {
    /// Region slug.
    pub region: String,
    /// Cursor.
    pub cursor: Option<String>,
    /// Page size (1-200, default 50).
    pub limit: Option<i64>,
}

/// The region's queue, most urgent first: personal-data flags, then flag weight, then age.
#[utoipa::path(get, path = "/moderation/queue", tag = "moderation", security(("bearer" = [])), params(RegionPage),
    responses((status = 200, body = Page<QueueItem>), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn queue(
    State(state): State<AppState>,
    AuthSuspension {
        user, suspension, ..
    }: AuthSuspension,
    ApiQuery(q): ApiQuery<RegionPage>,
) -> ApiResult<Json<Page<QueueItem>>> {
    acting_moderator(&user, suspension.as_ref(), &q.region)?;
    let p = state
        .store
        .queue(
            &q.region,
            q.cursor.as_deref(),
            super::threads::page_limit(q.limit)?,
        )
        .await?;
    Ok(Json(p.into()))
}

async fn post_in_my_region(
    state: &AppState,
    user: &User,
    suspension: Option<&Suspension>,
    id: i64,
) -> ApiResult<Post> {
    let post = state.store.post(id).await?;
    acting_moderator(user, suspension, &post.region)?;
    Ok(post)
}

/// "I take this": assigns a queued post to the caller.
#[utoipa::path(post, path = "/moderation/posts/{id}/assign", tag = "moderation", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Post id")),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn assign(
    State(state): State<AppState>,
    Id(id): Id,
    AuthSuspension {
        user, suspension, ..
    }: AuthSuspension,
) -> ApiResult<StatusCode> {
    post_in_my_region(&state, &user, suspension.as_ref(), id).await?;
    state.store.assign(id, user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A moderator's note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// The note (moderators only see it).
    pub note: String,
}

/// Adds a note to a queued post.
#[utoipa::path(post, path = "/moderation/posts/{id}/notes", tag = "moderation", security(("bearer" = [])), request_body = NoteRequest,
    params(("id" = i64, Path, description = "Post id")),
    responses((status = 201), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn note(
    State(state): State<AppState>,
    Id(id): Id,
    AuthSuspension {
        user, suspension, ..
    }: AuthSuspension,
    body: ApiJson<NoteRequest>,
) -> ApiResult<StatusCode> {
    let note =
        validate::reason("note", &body.value.note).map_err(|e| ApiError::validation(vec![e]))?;
    post_in_my_region(&state, &user, suspension.as_ref(), id).await?;
    state.store.add_note(id, user.id, &note).await?;
    Ok(StatusCode::CREATED)
}

/// A decision on a post.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostDecisionRequest {
    /// approve, hide, restore or remove.
    pub action: PostAction,
    /// Why; the author sees it.
    pub reason: String,
}

/// A decision and the post after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostDecided {
    /// The decision.
    pub decision: Decision,
    /// The post now.
    pub post: Post,
}

/// Decides on a post of the caller's region.
#[utoipa::path(post, path = "/moderation/posts/{id}/decision", tag = "moderation", security(("bearer" = [])), request_body = PostDecisionRequest,
    params(("id" = i64, Path, description = "Post id")),
    responses((status = 200, body = PostDecided), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn decide_post(
    State(state): State<AppState>,
    Id(id): Id,
    AuthSuspension {
        user, suspension, ..
    }: AuthSuspension,
    body: ApiJson<PostDecisionRequest>,
) -> ApiResult<Json<PostDecided>> {
    let reason = validate::reason("reason", &body.value.reason)
        .map_err(|e| ApiError::validation(vec![e]))?;
    post_in_my_region(&state, &user, suspension.as_ref(), id).await?;
    let (decision, post) = state
        .store
        .decide_post(id, user.id, body.value.action, &reason)
        .await?;
    Ok(Json(PostDecided { decision, post }))
}

/// The same decision on several posts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkDecisionRequest {
    /// Posts (at most 100), all in regions the caller moderates.
    pub post_ids: Vec<i64>,
    /// The action.
    pub action: PostAction,
    /// Why.
    pub reason: String,
}

/// Decides on several posts at once, all or none (a post named twice is decided once).
#[utoipa::path(post, path = "/moderation/decisions", tag = "moderation", security(("bearer" = [])), request_body = BulkDecisionRequest,
    responses((status = 200, body = Vec<PostDecided>), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "A post named does not exist", body = Problem, content_type = "application/problem+json")))]
async fn decide_bulk(
    State(state): State<AppState>,
    AuthSuspension {
        user, suspension, ..
    }: AuthSuspension,
    body: ApiJson<BulkDecisionRequest>,
) -> ApiResult<Json<Vec<PostDecided>>> {
    let r = body.value;
    let mut c = Checker::new();
    let reason = c.check(validate::reason("reason", &r.reason));
    if r.post_ids.is_empty() || r.post_ids.len() > 100 {
        c.push(validate::FieldError::new("post_ids", "name 1 to 100 posts"));
    }
    c.finish().map_err(ApiError::validation)?;
    let reason = reason.unwrap_or_default();
    unless_suspended(suspension.as_ref())?;
    for id in &r.post_ids {
        let post = state.store.post(*id).await?;
        require_moderator(&user, &post.region)?;
    }
    // One transaction, a post named twice decided once: a post that cannot be decided leaves
    // every other unchanged.
    let out = state
        .store
        .decide_posts(&r.post_ids, user.id, r.action, &reason)
        .await?
        .into_iter()
        .map(|(decision, post)| PostDecided { decision, post })
        .collect();
    Ok(Json(out))
}

/// A decision on a thread.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThreadDecisionRequest {
    /// lock, unlock, pin, unpin or move.
    pub action: ThreadAction,
    /// Why.
    pub reason: String,
    /// For `move`: the region to move it to (the caller must moderate both).
    pub region: Option<String>,
}

/// A thread decision and the thread after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadDecided {
    /// The decision.
    pub decision: Decision,
    /// The thread now.
    pub thread: Thread,
}

/// Locks, unlocks, pins, unpins or moves a thread of the caller's region.
#[utoipa::path(post, path = "/moderation/threads/{id}/decision", tag = "moderation", security(("bearer" = [])), request_body = ThreadDecisionRequest,
    params(("id" = i64, Path, description = "Thread id")),
    responses((status = 200, body = ThreadDecided), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn decide_thread(
    State(state): State<AppState>,
    Id(id): Id,
    AuthSuspension {
        user, suspension, ..
    }: AuthSuspension,
    body: ApiJson<ThreadDecisionRequest>,
) -> ApiResult<Json<ThreadDecided>> {
    let r = body.value;
    let reason =
        validate::reason("reason", &r.reason).map_err(|e| ApiError::validation(vec![e]))?;
    let thread = state.store.thread(id).await?;
    acting_moderator(&user, suspension.as_ref(), &thread.region)?;
    let to = match (r.action, r.region.as_deref()) {
        (ThreadAction::Move, Some(to)) if state.region(to).is_some() => {
            require_moderator(&user, to)?;
            Some(to)
        }
        (ThreadAction::Move, Some(_)) => {
            return Err(ApiError::invalid("region", "is not a region"))
        }
        (ThreadAction::Move, None) => {
            return Err(ApiError::invalid(
                "region",
                "moving a thread needs the region to move it to",
            ))
        }
        (_, Some(_)) => return Err(ApiError::invalid("region", "only a move takes a region")),
        (_, None) => None,
    };
    let (decision, thread) = state
        .store
        .decide_thread(id, user.id, r.action, &reason, to)
        .await?;
    Ok(Json(ThreadDecided { decision, thread }))
}

/// A suspension.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspensionRequest {
    /// Until when (RFC 3339, in the future).
    pub until: DateTime<Utc>,
    /// Why; the user is told.
    pub reason: String,
    /// The region it applies to. A moderator's suspension always applies to one region they
    /// moderate (by default one where the user posted); an admin's applies everywhere unless
    /// a region is given.
    pub region: Option<String>,
}

/// The region a moderator acts in for this user: one they moderate where the user posted.
/// Admins act everywhere.
async fn suspension_scope(
    state: &AppState,
    moderator: &User,
    user_id: i64,
) -> ApiResult<Option<String>> {
    let viewer = viewer_of(Some(moderator));
    if viewer.has(RoleKind::Admin) {
        return Ok(None);
    }
    let regions = state.store.user_regions(user_id).await?;
    regions
        .into_iter()
        .find(|r| viewer.moderates(r))
        .map(Some)
        .ok_or_else(|| {
            ApiError::forbidden(
                "you may suspend (or lift the suspension of) only users who post in a region you moderate",
            )
        })
}

/// Suspends a user: they cannot post, flag or endorse (in the suspension's region, or
/// everywhere) until then, and are told why. Only a suspension everywhere, which only admins
/// impose, also suspends a staff account's powers.
#[utoipa::path(post, path = "/moderation/users/{id}/suspension", tag = "moderation", security(("bearer" = [])), request_body = SuspensionRequest,
    params(("id" = i64, Path, description = "User id")),
    responses((status = 201, body = hub_domain::Suspension), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "You cannot suspend yourself", body = Problem, content_type = "application/problem+json")))]
async fn suspend(
    State(state): State<AppState>,
    Id(id): Id,
    AuthSuspension {
        user, suspension, ..
    }: AuthSuspension,
    body: ApiJson<SuspensionRequest>,
) -> ApiResult<(StatusCode, Json<hub_domain::Suspension>)> {
    let r = body.value;
    let mut c = Checker::new();
    let reason = c.check(validate::reason("reason", &r.reason));
    if r.until <= Utc::now() {
        c.push(validate::FieldError::new("until", "must be in the future"));
    }
    c.finish().map_err(ApiError::validation)?;
    if id == user.id {
        return Err(ApiError::conflict("you cannot suspend yourself"));
    }
    unless_suspended(suspension.as_ref())?;
    let viewer = viewer_of(Some(&user));
    let admin = viewer.has(RoleKind::Admin);
    let target = state.store.user(id).await?;
    // A moderator restricts posting in their region; staff accounts (moderators, the
    // secretariat, admins) answer to admins only.
    if !admin && target.roles.iter().any(|r| r.role != RoleKind::Stakeholder) {
        return Err(ApiError::forbidden(
            "only admins suspend moderators, secretariat and admin accounts",
        ));
    }
    let region = match (admin, r.region) {
        (_, Some(region)) if !hub_domain::is_region(&region) => {
            return Err(ApiError::invalid("region", "not one of the five regions"));
        }
        (true, region) => region,
        (false, Some(region)) if viewer.moderates(&region) => Some(region),
        (false, Some(region)) => {
            return Err(ApiError::forbidden(format!("you do not moderate {region}")));
        }
        (false, None) => suspension_scope(&state, &user, id).await?,
    };
    let s = state
        .store
        .suspend(
            id,
            r.until.timestamp_micros(),
            &reason.unwrap_or_default(),
            user.id,
            region.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(s)))
}

/// Lifts a user's suspension. A moderator may lift only suspensions imposed in a region they
/// moderate (admins any), never their own; a suspended moderator lifts nothing.
#[utoipa::path(delete, path = "/moderation/users/{id}/suspension", tag = "moderation", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn lift(
    State(state): State<AppState>,
    Id(id): Id,
    AuthSuspension {
        user, suspension, ..
    }: AuthSuspension,
) -> ApiResult<StatusCode> {
    let viewer = viewer_of(Some(&user));
    let scope = if viewer.has(RoleKind::Admin) {
        None
    } else {
        let regions = viewer.moderated_regions();
        if regions.is_empty() {
            return Err(ApiError::forbidden(
                "only moderators and admins lift suspensions",
            ));
        }
        // Only users who post where the caller moderates, as for a suspension.
        suspension_scope(&state, &user, id).await?;
        Some(regions)
    };
    unless_suspended(suspension.as_ref())?;
    if id == user.id {
        return Err(ApiError::forbidden("you cannot lift your own suspension"));
    }
    // Staff accounts answer to admins only, for a lift as for a suspension.
    if scope.is_some()
        && state
            .store
            .user(id)
            .await?
            .roles
            .iter()
            .any(|r| r.role != RoleKind::Stakeholder)
    {
        return Err(ApiError::forbidden(
            "only admins lift the suspension of moderators, secretariat and admin accounts",
        ));
    }
    if state
        .store
        .lift_suspension(id, Some(user.id), scope.as_deref())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("suspension"))
    }
}

/// The region's append-only audit log, newest first.
#[utoipa::path(get, path = "/moderation/log", tag = "moderation", security(("bearer" = [])), params(RegionPage),
    responses((status = 200, body = Page<AuditEntry>), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn log(
    State(state): State<AppState>,
    AuthSuspension {
        user, suspension, ..
    }: AuthSuspension,
    ApiQuery(q): ApiQuery<RegionPage>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    acting_moderator(&user, suspension.as_ref(), &q.region)?;
    let p = state
        .store
        .audit_log(
            &q.region,
            q.cursor.as_deref(),
            super::threads::page_limit(q.limit)?,
        )
        .await?;
    Ok(Json(p.into()))
}

/// A role to grant or revoke.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    /// moderator, secretariat or admin.
    pub role: RoleKind,
    /// For moderators: the region.
    pub region: Option<String>,
}

fn parse_role(state: &AppState, r: RoleRequest) -> ApiResult<Role> {
    match (r.role, r.region) {
        (RoleKind::Moderator, Some(region)) if state.region(&region).is_some() => Ok(Role {
            role: RoleKind::Moderator,
            region: Some(region),
        }),
        (RoleKind::Moderator, _) => Err(ApiError::invalid(
            "region",
            "a moderator needs one of the five regions",
        )),
        (RoleKind::Stakeholder, _) => {
            Err(ApiError::invalid("role", "every account is a stakeholder"))
        }
        (_, Some(_)) => Err(ApiError::invalid("region", "only moderators take a region")),
        (role, None) => Ok(Role { role, region: None }),
    }
}

/// Grants a role (admins only).
#[utoipa::path(post, path = "/admin/users/{id}/roles", tag = "moderation", security(("bearer" = [])), request_body = RoleRequest,
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = User), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn grant_role(
    State(state): State<AppState>,
    Id(id): Id,
    AuthSuspension {
        user: admin,
        suspension,
        ..
    }: AuthSuspension,
    body: ApiJson<RoleRequest>,
) -> ApiResult<Json<User>> {
    require_admin(&admin)?;
    unless_suspended(suspension.as_ref())?;
    let role = parse_role(&state, body.value)?;
    state.store.change_role(admin.id, id, true, &role).await?;
    Ok(Json(state.store.user(id).await?))
}

/// Revokes a role (admins only).
#[utoipa::path(delete, path = "/admin/users/{id}/roles", tag = "moderation", security(("bearer" = [])), request_body = RoleRequest,
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = User), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn revoke_role(
    State(state): State<AppState>,
    Id(id): Id,
    AuthSuspension {
        user: admin,
        suspension,
        ..
    }: AuthSuspension,
    body: ApiJson<RoleRequest>,
) -> ApiResult<Json<User>> {
    require_admin(&admin)?;
    unless_suspended(suspension.as_ref())?;
    let role = parse_role(&state, body.value)?;
    state.store.user(id).await?;
    state.store.change_role(admin.id, id, false, &role).await?;
    Ok(Json(state.store.user(id).await?))
}
