//! API keys made by `junction keys create`: a public id, a random secret shown
//! once, and the secret's SHA-256, which is all the store keeps.

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ring::{
    digest,
    rand::{SecureRandom, SystemRandom},
};

/// How every key secret starts, so a bearer value can be told apart from a JWT
/// (which starts `ey`) and secret scanners can find leaked keys.
pub const SECRET_PREFIX: &str = "jk_";

/// How every key id starts.
pub const ID_PREFIX: &str = "key_";

/// A freshly made API key. The secret is shown to the person once and then
/// forgotten; the id and hash are stored.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// Public identifier: `key_` and 16 lowercase hex digits; safe to print and log.
    pub id: String,
    /// The bearer secret: `jk_` and 43 base64url characters (32 random bytes).
    pub secret: KeySecret,
    /// Lowercase hex SHA-256 of the whole secret string, as [`hash_key`] computes it.
    pub hash: String,
}

/// An API key's secret. `Debug` and `Display` print `***`; the value is only
/// reachable through [`KeySecret::expose`], so every use is easy to find.
#[derive(Clone, PartialEq, Eq)]
pub struct KeySecret(String);

impl KeySecret {
    /// The secret itself. Print it only where the person asked for it (`keys create`).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for KeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Makes a new key from the operating system's random number generator.
pub fn generate_key() -> NewKey {
    let rng = SystemRandom::new();
    let id: [u8; 8] = random(&rng);
    let secret: [u8; 32] = random(&rng);
    let secret = format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret));
    let hash = hash_key(&secret);
    NewKey { id: format!("{ID_PREFIX}{}", hex::encode(id)), secret: KeySecret(secret), hash }
}

/// Lowercase hex SHA-256 of a presented secret, to look the key up by.
///
/// A plain hash (no salt, no slow KDF) is enough: the secret is 256 random bits,
/// so there is nothing to guess, and lookup by hash must be fast on every request.
pub fn hash_key(secret: &str) -> String {
    hex::encode(digest::digest(&digest::SHA256, secret.as_bytes()))
}

fn random<const N: usize>(rng: &SystemRandom) -> [u8; N] {
    let mut bytes = [0u8; N];
    // getrandom(2) does not fail on the Linux versions we run on once the pool is
    // initialised; if it ever does, making a guessable key would be far worse.
    rng.fill(&mut bytes).expect("the operating system's random number generator failed");
    bytes
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn a_new_key_has_the_documented_shape() {
        let key = generate_key();
        let hex_digits = key.id.strip_prefix("key_").unwrap();
        assert_eq!(hex_digits.len(), 16);
        assert!(hex_digits.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')), "{}", key.id);

        let body = key.secret.expose().strip_prefix("jk_").unwrap();
        assert_eq!(body.len(), 43);
        assert_eq!(URL_SAFE_NO_PAD.decode(body).unwrap().len(), 32);

        assert_eq!(key.hash.len(), 64);
        assert_eq!(key.hash, hash_key(key.secret.expose()));
    }

    #[test]
    fn keys_are_unique() {
        let keys: Vec<NewKey> = (0..200).map(|_| generate_key()).collect();
        assert_eq!(keys.iter().map(|k| &k.id).collect::<HashSet<_>>().len(), keys.len());
        assert_eq!(keys.iter().map(|k| k.secret.expose()).collect::<HashSet<_>>().len(), keys.len());
    }

    #[test]
    fn hash_is_lowercase_hex_sha256_of_the_whole_string() {
        // Known vectors (FIPS 180-2 "abc", and the empty string).
        assert_eq!(hash_key("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(hash_key(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_ne!(hash_key("jk_a"), hash_key("a"), "the prefix is part of what is hashed");
    }

    #[test]
    fn the_secret_is_never_printed() {
        let key = generate_key();
        let debug = format!("{key:?}");
        assert!(!debug.contains(key.secret.expose()), "{debug}");
        assert!(debug.contains(r#"secret: ***"#), "{debug}");
        assert!(debug.contains(&key.id) && debug.contains(&key.hash), "{debug}");
        assert_eq!(key.secret.to_string(), "***");
    }
}
