//! Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…][,v0=…]`, HMAC-SHA256 over
//! `"{t}.{body}"` keyed with the whole `whsec_…` string (not base64-decoded).

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::{
    HmacAlgorithm, Rejection, Request, Verified, crypto,
    crypto::Key,
    header::{self, Freshness},
    payload,
};

const SIGNATURE: &str = "Stripe-Signature";

pub(crate) fn verify(
    keys: &[Key],
    request: &Request<'_>,
    freshness: Freshness,
) -> Result<Verified, Rejection> {
    let value = header::required(request.headers, SIGNATURE)?;
    let parsed = parse(value)?;
    freshness.check(SIGNATURE, parsed.timestamp)?;
    let signed = [parsed.timestamp_text.as_bytes(), b".", request.body];
    if !crypto::any_mac_matches(keys, &signed, &parsed.signatures) {
        return Err(Rejection::NoMatchingSignature { header: SIGNATURE.to_owned() });
    }
    // The event id ("evt_…") is Stripe's deduplication key, and it lives in the body.
    Ok(Verified {
        delivery_id: payload::json_string_field(request.body, "id"),
        timestamp: Some(parsed.timestamp),
    })
}

struct Parsed<'a> {
    timestamp_text: &'a str,
    timestamp: i64,
    signatures: Vec<Vec<u8>>,
}

fn parse(value: &str) -> Result<Parsed<'_>, Rejection> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for entry in header::entries(SIGNATURE, value, ',')? {
        let (key, text) =
            entry.split_once('=').ok_or_else(|| header::malformed(SIGNATURE, "an entry is not key=value"))?;
        match key {
            "t" if timestamp.is_some() => {
                return Err(header::malformed(SIGNATURE, "t appears more than once"));
            }
            "t" => timestamp = Some((text, header::timestamp(SIGNATURE, text)?)),
            "v1" => signatures.push(
                hex::decode(text).map_err(|_| header::malformed(SIGNATURE, "a v1 signature is not hex"))?,
            ),
            // v0 is Stripe's test-mode scheme and others may come; only v1 proves anything.
            _ => {}
        }
    }
    let (timestamp_text, timestamp) =
        timestamp.ok_or_else(|| header::malformed(SIGNATURE, "it has no t= timestamp"))?;
    if signatures.is_empty() {
        return Err(header::malformed(SIGNATURE, "it has no v1 signature"));
    }
    Ok(Parsed { timestamp_text, timestamp, signatures })
}

pub(crate) fn sign(secret: &str, body: &[u8], now: i64) -> HeaderMap {
    let key = crypto::hmac_key(HmacAlgorithm::Sha256, secret.as_bytes());
    let tag = crypto::mac(&key, &[now.to_string().as_bytes(), b".", body]);
    let value = format!("t={now},v1={}", hex::encode(tag.as_ref()));
    let mut headers = HeaderMap::new();
    headers
        .insert(HeaderName::from_static("stripe-signature"), HeaderValue::from_str(&value).expect("ASCII"));
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Scheme, harness::*};

    const BODY: &[u8] =
        br#"{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"charge.succeeded"}"#;
    const EVENT: Option<&str> = Some("evt_1NG8Du2eZvKYlo2CUI79vXWy");

    #[test]
    fn verifies_deliveries() {
        let h = Harness::new(Scheme::Stripe, &[SECRET, OLD_SECRET]);
        let signed = h.sign(SECRET, BODY);
        let value = signed[SIGNATURE].to_str().unwrap().to_owned();
        let v1 = value.split_once(",v1=").unwrap().1.to_owned();
        let old_v1 =
            h.sign(OLD_SECRET, BODY)[SIGNATURE].to_str().unwrap().split_once(",v1=").unwrap().1.to_owned();
        let at = |t: i64, rest: &str| with(&signed, SIGNATURE, &format!("t={t},{rest}"));
        h.check_all([
            case("valid", signed.clone(), BODY).accepted(EVENT, Some(NOW)),
            case("old secret", h.sign(OLD_SECRET, BODY), BODY).accepted(EVENT, Some(NOW)),
            case("two v1 during a roll", at(NOW, &format!("v1={old_v1},v1=00ff")), BODY)
                .accepted(EVENT, Some(NOW)),
            case("v0 and unknown keys ignored", at(NOW, &format!("v0=zz,v1={v1},x=1")), BODY)
                .accepted(EVENT, Some(NOW)),
            case("upper-case hex", at(NOW, &format!("v1={}", v1.to_uppercase())), BODY)
                .accepted(EVENT, Some(NOW)),
            case("body without an id", h.sign(SECRET, b"[1]"), b"[1]").accepted(None, Some(NOW)),
            case("edge of tolerance, past", signed.clone(), BODY).at(NOW + 300).accepted(EVENT, Some(NOW)),
            case("edge of tolerance, future", signed.clone(), BODY).at(NOW - 300).accepted(EVENT, Some(NOW)),
            case("unknown secret", h.sign(OTHER_SECRET, BODY), BODY).rejected(no_match(SIGNATURE)),
            case("tampered body", signed.clone(), b"{}").rejected(no_match(SIGNATURE)),
            case("tampered timestamp", at(NOW + 1, &format!("v1={v1}")), BODY).rejected(no_match(SIGNATURE)),
            case("only v0", at(NOW, &format!("v0={v1}")), BODY).rejected(malformed(SIGNATURE)),
            case("too old", signed.clone(), BODY).at(NOW + 301).rejected(outside_tolerance(SIGNATURE)),
            case("from the future", signed.clone(), BODY)
                .at(NOW - 301)
                .rejected(outside_tolerance(SIGNATURE)),
            case("missing", without(&signed, SIGNATURE), BODY).rejected(missing(SIGNATURE)),
            case("no timestamp", with(&signed, SIGNATURE, &format!("v1={v1}")), BODY)
                .rejected(malformed(SIGNATURE)),
            case("two timestamps", at(NOW, &format!("t={NOW},v1={v1}")), BODY).rejected(malformed(SIGNATURE)),
            case("bad timestamp", with(&signed, SIGNATURE, &format!("t=-5,v1={v1}")), BODY)
                .rejected(malformed(SIGNATURE)),
            case("bare entry", at(NOW, &format!("v1={v1},junk")), BODY).rejected(malformed(SIGNATURE)),
            case("not hex", at(NOW, "v1=xyz"), BODY).rejected(malformed(SIGNATURE)),
            case("too many entries", at(NOW, &vec!["v1=00"; 40].join(",")), BODY)
                .rejected(malformed(SIGNATURE)),
        ]);
    }

    /// Derived from stripe-python's test constants (webhooks.md §5.1): Stripe
    /// publishes no fixed vector, only `DUMMY_WEBHOOK_SECRET`, `DUMMY_WEBHOOK_PAYLOAD`
    /// and `timestamp=12345`.
    #[test]
    fn stripe_python_constants() {
        let body = b"{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\",\n  \"data\": { \"object\": { \"id\": \"rdr_123\", \"object\": \"terminal.reader\" } }\n}";
        let header = "t=12345,v1=07b1ede164afb7b5de91267ffa656f568c65d6e0783ce0ac55ee094643578eda";
        let h = Harness::new(Scheme::Stripe, &["whsec_test_secret"]);
        let headers = with(&HeaderMap::new(), SIGNATURE, header);
        h.check_all([
            case("derived header", headers.clone(), body)
                .at(12_345)
                .accepted(Some("evt_test_webhook"), Some(12_345)),
            case("derived header, stale", headers, body)
                .at(12_346 + 300)
                .rejected(outside_tolerance(SIGNATURE)),
        ]);
        assert_eq!(sign("whsec_test_secret", body, 12_345)[SIGNATURE], header);
    }
}
