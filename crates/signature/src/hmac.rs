//! Generic HMAC: one header holding `prefix + encode(HMAC(secret, body))`, no
//! timestamp. GitHub and Shopify are this shape with fixed parameters.

use base64::{
    Engine,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use http::{HeaderMap, HeaderValue};

use crate::{Encoding, HmacSpec, Rejection, Request, Verified, crypto, crypto::Key, header};

/// Standard alphabet, padding optional on input, written with padding.
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub(crate) fn verify(spec: &HmacSpec, keys: &[Key], request: &Request<'_>) -> Result<Verified, Rejection> {
    check(keys, request, spec.header.as_str(), spec.encoding, &spec.prefix)?;
    Ok(Verified::default())
}

/// Verifies the MAC of the body in header `name`.
pub(crate) fn check(
    keys: &[Key],
    request: &Request<'_>,
    name: &str,
    encoding: Encoding,
    prefix: &str,
) -> Result<(), Rejection> {
    let value = header::required(request.headers, name)?;
    let encoded = value
        .strip_prefix(prefix)
        .ok_or_else(|| header::malformed(name, "it does not start with the expected prefix"))?;
    let signature = decode(encoding, encoded).ok_or_else(|| match encoding {
        Encoding::Hex => header::malformed(name, "the signature is not hex"),
        Encoding::Base64 => header::malformed(name, "the signature is not base64"),
    })?;
    if !crypto::any_mac_matches(keys, &[request.body], &[signature]) {
        return Err(Rejection::NoMatchingSignature { header: name.to_owned() });
    }
    Ok(())
}

pub(crate) fn sign(spec: &HmacSpec, secret: &str, body: &[u8]) -> Result<HeaderMap, &'static str> {
    let tag = crypto::mac(&crypto::hmac_key(spec.algorithm, secret.as_bytes()), &[body]);
    let encoded = match spec.encoding {
        Encoding::Hex => hex::encode(tag.as_ref()),
        Encoding::Base64 => BASE64.encode(tag.as_ref()),
    };
    let value = HeaderValue::from_str(&format!("{}{encoded}", spec.prefix))
        .map_err(|_| "the prefix is not header-safe")?;
    let mut headers = HeaderMap::new();
    headers.insert(spec.header.clone(), value);
    Ok(headers)
}

fn decode(encoding: Encoding, text: &str) -> Option<Vec<u8>> {
    match encoding {
        Encoding::Hex => hex::decode(text).ok(),
        Encoding::Base64 => BASE64.decode(text).ok(),
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderName;

    use super::*;
    use crate::{HmacAlgorithm, Scheme, harness::*};

    const BODY: &[u8] = br#"{"event":"order.paid"}"#;

    fn spec(algorithm: HmacAlgorithm, encoding: Encoding, prefix: &str) -> HmacSpec {
        HmacSpec {
            header: HeaderName::from_static("x-signature"),
            algorithm,
            encoding,
            prefix: prefix.to_owned(),
        }
    }

    #[test]
    fn verifies_every_algorithm_and_encoding() {
        let name = "x-signature";
        for algorithm in [HmacAlgorithm::Sha1, HmacAlgorithm::Sha256, HmacAlgorithm::Sha512] {
            for (encoding, prefix) in [(Encoding::Hex, "sha="), (Encoding::Base64, "")] {
                let h = Harness::new(Scheme::Hmac(spec(algorithm, encoding, prefix)), &[SECRET, OLD_SECRET]);
                let signed = h.sign(SECRET, BODY);
                let encoded = &signed[name].to_str().unwrap()[prefix.len()..];
                let truncated = format!("{prefix}{}", &encoded[..8]);
                h.check_all([
                    case("valid", signed.clone(), BODY).accepted(None, None),
                    case("old secret", h.sign(OLD_SECRET, BODY), BODY).accepted(None, None),
                    case("unknown secret", h.sign(OTHER_SECRET, BODY), BODY).rejected(no_match(name)),
                    case("tampered body", signed.clone(), b"{}").rejected(no_match(name)),
                    case("missing", without(&signed, name), BODY).rejected(missing(name)),
                    case("not encoded", with(&signed, name, &format!("{prefix}%%%")), BODY)
                        .rejected(malformed(name)),
                    case("truncated", with(&signed, name, &truncated), BODY).rejected(no_match(name)),
                    case("empty", with(&signed, name, prefix), BODY).rejected(no_match(name)),
                ]);
                if encoding == Encoding::Hex {
                    let upper = format!("{prefix}{}", encoded.to_uppercase());
                    h.check_all([
                        case("upper-case hex", with(&signed, name, &upper), BODY).accepted(None, None),
                        case("wrong prefix", with(&signed, name, &format!("sha256={encoded}")), BODY)
                            .rejected(malformed(name)),
                    ]);
                }
            }
        }
    }

    #[test]
    fn prefix_is_case_sensitive() {
        let h = Harness::new(Scheme::Hmac(spec(HmacAlgorithm::Sha256, Encoding::Hex, "sha256=")), &[SECRET]);
        let signed = h.sign(SECRET, BODY);
        let shouted = signed["x-signature"].to_str().unwrap().replace("sha256=", "SHA256=");
        h.check_all([case("upper-case prefix", with(&signed, "x-signature", &shouted), BODY)
            .rejected(malformed("x-signature"))]);
    }
}
