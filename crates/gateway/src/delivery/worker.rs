//! The worker runtime: N workers per node, each claiming batches of due jobs
//! and delivering them concurrently.

use std::{sync::Arc, time::Duration};

use junction_store::{AttemptReport, Claimed, Clock, Lease, Store, SystemClock};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{Attempted, Deliverers, Verdict};
use crate::telemetry::delivery::DeliveryMetrics;

/// How the workers run.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Workers on this node.
    pub workers: usize,
    /// Jobs claimed at once by a worker (and delivered concurrently).
    pub batch: usize,
    /// How long a claim holds a job before another node may take it.
    pub lease: Duration,
    /// How often an idle worker looks for due jobs without a wake-up
    /// (scheduled retries become due without one).
    pub poll: Duration,
    /// Names this node in lease owners (`node/worker`).
    pub node: String,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            workers: 4,
            batch: 32,
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(500),
            node: format!("node-{}", uuid::Uuid::new_v4().simple()),
        }
    }
}

/// Running workers. Stop them with [`Workers::shutdown`].
#[derive(Debug)]
pub struct Workers {
    tasks: JoinSet<()>,
    /// No new claims once cancelled.
    stop: CancellationToken,
    /// In-flight deliveries are abandoned (and their leases returned) once cancelled.
    abort: CancellationToken,
}

struct Shared {
    store: Arc<dyn Store>,
    deliverers: Deliverers,
    config: WorkerConfig,
    metrics: DeliveryMetrics,
    stop: CancellationToken,
    abort: CancellationToken,
}

impl Workers {
    /// Starts `config.workers` workers.
    pub fn start(
        store: Arc<dyn Store>,
        deliverers: Deliverers,
        config: WorkerConfig,
        metrics: DeliveryMetrics,
    ) -> Self {
        let (stop, abort) = (CancellationToken::new(), CancellationToken::new());
        let shared =
            Arc::new(Shared { store, deliverers, config, metrics, stop: stop.clone(), abort: abort.clone() });
        let mut tasks = JoinSet::new();
        for n in 0..shared.config.workers.max(1) {
            let owner = format!("{}/{n}", shared.config.node);
            tasks.spawn(run(shared.clone(), owner));
        }
        Self { tasks, stop, abort }
    }

    /// Stops claiming, lets in-flight deliveries finish for up to `deadline`,
    /// then abandons the rest and gives their leases back so another worker
    /// (here or on another node) picks them up at once.
    pub async fn shutdown(mut self, deadline: Duration) {
        self.stop.cancel();
        let abort = self.abort.clone();
        let drained = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(deadline, drained).await.is_err() {
            abort.cancel();
            while self.tasks.join_next().await.is_some() {}
        }
    }
}

async fn run(shared: Arc<Shared>, owner: String) {
    let wakeups = shared.store.wakeups();
    let mut failures = 0u32;
    while !shared.stop.is_cancelled() {
        // Registered before claiming, so an append committed meanwhile is not missed.
        let notified = wakeups.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let claimed = match shared.store.claim(&owner, shared.config.batch, shared.config.lease).await {
            Ok(claimed) => {
                failures = 0;
                claimed
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                tracing::warn!(%owner, %error, "Cannot claim jobs from the store; retrying.");
                let pause = Duration::from_millis(100 * u64::from(failures.min(50)));
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = shared.stop.cancelled() => {}
                }
                continue;
            }
        };
        if claimed.is_empty() {
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(shared.config.poll) => {}
                () = shared.stop.cancelled() => {}
            }
            continue;
        }
        deliver_batch(&shared, claimed).await;
    }
}

async fn deliver_batch(shared: &Arc<Shared>, claimed: Vec<Claimed>) {
    let leases: Vec<Lease> = claimed.iter().map(|c| c.lease.clone()).collect();
    let mut inflight = JoinSet::new();
    for c in claimed {
        inflight.spawn(deliver_one(shared.clone(), c));
    }
    let all = async { while inflight.join_next().await.is_some() {} };
    tokio::select! {
        () = all => {}
        () = shared.abort.cancelled() => {
            inflight.abort_all();
            // Settled jobs are fenced: releasing them changes nothing.
            for lease in &leases {
                if let Err(error) = shared.store.release(lease).await {
                    tracing::warn!(job = %lease.job, %error, "Cannot give a lease back; it will expire instead.");
                }
            }
        }
    }
}

async fn deliver_one(shared: Arc<Shared>, claimed: Claimed) {
    let kind = claimed.record.kind;
    let Some(deliverer) = shared.deliverers.get(kind).cloned() else {
        // Another node may know this kind; look again later rather than dead-letter.
        let report = AttemptReport {
            started_at: SystemClock.now(),
            error: Some(format!("no deliverer for {} records on this node", kind.as_str())),
            ..AttemptReport::default()
        };
        let later = SystemClock.now().plus(Duration::from_secs(60));
        shared.store.retry(&claimed.lease, report, later).await.ok();
        return;
    };
    let started = std::time::Instant::now();
    let attempted = tokio::select! {
        attempted = deliverer.deliver(&claimed) => attempted,
        () = keep_alive(&shared, &claimed.lease) => return,
    };
    let outcome = settle(&shared, &claimed.lease, attempted).await;
    shared.metrics.record(kind, &claimed.record.topic, outcome, started.elapsed());
}

/// Extends the lease every third of its length while a delivery runs.
/// Returns only if the lease is lost, which abandons the delivery.
async fn keep_alive(shared: &Shared, lease: &Lease) {
    let every = shared.config.lease / 3;
    loop {
        tokio::time::sleep(every).await;
        match shared.store.extend(lease, shared.config.lease).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(job = %lease.job, "Lost a delivery's lease; another worker has the job.");
                return;
            }
            Err(error) => tracing::warn!(job = %lease.job, %error, "Cannot extend a lease; will try again."),
        }
    }
}

/// How an attempt ended, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Delivered,
    Retried,
    DeadLettered,
    LeaseLost,
    StoreFailed,
}

async fn settle(shared: &Shared, lease: &Lease, attempted: Attempted) -> Outcome {
    let Attempted { report, verdict } = attempted;
    let (result, outcome) = match verdict {
        Verdict::Delivered => (shared.store.complete(lease, report).await, Outcome::Delivered),
        Verdict::RetryAt(at) => (shared.store.retry(lease, report, at).await, Outcome::Retried),
        Verdict::DeadLetter => (shared.store.dead_letter(lease, report).await, Outcome::DeadLettered),
    };
    match result {
        Ok(true) => {
            if outcome == Outcome::DeadLettered {
                tracing::warn!(job = %lease.job, "A delivery was dead-lettered.");
            }
            outcome
        }
        Ok(false) => {
            tracing::warn!(job = %lease.job, "A delivery finished after its lease was lost; not recorded.");
            Outcome::LeaseLost
        }
        Err(error) => {
            tracing::error!(job = %lease.job, %error, "Cannot record a delivery attempt; the job will be retried.");
            Outcome::StoreFailed
        }
    }
}
