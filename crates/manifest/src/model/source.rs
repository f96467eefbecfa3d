//! `[sources.NAME]`: a provider that posts webhooks to `/webhooks/NAME`.

use base64::Engine;
use schemars::JsonSchema;
use serde::Serialize;

use crate::{
    decode::{Cx, Decode, OneOrMany, Table, Value, keyword},
    secret::Secret,
    value::{HeaderName, HttpUrl, HumanDuration},
};

/// An inbound webhook source: how its deliveries are verified and where they go.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The provider's signature scheme.
    pub scheme: Scheme,
    /// The signing secret, or a list of secrets during a rotation (each one verifies).
    #[schemars(with = "SecretOrList")]
    pub secret: Vec<Secret>,
    /// How far a signed timestamp may be from now. Default "5m", at most "1d".
    #[serde(default = "default_tolerance")]
    pub tolerance: HumanDuration,
    /// Internal URLs every verified event is forwarded to.
    #[serde(default)]
    pub forward: Vec<HttpUrl>,
    /// A `whsec_` secret with which forwards are signed (Standard Webhooks).
    #[serde(default)]
    pub forward_secret: Option<Secret>,
    /// The public URL the provider signs (required by `twilio`), since Junction
    /// may sit behind a load balancer.
    #[serde(default)]
    pub public_url: Option<HttpUrl>,
    /// Header, algorithm and encoding of the generic `hmac` scheme (required by it).
    #[serde(default)]
    pub hmac: Option<HmacSpec>,
    /// Delay before each forward attempt, the first included; its length is
    /// the number of attempts (1 to 50) before the event is dead-lettered.
    /// Default ["0s", "5s", "30s", "2m", "10m", "30m", "1h", "2h", "4h", "8h"].
    #[serde(default = "default_retry_schedule")]
    pub retry_schedule: Vec<HumanDuration>,
    /// Limit for each forward attempt, up to the end of the response head. Default "15s".
    #[serde(default = "default_forward_timeout")]
    pub forward_timeout: HumanDuration,
}

fn default_retry_schedule() -> Vec<HumanDuration> {
    [0, 5, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800].into_iter().map(HumanDuration::secs).collect()
}

fn default_forward_timeout() -> HumanDuration {
    HumanDuration::secs(15)
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code, reason = "only its schema is used")]
enum SecretOrList {
    One(Secret),
    Many(Vec<Secret>),
}

fn default_tolerance() -> HumanDuration {
    HumanDuration::secs(300)
}

/// A webhook signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// `Stripe-Signature: t=...,v1=...`.
    Stripe,
    /// `X-Hub-Signature-256: sha256=...`.
    Github,
    /// `X-Shopify-Hmac-Sha256`.
    Shopify,
    /// `X-Slack-Signature: v0=...`.
    Slack,
    /// `X-Twilio-Signature`.
    Twilio,
    /// Standard Webhooks (`webhook-signature`, also `svix-signature`).
    Standard,
    /// A generic HMAC over the raw body, described by `hmac`.
    Hmac,
}

impl Decode for Scheme {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        use Scheme::*;
        keyword(
            value,
            key,
            cx,
            &[
                ("stripe", Stripe),
                ("github", Github),
                ("shopify", Shopify),
                ("slack", Slack),
                ("twilio", Twilio),
                ("standard", Standard),
                ("hmac", Hmac),
            ],
        )
    }
}

/// The generic HMAC scheme: `header: prefix + encode(HMAC(secret, body))`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HmacSpec {
    /// Header holding the signature.
    pub header: HeaderName,
    /// Hash function. Default "sha256".
    #[serde(default)]
    pub algorithm: HmacAlgorithm,
    /// How the digest is written. Default "hex".
    #[serde(default)]
    pub encoding: HmacEncoding,
    /// Text before the digest, e.g. "sha256=". Default "".
    #[serde(default)]
    pub prefix: String,
}

/// Hash function of the generic HMAC scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HmacAlgorithm {
    /// HMAC-SHA1 (legacy providers only).
    Sha1,
    /// HMAC-SHA256.
    #[default]
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

/// Encoding of the digest in the generic HMAC scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HmacEncoding {
    /// Lower- or upper-case hexadecimal.
    #[default]
    Hex,
    /// Standard base64 with padding.
    Base64,
}

impl Decode for HmacSpec {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let mut t = Table::new(value, key, cx)?;
        let header = t.required("header", cx);
        let algorithm = match t.raw("algorithm") {
            Some(v) => {
                use HmacAlgorithm::*;
                keyword(
                    v,
                    &t.path_of("algorithm"),
                    cx,
                    &[("sha1", Sha1), ("sha256", Sha256), ("sha512", Sha512)],
                )
            }
            None => Some(HmacAlgorithm::default()),
        };
        let encoding = match t.raw("encoding") {
            Some(v) => keyword(
                v,
                &t.path_of("encoding"),
                cx,
                &[("hex", HmacEncoding::Hex), ("base64", HmacEncoding::Base64)],
            ),
            None => Some(HmacEncoding::default()),
        };
        let prefix = t.or("prefix", cx, String::new());
        t.finish(cx);
        Some(HmacSpec { header: header?, algorithm: algorithm?, encoding: encoding?, prefix })
    }
}

/// Whether `key` is `whpk_` followed by the base64 of a 32-byte ed25519 public key.
pub(crate) fn is_standard_public_key(key: &str) -> bool {
    key.strip_prefix("whpk_")
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .is_some_and(|key| key.len() == 32)
}

/// Whether `secret` is `whsec_` followed by base64 of at least 24 bytes.
pub(crate) fn is_standard_secret(secret: &str) -> bool {
    secret
        .strip_prefix("whsec_")
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .is_some_and(|key| key.len() >= 24)
}

impl Decode for Source {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let mut t = Table::new(value, key, cx)?;
        let scheme: Option<Scheme> = t.required("scheme", cx);
        let secret: Option<OneOrMany<Secret>> = t.required("secret", cx);
        let tolerance = t.or("tolerance", cx, default_tolerance());
        let forward: Vec<HttpUrl> = t.or("forward", cx, Vec::new());
        let forward_secret: Option<Secret> = t.optional("forward_secret", cx);
        let public_url: Option<HttpUrl> = t.optional("public_url", cx);
        let hmac: Option<HmacSpec> = t.optional("hmac", cx);
        let retry_schedule = t.or("retry_schedule", cx, default_retry_schedule());
        let forward_timeout = t.or("forward_timeout", cx, default_forward_timeout());

        let mut ok = true;
        if let Some(secrets) = &secret {
            ok &= t.check(cx, "secret", !secrets.0.is_empty(), "must name at least one secret", "empty list");
            if scheme == Some(Scheme::Standard) {
                let valid = secrets
                    .0
                    .iter()
                    .all(|s| is_standard_secret(s.expose()) || is_standard_public_key(s.expose()));
                ok &= t.check(
                    cx,
                    "secret",
                    valid,
                    "must be Standard Webhooks secrets: `whsec_` and base64 of at least 24 bytes, or `whpk_` and a base64 ed25519 public key (32 bytes)",
                    "not a whsec_ secret",
                );
            }
        }
        if let Some(fs) = &forward_secret {
            ok &= t.check(
                cx,
                "forward_secret",
                is_standard_secret(fs.expose()),
                "must be `whsec_` and base64 of at least 24 bytes",
                "not a whsec_ secret",
            );
        }
        ok &= t.check(
            cx,
            "retry_schedule",
            (1..=50).contains(&retry_schedule.len()),
            "must have 1 to 50 entries",
            "wrong length",
        );
        ok &= t.check(
            cx,
            "forward_timeout",
            forward_timeout > HumanDuration::ZERO && forward_timeout <= HumanDuration::secs(300),
            "must be longer than 0s and at most 5m",
            "out of range",
        );
        ok &= t.check(
            cx,
            "tolerance",
            tolerance > HumanDuration::ZERO && tolerance <= HumanDuration::secs(86_400),
            "must be longer than 0s and at most 1d",
            "out of range",
        );
        match scheme {
            Some(Scheme::Twilio) if public_url.is_none() => {
                ok &= t.check(
                    cx,
                    "public_url",
                    false,
                    "is required by the `twilio` scheme, which signs the public URL",
                    "missing `public_url`",
                );
            }
            Some(Scheme::Hmac) if hmac.is_none() && t.raw("hmac").is_none() => {
                ok &= t.check(
                    cx,
                    "hmac",
                    false,
                    "is required by the `hmac` scheme (`hmac = { header, algorithm, encoding, prefix }`)",
                    "missing `hmac`",
                );
            }
            Some(s) if s != Scheme::Hmac && hmac.is_some() => {
                ok &= t.check(
                    cx,
                    "hmac",
                    false,
                    "is only used with `scheme = \"hmac\"`",
                    "not used by this scheme",
                );
            }
            _ => {}
        }
        t.finish(cx);
        if !ok {
            return None;
        }
        Some(Source {
            scheme: scheme?,
            secret: secret?.0,
            tolerance,
            forward,
            forward_secret,
            public_url,
            hmac,
            retry_schedule,
            forward_timeout,
        })
    }
}
