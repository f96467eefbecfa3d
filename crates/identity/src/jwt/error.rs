//! Why a token was refused, or why the keys to check it could not be had.
//!
//! Every message here may be shown to the caller: none repeats the token, a
//! claim value or key material.

use std::time::Duration;

/// Why [`JwtVerifier::verify`](super::JwtVerifier::verify) refused a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url segments of JSON, or a claim has the wrong type.
    #[error("the token is not a well-formed JWT")]
    Malformed,
    /// The header names an algorithm other than RS256, ES256 or EdDSA (`none` and HS* included).
    #[error("the token's signing algorithm is not accepted (use RS256, ES256 or EdDSA)")]
    DisallowedAlgorithm,
    /// The header's `alg` does not fit the key its `kid` names.
    #[error("the token's algorithm does not match its signing key")]
    AlgorithmMismatch,
    /// No key in the provider's key set has the token's `kid`, even after a refetch.
    #[error("the token's signing key is not in the identity provider's key set")]
    UnknownKey,
    /// The signature does not verify: the token was altered or signed by someone else.
    #[error("the token's signature is not valid")]
    BadSignature,
    /// `exp` is in the past (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    /// `aud` does not name the configured audience.
    #[error("the token is meant for another audience")]
    WrongAudience,
    /// A claim that Junction requires (`exp`, `iss`, `aud`, `sub`) is absent.
    #[error("the token has no `{0}` claim")]
    MissingClaim(&'static str),
    /// The provider's key set could not be fetched; the token may be fine.
    #[error("the identity provider's signing keys are unavailable: {0}")]
    KeysUnavailable(#[source] FetchError),
}

/// Why fetching the JWKS failed. Details (addresses, I/O errors) are logged
/// where they happen, not carried here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The URL is plain `http` to a host that is not loopback.
    #[error("the JWKS URL must use https (plain http is allowed only for loopback hosts)")]
    InsecureUrl,
    /// Connecting, TLS or the exchange itself failed.
    #[error("the JWKS request failed")]
    Request,
    /// No complete answer within the time limit.
    #[error("the JWKS request timed out after {}s", .0.as_secs())]
    Timeout(Duration),
    /// The endpoint answered something other than 200.
    #[error("the JWKS endpoint answered HTTP {0}")]
    Status(u16),
    /// The document is larger than the limit (bytes).
    #[error("the JWKS document is larger than {0} bytes")]
    TooLarge(usize),
    /// The document is not a JSON object with a `keys` array.
    #[error("the JWKS document is not a JSON key set")]
    NotAKeySet,
}
