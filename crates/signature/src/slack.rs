//! Slack: `X-Slack-Signature: v0=<hex>` over `"v0:{X-Slack-Request-Timestamp}:{body}"`,
//! HMAC-SHA256 with the app's signing secret.

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::{
    HmacAlgorithm, Rejection, Request, Verified, crypto,
    crypto::Key,
    header::{self, Freshness},
    payload,
};

const SIGNATURE: &str = "X-Slack-Signature";
const TIMESTAMP: &str = "X-Slack-Request-Timestamp";
const VERSION: &str = "v0";

pub(crate) fn verify(
    keys: &[Key],
    request: &Request<'_>,
    freshness: Freshness,
) -> Result<Verified, Rejection> {
    let timestamp_text = header::required(request.headers, TIMESTAMP)?;
    let timestamp = header::timestamp(TIMESTAMP, timestamp_text)?;
    let value = header::required(request.headers, SIGNATURE)?;
    let hex_signature = value
        .strip_prefix("v0=")
        .ok_or_else(|| header::malformed(SIGNATURE, "it does not start with v0="))?;
    let signature =
        hex::decode(hex_signature).map_err(|_| header::malformed(SIGNATURE, "the signature is not hex"))?;
    freshness.check(TIMESTAMP, timestamp)?;
    let signed = [VERSION.as_bytes(), b":", timestamp_text.as_bytes(), b":", request.body];
    if !crypto::any_mac_matches(keys, &signed, &[signature]) {
        return Err(Rejection::NoMatchingSignature { header: SIGNATURE.to_owned() });
    }
    // Events API payloads carry `event_id`; slash commands and interactions have none.
    Ok(Verified {
        delivery_id: payload::json_string_field(request.body, "event_id"),
        timestamp: Some(timestamp),
    })
}

pub(crate) fn sign(secret: &str, body: &[u8], now: i64) -> HeaderMap {
    let key = crypto::hmac_key(HmacAlgorithm::Sha256, secret.as_bytes());
    let now_text = now.to_string();
    let tag = crypto::mac(&key, &[VERSION.as_bytes(), b":", now_text.as_bytes(), b":", body]);
    let signature = format!("{VERSION}={}", hex::encode(tag.as_ref()));
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static("x-slack-request-timestamp"),
        HeaderValue::from_str(&now_text).expect("ASCII"),
    );
    headers.insert(
        HeaderName::from_static("x-slack-signature"),
        HeaderValue::from_str(&signature).expect("ASCII"),
    );
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Scheme, harness::*};

    const BODY: &[u8] =
        br#"{"type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention"}}"#;
    const EVENT: Option<&str> = Some("Ev08MFMKH6");

    #[test]
    fn verifies_deliveries() {
        let h = Harness::new(Scheme::Slack, &[SECRET, OLD_SECRET]);
        let signed = h.sign(SECRET, BODY);
        let upper = signed[SIGNATURE].to_str().unwrap().to_uppercase().replace("V0=", "v0=");
        h.check_all([
            case("valid", signed.clone(), BODY).accepted(EVENT, Some(NOW)),
            case("old secret", h.sign(OLD_SECRET, BODY), BODY).accepted(EVENT, Some(NOW)),
            case("upper-case hex", with(&signed, SIGNATURE, &upper), BODY).accepted(EVENT, Some(NOW)),
            case("form body", h.sign(SECRET, b"command=%2Fx"), b"command=%2Fx").accepted(None, Some(NOW)),
            case("unknown secret", h.sign(OTHER_SECRET, BODY), BODY).rejected(no_match(SIGNATURE)),
            case("tampered body", signed.clone(), b"{}").rejected(no_match(SIGNATURE)),
            case("tampered timestamp", with(&signed, TIMESTAMP, &(NOW + 1).to_string()), BODY)
                .rejected(no_match(SIGNATURE)),
            case("too old", signed.clone(), BODY).at(NOW + 301).rejected(outside_tolerance(TIMESTAMP)),
            case("from the future", signed.clone(), BODY)
                .at(NOW - 301)
                .rejected(outside_tolerance(TIMESTAMP)),
            case("missing signature", without(&signed, SIGNATURE), BODY).rejected(missing(SIGNATURE)),
            case("missing timestamp", without(&signed, TIMESTAMP), BODY).rejected(missing(TIMESTAMP)),
            case("other version", with(&signed, SIGNATURE, "v1=00"), BODY).rejected(malformed(SIGNATURE)),
            case("not hex", with(&signed, SIGNATURE, "v0=nope"), BODY).rejected(malformed(SIGNATURE)),
            case("bad timestamp", with(&signed, TIMESTAMP, "1e9"), BODY).rejected(malformed(TIMESTAMP)),
            case("two signatures", duplicated(&signed, SIGNATURE), BODY).rejected(malformed(SIGNATURE)),
        ]);
    }

    /// Slack's "Verifying requests from Slack" example (webhooks.md §5.4).
    #[test]
    fn slack_docs_example() {
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let secret = "8f742231b10e8888abcd99yyyzzz85a5";
        let expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
        let headers = with(&with(&HeaderMap::new(), TIMESTAMP, "1531420618"), SIGNATURE, expected);
        let h = Harness::new(Scheme::Slack, &[secret]);
        h.check_all([
            case("docs example", headers.clone(), body).at(1_531_420_618).accepted(None, Some(1_531_420_618)),
            case("docs example, today", headers, body).at(NOW).rejected(outside_tolerance(TIMESTAMP)),
        ]);
        assert_eq!(sign(secret, body, 1_531_420_618)[SIGNATURE], expected);
    }
}
