//! `GET /v1/dependencies`: each manifest dependency with its live state —
//! breaker, request and error rate, p50/p99 over the last five minutes,
//! whether its declared SLA is met — and `GET /v1/queues`: the backlog.

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, header};
use junction_manifest::{Criticality, Dependency, Fallback};
use junction_policy::BreakerState;
use junction_store::RecordKind;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    state::AppState,
    telemetry::live::{LiveFigures, WINDOW},
};

/// Every dependency, by name.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DependencyList<'a> {
    data: Vec<DependencyView<'a>>,
}

/// A dependency: what the manifest declares and how it behaves now.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DependencyView<'a> {
    /// Its name in the manifest (the `{dependency}` of `/proxy/{dependency}/...`).
    name: &'a str,
    /// Where calls go.
    base_url: &'a str,
    /// Who to ask about it.
    owner: Option<&'a str>,
    #[schema(value_type = CriticalityView)]
    criticality: Criticality,
    #[schema(value_type = FallbackView)]
    fallback: Fallback,
    breaker: BreakerView,
    live: LiveView,
    sla: SlaView,
    queue: QueueView,
}

/// How much the product depends on it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // Only its schema is used; values are `Criticality`.
pub(crate) enum CriticalityView {
    Critical,
    High,
    Medium,
    Low,
}

/// What happens to a call that cannot be made now.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // Only its schema is used; values are `Fallback`.
pub(crate) enum FallbackView {
    Fail,
    Queue,
}

/// The circuit breaker's state.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BreakerView {
    /// Calls pass.
    Closed,
    /// Calls are refused until the open period ends.
    Open,
    /// One probe call decides.
    HalfOpen,
}

/// The last five minutes.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LiveView {
    /// The window the figures cover, in seconds.
    window_secs: u64,
    /// Calls that ended in the window.
    calls: u64,
    /// Calls per second.
    requests_per_sec: f64,
    /// Failed calls (no answer, 5xx, breaker open, queued) over all; null without calls.
    error_rate: Option<f64>,
    /// Median latency of whole calls, retries included; null without calls.
    p50_ms: Option<f64>,
    /// 99th percentile latency; null without calls.
    p99_ms: Option<f64>,
}

/// The declared SLA and whether the last five minutes meet it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SlaView {
    /// Declared availability as a ratio (0.999 for "99.9%").
    availability: Option<f64>,
    /// Declared p99 latency.
    p99_ms: Option<f64>,
    /// True or false when an SLA is declared and calls were made; null otherwise.
    met: Option<bool>,
}

/// Queued calls of this dependency, as of the last read (every few seconds).
#[derive(Debug, Default, Serialize, ToSchema)]
pub(crate) struct QueueView {
    /// Waiting for an attempt.
    ready: u64,
    /// Being attempted.
    in_flight: u64,
    /// Given up on.
    dead: u64,
}

/// Every queue's backlog.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct QueueList {
    data: Vec<QueueEntry>,
}

/// The jobs of one source's forwards, one dependency's queued calls, or one application's messages.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct QueueEntry {
    /// `event` (inbound forwards), `call` (queued egress calls) or `message` (outbound).
    kind: String,
    /// The source, dependency or application.
    topic: String,
    #[serde(flatten)]
    counts: QueueView,
}

/// Lists the manifest's dependencies with their live state.
#[utoipa::path(
    get, path = "/v1/dependencies", operation_id = "listDependencies", tag = "dependencies",
    responses((status = 200, description = "Every dependency", body = DependencyList<'_>)),
    security(("bearer" = ["read"]))
)]
pub(crate) async fn list(State(state): State<AppState>) -> Response {
    let depths = state.queue_metrics().latest();
    let data: Vec<_> = state
        .manifest()
        .dependencies
        .iter()
        .map(|(name, dependency)| {
            let name = name.as_str();
            let live = state.egress_metrics().live(name).unwrap_or(EMPTY);
            let queue = depths
                .iter()
                .find(|d| d.kind == RecordKind::Call && d.topic == name)
                .map(|d| QueueView { ready: d.ready, in_flight: d.leased, dead: d.dead })
                .unwrap_or_default();
            let breaker =
                state.egress().get(name).map_or(BreakerState::Closed, |r| r.policies.breaker.state());
            view(name, dependency, breaker, live, queue)
        })
        .collect();
    // Sized for the usual answer up front: growing the buffer showed up in profiles.
    let mut body = Vec::with_capacity(768 * data.len() + 16);
    match serde_json::to_writer(&mut body, &DependencyList { data }) {
        Ok(()) => {
            ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "Cannot render the dependency list.");
            crate::problem::Problem::internal().into_response()
        }
    }
}

/// Lists every queue's backlog.
#[utoipa::path(
    get, path = "/v1/queues", operation_id = "listQueues", tag = "dependencies",
    responses((status = 200, description = "Every queue with jobs", body = QueueList)),
    security(("bearer" = ["read"]))
)]
pub(crate) async fn queues(State(state): State<AppState>) -> Response {
    let data = state
        .queue_metrics()
        .latest()
        .iter()
        .map(|d| QueueEntry {
            kind: d.kind.as_str().to_owned(),
            topic: d.topic.clone(),
            counts: QueueView { ready: d.ready, in_flight: d.leased, dead: d.dead },
        })
        .collect();
    Json(QueueList { data }).into_response()
}

const EMPTY: LiveFigures =
    LiveFigures { calls: 0, rate_per_sec: 0.0, error_rate: None, p50_ms: None, p99_ms: None };

fn view<'a>(
    name: &'a str,
    d: &'a Dependency,
    breaker: BreakerState,
    live: LiveFigures,
    queue: QueueView,
) -> DependencyView<'a> {
    let availability = d.sla.as_ref().and_then(|s| s.availability).map(|p| p.ratio());
    let p99_target = d.sla.as_ref().and_then(|s| s.p99).map(|p| p.get().as_secs_f64() * 1000.0);
    DependencyView {
        name,
        base_url: d.base_url.url().as_str(),
        owner: d.owner.as_deref(),
        criticality: d.criticality,
        fallback: d.fallback,
        breaker: match breaker {
            BreakerState::Closed => BreakerView::Closed,
            BreakerState::Open => BreakerView::Open,
            BreakerState::HalfOpen => BreakerView::HalfOpen,
        },
        sla: SlaView { availability, p99_ms: p99_target, met: sla_met(&live, availability, p99_target) },
        live: LiveView {
            window_secs: WINDOW.as_secs(),
            calls: live.calls,
            requests_per_sec: live.rate_per_sec,
            error_rate: live.error_rate,
            p50_ms: live.p50_ms,
            p99_ms: live.p99_ms,
        },
        queue,
    }
}

/// Whether the window meets the declared targets; unknown without a target or without calls.
fn sla_met(live: &LiveFigures, availability: Option<f64>, p99_ms: Option<f64>) -> Option<bool> {
    if (availability.is_none() && p99_ms.is_none()) || live.calls == 0 {
        return None;
    }
    let available = match (availability, live.error_rate) {
        (Some(target), Some(errors)) => 1.0 - errors >= target,
        _ => true,
    };
    let fast = match (p99_ms, live.p99_ms) {
        (Some(target), Some(p99)) => p99 <= target,
        _ => true,
    };
    Some(available && fast)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(calls: u64, error_rate: f64, p99: f64) -> LiveFigures {
        LiveFigures {
            calls,
            rate_per_sec: 1.0,
            error_rate: Some(error_rate),
            p50_ms: Some(p99 / 2.0),
            p99_ms: Some(p99),
        }
    }

    #[test]
    fn sla_is_unknown_without_targets_or_calls() {
        assert_eq!(sla_met(&figures(10, 0.0, 5.0), None, None), None);
        assert_eq!(sla_met(&EMPTY, Some(0.999), None), None);
    }

    #[test]
    fn sla_needs_both_availability_and_latency() {
        assert_eq!(sla_met(&figures(1000, 0.0005, 100.0), Some(0.999), Some(800.0)), Some(true));
        assert_eq!(sla_met(&figures(1000, 0.002, 100.0), Some(0.999), Some(800.0)), Some(false));
        assert_eq!(sla_met(&figures(1000, 0.0, 900.0), Some(0.999), Some(800.0)), Some(false));
        assert_eq!(sla_met(&figures(1000, 0.5, 900.0), None, Some(1000.0)), Some(true));
    }
}
