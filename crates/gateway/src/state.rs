//! What every handler shares: the manifest, metrics, readiness and egress clients.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use junction_manifest::Manifest;

use crate::{egress::Egress, telemetry::Metrics};

/// Cheap-to-clone handle on the gateway's shared state.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    manifest: Manifest,
    metrics: Metrics,
    egress: Egress,
    draining: AtomicBool,
}

impl AppState {
    pub(crate) fn new(manifest: Manifest, metrics: Metrics, egress: Egress) -> Self {
        Self(Arc::new(Inner { manifest, metrics, egress, draining: AtomicBool::new(false) }))
    }

    /// The manifest the server was started with.
    pub fn manifest(&self) -> &Manifest {
        &self.0.manifest
    }

    /// The metrics registry and handles.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    pub(crate) fn egress(&self) -> &Egress {
        &self.0.egress
    }

    /// Whether shutdown has begun (readiness then fails so load balancers stop sending).
    pub fn is_draining(&self) -> bool {
        self.0.draining.load(Ordering::Acquire)
    }

    pub(crate) fn start_draining(&self) {
        self.0.draining.store(true, Ordering::Release);
    }
}
