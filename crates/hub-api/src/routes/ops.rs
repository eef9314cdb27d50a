//! Operations: liveness, readiness, metrics and the OpenAPI document.

use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi_json))
}

/// Health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or what is not ready.
    pub status: String,
    /// Database backend.
    pub database: String,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
async fn healthz(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        database: state.store.backend().name().into(),
    })
}

/// Readiness, dependency by dependency.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ok`, or `database unreachable`.
    pub status: String,
    /// `ok` or `down`.
    pub database: String,
    /// `ok`, `down` (the hub goes on with local rate limits and log polling) or
    /// `not_configured`.
    pub redis: String,
    /// Database backend (`sqlite` or `postgres`).
    pub backend: String,
}

/// Whether the hub can serve: 503 only when the database is unreachable. Redis being down is
/// reported but does not make the hub unready (it serves on local limits and log polling).
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
async fn readyz(State(state): State<AppState>) -> Response {
    let (database, redis) = tokio::join!(state.store.ping(), state.limiter.redis_status());
    let database_ok = match database {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            false
        }
    };
    // Redis is down when either of its users finds it so: the rate limits' PING, or the live
    // bus's subscription and health check.
    let redis = match (redis, state.live.redis_healthy()) {
        ("ok", Some(false)) => "down",
        (r, _) => r,
    };
    let body = Readiness {
        status: if database_ok {
            "ok"
        } else {
            "database unreachable"
        }
        .into(),
        database: if database_ok { "ok" } else { "down" }.into(),
        redis: redis.into(),
        backend: state.store.backend().name().into(),
    };
    let status = if database_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain")))]
async fn metrics(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(h) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            h.render(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "metrics are not enabled").into_response(),
    }
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations", responses((status = 200, content_type = "application/json")))]
async fn openapi_json() -> Response {
    Json(super::openapi()).into_response()
}
