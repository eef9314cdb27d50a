//! The router: every route of the contract, under `/api/v1`, plus operations endpoints.

mod analysis;
mod auth;
mod live;
mod moderation;
mod ops;
mod posts;
mod regions;
mod threads;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(OpenApi)]
#[openapi(
    info(
        title = "GCM regional discussion hub",
        description = "Regional discussion spaces of the UN Network on Migration for the reviews of the Global Compact for Migration.",
        version = "1.0.0"
    ),
    modifiers(&BearerAuth),
    // Schemas only named by query parameters (which do not register what they name).
    components(schemas(crate::error::Problem, hub_domain::ThreadSort, threads::BodyChoice)),
    tags(
        (name = "auth", description = "Accounts and sessions"),
        (name = "regions", description = "The five regional spaces and the GCM objectives"),
        (name = "threads", description = "Discussions"),
        (name = "posts", description = "Posts, revisions and endorsements"),
        (name = "moderation", description = "Flags, the queue, decisions, appeals, suspensions, the audit log, roles"),
        (name = "analysis", description = "Analysis documents of each region, for the secretariat and the region's moderators"),
        (name = "live", description = "Live updates: WebSocket and Server-Sent Events"),
        (name = "operations", description = "Health, readiness, metrics")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::router())
        .merge(regions::router())
        .merge(threads::router())
        .merge(posts::router())
        .merge(live::router())
        .merge(moderation::router())
        .merge(analysis::router())
}

/// The OpenAPI 3.1 document of the API, generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api_router())
        .split_for_parts();
    let (_, ops_doc) = ops::router().split_for_parts();
    doc.merge(ops_doc);
    crate::openapi::CommonErrors.modify(&mut doc);
    doc
}

async fn not_found() -> ApiError {
    ApiError::not_found("route")
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    let body_limit = state.config.body_limit_bytes;
    let request_timeout = state.config.request_timeout;
    let activity = state.store.activity().clone();
    let (api, _) = OpenApiRouter::new()
        .nest("/api/v1", api_router())
        .split_for_parts();
    // API requests count as work in flight (not health checks and metrics).
    let api = api.layer(axum::middleware::from_fn_with_state(
        activity,
        crate::middleware::mark_busy,
    ));
    let (ops, _) = ops::router().split_for_parts();
    Router::new()
        .merge(api)
        .merge(ops)
        .fallback(not_found)
        .method_not_allowed_fallback(|| async {
            ApiError::new_method_not_allowed()
        })
        .with_state(state)
        .layer(axum::middleware::from_fn(crate::middleware::track_metrics))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(ApiError::internal("handler panicked"))
        }))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), uri = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(SetSensitiveRequestHeadersLayer::new([axum::http::header::AUTHORIZATION]))
        .layer(axum::middleware::from_fn_with_state(
            request_timeout,
            crate::middleware::time_limit,
        ))
        // No response is to be read as another type than it says (a JSON body as HTML...).
        .layer(SetResponseHeaderLayer::overriding(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
}
