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
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
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
                .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), NewRequestId))
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

/// Gives a request without an `x-request-id` a random UUID. tower-http's
/// `MakeRequestUuid` does the same through `to_string` and a parse; this
/// encodes straight into the header value.
#[derive(Debug, Clone, Copy)]
struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _request: &http::Request<B>) -> Option<RequestId> {
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
        http::HeaderValue::from_str(id).ok().map(RequestId::new)
    }
}

async fn not_found(request: Request) -> Response {
    Problem::not_found(request.uri().path()).into_response()
}

async fn method_not_allowed(request: Request) -> Response {
    Problem::method_not_allowed(request.method(), request.uri().path()).into_response()
}
