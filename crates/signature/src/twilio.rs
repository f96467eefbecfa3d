//! Twilio: `X-Twilio-Signature: base64(HMAC-SHA1(auth token, url + sorted form
//! params))`. For JSON bodies Twilio adds `bodySHA256=<hex>` to the URL and
//! signs the URL alone, so the digest is what ties the body to the signature.

use std::borrow::Cow;

use base64::Engine;
use http::{HeaderMap, HeaderName, HeaderValue};
use percent_encoding::percent_decode;

use crate::{HmacAlgorithm, Rejection, Request, Verified, crypto, crypto::Key, header, hmac::BASE64};

const SIGNATURE: &str = "X-Twilio-Signature";
const IDEMPOTENCY: &str = "I-Twilio-Idempotency-Token";
const BODY_DIGEST: &str = "bodySHA256";
const FORM: &str = "application/x-www-form-urlencoded";

pub(crate) fn verify(keys: &[Key], request: &Request<'_>) -> Result<Verified, Rejection> {
    let value = header::required(request.headers, SIGNATURE)?;
    let signature =
        BASE64.decode(value).map_err(|_| header::malformed(SIGNATURE, "the signature is not base64"))?;
    let url = PublicUrl::parse(request.url)?;
    let body_digest = url.body_digest()?;
    let params = match body_digest {
        Some(_) => Vec::new(),
        None if is_form(request.headers)? => decode_form(request.body)?,
        None if request.body.is_empty() => Vec::new(),
        // Accepting it would let anyone swap the body under a valid URL signature.
        None => return Err(Rejection::UnsignedBody),
    };
    let candidates = [signature];
    // Twilio's SDKs accept the URL with and without its port, "since sig
    // generation on back end is inconsistent" (twilio-python).
    let matched = url
        .port_variants()
        .iter()
        .any(|url| crypto::any_mac_matches(keys, &signed_parts(url, &params), &candidates));
    if !matched {
        return Err(Rejection::NoMatchingSignature { header: SIGNATURE.to_owned() });
    }
    if let Some(expected) = body_digest
        && !crypto::constant_time_eq(crypto::sha256(request.body).as_ref(), &expected)
    {
        return Err(Rejection::BodyDigestMismatch);
    }
    let delivery_id = header::optional(request.headers, IDEMPOTENCY)?.map(str::to_owned);
    Ok(Verified { delivery_id, timestamp: None })
}

/// The URL, then each parameter's name and value, sorted by name then value,
/// with exact duplicates once (as the SDKs' `sorted(set(values))` does).
fn signed_parts<'a>(url: &'a str, params: &'a [(String, String)]) -> Vec<&'a [u8]> {
    let mut parts = Vec::with_capacity(1 + 2 * params.len());
    parts.push(url.as_bytes());
    for (name, value) in params {
        parts.extend([name.as_bytes(), value.as_bytes()]);
    }
    parts
}

fn is_form(headers: &HeaderMap) -> Result<bool, Rejection> {
    let content_type = header::optional(headers, "Content-Type")?.unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    Ok(essence.eq_ignore_ascii_case(FORM))
}

/// Decodes `a=1&b=2` into sorted, deduplicated pairs. Strict where form
/// parsers are lossy: a value that is not UTF-8 is refused, because replacing
/// it would let different bodies share one signature.
fn decode_form(body: &[u8]) -> Result<Vec<(String, String)>, Rejection> {
    let mut params = pairs(body).ok_or_else(|| Rejection::MalformedBody {
        reason: "a parameter is not UTF-8 once percent-decoded".to_owned(),
    })?;
    params.sort();
    params.dedup();
    Ok(params)
}

fn pairs(text: &[u8]) -> Option<Vec<(String, String)>> {
    text.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            Some((decode_component(name)?, decode_component(value)?))
        })
        .collect()
}

fn decode_component(raw: &[u8]) -> Option<String> {
    let spaced: Cow<'_, [u8]> = if raw.contains(&b'+') {
        raw.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect::<Vec<_>>().into()
    } else {
        raw.into()
    };
    percent_decode(&spaced).decode_utf8().ok().map(Cow::into_owned)
}

/// The URL Twilio called, split just enough to move its port; never
/// re-serialised, since any normalisation would change the signed bytes.
struct PublicUrl<'a> {
    text: &'a str,
    /// Where the host ends (before `:port`) and where the authority ends.
    host_end: usize,
    authority_end: usize,
    has_port: bool,
    default_port: &'static str,
}

impl<'a> PublicUrl<'a> {
    fn parse(text: &'a str) -> Result<Self, Rejection> {
        let bad = |reason: &str| Rejection::MalformedUrl { reason: reason.to_owned() };
        let (scheme, rest) = text.split_once("://").ok_or_else(|| bad("it has no scheme"))?;
        let default_port = if scheme.eq_ignore_ascii_case("https") {
            "443"
        } else if scheme.eq_ignore_ascii_case("http") {
            "80"
        } else {
            return Err(bad("it is not http or https"));
        };
        let authority_start = scheme.len() + 3;
        let authority_end = authority_start + rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &text[authority_start..authority_end];
        // User info may hold ':' and an IPv6 host is bracketed, so the port is after both.
        let host_start = authority_start + authority.rfind('@').map_or(0, |at| at + 1);
        let host_port = &text[host_start..authority_end];
        let colon = host_port.rfind(':').filter(|&at| !host_port[at..].contains(']'));
        let host_end = colon.map_or(authority_end, |at| host_start + at);
        if let Some(at) = colon {
            let port = &host_port[at + 1..];
            if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("its port is not a number"));
            }
        }
        if host_end == host_start {
            return Err(bad("it has no host"));
        }
        Ok(Self { text, host_end, authority_end, has_port: colon.is_some(), default_port })
    }

    /// The URL without any port, and with its port (the default one if absent).
    fn port_variants(&self) -> [String; 2] {
        let (before, after) = (&self.text[..self.host_end], &self.text[self.authority_end..]);
        let without = format!("{before}{after}");
        let with = if self.has_port {
            self.text.to_owned()
        } else {
            format!("{before}:{}{after}", self.default_port)
        };
        [without, with]
    }

    /// The `bodySHA256` query parameter, when Twilio sent a JSON body.
    fn body_digest(&self) -> Result<Option<Vec<u8>>, Rejection> {
        let bad = |reason: &str| Rejection::MalformedUrl { reason: reason.to_owned() };
        let before_fragment = self.text[self.authority_end..].split('#').next().unwrap_or_default();
        let Some((_, query)) = before_fragment.split_once('?') else { return Ok(None) };
        let params =
            pairs(query.as_bytes()).ok_or_else(|| bad("its query is not UTF-8 once percent-decoded"))?;
        let mut digests = params.into_iter().filter(|(name, _)| name == BODY_DIGEST);
        let Some((_, digest)) = digests.next() else { return Ok(None) };
        if digests.next().is_some() {
            return Err(bad("bodySHA256 appears more than once"));
        }
        match hex::decode(digest) {
            Ok(bytes) if bytes.len() == 32 => Ok(Some(bytes)),
            _ => Err(bad("bodySHA256 is not a hex SHA-256 digest")),
        }
    }
}

pub(crate) fn sign(
    secret: &str,
    body: &[u8],
    url: &str,
    delivery_id: &str,
) -> Result<HeaderMap, &'static str> {
    let parsed = PublicUrl::parse(url).map_err(|_| "the URL is not an http(s) URL")?;
    let json = parsed.body_digest().map_err(|_| "the URL's bodySHA256 is malformed")?.is_some();
    let (params, content_type) = if json {
        (Vec::new(), "application/json")
    } else {
        (decode_form(body).map_err(|_| "the form body is not UTF-8 once decoded")?, FORM)
    };
    let key = crypto::hmac_key(HmacAlgorithm::Sha1, secret.as_bytes());
    let tag = crypto::mac(&key, &signed_parts(url, &params));
    let mut headers = HeaderMap::new();
    let signature = HeaderValue::from_str(&BASE64.encode(tag.as_ref())).expect("base64 is header-safe");
    headers.insert(HeaderName::from_static("x-twilio-signature"), signature);
    let token = HeaderValue::from_str(delivery_id).map_err(|_| "the delivery id is not a header value")?;
    headers.insert(HeaderName::from_static("i-twilio-idempotency-token"), token);
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Scheme, harness::*, testing};

    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    /// twilio-python's `self.params`; `+` must be written `%2B` in a form body.
    const PARAMS: &[u8] =
        b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212";
    const JSON: &[u8] = br#"{"property": "value", "boolean": true}"#;
    const JSON_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";

    fn form(signature: &str) -> HeaderMap {
        with(&with(&HeaderMap::new(), "content-type", FORM), SIGNATURE, signature)
    }

    /// twilio-python `tests/unit/test_request_validator.py` (webhooks.md §5.5).
    #[test]
    fn twilio_python_vectors() {
        let h = Harness::new(Scheme::Twilio, &[TOKEN]);
        let http = "http://mycompany.com/myapp.php?foo=1&bar=2";
        let json = with(
            &with(&HeaderMap::new(), "content-type", "application/json"),
            SIGNATURE,
            "a9nBmqA0ju/hNViExpshrM61xv4=",
        );
        h.check_all([
            case("compute_signature", form("RSOYDt4T1cUTdK1PDd93/VVr8B8="), PARAMS).url(URL),
            case("adds :443", form("kvajT1Ptam85bY51eRf/AJRuM3w="), PARAMS).url(URL),
            case("removes :443", form("RSOYDt4T1cUTdK1PDd93/VVr8B8="), PARAMS)
                .url("https://mycompany.com:443/myapp.php?foo=1&bar=2"),
            case("removes port on https", form("RSOYDt4T1cUTdK1PDd93/VVr8B8="), PARAMS)
                .url("https://mycompany.com:1234/myapp.php?foo=1&bar=2"),
            case("adds :80", form("0ZXoZLH/DfblKGATFgpif+LLRf4="), PARAMS).url(http),
            case("keeps :1234 on http", form("Zmvh+3yNM1Phv2jhDCwEM3q5ebU="), PARAMS)
                .url("http://mycompany.com:1234/myapp.php?foo=1&bar=2"),
            case(
                "duplicate params",
                form("IK+Dwps556ElfBT0I3Rgjkr1wJU="),
                b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234",
            )
            .url(URL),
            case("JSON body", json.clone(), JSON).url(JSON_URL),
            case("JSON body, tampered", json.clone(), br#"{"property": "other", "boolean": true}"#)
                .url(JSON_URL)
                .rejected(Rejection::BodyDigestMismatch),
            case("JSON body, digest dropped", json, JSON).url(URL).rejected(Rejection::UnsignedBody),
            case(":443 signature on http", form("kvajT1Ptam85bY51eRf/AJRuM3w="), PARAMS)
                .url(http)
                .rejected(no_match(SIGNATURE)),
        ]);
        // The older docs example's numbers (…5310), computed in webhooks.md §5.5.
        let older = b"CallSid=CA1234567890ABCDE&Caller=%2B14158675310&Digits=1234&From=%2B14158675310&To=%2B18005551212";
        h.check_all([case("older docs example", form("GvWf1cFY/Q7PnoempGyD5oXAezc="), older).url(URL)]);
        assert_eq!(
            testing::sign(&Scheme::Twilio, TOKEN, PARAMS, URL, 0, "t")[SIGNATURE],
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert_eq!(testing::twilio_json_url(URL, JSON), JSON_URL);
    }

    #[test]
    fn verifies_deliveries() {
        let h = Harness::new(Scheme::Twilio, &[SECRET, OLD_SECRET]);
        let body: &[u8] = b"MessageSid=SM1&Body=Hello+w%C3%B6rld&From=%2B15005550006";
        let signed = h.sign(SECRET, body);
        let json_url = testing::twilio_json_url(URL, JSON);
        let json_signed = h.sign_at(SECRET, JSON, &json_url, NOW);
        let ok = Some(DELIVERY_ID);
        let reordered: &[u8] = b"From=%2B15005550006&Body=Hello%20w%C3%B6rld&MessageSid=SM1&";
        h.check_all([
            case("valid", signed.clone(), body).accepted(ok, None),
            case("old secret", h.sign(OLD_SECRET, body), body).accepted(ok, None),
            case("same params reordered", signed.clone(), reordered).accepted(ok, None),
            case("JSON", json_signed.clone(), JSON).url(&json_url).accepted(ok, None),
            case(
                "charset parameter",
                with(&signed, "content-type", "Application/X-WWW-Form-URLEncoded; charset=utf-8"),
                body,
            )
            .accepted(ok, None),
            case("GET, no body", h.sign(SECRET, b""), b"").accepted(ok, None),
            case("no idempotency token", without(&signed, IDEMPOTENCY), body).accepted(None, None),
            case("unknown secret", h.sign(OTHER_SECRET, body), body).rejected(no_match(SIGNATURE)),
            case(
                "tampered param",
                signed.clone(),
                b"MessageSid=SM2&Body=Hello+w%C3%B6rld&From=%2B15005550006",
            )
            .rejected(no_match(SIGNATURE)),
            case(
                "added param",
                signed.clone(),
                b"MessageSid=SM1&Body=Hello+w%C3%B6rld&From=%2B15005550006&x=",
            )
            .rejected(no_match(SIGNATURE)),
            case("other path", signed.clone(), body)
                .url("https://junction.example/hooks/other?source=test")
                .rejected(no_match(SIGNATURE)),
            case("other query", signed.clone(), body)
                .url("https://junction.example/hooks/in?source=evil")
                .rejected(no_match(SIGNATURE)),
            case("JSON, tampered body", json_signed.clone(), b"{}")
                .url(&json_url)
                .rejected(Rejection::BodyDigestMismatch),
            case("JSON, other digest", json_signed, b"{}")
                .url(&testing::twilio_json_url(URL, b"{}"))
                .rejected(no_match(SIGNATURE)),
            case("body, no content type", without(&signed, "content-type"), body)
                .rejected(Rejection::UnsignedBody),
            case("invalid UTF-8 param", signed.clone(), b"Body=%FF").rejected(Rejection::MalformedBody {
                reason: "a parameter is not UTF-8 once percent-decoded".into(),
            }),
            case("missing", without(&signed, SIGNATURE), body).rejected(missing(SIGNATURE)),
            case("not base64", with(&signed, SIGNATURE, "not base64!"), body).rejected(malformed(SIGNATURE)),
            case("twice", duplicated(&signed, SIGNATURE), body).rejected(malformed(SIGNATURE)),
        ]);
    }

    #[test]
    fn urls_are_read_not_rewritten() {
        let variants = |url| PublicUrl::parse(url).map(|u| u.port_variants());
        assert_eq!(
            variants("https://user:pw@[::1]/a?b=c:d#e").unwrap(),
            ["https://user:pw@[::1]/a?b=c:d#e", "https://user:pw@[::1]:443/a?b=c:d#e"]
        );
        assert_eq!(variants("HTTP://h:8080").unwrap(), ["HTTP://h", "HTTP://h:8080"]);
        let bad = |url| matches!(PublicUrl::parse(url), Err(Rejection::MalformedUrl { .. }));
        for url in
            ["ftp://h/", "h/path", "https:///path", "https://h:/", "https://h:x/", "https://h:1234567/"]
        {
            assert!(bad(url), "{url}");
        }
        fn digest(url: &str) -> Result<Option<Vec<u8>>, Rejection> {
            PublicUrl::parse(url).unwrap().body_digest()
        }
        assert!(digest("https://h/?bodySHA256=00").is_err());
        assert!(digest(&format!("https://h/?bodySHA256={0}&bodySHA256={0}", "0".repeat(64))).is_err());
        assert_eq!(digest("https://h/#?bodySHA256=00"), Ok(None));
        assert_eq!(digest("https://h/?bodysha256=00"), Ok(None));
    }
}
