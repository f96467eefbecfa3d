//! `POST /webhooks/{source}`: verify → dedupe → commit → answer.

use std::{
    net::SocketAddr,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    Json,
    extract::{ConnectInfo, Path, Request, State},
    response::{IntoResponse, Response},
};
use http::{HeaderMap, StatusCode, header};
use junction_manifest::Scheme;
use junction_signature::{Rejection, Request as Signed};
use junction_store::{Clock, NewJob, NewRecord, RecordKind, SystemClock};
use serde_json::json;

use super::sources::SourceRuntime;
use crate::{
    audit::{AuditEntry, AuditKind},
    problem::Problem,
    server::read_body,
    state::AppState,
};

/// Headers never stored with an event: connection-level fields, and
/// credentials some providers put on the webhook URL.
const NOT_STORED: [&str; 12] = [
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
    "authorization",
    "proxy-authorization",
    "cookie",
];

pub(crate) async fn receive(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let started = Instant::now();
    let metrics = state.ingress_metrics();
    let Some(source) = state.sources().get(&name) else {
        let shown: String = name.chars().take(64).collect();
        return Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-source",
            "Unknown Source",
            format!("No source named `{shown}` is declared in the manifest; add `[sources.{shown}]`."),
        )
        .into_response();
    };
    metrics.received(&name);
    let (parts, body) = request.into_parts();
    let body = match read_body(body, state.manifest().server.max_body.bytes()).await {
        Ok(body) => body,
        Err(problem) => return problem,
    };
    let url = signed_url(source, &parts.headers, parts.uri.path_and_query().map_or("", |p| p.as_str()));
    let request = Signed { headers: &parts.headers, body: &body, url: &url };
    let verified = match source.verifier.verify(&request, unix_now()) {
        Ok(verified) => verified,
        Err(rejection) => {
            metrics.rejected(&name, reason(&rejection));
            // Refusals are audited (accepted events are their own durable record, `/v1/events`).
            state.audit().record(AuditEntry {
                kind: AuditKind::Webhook,
                topic: name.clone(),
                method: parts.method.to_string(),
                path: parts.uri.path().to_owned(),
                status: Some(401),
                outcome: reason(&rejection),
                attempts: 0,
                latency_ms: started.elapsed().as_secs_f64() * 1000.0,
                caller: peer.ip().to_string(),
                request_id: crate::server::request_id(&parts.headers),
                idempotency_key: None,
                body: None,
            });
            return Problem::new(
                StatusCode::UNAUTHORIZED,
                "signature-invalid",
                "Invalid Signature",
                format!("The webhook was not accepted: {rejection}."),
            )
            .into_response();
        }
    };
    if let Some(challenge) = slack_challenge(source, &body) {
        return Json(json!({ "challenge": challenge })).into_response();
    }
    let dedupe_key = verified.delivery_id.unwrap_or_else(|| format!("sha256:{}", sha256_hex(&body)));
    let record = NewRecord {
        kind: RecordKind::Event,
        topic: name.clone(),
        dedupe_key: Some(dedupe_key),
        headers: stored_headers(&parts.headers),
        body,
        meta: json!({ "received_at_ms": unix_now_ms() }),
        jobs: forward_jobs(source),
    };
    match state.store().append(record).await {
        Ok(appended) => {
            metrics.accepted(&name, appended.duplicate);
            Json(json!({ "id": appended.id, "duplicate": appended.duplicate })).into_response()
        }
        Err(error) => {
            tracing::error!(source = %name, %error, "Cannot commit a webhook; answering 503 so the provider retries.");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store-unavailable",
                "Store Unavailable",
                "The webhook could not be stored; it was not accepted. Send it again.",
            )
            .with_header(header::RETRY_AFTER, http::HeaderValue::from_static("5"))
            .into_response()
        }
    }
}

/// A short, stable label for the rejection metric.
fn reason(rejection: &Rejection) -> &'static str {
    match rejection {
        Rejection::MissingHeader(_) => "missing_header",
        Rejection::MalformedHeader { .. } => "malformed_header",
        Rejection::TimestampOutsideTolerance { .. } => "timestamp",
        Rejection::NoMatchingSignature { .. } => "signature_mismatch",
        Rejection::MalformedUrl { .. } => "malformed_url",
        Rejection::MalformedBody { .. } => "malformed_body",
        Rejection::BodyDigestMismatch => "body_digest_mismatch",
        Rejection::UnsignedBody => "unsigned_body",
    }
}

/// One job per forward target, first due after the schedule's first delay.
fn forward_jobs(source: &SourceRuntime) -> Vec<NewJob> {
    let first = source.config.retry_schedule.first().map(|d| d.get()).unwrap_or_default();
    let due_at = (!first.is_zero()).then(|| SystemClock.now().plus(first));
    source.config.forward.iter().map(|url| NewJob { target: url.to_string(), due_at }).collect()
}

/// The URL the provider signed: `public_url` (Junction may sit behind a
/// proxy) with the request's query, or the URL as Junction saw it.
fn signed_url(source: &SourceRuntime, headers: &HeaderMap, path_and_query: &str) -> String {
    let query = path_and_query.split_once('?').map(|(_, q)| q);
    match (&source.config.public_url, query) {
        (Some(public), Some(q)) if public.url().query().is_none() => format!("{public}?{q}"),
        (Some(public), _) => public.to_string(),
        (None, _) => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
            format!("http://{host}{path_and_query}")
        }
    }
}

/// Slack's `url_verification` handshake: answered, not stored.
fn slack_challenge(source: &SourceRuntime, body: &[u8]) -> Option<String> {
    if source.scheme != Scheme::Slack {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    (value.get("type")?.as_str()? == "url_verification")
        .then(|| value.get("challenge")?.as_str().map(str::to_owned))?
}

fn stored_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| !NOT_STORED.contains(&name.as_str()))
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
        .collect()
}

fn sha256_hex(body: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, body);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn unix_now() -> i64 {
    unix_now_ms() / 1000
}

fn unix_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
