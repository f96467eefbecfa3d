//! Conformance checks of [`Store::append_many`](crate::Store::append_many):
//! one transaction for many records, deduplicated like single appends.

use std::time::Duration;

use super::{Harness, event};
use crate::{JobState, NewRecord, RecordFilter, RecordKind, RecordStatus};

/// A batch commits every record with its jobs; answers come in order.
pub async fn append_many_commits_all(h: &Harness) {
    assert!(h.store.append_many(Vec::new()).await.unwrap().is_empty());
    let batch: Vec<NewRecord> = (0..50)
        .map(|i| {
            let mut record = event(&format!("t{i}"), &[]);
            if i % 2 == 0 {
                record = event(&format!("t{i}"), &["http://a", "http://b"]);
            } else {
                record.kind = RecordKind::Message;
            }
            record
        })
        .collect();
    let appended = h.store.append_many(batch).await.unwrap();
    assert_eq!(appended.len(), 50);
    for (i, a) in appended.iter().enumerate() {
        assert!(!a.duplicate);
        let record = h.store.record(a.id).await.unwrap().expect("stored");
        assert_eq!(record.topic, format!("t{i}"), "answers in the order of the batch");
        let jobs = h.store.jobs(a.id).await.unwrap();
        if i % 2 == 0 {
            assert_eq!(record.status, RecordStatus::Pending);
            assert_eq!(jobs.len(), 2);
            assert!(jobs.iter().all(|j| j.state == JobState::Ready));
        } else {
            assert_eq!(record.kind, RecordKind::Message);
            assert_eq!(record.status, RecordStatus::Stored);
            assert!(jobs.is_empty());
        }
    }
    let messages = RecordFilter { kind: Some(RecordKind::Message), ..Default::default() };
    let listed = h.store.records(&messages, crate::PageRequest { after: None, limit: 100 }).await.unwrap();
    assert_eq!(listed.items.len(), 25);
}

/// Keys repeated inside a batch, and keys already stored, are duplicates.
pub async fn append_many_dedupes(h: &Harness) {
    let with_key = |key: &str| NewRecord { dedupe_key: Some(key.into()), ..event("stripe", &["http://a"]) };
    let stored = h.store.append(with_key("evt_0")).await.unwrap();
    let got = h
        .store
        .append_many(vec![with_key("evt_1"), with_key("evt_0"), with_key("evt_1"), with_key("evt_2")])
        .await
        .unwrap();
    let duplicate: Vec<bool> = got.iter().map(|a| a.duplicate).collect();
    assert_eq!(duplicate, [false, true, true, false]);
    assert_eq!(got[1].id, stored.id);
    assert_eq!(got[2].id, got[0].id);
    for a in [&got[0], &got[3]] {
        assert_eq!(h.store.jobs(a.id).await.unwrap().len(), 1, "a duplicate adds no jobs");
    }
    assert_eq!(h.store.jobs(stored.id).await.unwrap().len(), 1);
}

/// A batch with jobs wakes the delivery workers once committed.
pub async fn append_many_wakes_workers(h: &Harness) {
    let wakeups = h.store.wakeups();
    let notified = wakeups.notified();
    tokio::pin!(notified);
    notified.as_mut().enable();
    h.store.append_many(vec![event("s", &[]), event("s", &["http://a"])]).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), notified).await.expect("woken after the batch");
    assert_eq!(h.store.claim("w", 10, super::LEASE).await.unwrap().len(), 1);
}
