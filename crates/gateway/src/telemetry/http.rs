//! HTTP server metrics and the access log line, recorded by one middleware.

use std::{borrow::Cow, sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request},
    response::Response,
};
use http::Method;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

use crate::state::AppState;

/// Labels of a finished request. `route` is the matched route template, never
/// the raw path, so a scan of random URLs cannot explode the series count.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RequestLabels {
    method: Cow<'static, str>,
    route: Arc<str>,
    status: u16,
}

/// Labels of a latency observation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RouteLabels {
    method: Cow<'static, str>,
    route: Arc<str>,
}

/// Requests, latency and concurrency of the HTTP server.
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    duration: Family<RouteLabels, Histogram>,
    in_flight: Gauge,
}

impl HttpMetrics {
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let duration = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ])
        });
        let in_flight = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from request head to response head",
            duration.clone(),
        );
        registry.register("http_requests_in_flight", "HTTP requests being handled now", in_flight.clone());
        Self { requests, duration, in_flight }
    }
}

/// Counts and times every request handled by `inner` and writes one access
/// log line. The query string and headers are never logged: they may carry
/// credentials.
pub(crate) async fn track<F, Fut>(state: &AppState, request: Request, inner: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let started = Instant::now();
    let method = request.method().clone();
    let route: Arc<str> =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".into(), |p| p.as_str().into());
    // The access line is off at the usual `warn` level: copy what it shows only when it is on.
    let access = tracing::enabled!(tracing::Level::INFO).then(|| {
        (
            truncated(request.uri().path()).to_owned(),
            crate::server::request_id(request.headers()).unwrap_or_default(),
        )
    });
    let metrics = &state.metrics().http;
    metrics.in_flight.inc();
    let response = inner(request).await;
    metrics.in_flight.dec();
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let method_label = method_label(&method);
    metrics
        .requests
        .get_or_create(&RequestLabels { method: method_label.clone(), route: route.clone(), status })
        .inc();
    metrics
        .duration
        .get_or_create(&RouteLabels { method: method_label, route })
        .observe(elapsed.as_secs_f64());
    if let Some((path, request_id)) = access {
        tracing::info!(
            %method,
            path,
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            request_id,
            "Request handled."
        );
    }
    response
}

/// The method as a label, without an allocation for the standard ones.
fn method_label(method: &Method) -> Cow<'static, str> {
    const STANDARD: [&str; 9] =
        ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE"];
    match STANDARD.into_iter().find(|name| *name == method.as_str()) {
        Some(name) => Cow::Borrowed(name),
        None => Cow::Owned(method.as_str().to_owned()),
    }
}

fn truncated(path: &str) -> &str {
    let mut end = path.len().min(256);
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    &path[..end]
}
