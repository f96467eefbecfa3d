//! Who is calling Junction's `/v1` management API.
//!
//! Two kinds of credential reach `/v1` as `Authorization: Bearer ...`:
//!
//! - **JWTs from an identity provider** ([`jwt`]): a [`JwtVerifier`] checks
//!   the token's signature against the provider's JWKS (fetched over HTTPS,
//!   cached, refetched when a token names a key it has not seen), then its
//!   `iss`, `aud`, `exp` and `nbf`, and answers a [`Principal`] with the
//!   token's subject and scopes. Only RS256, ES256 and EdDSA are accepted, and
//!   only with a key of the matching type.
//! - **API keys** ([`api_key`]): random secrets made by `junction keys create`.
//!   [`generate_key`] makes one; only its SHA-256 ([`hash_key`]) is stored, so
//!   the store never holds a usable key. Each key carries a [`Scope`].
//!
//! Mapping either to an HTTP answer (401, 403, 503) is the gateway's job; every
//! error here has a `Display` that is safe to show the caller.
//!
//! ```
//! use junction_identity::{Scope, generate_key, hash_key};
//!
//! let key = generate_key();
//! assert_eq!(hash_key(key.secret.expose()), key.hash);
//! assert_eq!(format!("{key:?}").contains(key.secret.expose()), false);
//! assert!("admin".parse::<Scope>()?.allows(Scope::Write));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod api_key;
pub mod jwt;
mod scope;

pub use api_key::{KeySecret, NewKey, generate_key, hash_key};
pub use jwt::{FetchError, JwtConfig, JwtError, JwtVerifier, Principal};
pub use scope::{ParseScopeError, Scope};
