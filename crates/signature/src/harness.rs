//! The one `check` every scheme's tests go through: run a case, compare the
//! outcome, and make sure a rejection's message carries neither a secret nor
//! the signature the verifier expected.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::{Rejection, Request, Scheme, Verified, Verifier, testing};

pub(crate) const SECRET: &str = "current-secret-0123456789";
pub(crate) const OLD_SECRET: &str = "previous-secret-0123456789";
pub(crate) const OTHER_SECRET: &str = "someone-elses-secret-0123456789";
pub(crate) const NOW: i64 = 1_700_000_000;
pub(crate) const TOLERANCE: Duration = Duration::from_secs(300);
pub(crate) const URL: &str = "https://junction.example/hooks/in?source=test";
pub(crate) const DELIVERY_ID: &str = "delivery-0001";

/// A verifier plus what the tests sign with, which differs from what it
/// verifies with only for Ed25519 (`whsk_` signs, `whpk_` verifies).
pub(crate) struct Harness {
    scheme: Scheme,
    verifier: Verifier,
    signing_secrets: Vec<String>,
    secrets: Vec<String>,
}

impl Harness {
    pub(crate) fn new(scheme: Scheme, secrets: &[&str]) -> Self {
        Self::with_keys(scheme, secrets, secrets)
    }

    pub(crate) fn with_keys(scheme: Scheme, verifying: &[&str], signing: &[&str]) -> Self {
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let verifier =
            Verifier::new(scheme.clone(), owned(verifying), TOLERANCE).expect("test secrets are valid");
        let mut secrets = owned(verifying);
        secrets.extend(owned(signing));
        Self { scheme, verifier, signing_secrets: owned(signing), secrets }
    }

    /// What the provider would send for `body` at [`NOW`] to [`URL`].
    pub(crate) fn sign(&self, secret: &str, body: &[u8]) -> HeaderMap {
        self.sign_at(secret, body, URL, NOW)
    }

    pub(crate) fn sign_at(&self, secret: &str, body: &[u8], url: &str, now: i64) -> HeaderMap {
        testing::sign(&self.scheme, secret, body, url, now, DELIVERY_ID)
    }

    pub(crate) fn check_all<'a>(&self, cases: impl IntoIterator<Item = Case<'a>>) {
        for case in cases {
            self.check(&case);
        }
    }

    fn check(&self, case: &Case<'_>) {
        let request = Request { headers: &case.headers, body: case.body, url: case.url };
        let outcome = self.verifier.verify(&request, case.now);
        match (&outcome, &case.expected) {
            // An empty expected reason means "any reason": tests pin the check, not its wording.
            (
                Err(Rejection::MalformedHeader { header, .. }),
                Err(Rejection::MalformedHeader { header: expected, reason }),
            ) if reason.is_empty() => assert_eq!(header, expected, "case {:?}: {outcome:?}", case.name),
            _ => assert_eq!(outcome, case.expected, "case {:?}", case.name),
        }
        if let Err(rejection) = outcome {
            let message = rejection.to_string();
            for forbidden in self.forbidden(case) {
                assert!(
                    !message.contains(&forbidden),
                    "case {:?} leaks {forbidden:?} in {message:?}",
                    case.name
                );
            }
        }
    }

    /// Secrets, and every signature a correct sender would have produced for
    /// this body at this time or at any timestamp the received headers name.
    fn forbidden(&self, case: &Case<'_>) -> Vec<String> {
        let mut forbidden: Vec<String> = self.secrets.clone();
        forbidden
            .extend(self.secrets.iter().filter_map(|s| s.split_once('_')).map(|(_, key)| key.to_owned()));
        let mut times = vec![case.now];
        times.extend(case.headers.values().flat_map(|v| digit_runs(v.as_bytes())));
        for secret in &self.signing_secrets {
            for &time in &times {
                let Ok(signed) =
                    testing::try_sign(&self.scheme, secret, case.body, case.url, time, DELIVERY_ID)
                else {
                    continue;
                };
                let signatures = signed.iter().filter(|(name, _)| *name != http::header::CONTENT_TYPE);
                for value in signatures.filter_map(|(_, v)| v.to_str().ok()) {
                    let tokens = value.split([',', ' ', '=']).filter(|t| t.len() >= 16);
                    forbidden.extend(tokens.map(str::to_owned));
                }
            }
        }
        forbidden.retain(|f| f.len() >= 8);
        forbidden
    }
}

fn digit_runs(bytes: &[u8]) -> Vec<i64> {
    bytes
        .split(|b| !b.is_ascii_digit())
        .filter_map(|run| std::str::from_utf8(run).ok()?.parse().ok())
        .collect()
}

/// One request and the outcome it must have.
pub(crate) struct Case<'a> {
    name: &'a str,
    headers: HeaderMap,
    body: &'a [u8],
    url: &'a str,
    now: i64,
    expected: Result<Verified, Rejection>,
}

/// A case at [`NOW`] against [`URL`], expected to be accepted with nothing learned until told otherwise.
pub(crate) fn case<'a>(name: &'a str, headers: HeaderMap, body: &'a [u8]) -> Case<'a> {
    Case { name, headers, body, url: URL, now: NOW, expected: Ok(Verified::default()) }
}

impl<'a> Case<'a> {
    pub(crate) fn at(self, now: i64) -> Self {
        Self { now, ..self }
    }

    pub(crate) fn url(self, url: &'a str) -> Self {
        Self { url, ..self }
    }

    pub(crate) fn accepted(self, delivery_id: Option<&str>, timestamp: Option<i64>) -> Self {
        Self { expected: Ok(Verified { delivery_id: delivery_id.map(str::to_owned), timestamp }), ..self }
    }

    pub(crate) fn rejected(self, rejection: Rejection) -> Self {
        Self { expected: Err(rejection), ..self }
    }
}

pub(crate) fn missing(header: &str) -> Rejection {
    Rejection::MissingHeader(header.to_owned())
}

/// Malformed for any reason.
pub(crate) fn malformed(header: &str) -> Rejection {
    Rejection::MalformedHeader { header: header.to_owned(), reason: String::new() }
}

pub(crate) fn outside_tolerance(header: &str) -> Rejection {
    Rejection::TimestampOutsideTolerance { header: header.to_owned() }
}

pub(crate) fn no_match(header: &str) -> Rejection {
    Rejection::NoMatchingSignature { header: header.to_owned() }
}

/// `headers` with `name` set to `value` (raw bytes allowed, to test non-ASCII).
pub(crate) fn with_bytes(headers: &HeaderMap, name: &str, value: &[u8]) -> HeaderMap {
    let mut headers = headers.clone();
    let name = HeaderName::from_bytes(name.as_bytes()).expect("test header names are valid");
    headers.insert(name, HeaderValue::from_bytes(value).expect("test header values are valid"));
    headers
}

pub(crate) fn with(headers: &HeaderMap, name: &str, value: &str) -> HeaderMap {
    with_bytes(headers, name, value.as_bytes())
}

pub(crate) fn without(headers: &HeaderMap, name: &str) -> HeaderMap {
    let mut headers = headers.clone();
    headers.remove(name);
    headers
}

/// `headers` with a second `name` header, which makes the first ambiguous.
pub(crate) fn duplicated(headers: &HeaderMap, name: &str) -> HeaderMap {
    let mut headers = headers.clone();
    let value = headers.get(name).expect("header to duplicate is present").clone();
    headers.append(HeaderName::from_bytes(name.as_bytes()).expect("valid"), value);
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The leak check is only worth something if it knows what to look for.
    #[test]
    fn forbidden_covers_secrets_and_expected_signatures() {
        let h = Harness::new(Scheme::Stripe, &[SECRET]);
        let body = b"{}";
        let signed_earlier = h.sign_at(SECRET, body, URL, NOW - 1_000);
        let expected_earlier =
            signed_earlier["stripe-signature"].to_str().unwrap().split_once("v1=").unwrap().1;
        let expected_now = h.sign(SECRET, body)["stripe-signature"]
            .to_str()
            .unwrap()
            .split_once("v1=")
            .unwrap()
            .1
            .to_owned();
        let forbidden = h.forbidden(&case("tampered", signed_earlier.clone(), body));
        for needle in [SECRET, expected_earlier, &expected_now] {
            assert!(forbidden.iter().any(|f| f == needle), "{needle} not in {forbidden:?}");
        }
    }
}
