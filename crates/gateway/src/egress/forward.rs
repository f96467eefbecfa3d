//! The `/proxy/{dependency}/{path...}` handler.

use std::{net::SocketAddr, time::Duration};

use axum::{
    body::Body,
    extract::{ConnectInfo, Request, State},
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, Version, header::HOST};

use super::{
    credentials,
    headers::{add_forwarded, strip_hop_by_hop},
    target::{TargetError, upstream_uri},
};
use crate::{problem::Problem, server::is_over_limit, state::AppState};

/// Forwards the call to the dependency's `base_url` and streams the answer back.
pub(crate) async fn forward(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let path = request.uri().path().to_owned();
    let after = path.strip_prefix("/proxy/").unwrap_or_default();
    let (name, rest) = match after.find('/') {
        Some(i) => (&after[..i], &after[i..]),
        None => (after, ""),
    };
    let (Some(dependency), Some(client)) =
        (state.manifest().dependencies.get(name), state.egress().client(name))
    else {
        return unknown_dependency(name).into_response();
    };
    let uri = match upstream_uri(&dependency.base_url, rest, request.uri().query()) {
        Ok(uri) => uri,
        Err(error) => {
            let detail = match error {
                TargetError::DotSegment => {
                    "The path has a `.` or `..` segment; Junction does not let calls climb out of `base_url`."
                }
                TargetError::Invalid => {
                    "The path and query do not form a valid URL when joined to `base_url`."
                }
            };
            return Problem::new(StatusCode::BAD_REQUEST, "invalid-path", "Invalid Path", detail)
                .into_response();
        }
    };

    let (mut parts, body) = request.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    parts.headers.remove(HOST);
    add_forwarded(&mut parts.headers, Some(peer.ip()));
    if credentials::inject(&mut parts.headers, dependency.auth.as_ref()).is_err() {
        tracing::error!(%name, "The dependency's credential cannot be sent as a header value.");
        return Problem::internal().into_response();
    }
    parts.uri = uri;
    // hyper picks HTTP/1.1 or HTTP/2 per connection (ALPN); the inbound version is irrelevant.
    parts.version = Version::HTTP_11;
    let upstream = Request::from_parts(parts, body);

    let timeout = dependency.timeout.get();
    match tokio::time::timeout(timeout, client.inner().request(upstream)).await {
        Err(_) => upstream_timeout(name, timeout).into_response(),
        Ok(Err(error)) if is_over_limit(&error) => {
            Problem::payload_too_large(state.manifest().server.max_body.bytes()).into_response()
        }
        Ok(Err(error)) => {
            tracing::warn!(dependency = %name, error = %error_chain(&error), "Upstream request failed.");
            Problem::new(
                StatusCode::BAD_GATEWAY,
                "upstream-unreachable",
                "Bad Gateway",
                format!("Dependency `{name}` could not be reached: {}.", error_chain(&error)),
            )
            .into_response()
        }
        Ok(Ok(response)) => {
            let (mut parts, body) = response.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            parts.headers.insert("junction-attempts", HeaderValue::from_static("1"));
            Response::from_parts(parts, Body::new(body))
        }
    }
}

fn unknown_dependency(name: &str) -> Problem {
    let shown: String = name.chars().take(64).collect();
    Problem::new(
        StatusCode::NOT_FOUND,
        "unknown-dependency",
        "Unknown Dependency",
        format!("No dependency named `{shown}` is declared in the manifest; add `[dependencies.{shown}]`."),
    )
}

fn upstream_timeout(name: &str, timeout: Duration) -> Problem {
    Problem::new(
        StatusCode::GATEWAY_TIMEOUT,
        "upstream-timeout",
        "Gateway Timeout",
        format!("Dependency `{name}` did not answer within its timeout of {}ms.", timeout.as_millis()),
    )
}

/// The error and its causes, innermost last. Connection errors carry no
/// header values, so this never holds a credential.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}
