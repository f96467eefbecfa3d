//! The conformance suite: one set of behaviours every [`Store`] backend must
//! show, written once and run against SQLite and PostgreSQL by
//! [`conformance_suite!`](crate::conformance_suite).
//!
//! Each check takes a fresh, empty store and the [`ManualClock`] it was built
//! with. Listing and filtering records is checked in `filters`, API keys in
//! `api_keys`, batched appends in `batches`; the rest (appends, the queue, idempotency, retention) here.

mod api_keys;
mod audit;
mod batches;
mod filters;

use std::{collections::HashSet, sync::Arc, time::Duration};

use bytes::Bytes;
use serde_json::json;

use self::audit::audit_entry;
pub use self::{api_keys::*, audit::*, batches::*, filters::*};
use crate::{
    AttemptReport, AuditFilter, IdempotencyBegin, JobState, ManualClock, NewJob, NewRecord, PageRequest,
    RecordKind, RecordStatus, Retention, Store, StoredResponse, Timestamp,
};

/// A fresh store and the clock it reads.
pub struct Harness {
    /// The store under test, empty.
    pub store: Arc<dyn Store>,
    /// Its clock; move it to test schedules and leases.
    pub clock: ManualClock,
    /// Where the store keeps its files, if anywhere; removed after the check
    /// (declared last, so the store is dropped first).
    pub scratch: Option<Scratch>,
}

/// A test's own directory, removed with everything in it when dropped, so
/// test runs do not fill the temp directory.
#[derive(Debug)]
pub struct Scratch(std::path::PathBuf);

impl Scratch {
    /// A new, empty directory under the system temp directory, named after `tag`.
    pub fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("junction-{tag}-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("the temp directory is writable");
        Self(dir)
    }

    /// The directory.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    /// Writes `text` to the file `name` in the directory; its path.
    pub fn write(&self, name: &str, text: &str) -> std::path::PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("the scratch directory is writable");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// The clock every harness starts at: 2026-01-01T00:00:00Z.
pub const START: Timestamp = Timestamp(1_767_225_600_000);

/// Generates one `#[tokio::test]` per check for a backend. `$make` is a
/// function from the check's name (unique, usable as a schema name) to a
/// future yielding a fresh [`Harness`].
#[macro_export]
macro_rules! conformance_suite {
    ($make:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let harness = $make(stringify!($check)).await;
                $crate::conformance::$check(&harness).await;
            }
        )*
    };
    ($make:expr) => {
        $crate::conformance_suite!($make;
            append_and_read, dedupe_keys, claims_each_job_once, future_jobs_wait, expired_leases_are_fenced,
            extending_a_lease, retry_schedules_the_next_attempt, dead_letter, redrive_replays, release_returns_jobs,
            record_status_follows_jobs, pagination_and_filters, idempotency_keys, retention_sweeps, queue_depths,
            appends_wake_workers, concurrent_appends_all_commit, redrive_fences_old_leases,
            filter_until, filter_meta_fields, filter_meta_combined, filter_meta_hostile_names,
            api_keys_create_and_list, api_keys_reject_duplicates, api_keys_revoke,
            api_keys_concurrent_creates, append_many_commits_all, append_many_dedupes,
            append_many_wakes_workers, audit_round_trips, audit_ids_follow_the_order_given,
            audit_filters_and_pages, audit_hostile_text,
        );
    };
}

fn event(topic: &str, targets: &[&str]) -> NewRecord {
    NewRecord {
        kind: RecordKind::Event,
        topic: topic.to_owned(),
        dedupe_key: None,
        headers: vec![("content-type".into(), "application/json".into())],
        body: Bytes::from_static(br#"{"type":"charge.succeeded"}"#),
        meta: json!({ "source": topic }),
        jobs: targets.iter().map(|t| NewJob { target: (*t).to_owned(), due_at: None }).collect(),
    }
}

fn report(h: &Harness, status: Option<u16>, error: Option<&str>) -> AttemptReport {
    AttemptReport {
        started_at: h.clock.now_ts(),
        duration_ms: 12,
        status,
        error: error.map(str::to_owned),
        response_excerpt: status.map(|s| format!("answered {s}")),
    }
}

impl ManualClock {
    fn now_ts(&self) -> Timestamp {
        crate::Clock::now(self)
    }
}

const LEASE: Duration = Duration::from_secs(30);

/// Appended records read back whole, with their jobs.
pub async fn append_and_read(h: &Harness) {
    let appended = h.store.append(event("stripe", &["http://a", "http://b"])).await.unwrap();
    assert!(!appended.duplicate);
    let record = h.store.record(appended.id).await.unwrap().expect("stored");
    assert_eq!(record.kind, RecordKind::Event);
    assert_eq!(record.topic, "stripe");
    assert_eq!(record.body, Bytes::from_static(br#"{"type":"charge.succeeded"}"#));
    assert_eq!(record.headers, vec![("content-type".to_owned(), "application/json".to_owned())]);
    assert_eq!(record.meta, json!({ "source": "stripe" }));
    assert_eq!(record.created_at, START);
    assert_eq!(record.status, RecordStatus::Pending);
    let jobs = h.store.jobs(appended.id).await.unwrap();
    let targets: Vec<_> = jobs.iter().map(|j| j.target.as_str()).collect();
    assert_eq!(targets, ["http://a", "http://b"]);
    assert!(jobs.iter().all(|j| j.state == JobState::Ready && j.attempts == 0 && j.due_at == START));

    let no_jobs = h.store.append(event("stripe", &[])).await.unwrap();
    assert_eq!(h.store.record(no_jobs.id).await.unwrap().unwrap().status, RecordStatus::Stored);
    assert!(h.store.record(crate::RecordId::generate()).await.unwrap().is_none());
}

/// A second record with the same kind, topic and key is a duplicate of the first.
pub async fn dedupe_keys(h: &Harness) {
    let with_key =
        |topic: &str| NewRecord { dedupe_key: Some("evt_1".into()), ..event(topic, &["http://a"]) };
    let first = h.store.append(with_key("stripe")).await.unwrap();
    let again = h.store.append(with_key("stripe")).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.id, first.id);
    assert_eq!(h.store.jobs(first.id).await.unwrap().len(), 1, "a duplicate adds no jobs");
    let other_topic = h.store.append(with_key("github")).await.unwrap();
    assert!(!other_topic.duplicate);
    assert_ne!(other_topic.id, first.id);
}

/// Concurrent claimers never get the same job.
pub async fn claims_each_job_once(h: &Harness) {
    for i in 0..10 {
        h.store.append(event("s", &[&format!("http://t/{i}")])).await.unwrap();
    }
    let (a, b) = tokio::join!(h.store.claim("a", 4, LEASE), h.store.claim("b", 10, LEASE));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 10);
    let ids: HashSet<_> = a.iter().chain(&b).map(|c| c.job.id).collect();
    assert_eq!(ids.len(), 10, "no job claimed twice");
    for c in a.iter().chain(&b) {
        assert_eq!(c.job.state, JobState::Leased);
        assert_eq!(c.lease.attempt, 1);
        assert_eq!(c.lease.expires_at, START.plus(LEASE));
        assert_eq!(c.record.id, c.job.record_id);
    }
    assert!(h.store.claim("c", 10, LEASE).await.unwrap().is_empty());
}

/// A job due later is not claimed until then.
pub async fn future_jobs_wait(h: &Harness) {
    let mut record = event("s", &[]);
    record
        .jobs
        .push(NewJob { target: "http://later".into(), due_at: Some(START.plus(Duration::from_secs(60))) });
    h.store.append(record).await.unwrap();
    assert!(h.store.claim("w", 10, LEASE).await.unwrap().is_empty());
    h.clock.advance(Duration::from_secs(60));
    assert_eq!(h.store.claim("w", 10, LEASE).await.unwrap().len(), 1);
}

/// After a lease expires another worker takes the job, and the old lease can change nothing.
pub async fn expired_leases_are_fenced(h: &Harness) {
    let id = h.store.append(event("s", &["http://a"])).await.unwrap().id;
    let first = h.store.claim("a", 1, LEASE).await.unwrap().remove(0);
    assert!(h.store.claim("b", 1, LEASE).await.unwrap().is_empty(), "held while the lease runs");
    h.clock.advance(LEASE + Duration::from_secs(1));
    let second = h.store.claim("b", 1, LEASE).await.unwrap().remove(0);
    assert_eq!(second.job.id, first.job.id);
    assert_eq!(second.lease.attempt, 2);
    assert!(
        !h.store.complete(&first.lease, report(h, Some(200), None)).await.unwrap(),
        "a lost lease is fenced"
    );
    assert!(!h.store.extend(&first.lease, LEASE).await.unwrap());
    assert!(!h.store.release(&first.lease).await.unwrap());
    assert!(h.store.complete(&second.lease, report(h, Some(200), None)).await.unwrap());
    assert_eq!(h.store.record(id).await.unwrap().unwrap().status, RecordStatus::Delivered);
    let attempts = h.store.attempts(second.job.id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].number, 2);
    assert_eq!(attempts[0].report.status, Some(200));
    assert_eq!(attempts[0].report.response_excerpt.as_deref(), Some("answered 200"));
}

/// Extending a lease keeps other workers away longer.
pub async fn extending_a_lease(h: &Harness) {
    h.store.append(event("s", &["http://a"])).await.unwrap();
    let held = h.store.claim("a", 1, Duration::from_secs(10)).await.unwrap().remove(0);
    h.clock.advance(Duration::from_secs(5));
    assert!(h.store.extend(&held.lease, Duration::from_secs(10)).await.unwrap());
    h.clock.advance(Duration::from_secs(8));
    assert!(h.store.claim("b", 1, LEASE).await.unwrap().is_empty(), "extended to t+15s");
    h.clock.advance(Duration::from_secs(3));
    assert_eq!(h.store.claim("b", 1, LEASE).await.unwrap().len(), 1);
}

/// A failed attempt is logged and the job waits for its next time.
pub async fn retry_schedules_the_next_attempt(h: &Harness) {
    let id = h.store.append(event("s", &["http://a"])).await.unwrap().id;
    let held = h.store.claim("a", 1, LEASE).await.unwrap().remove(0);
    let next = START.plus(Duration::from_secs(5));
    assert!(
        h.store.retry(&held.lease, report(h, Some(503), Some("upstream answered 503")), next).await.unwrap()
    );
    let job = h.store.jobs(id).await.unwrap().remove(0);
    assert_eq!((job.state, job.attempts, job.due_at), (JobState::Ready, 1, next));
    assert_eq!(job.last_error.as_deref(), Some("upstream answered 503"));
    assert_eq!(h.store.record(id).await.unwrap().unwrap().status, RecordStatus::Pending);
    h.clock.advance(Duration::from_secs(4));
    assert!(h.store.claim("a", 1, LEASE).await.unwrap().is_empty());
    h.clock.advance(Duration::from_secs(1));
    let again = h.store.claim("a", 1, LEASE).await.unwrap().remove(0);
    assert_eq!(again.lease.attempt, 2);
    let log = h.store.attempts(job.id).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].number, log[0].report.status), (1, Some(503)));
}

/// Dead-lettered jobs are never claimed again and mark their record dead.
pub async fn dead_letter(h: &Harness) {
    let id = h.store.append(event("s", &["http://a"])).await.unwrap().id;
    let held = h.store.claim("a", 1, LEASE).await.unwrap().remove(0);
    assert!(h.store.dead_letter(&held.lease, report(h, None, Some("connection refused"))).await.unwrap());
    let job = h.store.jobs(id).await.unwrap().remove(0);
    assert_eq!(job.state, JobState::Dead);
    assert_eq!(h.store.record(id).await.unwrap().unwrap().status, RecordStatus::Dead);
    h.clock.advance(Duration::from_secs(3600));
    assert!(h.store.claim("a", 10, LEASE).await.unwrap().is_empty());
}

/// Re-driving a record makes all its jobs due now, with a fresh attempt count.
pub async fn redrive_replays(h: &Harness) {
    let id = h.store.append(event("s", &["http://a", "http://b"])).await.unwrap().id;
    for c in h.store.claim("a", 2, LEASE).await.unwrap() {
        if c.job.target == "http://a" {
            h.store.dead_letter(&c.lease, report(h, Some(500), Some("boom"))).await.unwrap();
        } else {
            h.store.complete(&c.lease, report(h, Some(200), None)).await.unwrap();
        }
    }
    assert_eq!(h.store.record(id).await.unwrap().unwrap().status, RecordStatus::Dead);
    h.clock.advance(Duration::from_secs(10));
    assert_eq!(h.store.redrive(id).await.unwrap(), 2);
    assert_eq!(h.store.record(id).await.unwrap().unwrap().status, RecordStatus::Pending);
    let jobs = h.store.jobs(id).await.unwrap();
    assert!(jobs.iter().all(|j| j.state == JobState::Ready && j.attempts == 0 && j.last_error.is_none()));
    let claimed = h.store.claim("a", 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 2);
    for c in &claimed {
        assert_eq!(c.lease.attempt, 1);
        assert!(h.store.complete(&c.lease, report(h, Some(200), None)).await.unwrap());
    }
    assert_eq!(h.store.record(id).await.unwrap().unwrap().status, RecordStatus::Delivered);
    let a = jobs.iter().find(|j| j.target == "http://a").unwrap();
    let numbers: Vec<_> = h.store.attempts(a.id).await.unwrap().iter().map(|a| a.number).collect();
    assert_eq!(numbers, [1, 1], "the replay's attempts are logged after the first run's");
    assert_eq!(h.store.redrive(crate::RecordId::generate()).await.unwrap(), 0);
}

/// A released job is due at once and its claim is not counted.
pub async fn release_returns_jobs(h: &Harness) {
    let id = h.store.append(event("s", &["http://a"])).await.unwrap().id;
    let held = h.store.claim("a", 1, LEASE).await.unwrap().remove(0);
    assert!(h.store.release(&held.lease).await.unwrap());
    let job = h.store.jobs(id).await.unwrap().remove(0);
    assert_eq!((job.state, job.attempts), (JobState::Ready, 0));
    assert!(h.store.attempts(job.id).await.unwrap().is_empty());
    let again = h.store.claim("b", 1, LEASE).await.unwrap().remove(0);
    assert_eq!(again.lease.attempt, 1);
}

/// A record is pending while any job is, dead if any died, else delivered.
pub async fn record_status_follows_jobs(h: &Harness) {
    let id = h.store.append(event("s", &["http://a", "http://b"])).await.unwrap().id;
    let mut claimed = h.store.claim("w", 2, LEASE).await.unwrap();
    claimed.sort_by(|x, y| x.job.target.cmp(&y.job.target));
    h.store.complete(&claimed[0].lease, report(h, Some(200), None)).await.unwrap();
    assert_eq!(h.store.record(id).await.unwrap().unwrap().status, RecordStatus::Pending);
    h.store.complete(&claimed[1].lease, report(h, Some(204), None)).await.unwrap();
    assert_eq!(h.store.record(id).await.unwrap().unwrap().status, RecordStatus::Delivered);
}

/// Idempotency keys: start, conflict, mismatch, replay, expiry, abandon.
pub async fn idempotency_keys(h: &Harness) {
    let ttl = Duration::from_secs(60);
    let s = &h.store;
    assert_eq!(s.idempotency_begin("api", "k1", "fp1", ttl).await.unwrap(), IdempotencyBegin::Started);
    assert_eq!(s.idempotency_begin("api", "k1", "fp1", ttl).await.unwrap(), IdempotencyBegin::InProgress);
    // While in flight, the key is busy for any request; once finished, another request is a mismatch.
    assert_eq!(s.idempotency_begin("api", "k1", "fp2", ttl).await.unwrap(), IdempotencyBegin::InProgress);
    assert_eq!(s.idempotency_begin("other", "k1", "fp2", ttl).await.unwrap(), IdempotencyBegin::Started);
    let answer = StoredResponse {
        status: 201,
        headers: vec![("content-type".into(), "application/json".into())],
        body: Bytes::from_static(b"{\"id\":1}"),
    };
    s.idempotency_complete("api", "k1", &answer).await.unwrap();
    assert_eq!(
        s.idempotency_begin("api", "k1", "fp1", ttl).await.unwrap(),
        IdempotencyBegin::Completed(answer)
    );
    assert_eq!(s.idempotency_begin("api", "k1", "fp2", ttl).await.unwrap(), IdempotencyBegin::Mismatch);
    h.clock.advance(ttl);
    assert_eq!(s.idempotency_begin("api", "k1", "fp2", ttl).await.unwrap(), IdempotencyBegin::Started);
    s.idempotency_abandon("api", "k1").await.unwrap();
    assert_eq!(s.idempotency_begin("api", "k1", "fp3", ttl).await.unwrap(), IdempotencyBegin::Started);
    // A holder that crashed leaves the key started; after the timeout it is free again.
    let day = Duration::from_secs(86_400);
    assert_eq!(s.idempotency_begin("api", "k2", "fp1", day).await.unwrap(), IdempotencyBegin::Started);
    h.clock.advance(crate::IDEMPOTENCY_STARTED_TIMEOUT - Duration::from_secs(1));
    assert_eq!(s.idempotency_begin("api", "k2", "fp2", day).await.unwrap(), IdempotencyBegin::InProgress);
    h.clock.advance(Duration::from_secs(1));
    assert_eq!(s.idempotency_begin("api", "k2", "fp2", day).await.unwrap(), IdempotencyBegin::Started);
    // A completed key is not subject to that timeout.
    s.idempotency_complete(
        "api",
        "k2",
        &StoredResponse { status: 200, headers: Vec::new(), body: Bytes::new() },
    )
    .await
    .unwrap();
    h.clock.advance(Duration::from_secs(3600));
    assert!(matches!(
        s.idempotency_begin("api", "k2", "fp2", day).await.unwrap(),
        IdempotencyBegin::Completed(_)
    ));
}

/// Retention removes finished records and old audit entries, keeps the rest.
pub async fn retention_sweeps(h: &Harness) {
    let s = &h.store;
    let done = s.append(event("s", &["http://a"])).await.unwrap().id;
    let held = s.claim("w", 1, LEASE).await.unwrap().remove(0);
    s.complete(&held.lease, report(h, Some(200), None)).await.unwrap();
    let pending = s.append(event("s", &["http://a"])).await.unwrap().id;
    s.append_audit(vec![audit_entry("stripe")]).await.unwrap();
    s.idempotency_begin("api", "old", "fp", Duration::from_secs(1)).await.unwrap();
    h.clock.advance(Duration::from_secs(100));
    let fresh = s.append(event("s", &["http://a"])).await.unwrap().id;
    s.append_audit(vec![audit_entry("stripe")]).await.unwrap();
    let cutoff = START.plus(Duration::from_secs(50));
    let report = s.sweep(&Retention { records_before: cutoff, audit_before: cutoff }).await.unwrap();
    assert_eq!(report.records, 1, "{report:?}");
    assert_eq!(report.audit_entries, 1, "{report:?}");
    assert_eq!((report.jobs, report.attempts, report.idempotency_keys), (1, 1, 1), "{report:?}");
    assert!(s.record(done).await.unwrap().is_none());
    let left = s.audit(&AuditFilter::default(), PageRequest { after: None, limit: 10 }).await.unwrap();
    assert_eq!(left.items.len(), 1, "the newer audit entry is kept");
    assert_eq!(left.items[0].at, START.plus(Duration::from_secs(100)));
    assert!(s.record(pending).await.unwrap().is_some(), "undelivered records are kept");
    assert!(s.record(fresh).await.unwrap().is_some());
    let again = s.sweep(&Retention { records_before: cutoff, audit_before: cutoff }).await.unwrap();
    assert_eq!((again.records, again.audit_entries), (0, 0));
}

/// Queue depths count jobs by topic and state.
pub async fn queue_depths(h: &Harness) {
    for _ in 0..3 {
        h.store.append(event("stripe", &["http://a"])).await.unwrap();
    }
    h.store.append(event("github", &["http://a"])).await.unwrap();
    let held = h.store.claim("w", 1, LEASE).await.unwrap().remove(0);
    let leased_topic = held.record.topic.clone();
    let depths = h.store.queue_depths().await.unwrap();
    let total: u64 = depths.iter().map(|d| d.ready + d.leased).sum();
    assert_eq!(total, 4);
    let leased = depths.iter().find(|d| d.topic == leased_topic).unwrap();
    assert_eq!(leased.leased, 1);
    h.store.dead_letter(&held.lease, report(h, None, Some("x"))).await.unwrap();
    let depths = h.store.queue_depths().await.unwrap();
    assert_eq!(depths.iter().map(|d| d.dead).sum::<u64>(), 1);
}

/// An append with jobs wakes a waiting worker.
pub async fn appends_wake_workers(h: &Harness) {
    let wakeups = h.store.wakeups();
    let notified = wakeups.notified();
    tokio::pin!(notified);
    notified.as_mut().enable();
    h.store.append(event("s", &["http://a"])).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), notified).await.expect("woken after the append");
}

/// Many concurrent appends all commit and read back.
pub async fn concurrent_appends_all_commit(h: &Harness) {
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = h.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut record = event("s", &["http://a"]);
            record.dedupe_key = Some(format!("k{}", i % 150));
            store.append(record).await.unwrap()
        }));
    }
    let mut ids = HashSet::new();
    let mut duplicates = 0;
    for t in tasks {
        let appended = t.await.unwrap();
        duplicates += usize::from(appended.duplicate);
        ids.insert(appended.id);
    }
    assert_eq!(ids.len(), 150);
    assert_eq!(duplicates, 50);
    for id in ids {
        assert!(h.store.record(id).await.unwrap().is_some());
    }
}

/// A lease from before a redrive can change nothing, even when the same
/// worker claims the job again at the same attempt number.
pub async fn redrive_fences_old_leases(h: &Harness) {
    let id = h.store.append(event("s", &["http://a"])).await.unwrap().id;
    let old = h.store.claim("a", 1, LEASE).await.unwrap().remove(0);
    assert_eq!(h.store.redrive(id).await.unwrap(), 1);
    let new = h.store.claim("a", 1, LEASE).await.unwrap().remove(0);
    assert_eq!((old.lease.attempt, new.lease.attempt), (1, 1));
    assert_ne!(old.lease.owner, new.lease.owner);
    assert!(
        !h.store.complete(&old.lease, report(h, Some(200), None)).await.unwrap(),
        "the old lease is fenced"
    );
    assert!(h.store.complete(&new.lease, report(h, Some(200), None)).await.unwrap());
}
