//! Bearer keys for `/v1`: `Authorization: Bearer <key>` must match one of
//! `[admin] api_keys`, compared in constant time.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header};
use subtle::ConstantTimeEq;

use crate::{problem::Problem, state::AppState};

pub(crate) async fn require_key(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let keys = &state.manifest().admin.api_keys;
    let Some(presented) = presented else {
        return unauthorized("Send `Authorization: Bearer <key>` with a key from `[admin] api_keys`.");
    };
    // Every key is compared, so timing does not tell which one (or none) matched.
    let matched = keys
        .iter()
        .fold(false, |found, key| found | bool::from(key.expose().as_bytes().ct_eq(presented.as_bytes())));
    if !matched {
        return unauthorized("The bearer key is not valid.");
    }
    next.run(request).await
}

fn unauthorized(detail: &str) -> Response {
    Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized", detail)
        .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
        .into_response()
}
