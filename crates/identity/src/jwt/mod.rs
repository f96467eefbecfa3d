//! JWT bearer tokens from an identity provider, verified against its JWKS.
//!
//! A token is accepted when:
//! - its header's `alg` is RS256, ES256 or EdDSA (never `none` or HS*), and
//!   the key its `kid` names is of that type (RSA ≥ 2048 bits, P-256, Ed25519)
//!   with no other `alg` stated;
//! - its signature verifies with that key;
//! - `iss` is the configured issuer, `aud` (a string or an array) names the
//!   configured audience, `exp` is present and not past, `nbf` (if present)
//!   not ahead, both with 30 s of leeway, and `sub` is a string.
//!
//! Scopes come from the space-separated `scope` claim and from `scp` (a string
//! or an array), merged.

mod cache;
mod error;
mod fetch;
mod jwks;
mod token;

use std::{sync::Arc, time::Duration};

use jsonwebtoken::Validation;

pub use self::error::{FetchError, JwtError};
use self::{cache::KeyCache, fetch::JwksClient};

/// Default least time between two fetches caused by unknown `kid`s.
pub const DEFAULT_REFETCH_INTERVAL: Duration = Duration::from_secs(5);

/// Default age after which cached keys are refetched on the next use.
pub const DEFAULT_KEY_MAX_AGE: Duration = Duration::from_secs(10 * 60);

/// Which provider to trust, as `[admin] jwt` in the manifest states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtConfig {
    /// The exact `iss` tokens must carry.
    pub issuer: String,
    /// The value `aud` must be, or contain.
    pub audience: String,
    /// Where the provider publishes its keys; https, or http to a loopback host.
    pub jwks_url: url::Url,
}

/// Who a verified token says is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's `sub`.
    pub subject: String,
    /// The scopes granted, from `scope` and `scp`, without duplicates, in token order.
    pub scopes: Vec<String>,
}

/// Verifies bearer JWTs against one provider. Cheap to clone; clones share
/// the key cache.
#[derive(Clone)]
pub struct JwtVerifier {
    shared: Arc<Shared>,
    min_gap: Duration,
    max_age: Duration,
}

struct Shared {
    config: JwtConfig,
    validation: Validation,
    keys: KeyCache,
}

impl JwtVerifier {
    /// A verifier with its own HTTPS client; keys are fetched on first use.
    pub fn new(config: JwtConfig) -> Self {
        let validation = token::validation(&config.issuer, &config.audience);
        let keys = KeyCache::new(JwksClient::new(config.jwks_url.clone()));
        Self {
            shared: Arc::new(Shared { config, validation, keys }),
            min_gap: DEFAULT_REFETCH_INTERVAL,
            max_age: DEFAULT_KEY_MAX_AGE,
        }
    }

    /// Sets the least time between two fetches caused by unknown `kid`s (default 5 s).
    pub fn with_refetch_interval(mut self, min_gap: Duration) -> Self {
        self.min_gap = min_gap;
        self
    }

    /// Sets the age after which cached keys are refetched on next use (default 10 min).
    pub fn with_key_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// The provider this verifier trusts.
    pub fn config(&self) -> &JwtConfig {
        &self.shared.config
    }

    /// Checks `token` (the bearer value, without `Bearer `) and says who it names.
    pub async fn verify(&self, token: &str) -> Result<Principal, JwtError> {
        let header = token::header(token)?;
        let key = self.shared.keys.key_for(header.kid.as_deref(), self.min_gap, self.max_age).await?;
        if key.alg != header.alg {
            return Err(JwtError::AlgorithmMismatch);
        }
        token::verify(token, &key, &self.shared.validation)
    }
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("config", &self.shared.config)
            .field("min_gap", &self.min_gap)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The gateway keeps one verifier in shared state and awaits `verify` in handlers.
    #[test]
    fn the_verifier_and_its_future_can_cross_threads() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: &T) {}
        let verifier = JwtVerifier::new(JwtConfig {
            issuer: "https://idp.example.com/".into(),
            audience: "junction".into(),
            jwks_url: "https://idp.example.com/jwks.json".parse().unwrap(),
        });
        send_sync(&verifier);
        send(&verifier.verify("a.b.c"));
    }
}
