//! Queue depth gauges (the delivery backlog), refreshed from the store every
//! few seconds rather than at scrape time, since reading the store is async
//! and not free.

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use junction_store::{QueueDepth, Store};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{family::Family, gauge::Gauge},
    registry::Registry,
};
use tokio_util::sync::CancellationToken;

/// How often depths are read.
const EVERY: Duration = Duration::from_secs(5);

/// Labels of one queue count.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct QueueLabels {
    kind: &'static str,
    topic: String,
    state: &'static str,
}

/// Jobs by record kind, topic and state (ready, leased, dead).
#[derive(Debug, Clone)]
pub struct QueueMetrics {
    jobs: Family<QueueLabels, Gauge>,
    /// The last depths read, for the management API (no store query per request).
    latest: Arc<RwLock<Arc<Vec<QueueDepth>>>>,
}

impl QueueMetrics {
    /// Registers the queue gauges.
    pub fn register(registry: &mut Registry) -> Self {
        let jobs = Family::<QueueLabels, Gauge>::default();
        registry.register("queue_jobs", "Delivery jobs by kind, topic and state (the backlog)", jobs.clone());
        Self { jobs, latest: Arc::default() }
    }

    /// The depths read last (at most a few seconds old; empty before the first read).
    pub(crate) fn latest(&self) -> Arc<Vec<QueueDepth>> {
        self.latest.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Refreshes the gauges until `stop` is cancelled.
    pub async fn refresh_periodically(self, store: Arc<dyn Store>, stop: CancellationToken) {
        loop {
            match store.queue_depths().await {
                Ok(depths) => {
                    self.jobs.clear();
                    for d in &depths {
                        let kind = d.kind.as_str();
                        for (state, count) in [("ready", d.ready), ("leased", d.leased), ("dead", d.dead)] {
                            let labels = QueueLabels { kind, topic: d.topic.clone(), state };
                            self.jobs.get_or_create(&labels).set(i64::try_from(count).unwrap_or(i64::MAX));
                        }
                    }
                    *self.latest.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(depths);
                }
                Err(error) => tracing::warn!(%error, "Cannot read queue depths for metrics."),
            }
            tokio::select! {
                () = tokio::time::sleep(EVERY) => {}
                () = stop.cancelled() => return,
            }
        }
    }
}
