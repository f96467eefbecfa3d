//! Checks that an inbound webhook really comes from the provider it claims to
//! come from, one module per provider scheme, and signs the Standard Webhooks
//! that Junction forwards.
//!
//! ```
//! use std::time::Duration;
//! use junction_signature::{Request, Scheme, Verifier, testing};
//!
//! let secret = "It's a Secret to Everybody";
//! let verifier = Verifier::new(Scheme::Github, vec![secret.into()], Duration::from_secs(300))?;
//! let body = b"Hello, World!";
//! let headers = testing::sign(&Scheme::Github, secret, body, "https://example.com/hook", 0, "delivery-1");
//! let request = Request { headers: &headers, body, url: "https://example.com/hook" };
//! let verified = verifier.verify(&request, 0)?;
//! assert_eq!(verified.delivery_id.as_deref(), Some("delivery-1"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod crypto;
mod error;
mod github;
mod header;
mod hmac;
mod payload;
mod shopify;
mod slack;
mod standard;
mod stripe;
pub mod testing;
mod twilio;

#[cfg(test)]
mod harness;

use std::{fmt, time::Duration};

use http::{HeaderMap, HeaderName};

use crate::{crypto::Key, header::Freshness};
pub use crate::{
    error::{ConfigError, Rejection},
    standard::sign_v1,
};

/// The replay window most providers recommend (Stripe, Slack, Standard Webhooks): 5 minutes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The parts of an inbound HTTP request that signatures cover.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    /// The request headers as received.
    pub headers: &'a HeaderMap,
    /// The raw body bytes as received; re-serialised JSON would not verify.
    pub body: &'a [u8],
    /// The public URL the provider called, with its query string. Only Twilio
    /// signs it, so it must be the URL as the provider saw it, not as a proxy
    /// rewrote it.
    pub url: &'a str,
}

/// Which provider's signature scheme a [`Verifier`] checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    /// `Stripe-Signature: t=…,v1=…`, HMAC-SHA256 over `"{t}.{body}"`.
    Stripe,
    /// `X-Hub-Signature-256: sha256=…`, HMAC-SHA256 over the body.
    Github,
    /// `X-Shopify-Hmac-Sha256`, base64 HMAC-SHA256 over the body.
    Shopify,
    /// `X-Slack-Signature: v0=…`, HMAC-SHA256 over `"v0:{timestamp}:{body}"`.
    Slack,
    /// `X-Twilio-Signature`, base64 HMAC-SHA1 over the URL and the sorted form parameters.
    Twilio,
    /// Standard Webhooks (and Svix): `webhook-signature: v1,… v1a,…`.
    Standard,
    /// One header holding a prefixed HMAC of the body, for providers without a preset.
    Hmac(HmacSpec),
}

/// How a generic HMAC signature header is built: `header: prefix + encode(HMAC(secret, body))`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmacSpec {
    /// The header carrying the signature.
    pub header: HeaderName,
    /// The HMAC hash function.
    pub algorithm: HmacAlgorithm,
    /// How the MAC bytes are written in the header.
    pub encoding: Encoding,
    /// Text before the encoded MAC, such as `sha256=`; matched exactly, may be empty.
    pub prefix: String,
}

/// The hash function of an HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HmacAlgorithm {
    /// HMAC-SHA1, still used by Twilio and older providers.
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

/// How MAC bytes are written as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Hexadecimal; either case is accepted.
    Hex,
    /// Standard base64 alphabet; padding optional.
    Base64,
}

/// What a successful verification learned about the delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verified {
    /// The provider's id for this event or delivery, when it sends one: the key
    /// to deduplicate retries on.
    pub delivery_id: Option<String>,
    /// The signed timestamp (unix seconds), for schemes that sign one.
    pub timestamp: Option<i64>,
}

/// Checks requests against one scheme and a set of secrets.
///
/// Several secrets may be configured so a secret can be rotated without
/// downtime: a request verifies if any one of them matches.
#[derive(Clone)]
pub struct Verifier {
    scheme: Scheme,
    keys: Vec<Key>,
    tolerance: Duration,
}

impl Verifier {
    /// Prepares the keys for `scheme`. `tolerance` is the allowed distance,
    /// in both directions, between a signed timestamp and now (whole seconds;
    /// ignored by schemes without a timestamp).
    ///
    /// Standard Webhooks secrets must be `whsec_<base64>` (HMAC) or
    /// `whpk_<base64 32-byte ed25519 public key>`; other schemes use the
    /// secret's bytes as given. Errors name the secret's position, never its value.
    pub fn new(scheme: Scheme, secrets: Vec<String>, tolerance: Duration) -> Result<Self, ConfigError> {
        if secrets.is_empty() {
            return Err(ConfigError::NoSecrets);
        }
        let keys = secrets
            .iter()
            .enumerate()
            .map(|(index, secret)| {
                key_for(&scheme, secret).map_err(|reason| ConfigError::InvalidSecret { index, reason })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { scheme, keys, tolerance })
    }

    /// The scheme this verifier checks.
    pub fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// Accepts the request if its signature matches one of the secrets and,
    /// for timestamped schemes, it was signed within the tolerance of `now_unix_secs`.
    pub fn verify(&self, request: &Request<'_>, now_unix_secs: i64) -> Result<Verified, Rejection> {
        let keys = &self.keys;
        let freshness = Freshness::new(now_unix_secs, self.tolerance);
        match &self.scheme {
            Scheme::Stripe => stripe::verify(keys, request, freshness),
            Scheme::Github => github::verify(keys, request),
            Scheme::Shopify => shopify::verify(keys, request),
            Scheme::Slack => slack::verify(keys, request, freshness),
            Scheme::Twilio => twilio::verify(keys, request),
            Scheme::Standard => standard::verify(keys, request, freshness),
            Scheme::Hmac(spec) => hmac::verify(spec, keys, request),
        }
    }
}

/// Header names only: values may hold credentials (`Authorization`) and
/// signatures, which have no place in logs.
impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_bytes", &self.body.len())
            .field("url", &self.url)
            .finish()
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("scheme", &self.scheme)
            .field("secrets", &self.keys.len())
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

fn key_for(scheme: &Scheme, secret: &str) -> Result<Key, &'static str> {
    if secret.is_empty() {
        return Err("it is empty");
    }
    Ok(match scheme {
        Scheme::Standard => return standard::key(secret),
        Scheme::Twilio => Key::hmac(HmacAlgorithm::Sha1, secret.as_bytes()),
        Scheme::Hmac(spec) => Key::hmac(spec.algorithm, secret.as_bytes()),
        Scheme::Stripe | Scheme::Github | Scheme::Shopify | Scheme::Slack => {
            Key::hmac(HmacAlgorithm::Sha256, secret.as_bytes())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_name_the_position_not_the_value() {
        let secret = "whsec_not base64!".to_owned();
        let err =
            Verifier::new(Scheme::Standard, vec!["whsec_AAAA".into(), secret.clone()], DEFAULT_TOLERANCE)
                .unwrap_err();
        assert_eq!(err, ConfigError::InvalidSecret { index: 1, reason: standard::NOT_BASE64 });
        assert!(!err.to_string().contains("not base64!"), "{err}");
        assert_eq!(
            Verifier::new(Scheme::Github, vec![], DEFAULT_TOLERANCE).unwrap_err(),
            ConfigError::NoSecrets
        );
        let empty = Verifier::new(Scheme::Github, vec![String::new()], DEFAULT_TOLERANCE).unwrap_err();
        assert_eq!(empty.to_string(), "secret #1 is invalid: it is empty");
    }

    #[test]
    fn debug_hides_secrets() {
        let verifier =
            Verifier::new(Scheme::Slack, vec!["hunter2-secret".into()], DEFAULT_TOLERANCE).unwrap();
        let debug = format!("{verifier:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("secrets: 1"), "{debug}");
    }
}
