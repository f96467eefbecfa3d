//! How the verifier gets the provider's keys: caching, refetching on an
//! unknown `kid` (rate limited and shared), rotation, outages, and key sets
//! with keys it cannot use.

use std::{net::TcpListener, time::Duration};

use junction_identity::{FetchError, JwtConfig, JwtError, JwtVerifier};
use serde_json::{Value, json};

use crate::harness::{AUDIENCE, ISSUER, JwksServer, RSA_1024_JWK, TestKey, claims, verify_eventually};

/// How long a test polls for something that should happen within milliseconds.
const PATIENCE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn an_unknown_kid_fails_after_one_refetch() {
    let key = TestKey::ed("ed-1");
    let server = JwksServer::start(&[&key]).await;
    let verifier = server.verifier(Duration::from_millis(50));
    assert!(verifier.verify(&key.token(&claims())).await.is_ok());
    assert_eq!(server.hits(), 1);
    tokio::time::sleep(Duration::from_millis(100)).await;

    let stranger = TestKey::ed("not-published");
    assert_eq!(verifier.verify(&stranger.token(&claims())).await, Err(JwtError::UnknownKey));
    assert_eq!(server.hits(), 2, "exactly one refetch for the unknown kid");
}

#[tokio::test]
async fn rotated_keys_are_picked_up_and_removed_keys_stop_working() {
    let old = TestKey::rsa("2024-key");
    let new = TestKey::ec("2025-key");
    let server = JwksServer::start(&[&old]).await;
    let verifier = server.verifier(Duration::from_millis(100));
    let old_token = old.token(&claims());
    assert!(verifier.verify(&old_token).await.is_ok());

    server.set_keys(&[&new]);
    let new_token = new.token(&claims());
    // Within the refetch interval the new kid is unknown; once it has passed, one refetch finds it.
    assert!(verify_eventually(&verifier, &new_token, PATIENCE).await.is_ok());
    assert_eq!(server.hits(), 2, "the key set was fetched once more, not once per attempt");

    assert_eq!(verifier.verify(&old_token).await, Err(JwtError::UnknownKey));
    // Still unknown once another refetch is allowed.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(verifier.verify(&old_token).await, Err(JwtError::UnknownKey));
    assert!(verifier.verify(&new_token).await.is_ok());
}

#[tokio::test]
async fn unknown_kids_refetch_at_most_once_per_interval() {
    let key = TestKey::ec("ec-1");
    let server = JwksServer::start(&[&key]).await;
    let verifier = server.verifier(Duration::from_millis(700));
    assert!(verifier.verify(&key.token(&claims())).await.is_ok());
    assert_eq!(server.hits(), 1);

    let strangers: Vec<String> =
        (0..40).map(|i| TestKey::ed(&format!("made-up-{i}")).token(&claims())).collect();
    // Right after a fetch, made-up kids cause none, in sequence or at once.
    for token in &strangers[..20] {
        assert_eq!(verifier.verify(token).await, Err(JwtError::UnknownKey));
    }
    let at_once = strangers[20..].iter().map(|token| {
        let verifier = verifier.clone();
        let token = token.clone();
        tokio::spawn(async move { verifier.verify(&token).await })
    });
    for task in at_once.collect::<Vec<_>>() {
        assert_eq!(task.await.unwrap(), Err(JwtError::UnknownKey));
    }
    assert_eq!(server.hits(), 1);

    // After the interval, one more, however many made-up kids arrive.
    tokio::time::sleep(Duration::from_millis(800)).await;
    for token in &strangers {
        assert_eq!(verifier.verify(token).await, Err(JwtError::UnknownKey));
    }
    assert_eq!(server.hits(), 2);
    assert!(verifier.verify(&key.token(&claims())).await.is_ok(), "known keys keep working meanwhile");
    assert_eq!(server.hits(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_verifications_share_one_fetch() {
    let key = TestKey::ed("ed-1");
    let server = JwksServer::start(&[&key]).await;
    server.set_delay(Duration::from_millis(300));
    // No rate limit at all, so only the sharing keeps this to one fetch per round.
    let verifier = server.verifier(Duration::ZERO);

    let round = async |token: String| {
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let verifier = verifier.clone();
                let token = token.clone();
                tokio::spawn(async move { verifier.verify(&token).await })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        results
    };

    // First use: one fetch for all twenty.
    assert!(round(key.token(&claims())).await.iter().all(Result::is_ok));
    assert_eq!(server.hits(), 1);
    // The same kid the provider does not publish, twenty times at once: one refetch.
    let stranger = TestKey::ed("not-published").token(&claims());
    assert!(round(stranger).await.iter().all(|r| *r == Err(JwtError::UnknownKey)));
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn an_unreachable_provider_means_keys_unavailable_until_it_recovers() {
    let key = TestKey::rsa("rsa-1");
    let server = JwksServer::start(&[&key]).await;
    server.fail_with(503);
    let verifier = server.verifier(Duration::from_millis(200));
    let token = key.token(&claims());

    let down = JwtError::KeysUnavailable(FetchError::Status(503));
    assert_eq!(verifier.verify(&token).await, Err(down.clone()));
    // Within the interval the failure is remembered, not retried.
    assert_eq!(verifier.verify(&token).await, Err(down.clone()));
    assert_eq!(server.hits(), 1);
    assert_eq!(
        down.to_string(),
        "the identity provider's signing keys are unavailable: the JWKS endpoint answered HTTP 503"
    );

    server.set_keys(&[&key]);
    assert!(verify_eventually(&verifier, &token, PATIENCE).await.is_ok());
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_provider_that_refuses_connections_means_keys_unavailable() {
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let verifier = JwtVerifier::new(JwtConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        jwks_url: format!("http://{closed}/jwks.json").parse().unwrap(),
    });
    let token = TestKey::ed("ed-1").token(&claims());
    assert_eq!(verifier.verify(&token).await, Err(JwtError::KeysUnavailable(FetchError::Request)));
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused() {
    let verifier = JwtVerifier::new(JwtConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        jwks_url: "http://idp.example.com/jwks.json".parse().unwrap(),
    });
    let token = TestKey::ed("ed-1").token(&claims());
    assert_eq!(verifier.verify(&token).await, Err(JwtError::KeysUnavailable(FetchError::InsecureUrl)));
}

#[tokio::test]
async fn old_keys_are_refreshed_on_use_and_kept_while_the_provider_is_down() {
    let first = TestKey::ed("ed-1");
    let second = TestKey::ec("ec-2");
    let server = JwksServer::start(&[&first]).await;
    let verifier = server.verifier(Duration::ZERO).with_key_max_age(Duration::from_millis(200));
    assert!(verifier.verify(&first.token(&claims())).await.is_ok());
    assert_eq!(server.hits(), 1);

    // Once the keys are old, the next verification refetches, even for a known kid.
    server.set_keys(&[&first, &second]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(verifier.verify(&first.token(&claims())).await.is_ok());
    assert_eq!(server.hits(), 2);

    // When that refresh fails, the keys at hand still verify.
    server.fail_with(500);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(verifier.verify(&second.token(&claims())).await.is_ok());
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn unusable_keys_in_the_set_are_skipped_and_the_rest_kept() {
    let keys = TestKey::all();
    let server = JwksServer::start(&[]).await;
    let mut small: Value = serde_json::from_str(RSA_1024_JWK).unwrap();
    small["kid"] = "rsa-small".into();
    let mut entries = vec![
        small,
        json!({"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}),
        json!({"kty": "EC", "crv": "P-521", "kid": "p521", "x": "AA", "y": "AA"}),
        json!({"kty": "OKP", "crv": "X25519", "kid": "x25519", "x": "AA"}),
        json!({"kty": "RSA", "kid": "enc", "use": "enc", "alg": "RSA-OAEP", "n": "AA", "e": "AQAB"}),
        json!({"kty": "unknown"}),
    ];
    entries.extend(keys.iter().map(TestKey::jwk));
    server.set_document(json!({ "keys": entries }).to_string());
    let verifier = server.verifier(Duration::from_secs(5));
    for key in &keys {
        assert!(verifier.verify(&key.token(&claims())).await.is_ok(), "{}", key.alg());
    }
    // A token naming a skipped key finds nothing to verify with.
    let rsa = &keys[0];
    let token = rsa.token_with_header(&json!({"alg": "RS256", "kid": "rsa-small"}), &claims());
    assert_eq!(verifier.verify(&token).await, Err(JwtError::UnknownKey));
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_document_that_is_not_a_key_set_means_keys_unavailable() {
    let key = TestKey::ed("ed-1");
    let server = JwksServer::start(&[]).await;
    server.set_document("<html>maintenance</html>".into());
    let verifier = server.verifier(Duration::from_secs(5));
    assert_eq!(
        verifier.verify(&key.token(&claims())).await,
        Err(JwtError::KeysUnavailable(FetchError::NotAKeySet))
    );
}
