//! The `/v1` management API against the real binary: scopes per route for
//! manifest keys, CLI-made keys and JWTs; draft-10 rate-limit headers and
//! 429; every `Idempotency-Key` case; the audit of management actions; the
//! public OpenAPI document; `junction keys` and `junction status`; and no
//! key in clear text in the database file or the logs.

use std::{
    path::Path,
    process::Output,
    time::{Duration, Instant},
};

use http::HeaderMap;
use junction_signature::{Scheme, testing};
use junction_store::{IdempotencyBegin, sqlite::SqliteStore};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

use crate::harness::{TestGateway, junction};

const ADMIN_KEY: &str = "adm_admin_0123456789abcdef";
const GITHUB_SECRET: &str = "admin-test-github-secret";

fn manifest(extra_admin: &str) -> String {
    format!(
        "[admin]\napi_keys = [\"{ADMIN_KEY}\"]\n{extra_admin}\n\
         [dependencies.pay]\nbase_url = \"http://127.0.0.1:9\"\nsla = {{ availability = \"99.9%\", p99 = \"800ms\" }}\n\n\
         [sources.gh]\nscheme = \"github\"\nsecret = \"{GITHUB_SECRET}\"\n"
    )
}

async fn start(manifest: String) -> TestGateway {
    tokio::task::spawn_blocking(move || TestGateway::start(&manifest, &[])).await.unwrap()
}

/// Runs `junction ARGS --config <the gateway's manifest>` beside the gateway (same storage).
async fn cli(gateway: &TestGateway, args: &[&str]) -> Output {
    let config = gateway.config_path();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        junction()
            .current_dir(config.parent().unwrap())
            .args(&args)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

async fn create_key(gateway: &TestGateway, scope: &str) -> String {
    let out = cli(gateway, &["keys", "create", "--scope", scope]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "the key alone on stdout: {stdout:?}");
    lines[0].to_owned()
}

/// A stored event of source `gh` (no forwards), to replay.
async fn event(gateway: &TestGateway, n: usize) -> String {
    let body = format!("{{\"action\":\"opened\",\"n\":{n}}}").into_bytes();
    let url = gateway.url("/webhooks/gh");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let headers: HeaderMap =
        testing::sign(&Scheme::Github, GITHUB_SECRET, &body, &url, now, &format!("d-{n}"));
    let response = Client::new().post(url).headers(headers).body(body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

async fn call(method: reqwest::Method, gateway: &TestGateway, path: &str, key: Option<&str>) -> Response {
    let mut request = Client::new().request(method, gateway.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request.send().await.unwrap()
}

async fn status(method: reqwest::Method, gateway: &TestGateway, path: &str, key: Option<&str>) -> StatusCode {
    call(method, gateway, path, key).await.status()
}

fn problem_type(response: &Response) -> bool {
    response.headers()["content-type"] == "application/problem+json"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_are_enforced_per_route_for_every_kind_of_key() {
    use reqwest::Method as M;
    let gateway = start(manifest("")).await;
    let id = event(&gateway, 1).await;
    let replay = format!("/v1/events/{id}/replay");
    let read = create_key(&gateway, "read").await;
    let write = create_key(&gateway, "write").await;
    let admin = create_key(&gateway, "admin").await;

    // No credential, a wrong one, a malformed header: 401 problems that say what to send.
    let none = call(M::GET, &gateway, "/v1/dependencies", None).await;
    assert_eq!(none.status(), 401);
    assert!(problem_type(&none));
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    assert!(none.headers().contains_key("ratelimit"), "even a 401 carries the rate-limit headers");
    assert_eq!(status(M::GET, &gateway, "/v1/dependencies", Some("jk_not_a_real_key")).await, 401);
    let basic =
        Client::new().get(gateway.url("/v1/dependencies")).header("authorization", "Basic Zm9vOmJhcg==");
    assert_eq!(basic.send().await.unwrap().status(), 401);

    // (route, read, write, admin)
    let table = [
        (M::GET, "/v1/dependencies".to_owned(), 200, 200, 200),
        (M::GET, "/v1/queues".to_owned(), 200, 200, 200),
        (M::GET, "/v1/events".to_owned(), 200, 200, 200),
        (M::GET, format!("/v1/events/{id}"), 200, 200, 200),
        (M::GET, "/v1/deliveries".to_owned(), 200, 200, 200),
        (M::POST, replay.clone(), 403, 202, 202),
        (M::POST, "/v1/deliveries/00000000-0000-0000-0000-000000000000/retry".to_owned(), 403, 404, 404),
        (M::GET, "/v1/audit".to_owned(), 403, 403, 200),
    ];
    for (method, path, for_read, for_write, for_admin) in table {
        for (key, expected) in [(&read, for_read), (&write, for_write), (&admin, for_admin)] {
            let got = call(method.clone(), &gateway, &path, Some(key)).await;
            assert_eq!(got.status().as_u16(), expected, "{method} {path}");
            if expected == 403 {
                assert!(problem_type(&got));
                let detail = got.json::<Value>().await.unwrap()["detail"].as_str().unwrap().to_owned();
                assert!(detail.contains("scope"), "{detail}");
                assert!(!detail.contains(key.as_str()), "the key is never echoed");
            }
        }
        assert_eq!(status(method, &gateway, &path, Some(ADMIN_KEY)).await.as_u16(), for_admin);
    }

    // `keys list`: one line per key, `ID SCOPE CREATED`, never the key itself.
    let out = cli(&gateway, &["keys", "list"]).await;
    let listed = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Vec<&str>> = listed.lines().map(|l| l.split(' ').collect()).collect();
    assert_eq!(lines.len(), 3, "{listed}");
    assert!(lines.iter().all(|l| l.len() == 3 && l[0].starts_with("key_")), "{listed}");
    assert_eq!(lines.iter().map(|l| l[1]).collect::<Vec<_>>(), ["read", "write", "admin"]);
    for key in [&read, &write, &admin] {
        assert!(!listed.contains(key.as_str()));
    }

    // Revoking works while the server runs: the key stops working within seconds.
    let read_id = lines[0][0].to_owned();
    let out = cli(&gateway, &["keys", "revoke", &read_id]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let deadline = Instant::now() + Duration::from_secs(10);
    while status(M::GET, &gateway, "/v1/dependencies", Some(&read)).await != 401 {
        assert!(Instant::now() < deadline, "a revoked key still works");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status(M::GET, &gateway, "/v1/dependencies", Some(&write)).await, 200);
    let again = cli(&gateway, &["keys", "revoke", &read_id]).await;
    assert_eq!(again.status.code(), Some(1));
    let unknown = cli(&gateway, &["keys", "revoke", "key_0000000000000000"]).await;
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no key has the id"));
    let bad_scope = cli(&gateway, &["keys", "create", "--scope", "root"]).await;
    assert_eq!(bad_scope.status.code(), Some(2));

    // Keys are stored hashed and never logged: not in the database files, not in the output.
    let dir = gateway.config_path().parent().unwrap().to_owned();
    let files = database_files(&dir);
    assert!(!files.is_empty());
    for key in [&read, &write, &admin] {
        for (name, bytes) in &files {
            assert!(!contains(bytes, key.as_bytes()), "a key is in clear text in {name}");
        }
        assert!(!gateway.output.text().contains(key.as_str()), "a key is in the logs");
    }
}

fn database_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".db"))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_headers_count_down_per_credential_then_429() {
    let gateway = start(manifest("rate_limit = { requests = 5, per = \"60s\" }\n")).await;
    let other = create_key(&gateway, "read").await;
    for remaining in (0..5).rev() {
        let response = call(reqwest::Method::GET, &gateway, "/v1/dependencies", Some(ADMIN_KEY)).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["ratelimit-policy"], "\"default\";q=5;w=60");
        let state = response.headers()["ratelimit"].to_str().unwrap().to_owned();
        assert!(state.starts_with(&format!("\"default\";r={remaining};t=")), "{state}");
        let reset: u64 = state.rsplit("t=").next().unwrap().parse().unwrap();
        assert!((1..=60).contains(&reset), "{state}");
    }
    let over = call(reqwest::Method::GET, &gateway, "/v1/dependencies", Some(ADMIN_KEY)).await;
    assert_eq!(over.status(), 429);
    assert!(problem_type(&over));
    let retry_after: u64 = over.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    assert!(over.headers()["ratelimit"].to_str().unwrap().starts_with("\"default\";r=0;"));
    // Another credential has its own quota.
    let fine = call(reqwest::Method::GET, &gateway, "/v1/dependencies", Some(&other)).await;
    assert_eq!(fine.status(), 200);
    assert!(fine.headers()["ratelimit"].to_str().unwrap().starts_with("\"default\";r=4;"));
    // Routes outside /v1 are not counted.
    assert_eq!(status(reqwest::Method::GET, &gateway, "/healthz", None).await, 200);
}

async fn replay_with_key(gateway: &TestGateway, id: &str, key: &str, body: &'static str) -> Response {
    Client::new()
        .post(gateway.url(&format!("/v1/events/{id}/replay")))
        .bearer_auth(ADMIN_KEY)
        .header("idempotency-key", key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_replay_refuse_mismatches_and_concurrency() {
    let gateway = start(manifest("")).await;
    let (first_event, second_event) = (event(&gateway, 1).await, event(&gateway, 2).await);

    // First use: handled and stored; same key and request: the stored answer, marked as replayed.
    let first = replay_with_key(&gateway, &first_event, "op-1", "{}").await;
    assert_eq!(first.status(), 202);
    assert!(!first.headers().contains_key("idempotent-replayed"));
    let first_body = first.text().await.unwrap();
    let again = replay_with_key(&gateway, &first_event, "op-1", "{}").await;
    assert_eq!(again.status(), 202);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["content-type"], "application/json");
    assert!(again.headers().contains_key("ratelimit"));
    assert_eq!(again.text().await.unwrap(), first_body);

    // Same key, other body or other target: 422.
    let other_body = replay_with_key(&gateway, &first_event, "op-1", "{\"x\":1}").await;
    assert_eq!(other_body.status(), 422);
    assert!(problem_type(&other_body));
    let other_target = replay_with_key(&gateway, &second_event, "op-1", "{}").await;
    assert_eq!(other_target.status(), 422);

    // Malformed keys: 400.
    for bad in ["", &"k".repeat(256), "has space"] {
        let response = replay_with_key(&gateway, &first_event, bad, "{}").await;
        assert_eq!(response.status(), 400, "{bad:?}");
    }

    // A key in flight on another node (started in the shared store, not finished): 409.
    let dir = gateway.config_path().parent().unwrap().to_owned();
    let store = SqliteStore::open(&dir.join("junction.db"), std::sync::Arc::new(junction_store::SystemClock))
        .unwrap();
    let scope = format!("admin:manifest:{}", &junction_identity::hash_key(ADMIN_KEY)[..12]);
    let started = junction_store::Store::idempotency_begin(
        &store,
        &scope,
        "op-busy",
        &"0".repeat(64),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(started, IdempotencyBegin::Started);
    let busy = replay_with_key(&gateway, &first_event, "op-busy", "{}").await;
    assert_eq!(busy.status(), 409);
    assert!(busy.headers().contains_key("retry-after"));

    // Many at once with one key: one is handled; the others get its answer or 409, never a second run.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (url, id) = (gateway.url(""), second_event.clone());
        tasks.spawn(async move {
            let response = Client::new()
                .post(format!("{url}/v1/events/{id}/replay"))
                .bearer_auth(ADMIN_KEY)
                .header("idempotency-key", "op-race")
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.headers().contains_key("idempotent-replayed"))
        });
    }
    let answers = tasks.join_all().await;
    let handled = answers.iter().filter(|(s, replayed)| *s == 202 && !replayed).count();
    assert_eq!(handled, 1, "{answers:?}");
    assert!(answers.iter().all(|(s, _)| *s == 202 || *s == 409), "{answers:?}");

    // Keys are per credential: another caller's "op-1" is a new request.
    let write = create_key(&gateway, "write").await;
    let theirs = Client::new()
        .post(gateway.url(&format!("/v1/events/{second_event}/replay")))
        .bearer_auth(&write)
        .header("idempotency-key", "op-1")
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), 202);
    assert!(!theirs.headers().contains_key("idempotent-replayed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn management_actions_are_audited_with_the_credential_id_only() {
    let gateway = start(manifest("")).await;
    let id = event(&gateway, 1).await;
    let write = create_key(&gateway, "write").await;
    let response =
        call(reqwest::Method::POST, &gateway, &format!("/v1/events/{id}/replay"), Some(&write)).await;
    assert_eq!(response.status(), 202);
    // A refused webhook is audited too.
    let refused = Client::new().post(gateway.url("/webhooks/gh")).body("{}").send().await.unwrap();
    assert_eq!(refused.status(), 401);

    let deadline = Instant::now() + Duration::from_secs(10);
    let (management, webhooks) = loop {
        let m: Value = call(reqwest::Method::GET, &gateway, "/v1/audit?kind=management", Some(ADMIN_KEY))
            .await
            .json()
            .await
            .unwrap();
        let w: Value =
            call(reqwest::Method::GET, &gateway, "/v1/audit?source=gh&status=401", Some(ADMIN_KEY))
                .await
                .json()
                .await
                .unwrap();
        if !m["data"].as_array().unwrap().is_empty() && !w["data"].as_array().unwrap().is_empty() {
            break (m, w);
        }
        assert!(Instant::now() < deadline, "no audit entries: {m} {w}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let entry = &management["data"][0];
    assert_eq!(entry["kind"], "management");
    assert_eq!(entry["method"], "POST");
    assert_eq!(entry["path"], format!("/v1/events/{id}/replay"));
    assert_eq!(entry["status"], 202);
    let caller = entry["caller"].as_str().unwrap();
    assert!(caller.starts_with("key_"), "{caller}");
    assert!(!management.to_string().contains(&write), "the key itself is never audited");

    let refusal = &webhooks["data"][0];
    assert_eq!(refusal["kind"], "webhook");
    assert_eq!(refusal["source"], "gh");
    assert_eq!(refusal["outcome"], "missing_header");
    assert_eq!(refusal["caller"], "127.0.0.1");

    // Filters: by caller, by time range, and bad values get a 400 problem.
    let by_caller: Value =
        call(reqwest::Method::GET, &gateway, &format!("/v1/audit?caller={caller}"), Some(ADMIN_KEY))
            .await
            .json()
            .await
            .unwrap();
    assert!(by_caller["data"].as_array().unwrap().iter().all(|e| e["caller"] == caller));
    assert!(!by_caller["data"].as_array().unwrap().is_empty());
    let future: Value =
        call(reqwest::Method::GET, &gateway, "/v1/audit?since=2999-01-01T00:00:00Z", Some(ADMIN_KEY))
            .await
            .json()
            .await
            .unwrap();
    assert!(future["data"].as_array().unwrap().is_empty());
    let past: Value =
        call(reqwest::Method::GET, &gateway, "/v1/audit?until=2000-01-01T00:00:00Z", Some(ADMIN_KEY))
            .await
            .json()
            .await
            .unwrap();
    assert!(past["data"].as_array().unwrap().is_empty());
    for bad in [
        "since=yesterday",
        "status=abc",
        "status=99",
        "kind=other",
        "limit=0",
        "after=nope",
        "after=",
        "since=2026-11-25",
    ] {
        let response =
            call(reqwest::Method::GET, &gateway, &format!("/v1/audit?{bad}"), Some(ADMIN_KEY)).await;
        assert_eq!(response.status(), 400, "{bad}");
        assert!(problem_type(&response));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_is_public_and_status_prints_tables() {
    let gateway = start(manifest("")).await;
    let response = call(reqwest::Method::GET, &gateway, "/openapi.json", None).await;
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/v1/dependencies"]["get"].is_object());

    let dependencies: Value =
        call(reqwest::Method::GET, &gateway, "/v1/dependencies", Some(ADMIN_KEY)).await.json().await.unwrap();
    let pay = &dependencies["data"][0];
    assert_eq!(pay["name"], "pay");
    assert_eq!(pay["breaker"], "closed");
    assert_eq!(pay["sla"]["availability"], 0.999);
    assert_eq!(pay["sla"]["p99_ms"], 800.0);
    assert_eq!(pay["sla"]["met"], Value::Null, "no calls yet");
    assert_eq!(pay["live"]["window_secs"], 300);

    let out = cli(&gateway, &["status", "--key", ADMIN_KEY]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.lines().next().unwrap().starts_with("DEPENDENCY"), "{table}");
    assert!(table.lines().nth(1).unwrap().starts_with("pay "), "{table}");
    let denied = cli(&gateway, &["status", "--key", "jk_wrong"]).await;
    assert_eq!(denied.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&denied.stderr).contains("401"));
}

/// An identity provider for the test: one Ed25519 key, its JWKS served on
/// loopback (which can be taken down), tokens signed with it.
mod idp {
    use std::{
        net::SocketAddr,
        sync::{
            Arc,
            atomic::{AtomicBool, Ordering},
        },
    };

    use axum::{Router, http::StatusCode, response::IntoResponse, routing::get};
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
    use ring::{
        rand::SystemRandom,
        signature::{Ed25519KeyPair, KeyPair},
    };
    use serde_json::{Value, json};

    pub struct Idp {
        pub addr: SocketAddr,
        key: Arc<Ed25519KeyPair>,
        pub down: Arc<AtomicBool>,
    }

    impl Idp {
        pub async fn start() -> Self {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
            let key = Arc::new(Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap());
            let jwks = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1", "alg": "EdDSA",
                "x": B64.encode(key.public_key().as_ref())}]})
            .to_string();
            let down = Arc::new(AtomicBool::new(false));
            let flag = down.clone();
            let app = Router::new().route(
                "/jwks",
                get(move || {
                    let (jwks, flag) = (jwks.clone(), flag.clone());
                    async move {
                        if flag.load(Ordering::SeqCst) {
                            return StatusCode::SERVICE_UNAVAILABLE.into_response();
                        }
                        ([("content-type", "application/json")], jwks).into_response()
                    }
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            Self { addr, key, down }
        }

        pub fn token(&self, kid: &str, claims: &Value) -> String {
            let header = B64.encode(json!({"alg": "EdDSA", "typ": "JWT", "kid": kid}).to_string());
            let payload = B64.encode(claims.to_string());
            let signing_input = format!("{header}.{payload}");
            let signature = B64.encode(self.key.sign(signing_input.as_bytes()).as_ref());
            format!("{signing_input}.{signature}")
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwts_from_the_identity_provider_carry_their_scopes() {
    use reqwest::Method as M;
    let idp = idp::Idp::start().await;
    let jwt = format!(
        "jwt = {{ issuer = \"https://idp.test/\", audience = \"junction\", jwks_url = \"http://{}/jwks\" }}\n",
        idp.addr
    );
    let gateway = start(manifest(&jwt)).await;
    let id = event(&gateway, 1).await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let claims = |scope: &str| {
        serde_json::json!({"iss": "https://idp.test/", "aud": "junction", "sub": "svc-billing",
            "exp": now + 600, "iat": now, "scope": scope})
    };

    let reader = idp.token("k1", &claims("openid read"));
    assert_eq!(status(M::GET, &gateway, "/v1/dependencies", Some(&reader)).await, 200);
    let forbidden = call(M::POST, &gateway, &format!("/v1/events/{id}/replay"), Some(&reader)).await;
    assert_eq!(forbidden.status(), 403);
    let writer = idp.token("k1", &claims("write"));
    assert_eq!(status(M::POST, &gateway, &format!("/v1/events/{id}/replay"), Some(&writer)).await, 202);

    let mut expired = claims("admin");
    expired["exp"] = serde_json::json!(now - 3600);
    let mut wrong_audience = claims("admin");
    wrong_audience["aud"] = serde_json::json!("someone-else");
    let no_scope = claims("openid profile");
    for (what, token) in [
        ("expired", idp.token("k1", &expired)),
        ("wrong audience", idp.token("k1", &wrong_audience)),
        ("unknown kid", idp.token("k9", &claims("admin"))),
        ("no junction scope", idp.token("k1", &no_scope)),
    ] {
        let response = call(M::GET, &gateway, "/v1/dependencies", Some(&token)).await;
        assert_eq!(response.status(), 401, "{what}");
        let body = response.text().await.unwrap();
        assert!(!body.contains(&token), "{what}: the token is not echoed");
    }

    // Management actions by a JWT are audited under its subject.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log: Value = call(M::GET, &gateway, "/v1/audit?caller=jwt:svc-billing", Some(ADMIN_KEY))
            .await
            .json()
            .await
            .unwrap();
        if log["data"].as_array().unwrap().len() == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "no audit entry for the JWT caller: {log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // With the identity provider down, a token naming a key not yet known cannot be checked: 503, not 401.
    idp.down.store(true, std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(6)).await; // past the refetch interval
    let unknown = call(M::GET, &gateway, "/v1/dependencies", Some(&idp.token("k2", &claims("read")))).await;
    assert_eq!(unknown.status(), 503);
    assert!(unknown.headers().contains_key("retry-after"));
    // Keys already fetched keep working.
    assert_eq!(status(M::GET, &gateway, "/v1/dependencies", Some(&reader)).await, 200);
}
