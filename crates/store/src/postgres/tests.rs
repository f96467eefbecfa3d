//! Tests of the PostgreSQL backend against a real server (`DATABASE_URL`),
//! each in a schema of its own, dropped afterwards. They fail, rather than
//! skip, when no server is configured or reachable.

use std::{collections::HashSet, sync::Arc, time::Duration};

use bytes::Bytes;
use serde_json::json;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};

use super::PostgresStore;
use crate::{
    AttemptReport, Clock, IdempotencyBegin, JobState, ManualClock, NewJob, NewRecord, PageRequest,
    QueueDepth, RecordFilter, RecordKind, RecordStatus, Retention, Store, StoredResponse, Timestamp,
};

const START: Timestamp = Timestamp(1_700_000_000_000);
const LEASE: Duration = Duration::from_secs(30);

fn database_url() -> String {
    std::env::var("DATABASE_URL").expect("DATABASE_URL must point at a PostgreSQL server for these tests")
}

/// A store in a fresh schema, which is dropped with this value (even when the test panics).
struct TestStore {
    store: PostgresStore,
    clock: ManualClock,
    schema: String,
}

impl TestStore {
    async fn new() -> Self {
        let schema = format!("junction_test_{}", uuid::Uuid::new_v4().simple());
        let clock = ManualClock::new(START);
        let store = PostgresStore::connect_in_schema(&database_url(), &schema, Arc::new(clock.clone()))
            .await
            .expect("connect to DATABASE_URL");
        Self { store, clock, schema }
    }

    /// A second node on the same schema and clock.
    async fn another_node(&self) -> PostgresStore {
        PostgresStore::connect_in_schema(&database_url(), &self.schema, Arc::new(self.clock.clone()))
            .await
            .expect("connect a second node")
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        let schema = self.schema.clone();
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&database_url()).await?;
                conn.execute(AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))).await?;
                conn.close().await
            })
            .map_err(std::io::Error::other)
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) && !std::thread::panicking() {
            panic!("could not drop test schema {}: {dropped:?}", self.schema);
        }
    }
}

fn new_record(kind: RecordKind, topic: &str, dedupe: Option<&str>, targets: &[&str]) -> NewRecord {
    NewRecord {
        kind,
        topic: topic.into(),
        dedupe_key: dedupe.map(Into::into),
        headers: vec![("content-type".into(), "application/json".into()), ("x-a".into(), "1".into())],
        body: Bytes::from_static(b"{\"hello\":\"world\"}\x00\xff"),
        meta: json!({"method": "POST", "n": 1}),
        jobs: targets.iter().map(|t| NewJob { target: (*t).into(), due_at: None }).collect(),
    }
}

fn report(status: Option<u16>, error: Option<&str>) -> AttemptReport {
    AttemptReport {
        started_at: START,
        duration_ms: 12,
        status,
        error: error.map(Into::into),
        response_excerpt: Some("ok".into()),
    }
}

#[tokio::test]
async fn postgres_append_reads_and_dedupe() {
    let t = TestStore::new().await;
    let s = &t.store;
    s.ping().await.unwrap();

    let a = s
        .append(new_record(RecordKind::Event, "github", Some("d1"), &["http://a", "http://b"]))
        .await
        .unwrap();
    assert!(!a.duplicate);
    let dup = s.append(new_record(RecordKind::Event, "github", Some("d1"), &["http://c"])).await.unwrap();
    assert_eq!(dup.id, a.id);
    assert!(dup.duplicate);
    // Same key, other topic or kind: not a duplicate.
    assert!(!s.append(new_record(RecordKind::Event, "stripe", Some("d1"), &[])).await.unwrap().duplicate);
    assert!(!s.append(new_record(RecordKind::Call, "github", Some("d1"), &[])).await.unwrap().duplicate);
    // No key: never a duplicate.
    let n1 = s.append(new_record(RecordKind::Event, "github", None, &[])).await.unwrap();
    let n2 = s.append(new_record(RecordKind::Event, "github", None, &[])).await.unwrap();
    assert_ne!(n1.id, n2.id);

    let r = s.record(a.id).await.unwrap().unwrap();
    assert_eq!(r.kind, RecordKind::Event);
    assert_eq!(r.topic, "github");
    assert_eq!(r.dedupe_key.as_deref(), Some("d1"));
    assert_eq!(r.created_at, START);
    assert_eq!(r.headers, new_record(RecordKind::Event, "", None, &[]).headers);
    assert_eq!(r.body, Bytes::from_static(b"{\"hello\":\"world\"}\x00\xff"));
    assert_eq!(r.meta, json!({"method": "POST", "n": 1}));
    assert_eq!(r.status, RecordStatus::Pending);
    assert_eq!(s.record(n1.id).await.unwrap().unwrap().status, RecordStatus::Stored);
    assert!(s.record(crate::RecordId::generate()).await.unwrap().is_none());

    let jobs = s.jobs(a.id).await.unwrap();
    assert_eq!(jobs.iter().map(|j| j.target.as_str()).collect::<Vec<_>>(), ["http://a", "http://b"]);
    for j in &jobs {
        assert_eq!(
            (j.state, j.attempts, j.due_at, j.created_at, j.record_id),
            (JobState::Ready, 0, START, START, a.id)
        );
        assert!(j.last_error.is_none());
    }

    // A job due later.
    let mut later = new_record(RecordKind::Message, "app", None, &[]);
    later.jobs.push(NewJob { target: "ep_1".into(), due_at: Some(START.plus(Duration::from_secs(60))) });
    let l = s.append(later).await.unwrap();
    assert_eq!(s.jobs(l.id).await.unwrap()[0].due_at, START.plus(Duration::from_secs(60)));
    assert!(s.claim("w", 10, LEASE).await.unwrap().iter().all(|c| c.record.id != l.id));
    t.clock.advance(Duration::from_secs(60));
    assert!(s.claim("w", 10, LEASE).await.unwrap().iter().any(|c| c.record.id == l.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_claims_never_share_a_job() {
    let t = TestStore::new().await;
    let other = t.another_node().await;
    for i in 0..60 {
        let mut r = new_record(RecordKind::Call, "dep", None, &["http://x"]);
        r.jobs[0].due_at = Some(START.minus(Duration::from_millis(60 - i)));
        t.store.append(r).await.unwrap();
    }
    let first = t.store.claim("w1", 1, LEASE).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].job.due_at, START.plus(LEASE));

    async fn drain(s: &PostgresStore, owner: &str) -> Vec<crate::Claimed> {
        let mut all = Vec::new();
        loop {
            let got = s.claim(owner, 7, LEASE).await.unwrap();
            if got.is_empty() {
                return all;
            }
            // Oldest due first within a batch.
            assert!(got.windows(2).all(|w| w[0].record.id < w[1].record.id));
            all.extend(got);
        }
    }
    let (a, b) = tokio::join!(drain(&t.store, "w1"), drain(&other, "w2"));
    let mut seen = HashSet::new();
    seen.insert(first[0].job.id);
    for c in a.iter().chain(&b) {
        assert!(seen.insert(c.job.id), "job {} claimed twice", c.job.id);
        assert_eq!(c.job.state, JobState::Leased);
        assert_eq!((c.lease.attempt, c.job.attempts), (1, 1));
        assert_eq!(c.lease.expires_at, START.plus(LEASE));
        assert_eq!(c.lease.job, c.job.id);
        assert_eq!(c.record.id, c.job.record_id);
    }
    assert_eq!(seen.len(), 60);
    assert!(
        a.iter().all(|c| c.lease.owner.starts_with("w1#"))
            && b.iter().all(|c| c.lease.owner.starts_with("w2#"))
    );
    assert_eq!(
        t.store.queue_depths().await.unwrap(),
        [QueueDepth { kind: RecordKind::Call, topic: "dep".into(), ready: 0, leased: 60, dead: 0 }]
    );
    assert!(t.store.claim("w3", 0, LEASE).await.unwrap().is_empty());
}

#[tokio::test]
async fn postgres_leases_are_fenced() {
    let t = TestStore::new().await;
    let s = &t.store;
    let rec = s.append(new_record(RecordKind::Call, "dep", None, &["http://x"])).await.unwrap();
    let c1 = s.claim("w1", 10, LEASE).await.unwrap().remove(0);
    assert!(s.claim("w2", 10, LEASE).await.unwrap().is_empty());

    // Extend moves the expiry; the job is not reclaimable at the old one.
    assert!(s.extend(&c1.lease, Duration::from_secs(60)).await.unwrap());
    t.clock.advance(Duration::from_secs(31));
    assert!(s.claim("w2", 10, LEASE).await.unwrap().is_empty());
    assert_eq!(s.jobs(rec.id).await.unwrap()[0].due_at, START.plus(Duration::from_secs(60)));

    // Once expired, another worker takes it, at attempt 2; the old lease is dead.
    t.clock.advance(Duration::from_secs(30));
    let c2 = s.claim("w2", 10, LEASE).await.unwrap().remove(0);
    assert_eq!(c2.lease.attempt, 2);
    assert!(!s.extend(&c1.lease, LEASE).await.unwrap());
    assert!(!s.complete(&c1.lease, report(Some(200), None)).await.unwrap());
    assert!(!s.retry(&c1.lease, report(None, Some("x")), START).await.unwrap());
    assert!(!s.dead_letter(&c1.lease, report(None, Some("x"))).await.unwrap());
    assert!(!s.release(&c1.lease).await.unwrap());
    let mut forged = c2.lease.clone();
    forged.owner = "w1".into();
    assert!(!s.complete(&forged, report(Some(200), None)).await.unwrap());
    assert!(s.attempts(c2.job.id).await.unwrap().is_empty());

    // Retry: ready again at `at`, error kept, attempt logged.
    let at = t.clock.now().plus(Duration::from_secs(5));
    assert!(s.retry(&c2.lease, report(Some(503), Some("unavailable")), at).await.unwrap());
    assert!(!s.complete(&c2.lease, report(Some(200), None)).await.unwrap());
    let job = s.jobs(rec.id).await.unwrap().remove(0);
    assert_eq!((job.state, job.attempts, job.due_at), (JobState::Ready, 2, at));
    assert_eq!(job.last_error.as_deref(), Some("unavailable"));
    assert_eq!(s.record(rec.id).await.unwrap().unwrap().status, RecordStatus::Pending);
    assert!(s.claim("w1", 10, LEASE).await.unwrap().is_empty());
    t.clock.advance(Duration::from_secs(5));

    // Release: given back unattempted, due now, the claim not counted.
    let c3 = s.claim("w1", 10, LEASE).await.unwrap().remove(0);
    assert_eq!(c3.lease.attempt, 3);
    assert!(s.release(&c3.lease).await.unwrap());
    assert!(!s.release(&c3.lease).await.unwrap());
    let job = s.jobs(rec.id).await.unwrap().remove(0);
    assert_eq!((job.state, job.attempts, job.due_at), (JobState::Ready, 2, t.clock.now()));
    let c4 = s.claim("w1", 10, LEASE).await.unwrap().remove(0);
    assert_eq!(c4.lease.attempt, 3);

    // Complete: delivered, error cleared, record delivered.
    assert!(s.complete(&c4.lease, report(Some(200), None)).await.unwrap());
    let job = s.jobs(rec.id).await.unwrap().remove(0);
    assert_eq!((job.state, job.attempts, job.last_error), (JobState::Delivered, 3, None));
    assert_eq!(s.record(rec.id).await.unwrap().unwrap().status, RecordStatus::Delivered);
    let attempts = s.attempts(c4.job.id).await.unwrap();
    assert_eq!(attempts.iter().map(|a| a.number).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(attempts[0].report, report(Some(503), Some("unavailable")));
    assert_eq!(attempts[1].report, report(Some(200), None));
    assert!(!s.complete(&c4.lease, report(Some(200), None)).await.unwrap());
}

#[tokio::test]
async fn postgres_status_dead_letter_and_redrive() {
    let t = TestStore::new().await;
    let s = &t.store;
    let rec = s.append(new_record(RecordKind::Message, "app", None, &["ep_1", "ep_2"])).await.unwrap();
    let claimed = s.claim("w", 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert!(s.complete(&claimed[0].lease, report(Some(200), None)).await.unwrap());
    assert_eq!(s.record(rec.id).await.unwrap().unwrap().status, RecordStatus::Pending);
    assert!(s.dead_letter(&claimed[1].lease, report(Some(410), Some("gone"))).await.unwrap());
    assert_eq!(s.record(rec.id).await.unwrap().unwrap().status, RecordStatus::Dead);
    let jobs = s.jobs(rec.id).await.unwrap();
    assert_eq!(jobs[1].state, JobState::Dead);
    assert_eq!(jobs[1].last_error.as_deref(), Some("gone"));
    assert_eq!(
        s.queue_depths().await.unwrap(),
        [QueueDepth { kind: RecordKind::Message, topic: "app".into(), ready: 0, leased: 0, dead: 1 }]
    );

    // Redrive: every job ready again, attempts reset, and workers are woken.
    let wake = s.wakeups();
    let woken = wake.notified();
    tokio::pin!(woken);
    woken.as_mut().enable();
    t.clock.advance(Duration::from_secs(1));
    assert_eq!(s.redrive(rec.id).await.unwrap(), 2);
    tokio::time::timeout(Duration::from_secs(5), woken).await.expect("redrive wakes workers");
    assert_eq!(s.record(rec.id).await.unwrap().unwrap().status, RecordStatus::Pending);
    for j in s.jobs(rec.id).await.unwrap() {
        assert_eq!((j.state, j.attempts, j.due_at, j.last_error), (JobState::Ready, 0, t.clock.now(), None));
    }
    let again = s.claim("w2", 10, LEASE).await.unwrap();
    assert_eq!(again.iter().map(|c| c.lease.attempt).collect::<Vec<_>>(), [1, 1]);
    // The pre-redrive leases stay dead (the owner and attempt fence them).
    assert!(!s.complete(&claimed[0].lease, report(Some(200), None)).await.unwrap());
    for c in &again {
        assert!(s.complete(&c.lease, report(Some(200), None)).await.unwrap());
    }
    assert_eq!(s.record(rec.id).await.unwrap().unwrap().status, RecordStatus::Delivered);
    assert_eq!(
        s.attempts(again[0].job.id).await.unwrap().iter().map(|a| a.number).collect::<Vec<_>>(),
        [1, 1]
    );
    assert_eq!(s.redrive(crate::RecordId::generate()).await.unwrap(), 0);
    let stored = s.append(new_record(RecordKind::Message, "admin", None, &[])).await.unwrap();
    assert_eq!(s.redrive(stored.id).await.unwrap(), 0);
    assert_eq!(s.record(stored.id).await.unwrap().unwrap().status, RecordStatus::Stored);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_notifications_reach_other_nodes() {
    let t = TestStore::new().await;
    let other = t.another_node().await;
    let wake = other.wakeups();
    // The other node's listener subscribes in the background: append until it hears.
    let heard = async {
        loop {
            let woken = wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            t.store.append(new_record(RecordKind::Event, "src", None, &["http://x"])).await.unwrap();
            if tokio::time::timeout(Duration::from_millis(300), woken).await.is_ok() {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), heard).await.expect("a notification from another node");
}

#[tokio::test]
async fn postgres_pages_and_filters() {
    let t = TestStore::new().await;
    let s = &t.store;
    let mut ids = Vec::new();
    for i in 0..25 {
        let kind = if i % 5 == 0 { RecordKind::Message } else { RecordKind::Event };
        let topic = if i % 2 == 0 { "even" } else { "odd" };
        ids.push(s.append(new_record(kind, topic, None, &[])).await.unwrap().id);
        t.clock.advance(Duration::from_millis(10));
    }
    ids.reverse();
    let all = RecordFilter::default();
    let mut got = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = s.records(&all, PageRequest { after, limit: 10 }).await.unwrap();
        pages += 1;
        assert!(page.items.len() <= 10);
        got.extend(page.items.iter().map(|r| r.id));
        match page.next {
            Some(next) => {
                assert_eq!(Some(&next), got.last());
                after = Some(next);
            }
            None => break,
        }
    }
    assert_eq!((got, pages), (ids.clone(), 3));
    // Exactly one page: no next.
    let page = s.records(&all, PageRequest { after: None, limit: 25 }).await.unwrap();
    assert_eq!((page.items.len(), page.next), (25, None));
    assert_eq!(s.records(&all, PageRequest { after: None, limit: 0 }).await.unwrap().items.len(), 1);

    let messages = RecordFilter { kind: Some(RecordKind::Message), ..Default::default() };
    assert_eq!(s.records(&messages, PageRequest { after: None, limit: 100 }).await.unwrap().items.len(), 5);
    let odd = RecordFilter { topic: Some("odd".into()), ..Default::default() };
    assert_eq!(s.records(&odd, PageRequest { after: None, limit: 100 }).await.unwrap().items.len(), 12);
    let since = RecordFilter { since: Some(START.plus(Duration::from_millis(200))), ..Default::default() };
    assert_eq!(s.records(&since, PageRequest { after: None, limit: 100 }).await.unwrap().items.len(), 5);
    let stored = RecordFilter {
        kind: Some(RecordKind::Event),
        topic: Some("even".into()),
        status: Some(RecordStatus::Stored),
        since: Some(START),
        ..Default::default()
    };
    assert_eq!(s.records(&stored, PageRequest { after: None, limit: 100 }).await.unwrap().items.len(), 10);
    let pending = RecordFilter { status: Some(RecordStatus::Pending), ..Default::default() };
    assert!(s.records(&pending, PageRequest { after: None, limit: 100 }).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn postgres_idempotency_keys() {
    let t = TestStore::new().await;
    let s = &t.store;
    let ttl = Duration::from_secs(60);
    let resp = StoredResponse {
        status: 201,
        headers: vec![("location".into(), "/x/1".into())],
        body: Bytes::from_static(b"created"),
    };
    assert_eq!(s.idempotency_begin("calls", "k1", "f1", ttl).await.unwrap(), IdempotencyBegin::Started);
    assert_eq!(s.idempotency_begin("calls", "k1", "f1", ttl).await.unwrap(), IdempotencyBegin::InProgress);
    assert_eq!(s.idempotency_begin("calls", "k1", "f2", ttl).await.unwrap(), IdempotencyBegin::InProgress);
    assert_eq!(s.idempotency_begin("other", "k1", "f2", ttl).await.unwrap(), IdempotencyBegin::Started);
    s.idempotency_complete("calls", "k1", &resp).await.unwrap();
    assert_eq!(
        s.idempotency_begin("calls", "k1", "f1", ttl).await.unwrap(),
        IdempotencyBegin::Completed(resp.clone())
    );
    assert_eq!(s.idempotency_begin("calls", "k1", "f2", ttl).await.unwrap(), IdempotencyBegin::Mismatch);
    // Abandon forgets only started keys.
    s.idempotency_abandon("calls", "k1").await.unwrap();
    assert_eq!(
        s.idempotency_begin("calls", "k1", "f1", ttl).await.unwrap(),
        IdempotencyBegin::Completed(resp)
    );
    s.idempotency_abandon("other", "k1").await.unwrap();
    assert_eq!(s.idempotency_begin("other", "k1", "f3", ttl).await.unwrap(), IdempotencyBegin::Started);
    // Expired keys start afresh, whatever their fingerprint.
    t.clock.advance(ttl);
    assert_eq!(s.idempotency_begin("calls", "k1", "f9", ttl).await.unwrap(), IdempotencyBegin::Started);
    // Concurrent first uses: exactly one starts.
    let (a, b) =
        tokio::join!(s.idempotency_begin("race", "k", "f", ttl), s.idempotency_begin("race", "k", "f", ttl));
    let mut outcomes = [a.unwrap(), b.unwrap()];
    outcomes.sort_by_key(|o| matches!(o, IdempotencyBegin::Started));
    assert_eq!(outcomes, [IdempotencyBegin::InProgress, IdempotencyBegin::Started]);
}

#[tokio::test]
async fn postgres_sweep() {
    let t = TestStore::new().await;
    let s = &t.store;
    let delivered = s.append(new_record(RecordKind::Event, "a", Some("k"), &["x", "y"])).await.unwrap();
    for c in s.claim("w", 10, LEASE).await.unwrap() {
        assert!(s.complete(&c.lease, report(Some(200), None)).await.unwrap());
    }
    let pending = s.append(new_record(RecordKind::Event, "a", None, &["x"])).await.unwrap();
    let stored = s.append(new_record(RecordKind::Event, "a", None, &[])).await.unwrap();
    let audit_entry = crate::NewAuditEntry {
        kind: "management".into(),
        topic: "admin".into(),
        status: None,
        caller: "key_1".into(),
        detail: "{}".into(),
        body: None,
    };
    s.append_audit(vec![audit_entry]).await.unwrap();
    let audit_entries = || async {
        let all = crate::AuditFilter::default();
        s.audit(&all, PageRequest { after: None, limit: 10 }).await.unwrap().items.len()
    };
    s.idempotency_begin("calls", "old", "f", Duration::from_secs(1)).await.unwrap();
    s.idempotency_begin("calls", "new", "f", Duration::from_secs(3600)).await.unwrap();
    t.clock.advance(Duration::from_secs(10));
    let fresh = s.append(new_record(RecordKind::Event, "a", None, &[])).await.unwrap();

    let cutoff = t.clock.now();
    // Audit entries kept longer: nothing of theirs goes yet.
    let report1 = s.sweep(&Retention { records_before: cutoff, audit_before: START }).await.unwrap();
    assert_eq!(
        report1,
        crate::SweepReport { records: 2, audit_entries: 0, jobs: 2, attempts: 2, idempotency_keys: 1 }
    );
    assert!(s.record(delivered.id).await.unwrap().is_none());
    assert!(s.record(stored.id).await.unwrap().is_none());
    assert!(s.jobs(delivered.id).await.unwrap().is_empty());
    assert!(s.record(pending.id).await.unwrap().is_some());
    assert!(s.record(fresh.id).await.unwrap().is_some());
    assert_eq!(audit_entries().await, 1);
    assert_eq!(
        s.idempotency_begin("calls", "new", "f", Duration::from_secs(1)).await.unwrap(),
        IdempotencyBegin::InProgress
    );

    let report2 = s.sweep(&Retention { records_before: START, audit_before: cutoff }).await.unwrap();
    assert_eq!(report2, crate::SweepReport { audit_entries: 1, ..Default::default() });
    assert_eq!(audit_entries().await, 0);
    // The dedupe key is free again once its record is swept.
    assert!(!s.append(new_record(RecordKind::Event, "a", Some("k"), &[])).await.unwrap().duplicate);
}

#[tokio::test]
async fn postgres_connect_errors() {
    let clock = Arc::new(ManualClock::new(START));
    for bad in ["", "Upper", "a;drop", "a-b", "a\"b"] {
        assert!(
            PostgresStore::connect_in_schema(&database_url(), bad, clock.clone()).await.is_err(),
            "{bad:?}"
        );
    }
    // A server that is not there: the error names neither the URL nor its password.
    let url = "postgres://junction:s3cr3t-pw@127.0.0.1:1/nowhere";
    let err = PostgresStore::connect(url, clock.clone()).await.expect_err("nothing listens on port 1");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("s3cr3t-pw") && !text.contains(url), "{text}");
    let err = PostgresStore::connect("postgres://u:s3cr3t-pw@127.0.0.1:notaport/x", clock)
        .await
        .expect_err("bad URL");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("s3cr3t-pw"), "{text}");
}
