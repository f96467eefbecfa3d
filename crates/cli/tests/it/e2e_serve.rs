//! `junction serve` end to end: readiness, health, metrics, problem bodies,
//! forwarding, and draining an in-flight request on SIGTERM.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{TestGateway, probe, upstream};

const PROBLEM: &str = "application/problem+json";

async fn problem(response: reqwest::Response, status: u16, kind: &str) -> Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(response.headers()["content-type"], PROBLEM);
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], format!("https://junction.dev/problems/{kind}"));
    assert_eq!(body["status"], status);
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_health_metrics_problems_and_drains_on_sigterm() {
    let (upstream, seen) = upstream::start(Duration::from_millis(1500)).await;
    let manifest = format!(
        "max_body = \"1KiB\"\ndrain_timeout = \"10s\"\n\n\
         [dependencies.slow]\nbase_url = \"http://{upstream}\"\ntimeout = \"5s\"\n"
    );
    let mut gateway = tokio::task::spawn_blocking(move || TestGateway::start(&manifest, &[])).await.unwrap();
    let http = reqwest::Client::new();

    let health = http.get(gateway.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<Value>().await.unwrap()["status"], "ok");
    let ready: Value = http.get(gateway.url("/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready");

    // Unknown routes and dependencies are problems, not bare 404s.
    let body = problem(http.get(gateway.url("/no/such/route")).send().await.unwrap(), 404, "not-found").await;
    assert!(body["detail"].as_str().unwrap().contains("/no/such/route"));
    problem(http.get(gateway.url("/proxy/nope/x")).send().await.unwrap(), 404, "unknown-dependency").await;
    problem(http.post(gateway.url("/healthz")).send().await.unwrap(), 405, "method-not-allowed").await;
    // Dot segments are sent raw: HTTP clients would normalise them away.
    for path in ["/proxy/slow/../admin", "/proxy/slow/%2E%2e/admin", "/proxy/slow/a/./b"] {
        let addr = gateway.addr;
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let answer = tokio::task::spawn_blocking(move || probe::raw(addr, &request)).await.unwrap().unwrap();
        assert!(answer.starts_with("HTTP/1.1 400"), "{path}: {answer}");
        assert!(answer.contains("https://junction.dev/problems/invalid-path"), "{path}: {answer}");
    }

    // Over max_body: refused from Content-Length, and cut off when chunked.
    let big = vec![b'x'; 4096];
    let over = http.post(gateway.url("/proxy/slow/echo")).body(big.clone()).send().await.unwrap();
    assert_eq!(over.headers()["connection"], "close", "the unread body makes the connection unusable");
    problem(over, 413, "payload-too-large").await;
    let chunks = futures_stream(big);
    let over =
        http.post(gateway.url("/proxy/slow/echo")).body(reqwest::Body::wrap_stream(chunks)).send().await;
    problem(over.unwrap(), 413, "payload-too-large").await;

    // A call within limits is forwarded with its path, query and body.
    let ok = http.post(gateway.url("/proxy/slow/echo?a=1&b=two")).body("hello").send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["junction-attempts"], "1");
    assert_eq!(ok.text().await.unwrap(), "/echo?a=1&b=two hello");
    let forwarded = seen.headers.lock().unwrap().last().cloned().unwrap();
    assert_eq!(forwarded["x-forwarded-for"], "127.0.0.1");
    assert!(forwarded.contains_key("x-request-id"));

    let metrics = http.get(gateway.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    for series in [
        "process_resident_memory_bytes ",
        "process_cpu_seconds_total ",
        "process_open_fds ",
        "junction_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1",
        "junction_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
        "junction_http_request_duration_seconds_bucket{",
        "junction_http_requests_in_flight ",
    ] {
        assert!(text.contains(series), "missing {series:?} in\n{text}");
    }

    // SIGTERM while a slow call is in flight: it completes, then the process exits 0.
    let before = seen.started();
    let url = gateway.url("/proxy/slow/slow");
    let in_flight = tokio::spawn(async move { reqwest::get(url).await.unwrap() });
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.started() == before {
        assert!(Instant::now() < deadline, "the slow call never reached the upstream");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    gateway.terminate();
    let response = in_flight.await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "done");
    let status = tokio::task::spawn_blocking(move || {
        let status = gateway.wait_exit(Duration::from_secs(10));
        (status, gateway.output.text())
    })
    .await
    .unwrap();
    assert!(status.0.success(), "exit status {:?}; output:\n{}", status.0, status.1);
    assert!(status.1.contains("Received SIGTERM."), "{}", status.1);
    assert!(status.1.contains("every in-flight request finished"), "{}", status.1);
}

/// A body sent in chunks without a Content-Length.
fn futures_stream(data: Vec<u8>) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = data.chunks(512).map(|c| Ok(c.to_vec())).collect();
    Iter(chunks.into_iter())
}

struct Iter<I>(I);

impl<I: Iterator + Unpin> futures_core::Stream for Iter<I> {
    type Item = I::Item;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<I::Item>> {
        std::task::Poll::Ready(self.0.next())
    }
}

#[test]
fn json_logs_are_one_object_per_line() {
    let dir = crate::harness::Scratch::new("json-logs");
    let port = crate::harness::free_port();
    let config = dir.write("junction.toml", &format!("[server]\nlisten = \"127.0.0.1:{port}\"\n"));
    let child = crate::harness::junction()
        .args(["serve", "--log-format", "json", "--config"])
        .arg(&config)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/readyz");
    let deadline = Instant::now() + Duration::from_secs(20);
    while crate::harness::probe::status(&url).ok() != Some(200) {
        assert!(Instant::now() < deadline, "not ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::process::Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<Value> = stderr.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.iter().any(|l| l["message"] == "Junction is listening."), "{stderr}");
    assert!(lines.iter().any(|l| l["message"] == "Request handled." && l["status"] == 200), "{stderr}");
}
