//! Standard Webhooks (and Svix, which uses `svix-*` header names): signed
//! content `"{id}.{timestamp}.{body}"`; `v1` is HMAC-SHA256 keyed with the
//! base64-decoded `whsec_` secret, `v1a` is Ed25519 checked with a `whpk_` key.

use base64::Engine;
use http::{HeaderMap, HeaderName, HeaderValue};
use ring::signature::{Ed25519KeyPair, KeyPair};

use crate::{
    ConfigError, HmacAlgorithm, Rejection, Request, Verified, crypto,
    crypto::Key,
    header::{self, Freshness},
    hmac::BASE64,
};

/// Each header under its Standard Webhooks name first, then its Svix alias.
const ID: [&str; 2] = ["webhook-id", "svix-id"];
const TIMESTAMP: [&str; 2] = ["webhook-timestamp", "svix-timestamp"];
const SIGNATURE: [&str; 2] = ["webhook-signature", "svix-signature"];

const SYMMETRIC_PREFIX: &str = "whsec_";
const PUBLIC_KEY_PREFIX: &str = "whpk_";
const SIGNING_KEY_PREFIX: &str = "whsk_";

pub(crate) const NOT_BASE64: &str = "the part after whsec_/whpk_ is not base64";

pub(crate) fn verify(
    keys: &[Key],
    request: &Request<'_>,
    freshness: Freshness,
) -> Result<Verified, Rejection> {
    let (id_header, id) = aliased(request.headers, ID)?;
    if id.is_empty() || id.contains('.') {
        // A full stop in the id would let the same signed bytes be split into a different id and body.
        return Err(header::malformed(id_header, "it is empty or contains a full stop"));
    }
    let (timestamp_header, timestamp_text) = aliased(request.headers, TIMESTAMP)?;
    let timestamp = header::timestamp(timestamp_header, timestamp_text)?;
    let (signature_header, value) = aliased(request.headers, SIGNATURE)?;
    let Signatures { v1, v1a } = parse(signature_header, value)?;
    freshness.check(timestamp_header, timestamp)?;
    let signed = [id.as_bytes(), b".", timestamp_text.as_bytes(), b".", request.body];
    let matched = crypto::any_mac_matches(keys, &signed, &v1)
        || (!v1a.is_empty() && crypto::any_ed25519_matches(keys, &signed.concat(), &v1a));
    if !matched {
        return Err(Rejection::NoMatchingSignature { header: signature_header.to_owned() });
    }
    Ok(Verified { delivery_id: Some(id.to_owned()), timestamp: Some(timestamp) })
}

/// The header under its first present name, reported under that name.
fn aliased<'a>(
    headers: &'a HeaderMap,
    names: [&'static str; 2],
) -> Result<(&'static str, &'a str), Rejection> {
    for name in names {
        if let Some(value) = header::optional(headers, name)? {
            return Ok((name, value));
        }
    }
    Err(Rejection::MissingHeader(names[0].to_owned()))
}

/// The candidate signatures of one header, by scheme.
struct Signatures {
    /// HMAC-SHA256, checked against `whsec_` keys.
    v1: Vec<Vec<u8>>,
    /// Ed25519, checked against `whpk_` keys.
    v1a: Vec<Vec<u8>>,
}

/// Splits `v1,<b64> v1a,<b64> …` into HMAC and Ed25519 candidates. Unknown
/// versions are skipped: the spec lets senders add schemes receivers ignore.
fn parse(name: &str, value: &str) -> Result<Signatures, Rejection> {
    let (mut v1, mut v1a) = (Vec::new(), Vec::new());
    for entry in header::entries(name, value, ' ')? {
        let (version, encoded) = entry
            .split_once(',')
            .ok_or_else(|| header::malformed(name, "an entry is not version,signature"))?;
        let list = match version {
            "v1" => &mut v1,
            "v1a" => &mut v1a,
            _ => continue,
        };
        list.push(BASE64.decode(encoded).map_err(|_| header::malformed(name, "a signature is not base64"))?);
    }
    Ok(Signatures { v1, v1a })
}

/// Prepares a verifying secret: `whsec_` for `v1`, `whpk_` for `v1a`.
pub(crate) fn key(secret: &str) -> Result<Key, &'static str> {
    if let Some(encoded) = secret.strip_prefix(SYMMETRIC_PREFIX) {
        Ok(Key::hmac(HmacAlgorithm::Sha256, &symmetric_key(encoded)?))
    } else if let Some(encoded) = secret.strip_prefix(PUBLIC_KEY_PREFIX) {
        let bytes = BASE64.decode(encoded).map_err(|_| NOT_BASE64)?;
        let public_key = bytes.try_into().map_err(|_| "a whpk_ key must be 32 bytes")?;
        Ok(Key::Ed25519(public_key))
    } else if secret.starts_with(SIGNING_KEY_PREFIX) {
        Err("a whsk_ key is the sender's private key; configure its whpk_ public key")
    } else {
        Err("a Standard Webhooks secret starts with whsec_ or whpk_")
    }
}

fn symmetric_key(encoded: &str) -> Result<Vec<u8>, &'static str> {
    let bytes = BASE64.decode(encoded).map_err(|_| NOT_BASE64)?;
    if bytes.is_empty() {
        return Err("the key after whsec_ is empty");
    }
    Ok(bytes)
}

/// Signs a message as Standard Webhooks `v1`, for the `webhook-signature`
/// header of the messages Junction forwards: returns `"v1,<base64>"`.
///
/// `secret` is `whsec_<base64 key>`. `id` must not contain a full stop (the
/// spec forbids it and this crate's verifier refuses it). Interoperates with
/// the official Standard Webhooks and Svix libraries.
pub fn sign_v1(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, ConfigError> {
    let encoded = secret
        .strip_prefix(SYMMETRIC_PREFIX)
        .ok_or(ConfigError::InvalidSigningSecret { reason: "a v1 signing secret starts with whsec_" })?;
    let key = symmetric_key(encoded).map_err(|reason| ConfigError::InvalidSigningSecret { reason })?;
    let key = crypto::hmac_key(HmacAlgorithm::Sha256, &key);
    let tag = crypto::mac(&key, &[id.as_bytes(), b".", timestamp.to_string().as_bytes(), b".", body]);
    Ok(format!("v1,{}", BASE64.encode(tag.as_ref())))
}

/// `v1a` signing with a `whsk_<base64(seed ‖ public key)>` secret, as Svix does.
fn sign_v1a(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, &'static str> {
    let encoded = secret.strip_prefix(SIGNING_KEY_PREFIX).ok_or("a v1a signing secret starts with whsk_")?;
    let bytes = BASE64.decode(encoded).map_err(|_| "the part after whsk_ is not base64")?;
    if bytes.len() != 64 {
        return Err("a whsk_ key must be 64 bytes");
    }
    let pair = Ed25519KeyPair::from_seed_and_public_key(&bytes[..32], &bytes[32..])
        .map_err(|_| "the whsk_ seed and public key do not belong together")?;
    let message = [id.as_bytes(), b".", timestamp.to_string().as_bytes(), b".", body].concat();
    Ok(format!("v1a,{}", BASE64.encode(pair.sign(&message))))
}

pub(crate) fn keypair(seed: [u8; 32]) -> (String, String) {
    let pair = Ed25519KeyPair::from_seed_unchecked(&seed).expect("any 32 bytes are an Ed25519 seed");
    let public_key = pair.public_key().as_ref();
    let secret = [seed.as_slice(), public_key].concat();
    (
        format!("{SIGNING_KEY_PREFIX}{}", BASE64.encode(secret)),
        format!("{PUBLIC_KEY_PREFIX}{}", BASE64.encode(public_key)),
    )
}

pub(crate) fn sign(secret: &str, body: &[u8], now: i64, id: &str) -> Result<HeaderMap, &'static str> {
    let signature = if secret.starts_with(SIGNING_KEY_PREFIX) {
        sign_v1a(secret, id, now, body)?
    } else {
        sign_v1(secret, id, now, body)
            .map_err(|_| "a Standard Webhooks signing secret starts with whsec_ or whsk_")?
    };
    let mut headers = HeaderMap::new();
    let value = |text: &str| HeaderValue::from_str(text).map_err(|_| "the id is not a header value");
    headers.insert(HeaderName::from_static(ID[0]), value(id)?);
    headers.insert(HeaderName::from_static(TIMESTAMP[0]), value(&now.to_string())?);
    headers.insert(HeaderName::from_static(SIGNATURE[0]), value(&signature)?);
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Scheme, Verifier, harness::*};

    const BODY: &[u8] = br#"{"type":"invoice.paid","data":{}}"#;
    const KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const OLD_KEY: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const OTHER_KEY: &str = "whsec_c29tZW9uZSBlbHNlJ3Mga2V5IGJ5dGVz";
    /// The only published Ed25519 pair, from the Svix README (webhooks.md §4.2); it comes with no signed sample.
    const SVIX_WHSK: &str =
        "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==";
    const SVIX_WHPK: &str = "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=";
    const SIG: &str = "webhook-signature";
    const TS: &str = "webhook-timestamp";

    #[test]
    fn verifies_deliveries() {
        let h = Harness::new(Scheme::Standard, &[KEY, OLD_KEY]);
        let signed = h.sign(KEY, BODY);
        let v1 = signed[SIG].to_str().unwrap().to_owned();
        let old = h.sign(OLD_KEY, BODY)[SIG].to_str().unwrap().to_owned();
        let svix = [("webhook-id", "svix-id"), (TS, "svix-timestamp"), (SIG, "svix-signature")]
            .iter()
            .fold(HeaderMap::new(), |acc, (from, to)| with(&acc, to, signed[*from].to_str().unwrap()));
        let ok = Some(DELIVERY_ID);
        h.check_all([
            case("valid", signed.clone(), BODY).accepted(ok, Some(NOW)),
            case("old secret", h.sign(OLD_KEY, BODY), BODY).accepted(ok, Some(NOW)),
            case("svix header names", svix.clone(), BODY).accepted(ok, Some(NOW)),
            case("several entries", with(&signed, SIG, &format!("v2,abc {old} v1a,AAAA  {v1}")), BODY)
                .accepted(ok, Some(NOW)),
            case("unpadded base64", with(&signed, SIG, v1.trim_end_matches('=')), BODY)
                .accepted(ok, Some(NOW)),
            case("unknown secret", h.sign(OTHER_KEY, BODY), BODY).rejected(no_match(SIG)),
            case("tampered body", signed.clone(), b"{}").rejected(no_match(SIG)),
            case("tampered id", with(&signed, "webhook-id", "delivery-0002"), BODY).rejected(no_match(SIG)),
            case("tampered timestamp", with(&signed, TS, &(NOW + 1).to_string()), BODY)
                .rejected(no_match(SIG)),
            case("only unknown versions", with(&signed, SIG, "v2,AAAA"), BODY).rejected(no_match(SIG)),
            case("too old", signed.clone(), BODY).at(NOW + 301).rejected(outside_tolerance(TS)),
            case("from the future", signed.clone(), BODY).at(NOW - 301).rejected(outside_tolerance(TS)),
            case("svix, too old", svix, BODY).at(NOW + 301).rejected(outside_tolerance("svix-timestamp")),
            case("missing signature", without(&signed, SIG), BODY).rejected(missing(SIG)),
            case("missing id", without(&signed, "webhook-id"), BODY).rejected(missing("webhook-id")),
            case("missing timestamp", without(&signed, TS), BODY).rejected(missing(TS)),
            case("id with a full stop", with(&signed, "webhook-id", "a.b"), BODY)
                .rejected(malformed("webhook-id")),
            case("bad timestamp", with(&signed, TS, "soon"), BODY).rejected(malformed(TS)),
            case("entry without version", with(&signed, SIG, "AAAA"), BODY).rejected(malformed(SIG)),
            case("v1 not base64", with(&signed, SIG, "v1,!!!"), BODY).rejected(malformed(SIG)),
            case("too many entries", with(&signed, SIG, &vec![v1.as_str(); 33].join(" ")), BODY)
                .rejected(malformed(SIG)),
        ]);
    }

    /// Vectors A and B and the negative cases of the official libraries (webhooks.md §4.2).
    #[test]
    fn official_vectors() {
        let request = |id: &str, ts: &str, sig: &str| {
            with(&with(&with(&HeaderMap::new(), "webhook-id", id), TS, ts), SIG, sig)
        };
        let a_body = br#"{"test": 2432232314}"#;
        let a = |sig: &str| request("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", sig);
        let b_body = br#"{"email":"test@example.com","username":"test_user"}"#;
        let b = |sig: &str| request("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", "1649367553", sig);
        let a_sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        let b_sig = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";
        let decoys = "v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ= v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q= v1,9DfC1c3eeOrXB6w/5dIDydLNQaEyww5KalE5jLBZucE=";
        let (a_now, b_now) = (1_614_265_330, 1_649_367_553);

        let h = Harness::new(Scheme::Standard, &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]);
        let a_id = Some("msg_p5jXN8AQM9LWM0D4loKWxJek");
        h.check_all([
            case("vector A", a(a_sig), a_body).at(a_now).accepted(a_id, Some(a_now)),
            case("vector A, last char changed", a("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="), a_body)
                .at(a_now)
                .rejected(no_match(SIG)),
            case("vector A, bare v1,", a("v1,"), a_body).at(a_now).rejected(no_match(SIG)),
            case("vector A, first 8 chars", a(&a_sig[..8]), a_body).at(a_now).rejected(malformed(SIG)),
            case("vector A, 8 chars of signature", a(&a_sig[..11]), a_body).at(a_now).rejected(no_match(SIG)),
            case("vector A, 301 s later", a(a_sig), a_body).at(a_now + 301).rejected(outside_tolerance(TS)),
            case("vector A, 301 s earlier", a(a_sig), a_body).at(a_now - 301).rejected(outside_tolerance(TS)),
        ]);

        let h = Harness::new(Scheme::Standard, &["whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"]);
        let b_id = Some("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk");
        h.check_all([
            case("vector B", b(b_sig), b_body).at(b_now).accepted(b_id, Some(b_now)),
            case("vector B among decoys", b(&format!("{decoys} {b_sig}")), b_body)
                .at(b_now)
                .accepted(b_id, Some(b_now)),
            case("decoys only", b(decoys), b_body).at(b_now).rejected(no_match(SIG)),
            case("rust test_no_verify", b("v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU="), b_body)
                .at(b_now)
                .rejected(no_match(SIG)),
        ]);

        assert_eq!(
            sign_v1("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", a_now, a_body),
            Ok(a_sig.to_owned())
        );
        assert_eq!(
            sign_v1(
                "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                b_now,
                b_body
            ),
            Ok(b_sig.to_owned())
        );
    }

    #[test]
    fn ed25519_v1a() {
        let (whsk, whpk) = crate::testing::standard_keypair([7; 32]);
        let h = Harness::with_keys(
            Scheme::Standard,
            &[SVIX_WHPK, whpk.as_str(), KEY],
            &[SVIX_WHSK, whsk.as_str(), KEY],
        );
        let signed = h.sign(SVIX_WHSK, BODY);
        let ok = Some(DELIVERY_ID);
        let (other_whsk, _) = crate::testing::standard_keypair([8; 32]);
        let as_v1 = signed[SIG].to_str().unwrap().replace("v1a,", "v1,");
        h.check_all([
            case("Svix README pair", signed.clone(), BODY).accepted(ok, Some(NOW)),
            case("generated pair", h.sign(&whsk, BODY), BODY).accepted(ok, Some(NOW)),
            case("symmetric key alongside", h.sign(KEY, BODY), BODY).accepted(ok, Some(NOW)),
            case("unknown pair", h.sign(&other_whsk, BODY), BODY).rejected(no_match(SIG)),
            case("tampered body", signed.clone(), b"{}").rejected(no_match(SIG)),
            case("v1a signature labelled v1", with(&signed, SIG, &as_v1), BODY).rejected(no_match(SIG)),
        ]);
    }

    #[test]
    fn secrets_are_checked_up_front() {
        let cases = [
            ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with whsec_ or whpk_"),
            ("whsec_", "is empty"),
            ("whsec_not*base64", NOT_BASE64),
            ("whpk_AAAA", "must be 32 bytes"),
            (SVIX_WHSK, "private key"),
        ];
        for (secret, reason) in cases {
            let err = Verifier::new(Scheme::Standard, vec![secret.into()], TOLERANCE).unwrap_err();
            assert!(err.to_string().contains(reason), "{secret}: {err}");
        }
        let unpadded = format!("whsec_{}", BASE64.encode([1u8; 25]).trim_end_matches('='));
        assert!(Verifier::new(Scheme::Standard, vec![unpadded], TOLERANCE).is_ok());
        let err = sign_v1("whpk_AAAA", "msg_1", 1, b"").unwrap_err();
        assert_eq!(err.to_string(), "the signing secret is invalid: a v1 signing secret starts with whsec_");
    }
}
