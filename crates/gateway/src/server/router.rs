//! Routes and the middleware every request goes through.

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request},
    middleware,
    response::{IntoResponse, Response},
    routing::{any, get, post},
};
use http::header::HeaderName;
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
};

use super::body_limit;
use crate::{admin, egress, health, ingress, problem::Problem, state::AppState, telemetry};

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub(crate) fn build(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/proxy/{dependency}", any(egress::forward))
        .route("/proxy/{dependency}/{*path}", any(egress::forward))
        .route("/webhooks/{source}", post(ingress::receive))
        .merge(admin::routes(state.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Our own limit wraps every body; axum's extractor limit would answer in plain text.
        .layer(DefaultBodyLimit::disable())
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
                .layer(CatchPanicLayer::custom(|_| {
                    tracing::error!("A request handler panicked.");
                    Problem::internal().into_response()
                }))
                .layer(middleware::from_fn_with_state(state.clone(), telemetry::http::track))
                .layer(middleware::from_fn_with_state(state.clone(), body_limit::limit)),
        )
        .with_state(state)
}

async fn not_found(request: Request) -> Response {
    Problem::not_found(request.uri().path()).into_response()
}

async fn method_not_allowed(request: Request) -> Response {
    Problem::method_not_allowed(request.method(), request.uri().path()).into_response()
}
