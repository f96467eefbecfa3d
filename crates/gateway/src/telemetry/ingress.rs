//! Inbound webhook metrics: received, rejected by reason, accepted and
//! duplicates, per source.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family},
    registry::Registry,
};

/// Labels naming a source.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct SourceLabels {
    source: String,
}

/// Labels of a rejection.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RejectionLabels {
    source: String,
    reason: &'static str,
}

/// Counters of `POST /webhooks/{source}`.
#[derive(Debug, Clone)]
pub struct IngressMetrics {
    received: Family<SourceLabels, Counter>,
    rejected: Family<RejectionLabels, Counter>,
    accepted: Family<SourceLabels, Counter>,
    duplicates: Family<SourceLabels, Counter>,
}

impl IngressMetrics {
    /// Registers the ingress metrics.
    pub fn register(registry: &mut Registry) -> Self {
        let this = Self {
            received: Family::default(),
            rejected: Family::default(),
            accepted: Family::default(),
            duplicates: Family::default(),
        };
        registry.register(
            "webhooks_received",
            "Webhooks received, before verification",
            this.received.clone(),
        );
        registry.register("webhooks_rejected", "Webhooks refused, by reason", this.rejected.clone());
        registry.register(
            "webhooks_accepted",
            "Webhooks verified and committed (duplicates included)",
            this.accepted.clone(),
        );
        registry.register(
            "webhooks_duplicates",
            "Webhooks that repeated an earlier delivery",
            this.duplicates.clone(),
        );
        this
    }

    pub(crate) fn received(&self, source: &str) {
        self.received.get_or_create(&SourceLabels { source: source.to_owned() }).inc();
    }

    pub(crate) fn rejected(&self, source: &str, reason: &'static str) {
        tracing::info!(%source, reason, "Rejected a webhook.");
        self.rejected.get_or_create(&RejectionLabels { source: source.to_owned(), reason }).inc();
    }

    pub(crate) fn accepted(&self, source: &str, duplicate: bool) {
        let labels = SourceLabels { source: source.to_owned() };
        self.accepted.get_or_create(&labels).inc();
        if duplicate {
            self.duplicates.get_or_create(&labels).inc();
        }
    }
}
