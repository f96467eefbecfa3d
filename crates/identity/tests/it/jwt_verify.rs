//! What a single token is judged on: algorithm, key, signature and claims.

use std::time::Duration;

use junction_identity::{JwtError, Principal};
use ring::hmac;
use serde_json::json;

use crate::harness::{
    AUDIENCE, JwksServer, RSA_JWK, RSA_PUBLIC_PEM, TestKey, b64, claims, claims_with, now, pem_body,
    sign_with,
};

const GAP: Duration = Duration::from_secs(5);

#[tokio::test]
async fn valid_tokens_of_each_algorithm_verify() {
    let keys = TestKey::all();
    let server = JwksServer::start(&keys.iter().collect::<Vec<_>>()).await;
    let verifier = server.verifier(GAP);
    for key in &keys {
        let principal = verifier.verify(&key.token(&claims())).await;
        assert_eq!(
            principal,
            Ok(Principal { subject: "user-1".into(), scopes: vec!["read".into(), "write".into()] }),
            "{}",
            key.alg(),
        );
    }
    assert_eq!(server.hits(), 1, "the key set is fetched once and cached");
}

#[tokio::test]
async fn expired_tokens_are_refused_after_the_leeway() {
    let key = TestKey::ed("ed-1");
    let server = JwksServer::start(&[&key]).await;
    let verifier = server.verifier(GAP);
    let expired = key.token(&claims_with(json!({"exp": now() - 120})));
    assert_eq!(verifier.verify(&expired).await, Err(JwtError::Expired));
    let just_expired = key.token(&claims_with(json!({"exp": now() - 10})));
    assert!(verifier.verify(&just_expired).await.is_ok(), "10 s of skew is within the leeway");
}

#[tokio::test]
async fn tokens_not_yet_valid_are_refused_after_the_leeway() {
    let key = TestKey::ec("ec-1");
    let server = JwksServer::start(&[&key]).await;
    let verifier = server.verifier(GAP);
    let early = key.token(&claims_with(json!({"nbf": now() + 120})));
    assert_eq!(verifier.verify(&early).await, Err(JwtError::NotYetValid));
    let far = key.token(&claims_with(json!({"nbf": 1e300})));
    assert_eq!(verifier.verify(&far).await, Err(JwtError::NotYetValid));
    let as_text = key.token(&claims_with(json!({"nbf": (now() + 120).to_string()})));
    assert_eq!(verifier.verify(&as_text).await, Err(JwtError::Malformed));
    let almost = key.token(&claims_with(json!({"nbf": now() + 10})));
    assert!(verifier.verify(&almost).await.is_ok(), "10 s of skew is within the leeway");
    let past = key.token(&claims_with(json!({"nbf": now() - 60})));
    assert!(verifier.verify(&past).await.is_ok());
}

#[tokio::test]
async fn the_audience_must_be_ours() {
    let key = TestKey::rsa("rsa-1");
    let server = JwksServer::start(&[&key]).await;
    let verifier = server.verifier(GAP);
    for aud in [json!("someone-else"), json!(["someone-else"]), json!([]), json!("Junction")] {
        let token = key.token(&claims_with(json!({ "aud": aud })));
        assert_eq!(verifier.verify(&token).await, Err(JwtError::WrongAudience), "{aud}");
    }
    let several = key.token(&claims_with(json!({"aud": ["someone-else", AUDIENCE]})));
    assert!(verifier.verify(&several).await.is_ok(), "an array naming us is fine");
}

#[tokio::test]
async fn the_issuer_must_be_ours_exactly() {
    let key = TestKey::ed("ed-1");
    let server = JwksServer::start(&[&key]).await;
    let verifier = server.verifier(GAP);
    for iss in
        [json!("https://evil.test/"), json!("https://idp.test"), json!(["https://idp.test/"]), json!(7)]
    {
        let token = key.token(&claims_with(json!({ "iss": iss })));
        let result = verifier.verify(&token).await;
        assert!(
            matches!(result, Err(JwtError::WrongIssuer | JwtError::MissingClaim("iss"))),
            "{iss}: {result:?}"
        );
    }
}

#[tokio::test]
async fn required_claims_must_be_present() {
    let key = TestKey::ec("ec-1");
    let server = JwksServer::start(&[&key]).await;
    let verifier = server.verifier(GAP);
    for claim in ["exp", "iss", "aud", "sub"] {
        let token = key.token(&claims_with(json!({ claim: null })));
        assert_eq!(verifier.verify(&token).await, Err(JwtError::MissingClaim(claim)), "{claim}");
    }
    let text_exp = key.token(&claims_with(json!({"exp": (now() + 300).to_string()})));
    assert_eq!(verifier.verify(&text_exp).await, Err(JwtError::MissingClaim("exp")));
}

#[tokio::test]
async fn scopes_come_from_scope_and_scp() {
    let key = TestKey::ed("ed-1");
    let server = JwksServer::start(&[&key]).await;
    let verifier = server.verifier(GAP);
    let scopes = async |changes| verifier.verify(&key.token(&claims_with(changes))).await.map(|p| p.scopes);
    assert_eq!(scopes(json!({"scope": "read  write admin"})).await.unwrap(), ["read", "write", "admin"]);
    assert_eq!(scopes(json!({"scope": null, "scp": ["read", "admin"]})).await.unwrap(), ["read", "admin"]);
    assert_eq!(scopes(json!({"scope": null, "scp": "write"})).await.unwrap(), ["write"]);
    assert_eq!(scopes(json!({"scope": "read", "scp": ["read", "write"]})).await.unwrap(), ["read", "write"]);
    assert_eq!(scopes(json!({"scope": null})).await.unwrap(), Vec::<String>::new());
    assert_eq!(scopes(json!({"scope": ["read"]})).await.unwrap(), ["read"]);
    assert_eq!(scopes(json!({"scp": [1, 2]})).await, Err(JwtError::Malformed));
}

#[tokio::test]
async fn altered_tokens_are_refused() {
    let keys = TestKey::all();
    let server = JwksServer::start(&keys.iter().collect::<Vec<_>>()).await;
    let verifier = server.verifier(GAP);
    for key in &keys {
        let token = key.token(&claims());
        let parts: Vec<&str> = token.split('.').collect();
        // A payload that claims more, under the original signature.
        let elevated = b64(claims_with(json!({"sub": "admin", "scope": "admin"})).to_string().as_bytes());
        let tampered = format!("{}.{elevated}.{}", parts[0], parts[2]);
        assert_eq!(verifier.verify(&tampered).await, Err(JwtError::BadSignature), "{}", key.alg());
        // A signature with one bit flipped.
        let mut signature = base64_decode(parts[2]);
        signature[5] ^= 1;
        let flipped = format!("{}.{}.{}", parts[0], parts[1], b64(&signature));
        assert_eq!(verifier.verify(&flipped).await, Err(JwtError::BadSignature), "{}", key.alg());
        // No signature at all.
        let stripped = format!("{}.{}.", parts[0], parts[1]);
        assert!(verifier.verify(&stripped).await.is_err(), "{}", key.alg());
    }
    // Signed by another key of the same type that claims a published kid.
    let impostor = TestKey::ec("ec-1");
    assert_eq!(verifier.verify(&impostor.token(&claims())).await, Err(JwtError::BadSignature));
}

#[tokio::test]
async fn alg_none_is_refused_before_any_key_is_fetched() {
    let key = TestKey::rsa("rsa-1");
    let server = JwksServer::start(&[&key]).await;
    let verifier = server.verifier(GAP);
    for alg in ["none", "None", "NONE"] {
        let unsigned = sign_with(&json!({"alg": alg, "kid": "rsa-1"}), &claims(), |_| Vec::new());
        assert_eq!(verifier.verify(&unsigned).await, Err(JwtError::DisallowedAlgorithm), "{alg}");
    }
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn hmac_signed_with_the_public_key_is_refused() {
    let key = TestKey::rsa("rsa-1");
    let server = JwksServer::start(&[&key]).await;
    let verifier = server.verifier(GAP);
    assert!(verifier.verify(&key.token(&claims())).await.is_ok());
    // The classic confusion attack: the public key, in each form an attacker
    // might find, used as an HMAC secret.
    let jwk: serde_json::Value = serde_json::from_str(RSA_JWK).unwrap();
    let secrets: [Vec<u8>; 4] = [
        RSA_PUBLIC_PEM.as_bytes().to_vec(),
        pem_body(RSA_PUBLIC_PEM),
        RSA_JWK.as_bytes().to_vec(),
        base64_decode(jwk["n"].as_str().unwrap()),
    ];
    for secret in &secrets {
        for (alg, mac) in
            [("HS256", hmac::HMAC_SHA256), ("HS384", hmac::HMAC_SHA384), ("HS512", hmac::HMAC_SHA512)]
        {
            let header = json!({"alg": alg, "kid": "rsa-1", "typ": "JWT"});
            let token = sign_with(&header, &claims(), |message| {
                hmac::sign(&hmac::Key::new(mac, secret), message).as_ref().to_vec()
            });
            assert_eq!(verifier.verify(&token).await, Err(JwtError::DisallowedAlgorithm), "{alg}");
        }
    }
}

#[tokio::test]
async fn the_header_alg_must_match_the_key_it_names() {
    let [rsa, ec, ed] = TestKey::all();
    let server = JwksServer::start(&[&rsa, &ec, &ed]).await;
    let verifier = server.verifier(GAP);
    // Each signer claims another key's kid, with its own (accepted) algorithm.
    let cases =
        [(&ec, "rsa-1"), (&rsa, "ec-1"), (&ed, "ec-1"), (&ec, "ed-1"), (&rsa, "ed-1"), (&ed, "rsa-1")];
    for (signer, kid) in cases {
        let token = signer.token_with_header(&json!({"alg": signer.alg(), "kid": kid}), &claims());
        assert_eq!(
            verifier.verify(&token).await,
            Err(JwtError::AlgorithmMismatch),
            "{} on {kid}",
            signer.alg()
        );
    }
    // A JWK that states its `alg` is held to it too.
    let mut pinned = rsa.jwk();
    pinned["kid"] = "pinned".into();
    server.set_document(json!({"keys": [pinned]}).to_string());
    let fresh = server.verifier(GAP);
    let token = rsa.token_with_header(&json!({"alg": "RS256", "kid": "pinned"}), &claims());
    assert!(fresh.verify(&token).await.is_ok());
    let token = ec.token_with_header(&json!({"alg": "ES256", "kid": "pinned"}), &claims());
    assert_eq!(fresh.verify(&token).await, Err(JwtError::AlgorithmMismatch));
}

#[tokio::test]
async fn a_token_without_kid_uses_the_only_key() {
    let key = TestKey::ed("only");
    let server = JwksServer::start(&[&key]).await;
    let verifier = server.verifier(GAP);
    let token = key.token_with_header(&json!({"alg": "EdDSA"}), &claims());
    assert!(verifier.verify(&token).await.is_ok());

    let other = TestKey::ec("second");
    server.set_keys(&[&key, &other]);
    let verifier = server.verifier(GAP);
    assert_eq!(verifier.verify(&token).await, Err(JwtError::UnknownKey), "ambiguous with two keys");
}

#[tokio::test]
async fn errors_never_repeat_the_token_or_its_claims() {
    let key = TestKey::rsa("rsa-1");
    let server = JwksServer::start(&[&key]).await;
    let verifier = server.verifier(GAP);
    let secretive =
        json!({"sub": "sub-SECRET", "aud": "aud-SECRET", "iss": "iss-SECRET", "scope": "scope-SECRET"});
    let tokens = [
        key.token(&claims_with(secretive.clone())),
        key.token(&claims_with(json!({"exp": now() - 999, "sub": "sub-SECRET"}))),
        TestKey::rsa("kid-SECRET").token(&claims()),
        format!("{}x", key.token(&claims())),
        "header-SECRET.payload-SECRET.signature-SECRET".to_owned(),
    ];
    for token in tokens {
        let error = verifier.verify(&token).await.unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("SECRET") && !shown.contains(&token), "{shown}");
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    URL_SAFE_NO_PAD.decode(text).unwrap()
}
