//! The delivery worker runtime against a real SQLite store: every job
//! delivered once, wake-ups, retries, dead letters, lease keep-alive, and
//! leases given back on shutdown.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use bytes::Bytes;
use junction_gateway::{
    delivery::{Attempted, Deliver, Deliverers, Verdict, WorkerConfig, Workers},
    telemetry::delivery::DeliveryMetrics,
};
use junction_store::{
    AttemptReport, Claimed, Clock, JobId, JobState, NewJob, NewRecord, RecordId, RecordKind, RecordStatus,
    Store, SystemClock, conformance::Scratch, sqlite::SqliteStore,
};
use prometheus_client::registry::Registry;

/// A store in a directory of its own, removed when the guard drops.
fn store(tag: &str) -> (Arc<dyn Store>, Scratch) {
    let scratch = Scratch::new(&format!("workers-{tag}"));
    let store = SqliteStore::open(&scratch.path().join("junction.db"), Arc::new(SystemClock)).unwrap();
    (Arc::new(store), scratch)
}

fn call() -> NewRecord {
    NewRecord {
        kind: RecordKind::Call,
        topic: "stripe".into(),
        dedupe_key: None,
        headers: vec![],
        body: Bytes::from_static(b"{}"),
        meta: serde_json::Value::Null,
        jobs: vec![NewJob { target: "https://api.stripe.com/v1/charges".into(), due_at: None }],
    }
}

fn config(poll: Duration, lease: Duration) -> WorkerConfig {
    WorkerConfig { workers: 2, batch: 8, lease, poll, node: "test".into() }
}

fn start(store: &Arc<dyn Store>, deliver: Arc<dyn Deliver>, config: WorkerConfig) -> Workers {
    let deliverers = Deliverers::default().with(RecordKind::Call, deliver);
    Workers::start(store.clone(), deliverers, config, DeliveryMetrics::register(&mut Registry::default()))
}

/// Delivers according to a script per record: the verdicts of its attempts in order.
#[derive(Default)]
struct Scripted {
    calls: Mutex<HashMap<JobId, usize>>,
    script: Mutex<HashMap<RecordId, Vec<Verdict>>>,
    delay: Duration,
}

#[async_trait]
impl Deliver for Scripted {
    async fn deliver(&self, claimed: &Claimed) -> Attempted {
        tokio::time::sleep(self.delay).await;
        *self.calls.lock().unwrap().entry(claimed.job.id).or_default() += 1;
        let verdict = self
            .script
            .lock()
            .unwrap()
            .get_mut(&claimed.record.id)
            .and_then(|v| (!v.is_empty()).then(|| v.remove(0)))
            .unwrap_or(Verdict::Delivered);
        let status = if verdict == Verdict::Delivered { 200 } else { 503 };
        let report = AttemptReport {
            started_at: SystemClock.now(),
            duration_ms: 1,
            status: Some(status),
            error: (status != 200).then(|| "upstream answered 503".to_owned()),
            response_excerpt: None,
        };
        Attempted { report, verdict }
    }
}

impl Scripted {
    fn calls(&self) -> usize {
        self.calls.lock().unwrap().values().sum()
    }
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn status(store: &Arc<dyn Store>, id: RecordId) -> RecordStatus {
    store.record(id).await.unwrap().unwrap().status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_job_is_delivered_once() {
    let (store, _scratch) = store("once");
    let mut ids = Vec::new();
    for _ in 0..200 {
        ids.push(store.append(call()).await.unwrap().id);
    }
    let deliver = Arc::new(Scripted::default());
    let workers = start(&store, deliver.clone(), config(Duration::from_millis(50), Duration::from_secs(30)));
    until("all delivered", async || deliver.calls() == 200).await;
    workers.shutdown(Duration::from_secs(5)).await;
    assert!(deliver.calls.lock().unwrap().values().all(|&n| n == 1));
    for id in ids {
        assert_eq!(status(&store, id).await, RecordStatus::Delivered);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_work_wakes_idle_workers_without_waiting_for_the_poll() {
    let (store, _scratch) = store("wake");
    let deliver = Arc::new(Scripted::default());
    // A poll interval far longer than the test: only a wake-up can deliver in time.
    let workers = start(&store, deliver.clone(), config(Duration::from_secs(3600), Duration::from_secs(30)));
    for n in 1..=3 {
        let id = store.append(call()).await.unwrap().id;
        until("the new job is delivered", async || status(&store, id).await == RecordStatus::Delivered).await;
        assert_eq!(deliver.calls(), n);
    }
    workers.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_are_scheduled_and_dead_letters_recorded() {
    let (store, _scratch) = store("retry");
    let retried = store.append(call()).await.unwrap().id;
    let dead = store.append(call()).await.unwrap().id;
    let deliver = Arc::new(Scripted::default());
    let soon = SystemClock.now().plus(Duration::from_millis(200));
    deliver.script.lock().unwrap().insert(retried, vec![Verdict::RetryAt(soon)]);
    deliver.script.lock().unwrap().insert(dead, vec![Verdict::DeadLetter]);
    let workers = start(&store, deliver.clone(), config(Duration::from_millis(20), Duration::from_secs(30)));
    until("the retry is delivered", async || status(&store, retried).await == RecordStatus::Delivered).await;
    until("the other is dead", async || status(&store, dead).await == RecordStatus::Dead).await;
    workers.shutdown(Duration::from_secs(5)).await;

    let job = store.jobs(retried).await.unwrap().remove(0);
    let attempts = store.attempts(job.id).await.unwrap();
    let statuses: Vec<_> = attempts.iter().map(|a| a.report.status).collect();
    assert_eq!(statuses, [Some(503), Some(200)]);
    assert!(attempts[1].report.started_at >= soon, "the retry waited for its time");
    let job = store.jobs(dead).await.unwrap().remove(0);
    assert_eq!(job.state, JobState::Dead);
    assert_eq!(job.last_error.as_deref(), Some("upstream answered 503"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_deliveries_keep_their_lease() {
    let (store, _scratch) = store("keepalive");
    let id = store.append(call()).await.unwrap().id;
    // The lease is extended every third of it; a loaded CI machine must not
    // delay an extension past the lease, so keep it well above scheduling noise.
    let slow = Arc::new(Scripted { delay: Duration::from_millis(3000), ..Scripted::default() });
    let lease = Duration::from_millis(1200);
    let a = start(
        &store,
        slow.clone(),
        WorkerConfig { node: "a".into(), ..config(Duration::from_millis(20), lease) },
    );
    until("node a holds the job", async || store.jobs(id).await.unwrap()[0].state == JobState::Leased).await;
    // A second node polling all along must not take the job while a extends its lease.
    let other = Arc::new(Scripted::default());
    let b = start(
        &store,
        other.clone(),
        WorkerConfig { node: "b".into(), ..config(Duration::from_millis(20), lease) },
    );
    until("delivered", async || status(&store, id).await == RecordStatus::Delivered).await;
    a.shutdown(Duration::from_secs(5)).await;
    b.shutdown(Duration::from_secs(5)).await;
    assert_eq!((slow.calls(), other.calls()), (1, 0));
}

/// Never finishes: only shutdown ends it.
struct Stuck(Mutex<usize>);

#[async_trait]
impl Deliver for Stuck {
    async fn deliver(&self, _: &Claimed) -> Attempted {
        *self.0.lock().unwrap() += 1;
        std::future::pending().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_gives_unfinished_leases_back() {
    let (store, _scratch) = store("shutdown");
    let id = store.append(call()).await.unwrap().id;
    let stuck = Arc::new(Stuck(Mutex::new(0)));
    let workers = start(&store, stuck.clone(), config(Duration::from_millis(20), Duration::from_secs(60)));
    until("the delivery started", async || *stuck.0.lock().unwrap() == 1).await;
    let started = Instant::now();
    workers.shutdown(Duration::from_millis(200)).await;
    assert!(started.elapsed() < Duration::from_secs(5), "shutdown waited past its deadline");
    let job = store.jobs(id).await.unwrap().remove(0);
    assert_eq!((job.state, job.attempts), (JobState::Ready, 0), "released, not left leased for 60s");
    assert!(job.due_at <= SystemClock.now());
}
