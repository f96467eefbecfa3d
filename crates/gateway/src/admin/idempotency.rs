//! `Idempotency-Key` on `/v1` POSTs: the first answer is stored with a
//! fingerprint of the request; the same key and request replay it
//! (`Idempotent-Replayed: true`), the same key with another request is
//! refused with 422, and a key whose first request is still running with 409.
//! Keys live in the store for 24 hours, per caller, so they hold across
//! nodes sharing a PostgreSQL store.

use std::time::Duration;

use axum::{
    body::Body,
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use junction_store::{IdempotencyBegin, StoredResponse};

use super::caller::Caller;
use crate::{problem::Problem, server::read_body, state::AppState};

/// The request header clients send.
pub(crate) static KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Marks an answer replayed from an earlier request with the same key.
pub(crate) static REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// How long a key is remembered.
pub(crate) const TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Management requests and answers are small; larger ones are refused rather than stored.
const MAX_BODY: u64 = 1 << 20;
/// Headers of an answer worth replaying.
const REPLAYED_HEADERS: [HeaderName; 2] = [header::CONTENT_TYPE, header::LOCATION];

/// Runs `request` under its idempotency key, if it is a POST that has one.
pub(crate) async fn guard(state: &AppState, caller: &Caller, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(&KEY) else {
        return next.run(request).await;
    };
    let key = match key.to_str() {
        Ok(key) if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
            key.to_owned()
        }
        _ => {
            return Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-idempotency-key",
                "Invalid Idempotency Key",
                "`Idempotency-Key` must be 1 to 255 visible ASCII characters, e.g. a UUID.",
            )
            .into_response();
        }
    };
    let (parts, body) = request.into_parts();
    let body = match read_body(body, MAX_BODY).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let scope = format!("admin:{}", caller.id);
    let fingerprint =
        fingerprint(&parts.method, parts.uri.path_and_query().map_or("", |p| p.as_str()), &body);
    let store = state.store();
    match store.idempotency_begin(&scope, &key, &fingerprint, TTL).await {
        Ok(IdempotencyBegin::Started) => {}
        Ok(IdempotencyBegin::Completed(stored)) => return replay(stored),
        Ok(IdempotencyBegin::Mismatch) => {
            return Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency Key Reused",
                "This `Idempotency-Key` was used with a different request; use a new key for a new request.",
            )
            .into_response();
        }
        Ok(IdempotencyBegin::InProgress) => {
            return Problem::new(
                StatusCode::CONFLICT,
                "idempotency-key-in-use",
                "Request In Progress",
                "A request with this `Idempotency-Key` is still being handled; retry shortly.",
            )
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
            .into_response();
        }
        Err(error) => {
            tracing::error!(%error, "Cannot look up an idempotency key.");
            return Problem::internal().into_response();
        }
    }
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY as usize).await {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "Cannot buffer a management answer.");
            abandon(state, &scope, &key).await;
            return Problem::internal().into_response();
        }
    };
    // Server errors are not final: the client's retry with the same key runs again.
    if parts.status.is_server_error() {
        abandon(state, &scope, &key).await;
    } else {
        let stored = StoredResponse {
            status: parts.status.as_u16(),
            headers: REPLAYED_HEADERS
                .iter()
                .filter_map(|name| {
                    let value = parts.headers.get(name)?.to_str().ok()?;
                    Some((name.as_str().to_owned(), value.to_owned()))
                })
                .collect(),
            body: body.clone(),
        };
        if let Err(error) = store.idempotency_complete(&scope, &key, &stored).await {
            tracing::error!(%error, "Cannot store an idempotent answer.");
            abandon(state, &scope, &key).await;
        }
    }
    Response::from_parts(parts, Body::from(body))
}

async fn abandon(state: &AppState, scope: &str, key: &str) {
    if let Err(error) = state.store().idempotency_abandon(scope, key).await {
        tracing::error!(%error, "Cannot release an idempotency key.");
    }
}

fn replay(stored: StoredResponse) -> Response {
    let mut response = Response::new(Body::from(stored.body));
    *response.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    for (name, value) in stored.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response.headers_mut().insert(REPLAYED.clone(), HeaderValue::from_static("true"));
    response
}

/// SHA-256 over method, path with query, and body, each length-prefixed so
/// no two different requests can run together into the same bytes.
fn fingerprint(method: &Method, target: &str, body: &Bytes) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [method.as_str().as_bytes(), target.as_bytes(), body.as_ref()] {
        context.update(&(part.len() as u64).to_be_bytes());
        context.update(part);
    }
    context.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_tell_requests_apart() {
        let post = Method::POST;
        let a = fingerprint(&post, "/v1/x", &Bytes::from_static(b"{}"));
        assert_eq!(a, fingerprint(&post, "/v1/x", &Bytes::from_static(b"{}")));
        assert_ne!(a, fingerprint(&post, "/v1/y", &Bytes::from_static(b"{}")));
        assert_ne!(a, fingerprint(&post, "/v1/x", &Bytes::from_static(b"{ }")));
        // Moving bytes between the target and the body changes the fingerprint.
        assert_ne!(
            fingerprint(&post, "/v1/ab", &Bytes::from_static(b"c")),
            fingerprint(&post, "/v1/a", &Bytes::from_static(b"bc"))
        );
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn replays_carry_the_stored_answer_and_say_so() {
        let response = replay(StoredResponse {
            status: 202,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("bad\nname".into(), "x".into()),
            ],
            body: Bytes::from_static(b"{\"id\":1}"),
        });
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.headers()[&REPLAYED], "true");
        assert_eq!(response.headers().len(), 2);
    }
}
