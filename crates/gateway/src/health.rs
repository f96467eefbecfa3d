//! Liveness, readiness and the metrics exposition.

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header};
use serde_json::json;

use crate::{problem::Problem, state::AppState, telemetry::METRICS_CONTENT_TYPE};

/// `GET /healthz`: the process is up and serving.
pub(crate) async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// `GET /readyz`: the manifest is loaded, the store answers, and the server
/// takes traffic. Fails
/// with 503 once shutdown has begun, so load balancers drain this node first.
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    if state.is_draining() {
        return Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "draining",
            "Shutting Down",
            "This node is draining in-flight requests before it stops; send new requests elsewhere.",
        )
        .into_response();
    }
    if let Err(error) = state.store().ping().await {
        tracing::warn!(%error, "Readiness check: the store does not answer.");
        return Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store-unavailable",
            "Store Unavailable",
            "The store does not answer; this node cannot accept work until it does.",
        )
        .into_response();
    }
    let manifest = state.manifest();
    Json(json!({
        "status": "ready",
        "dependencies": manifest.dependencies.len(),
        "sources": manifest.sources.len(),
    }))
    .into_response()
}

/// `GET /metrics`: Prometheus/OpenMetrics text.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    // Breakers move from open to half-open with time alone, so read them at scrape time.
    state.refresh_breaker_gauges();
    let body = state.metrics().encode();
    ([(header::CONTENT_TYPE, HeaderValue::from_static(METRICS_CONTENT_TYPE))], body).into_response()
}
