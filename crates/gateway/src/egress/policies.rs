//! Each dependency's policies, built once from its manifest entry.

use std::{sync::Arc, time::Duration};

use http::HeaderName;
use junction_manifest::{Dependency, RetryOn as ManifestRetryOn};
use junction_policy::{Backoff, Breaker, BreakerConfig, Bulkhead, RateLimiter, RetryBudget, RetryOn};

/// Longest a call waits for its rate-limit turn before it is refused (or queued).
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(1);

/// What every call to one dependency goes through.
#[derive(Debug)]
pub(crate) struct Policies {
    pub(crate) attempts: u32,
    pub(crate) backoff: Backoff,
    pub(crate) retry_on: RetryOn,
    pub(crate) budget: RetryBudget,
    pub(crate) breaker: Arc<Breaker>,
    pub(crate) limiter: Option<RateLimiter>,
    pub(crate) bulkhead: Option<Bulkhead>,
    pub(crate) idempotency_header: HeaderName,
    pub(crate) timeout: Duration,
}

impl Policies {
    pub(crate) fn new(dep: &Dependency) -> Self {
        let mut retry_on = RetryOn::default();
        for on in &dep.retry.on {
            match on {
                ManifestRetryOn::Connect => retry_on.connect = true,
                ManifestRetryOn::Timeout => retry_on.timeout = true,
                ManifestRetryOn::ServerError => retry_on.server_errors = true,
                ManifestRetryOn::Status(code) => retry_on.statuses.push(*code),
            }
        }
        Self {
            attempts: dep.retry.attempts.max(1),
            backoff: Backoff { base: dep.retry.backoff.get(), max: dep.retry.max_backoff.get() },
            retry_on,
            budget: RetryBudget::new(dep.retry.budget, 1),
            breaker: Breaker::new(BreakerConfig {
                failure_rate: dep.breaker.failure_rate,
                min_calls: dep.breaker.min_calls,
                window: dep.breaker.window.get(),
                open_for: dep.breaker.open_for.get(),
            }),
            limiter: dep.rate_limit.map(|r| RateLimiter::new(r.requests, r.per.get())),
            bulkhead: dep.max_concurrency.map(Bulkhead::new),
            idempotency_header: HeaderName::from_bytes(dep.idempotency_header.as_str().as_bytes())
                .expect("the manifest checked the header name"),
            timeout: dep.timeout.get(),
        }
    }

    /// How long a call may wait for its rate-limit turn.
    pub(crate) fn rate_limit_wait(&self) -> Duration {
        MAX_RATE_LIMIT_WAIT.min(self.timeout)
    }
}
