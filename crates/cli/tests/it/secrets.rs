//! No secret is ever printed: not by `check`, not by `serve`'s logs, metrics
//! or problem bodies, with valid and broken manifests alike.

use std::time::Duration;

use crate::harness::{Scratch, TestGateway, junction, upstream};

const TOKEN: &str = "sk_live_SECRET_e2e_4242424242";
const PASSWORD: &str = "hunter2-SECRET-password";

const MANIFEST: &str = r#"
[storage]
url = "postgres://junction:${DB_PASSWORD}@127.0.0.1:5432/junction"

[admin]
api_keys = ["${ADMIN_KEY}"]
"#;

fn env() -> Vec<(&'static str, &'static str)> {
    vec![("API_TOKEN", TOKEN), ("DB_PASSWORD", PASSWORD), ("ADMIN_KEY", "adm_SECRET_0123456789abcdef")]
}

fn assert_clean(what: &str, text: &str) {
    for secret in [TOKEN, PASSWORD, "adm_SECRET_0123456789abcdef"] {
        assert!(!text.contains(secret), "{what} printed a secret:\n{text}");
    }
}

#[test]
fn check_never_prints_secrets() {
    let dir = Scratch::new("secrets-check");
    let valid = format!(
        "{MANIFEST}\n[dependencies.api]\nbase_url = \"https://api.example.com\"\nauth = {{ type = \"bearer\", token = \"${{API_TOKEN}}\" }}\n"
    );
    // Broken in ways that involve the secret-bearing keys themselves.
    let broken = format!(
        "{MANIFEST}\n[dependencies.api]\nbase_url = \"${{API_TOKEN}}\"\nauth = {{ type = \"basic\", username = \"u\", password = \"${{DB_PASSWORD}}\", token = \"${{API_TOKEN}}\" }}\n\
         [sources.s]\nscheme = \"standard\"\nsecret = \"${{API_TOKEN}}\"\nforward_secret = \"${{DB_PASSWORD}}\"\n\
         [server]\nlisten = \"${{DB_PASSWORD}}\"\n"
    );
    for (name, text, ok) in [("valid", valid, true), ("broken", broken, false)] {
        let path = dir.write(&format!("{name}.toml"), &text);
        let out = junction().arg("check").arg("--config").arg(&path).envs(env()).output().unwrap();
        assert_eq!(out.status.success(), ok, "{name}: {}", String::from_utf8_lossy(&out.stderr));
        assert_clean(name, &String::from_utf8_lossy(&out.stdout));
        assert_clean(name, &String::from_utf8_lossy(&out.stderr));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_never_prints_secrets() {
    let (upstream, seen) = upstream::start(Duration::ZERO).await;
    let manifest = format!(
        "[dependencies.api]\nbase_url = \"http://{upstream}\"\nauth = {{ type = \"bearer\", token = \"${{API_TOKEN}}\" }}\n\
         [dependencies.down]\nbase_url = \"http://127.0.0.1:9\"\nauth = {{ type = \"header\", name = \"X-Api-Key\", value = \"${{API_TOKEN}}\" }}\n"
    );
    let mut gateway = tokio::task::spawn_blocking(move || {
        TestGateway::start(&manifest, &[("API_TOKEN", TOKEN), ("JUNCTION_LOG", "debug")])
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();

    let ok = http.get(gateway.url("/proxy/api/v1/thing?x=1")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_clean("a proxied answer", &ok.text().await.unwrap());
    // The credential did reach the upstream, which is the point.
    let sent = seen.headers.lock().unwrap().last().cloned().unwrap();
    assert_eq!(sent["authorization"], format!("Bearer {TOKEN}"));

    let failed = http.get(gateway.url("/proxy/down/x")).send().await.unwrap();
    assert_eq!(failed.status(), 502);
    assert_clean("a problem body", &failed.text().await.unwrap());
    for path in ["/metrics", "/readyz", "/healthz", "/nope"] {
        let body = http.get(gateway.url(path)).send().await.unwrap().text().await.unwrap();
        assert_clean(path, &body);
    }
    gateway.terminate();
    let output = tokio::task::spawn_blocking(move || {
        gateway.wait_exit(Duration::from_secs(10));
        gateway.output.text()
    })
    .await
    .unwrap();
    assert!(output.contains("Request handled."), "the logs were captured:\n{output}");
    assert_clean("the debug logs", &output);
}

#[test]
fn a_store_that_cannot_be_reached_is_reported_without_its_password() {
    let dir = Scratch::new("secrets-store");
    let port = crate::harness::free_port();
    // Nothing listens on `port`: the connection fails, and the error must not show the password.
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\nurl = \"postgres://junction:${{DB_PASSWORD}}@127.0.0.1:{port}/junction\"\n"
    );
    let path = dir.write("junction.toml", &text);
    let out = junction().arg("serve").arg("--config").arg(&path).envs(env()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot open the store"), "{stderr}");
    assert!(stderr.contains("postgres://junction:***@127.0.0.1"), "{stderr}");
    assert_clean("the start-up error", &stderr);
    assert_clean("stdout", &String::from_utf8_lossy(&out.stdout));
}
