//! What every request goes through before its route's handler, in one
//! middleware: a request id, metrics and the access log, the body limit.
//!
//! One function rather than a layer each: every layer boxes its future and
//! clones the service below it on each request, which on a proxied call
//! cost more than the work the layers do. It sits outside the panic
//! catcher, so a panicking handler's 500 is counted, logged and carries the
//! request id like any other answer.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use http::{HeaderName, HeaderValue};

use super::body_limit;
use crate::{state::AppState, telemetry};

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives the request an `x-request-id` when it has none (a random UUID),
/// tracks it, applies `server.max_body`, and answers with the same id.
pub(crate) async fn edge(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let id = match request.headers().get(&REQUEST_ID) {
        Some(id) => id.clone(),
        None => {
            let id = new_request_id();
            request.headers_mut().insert(REQUEST_ID.clone(), id.clone());
            id
        }
    };
    let mut response =
        telemetry::http::track(&state, request, |request| body_limit::limit(&state, request, next)).await;
    response.headers_mut().entry(&REQUEST_ID).or_insert(id);
    response
}

/// The request's `x-request-id` (set here for every request), for logs and audit entries.
pub(crate) fn request_id(headers: &http::HeaderMap) -> Option<String> {
    headers.get(&REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// A random UUID, encoded straight into a header value.
fn new_request_id() -> HeaderValue {
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
    HeaderValue::from_str(id).expect("a UUID is a valid header value")
}
