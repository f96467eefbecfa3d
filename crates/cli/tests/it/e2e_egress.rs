//! Egress policies end to end, against a fault-injecting upstream: retries
//! with one idempotency key, `Retry-After`, the circuit breaker, the rate
//! limit and the concurrency cap, each counted at the upstream.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{
    fault_upstream::{Answer, FaultUpstream},
    harness::TestGateway,
};

fn dependency(name: &str, upstream: &FaultUpstream, policies: &str) -> String {
    format!("[dependencies.{name}]\nbase_url = \"http://{}\"\ntimeout = \"2s\"\n{policies}\n", upstream.addr)
}

async fn start(manifest: String) -> TestGateway {
    tokio::task::spawn_blocking(move || TestGateway::start(&manifest, &[])).await.unwrap()
}

async fn problem_type(response: reqwest::Response) -> String {
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body: Value = response.json().await.unwrap();
    body["type"].as_str().unwrap().trim_start_matches("https://junction.dev/problems/").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_post_keeps_one_idempotency_key() {
    let upstream = FaultUpstream::start().await;
    upstream.script("/v1/charges", [Answer::status(503), Answer::status(503)]);
    let policies = r#"retry = { attempts = 4, backoff = "20ms", max_backoff = "1s" }"#;
    let gateway = start(dependency("api", &upstream, policies)).await;
    let http = reqwest::Client::new();
    let response = http.post(gateway.url("/proxy/api/v1/charges")).body("amount=100").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["junction-attempts"], "3");
    let seen = upstream.seen("/v1/charges");
    assert_eq!(seen.len(), 3);
    let keys: Vec<_> =
        seen.iter().map(|s| s.headers["idempotency-key"].to_str().unwrap().to_owned()).collect();
    assert!(!keys[0].is_empty());
    assert!(keys.iter().all(|k| *k == keys[0]), "one key for every attempt: {keys:?}");

    // A key the caller chose is kept as it is.
    upstream.script("/v1/refunds", [Answer::status(502)]);
    let response = http
        .post(gateway.url("/proxy/api/v1/refunds"))
        .header("Idempotency-Key", "mine-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = upstream.seen("/v1/refunds");
    assert!(seen.iter().all(|s| s.headers["idempotency-key"] == "mine-123") && seen.len() == 2);

    // A 4xx is the caller's problem: returned at once, not retried.
    upstream.script("/v1/bad", [Answer::status(400)]);
    let response = http.post(gateway.url("/proxy/api/v1/bad")).send().await.unwrap();
    assert_eq!(
        (response.status().as_u16(), response.headers()["junction-attempts"].to_str().unwrap()),
        (400, "1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_within_bounds() {
    let upstream = FaultUpstream::start().await;
    let slow = Answer { retry_after: Some("1"), ..Answer::status(429) };
    upstream.script("/limited", [slow]);
    let far = Answer { retry_after: Some("3600"), ..Answer::status(429) };
    upstream.script("/closed", [far]);
    let policies = r#"retry = { attempts = 3, backoff = "10ms", max_backoff = "5s" }"#;
    let gateway = start(dependency("api", &upstream, policies)).await;
    let response = reqwest::get(gateway.url("/proxy/api/limited")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["junction-attempts"], "2");
    let seen = upstream.seen("/limited");
    let gap = seen[1].at.duration_since(seen[0].at);
    assert!(gap >= Duration::from_millis(1000), "the retry came {gap:?} after a Retry-After of 1s");

    // Retry-After beyond max_backoff: the caller gets the 429 now rather than waiting an hour.
    let started = Instant::now();
    let response = reqwest::get(gateway.url("/proxy/api/closed")).await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["junction-attempts"], "1");
    assert_eq!(response.headers()["retry-after"], "3600", "the upstream's answer is passed through");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(upstream.seen("/closed").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_opens_refuses_half_opens_and_closes() {
    let upstream = FaultUpstream::start().await;
    upstream.default_answer("/x", Answer::status(503));
    let policies = "retry = { attempts = 1 }\n\
                    breaker = { failure_rate = 0.5, min_calls = 4, window = \"10s\", open_for = \"1s\" }";
    let gateway = start(dependency("flaky", &upstream, policies)).await;
    let http = reqwest::Client::new();
    for _ in 0..4 {
        let response = http.get(gateway.url("/proxy/flaky/x")).send().await.unwrap();
        assert_eq!(response.status(), 503, "the upstream's own 503 passes through");
    }
    // Open: refused without touching the upstream.
    let refused = http.get(gateway.url("/proxy/flaky/x")).send().await.unwrap();
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(problem_type(refused).await, "breaker-open");
    assert_eq!(upstream.seen("/x").len(), 4);
    let metrics = http.get(gateway.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("junction_egress_breaker_state{dependency=\"flaky\"} 2"), "{metrics}");

    // The upstream recovers; after open_for one probe goes through and closes the breaker.
    upstream.default_answer("/x", Answer::status(200));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..3 {
        let response = http.get(gateway.url("/proxy/flaky/x")).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    assert_eq!(upstream.seen("/x").len(), 7);
    let metrics = http.get(gateway.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("junction_egress_breaker_state{dependency=\"flaky\"} 0"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_holds_under_a_burst() {
    let upstream = FaultUpstream::start().await;
    let policies = "retry = { attempts = 1 }\nrate_limit = { requests = 5, per = \"1s\" }";
    let gateway = std::sync::Arc::new(start(dependency("limited", &upstream, policies)).await);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let gateway = gateway.clone();
        tasks.spawn(async move { reqwest::get(gateway.url("/proxy/limited/r")).await.unwrap() });
    }
    let (mut passed, mut limited) = (0, 0);
    while let Some(response) = tasks.join_next().await {
        let response = response.unwrap();
        match response.status().as_u16() {
            200 => passed += 1,
            429 => {
                assert!(response.headers().contains_key("retry-after"));
                assert_eq!(problem_type(response).await, "rate-limited");
                limited += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let reached = upstream.seen("/r").len();
    assert_eq!(reached, passed);
    assert_eq!(passed + limited, 30);
    // GCRA: a burst of 5, then 5 per second; calls wait up to 1s for their turn.
    let allowed = 5.0 + 5.0 * elapsed;
    assert!(reached >= 5 && (reached as f64) <= allowed + 1.0, "{reached} calls in {elapsed:.2}s");
    assert!(limited > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_cap_holds() {
    let upstream = FaultUpstream::start().await;
    // Long enough that all ten calls overlap even on a loaded machine.
    upstream.default_answer("/slow", Answer { delay: Duration::from_millis(1500), ..Answer::status(200) });
    let policies = "retry = { attempts = 1 }\nmax_concurrency = 2";
    let gateway = std::sync::Arc::new(start(dependency("narrow", &upstream, policies)).await);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let gateway = gateway.clone();
        tasks.spawn(async move { reqwest::get(gateway.url("/proxy/narrow/slow")).await.unwrap() });
    }
    let (mut passed, mut refused) = (0, 0);
    while let Some(response) = tasks.join_next().await {
        let response = response.unwrap();
        if response.status() == 200 {
            passed += 1;
        } else {
            assert_eq!(response.status(), 503);
            assert_eq!(problem_type(response).await, "concurrency-limit");
            refused += 1;
        }
    }
    assert!(upstream.max_in_flight() <= 2, "{} in flight at once", upstream.max_in_flight());
    assert!(passed >= 2 && refused >= 1 && passed + refused == 10, "{passed} passed, {refused} refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_and_unreachable_upstreams_are_problems() {
    let upstream = FaultUpstream::start().await;
    upstream.default_answer("/hang", Answer { delay: Duration::from_secs(10), ..Answer::status(200) });
    let policies = r#"retry = { attempts = 2, backoff = "10ms", on = ["timeout", "connect"] }"#;
    let mut manifest =
        dependency("api", &upstream, policies).replace("timeout = \"2s\"", "timeout = \"200ms\"");
    manifest.push_str("[dependencies.down]\nbase_url = \"http://127.0.0.1:9\"\nretry = { attempts = 2, backoff = \"10ms\" }\n");
    let gateway = start(manifest).await;
    let response = reqwest::get(gateway.url("/proxy/api/hang")).await.unwrap();
    assert_eq!(response.status(), 504);
    assert_eq!(response.headers()["junction-attempts"], "2");
    assert_eq!(problem_type(response).await, "upstream-timeout");
    let response = reqwest::get(gateway.url("/proxy/down/x")).await.unwrap();
    assert_eq!(response.status(), 502);
    assert_eq!(response.headers()["junction-attempts"], "2");
    assert_eq!(problem_type(response).await, "upstream-unreachable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_is_audited_with_redaction_and_no_secrets() {
    let upstream = FaultUpstream::start().await;
    upstream.script("/v1/charges", [Answer::status(503)]);
    let policies = "retry = { attempts = 2, backoff = \"10ms\" }\n\
                    auth = { type = \"bearer\", token = \"${PAY_TOKEN}\" }\n\
                    audit_bodies = true\n\
                    redact = { json = [\"card.number\"] }";
    let manifest = format!(
        "[admin]\napi_keys = [\"adm_audit_0123456789abcdef\"]\n{}",
        dependency("pay", &upstream, policies)
    );
    let gateway = tokio::task::spawn_blocking(move || {
        TestGateway::start(&manifest, &[("PAY_TOKEN", "sk_live_SECRET_audit_token")])
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let body = r#"{"card":{"number":"4242424242424242"},"amount":100}"#;
    let response =
        http.post(gateway.url("/proxy/pay/v1/charges?expand=all")).body(body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(upstream.seen("/v1/charges")[1].headers["authorization"], "Bearer sk_live_SECRET_audit_token");

    let deadline = Instant::now() + Duration::from_secs(10);
    let entries = loop {
        let log: Value = http
            .get(gateway.url("/v1/audit?dependency=pay"))
            .bearer_auth("adm_audit_0123456789abcdef")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if !log["data"].as_array().unwrap().is_empty() {
            break log;
        }
        assert!(Instant::now() < deadline, "no audit entry was written");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let text = entries.to_string();
    let entry = &entries["data"][0];
    assert_eq!(entry["dependency"], "pay");
    assert_eq!(entry["method"], "POST");
    assert_eq!(entry["path"], "/v1/charges?expand=all");
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["attempts"], 2);
    assert_eq!(entry["caller"], "127.0.0.1");
    assert!(entry["idempotency_key"].as_str().is_some_and(|k| !k.is_empty()));
    assert!(entry["latency_ms"].as_f64().unwrap() > 0.0);
    assert!(entry["request_body"].as_str().unwrap().contains(r#""number":"***""#), "{text}");
    assert!(!text.contains("4242424242424242"), "redacted: {text}");
    assert!(!text.contains("sk_live_SECRET"), "no credential in the audit log: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_requests_get_the_upstream_host_and_lose_hop_by_hop_fields() {
    let upstream = FaultUpstream::start().await;
    let gateway = start(dependency("api", &upstream, "")).await;
    let request = "GET /proxy/api/v1/items?page=2&q=a%20b HTTP/1.1\r\nHost: junction.internal\r\n\
                   Connection: close, x-hop\r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n\
                   X-Forwarded-For: 10.0.0.1\r\nX-Kept: yes\r\n\r\n";
    let addr = gateway.addr;
    let answer = tokio::task::spawn_blocking(move || crate::harness::probe::raw(addr, request))
        .await
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let seen = upstream.seen("/v1/items");
    assert_eq!(seen.len(), 1);
    let headers = &seen[0].headers;
    assert_eq!(headers["host"], upstream.addr.to_string(), "Host names the upstream, not Junction");
    assert_eq!(headers["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
    assert_eq!(headers["x-forwarded-proto"], "http");
    assert_eq!(headers["x-kept"], "yes");
    for hop in ["x-hop", "keep-alive", "te"] {
        assert!(!headers.contains_key(hop), "{hop} is hop-by-hop: {headers:?}");
    }
    assert!(headers.get("connection").is_none_or(|v| !v.to_str().unwrap().contains("x-hop")));
}
