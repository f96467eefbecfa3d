//! Whatever arrives as a bearer token, `verify` answers instead of panicking.

use std::time::Duration;

use proptest::{collection::vec, prelude::*};
use serde_json::json;

use crate::harness::{JwksServer, TestKey, b64};

/// Modest, so the whole suite stays fast on a shared machine.
const CASES: u32 = 256;

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        vec(any::<u8>(), 0..96).prop_map(|bytes| b64(&bytes)),
        any::<String>().prop_map(|text| b64(text.as_bytes())),
        "[A-Za-z0-9_=+/-]{0,64}",
        any::<String>(),
    ]
}

/// A header the verifier gets past: an accepted or refused `alg`, a published or unknown `kid`.
fn header() -> impl Strategy<Value = String> {
    let alg = prop_oneof![
        prop::sample::select(vec!["RS256", "ES256", "EdDSA", "none", "HS256"]).prop_map(str::to_owned),
        ".{0,8}",
    ];
    let kid =
        prop_oneof![Just(Some("rsa-1")), Just(Some("ec-1")), Just(Some("ed-1")), Just(None), Just(Some("x"))];
    (alg, kid).prop_map(|(alg, kid)| b64(json!({"alg": alg, "kid": kid}).to_string().as_bytes()))
}

/// Claims-like JSON with fields of any type.
fn payload() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        any::<String>().prop_map(|s| json!(s)),
        vec(any::<String>(), 0..3).prop_map(|v| json!(v)),
        Just(json!(null)),
        Just(json!({"nested": true})),
    ];
    let name = prop_oneof![
        Just("iss"),
        Just("aud"),
        Just("sub"),
        Just("exp"),
        Just("nbf"),
        Just("scope"),
        Just("scp"),
        Just("other"),
    ];
    vec((name, value), 0..8).prop_map(|fields| {
        let map: serde_json::Map<String, serde_json::Value> =
            fields.into_iter().map(|(name, value)| (name.to_owned(), value)).collect();
        b64(serde_json::Value::Object(map).to_string().as_bytes())
    })
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        vec(segment(), 0..6).prop_map(|parts| parts.join(".")),
        (header(), payload(), segment()).prop_map(|(h, p, s)| format!("{h}.{p}.{s}")),
        (header(), segment(), vec(any::<u8>(), 0..600)).prop_map(|(h, p, s)| format!("{h}.{p}.{}", b64(&s))),
    ]
}

#[test]
fn verify_never_panics() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let keys = TestKey::all();
    let server = runtime.block_on(JwksServer::start(&keys.iter().collect::<Vec<_>>()));
    let verifier = server.verifier(Duration::from_secs(5));

    proptest!(ProptestConfig::with_cases(CASES), |(token in token())| {
        // Any answer is fine; a panic fails the test.
        let _answer = runtime.block_on(verifier.verify(&token));
    });

    // Real keys, real signatures, arbitrary claims: a panic in claim handling
    // after the signature check would only show up here.
    proptest!(ProptestConfig::with_cases(CASES), |(claims in payload(), which in 0..3usize)| {
        let key = &keys[which];
        let claims: serde_json::Value = {
            use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&claims).unwrap()).unwrap()
        };
        let _answer = runtime.block_on(verifier.verify(&key.token(&claims)));
    });
    drop(server);
}
