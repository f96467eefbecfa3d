//! What every handler shares: the manifest, metrics, readiness and egress clients.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use junction_manifest::Manifest;
use junction_store::Store;

use crate::{
    admin::Admin,
    audit::AuditLog,
    egress::Egress,
    ingress::Sources,
    telemetry::{
        Metrics, delivery::DeliveryMetrics, egress::EgressMetrics, ingress::IngressMetrics,
        queue::QueueMetrics,
    },
};

/// Cheap-to-clone handle on the gateway's shared state.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    parts: Parts,
    draining: AtomicBool,
}

/// The parts an [`AppState`] is built from.
pub(crate) struct Parts {
    pub(crate) manifest: Manifest,
    pub(crate) metrics: Metrics,
    pub(crate) egress: Arc<Egress>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) delivery: DeliveryMetrics,
    pub(crate) sources: Sources,
    pub(crate) ingress: IngressMetrics,
    pub(crate) queue: QueueMetrics,
    pub(crate) egress_metrics: EgressMetrics,
    pub(crate) audit: AuditLog,
    pub(crate) admin: Admin,
}

impl AppState {
    pub(crate) fn new(parts: Parts) -> Self {
        Self(Arc::new(Inner { parts, draining: AtomicBool::new(false) }))
    }

    pub(crate) fn sources(&self) -> &Sources {
        &self.0.parts.sources
    }

    pub(crate) fn admin(&self) -> &Admin {
        &self.0.parts.admin
    }

    pub(crate) fn audit(&self) -> &AuditLog {
        &self.0.parts.audit
    }

    pub(crate) fn egress_metrics(&self) -> &EgressMetrics {
        &self.0.parts.egress_metrics
    }

    /// Copies every dependency's breaker state into its gauge.
    pub(crate) fn refresh_breaker_gauges(&self) {
        for (name, state) in self.0.parts.egress.breaker_states() {
            self.0.parts.egress_metrics.breaker(name, state);
        }
    }

    pub(crate) fn queue_metrics(&self) -> &QueueMetrics {
        &self.0.parts.queue
    }

    pub(crate) fn ingress_metrics(&self) -> &IngressMetrics {
        &self.0.parts.ingress
    }

    /// The durable store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.0.parts.store
    }

    /// Metrics of the delivery workers.
    pub fn delivery_metrics(&self) -> &DeliveryMetrics {
        &self.0.parts.delivery
    }

    /// The manifest the server was started with.
    pub fn manifest(&self) -> &Manifest {
        &self.0.parts.manifest
    }

    /// The metrics registry and handles.
    pub fn metrics(&self) -> &Metrics {
        &self.0.parts.metrics
    }

    pub(crate) fn egress(&self) -> &Egress {
        &self.0.parts.egress
    }

    /// Whether shutdown has begun (readiness then fails so load balancers stop sending).
    pub fn is_draining(&self) -> bool {
        self.0.draining.load(Ordering::Acquire)
    }

    pub(crate) fn start_draining(&self) {
        self.0.draining.store(true, Ordering::Release);
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("dependencies", &self.parts.manifest.dependencies.len())
            .field("sources", &self.parts.manifest.sources.len())
            .field("draining", &self.draining)
            .finish_non_exhaustive()
    }
}
