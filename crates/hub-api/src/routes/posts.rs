//! One post: read, edit (with revisions), remove, endorse.

use super::threads::draft_body;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, Auth, AuthSuspension, Id, MaybeAuth};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hub_domain::validate::{self, Checker};
use hub_domain::{visibility, Aspect, Post, PostKind, Revision, User};
use hub_store::PostEdit;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_post, edit_post, delete_post))
        .routes(routes!(revisions))
        .routes(routes!(endorse, unendorse))
}

/// The post as the viewer may see it; a pending post of someone else does not exist for them.
/// Its author may still change it (edit, delete) in a thread withheld from them.
async fn visible_post(state: &AppState, id: i64, viewer: &MaybeAuth) -> ApiResult<Post> {
    state
        .store
        .post(id)
        .await?
        .redacted_for(&viewer.viewer())
        .ok_or_else(|| ApiError::not_found("post"))
}

/// The post as the viewer may read or endorse it ([`visibility::read_sight`]): no reply in a
/// thread withheld from the viewer exists for them either (its opening post not published).
async fn readable_post(state: &AppState, id: i64, viewer: &MaybeAuth) -> ApiResult<Post> {
    let post = state.store.post(id).await?;
    let is_opening = post.parent_id.is_none();
    let opening = if is_opening {
        None
    } else {
        // A withheld thread's 404 is the post's; any other failure stays what it is.
        let (_, opening) = super::threads::thread_and_opening(state, post.thread_id)
            .await
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::NOT_FOUND {
                    ApiError::not_found("post")
                } else {
                    e
                }
            })?;
        opening
    };
    let opening = opening.as_ref().map(Post::facts);
    let sight = visibility::read_sight(
        &viewer.viewer(),
        &post.facts(),
        opening.as_ref(),
        is_opening,
    );
    post.shown_as(sight)
        .ok_or_else(|| ApiError::not_found("post"))
}

/// Whether `user` may change `post`: its author, or a moderator of its region.
fn may_change(user: &User, post: &Post) -> bool {
    post.author.id == user.id || crate::extract::viewer_of(Some(user)).moderates(&post.region)
}

/// One post.
#[utoipa::path(get, path = "/posts/{id}", tag = "posts", security((), ("bearer" = [])),
    params(("id" = i64, Path, description = "Post id")),
    responses((status = 200, body = Post), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_post(
    State(state): State<AppState>,
    Id(id): Id,
    viewer: MaybeAuth,
) -> ApiResult<Json<Post>> {
    Ok(Json(readable_post(&state, id, &viewer).await?))
}

/// An edit; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditPostRequest {
    /// New Markdown.
    pub body: Option<String>,
    /// New kind.
    pub kind: Option<PostKind>,
    /// New objectives.
    pub objectives: Option<Vec<i64>>,
    /// New aspects (moderators correct these too).
    pub aspects: Option<Vec<Aspect>>,
    /// New language.
    pub language: Option<String>,
}

/// Edits a post (its author, or a moderator of its region; not while suspended). The replaced
/// version is kept.
#[utoipa::path(patch, path = "/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Post id")), request_body = EditPostRequest,
    responses((status = 200, body = Post), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "A removed post cannot be edited", body = Problem, content_type = "application/problem+json")))]
async fn edit_post(
    State(state): State<AppState>,
    Id(id): Id,
    AuthSuspension {
        user,
        suspension,
        suspended_in_a_region,
    }: AuthSuspension,
    body: ApiJson<EditPostRequest>,
) -> ApiResult<Json<Post>> {
    let current = visible_post(&state, id, &MaybeAuth(Some(user.clone()))).await?;
    if !may_change(&user, &current) {
        return Err(ApiError::forbidden(
            "only the author or a moderator of this region may edit this post",
        ));
    }
    // A suspended user (author or moderator) edits nothing, as they post nothing: suspended
    // everywhere, or in this post's region.
    super::moderation::unless_suspended(suspension.as_ref())?;
    if suspended_in_a_region {
        super::moderation::not_suspended(&state, &user, &current.region).await?;
    }
    let r = body.value;
    if r.body.is_none()
        && r.kind.is_none()
        && r.objectives.is_none()
        && r.aspects.is_none()
        && r.language.is_none()
    {
        return Err(ApiError::invalid("body", "nothing to change"));
    }
    let mut c = Checker::new();
    let objectives = match &r.objectives {
        Some(o) => c.check(validate::objective_ids(o)).map(Some),
        None => Some(None),
    };
    let mut edit = PostEdit {
        editor_id: user.id,
        body: None,
        kind: r.kind,
        objectives: None,
        aspects: r.aspects.as_deref().map(validate::aspects),
        language: None,
        review: false,
    };
    match (&r.body, &r.language) {
        (Some(b), lang) => {
            if let Some(d) = draft_body(&mut c, b, lang.as_deref()) {
                edit.language = Some((d.language, d.language_detected));
                edit.body = Some((d.body, d.body_html, d.search_terms));
            }
        }
        (None, Some(l)) => {
            if let Some(l) = c.check(validate::language(l)) {
                edit.language = Some((Some(l), false));
            }
        }
        (None, None) => {}
    }
    c.finish().map_err(ApiError::validation)?;
    edit.objectives = objectives.flatten();
    // New text from its author is held as a new post would be: in a region that pre-moderates,
    // an approved post edited to what would wait goes back to the queue.
    if let Some((body, _, _)) = &edit.body {
        edit.review = super::moderation::initial_status(&state, &current.region, &user, body)
            .await?
            == hub_domain::PostStatus::Pending;
    }
    Ok(Json(state.store.edit_post(id, &edit).await?))
}

/// Removes a post (its author, or a moderator of its region): the content is erased, a
/// tombstone keeps the replies in place.
#[utoipa::path(delete, path = "/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Post id")),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn delete_post(
    State(state): State<AppState>,
    Id(id): Id,
    Auth(user): Auth,
) -> ApiResult<StatusCode> {
    let current = visible_post(&state, id, &MaybeAuth(Some(user.clone()))).await?;
    if !may_change(&user, &current) {
        return Err(ApiError::forbidden(
            "only the author or a moderator of this region may remove this post",
        ));
    }
    let reason = (current.author.id != user.id).then_some("removed by a moderator");
    state.store.remove_post(id, user.id, reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every version of a post, oldest first (shown to whoever may see the post's content).
#[utoipa::path(get, path = "/posts/{id}/revisions", tag = "posts", security((), ("bearer" = [])),
    params(("id" = i64, Path, description = "Post id")),
    responses((status = 200, body = Vec<Revision>), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn revisions(
    State(state): State<AppState>,
    Id(id): Id,
    viewer: MaybeAuth,
) -> ApiResult<Json<Vec<Revision>>> {
    let post = readable_post(&state, id, &viewer).await?;
    if post.body.is_none() {
        // A tombstone's history is as hidden as its content.
        return Ok(Json(Vec::new()));
    }
    Ok(Json(state.store.revisions(id).await?))
}

/// Endorsement state after a call.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndorsementView {
    /// Post id.
    pub post_id: i64,
    /// Endorsements of the post.
    pub endorsements: i64,
    /// Whether the caller endorses it now.
    pub endorsed: bool,
    /// Whether this call changed anything.
    pub changed: bool,
}

/// Endorses a post (once per user; repeating changes nothing).
#[utoipa::path(put, path = "/posts/{id}/endorsement", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Post id")),
    responses((status = 200, body = EndorsementView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The account is suspended", body = Problem, content_type = "application/problem+json")))]
async fn endorse(
    State(state): State<AppState>,
    Id(id): Id,
    Auth(user): Auth,
) -> ApiResult<Json<EndorsementView>> {
    let post = readable_post(&state, id, &MaybeAuth(Some(user.clone()))).await?;
    super::moderation::not_suspended(&state, &user, &post.region).await?;
    let (endorsements, changed) = state.store.endorse(id, user.id).await?;
    Ok(Json(EndorsementView {
        post_id: id,
        endorsements,
        endorsed: true,
        changed,
    }))
}

/// Withdraws an endorsement.
#[utoipa::path(delete, path = "/posts/{id}/endorsement", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Post id")),
    responses((status = 200, body = EndorsementView), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn unendorse(
    State(state): State<AppState>,
    Id(id): Id,
    Auth(user): Auth,
) -> ApiResult<Json<EndorsementView>> {
    readable_post(&state, id, &MaybeAuth(Some(user.clone()))).await?;
    let (endorsements, changed) = state.store.unendorse(id, user.id).await?;
    Ok(Json(EndorsementView {
        post_id: id,
        endorsements,
        endorsed: false,
        changed,
    }))
}
