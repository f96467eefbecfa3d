//! Delivery worker metrics: attempts by kind, topic and outcome, and their latency.

use std::time::Duration;

use junction_store::RecordKind;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};

use crate::delivery::worker::Outcome;

/// Labels of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct AttemptLabels {
    kind: &'static str,
    topic: String,
    outcome: &'static str,
}

/// Labels of delivery latency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct KindLabels {
    kind: &'static str,
    topic: String,
}

/// Attempts and latency of deliveries made by the workers.
#[derive(Debug, Clone)]
pub struct DeliveryMetrics {
    attempts: Family<AttemptLabels, Counter>,
    duration: Family<KindLabels, Histogram>,
}

impl DeliveryMetrics {
    /// Registers the delivery metrics.
    pub fn register(registry: &mut Registry) -> Self {
        let attempts = Family::<AttemptLabels, Counter>::default();
        let duration = Family::<KindLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0])
        });
        registry.register(
            "delivery_attempts",
            "Delivery attempts by record kind, topic and outcome",
            attempts.clone(),
        );
        registry.register(
            "delivery_duration_seconds",
            "Time spent on one delivery attempt",
            duration.clone(),
        );
        Self { attempts, duration }
    }

    pub(crate) fn record(&self, kind: RecordKind, topic: &str, outcome: Outcome, took: Duration) {
        let outcome = match outcome {
            Outcome::Delivered => "delivered",
            Outcome::Retried => "retried",
            Outcome::DeadLettered => "dead_lettered",
            Outcome::LeaseLost => "lease_lost",
            Outcome::StoreFailed => "store_failed",
        };
        let kind = kind.as_str();
        self.attempts.get_or_create(&AttemptLabels { kind, topic: topic.to_owned(), outcome }).inc();
        self.duration
            .get_or_create(&KindLabels { kind, topic: topic.to_owned() })
            .observe(took.as_secs_f64());
    }
}
