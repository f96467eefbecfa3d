//! The few primitives the schemes need, on ring: HMAC, SHA-256, Ed25519, and a
//! constant-time comparison of MACs.

use ring::{digest, hmac, signature};

use crate::HmacAlgorithm;

/// A prepared secret: the HMAC key, or for Standard Webhooks `v1a` an Ed25519 public key.
#[derive(Clone)]
pub(crate) enum Key {
    Hmac(hmac::Key),
    Ed25519([u8; 32]),
}

impl Key {
    pub(crate) fn hmac(algorithm: HmacAlgorithm, secret: &[u8]) -> Self {
        Self::Hmac(hmac_key(algorithm, secret))
    }
}

/// An HMAC key for `algorithm`; the secret's bytes are used as given.
pub(crate) fn hmac_key(algorithm: HmacAlgorithm, secret: &[u8]) -> hmac::Key {
    let algorithm = match algorithm {
        HmacAlgorithm::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        HmacAlgorithm::Sha256 => hmac::HMAC_SHA256,
        HmacAlgorithm::Sha512 => hmac::HMAC_SHA512,
    };
    hmac::Key::new(algorithm, secret)
}

/// The HMAC of the concatenated `parts`, fed piece by piece so a large body is never copied.
pub(crate) fn mac(key: &hmac::Key, parts: &[&[u8]]) -> hmac::Tag {
    let mut context = hmac::Context::with_key(key);
    for part in parts {
        context.update(part);
    }
    context.sign()
}

/// True if some HMAC key signs `parts` to one of `candidates`. Each key's MAC
/// is computed once and compared to every candidate in constant time.
pub(crate) fn any_mac_matches(keys: &[Key], parts: &[&[u8]], candidates: &[Vec<u8>]) -> bool {
    if candidates.is_empty() {
        return false;
    }
    keys.iter().any(|key| match key {
        Key::Hmac(key) => {
            let tag = mac(key, parts);
            candidates.iter().any(|candidate| constant_time_eq(tag.as_ref(), candidate))
        }
        Key::Ed25519(_) => false,
    })
}

/// True if some Ed25519 key signed `message` with one of `candidates`.
pub(crate) fn any_ed25519_matches(keys: &[Key], message: &[u8], candidates: &[Vec<u8>]) -> bool {
    keys.iter().any(|key| match key {
        Key::Ed25519(public_key) => {
            let public_key = signature::UnparsedPublicKey::new(&signature::ED25519, public_key);
            candidates.iter().any(|candidate| public_key.verify(message, candidate).is_ok())
        }
        Key::Hmac(_) => false,
    })
}

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> digest::Digest {
    digest::digest(&digest::SHA256, data)
}

/// Compares without an early exit, so the time taken does not reveal how many
/// leading bytes of a forged MAC were right. Lengths are public (fixed per
/// algorithm), so a length mismatch may return at once. ring's own public
/// helper for this is deprecated, hence this one.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // Stops the optimiser from turning the fold back into an early-exit comparison.
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn mac_of_parts_equals_mac_of_the_whole() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"k");
        let whole = hmac::sign(&key, b"12345.body");
        assert_eq!(mac(&key, &[b"12345", b".", b"body"]).as_ref(), whole.as_ref());
    }
}
