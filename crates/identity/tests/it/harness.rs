//! A JWKS server the test controls (swap the keys, fail, slow down, count
//! requests), signing keys of each accepted type, and a token builder.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use junction_identity::{JwtConfig, JwtError, JwtVerifier};
use ring::{
    rand::SystemRandom,
    signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
    },
};
use serde_json::{Value, json};
use url::Url;

pub const ISSUER: &str = "https://idp.test/";
pub const AUDIENCE: &str = "junction";

pub const RSA_PRIVATE_PEM: &str = include_str!("../fixtures/rsa-2048.pem");
pub const RSA_PUBLIC_PEM: &str = include_str!("../fixtures/rsa-2048.pub.pem");
pub const RSA_JWK: &str = include_str!("../fixtures/rsa-2048.jwk.json");
pub const RSA_1024_JWK: &str = include_str!("../fixtures/rsa-1024.jwk.json");

/// What the server answers at `/jwks.json`.
enum Answer {
    Keys(String),
    Status(StatusCode),
}

struct ServerState {
    answer: Mutex<Answer>,
    delay: Mutex<Duration>,
    hits: AtomicUsize,
}

/// A JWKS endpoint on 127.0.0.1, stopped when dropped.
pub struct JwksServer {
    url: Url,
    state: Arc<ServerState>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    /// Serves a key set of `keys`.
    pub async fn start(keys: &[&TestKey]) -> Self {
        let state = Arc::new(ServerState {
            answer: Mutex::new(Answer::Keys(jwks(keys))),
            delay: Mutex::new(Duration::ZERO),
            hits: AtomicUsize::new(0),
        });
        let router = Router::new().route("/jwks.json", get(serve)).with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap()).parse().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self { url, state, task }
    }

    pub fn url(&self) -> Url {
        self.url.clone()
    }

    /// How many requests reached `/jwks.json`.
    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    /// Serves a key set of `keys` from now on.
    pub fn set_keys(&self, keys: &[&TestKey]) {
        self.set_document(jwks(keys));
    }

    /// Serves `document` as is from now on.
    pub fn set_document(&self, document: String) {
        *self.state.answer.lock().unwrap() = Answer::Keys(document);
    }

    /// Answers `status` with an empty body from now on.
    pub fn fail_with(&self, status: u16) {
        *self.state.answer.lock().unwrap() = Answer::Status(StatusCode::from_u16(status).unwrap());
    }

    /// Waits `delay` before each answer from now on.
    pub fn set_delay(&self, delay: Duration) {
        *self.state.delay.lock().unwrap() = delay;
    }

    /// A verifier for this server with the test issuer and audience.
    pub fn verifier(&self, refetch_interval: Duration) -> JwtVerifier {
        JwtVerifier::new(JwtConfig { issuer: ISSUER.into(), audience: AUDIENCE.into(), jwks_url: self.url() })
            .with_refetch_interval(refetch_interval)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(State(state): State<Arc<ServerState>>) -> Response {
    state.hits.fetch_add(1, Ordering::SeqCst);
    let delay = *state.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match &*state.answer.lock().unwrap() {
        Answer::Keys(document) => {
            ([(axum::http::header::CONTENT_TYPE, "application/jwk-set+json")], document.clone())
                .into_response()
        }
        Answer::Status(status) => status.into_response(),
    }
}

pub fn jwks(keys: &[&TestKey]) -> String {
    json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() }).to_string()
}

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A signing key and the `kid` it is published under.
pub struct TestKey {
    pub kid: String,
    pair: Pair,
}

impl TestKey {
    /// The checked-in 2048-bit RSA key (ring cannot generate RSA keys).
    pub fn rsa(kid: &str) -> Self {
        let der = pem_body(RSA_PRIVATE_PEM);
        Self { kid: kid.into(), pair: Pair::Rsa(RsaKeyPair::from_pkcs8(&der).unwrap()) }
    }

    /// A fresh P-256 key.
    pub fn ec(kid: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        Self { kid: kid.into(), pair: Pair::Ec(pair) }
    }

    /// A fresh Ed25519 key.
    pub fn ed(kid: &str) -> Self {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        Self { kid: kid.into(), pair: Pair::Ed(Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()) }
    }

    /// One key of each type.
    pub fn all() -> [TestKey; 3] {
        [TestKey::rsa("rsa-1"), TestKey::ec("ec-1"), TestKey::ed("ed-1")]
    }

    /// The algorithm this key signs with.
    pub fn alg(&self) -> &'static str {
        match self.pair {
            Pair::Rsa(_) => "RS256",
            Pair::Ec(_) => "ES256",
            Pair::Ed(_) => "EdDSA",
        }
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Value {
        match &self.pair {
            Pair::Rsa(_) => {
                let mut jwk: Value = serde_json::from_str(RSA_JWK).unwrap();
                jwk["kid"] = self.kid.clone().into();
                jwk
            }
            Pair::Ec(pair) => {
                // An uncompressed point: 0x04, then x and y, 32 bytes each.
                let point = pair.public_key().as_ref();
                json!({
                    "kty": "EC", "crv": "P-256", "kid": self.kid, "use": "sig",
                    "x": b64(&point[1..33]), "y": b64(&point[33..65]),
                })
            }
            Pair::Ed(pair) => {
                json!({"kty": "OKP", "crv": "Ed25519", "kid": self.kid, "x": b64(pair.public_key().as_ref())})
            }
        }
    }

    /// The JWS signature of `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.pair {
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature).unwrap();
                signature
            }
            Pair::Ec(pair) => pair.sign(&rng, message).unwrap().as_ref().to_vec(),
            Pair::Ed(pair) => pair.sign(message).as_ref().to_vec(),
        }
    }

    /// A token with this key's `alg` and `kid`, signed by it.
    pub fn token(&self, claims: &Value) -> String {
        self.token_with_header(&json!({"alg": self.alg(), "kid": self.kid, "typ": "JWT"}), claims)
    }

    /// A token with any header, signed by this key.
    pub fn token_with_header(&self, header: &Value, claims: &Value) -> String {
        sign_with(header, claims, |message| self.sign(message))
    }
}

/// `header.claims.signature`, with the signature made by `sign` over the first two parts.
pub fn sign_with(header: &Value, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let message = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let signature = sign(message.as_bytes());
    format!("{message}.{}", b64(&signature))
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The DER inside a PEM block.
pub fn pem_body(pem: &str) -> Vec<u8> {
    let text: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
    STANDARD.decode(text).unwrap()
}

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Claims that pass every check: our issuer and audience, valid for five minutes.
pub fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "iat": now(),
        "exp": now() + 300,
        "scope": "read write",
    })
}

/// `claims()` with `changes` merged in; a `null` removes the claim.
pub fn claims_with(changes: Value) -> Value {
    let mut claims = claims();
    let map = claims.as_object_mut().unwrap();
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            map.remove(name);
        } else {
            map.insert(name.clone(), value.clone());
        }
    }
    claims
}

/// Retries `verify` until it succeeds or `within` passes, returning the last answer.
pub async fn verify_eventually(
    verifier: &JwtVerifier,
    token: &str,
    within: Duration,
) -> Result<junction_identity::Principal, JwtError> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let result = verifier.verify(token).await;
        if result.is_ok() || tokio::time::Instant::now() >= deadline {
            return result;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
