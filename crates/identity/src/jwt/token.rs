//! Reading a compact JWS: the header before any key is chosen, and the claims
//! after jsonwebtoken has checked the signature and the registered claims.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, Validation, errors::ErrorKind};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Principal, error::JwtError, jwks::VerifyingKey};

/// Longest token looked at; real ones are a few hundred bytes to a few KiB.
pub(crate) const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub(crate) const LEEWAY_SECS: u64 = 30;

/// What the header says about how to check the token.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
}

/// Reads the protected header and refuses any algorithm but RS256, ES256 and
/// EdDSA before a key is looked up, so `none`, HS* and friends never reach one.
pub(crate) fn header(token: &str) -> Result<Header, JwtError> {
    #[derive(Deserialize)]
    struct Raw {
        alg: String,
        kid: Option<String>,
        crit: Option<Value>,
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(_payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let json = URL_SAFE_NO_PAD.decode(header).map_err(|_| JwtError::Malformed)?;
    let raw: Raw = serde_json::from_slice(&json).map_err(|_| JwtError::Malformed)?;
    let alg = match raw.alg.as_str() {
        "RS256" => Algorithm::RS256,
        "ES256" => Algorithm::ES256,
        "EdDSA" => Algorithm::EdDSA,
        _ => return Err(JwtError::DisallowedAlgorithm),
    };
    // RFC 7515 §4.1.11: extensions listed in `crit` must be understood, and we understand none.
    if raw.crit.is_some() {
        return Err(JwtError::Malformed);
    }
    Ok(Header { alg, kid: raw.kid })
}

/// The checks jsonwebtoken runs for us: algorithm, signature, `exp`, `iss`,
/// `aud`, and the presence of `exp`, `iss`, `aud` and `sub`.
pub(crate) fn validation(issuer: &str, audience: &str) -> Validation {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = LEEWAY_SECS;
    validation.validate_exp = true;
    // Checked in `claims` instead: jsonwebtoken 9 silently ignores an `nbf` it
    // cannot read as a u64 (a string, or a number too large for one).
    validation.validate_nbf = false;
    validation
}

/// Verifies `token` with `key`, whose algorithm the header must already have
/// matched, and reads the principal from its claims.
pub(crate) fn verify(token: &str, key: &VerifyingKey, base: &Validation) -> Result<Principal, JwtError> {
    let mut validation = base.clone();
    validation.algorithms = vec![key.alg];
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation).map_err(map_error)?;
    claims(&data.claims, now())
}

/// The remaining checks on verified claims, and the principal they describe.
fn claims(claims: &Map<String, Value>, now: f64) -> Result<Principal, JwtError> {
    // jsonwebtoken accepts an array `iss` that contains ours; RFC 7519 allows only a string.
    if !claims.get("iss").is_some_and(Value::is_string) {
        return Err(JwtError::WrongIssuer);
    }
    match claims.get("nbf") {
        None => {}
        Some(Value::Number(nbf)) if nbf.as_f64().is_some_and(|nbf| nbf <= now + LEEWAY_SECS as f64) => {}
        Some(Value::Number(_)) => return Err(JwtError::NotYetValid),
        Some(_) => return Err(JwtError::Malformed),
    }
    let Some(Value::String(subject)) = claims.get("sub") else {
        return Err(JwtError::Malformed);
    };
    let mut scopes: Vec<String> = Vec::new();
    for claim in ["scope", "scp"] {
        let words: Vec<&str> = match claims.get(claim) {
            None | Some(Value::Null) => continue,
            // OAuth's `scope` (RFC 8693 §4.2) is space-separated; some providers send `scp` that way too.
            Some(Value::String(text)) => text.split_whitespace().collect(),
            // Okta and others send `scp` as an array.
            Some(Value::Array(items)) => {
                items.iter().map(|item| item.as_str().ok_or(JwtError::Malformed)).collect::<Result<_, _>>()?
            }
            Some(_) => return Err(JwtError::Malformed),
        };
        for word in words {
            if !word.is_empty() && !scopes.iter().any(|s| s == word) {
                scopes.push(word.to_owned());
            }
        }
    }
    Ok(Principal { subject: subject.clone(), scopes })
}

fn map_error(error: jsonwebtoken::errors::Error) -> JwtError {
    match error.into_kind() {
        ErrorKind::InvalidSignature => JwtError::BadSignature,
        ErrorKind::ExpiredSignature => JwtError::Expired,
        ErrorKind::ImmatureSignature => JwtError::NotYetValid,
        ErrorKind::InvalidIssuer => JwtError::WrongIssuer,
        ErrorKind::InvalidAudience => JwtError::WrongAudience,
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => JwtError::AlgorithmMismatch,
        ErrorKind::MissingRequiredClaim(claim) => JwtError::MissingClaim(match claim.as_str() {
            "iss" => "iss",
            "aud" => "aud",
            "sub" => "sub",
            // Also what jsonwebtoken reports for an `exp` that is not a non-negative number.
            _ => "exp",
        }),
        // Key problems that slipped past the JWKS checks (a P-256 point off the
        // curve, an RSA exponent ring refuses) mean this key verifies nothing.
        ErrorKind::InvalidEcdsaKey | ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat => {
            JwtError::BadSignature
        }
        _ => JwtError::Malformed,
    }
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn encode(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    fn with_header(value: Value) -> String {
        format!("{}.e30.c2ln", encode(&value))
    }

    #[test]
    fn reads_alg_and_kid() {
        for (alg, expected) in
            [("RS256", Algorithm::RS256), ("ES256", Algorithm::ES256), ("EdDSA", Algorithm::EdDSA)]
        {
            let token = with_header(json!({"alg": alg, "kid": "k1", "typ": "JWT"}));
            assert_eq!(header(&token), Ok(Header { alg: expected, kid: Some("k1".into()) }));
        }
        assert_eq!(header(&with_header(json!({"alg": "ES256"}))).unwrap().kid, None);
    }

    #[test]
    fn refuses_every_other_algorithm() {
        for alg in [
            "none", "None", "NONE", "HS256", "HS384", "HS512", "RS384", "RS512", "PS256", "ES384", "ES512",
            "Ed25519", "rs256", "",
        ] {
            assert_eq!(
                header(&with_header(json!({"alg": alg}))),
                Err(JwtError::DisallowedAlgorithm),
                "{alg}"
            );
        }
        // An unsigned token (`alg: none`, empty signature) is refused for its algorithm.
        let unsigned = format!("{}.e30.", encode(&json!({"alg": "none"})));
        assert_eq!(header(&unsigned), Err(JwtError::DisallowedAlgorithm));
    }

    #[test]
    fn refuses_malformed_headers() {
        let cases = [
            String::new(),
            "a.b".into(),
            "a.b.c.d".into(),
            format!("{}.e30.c2ln.", encode(&json!({"alg": "ES256"}))),
            "!!!.e30.c2ln".into(),
            format!("{}=.e30.c2ln", encode(&json!({"alg": "ES256"}))),
            with_header(json!(["alg", "ES256"])),
            with_header(json!({"kid": "k"})),
            with_header(json!({"alg": 256})),
            with_header(json!({"alg": "ES256", "kid": 7})),
            with_header(json!({"alg": "ES256", "crit": ["exp"], "exp": 1})),
            format!("{}.e30.c2ln", "a".repeat(MAX_TOKEN_LEN)),
        ];
        for token in cases {
            assert_eq!(header(&token), Err(JwtError::Malformed), "{token}");
        }
    }

    fn principal(claims_json: Value) -> Result<Principal, JwtError> {
        let Value::Object(map) = claims_json else { unreachable!() };
        claims(&map, 1_000_000.0)
    }

    #[test]
    fn scopes_come_from_scope_and_scp() {
        let base = json!({"iss": "i", "sub": "alice"});
        let with = |extra: Value| {
            let mut c = base.clone();
            c.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            principal(c)
        };
        assert_eq!(with(json!({})).unwrap(), Principal { subject: "alice".into(), scopes: vec![] });
        assert_eq!(
            with(json!({"scope": " read  write\tadmin "})).unwrap().scopes,
            ["read", "write", "admin"]
        );
        assert_eq!(with(json!({"scp": ["read", "write"]})).unwrap().scopes, ["read", "write"]);
        assert_eq!(with(json!({"scp": "read write"})).unwrap().scopes, ["read", "write"]);
        assert_eq!(
            with(json!({"scope": "read write", "scp": ["write", "admin", ""]})).unwrap().scopes,
            ["read", "write", "admin"],
        );
        assert_eq!(with(json!({"scope": null})).unwrap().scopes, Vec::<String>::new());
        for bad in [json!({"scope": 1}), json!({"scp": [1]}), json!({"scp": {"read": true}})] {
            assert_eq!(with(bad.clone()), Err(JwtError::Malformed), "{bad}");
        }
    }

    #[test]
    fn nbf_must_be_a_past_number() {
        let at = |nbf: Value| principal(json!({"iss": "i", "sub": "s", "nbf": nbf}));
        assert!(at(json!(999_000)).is_ok());
        assert!(at(json!(1_000_000 + LEEWAY_SECS)).is_ok(), "within the leeway");
        assert_eq!(at(json!(1_000_000 + LEEWAY_SECS + 1)), Err(JwtError::NotYetValid));
        assert_eq!(at(json!(1e300)), Err(JwtError::NotYetValid));
        assert!(at(json!(-5)).is_ok());
        assert_eq!(at(json!("999000")), Err(JwtError::Malformed));
    }

    #[test]
    fn sub_and_iss_must_be_strings() {
        assert_eq!(principal(json!({"iss": "i", "sub": 42})), Err(JwtError::Malformed));
        assert_eq!(principal(json!({"iss": ["i"], "sub": "s"})), Err(JwtError::WrongIssuer));
    }
}
