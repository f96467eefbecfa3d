//! Who is calling `/v1`: `Authorization: Bearer <credential>` where the
//! credential is a key from `[admin] api_keys` (every scope), a key made by
//! `junction keys create` (its own scope), or a JWT from `[admin] jwt`
//! (scopes from its `scope` claim).

use std::sync::Arc;

use http::{HeaderMap, header};
use junction_identity::{JwtConfig, JwtError, JwtVerifier, Scope, hash_key};
use junction_manifest::Admin;
use junction_store::Store;
use subtle::ConstantTimeEq;

use super::stored_keys::StoredKeys;

/// An authenticated caller, as handlers and the audit log see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    /// Names the credential, never contains it: `manifest:<hash prefix>`,
    /// `key_…` or `jwt:<subject>`.
    pub(crate) id: String,
    /// The widest scope the credential holds.
    pub(crate) scope: Scope,
}

/// Why a request is not authenticated (answered 401).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unauthenticated {
    /// No bearer credential at all.
    Missing,
    /// A credential that does not check out; the reason is safe to show.
    Invalid(String),
    /// The identity provider's keys cannot be fetched now (answered 503: the token may be fine).
    KeysUnavailable,
}

/// Checks bearer credentials against every kind of key the manifest allows.
#[derive(Debug)]
pub(crate) struct Authenticator {
    /// SHA-256 of each `[admin] api_keys` entry.
    manifest_keys: Vec<String>,
    stored: StoredKeys,
    jwt: Option<JwtVerifier>,
}

impl Authenticator {
    pub(crate) fn new(admin: &Admin, store: Arc<dyn Store>) -> Self {
        let jwt = admin.jwt.as_ref().map(|jwt| {
            JwtVerifier::new(JwtConfig {
                issuer: jwt.issuer.clone(),
                audience: jwt.audience.clone(),
                jwks_url: jwt.jwks_url.url().clone(),
            })
        });
        Self {
            manifest_keys: admin.api_keys.iter().map(|k| hash_key(k.expose())).collect(),
            stored: StoredKeys::new(store),
            jwt,
        }
    }

    /// The caller the request's `Authorization` header names.
    pub(crate) async fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, Unauthenticated> {
        let credential = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer)
            .ok_or(Unauthenticated::Missing)?;
        if looks_like_jwt(credential)
            && let Some(jwt) = &self.jwt
        {
            return match jwt.verify(credential).await {
                Ok(principal) => {
                    let scope = principal.scopes.iter().filter_map(|s| s.parse::<Scope>().ok()).max();
                    let id = format!("jwt:{}", truncate(&principal.subject, 128));
                    scope.map(|scope| Caller { id, scope }).ok_or_else(|| {
                        Unauthenticated::Invalid(
                            "The token's `scope` claim holds none of read, write, admin.".into(),
                        )
                    })
                }
                Err(JwtError::KeysUnavailable(error)) => {
                    tracing::warn!(%error, "Cannot fetch the identity provider's keys (JWKS).");
                    Err(Unauthenticated::KeysUnavailable)
                }
                Err(error) => Err(Unauthenticated::Invalid(jwt_reason(&error))),
            };
        }
        let hash = hash_key(credential);
        // Every manifest key is compared, so timing does not tell which one (or none) matched.
        let manifest = self.manifest_keys.iter().fold(None, |found, key| {
            found.or(bool::from(key.as_bytes().ct_eq(hash.as_bytes())).then_some(key))
        });
        if let Some(key) = manifest {
            return Ok(Caller { id: format!("manifest:{}", &key[..12]), scope: Scope::Admin });
        }
        if let Some(caller) = self.stored.find(&hash).await {
            return Ok(caller);
        }
        Err(Unauthenticated::Invalid(
            "The bearer credential is not valid (unknown, revoked or mistyped).".into(),
        ))
    }
}

/// The credential of a `Bearer` authorization (the scheme is case-insensitive).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, credential) = value.split_once(' ')?;
    let credential = credential.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !credential.is_empty()).then_some(credential)
}

fn looks_like_jwt(credential: &str) -> bool {
    credential.starts_with("ey") && credential.bytes().filter(|b| *b == b'.').count() == 2
}

fn jwt_reason(error: &JwtError) -> String {
    format!("The bearer token was not accepted: {error}.")
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive_and_needs_a_credential() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer   abc "), Some("abc"));
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearerabc"), None);
    }

    #[test]
    fn only_three_part_tokens_go_to_the_jwt_verifier() {
        assert!(looks_like_jwt("eyJhbGciOi.eyJzdWIi.sig"));
        assert!(!looks_like_jwt("jk_abc.def"));
        assert!(!looks_like_jwt("eyJ.a.b.c"));
    }
}
