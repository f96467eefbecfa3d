//! Egress metrics per dependency: calls by outcome and status class,
//! attempts and retries, latency, breaker state, refusals.

use std::{sync::Arc, time::Duration};

use http::StatusCode;
use junction_policy::BreakerState;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

use super::live::{LiveFigures, LiveStats};

/// How a proxied call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A 1xx–3xx answer.
    Success,
    /// A 4xx answer (429 included).
    ClientError,
    /// A 5xx answer.
    ServerError,
    /// No answer: timeout or connection failure.
    Error,
    /// Refused without calling: the breaker was open.
    BreakerOpen,
    /// Refused without calling: over the rate limit.
    RateLimited,
    /// Refused without calling: `max_concurrency` reached.
    Rejected,
    /// Stored for later delivery (`fallback = "queue"`), answered 202.
    Queued,
}

impl Outcome {
    pub(crate) fn for_status(status: StatusCode) -> Self {
        match status.as_u16() {
            400..=499 => Outcome::ClientError,
            500..=599 => Outcome::ServerError,
            _ => Outcome::Success,
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::ClientError => "client_error",
            Outcome::ServerError => "server_error",
            Outcome::Error => "error",
            Outcome::BreakerOpen => "breaker_open",
            Outcome::RateLimited => "rate_limited",
            Outcome::Rejected => "rejected",
            Outcome::Queued => "queued",
        }
    }
}

/// Labels naming a dependency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct DependencyLabels {
    dependency: String,
}

/// Labels of a finished call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct CallLabels {
    dependency: String,
    outcome: &'static str,
    status_class: &'static str,
}

/// Per-dependency egress metrics.
#[derive(Debug, Clone)]
pub struct EgressMetrics {
    calls: Family<CallLabels, Counter>,
    attempts: Family<DependencyLabels, Counter>,
    retries: Family<DependencyLabels, Counter>,
    budget_exhausted: Family<DependencyLabels, Counter>,
    duration: Family<DependencyLabels, Histogram>,
    breaker: Family<DependencyLabels, Gauge>,
    live: Arc<LiveStats>,
}

impl EgressMetrics {
    /// Registers the egress metrics of these dependencies.
    pub fn register<'a>(registry: &mut Registry, dependencies: impl IntoIterator<Item = &'a str>) -> Self {
        let this = Self {
            calls: Family::default(),
            attempts: Family::default(),
            retries: Family::default(),
            budget_exhausted: Family::default(),
            duration: Family::new_with_constructor(|| {
                Histogram::new([
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                ])
            }),
            breaker: Family::default(),
            live: Arc::new(LiveStats::new(dependencies)),
        };
        registry.register(
            "egress_calls",
            "Proxied calls by dependency, outcome and status class",
            this.calls.clone(),
        );
        registry.register(
            "egress_attempts",
            "Attempts made to dependencies, retries included",
            this.attempts.clone(),
        );
        registry.register("egress_retries", "Retries made to dependencies", this.retries.clone());
        registry.register(
            "egress_retry_budget_exhausted",
            "Retries skipped because the dependency's retry budget was spent",
            this.budget_exhausted.clone(),
        );
        registry.register(
            "egress_call_duration_seconds",
            "Whole proxied calls, retries included",
            this.duration.clone(),
        );
        registry.register(
            "egress_breaker_state",
            "Circuit breaker state by dependency: 0 closed, 1 half-open, 2 open",
            this.breaker.clone(),
        );
        this
    }

    fn labels(dependency: &str) -> DependencyLabels {
        DependencyLabels { dependency: dependency.to_owned() }
    }

    pub(crate) fn attempt(&self, dependency: &str, retry: bool) {
        self.attempts.get_or_create(&Self::labels(dependency)).inc();
        if retry {
            self.retries.get_or_create(&Self::labels(dependency)).inc();
        }
    }

    pub(crate) fn budget_exhausted(&self, dependency: &str) {
        self.budget_exhausted.get_or_create(&Self::labels(dependency)).inc();
    }

    pub(crate) fn finished(
        &self,
        dependency: &str,
        outcome: Outcome,
        status: Option<StatusCode>,
        _attempts: u32,
        took: Duration,
    ) {
        let status_class = match status.map(|s| s.as_u16() / 100) {
            Some(1) => "1xx",
            Some(2) => "2xx",
            Some(3) => "3xx",
            Some(4) => "4xx",
            Some(5) => "5xx",
            _ => "none",
        };
        let labels = CallLabels { dependency: dependency.to_owned(), outcome: outcome.label(), status_class };
        self.calls.get_or_create(&labels).inc();
        self.duration.get_or_create(&Self::labels(dependency)).observe(took.as_secs_f64());
        let failed =
            matches!(outcome, Outcome::ServerError | Outcome::Error | Outcome::BreakerOpen | Outcome::Queued);
        self.live.record(dependency, failed, took);
    }

    /// The last five minutes of `dependency`.
    pub(crate) fn live(&self, dependency: &str) -> Option<LiveFigures> {
        self.live.figures(dependency)
    }

    pub(crate) fn breaker(&self, dependency: &str, state: BreakerState) {
        let value = match state {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
        };
        self.breaker.get_or_create(&Self::labels(dependency)).set(value);
    }
}
