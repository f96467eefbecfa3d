//! Store-and-forward (`fallback = "queue"`): calls made while the upstream
//! is down are answered 202, survive `kill -9`, and arrive once each with
//! their own unchanged idempotency key when it comes back.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{
    fault_upstream::FaultUpstream,
    harness::{Scratch, TestGateway, free_port},
    receiver,
};

const ADMIN_KEY: &str = "adm_queue_0123456789abcdef";

fn manifest(upstream_port: u16) -> String {
    format!(
        "[storage]\nlease = \"2s\"\n\n[admin]\napi_keys = [\"{ADMIN_KEY}\"]\nrate_limit = {{ requests = 100000, per = \"1s\" }}\n\n\
         [dependencies.pay]\nbase_url = \"http://127.0.0.1:{upstream_port}\"\nfallback = \"queue\"\ntimeout = \"500ms\"\n\
         retry = {{ attempts = 2, backoff = \"10ms\", max_backoff = \"300ms\" }}\n\
         breaker = {{ failure_rate = 0.5, min_calls = 20, window = \"10s\", open_for = \"500ms\" }}\n\n\
         [dependencies.pay.queue]\nmax_age = \"1h\"\nmax_attempts = 500\n"
    )
}

async fn until(what: &str, within: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_calls_survive_kill_9_and_arrive_once_each() {
    let upstream_port = free_port();
    let dir = Scratch::new("queue-kill");
    let port = free_port();
    let path = dir.path().to_owned();
    let m = manifest(upstream_port);
    let first = {
        let (path, m) = (path.clone(), m.clone());
        tokio::task::spawn_blocking(move || TestGateway::start_in(&path, port, &m, &[])).await.unwrap()
    };
    let url = first.url("/proxy/pay/v1/charges");
    let first = Arc::new(Mutex::new(first));

    // 500 POSTs while the upstream is down; half bring their own key.
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..500 {
        let url = url.clone();
        tasks.spawn(async move {
            let mut request = reqwest::Client::new().post(&url).body(format!("charge {n}"));
            if n % 2 == 0 {
                request = request.header("Idempotency-Key", format!("client-key-{n}"));
            }
            let response = request.send().await.ok()?;
            if response.status() != 202 {
                return None;
            }
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            let json: Value = response.json().await.ok()?;
            assert_eq!(json["status"], "queued");
            let id = json["id"].as_str()?.to_owned();
            assert_eq!(location, format!("/v1/deliveries/{id}"));
            Some((n, id))
        });
    }
    let mut acknowledged = HashMap::new();
    let mut killed = false;
    while let Some(result) = tasks.join_next().await {
        if let Some((n, id)) = result.unwrap() {
            acknowledged.insert(id, n);
        }
        if !killed && acknowledged.len() >= 250 {
            first.lock().unwrap().kill();
            killed = true;
        }
    }
    assert!(killed, "only {} calls were acknowledged", acknowledged.len());

    // Restart on the same storage, then bring the upstream back.
    let second =
        tokio::task::spawn_blocking(move || TestGateway::start_in(&path, port, &m, &[])).await.unwrap();
    let http = reqwest::Client::new();
    let mut key_of = HashMap::new();
    for (id, n) in &acknowledged {
        let delivery: Value = http
            .get(second.url(&format!("/v1/deliveries/{id}")))
            .bearer_auth(ADMIN_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let key = delivery["idempotency_key"].as_str().unwrap().to_owned();
        if n % 2 == 0 {
            assert_eq!(key, format!("client-key-{n}"), "the caller's key is kept");
        }
        key_of.insert(key, *n);
    }
    assert_eq!(key_of.len(), acknowledged.len(), "every call has its own key");
    let upstream = FaultUpstream::start_on(upstream_port).await;
    until("every acknowledged call arrives", Duration::from_secs(90), async || {
        let seen: HashSet<String> = upstream
            .all_seen()
            .iter()
            .filter_map(|s| s.headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned))
            .collect();
        key_of.keys().all(|k| seen.contains(k))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut arrivals: HashMap<String, usize> = HashMap::new();
    for seen in upstream.all_seen() {
        assert_eq!(seen.path, "/v1/charges");
        let key = seen.headers["idempotency-key"].to_str().unwrap().to_owned();
        *arrivals.entry(key).or_default() += 1;
    }
    for (key, n) in &key_of {
        assert_eq!(arrivals.get(key), Some(&1), "call {n} (key {key}) arrived {:?} times", arrivals.get(key));
    }
    let delivered = http
        .get(second.url("/v1/deliveries?status=delivered&limit=1000"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    // Calls committed just before the kill, whose 202 never reached the caller, are delivered too.
    assert!(delivered["data"].as_array().unwrap().len() >= acknowledged.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callback_hears_the_outcome_and_credentials_are_not_stored() {
    let upstream_port = free_port();
    let (callback_addr, inbox) = receiver::start(0).await;
    let m = manifest(upstream_port).replace(
        "fallback = \"queue\"",
        "fallback = \"queue\"\nauth = { type = \"bearer\", token = \"${PAY_TOKEN}\" }",
    );
    let gateway = tokio::task::spawn_blocking(move || {
        TestGateway::start(&m, &[("PAY_TOKEN", "sk_live_SECRET_queue_token")])
    })
    .await
    .unwrap();
    let response = reqwest::Client::new()
        .post(gateway.url("/proxy/pay/v1/charges?currency=eur"))
        .header("Junction-Callback", format!("http://{callback_addr}/callback"))
        .body("amount=5")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();

    let upstream = FaultUpstream::start_on(upstream_port).await;
    until("delivered", Duration::from_secs(30), async || !upstream.all_seen().is_empty()).await;
    let seen = upstream.all_seen().remove(0);
    assert_eq!(
        seen.headers["authorization"], "Bearer sk_live_SECRET_queue_token",
        "credentials added at delivery"
    );
    until("the callback is called", Duration::from_secs(30), async || inbox.len() == 1).await;
    let outcome: Value = serde_json::from_slice(&inbox.all()[0].body).unwrap();
    assert_eq!(outcome["id"], id.as_str());
    assert_eq!(outcome["status"], "delivered");
    assert_eq!(outcome["response_status"], 200);

    let delivery = reqwest::Client::new()
        .get(gateway.url(&format!("/v1/deliveries/{id}")))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(delivery.contains("\"path\":\"/v1/charges?currency=eur\""), "{delivery}");
    assert!(!delivery.contains("sk_live_SECRET"), "the stored call holds no credential: {delivery}");
}
