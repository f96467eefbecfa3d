//! Conformance checks of listing records: pages, and every [`RecordFilter`]
//! field, alone and combined.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Harness, START, event};
use crate::{NewRecord, PageRequest, RecordFilter, RecordId, RecordKind, RecordStatus};

/// Listing pages newest first without gaps or repeats, and filters.
pub async fn pagination_and_filters(h: &Harness) {
    let mut ids = Vec::new();
    for i in 0..25 {
        let topic = if i % 5 == 0 { "github" } else { "stripe" };
        ids.push(h.store.append(event(topic, &["http://a"])).await.unwrap().id);
        h.clock.advance(Duration::from_millis(10));
    }
    let call = NewRecord { kind: RecordKind::Call, ..event("stripe", &["http://api"]) };
    let call = h.store.append(call).await.unwrap().id;

    let events = RecordFilter { kind: Some(RecordKind::Event), ..Default::default() };
    let mut seen = Vec::new();
    let mut page = PageRequest { after: None, limit: 10 };
    loop {
        let got = h.store.records(&events, page).await.unwrap();
        assert!(got.items.len() <= 10);
        seen.extend(got.items.iter().map(|r| r.id));
        match got.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected, "newest first, every record once");

    let github = RecordFilter { topic: Some("github".into()), ..events.clone() };
    assert_eq!(
        h.store.records(&github, PageRequest { after: None, limit: 100 }).await.unwrap().items.len(),
        5
    );
    let calls = RecordFilter { kind: Some(RecordKind::Call), ..Default::default() };
    let got = h.store.records(&calls, PageRequest { after: None, limit: 100 }).await.unwrap();
    assert_eq!(got.items.iter().map(|r| r.id).collect::<Vec<_>>(), [call]);
    let since = RecordFilter { since: Some(START.plus(Duration::from_millis(200))), ..events.clone() };
    assert_eq!(
        h.store.records(&since, PageRequest { after: None, limit: 100 }).await.unwrap().items.len(),
        5
    );
    let delivered = RecordFilter { status: Some(RecordStatus::Delivered), ..Default::default() };
    assert!(
        h.store.records(&delivered, PageRequest { after: None, limit: 100 }).await.unwrap().items.is_empty()
    );
}

/// Every record matching `filter`, newest first, read `per_page` at a time.
async fn all_pages(h: &Harness, filter: &RecordFilter, per_page: usize) -> Vec<RecordId> {
    let mut seen = Vec::new();
    let mut page = PageRequest { after: None, limit: per_page };
    loop {
        let got = h.store.records(filter, page).await.unwrap();
        assert!(got.items.len() <= per_page);
        seen.extend(got.items.iter().map(|r| r.id));
        match got.next {
            Some(next) => page.after = Some(next),
            None => return seen,
        }
    }
}

/// A record without jobs (an outbound message) of `topic` with this `meta`.
fn message(topic: &str, meta: Value) -> NewRecord {
    NewRecord { kind: RecordKind::Message, meta, jobs: vec![], ..event(topic, &[]) }
}

/// `meta` filter pairs from string literals.
fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(f, v)| ((*f).to_owned(), (*v).to_owned())).collect()
}

/// `until` keeps records created strictly before it, alone, with `since`,
/// and across pages.
pub async fn filter_until(h: &Harness) {
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(h.store.append(event("stripe", &[])).await.unwrap().id);
        h.clock.advance(Duration::from_millis(10));
    }
    let at = |ms: u64| Some(START.plus(Duration::from_millis(ms)));
    let newest_first = |range: std::ops::Range<usize>| ids[range].iter().rev().copied().collect::<Vec<_>>();

    let until = RecordFilter { until: at(50), ..Default::default() };
    assert_eq!(all_pages(h, &until, 100).await, newest_first(0..5), "the record at 50ms is not before 50ms");
    assert_eq!(all_pages(h, &until, 2).await, newest_first(0..5), "paged");
    let window = RecordFilter { since: at(20), until: at(50), ..Default::default() };
    assert_eq!(all_pages(h, &window, 2).await, newest_first(2..5), "since is inclusive, until exclusive");
    let nothing = RecordFilter { until: Some(START), ..Default::default() };
    assert!(all_pages(h, &nothing, 100).await.is_empty());
    let empty_window = RecordFilter { since: at(50), until: at(50), ..Default::default() };
    assert!(all_pages(h, &empty_window, 100).await.is_empty());
}

/// `meta` fields match strings as is, numbers and booleans as their JSON
/// text, all fields at once, and never nulls, objects, arrays or missing fields.
pub async fn filter_meta_fields(h: &Harness) {
    let s = &h.store;
    let ok = s
        .append(message(
            "stripe",
            json!({
                "method": "POST", "status": 200, "code": "200", "ok": true, "ratio": 1.5, "delta": -3,
                "note": null, "nested": { "a": 1 }, "list": [1], "a.b": "dot", "é": "accent",
            }),
        ))
        .await
        .unwrap()
        .id;
    let failed = s
        .append(message(
            "stripe",
            json!({ "method": "POST", "status": 502, "ok": false, "a": { "b": "dot" } }),
        ))
        .await
        .unwrap()
        .id;
    let get =
        s.append(message("github", json!({ "method": "GET", "status": 200, "code": 200 }))).await.unwrap().id;
    // Not objects: nothing matches them, and nothing fails on them.
    s.append(message("stripe", json!(["method", "POST"]))).await.unwrap();
    s.append(message("stripe", json!("method"))).await.unwrap();
    s.append(message("stripe", Value::Null)).await.unwrap();

    check(h, &[("method", "POST")], &[failed, ok]).await;
    check(h, &[("method", "post")], &[]).await;
    check(h, &[("Method", "POST")], &[]).await;
    check(h, &[("status", "200")], &[get, ok]).await;
    check(h, &[("status", "200.0")], &[]).await;
    check(h, &[("status", "\"200\"")], &[]).await;
    check(h, &[("code", "200")], &[get, ok]).await;
    check(h, &[("ok", "true")], &[ok]).await;
    check(h, &[("ok", "false")], &[failed]).await;
    check(h, &[("ok", "1")], &[]).await;
    check(h, &[("ratio", "1.5")], &[ok]).await;
    check(h, &[("delta", "-3")], &[ok]).await;
    check(h, &[("note", "null")], &[]).await;
    check(h, &[("note", "")], &[]).await;
    check(h, &[("nested", "{\"a\":1}")], &[]).await;
    check(h, &[("list", "[1]")], &[]).await;
    check(h, &[("missing", "")], &[]).await;
    check(h, &[("a.b", "dot")], &[ok]).await;
    check(h, &[("é", "accent")], &[ok]).await;
    check(h, &[("0", "method")], &[]).await;
    check(h, &[("method", "POST"), ("status", "200")], &[ok]).await;
    check(h, &[("method", "POST"), ("status", "404")], &[]).await;
    check(h, &[("status", "200"), ("status", "502")], &[]).await;
}

/// Asserts that the records with these `meta` fields are `expected`, newest first.
async fn check(h: &Harness, pairs: &[(&str, &str)], expected: &[RecordId]) {
    let filter = RecordFilter { meta: fields(pairs), ..Default::default() };
    assert_eq!(all_pages(h, &filter, 100).await, expected, "meta {pairs:?}");
}

/// `meta` combines with kind, topic, status, the time window and pages.
pub async fn filter_meta_combined(h: &Harness) {
    let s = &h.store;
    let mut posts = Vec::new();
    for i in 0..12 {
        let (topic, method) = if i % 3 == 0 { ("github", "GET") } else { ("stripe", "POST") };
        let id = s.append(message(topic, json!({ "method": method, "status": 200 + i }))).await.unwrap().id;
        if method == "POST" {
            posts.push(id);
        }
        h.clock.advance(Duration::from_millis(10));
    }
    // An event with the same meta: `kind` tells them apart.
    let event = NewRecord { meta: json!({ "method": "POST" }), ..event("stripe", &["http://a"]) };
    let event = s.append(event).await.unwrap().id;
    posts.reverse();

    let post = fields(&[("method", "POST")]);
    let message_posts =
        RecordFilter { kind: Some(RecordKind::Message), meta: post.clone(), ..Default::default() };
    assert_eq!(all_pages(h, &message_posts, 3).await, posts, "paged, newest first");
    let stripe_posts = RecordFilter { topic: Some("stripe".into()), ..message_posts.clone() };
    assert_eq!(all_pages(h, &stripe_posts, 5).await, posts);
    let github_posts = RecordFilter { topic: Some("github".into()), ..message_posts.clone() };
    assert!(all_pages(h, &github_posts, 5).await.is_empty());
    let all_posts = RecordFilter { meta: post.clone(), ..Default::default() };
    assert_eq!(all_pages(h, &all_posts, 100).await[0], event);
    let pending =
        RecordFilter { status: Some(RecordStatus::Pending), meta: post.clone(), ..Default::default() };
    assert_eq!(all_pages(h, &pending, 100).await, [event]);

    // Created at 10, 20, 40 and 50 ms: the POSTs in [10ms, 60ms).
    let window = RecordFilter {
        since: Some(START.plus(Duration::from_millis(10))),
        until: Some(START.plus(Duration::from_millis(60))),
        ..message_posts.clone()
    };
    let in_window: Vec<_> = posts[posts.len() - 4..].to_vec();
    assert_eq!(all_pages(h, &window, 1).await, in_window);
    let one = RecordFilter { meta: fields(&[("method", "POST"), ("status", "205")]), ..window };
    assert_eq!(all_pages(h, &one, 100).await, [in_window[0]]);
}

/// Field names are data, never SQL or JSON paths: hostile names and values
/// match nothing and fail nothing, and a stored field with such a name is
/// matched by exactly that name.
pub async fn filter_meta_hostile_names(h: &Harness) {
    let s = &h.store;
    let plain = s.append(message("stripe", json!({ "status": 200, "a": { "b": 1 } }))).await.unwrap().id;
    let odd = json!({
        "a\"b": "quote", "x') OR 1=1 --": "sql", "$": "dollar", "": "empty", "back\\slash": "bs",
        "q\"n.1": 7, "[0]": true,
    });
    let odd = s.append(message("stripe", odd)).await.unwrap().id;

    let hostile = [
        "a\"b\"",
        "\"",
        "x') OR 1=1 --",
        "x' OR '1'='1",
        "status\" OR \"1\"=\"1",
        "status') OR 1=1 --",
        "status'",
        "status\"",
        "\"status\"",
        "$.status",
        "$",
        "$.a.b",
        "a.b",
        "a\"].b",
        "status]",
        "[0]x",
        "*",
        "%",
        "status%",
        "_tatus",
        "\\",
        "'",
        "status\0",
        "\0",
        "status\n",
    ];
    for name in hostile {
        for value in ["200", "1", "' OR 1=1 --", "%", "\0"] {
            let filter = RecordFilter { meta: fields(&[(name, value)]), ..Default::default() };
            let found = s.records(&filter, PageRequest { after: None, limit: 100 }).await;
            let found = found.unwrap_or_else(|e| panic!("meta ({name:?}, {value:?}) failed: {e}"));
            assert!(found.items.is_empty(), "meta ({name:?}, {value:?}) matched {:?}", found.items);
        }
    }
    let topic = RecordFilter { topic: Some("stripe\0".into()), ..Default::default() };
    assert!(s.records(&topic, PageRequest { after: None, limit: 100 }).await.unwrap().items.is_empty());

    let exact = [
        ("a\"b", "quote"),
        ("x') OR 1=1 --", "sql"),
        ("$", "dollar"),
        ("", "empty"),
        ("back\\slash", "bs"),
        ("q\"n.1", "7"),
        ("[0]", "true"),
    ];
    for (name, value) in exact {
        let filter = RecordFilter { meta: fields(&[(name, value)]), ..Default::default() };
        assert_eq!(all_pages(h, &filter, 100).await, [odd], "meta ({name:?}, {value:?})");
    }
    let status = RecordFilter { meta: fields(&[("status", "200")]), ..Default::default() };
    assert_eq!(all_pages(h, &status, 100).await, [plain]);
}
