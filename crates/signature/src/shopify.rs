//! Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(client secret, body)>`,
//! no prefix, no timestamp; `X-Shopify-Webhook-Id` names the delivery.

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::{Encoding, HmacAlgorithm, HmacSpec, Rejection, Request, Verified, crypto::Key, header, hmac};

const SIGNATURE: &str = "X-Shopify-Hmac-Sha256";
const WEBHOOK_ID: &str = "X-Shopify-Webhook-Id";
/// Shopify's duplicate guide names this one; it is shared by the deliveries
/// of one event to several subscriptions, so it only stands in when the
/// per-delivery id is absent.
const EVENT_ID: &str = "X-Shopify-Event-Id";

pub(crate) fn verify(keys: &[Key], request: &Request<'_>) -> Result<Verified, Rejection> {
    hmac::check(keys, request, SIGNATURE, Encoding::Base64, "")?;
    let delivery_id = match header::optional(request.headers, WEBHOOK_ID)? {
        Some(id) => Some(id),
        None => header::optional(request.headers, EVENT_ID)?,
    };
    Ok(Verified { delivery_id: delivery_id.map(str::to_owned), timestamp: None })
}

pub(crate) fn sign(secret: &str, body: &[u8], delivery_id: &str) -> Result<HeaderMap, &'static str> {
    let spec = HmacSpec {
        header: HeaderName::from_static("x-shopify-hmac-sha256"),
        algorithm: HmacAlgorithm::Sha256,
        encoding: Encoding::Base64,
        prefix: String::new(),
    };
    let mut headers = hmac::sign(&spec, secret, body)?;
    let delivery = HeaderValue::from_str(delivery_id).map_err(|_| "the delivery id is not a header value")?;
    headers.insert(HeaderName::from_static("x-shopify-webhook-id"), delivery);
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Scheme, harness::*};

    const BODY: &[u8] = br#"{"id":820982911946154508,"email":"jon@example.com"}"#;

    #[test]
    fn verifies_deliveries() {
        let h = Harness::new(Scheme::Shopify, &[SECRET, OLD_SECRET]);
        let signed = h.sign(SECRET, BODY);
        let unpadded = signed[SIGNATURE].to_str().unwrap().trim_end_matches('=').to_owned();
        let event_only = with(&without(&signed, WEBHOOK_ID), EVENT_ID, "event-9");
        h.check_all([
            case("valid", signed.clone(), BODY).accepted(Some(DELIVERY_ID), None),
            case("old secret", h.sign(OLD_SECRET, BODY), BODY).accepted(Some(DELIVERY_ID), None),
            case("unpadded base64", with(&signed, SIGNATURE, &unpadded), BODY)
                .accepted(Some(DELIVERY_ID), None),
            case("event id fallback", event_only, BODY).accepted(Some("event-9"), None),
            case("webhook id wins", with(&signed, EVENT_ID, "event-9"), BODY)
                .accepted(Some(DELIVERY_ID), None),
            case("unknown secret", h.sign(OTHER_SECRET, BODY), BODY).rejected(no_match(SIGNATURE)),
            case("tampered body", signed.clone(), b"{}").rejected(no_match(SIGNATURE)),
            case("missing", without(&signed, SIGNATURE), BODY).rejected(missing(SIGNATURE)),
            case("hex, not base64", with(&signed, SIGNATURE, "sha256=0a1f"), BODY)
                .rejected(malformed(SIGNATURE)),
            case("url-safe alphabet", with(&signed, SIGNATURE, "ab-_"), BODY).rejected(malformed(SIGNATURE)),
            case("too long", with(&signed, SIGNATURE, &"A".repeat(9000)), BODY)
                .rejected(malformed(SIGNATURE)),
        ]);
    }
}
