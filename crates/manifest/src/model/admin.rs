//! `[admin]`: who may use the `/v1` management API, and how often.

use schemars::JsonSchema;
use serde::Serialize;

use super::RateLimit;
use crate::{
    decode::{Cx, Decode, Table, Value},
    secret::Secret,
    value::{HttpUrl, HumanDuration},
};

/// Credentials and limits of the management API.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    /// Bearer keys with every scope, at least 16 characters each. More keys,
    /// with narrower scopes, come from `junction keys create`.
    #[serde(default)]
    pub api_keys: Vec<Secret>,
    /// Accept JWTs from an identity provider.
    #[serde(default)]
    pub jwt: Option<Jwt>,
    /// Requests per credential. Default 100 per "1s".
    #[serde(default = "default_rate_limit")]
    pub rate_limit: RateLimit,
}

fn default_rate_limit() -> RateLimit {
    RateLimit { requests: 100, per: HumanDuration::secs(1) }
}

impl Default for Admin {
    fn default() -> Self {
        Self { api_keys: Vec::new(), jwt: None, rate_limit: default_rate_limit() }
    }
}

/// JWT validation against an identity provider's JWKS.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Jwt {
    /// Expected `iss` claim.
    pub issuer: String,
    /// Expected `aud` claim.
    pub audience: String,
    /// Where the signing keys are published; https, or http on a loopback address.
    pub jwks_url: HttpUrl,
}

impl Decode for Admin {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let mut t = Table::new(value, key, cx)?;
        let d = Self::default();
        let admin = Admin {
            api_keys: t.or("api_keys", cx, d.api_keys),
            jwt: t.optional("jwt", cx),
            rate_limit: t.or("rate_limit", cx, d.rate_limit),
        };
        let short = admin.api_keys.iter().any(|k| k.expose().chars().count() < 16);
        t.check(cx, "api_keys", !short, "must each be at least 16 characters long", "key too short");
        t.finish(cx);
        Some(admin)
    }
}

impl Decode for Jwt {
    fn decode(value: &Value<'_>, key: &str, cx: &mut Cx<'_>) -> Option<Self> {
        let mut t = Table::new(value, key, cx)?;
        let issuer: Option<String> = t.required("issuer", cx);
        let audience: Option<String> = t.required("audience", cx);
        let jwks_url: Option<HttpUrl> = t.required("jwks_url", cx);
        let secure = jwks_url.as_ref().is_none_or(|u| u.url().scheme() == "https" || u.is_loopback());
        t.check(
            cx,
            "jwks_url",
            secure,
            "must use https (plain http is accepted only for loopback addresses)",
            "insecure JWKS URL",
        );
        t.finish(cx);
        secure.then_some(Jwt { issuer: issuer?, audience: audience?, jwks_url: jwks_url? })
    }
}
