//! Request ids, access logs and metrics around every request.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use hub_store::activity::Activity;
use std::sync::Arc;
use std::time::Instant;

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
