//! A JWKS document turned into the keys Junction verifies with. Keys it cannot
//! use safely (symmetric, other curves, RSA under 2048 bits, encryption keys,
//! entries it cannot parse) are skipped one by one, so one odd key published by
//! the provider does not take the others down with it.

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse},
};
use serde::Deserialize;
use tracing::{debug, warn};

use super::error::FetchError;

/// Smallest RSA modulus accepted, in bits (NIST SP 800-131A; ring's floor too).
const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus ring verifies with, in bits.
const MAX_RSA_BITS: usize = 8192;

/// One usable key and the only algorithm it may be used with.
pub(crate) struct VerifyingKey {
    pub(crate) alg: Algorithm,
    pub(crate) key: DecodingKey,
}

/// The usable keys of one JWKS document, in document order.
#[derive(Default)]
pub(crate) struct KeySet {
    keys: Vec<(Option<String>, Arc<VerifyingKey>)>,
}

impl KeySet {
    /// Parses a JWKS document, keeping the usable keys. Fails only when the
    /// document as a whole is not a JSON object with a `keys` array.
    pub(crate) fn parse(document: &[u8]) -> Result<Self, FetchError> {
        // Each entry is parsed on its own: `JwkSet` would refuse the whole set
        // over one key with a curve or `alg` that jsonwebtoken does not know.
        #[derive(Deserialize)]
        struct Document {
            keys: Vec<serde_json::Value>,
        }
        let document: Document = serde_json::from_slice(document).map_err(|_| FetchError::NotAKeySet)?;
        let mut keys = Vec::with_capacity(document.keys.len());
        for entry in document.keys {
            let kid = entry.get("kid").and_then(|k| k.as_str()).map(str::to_owned);
            let usable = serde_json::from_value::<Jwk>(entry)
                .map_err(|_| "it is not a public JWK of a known type")
                .and_then(|jwk| usable(&jwk));
            match usable {
                Ok(key) => keys.push((kid, Arc::new(key))),
                Err(reason) => debug!(kid = kid.as_deref().unwrap_or(""), reason, "JWKS key skipped."),
            }
        }
        if keys.is_empty() {
            warn!("The JWKS holds no key Junction can verify with (RS256, ES256 or EdDSA).");
        }
        Ok(Self { keys })
    }

    /// The key a token names. A token without `kid` may use the only key of a
    /// one-key set, as some providers that publish a single key omit it.
    pub(crate) fn find(&self, kid: Option<&str>) -> Option<&Arc<VerifyingKey>> {
        match kid {
            Some(kid) => self.keys.iter().find(|(k, _)| k.as_deref() == Some(kid)).map(|(_, key)| key),
            None => match self.keys.as_slice() {
                [(_, only)] => Some(only),
                _ => None,
            },
        }
    }

    /// How many usable keys the set holds.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}

/// Checks that a JWK is a signature key of a type and size Junction accepts,
/// and pins the one algorithm it may verify.
fn usable(jwk: &Jwk) -> Result<VerifyingKey, &'static str> {
    if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
        return Err("its `use` is not `sig`");
    }
    if matches!(&jwk.common.key_operations, Some(ops) if !ops.contains(&KeyOperations::Verify)) {
        return Err("its `key_ops` do not include `verify`");
    }
    let (alg, stated) = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let bits = bit_length(&decode(&rsa.n)?);
            if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
                return Err("its RSA modulus is not 2048 to 8192 bits");
            }
            if decode(&rsa.e)?.is_empty() {
                return Err("its RSA exponent is empty");
            }
            (Algorithm::RS256, KeyAlgorithm::RS256)
        }
        AlgorithmParameters::EllipticCurve(ec) => {
            if ec.curve != EllipticCurve::P256 {
                return Err("its curve is not P-256");
            }
            if decode(&ec.x)?.len() != 32 || decode(&ec.y)?.len() != 32 {
                return Err("its P-256 coordinates are not 32 bytes each");
            }
            (Algorithm::ES256, KeyAlgorithm::ES256)
        }
        AlgorithmParameters::OctetKeyPair(okp) => {
            if okp.curve != EllipticCurve::Ed25519 {
                return Err("its curve is not Ed25519");
            }
            if decode(&okp.x)?.len() != 32 {
                return Err("its Ed25519 key is not 32 bytes");
            }
            (Algorithm::EdDSA, KeyAlgorithm::EdDSA)
        }
        AlgorithmParameters::OctetKey(_) => return Err("it is a symmetric key"),
    };
    if jwk.common.key_algorithm.is_some_and(|a| a != stated) {
        return Err("its `alg` is not RS256, ES256 or EdDSA to match its type");
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|_| "its key material does not decode")?;
    Ok(VerifyingKey { alg, key })
}

fn decode(b64: &str) -> Result<Vec<u8>, &'static str> {
    URL_SAFE_NO_PAD.decode(b64).map_err(|_| "its key material is not base64url")
}

/// Bits in a big-endian unsigned integer, ignoring leading zeros.
fn bit_length(bytes: &[u8]) -> usize {
    match bytes.iter().position(|b| *b != 0) {
        Some(i) => (bytes.len() - i - 1) * 8 + (8 - bytes[i].leading_zeros() as usize),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const RSA_2048: &str = include_str!("../../tests/fixtures/rsa-2048.jwk.json");
    const RSA_1024: &str = include_str!("../../tests/fixtures/rsa-1024.jwk.json");

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn rsa(kid: &str) -> Value {
        let mut jwk: Value = serde_json::from_str(RSA_2048).unwrap();
        jwk["kid"] = kid.into();
        jwk
    }

    fn ec(kid: &str) -> Value {
        json!({"kty": "EC", "crv": "P-256", "kid": kid, "x": b64(&[1; 32]), "y": b64(&[2; 32])})
    }

    fn okp(kid: &str) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64(&[3; 32])})
    }

    fn parse(keys: Vec<Value>) -> KeySet {
        KeySet::parse(json!({ "keys": keys }).to_string().as_bytes()).unwrap()
    }

    fn alg_of(set: &KeySet, kid: &str) -> Option<Algorithm> {
        set.find(Some(kid)).map(|k| k.alg)
    }

    #[test]
    fn each_key_type_is_pinned_to_one_algorithm() {
        let set = parse(vec![rsa("r"), ec("e"), okp("o")]);
        assert_eq!(set.len(), 3);
        assert_eq!(alg_of(&set, "r"), Some(Algorithm::RS256));
        assert_eq!(alg_of(&set, "e"), Some(Algorithm::ES256));
        assert_eq!(alg_of(&set, "o"), Some(Algorithm::EdDSA));
    }

    #[test]
    fn unusable_keys_are_skipped_and_the_rest_kept() {
        let mut small: Value = serde_json::from_str(RSA_1024).unwrap();
        small["kid"] = "small".into();
        let unusable = vec![
            small,
            json!({"kty": "oct", "kid": "hmac", "k": b64(b"a shared secret, not a public key")}),
            json!({"kty": "EC", "crv": "P-384", "kid": "p384", "x": b64(&[1; 48]), "y": b64(&[2; 48])}),
            json!({"kty": "EC", "crv": "P-256", "kid": "short", "x": b64(&[1; 31]), "y": b64(&[2; 32])}),
            json!({"kty": "OKP", "crv": "X25519", "kid": "x25519", "x": b64(&[3; 32])}),
            json!({"kty": "OKP", "crv": "Ed448", "kid": "ed448", "x": b64(&[3; 57])}),
            json!({"kty": "RSA", "kid": "not-b64", "n": "!!!", "e": "AQAB"}),
            json!({"kty": "PQC", "kid": "future"}),
            json!("not even an object"),
            {
                let mut k = rsa("enc");
                k["use"] = "enc".into();
                k
            },
            {
                let mut k = rsa("oaep");
                k["alg"] = "RSA-OAEP".into();
                k
            },
            {
                let mut k = rsa("ps256");
                k["alg"] = "PS256".into();
                k
            },
            {
                let mut k = ec("wrong-alg");
                k["alg"] = "ES384".into();
                k
            },
            {
                let mut k = okp("sign-only");
                k["key_ops"] = json!(["sign"]);
                k
            },
        ];
        let skipped: Vec<String> =
            unusable.iter().filter_map(|k| k.get("kid")?.as_str().map(str::to_owned)).collect();
        let mut keys = unusable;
        keys.extend([rsa("good-rsa"), ec("good-ec"), okp("good-okp")]);

        let set = parse(keys);
        assert_eq!(set.len(), 3);
        for kid in ["good-rsa", "good-ec", "good-okp"] {
            assert!(set.find(Some(kid)).is_some(), "{kid} should be kept");
        }
        for kid in skipped {
            assert!(set.find(Some(&kid)).is_none(), "{kid} should be skipped");
        }
    }

    #[test]
    fn a_stated_alg_that_fits_is_accepted() {
        let mut k = okp("o");
        k["alg"] = "EdDSA".into();
        k["use"] = "sig".into();
        k["key_ops"] = json!(["verify"]);
        assert_eq!(alg_of(&parse(vec![k]), "o"), Some(Algorithm::EdDSA));
    }

    #[test]
    fn a_token_without_kid_may_use_the_only_key() {
        assert!(parse(vec![okp("only")]).find(None).is_some());
        assert!(parse(vec![okp("a"), ec("b")]).find(None).is_none());
        assert!(parse(vec![]).find(None).is_none());
    }

    #[test]
    fn documents_that_are_not_key_sets_are_refused() {
        for doc in ["", "[]", "{}", r#"{"keys": {}}"#, "<html>", r#"{"keys": [1"#] {
            assert_eq!(KeySet::parse(doc.as_bytes()).err(), Some(FetchError::NotAKeySet), "{doc}");
        }
        assert_eq!(KeySet::parse(br#"{"keys": []}"#).unwrap().len(), 0);
    }

    #[test]
    fn bit_length_ignores_leading_zeros() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&[0x7f; 256]), 2047);
    }
}
