//! `server.max_body`: a declared length over the limit is refused at once;
//! a chunked body is cut off when it crosses the limit.

use axum::{
    body::Body,
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::header::CONTENT_LENGTH;
use http_body_util::{LengthLimitError, Limited};

use crate::{problem::Problem, state::AppState};

pub(crate) async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let max = state.manifest().server.max_body.bytes();
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max) {
        return Problem::payload_too_large(max).into_response();
    }
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    next.run(request.map(|body| Body::new(Limited::new(body, limit)))).await
}

/// Reads a whole request body (already capped by [`limit`]); the problem to
/// answer when it is over `server.max_body` or cannot be read.
pub(crate) async fn read_body(body: Body, max: u64) -> Result<bytes::Bytes, Response> {
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => Ok(body),
        Err(error) if is_over_limit(&error) => Err(Problem::payload_too_large(max).into_response()),
        Err(_) => Err(Problem::new(
            http::StatusCode::BAD_REQUEST,
            "unreadable-body",
            "Unreadable Body",
            "The request body could not be read to the end.",
        )
        .into_response()),
    }
}

/// Whether an error (from reading or forwarding a body) was the limit being crossed.
pub(crate) fn is_over_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<LengthLimitError>() {
            return true;
        }
        current = e.source();
    }
    false
}
