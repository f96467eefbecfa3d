//! GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`, no
//! timestamp; `X-GitHub-Delivery` names the delivery.

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::{Encoding, HmacAlgorithm, HmacSpec, Rejection, Request, Verified, crypto::Key, header, hmac};

const SIGNATURE: &str = "X-Hub-Signature-256";
const DELIVERY: &str = "X-GitHub-Delivery";
const PREFIX: &str = "sha256=";

pub(crate) fn verify(keys: &[Key], request: &Request<'_>) -> Result<Verified, Rejection> {
    hmac::check(keys, request, SIGNATURE, Encoding::Hex, PREFIX)?;
    // Not covered by the signature (GitHub signs only the body), so it is a
    // deduplication hint, not proof.
    let delivery_id = header::optional(request.headers, DELIVERY)?.map(str::to_owned);
    Ok(Verified { delivery_id, timestamp: None })
}

pub(crate) fn sign(secret: &str, body: &[u8], delivery_id: &str) -> Result<HeaderMap, &'static str> {
    let spec = HmacSpec {
        header: HeaderName::from_static("x-hub-signature-256"),
        algorithm: HmacAlgorithm::Sha256,
        encoding: Encoding::Hex,
        prefix: PREFIX.to_owned(),
    };
    let mut headers = hmac::sign(&spec, secret, body)?;
    let delivery = HeaderValue::from_str(delivery_id).map_err(|_| "the delivery id is not a header value")?;
    headers.insert(HeaderName::from_static("x-github-delivery"), delivery);
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Scheme, harness::*};

    const BODY: &[u8] = br#"{"action":"opened","number":1}"#;

    #[test]
    fn verifies_deliveries() {
        let h = Harness::new(Scheme::Github, &[SECRET, OLD_SECRET]);
        let signed = h.sign(SECRET, BODY);
        h.check_all([
            case("valid", signed.clone(), BODY).accepted(Some(DELIVERY_ID), None),
            case("old secret", h.sign(OLD_SECRET, BODY), BODY).accepted(Some(DELIVERY_ID), None),
            case("unknown secret", h.sign(OTHER_SECRET, BODY), BODY).rejected(no_match(SIGNATURE)),
            case("tampered body", signed.clone(), b"{}").rejected(no_match(SIGNATURE)),
            case("no delivery header", without(&signed, DELIVERY), BODY).accepted(None, None),
            case("missing", without(&signed, SIGNATURE), BODY).rejected(missing(SIGNATURE)),
            case("legacy sha1 only", with(&without(&signed, SIGNATURE), "x-hub-signature", "sha1=00"), BODY)
                .rejected(missing(SIGNATURE)),
            case("sha1 prefix", with(&signed, SIGNATURE, "sha1=0011"), BODY).rejected(malformed(SIGNATURE)),
            case("not hex", with(&signed, SIGNATURE, "sha256=zz"), BODY).rejected(malformed(SIGNATURE)),
            case("odd hex", with(&signed, SIGNATURE, "sha256=abc"), BODY).rejected(malformed(SIGNATURE)),
            case("non-ASCII", with_bytes(&signed, SIGNATURE, b"sha256=\xe9"), BODY)
                .rejected(malformed(SIGNATURE)),
            case("twice", duplicated(&signed, SIGNATURE), BODY).rejected(malformed(SIGNATURE)),
            case("non-ASCII delivery", with_bytes(&signed, DELIVERY, b"\xe9"), BODY)
                .rejected(malformed(DELIVERY)),
        ]);
    }

    /// GitHub Docs, "Validating webhook deliveries" (webhooks.md §5.2).
    #[test]
    fn github_docs_example() {
        let h = Harness::new(Scheme::Github, &["It's a Secret to Everybody"]);
        let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        let headers = with(&HeaderMap::new(), SIGNATURE, expected);
        h.check_all([case("docs example", headers.clone(), b"Hello, World!").accepted(None, None)]);
        assert_eq!(h.sign("It's a Secret to Everybody", b"Hello, World!")[SIGNATURE], expected);
        h.check_all([
            case("docs example, other body", headers, b"Hello, World").rejected(no_match(SIGNATURE))
        ]);
    }
}
