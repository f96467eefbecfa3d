//! Conformance checks of management API keys: create, list, revoke, and the
//! uniqueness of ids and hashes.

use std::time::Duration;

use super::{Harness, START};
use crate::{ApiKey, NewApiKey, StoreError};

/// A key to create, hashed as `hash-of-{id}`.
fn new_key(id: &str, scope: &str) -> NewApiKey {
    NewApiKey { id: id.to_owned(), scope: scope.to_owned(), hash: format!("hash-of-{id}") }
}

/// Created keys read back whole, with the store's time, oldest first (ties by id, bytewise).
pub async fn api_keys_create_and_list(h: &Harness) {
    let s = &h.store;
    assert!(s.api_keys().await.unwrap().is_empty());
    let first = s.api_key_create(&new_key("k2", "admin")).await.unwrap();
    assert_eq!(
        first,
        ApiKey {
            id: "k2".into(),
            scope: "admin".into(),
            hash: "hash-of-k2".into(),
            created_at: START,
            revoked_at: None,
        }
    );
    h.clock.advance(Duration::from_secs(1));
    // Created in the same millisecond: listed by id, bytewise ("B" before "a").
    let a = s.api_key_create(&new_key("a", "read")).await.unwrap();
    let b = s.api_key_create(&new_key("B", "write")).await.unwrap();
    assert_eq!((a.created_at, b.created_at), (START.plus(Duration::from_secs(1)), a.created_at));
    assert_eq!(s.api_keys().await.unwrap(), [first, b, a]);
}

/// A key whose id or hash is already stored, even by a revoked key, is
/// refused with a conflict and changes nothing.
pub async fn api_keys_reject_duplicates(h: &Harness) {
    let s = &h.store;
    let kept = s.api_key_create(&new_key("k1", "read")).await.unwrap();

    let same_id = NewApiKey { hash: "another-hash".into(), ..new_key("k1", "admin") };
    match s.api_key_create(&same_id).await {
        Err(StoreError::Conflict(message)) => assert!(message.contains("\"k1\""), "{message}"),
        other => panic!("a duplicate id must conflict, got {other:?}"),
    }
    let same_hash = NewApiKey { hash: kept.hash.clone(), ..new_key("k2", "admin") };
    match s.api_key_create(&same_hash).await {
        Err(StoreError::Conflict(message)) => {
            assert!(message.contains("hash") && !message.contains(&kept.hash), "{message}")
        }
        other => panic!("a duplicate hash must conflict, got {other:?}"),
    }
    assert_eq!(s.api_keys().await.unwrap(), std::slice::from_ref(&kept), "refused keys are not stored");

    assert!(s.api_key_revoke("k1").await.unwrap());
    let reuse = s.api_key_create(&NewApiKey { hash: "fresh".into(), ..new_key("k1", "read") }).await;
    assert!(matches!(reuse, Err(StoreError::Conflict(_))), "a revoked key keeps its id: {reuse:?}");
    let rehash = s.api_key_create(&NewApiKey { hash: kept.hash.clone(), ..new_key("k3", "read") }).await;
    assert!(matches!(rehash, Err(StoreError::Conflict(_))), "a revoked key keeps its hash: {rehash:?}");

    // The refused keys left nothing behind: the id and the hash they tried are free.
    s.api_key_create(&NewApiKey { hash: "another-hash".into(), ..new_key("k2", "admin") }).await.unwrap();
    assert_eq!(s.api_keys().await.unwrap().len(), 2);
}

/// Revoking answers `true` once, then `false`; unknown ids `false`; revoked
/// keys stay listed with the time of their revocation.
pub async fn api_keys_revoke(h: &Harness) {
    let s = &h.store;
    s.api_key_create(&new_key("a", "admin")).await.unwrap();
    s.api_key_create(&new_key("b", "read")).await.unwrap();
    h.clock.advance(Duration::from_secs(5));
    assert!(s.api_key_revoke("a").await.unwrap());
    h.clock.advance(Duration::from_secs(5));
    assert!(!s.api_key_revoke("a").await.unwrap(), "already revoked");
    assert!(!s.api_key_revoke("unknown").await.unwrap());
    assert!(!s.api_key_revoke("").await.unwrap());
    let keys = s.api_keys().await.unwrap();
    let revoked: Vec<_> = keys.iter().map(|k| (k.id.as_str(), k.revoked_at)).collect();
    assert_eq!(revoked, [("a", Some(START.plus(Duration::from_secs(5)))), ("b", None)]);
    assert_eq!(keys[0].created_at, START, "revoking keeps the creation time");
}

/// Concurrent creates of one id: exactly one is stored, the others conflict.
pub async fn api_keys_concurrent_creates(h: &Harness) {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = h.store.clone();
            tokio::spawn(async move {
                let key = NewApiKey { hash: format!("hash-{i}"), ..new_key("same", "admin") };
                store.api_key_create(&key).await
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(h.store.api_keys().await.unwrap().len(), 1);
}
