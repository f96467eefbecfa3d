//! Hostile headers, bodies, URLs and clocks: every verifier answers, none panics.

use http::{HeaderMap, HeaderName, HeaderValue};
use junction_signature::{Encoding, HmacAlgorithm, Request, Scheme, Verifier, testing};
use proptest::{collection::vec, prelude::*, sample::select};

use crate::{CASES, TOLERANCE, generic_spec};

const NAMES: &[&str] = &[
    "stripe-signature",
    "x-hub-signature-256",
    "x-github-delivery",
    "x-shopify-hmac-sha256",
    "x-shopify-webhook-id",
    "x-shopify-event-id",
    "x-slack-signature",
    "x-slack-request-timestamp",
    "x-twilio-signature",
    "i-twilio-idempotency-token",
    "content-type",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "svix-id",
    "svix-timestamp",
    "svix-signature",
    "x-signature",
];
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PUBLIC_KEY: &str = "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=";
const URL: &str = "https://junction.example/hooks/in?x=1";

/// Raw bytes, or pieces of the real formats glued together, so parsing gets
/// past the first check as often as it fails at it.
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        "t=[0-9]{0,20}",
        "v1=[0-9a-fA-F]{0,70}",
        "v0=[0-9a-z]{0,66}",
        "sha256=[0-9a-f]{0,66}",
        "v1a?,[A-Za-z0-9+/=]{0,90}",
        "[0-9]{1,20}",
        "[A-Za-z0-9+/]{0,30}={0,3}",
        "[ ,=.:;]",
        "application/(json|x-www-form-urlencoded)(; charset=utf-8)?",
    ];
    prop_oneof![
        vec(any::<u8>(), 0..64),
        (vec(token, 0..6), select(vec![",", " ", ""])).prop_map(|(t, sep)| t.join(sep).into_bytes()),
        Just(vec![b'a'; 9000]),
        Just(vec!["v1=00"; 40].join(",").into_bytes()),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..256),
        "([A-Za-z%0-9+]{0,6}=?[A-Za-z%0-9+]{0,6}&?){0,6}".prop_map(String::into_bytes),
        r#"\{("id"|"event_id"):("[a-z_0-9]{0,8}"|[0-9]{1,3}|null)\}"#.prop_map(String::into_bytes),
    ]
}

fn url() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "(https?|ftp|HTTP)://([a-z@:]{0,6}|\\[::1\\])(:[0-9a-z]{0,7})?(/[a-z.]{0,4})?(\\?((bodySHA256|a)=[0-9a-f%+]{0,66}&?){0,3})?(#.{0,4})?",
    ]
}

type Input = (Vec<(usize, Vec<u8>, bool)>, Vec<u8>, String, i64);

fn input() -> impl Strategy<Value = Input> {
    let now = prop_oneof![any::<i64>(), 1_699_999_000i64..1_700_001_000];
    // Mostly replace a header; sometimes add a second copy of it.
    let overrides = vec((0..NAMES.len(), header_value(), prop::bool::weighted(0.1)), 0..4);
    (overrides, prop_oneof![Just(b"a=1".to_vec()), body()], url(), now)
}

/// Starts from a genuine delivery so later checks are reached, then overwrites
/// or adds the generated headers.
fn check(scheme: Scheme, secrets: &[&str], (overrides, body, url, now): Input) {
    let signing_secret = if scheme == Scheme::Standard { SECRET } else { secrets[0] };
    let mut headers: HeaderMap = testing::sign(&scheme, signing_secret, b"a=1", URL, 1_700_000_000, "d-1");
    for (index, value, append) in overrides {
        let Ok(value) = HeaderValue::from_bytes(&value) else { continue };
        let name = HeaderName::from_static(NAMES[index]);
        if append {
            headers.append(name, value);
        } else {
            headers.insert(name, value);
        }
    }
    let secrets = secrets.iter().map(|s| (*s).to_owned()).collect();
    let verifier = Verifier::new(scheme, secrets, TOLERANCE).expect("valid secrets");
    for url in [url.as_str(), URL] {
        let request = Request { headers: &headers, body: &body, url };
        let _outcome = verifier.verify(&request, now);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn stripe(input in input()) { check(Scheme::Stripe, &["whsec_test_secret", "old"], input) }

    #[test]
    fn github(input in input()) { check(Scheme::Github, &["secret", "old"], input) }

    #[test]
    fn shopify(input in input()) { check(Scheme::Shopify, &["secret", "old"], input) }

    #[test]
    fn slack(input in input()) { check(Scheme::Slack, &["secret", "old"], input) }

    #[test]
    fn twilio(input in input()) { check(Scheme::Twilio, &["12345", "old"], input) }

    #[test]
    fn standard(input in input()) { check(Scheme::Standard, &[SECRET, PUBLIC_KEY], input) }

    #[test]
    fn generic_hmac(input in input(), hex in any::<bool>()) {
        let encoding = if hex { Encoding::Hex } else { Encoding::Base64 };
        check(generic_spec(HmacAlgorithm::Sha512, encoding, "sha512="), &["secret", "old"], input)
    }
}
