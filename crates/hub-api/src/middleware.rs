//! Request ids, access logs and metrics around every request.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hub_store::activity::Activity;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Marks each request in flight until its response is ready (a streamed body's sending is
/// not counted): an analysis build in this process gives way to it (`hub_store::activity`).
pub async fn mark_busy(
    State(activity): State<Arc<Activity>>,
    req: Request,
    next: Next,
) -> Response {
    let _busy = activity.enter();
    next.run(req).await
}

/// Records `http_requests_total` and `http_request_duration_seconds` by route template (not
/// raw path, so ids don't explode the label set), method and status.
pub async fn track_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    res
}

/// Answers 503 problem+json with `Retry-After` for a request not answered within `limit`
/// (`http.request_timeout_secs`). A streamed body (a download, an event stream) is not counted
/// once its response has started.
pub async fn time_limit(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            metrics::counter!("http_request_timeouts_total").increment(1);
            crate::error::ApiError::unavailable(
                2,
                "the request took too long; try again (a retry with the same Idempotency-Key is safe)",
            )
            .into_response()
        }
    }
}
