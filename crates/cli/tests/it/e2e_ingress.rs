//! Inbound webhooks end to end: every scheme verified by the real binary,
//! forwards signed with Standard Webhooks, deduplication under concurrency,
//! nothing lost across `kill -9`, Slack's handshake, and replay.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use http::HeaderMap;
use junction_signature::{Encoding, HmacAlgorithm, HmacSpec, Scheme, Verifier, testing};
use serde_json::Value;

use crate::{
    harness::{Scratch, TestGateway, free_port, junction},
    receiver,
};

const FORWARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const STANDARD_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const TWILIO_URL: &str = "https://hooks.example.com/webhooks/twilio";
const ADMIN_KEY: &str = "adm_e2e_0123456789abcdef";

/// (source name, scheme, secret) for every scheme.
fn schemes() -> Vec<(&'static str, Scheme, &'static str)> {
    let hmac = HmacSpec {
        header: http::HeaderName::from_static("x-acme-signature"),
        algorithm: HmacAlgorithm::Sha256,
        encoding: Encoding::Hex,
        prefix: "sha256=".into(),
    };
    vec![
        ("stripe", Scheme::Stripe, "whsec_stripe_test_secret"),
        ("github", Scheme::Github, "github-secret"),
        ("shopify", Scheme::Shopify, "shopify-secret"),
        ("slack", Scheme::Slack, "8f742231b10e8888abcd99yyyzzz85a5"),
        ("twilio", Scheme::Twilio, "twilio-auth-token"),
        ("standard", Scheme::Standard, STANDARD_SECRET),
        ("acme", Scheme::Hmac(hmac), "acme-secret"),
    ]
}

fn manifest(receiver: std::net::SocketAddr) -> String {
    let mut m = format!("[admin]\napi_keys = [\"{ADMIN_KEY}\"]\n\n");
    for (name, scheme, secret) in schemes() {
        let kind = match scheme {
            Scheme::Hmac(_) => "hmac",
            _ => name,
        };
        m.push_str(&format!(
            "[sources.{name}]\nscheme = \"{kind}\"\nsecret = \"{secret}\"\nforward = [\"http://{receiver}/hooks/{name}\"]\n\
             forward_secret = \"{FORWARD_SECRET}\"\nretry_schedule = [\"0s\", \"200ms\", \"200ms\"]\n"
        ));
        if name == "twilio" {
            m.push_str(&format!("public_url = \"{TWILIO_URL}\"\n"));
        }
        if name == "acme" {
            m.push_str("hmac = { header = \"X-Acme-Signature\", algorithm = \"sha256\", encoding = \"hex\", prefix = \"sha256=\" }\n");
        }
    }
    m.push_str(&format!(
        "[sources.rotating]\nscheme = \"github\"\nsecret = [\"new-secret\", \"old-secret\"]\nforward = [\"http://{receiver}/hooks/rotating\"]\n"
    ));
    m
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A body the scheme's provider would send, unique per `n`.
fn body(name: &str, n: usize) -> Vec<u8> {
    match name {
        "twilio" => format!("CallSid=CA{n:032}&From=%2B15005550006&Body=hello+{n}").into_bytes(),
        "slack" => {
            format!(r#"{{"type":"event_callback","event_id":"Ev{n:08}","event":{{"type":"message"}}}}"#)
                .into_bytes()
        }
        "stripe" => format!(r#"{{"id":"evt_{n:024}","type":"charge.succeeded"}}"#).into_bytes(),
        _ => format!(r#"{{"n":{n},"source":"{name}"}}"#).into_bytes(),
    }
}

fn content_type(name: &str) -> &'static str {
    if name == "twilio" { "application/x-www-form-urlencoded" } else { "application/json" }
}

async fn post(gateway: &TestGateway, name: &str, mut headers: HeaderMap, body: Vec<u8>) -> reqwest::Response {
    if !headers.contains_key(http::header::CONTENT_TYPE) {
        headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(content_type(name)));
    }
    reqwest::Client::new()
        .post(gateway.url(&format!("/webhooks/{name}")))
        .headers(headers)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn signed(
    gateway: &TestGateway,
    name: &str,
    scheme: &Scheme,
    secret: &str,
    n: usize,
) -> reqwest::Response {
    let body = body(name, n);
    let url =
        if name == "twilio" { TWILIO_URL.to_owned() } else { gateway.url(&format!("/webhooks/{name}")) };
    let headers = testing::sign(scheme, secret, &body, &url, now(), &format!("delivery-{name}-{n}"));
    post(gateway, name, headers, body).await
}

async fn until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn start(receiver: std::net::SocketAddr) -> TestGateway {
    let manifest = manifest(receiver);
    tokio::task::spawn_blocking(move || TestGateway::start(&manifest, &[])).await.unwrap()
}

fn forward_verifier() -> Verifier {
    Verifier::new(Scheme::Standard, vec![FORWARD_SECRET.to_owned()], Duration::from_secs(300)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scheme_verifies_commits_and_forwards() {
    let (addr, inbox) = receiver::start(0).await;
    let gateway = start(addr).await;
    let mut answered = HashMap::new();
    for (name, scheme, secret) in schemes() {
        let response = signed(&gateway, name, &scheme, secret, 1).await;
        assert_eq!(response.status(), 200, "{name}: {}", response.text().await.unwrap());
        let json: Value = response.json().await.unwrap();
        assert_eq!(json["duplicate"], false, "{name}");
        answered.insert(json["id"].as_str().unwrap().to_owned(), name);

        // Forged: a tampered body, a wrong secret, no signature at all.
        let url =
            if name == "twilio" { TWILIO_URL.to_owned() } else { gateway.url(&format!("/webhooks/{name}")) };
        let headers = testing::sign(&scheme, secret, &body(name, 2), &url, now(), "d2");
        let mut tampered = body(name, 2);
        tampered.push(b' ');
        let other = if name == "standard" { FORWARD_SECRET } else { "not-the-secret-at-all" };
        let wrong = testing::sign(&scheme, other, &body(name, 3), &url, now(), "d3");
        for (what, response) in [
            ("tampered body", post(&gateway, name, headers, tampered).await),
            ("wrong secret", post(&gateway, name, wrong, body(name, 3)).await),
            ("no signature", post(&gateway, name, HeaderMap::new(), body(name, 4)).await),
        ] {
            assert_eq!(response.status(), 401, "{name}, {what}");
            assert_eq!(response.headers()["content-type"], "application/problem+json");
            let problem: Value = response.json().await.unwrap();
            assert_eq!(problem["type"], "https://junction.dev/problems/signature-invalid", "{name}, {what}");
            assert!(!problem["detail"].as_str().unwrap().contains(secret), "{name}: the secret leaked");
        }
    }
    until("every accepted event is forwarded", Duration::from_secs(20), || inbox.len() >= answered.len())
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let forwards = inbox.all();
    assert_eq!(forwards.len(), answered.len(), "forged deliveries must not be forwarded");
    let verifier = forward_verifier();
    for forward in forwards {
        let id = forward.headers["junction-event-id"].to_str().unwrap();
        let name = answered.get(id).expect("the id answered to the provider");
        assert_eq!(forward.path, format!("/hooks/{name}"));
        assert_eq!(forward.headers["webhook-id"], id, "webhook-id is the event id");
        assert_eq!(forward.headers["content-type"], content_type(name));
        assert_eq!(forward.body, body(name, 1), "{name}: the body is forwarded as received");
        let request = junction_signature::Request { headers: &forward.headers, body: &forward.body, url: "" };
        verifier.verify(&request, now()).unwrap_or_else(|e| panic!("{name}: forward signature: {e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_secrets_both_verify() {
    let (addr, _inbox) = receiver::start(0).await;
    let gateway = start(addr).await;
    for (n, secret) in ["new-secret", "old-secret"].into_iter().enumerate() {
        let response = signed(&gateway, "rotating", &Scheme::Github, secret, n).await;
        assert_eq!(response.status(), 200, "{secret}");
    }
    let response = signed(&gateway, "rotating", &Scheme::Github, "retired-secret", 9).await;
    assert_eq!(response.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicates_are_forwarded_once() {
    let (addr, inbox) = receiver::start(0).await;
    let gateway = std::sync::Arc::new(start(addr).await);
    let secret = "github-secret";
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..1000 {
        for _ in 0..2 {
            let gateway = gateway.clone();
            tasks.spawn(async move {
                let response = signed(&gateway, "github", &Scheme::Github, secret, n).await;
                assert_eq!(response.status(), 200);
                let json: Value = response.json().await.unwrap();
                (n, json["id"].as_str().unwrap().to_owned(), json["duplicate"].as_bool().unwrap())
            });
        }
    }
    let mut ids: HashMap<usize, HashSet<String>> = HashMap::new();
    let mut duplicates = 0;
    while let Some(result) = tasks.join_next().await {
        let (n, id, duplicate) = result.unwrap();
        ids.entry(n).or_default().insert(id);
        duplicates += usize::from(duplicate);
    }
    assert_eq!(duplicates, 1000, "each delivery's second copy is a duplicate");
    assert!(ids.values().all(|set| set.len() == 1), "both copies answered with the same id");
    until("1000 forwards", Duration::from_secs(60), || inbox.len() >= 1000).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let forwarded = inbox.event_ids();
    assert_eq!(forwarded.len(), 1000, "forwarded exactly once each");
    let answered: HashSet<String> = ids.into_values().flatten().collect();
    assert_eq!(forwarded.into_iter().collect::<HashSet<_>>(), answered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_across_kill_9() {
    // The receiver is down while deliveries stream in, so everything is still queued when Junction dies.
    let receiver_port = free_port();
    let dir = Scratch::new("ingress-kill");
    let port = free_port();
    // Forwards keep failing until the receiver starts: retry every 500ms for a
    // minute rather than dead-letter, and take over a dead process's leases after 2s.
    let patient = format!("[{}]", vec!["\"500ms\""; 50].join(", "));
    let manifest = format!("[storage]\nlease = \"2s\"\n{}", manifest(([127, 0, 0, 1], receiver_port).into()))
        .replace(r#"["0s", "200ms", "200ms"]"#, &patient);
    assert!(manifest.contains(&patient));
    let path = dir.path().to_owned();
    let first = {
        let (path, manifest) = (path.clone(), manifest.clone());
        tokio::task::spawn_blocking(move || TestGateway::start_in(&path, port, &manifest, &[])).await.unwrap()
    };
    let first = std::sync::Arc::new(std::sync::Mutex::new(first));
    let url = first.lock().unwrap().url("/webhooks/github");
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..400 {
        let url = url.clone();
        tasks.spawn(async move {
            let body = body("github", n);
            let headers =
                testing::sign(&Scheme::Github, "github-secret", &body, &url, now(), &format!("k{n}"));
            let response = reqwest::Client::new().post(&url).headers(headers).body(body).send().await.ok()?;
            if response.status() != 200 {
                return None;
            }
            let json: Value = response.json().await.ok()?;
            json["id"].as_str().map(str::to_owned)
        });
    }
    let mut acknowledged = HashSet::new();
    let mut killed = false;
    while let Some(result) = tasks.join_next().await {
        if let Some(id) = result.unwrap() {
            acknowledged.insert(id);
        }
        if !killed && acknowledged.len() >= 150 {
            first.lock().unwrap().kill();
            killed = true;
        }
    }
    assert!(killed && acknowledged.len() >= 150, "{} acknowledged", acknowledged.len());

    let (_, inbox) = receiver::start(receiver_port).await;
    let second = tokio::task::spawn_blocking(move || TestGateway::start_in(&path, port, &manifest, &[]))
        .await
        .unwrap();
    until("every acknowledged event is forwarded", Duration::from_secs(60), || {
        let got: HashSet<String> = inbox.event_ids().into_iter().collect();
        acknowledged.is_subset(&got)
    })
    .await;
    drop(second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_url_verification_is_answered() {
    let (addr, inbox) = receiver::start(0).await;
    let gateway = start(addr).await;
    let body = br#"{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let url = gateway.url("/webhooks/slack");
    let headers = testing::sign(&Scheme::Slack, "8f742231b10e8888abcd99yyyzzz85a5", body, &url, now(), "x");
    let response = post(&gateway, "slack", headers, body.to_vec()).await;
    assert_eq!(response.status(), 200);
    let json: Value = response.json().await.unwrap();
    assert_eq!(
        json,
        serde_json::json!({ "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" })
    );
    // Unsigned handshakes are refused like any other delivery.
    let response = post(&gateway, "slack", HeaderMap::new(), body.to_vec()).await;
    assert_eq!(response.status(), 401);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(inbox.len(), 0, "the handshake is not an event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_can_be_inspected_and_replayed() {
    let (addr, inbox) = receiver::start(0).await;
    let gateway = start(addr).await;
    let response = signed(&gateway, "github", &Scheme::Github, "github-secret", 7).await;
    let id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    until("forwarded", Duration::from_secs(20), || inbox.len() == 1).await;
    let http = reqwest::Client::new();

    let unauthorized = http.get(gateway.url(&format!("/v1/events/{id}"))).send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);
    let wrong = http
        .get(gateway.url(&format!("/v1/events/{id}")))
        .bearer_auth("adm_wrong_key_000000000")
        .send()
        .await;
    assert_eq!(wrong.unwrap().status(), 401);

    // The receiver has the forward; Junction records the attempt right after.
    let mut event = Value::Null;
    let deadline = Instant::now() + Duration::from_secs(20);
    while event["status"] != "delivered" {
        assert!(Instant::now() < deadline, "the event never showed as delivered: {event}");
        tokio::time::sleep(Duration::from_millis(20)).await;
        let url = gateway.url(&format!("/v1/events/{id}"));
        event = http.get(url).bearer_auth(ADMIN_KEY).send().await.unwrap().json().await.unwrap();
    }
    assert_eq!(event["id"], id.as_str());
    assert_eq!(event["source"], "github");
    assert_eq!(event["status"], "delivered");
    assert_eq!(event["forwards"][0]["attempt_log"][0]["status"], 200);

    let replayed = http
        .post(gateway.url(&format!("/v1/events/{id}/replay")))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), 202);
    until("forwarded again", Duration::from_secs(20), || inbox.len() == 2).await;
    assert_eq!(inbox.event_ids(), [id.clone(), id.clone()], "a replay keeps the event id");

    let missing = http.get(gateway.url("/v1/events/not-an-id")).bearer_auth(ADMIN_KEY).send().await.unwrap();
    assert_eq!(missing.status(), 404);

    // The CLI re-drives on the same storage (./junction.db beside the server) while the server runs.
    let config = gateway.config_path();
    let out = tokio::task::spawn_blocking(move || {
        junction()
            .current_dir(config.parent().unwrap())
            .args(["replay", "--source", "github", "--since", "2020-01-01T00:00:00Z", "--config"])
            .arg(&config)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("re-drove 1 events (1 forwards)"), "{stdout}");
    until("forwarded a third time", Duration::from_secs(20), || inbox.len() == 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_sources_and_oversized_bodies_are_problems() {
    let (addr, _inbox) = receiver::start(0).await;
    let gateway = start(addr).await;
    let http = reqwest::Client::new();
    let unknown = http.post(gateway.url("/webhooks/nope")).body("{}").send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    let problem: Value = unknown.json().await.unwrap();
    assert_eq!(problem["type"], "https://junction.dev/problems/unknown-source");
    let big = http.post(gateway.url("/webhooks/github")).body(vec![b'x'; 2 << 20]).send().await.unwrap();
    assert_eq!(big.status(), 413);
    let wrong_method = http.get(gateway.url("/webhooks/github")).send().await.unwrap();
    assert_eq!(wrong_method.status(), 405);
}
