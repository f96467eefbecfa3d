//! `server.max_body`: a declared length over the limit is refused without
//! handling the request (a moderately oversized body is read and discarded
//! first, so the client can read the answer); a chunked body is cut off
//! when it crosses the limit.

use std::time::Duration;

use axum::{
    body::Body,
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::header::CONTENT_LENGTH;
use http_body::Body as _;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::{problem::Problem, state::AppState};

/// A declared body at most this much over the limit is read and discarded
/// before the refusal (see [`limit`]); a larger one is refused at once.
const DRAIN_AT_MOST: u64 = 16 << 20;
/// How long discarding may take before the refusal is sent anyway.
const DRAIN_FOR: Duration = Duration::from_secs(10);

pub(crate) async fn limit(state: &AppState, request: Request, next: Next) -> Response {
    let max = state.manifest().server.max_body.bytes();
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared.filter(|&len| len > max) {
        // A client still sending its body would see the connection reset
        // (closing a socket with unread data sends RST) instead of reading
        // the 413, so a moderately oversized body is read to its end first,
        // as nginx's lingering close does.
        if len <= max.saturating_add(DRAIN_AT_MOST) {
            tokio::time::timeout(DRAIN_FOR, discard(request.into_body())).await.ok();
        }
        return Problem::payload_too_large(max).into_response();
    }
    if request.body().is_end_stream() {
        // An empty body cannot cross the limit; spare it the wrapper.
        return next.run(request).await;
    }
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    next.run(request.map(|body| Body::new(Limited::new(body, limit)))).await
}

/// Reads a body to its end, keeping nothing.
async fn discard(mut body: Body) {
    while let Some(Ok(_)) = body.frame().await {}
}

/// Reads a whole request body (already capped by [`limit`]); the problem to
/// answer when it is over `server.max_body` or cannot be read.
pub(crate) async fn read_body(body: Body, max: u64) -> Result<bytes::Bytes, Response> {
    // Most proxied calls are GETs without a body: nothing to collect.
    if body.is_end_stream() {
        return Ok(bytes::Bytes::new());
    }
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
