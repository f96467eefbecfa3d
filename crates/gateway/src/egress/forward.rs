//! The `/proxy/{dependency}/{path...}` handler: the call goes through the
//! dependency's bulkhead, breaker, rate limit, per-attempt timeout and
//! retries (with backoff, `Retry-After`, a budget, and an idempotency key on
//! unsafe methods), then the answer streams back with `Junction-Attempts`.

use std::{
    net::SocketAddr,
    time::{Duration, Instant, SystemTime},
};

use axum::{
    Json,
    body::Body,
    extract::{ConnectInfo, Request, State},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, Uri, Version, header, request::Parts};
use hyper::body::Incoming;
use junction_manifest::Fallback;
use junction_policy::{Attempt, retry_after};
use junction_store::{Clock, NewJob, NewRecord, RecordKind, SystemClock};
use serde_json::json;

use super::{
    credentials,
    headers::{add_forwarded, strip_hop_by_hop},
    policies::Policies,
    queued::QueuedMeta,
    target::{TargetError, upstream_uri},
};
use crate::{
    audit::{AuditEntry, AuditKind, redact_json},
    problem::Problem,
    server::{read_body, request_id},
    state::AppState,
    telemetry::egress::Outcome,
    upstream::UpstreamClient,
};

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
    let (Some(dependency), Some(route)) = (state.manifest().dependencies.get(name), state.egress().get(name))
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
    let (client, policies) = (&route.client, &route.policies);
    let metrics = state.egress_metrics();
    let started = Instant::now();

    // The bulkhead is held for the whole call, retries included.
    let _slot = match policies.bulkhead.as_ref().map(|b| b.try_acquire()) {
        Some(Err(_)) => {
            metrics.finished(name, Outcome::Rejected, None, 0, started.elapsed());
            let path = request.uri().path_and_query().map_or_else(String::new, |p| p.to_string());
            state.audit().record(AuditEntry {
                kind: AuditKind::Proxy,
                topic: name.to_owned(),
                method: request.method().to_string(),
                path,
                status: Some(503),
                outcome: "rejected",
                attempts: 0,
                latency_ms: started.elapsed().as_secs_f64() * 1000.0,
                caller: peer.ip().to_string(),
                request_id: request_id(request.headers()),
                idempotency_key: None,
                body: None,
            });
            return Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "concurrency-limit",
                "Too Many Calls In Flight",
                format!("Dependency `{name}` already has `max_concurrency` calls in flight; retry shortly."),
            )
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
            .into_response();
        }
        Some(Ok(slot)) => Some(slot),
        None => None,
    };

    let request_query = request.uri().query().map(str::to_owned);
    let (mut parts, body) = request.into_parts();
    // Retries resend the body, so it is read (within `server.max_body`) before the first attempt.
    let body = match read_body(body, state.manifest().server.max_body.bytes()).await {
        Ok(body) => body,
        Err(problem) => return problem,
    };
    strip_hop_by_hop(&mut parts.headers);
    match &route.host {
        Some(host) => parts.headers.insert(header::HOST, host.clone()),
        None => parts.headers.remove(header::HOST),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    let caller = peer.ip().to_string();
    add_forwarded(&mut parts.headers, Some(&caller));
    let queue = dependency.fallback == Fallback::Queue;
    let callback = parts.headers.remove("junction-callback");
    let retry_safe = add_idempotency_key(&mut parts, policies, queue);
    // What a queued call stores: the request without the injected credentials.
    let without_credentials = queue.then(|| parts.headers.clone());
    if credentials::inject(&mut parts.headers, dependency.auth.as_ref()).is_err() {
        tracing::error!(%name, "The dependency's credential cannot be sent as a header value.");
        return Problem::internal().into_response();
    }
    policies.budget.deposit();
    let method = parts.method.clone();
    let audit = AuditEntry {
        kind: AuditKind::Proxy,
        topic: name.to_owned(),
        method: method.to_string(),
        path: match &request_query {
            Some(q) => format!("{rest}?{q}"),
            None => rest.to_owned(),
        },
        status: None,
        outcome: "",
        attempts: 0,
        latency_ms: 0.0,
        caller,
        request_id: request_id(&parts.headers),
        idempotency_key: parts
            .headers
            .get(&policies.idempotency_header)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: dependency.audit_bodies.then(|| redact_json(&body, &dependency.redact.json)),
    };
    let call = Call { client, policies, name, uri, parts, body: body.clone(), retry_safe };
    let (result, attempts) = call.run(&state).await;
    let elapsed = started.elapsed();
    if let Some(headers) = without_credentials
        && should_queue(&result, policies)
    {
        let path = match request_query {
            Some(q) => format!("{rest}?{q}"),
            None => rest.to_owned(),
        };
        let queued = Queued { name, method: &method, path, headers, body, callback, policies };
        if let Some(response) = enqueue(&state, queued, attempts).await {
            metrics.finished(name, Outcome::Queued, None, attempts, elapsed);
            state.audit().record(AuditEntry {
                status: Some(202),
                outcome: "queued",
                attempts,
                latency_ms: ms(elapsed),
                ..audit
            });
            return response;
        }
    }
    match result {
        Ok(response) => {
            let status = response.status();
            let outcome = Outcome::for_status(status);
            metrics.finished(name, outcome, Some(status), attempts, elapsed);
            state.audit().record(AuditEntry {
                status: Some(status.as_u16()),
                outcome: outcome.label(),
                attempts,
                latency_ms: ms(elapsed),
                ..audit
            });
            let (mut parts, body) = response.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            parts.headers.insert("junction-attempts", HeaderValue::from(attempts));
            Response::from_parts(parts, Body::new(body))
        }
        Err(failure) => {
            metrics.finished(name, failure.outcome(), None, attempts, elapsed);
            state.audit().record(AuditEntry {
                outcome: failure.outcome().label(),
                attempts,
                latency_ms: ms(elapsed),
                ..audit
            });
            let mut response = failure.into_problem(name, policies).into_response();
            response.headers_mut().insert("junction-attempts", HeaderValue::from(attempts));
            response
        }
    }
}

/// Whether the call may be retried: safe methods always; unsafe ones only
/// with an idempotency key, which Junction adds when retries are configured
/// (or the call may be queued) and the caller sent none; the same key goes
/// with every attempt.
fn add_idempotency_key(parts: &mut Parts, policies: &Policies, queue: bool) -> bool {
    let idempotent = matches!(
        parts.method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    );
    if idempotent || parts.headers.contains_key(&policies.idempotency_header) {
        return true;
    }
    if policies.attempts > 1 || queue {
        let key = uuid::Uuid::new_v4().to_string();
        parts
            .headers
            .insert(policies.idempotency_header.clone(), HeaderValue::from_str(&key).expect("a UUID"));
        return true;
    }
    false
}

/// Why a call produced no answer to pass through.
#[derive(Debug)]
enum Failure {
    /// The breaker is open.
    Open(Duration),
    /// The rate limit would make the call wait too long.
    RateLimited(Duration),
    /// The last attempt timed out.
    Timeout,
    /// The last attempt could not reach the upstream.
    Unreachable(String),
}

impl Failure {
    fn outcome(&self) -> Outcome {
        match self {
            Failure::Open(_) => Outcome::BreakerOpen,
            Failure::RateLimited(_) => Outcome::RateLimited,
            Failure::Timeout | Failure::Unreachable(_) => Outcome::Error,
        }
    }

    fn into_problem(self, name: &str, policies: &Policies) -> Problem {
        let seconds = |d: Duration| HeaderValue::from(d.as_secs_f64().ceil().max(1.0) as u64);
        match self {
            Failure::Open(wait) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "breaker-open",
                "Circuit Breaker Open",
                format!("Dependency `{name}` is failing; Junction stopped calling it for now. Retry after the wait."),
            )
            .with_header(header::RETRY_AFTER, seconds(wait)),
            Failure::RateLimited(wait) => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Rate Limited",
                format!("Calls to dependency `{name}` are over its `rate_limit`; retry after the wait."),
            )
            .with_header(header::RETRY_AFTER, seconds(wait)),
            Failure::Timeout => Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                "upstream-timeout",
                "Gateway Timeout",
                format!(
                    "Dependency `{name}` did not answer within its timeout of {}ms.",
                    policies.timeout.as_millis()
                ),
            ),
            Failure::Unreachable(error) => Problem::new(
                StatusCode::BAD_GATEWAY,
                "upstream-unreachable",
                "Bad Gateway",
                format!("Dependency `{name}` could not be reached: {error}."),
            ),
        }
    }
}

/// One proxied call and its attempts.
struct Call<'a> {
    client: &'a UpstreamClient,
    policies: &'a Policies,
    name: &'a str,
    uri: Uri,
    parts: Parts,
    body: Bytes,
    retry_safe: bool,
}

impl Call<'_> {
    fn request(&self) -> hyper::Request<Body> {
        let mut request = hyper::Request::new(Body::from(self.body.clone()));
        *request.method_mut() = self.parts.method.clone();
        *request.uri_mut() = self.uri.clone();
        // hyper picks HTTP/1.1 or HTTP/2 per connection (ALPN); the inbound version is irrelevant.
        *request.version_mut() = Version::HTTP_11;
        *request.headers_mut() = self.parts.headers.clone();
        request
    }

    /// Makes attempts until one may be returned; also returns how many were made.
    async fn run(self, state: &AppState) -> (Result<http::Response<Incoming>, Failure>, u32) {
        let metrics = state.egress_metrics();
        let p = self.policies;
        let mut attempt = 0;
        loop {
            let permit = match p.breaker.acquire() {
                Ok(permit) => permit,
                Err(open) => return (Err(Failure::Open(open.retry_after)), attempt),
            };
            if let Some(limiter) = &p.limiter
                && let Err(limited) = limiter.acquire(p.rate_limit_wait()).await
            {
                drop(permit);
                return (Err(Failure::RateLimited(limited.retry_after)), attempt);
            }
            attempt += 1;
            metrics.attempt(self.name, attempt > 1);
            let (result, outcome) = match tokio::time::timeout(
                p.timeout,
                self.client.inner().request(self.request()),
            )
            .await
            {
                Err(_) => (Err(Failure::Timeout), Attempt::Timeout),
                Ok(Err(error)) => {
                    let connect = error.is_connect();
                    let text = error_chain(&error);
                    tracing::warn!(dependency = %self.name, attempt, error = %text, "Upstream request failed.");
                    (
                        Err(Failure::Unreachable(text)),
                        if connect { Attempt::Connect } else { Attempt::Failed },
                    )
                }
                Ok(Ok(response)) => {
                    let outcome = Attempt::Response {
                        status: response.status().as_u16(),
                        retry_after: retry_after(response.headers(), SystemTime::now()),
                    };
                    (Ok(response), outcome)
                }
            };
            permit.record(outcome.is_failure());
            if attempt >= p.attempts || !self.retry_safe || !p.retry_on.retryable(&outcome) {
                return (result, attempt);
            }
            let mut delay = p.backoff.delay(attempt);
            if let Some(asked) = outcome.retry_after() {
                if asked > p.backoff.max {
                    // Waiting that long would hold the caller; give them the answer instead.
                    return (result, attempt);
                }
                delay = delay.max(asked);
            }
            if !p.budget.withdraw() {
                tracing::info!(dependency = %self.name, "Retry budget spent; not retrying.");
                metrics.budget_exhausted(self.name);
                return (result, attempt);
            }
            // The failed answer's body is dropped, which frees its connection.
            drop(result);
            tokio::time::sleep(delay).await;
        }
    }
}

/// Whether a call that ended this way is stored for later delivery (with
/// `fallback = "queue"`): an open breaker, a rate-limit wait too long, or a
/// retryable failure after the last attempt.
fn should_queue(result: &Result<http::Response<Incoming>, Failure>, policies: &Policies) -> bool {
    match result {
        Err(Failure::Open(_) | Failure::RateLimited(_)) => true,
        Err(Failure::Timeout) => policies.retry_on.retryable(&Attempt::Timeout),
        Err(Failure::Unreachable(_)) => policies.retry_on.retryable(&Attempt::Connect),
        Ok(response) => {
            let attempt = Attempt::Response { status: response.status().as_u16(), retry_after: None };
            policies.retry_on.retryable(&attempt)
        }
    }
}

/// A call to store.
struct Queued<'a> {
    name: &'a str,
    method: &'a Method,
    path: String,
    headers: http::HeaderMap,
    body: Bytes,
    callback: Option<HeaderValue>,
    policies: &'a Policies,
}

/// Stores the call durably and answers 202; `None` if it could not be
/// stored (the caller then gets the failure itself).
async fn enqueue(state: &AppState, call: Queued<'_>, attempts: u32) -> Option<Response> {
    let idempotency_key =
        call.headers.get(&call.policies.idempotency_header).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let meta = QueuedMeta {
        method: call.method.to_string(),
        path: call.path,
        idempotency_key,
        callback: call.callback.and_then(|v| v.to_str().ok().map(str::to_owned)),
    };
    let headers = call
        .headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let first = SystemClock.now().plus(call.policies.backoff.delay(1));
    let record = NewRecord {
        kind: RecordKind::Call,
        topic: call.name.to_owned(),
        dedupe_key: None,
        headers,
        body: call.body,
        meta: serde_json::to_value(&meta).unwrap_or_default(),
        jobs: vec![NewJob { target: call.name.to_owned(), due_at: Some(first) }],
    };
    match state.store().append(record).await {
        Ok(appended) => {
            let id = appended.id.to_string();
            let mut response =
                (StatusCode::ACCEPTED, Json(json!({ "id": id, "status": "queued" }))).into_response();
            let headers = response.headers_mut();
            if let Ok(location) = HeaderValue::from_str(&format!("/v1/deliveries/{id}")) {
                headers.insert(header::LOCATION, location);
            }
            headers.insert("junction-attempts", HeaderValue::from(attempts));
            Some(response)
        }
        Err(error) => {
            tracing::error!(dependency = %call.name, %error, "Cannot queue a call; answering with its failure.");
            None
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
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

/// The error and its causes. Connection errors carry no header values, so
/// this never holds a credential.
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
