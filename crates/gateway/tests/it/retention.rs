//! The retention sweeper deletes what is old and finished, and nothing else.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use junction_gateway::delivery::retention::sweep_periodically;
use junction_store::{
    AuditFilter, ManualClock, NewAuditEntry, NewJob, NewRecord, PageRequest, RecordKind, Store, Timestamp,
    conformance::Scratch, sqlite::SqliteStore,
};
use tokio_util::sync::CancellationToken;

fn record(kind: RecordKind, jobs: usize) -> NewRecord {
    NewRecord {
        kind,
        topic: "t".into(),
        dedupe_key: None,
        headers: vec![],
        body: Bytes::new(),
        meta: serde_json::Value::Null,
        jobs: (0..jobs).map(|_| NewJob { target: "http://x".into(), due_at: None }).collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweeps_old_finished_records_and_keeps_pending_ones() {
    let scratch = Scratch::new("retention");
    let dir = scratch.path();
    // Records written "ten days ago" by the store's clock.
    let ten_days_ago =
        Timestamp(junction_store::Clock::now(&junction_store::SystemClock).0 - 10 * 86_400_000);
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&dir.join("junction.db"), Arc::new(ManualClock::new(ten_days_ago))).unwrap(),
    );
    let finished = store.append(record(RecordKind::Event, 0)).await.unwrap().id;
    let pending = store.append(record(RecordKind::Event, 1)).await.unwrap().id;
    let audit = NewAuditEntry {
        kind: "proxy".into(),
        topic: "t".into(),
        status: Some(200),
        caller: "127.0.0.1".into(),
        detail: "{}".into(),
        body: None,
    };
    store.append_audit(vec![audit]).await.unwrap();

    let stop = CancellationToken::new();
    stop.cancel(); // one sweep, then return
    let week = Duration::from_secs(7 * 86_400);
    sweep_periodically(store.clone(), week, Duration::from_secs(30 * 86_400), stop).await;

    assert!(store.record(finished).await.unwrap().is_none(), "finished and older than 7d");
    assert!(store.record(pending).await.unwrap().is_some(), "undelivered records are kept");
    let page = PageRequest { after: None, limit: 10 };
    let audit = store.audit(&AuditFilter::default(), page).await.unwrap().items;
    assert_eq!(audit.len(), 1, "audit entries are kept 30d");
}
