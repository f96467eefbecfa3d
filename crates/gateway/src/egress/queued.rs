//! Store-and-forward: calls queued with `fallback = "queue"` are delivered
//! later from the store, through the same breaker and rate limit, with the
//! same idempotency key on every attempt, backing off while the breaker is
//! open, and dead-lettered after `[dependencies.X.queue] max_age` or
//! `max_attempts`. Credentials are added at delivery time; the stored call
//! never holds them.

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use axum::body::Body;
use http::{HeaderName, HeaderValue, Method, Version};
use junction_manifest::{Dependency, Manifest};
use junction_policy::{Attempt, Backoff, retry_after};
use junction_store::{AttemptReport, Claimed, Clock, SystemClock, Timestamp};
use serde_json::json;

use super::{Egress, credentials, target::upstream_uri};
use crate::{
    delivery::{Attempted, Deliver, Verdict},
    upstream::UpstreamClient,
};

/// How much of an answer is kept in the attempt log.
const EXCERPT_BYTES: usize = 512;

/// What a queued call needs besides its stored request.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct QueuedMeta {
    pub(crate) method: String,
    /// Path after the dependency name, with the query.
    pub(crate) path: String,
    pub(crate) idempotency_key: Option<String>,
    /// `Junction-Callback`: told the final outcome.
    pub(crate) callback: Option<String>,
}

/// Delivers `call` records (queued egress calls).
#[derive(Debug)]
pub(crate) struct QueuedCalls {
    egress: Arc<Egress>,
    dependencies: HashMap<String, Dependency>,
    callbacks: UpstreamClient,
}

impl QueuedCalls {
    pub(crate) fn new(egress: Arc<Egress>, manifest: &Manifest) -> Result<Arc<Self>, String> {
        let dependencies = manifest.dependencies.iter().map(|(n, d)| (n.to_string(), d.clone())).collect();
        Ok(Arc::new(Self { egress, dependencies, callbacks: UpstreamClient::new(None)? }))
    }

    fn verdict(&self, dep: &Dependency, claimed: &Claimed, attempt: &Attempt, now: Timestamp) -> Verdict {
        let policies = self.egress.get(&claimed.record.topic).map(|r| &r.policies);
        let retryable = policies.is_some_and(|p| p.retry_on.retryable(attempt));
        let success = matches!(attempt, Attempt::Response { status, .. } if *status < 400);
        if success {
            return Verdict::Delivered;
        }
        let age = Duration::from_millis(
            u64::try_from(now.millis() - claimed.record.created_at.millis()).unwrap_or(0),
        );
        if !retryable || claimed.lease.attempt >= dep.queue.max_attempts || age >= dep.queue.max_age.get() {
            return Verdict::DeadLetter;
        }
        let mut delay = queue_backoff(dep, policies.map(|p| p.backoff)).delay(claimed.lease.attempt);
        if let Some(asked) = attempt.retry_after() {
            delay = delay.max(asked);
        }
        Verdict::RetryAt(now.plus(delay))
    }
}

/// The backoff between deliveries of a queued call. It starts like the
/// in-request retries but may grow past `retry.max_backoff` (meant to keep a
/// caller waiting briefly) up to twice `max_age / max_attempts`, so the
/// attempts spread over the whole `max_age` instead of being spent in the
/// first minutes of an outage.
fn queue_backoff(dep: &Dependency, request_backoff: Option<Backoff>) -> Backoff {
    let base = request_backoff.map_or(Duration::from_secs(1), |b| b.base).max(Duration::from_millis(100));
    let spread = dep.queue.max_age.get() / dep.queue.max_attempts.max(1) * 2;
    let max = request_backoff.map_or(spread, |b| b.max.max(spread));
    Backoff { base, max }
}

impl QueuedCalls {
    /// Tells the caller's `Junction-Callback` the final outcome (one attempt; logged on failure).
    async fn call_back(&self, url: &str, claimed: &Claimed, verdict: &Verdict, status: Option<u16>) {
        let outcome = if *verdict == Verdict::Delivered { "delivered" } else { "dead" };
        let body = json!({
            "id": claimed.record.id,
            "status": outcome,
            "response_status": status,
            "attempts": claimed.lease.attempt,
        });
        let request = http::Request::post(url)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()));
        let Ok(request) = request else { return };
        match tokio::time::timeout(Duration::from_secs(5), self.callbacks.inner().request(request)).await {
            Ok(Ok(response)) if response.status().is_success() => {}
            _ => {
                tracing::warn!(id = %claimed.record.id, "The Junction-Callback of a queued call did not accept the outcome.")
            }
        }
    }
}

#[async_trait]
impl Deliver for QueuedCalls {
    async fn deliver(&self, claimed: &Claimed) -> Attempted {
        let started_at = SystemClock.now();
        let started = std::time::Instant::now();
        let report = |status: Option<u16>, error: Option<String>, excerpt: Option<String>| AttemptReport {
            started_at,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            status,
            error,
            response_excerpt: excerpt,
        };
        let name = &claimed.record.topic;
        let (Some(dep), Some(route)) = (self.dependencies.get(name), self.egress.get(name)) else {
            let error = format!("dependency `{name}` is no longer in the manifest");
            return Attempted { report: report(None, Some(error), None), verdict: Verdict::DeadLetter };
        };
        let meta: QueuedMeta = match serde_json::from_value(claimed.record.meta.clone()) {
            Ok(meta) => meta,
            Err(e) => {
                let error = format!("the stored call is unreadable: {e}");
                return Attempted { report: report(None, Some(error), None), verdict: Verdict::DeadLetter };
            }
        };
        let (client, policies) = (&route.client, &route.policies);
        // While the breaker is open, wait it out without calling.
        let permit = match policies.breaker.acquire() {
            Ok(permit) => permit,
            Err(open) => {
                let error = Some("the dependency's circuit breaker is open".to_owned());
                let verdict = Verdict::RetryAt(started_at.plus(open.retry_after));
                return Attempted { report: report(None, error, None), verdict };
            }
        };
        if let Some(limiter) = &policies.limiter
            && let Err(limited) = limiter.acquire(policies.rate_limit_wait()).await
        {
            drop(permit);
            let error = Some("over the dependency's rate limit".to_owned());
            let verdict = Verdict::RetryAt(started_at.plus(limited.retry_after));
            return Attempted { report: report(None, error, None), verdict };
        }
        let request = match build(dep, &meta, claimed) {
            Ok(request) => request,
            Err(error) => {
                return Attempted { report: report(None, Some(error), None), verdict: Verdict::DeadLetter };
            }
        };
        let (attempt, status, excerpt, error) =
            match tokio::time::timeout(policies.timeout, client.inner().request(request)).await {
                Err(_) => (
                    Attempt::Timeout,
                    None,
                    None,
                    Some(format!("no answer within {}ms", policies.timeout.as_millis())),
                ),
                Ok(Err(e)) => {
                    let attempt = if e.is_connect() { Attempt::Connect } else { Attempt::Failed };
                    (attempt, None, None, Some(format!("cannot reach the dependency: {e}")))
                }
                Ok(Ok(response)) => {
                    let status = response.status().as_u16();
                    let asked = retry_after(response.headers(), std::time::SystemTime::now());
                    let excerpt = crate::upstream::excerpt(response.into_body(), EXCERPT_BYTES).await;
                    let error = (status >= 400).then(|| format!("the dependency answered {status}"));
                    (Attempt::Response { status, retry_after: asked }, Some(status), excerpt, error)
                }
            };
        permit.record(attempt.is_failure());
        let verdict = self.verdict(dep, claimed, &attempt, SystemClock.now());
        if !matches!(verdict, Verdict::RetryAt(_))
            && let Some(url) = &meta.callback
        {
            self.call_back(url, claimed, &verdict, status).await;
        }
        Attempted { report: report(status, error, excerpt), verdict }
    }
}

fn build(dep: &Dependency, meta: &QueuedMeta, claimed: &Claimed) -> Result<http::Request<Body>, String> {
    let (path, query) = match meta.path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (meta.path.as_str(), None),
    };
    let uri =
        upstream_uri(&dep.base_url, path, query).map_err(|_| "the stored path is not valid".to_owned())?;
    let method = Method::from_bytes(meta.method.as_bytes())
        .map_err(|_| "the stored method is not valid".to_owned())?;
    let mut request = http::Request::new(Body::from(claimed.record.body.clone()));
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = Version::HTTP_11;
    let headers = request.headers_mut();
    for (name, value) in &claimed.record.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value))
        {
            headers.append(name, value);
        }
    }
    credentials::inject(headers, dep.auth.as_ref())
        .map_err(|_| "the credential cannot be sent as a header".to_owned())?;
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(toml: &str) -> Dependency {
        let text = format!("[dependencies.d]\nbase_url = \"http://x\"\nfallback = \"queue\"\n{toml}");
        junction_manifest::parse("t.toml", &text, &junction_manifest::MapEnv::default()).unwrap().dependencies
            ["d"]
            .clone()
    }

    #[test]
    fn queued_delays_spread_over_max_age() {
        // The defaults: 72h over 50 attempts; in-request retries cap at 10s.
        let d = dep("");
        let b = queue_backoff(
            &d,
            Some(Backoff { base: Duration::from_millis(100), max: Duration::from_secs(10) }),
        );
        assert_eq!(b.max, Duration::from_secs(72 * 3600 / 50 * 2));
        let total_ceiling: Duration = (1..50).map(|n| b.ceiling(n)).sum();
        assert!(
            total_ceiling >= Duration::from_secs(72 * 3600),
            "50 attempts can span max_age: {total_ceiling:?}"
        );
        // A short max_age keeps delays short, but never below the request backoff's cap.
        let d = dep("[dependencies.d.queue]\nmax_age = \"1m\"\nmax_attempts = 60\n");
        let b = queue_backoff(
            &d,
            Some(Backoff { base: Duration::from_millis(100), max: Duration::from_secs(10) }),
        );
        assert_eq!(b.max, Duration::from_secs(10));
    }
}
