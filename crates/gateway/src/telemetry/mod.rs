//! Metrics and their log lines, defined together per concern.

pub mod delivery;
pub mod egress;
pub mod http;
pub mod ingress;
pub(crate) mod live;
mod process;
pub mod queue;

use prometheus_client::{encoding::text::encode, registry::Registry};

pub use self::http::HttpMetrics;

/// Content type of `/metrics` (OpenMetrics text, which Prometheus scrapes).
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every metric Junction exports, in one explicit registry (no globals, so
/// tests can run several gateways in one process).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// HTTP server metrics.
    pub http: HttpMetrics,
}

impl Metrics {
    /// A registry with the HTTP server and process metrics registered.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let http = HttpMetrics::register(registry.sub_registry_with_prefix("junction"));
        registry.register_collector(Box::new(process::ProcessCollector::new()));
        Self { registry, http }
    }

    /// The `junction_`-prefixed registry, for feature modules to add their metrics.
    pub fn registry_mut(&mut self) -> &mut Registry {
        self.registry.sub_registry_with_prefix("junction")
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail.
        encode(&mut out, &self.registry).expect("encoding metrics into a String");
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
