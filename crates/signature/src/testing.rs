//! Signers that produce the headers each provider would send, for tests and
//! demos. Production code verifies; only [`crate::sign_v1`] signs for real.

use http::HeaderMap;

use crate::{Scheme, crypto, standard, twilio};

/// The headers `scheme`'s provider would send with `body`, signed with
/// `secret` at `now_unix_secs`, including its delivery-id header when it has
/// one. Stripe and Slack carry their event id in the body, so for them
/// `delivery_id` is unused: put the id in the body.
///
/// For Twilio, a `url` whose query has `bodySHA256` is signed as a JSON
/// request (see [`twilio_json_url`]); any other is signed as a form POST of
/// `body`. For Standard Webhooks, a `whsec_` secret signs `v1` and a `whsk_`
/// secret (see [`standard_keypair`]) signs `v1a`.
///
/// # Panics
///
/// If the inputs cannot make a request: a Standard secret without its
/// prefix, a delivery id that is not a header value, or a Twilio form body
/// that is not UTF-8 once decoded. These are test-writing mistakes.
pub fn sign(
    scheme: &Scheme,
    secret: &str,
    body: &[u8],
    url: &str,
    now_unix_secs: i64,
    delivery_id: &str,
) -> HeaderMap {
    match try_sign(scheme, secret, body, url, now_unix_secs, delivery_id) {
        Ok(headers) => headers,
        Err(reason) => panic!("cannot sign this test request: {reason}"),
    }
}

pub(crate) fn try_sign(
    scheme: &Scheme,
    secret: &str,
    body: &[u8],
    url: &str,
    now: i64,
    delivery_id: &str,
) -> Result<HeaderMap, &'static str> {
    match scheme {
        Scheme::Stripe => Ok(crate::stripe::sign(secret, body, now)),
        Scheme::Github => crate::github::sign(secret, body, delivery_id),
        Scheme::Shopify => crate::shopify::sign(secret, body, delivery_id),
        Scheme::Slack => Ok(crate::slack::sign(secret, body, now)),
        Scheme::Twilio => twilio::sign(secret, body, url, delivery_id),
        Scheme::Standard => standard::sign(secret, body, now, delivery_id),
        Scheme::Hmac(spec) => crate::hmac::sign(spec, secret, body),
    }
}

/// `url` with the `bodySHA256` query parameter Twilio adds when it sends a
/// JSON body; the signature then covers the URL and the digest covers the body.
pub fn twilio_json_url(url: &str, body: &[u8]) -> String {
    let digest = hex::encode(crypto::sha256(body));
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}bodySHA256={digest}")
}

/// A Standard Webhooks Ed25519 key pair from a 32-byte seed:
/// (`whsk_` signing secret, `whpk_` public key to configure on a verifier).
pub fn standard_keypair(seed: [u8; 32]) -> (String, String) {
    standard::keypair(seed)
}
