//! Conformance checks of the audit log: [`Store::append_audit`] and
//! [`Store::audit`](crate::Store::audit).
//!
//! [`Store::append_audit`]: crate::Store::append_audit

use std::time::Duration;

use bytes::Bytes;

use super::{Harness, START};
use crate::{AuditEntry, AuditFilter, NewAuditEntry, PageRequest, RecordId, Timestamp};

/// A proxied call to `topic` that answered 200, from 10.0.0.1.
pub(crate) fn audit_entry(topic: &str) -> NewAuditEntry {
    NewAuditEntry {
        kind: "proxy".into(),
        topic: topic.to_owned(),
        status: Some(200),
        caller: "10.0.0.1".into(),
        detail: r#"{"method":"GET","path":"/v1/charges","outcome":"success"}"#.into(),
        body: None,
    }
}

/// Every page of `filter`, `per_page` at a time.
async fn all_pages(h: &Harness, filter: &AuditFilter, per_page: usize) -> Vec<AuditEntry> {
    let mut seen = Vec::new();
    let mut page = PageRequest { after: None, limit: per_page };
    loop {
        let got = h.store.audit(filter, page).await.unwrap();
        assert!(got.items.len() <= per_page);
        seen.extend(got.items);
        match got.next {
            Some(next) => page.after = Some(next),
            None => return seen,
        }
    }
}

fn ids(entries: &[AuditEntry]) -> Vec<RecordId> {
    entries.iter().map(|e| e.id).collect()
}

/// Entries read back as appended, newest first, at the store clock's time.
pub async fn audit_round_trips(h: &Harness) {
    h.store.append_audit(Vec::new()).await.unwrap();
    assert!(all_pages(h, &AuditFilter::default(), 10).await.is_empty());
    let with_body = NewAuditEntry {
        kind: "management".into(),
        topic: "admin".into(),
        status: None,
        caller: "key_1".into(),
        detail: "{}".into(),
        body: Some(Bytes::from_static(b"{\"card\":\"[redacted]\"}\xff")),
    };
    h.store.append_audit(vec![audit_entry("stripe"), with_body.clone()]).await.unwrap();
    h.clock.advance(Duration::from_millis(1500));
    h.store.append_audit(vec![audit_entry("github")]).await.unwrap();

    let listed = all_pages(h, &AuditFilter::default(), 10).await;
    assert_eq!(listed.len(), 3);
    let [github, admin, stripe] = [&listed[0], &listed[1], &listed[2]];
    assert_eq!(github.topic, "github");
    assert_eq!(github.at, START.plus(Duration::from_millis(1500)));
    assert_eq!(
        (&admin.kind[..], &admin.topic[..], admin.status, &admin.caller[..], &admin.detail[..]),
        ("management", "admin", None, "key_1", "{}")
    );
    assert_eq!(admin.body, with_body.body, "bodies are bytes, not text");
    assert_eq!(admin.at, START);
    let expected = audit_entry("stripe");
    assert_eq!(
        (&stripe.kind, &stripe.topic, stripe.status, &stripe.caller, &stripe.detail, &stripe.body),
        (&expected.kind, &expected.topic, expected.status, &expected.caller, &expected.detail, &None)
    );
    assert_eq!(stripe.at, START);
}

/// Ids increase in the order entries were given, within a batch, across
/// batches in the same millisecond, and when the clock steps back.
pub async fn audit_ids_follow_the_order_given(h: &Harness) {
    let batch: Vec<_> = (0..300).map(|i| audit_entry(&format!("t{i}"))).collect();
    h.store.append_audit(batch).await.unwrap();
    h.store.append_audit(vec![audit_entry("t300")]).await.unwrap();
    h.clock.set(Timestamp(START.millis() - 10_000));
    h.store.append_audit(vec![audit_entry("t301")]).await.unwrap();
    let listed = all_pages(h, &AuditFilter::default(), 1000).await;
    let topics: Vec<_> = listed.iter().rev().map(|e| e.topic.clone()).collect();
    let expected: Vec<_> = (0..302).map(|i| format!("t{i}")).collect();
    assert_eq!(topics, expected, "newest first, in the order appended");
    assert_eq!(listed[0].at, START, "an entry is never dated before the one before it");
}

/// Each filter narrows the list; filters combine; pages cover every match once.
pub async fn audit_filters_and_pages(h: &Harness) {
    let s = &h.store;
    let mut all = Vec::new();
    for i in 0..12u16 {
        let entry = NewAuditEntry {
            kind: if i % 3 == 0 { "webhook" } else { "proxy" }.into(),
            topic: if i % 2 == 0 { "stripe" } else { "github" }.into(),
            status: (i % 4 != 3).then_some(200 + i % 4),
            caller: format!("10.0.0.{}", i % 5),
            ..audit_entry("")
        };
        s.append_audit(vec![entry.clone()]).await.unwrap();
        all.push((START.plus(Duration::from_secs(u64::from(i))), entry));
        h.clock.advance(Duration::from_secs(1));
    }
    let expect = |keep: &dyn Fn(&Timestamp, &NewAuditEntry) -> bool| -> Vec<(String, Option<u16>, String)> {
        all.iter()
            .rev()
            .filter(|(at, e)| keep(at, e))
            .map(|(_, e)| (e.topic.clone(), e.status, e.caller.clone()))
            .collect()
    };
    let got = |entries: Vec<AuditEntry>| -> Vec<(String, Option<u16>, String)> {
        entries.into_iter().map(|e| (e.topic, e.status, e.caller)).collect()
    };
    let none = AuditFilter::default();
    assert_eq!(got(all_pages(h, &none, 5).await), expect(&|_, _| true));
    let paged = all_pages(h, &none, 5).await;
    let mut unique = ids(&paged);
    unique.dedup();
    assert_eq!(unique.len(), 12, "no entry on two pages");

    let kind = AuditFilter { kind: Some("webhook".into()), ..none.clone() };
    assert_eq!(got(all_pages(h, &kind, 3).await), expect(&|_, e| e.kind == "webhook"));
    let topic = AuditFilter { topic: Some("stripe".into()), ..none.clone() };
    assert_eq!(got(all_pages(h, &topic, 4).await), expect(&|_, e| e.topic == "stripe"));
    let status = AuditFilter { status: Some(201), ..none.clone() };
    assert_eq!(got(all_pages(h, &status, 2).await), expect(&|_, e| e.status == Some(201)));
    let caller = AuditFilter { caller: Some("10.0.0.2".into()), ..none.clone() };
    assert_eq!(got(all_pages(h, &caller, 2).await), expect(&|_, e| e.caller == "10.0.0.2"));
    let since = START.plus(Duration::from_secs(3));
    let until = START.plus(Duration::from_secs(9));
    let window = AuditFilter { since: Some(since), until: Some(until), ..none.clone() };
    assert_eq!(got(all_pages(h, &window, 4).await), expect(&|at, _| *at >= since && *at < until));
    let combined = AuditFilter { topic: Some("stripe".into()), kind: Some("proxy".into()), ..window.clone() };
    assert_eq!(
        got(all_pages(h, &combined, 1).await),
        expect(&|at, e| *at >= since && *at < until && e.topic == "stripe" && e.kind == "proxy")
    );
    let nothing = AuditFilter { topic: Some("shopify".into()), ..none.clone() };
    assert!(all_pages(h, &nothing, 10).await.is_empty());
    let empty_window = AuditFilter { since: Some(until), until: Some(since), ..none.clone() };
    assert!(all_pages(h, &empty_window, 10).await.is_empty());
    let cursor = PageRequest { after: Some(RecordId::generate()), limit: 1000 };
    assert_eq!(s.audit(&none, cursor).await.unwrap().items.len(), 12, "a cursor from the future");
}

/// Quotes, SQL, NUL, long and non-ASCII text are data, never syntax.
pub async fn audit_hostile_text(h: &Harness) {
    let hostile = NewAuditEntry {
        kind: "proxy".into(),
        topic: "ströpe'); DROP TABLE audit; --".into(),
        status: Some(599),
        caller: "\"caller\" OR 1=1".into(),
        detail: format!(r#"{{"path":"{}"}}"#, "x".repeat(100_000)),
        body: Some(Bytes::from(vec![0u8; 70_000])),
    };
    h.store.append_audit(vec![hostile.clone(), audit_entry("stripe")]).await.unwrap();
    let by_topic = AuditFilter { topic: Some(hostile.topic.clone()), ..Default::default() };
    let found = all_pages(h, &by_topic, 10).await;
    assert_eq!(found.len(), 1);
    assert_eq!((&found[0].detail, &found[0].body), (&hostile.detail, &hostile.body));
    let by_caller = AuditFilter { caller: Some(hostile.caller.clone()), ..Default::default() };
    assert_eq!(all_pages(h, &by_caller, 10).await.len(), 1);
    for nul in [
        AuditFilter { topic: Some("a\0b".into()), ..Default::default() },
        AuditFilter { caller: Some("\0".into()), ..Default::default() },
        AuditFilter { kind: Some("proxy\0".into()), ..Default::default() },
    ] {
        assert!(all_pages(h, &nul, 10).await.is_empty(), "{nul:?}");
    }
    assert_eq!(all_pages(h, &AuditFilter::default(), 10).await.len(), 2, "the table is still there");
}
