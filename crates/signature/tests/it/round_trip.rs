//! What `testing::sign` produces verifies, for random bodies, secrets, ids and
//! clocks; and stops verifying once the clock leaves the tolerance.

use junction_signature::{
    Encoding, HmacAlgorithm, Rejection, Request, Scheme, Verified, Verifier, sign_v1, testing,
};
use proptest::{collection::vec, prelude::*, sample::select};

use crate::{CASES, TOLERANCE, generic_spec};

const URL: &str = "https://junction.example/hooks/in?source=test";

fn secret() -> impl Strategy<Value = String> {
    "[ -~]{1,64}"
}

fn delivery_id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,40}"
}

fn now() -> impl Strategy<Value = i64> {
    0i64..4_102_444_800
}

/// A skew inside the tolerance, and one outside it in either direction.
fn skews() -> impl Strategy<Value = (i64, i64)> {
    (-300i64..=300, prop_oneof![-100_000i64..-300, 301i64..100_000])
}

fn verify(
    scheme: &Scheme,
    secrets: &[&str],
    headers: &http::HeaderMap,
    body: &[u8],
    url: &str,
    now: i64,
) -> Result<Verified, Rejection> {
    let secrets = secrets.iter().map(|s| (*s).to_owned()).collect();
    let verifier = Verifier::new(scheme.clone(), secrets, TOLERANCE).expect("valid secrets");
    verifier.verify(&Request { headers, body, url }, now)
}

/// Signs with `secret`, verifies with an older secret alongside it, at `now + skew`.
fn timestamped(
    scheme: Scheme,
    timestamp_header: &str,
    secret: &str,
    body: &[u8],
    now: i64,
    (inside, outside): (i64, i64),
) -> Result<Verified, TestCaseError> {
    let headers = testing::sign(&scheme, secret, body, URL, now, "unused");
    let verified = verify(&scheme, &["old", secret], &headers, body, URL, now + inside);
    let verified = verified.map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert_eq!(verified.timestamp, Some(now));
    let late = verify(&scheme, &[secret], &headers, body, URL, now + outside);
    prop_assert_eq!(late, Err(Rejection::TimestampOutsideTolerance { header: timestamp_header.to_owned() }));
    Ok(verified)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn stripe(secret in secret(), body in vec(any::<u8>(), 0..512), id in delivery_id(), json in any::<bool>(), now in now(), skews in skews()) {
        let body = if json { format!(r#"{{"id":"{id}","object":"event"}}"#).into_bytes() } else { body };
        let verified = timestamped(Scheme::Stripe, "Stripe-Signature", &secret, &body, now, skews)?;
        if json { prop_assert_eq!(verified.delivery_id, Some(id)); }
    }

    #[test]
    fn slack(secret in secret(), body in vec(any::<u8>(), 0..512), id in delivery_id(), json in any::<bool>(), now in now(), skews in skews()) {
        let body = if json { format!(r#"{{"type":"event_callback","event_id":"{id}"}}"#).into_bytes() } else { body };
        let verified = timestamped(Scheme::Slack, "X-Slack-Request-Timestamp", &secret, &body, now, skews)?;
        if json { prop_assert_eq!(verified.delivery_id, Some(id)); }
    }

    #[test]
    fn standard(key in vec(any::<u8>(), 24..64), seed in any::<[u8; 32]>(), asymmetric in any::<bool>(), body in vec(any::<u8>(), 0..512), id in delivery_id(), now in now(), skews in skews()) {
        let symmetric = format!("whsec_{}", base64_encode(&key));
        let (signing, public) = testing::standard_keypair(seed);
        let (sign_with, verify_with) = if asymmetric { (signing, public) } else { (symmetric.clone(), symmetric.clone()) };
        let scheme = Scheme::Standard;
        let headers = testing::sign(&scheme, &sign_with, &body, URL, now, &id);
        let verified = verify(&scheme, &["whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &verify_with], &headers, &body, URL, now + skews.0);
        prop_assert_eq!(verified, Ok(Verified { delivery_id: Some(id.clone()), timestamp: Some(now) }));
        let late = verify(&scheme, &[&verify_with], &headers, &body, URL, now + skews.1);
        prop_assert_eq!(late, Err(Rejection::TimestampOutsideTolerance { header: "webhook-timestamp".into() }));
        // The public signer is what Junction puts on its forwards.
        let v1 = sign_v1(&symmetric, &id, now, &body).expect("whsec_ secret");
        let headers = testing::sign(&scheme, &symmetric, &body, URL, now, &id);
        prop_assert_eq!(headers["webhook-signature"].to_str().unwrap(), v1);
    }

    #[test]
    fn github(secret in secret(), body in vec(any::<u8>(), 0..512), id in delivery_id()) {
        let headers = testing::sign(&Scheme::Github, &secret, &body, URL, 0, &id);
        let verified = verify(&Scheme::Github, &["old", &secret], &headers, &body, URL, 0);
        prop_assert_eq!(verified, Ok(Verified { delivery_id: Some(id), timestamp: None }));
    }

    #[test]
    fn shopify(secret in secret(), body in vec(any::<u8>(), 0..512), id in delivery_id()) {
        let headers = testing::sign(&Scheme::Shopify, &secret, &body, URL, 0, &id);
        let verified = verify(&Scheme::Shopify, &["old", &secret], &headers, &body, URL, 0);
        prop_assert_eq!(verified, Ok(Verified { delivery_id: Some(id), timestamp: None }));
    }

    #[test]
    fn twilio_json(secret in secret(), body in vec(any::<u8>(), 0..512), id in delivery_id(), url in twilio_url()) {
        let url = testing::twilio_json_url(&url, &body);
        let headers = testing::sign(&Scheme::Twilio, &secret, &body, &url, 0, &id);
        let verified = verify(&Scheme::Twilio, &["old", &secret], &headers, &body, &url, 0);
        prop_assert_eq!(verified, Ok(Verified { delivery_id: Some(id), timestamp: None }));
    }

    #[test]
    fn twilio_form(secret in secret(), params in vec(("[ -~é]{0,8}", "[ -~é€]{0,12}"), 0..8), id in delivery_id(), url in twilio_url()) {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
        let headers = testing::sign(&Scheme::Twilio, &secret, body.as_bytes(), &url, 0, &id);
        let verified = verify(&Scheme::Twilio, &["old", &secret], &headers, body.as_bytes(), &url, 0);
        prop_assert_eq!(verified, Ok(Verified { delivery_id: Some(id.clone()), timestamp: None }));
        // Twilio may have signed the other port spelling of the same URL.
        let other = toggle_default_port(&url);
        let verified = verify(&Scheme::Twilio, &[&secret], &headers, body.as_bytes(), &other, 0);
        prop_assert_eq!(verified, Ok(Verified { delivery_id: Some(id), timestamp: None }));
    }

    #[test]
    fn generic_hmac(secret in secret(), body in vec(any::<u8>(), 0..512), algorithm in select(vec![HmacAlgorithm::Sha1, HmacAlgorithm::Sha256, HmacAlgorithm::Sha512]), hex in any::<bool>(), prefix in "[a-z0-9=]{0,8}") {
        let scheme = generic_spec(algorithm, if hex { Encoding::Hex } else { Encoding::Base64 }, &prefix);
        let headers = testing::sign(&scheme, &secret, &body, URL, 0, "unused");
        prop_assert_eq!(verify(&scheme, &["old", &secret], &headers, &body, URL, 0), Ok(Verified::default()));
    }
}

fn twilio_url() -> impl Strategy<Value = String> {
    "(https://[a-z]{1,8}\\.example(:443)?|http://[a-z]{1,8}\\.example(:80)?)/[a-z/]{0,8}(\\?[a-z]{1,3}=[a-z0-9]{0,3})?"
}

fn toggle_default_port(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("generated URLs have a scheme");
    let end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let authority = match authority.split_once(':') {
        Some((host, _)) => host.to_owned(),
        None if scheme == "https" => format!("{authority}:443"),
        None => format!("{authority}:80"),
    };
    format!("{scheme}://{authority}{path}")
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
