//! Fetching the provider's JWKS: HTTPS only (plain http for loopback test
//! servers), a deadline on the whole exchange, and a cap on the document size.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use http::{Request, Uri, header};
use http_body_util::{BodyExt, Empty, LengthLimitError, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::{TokioExecutor, TokioTimer},
};
use rustls::{ClientConfig, RootCertStore};
use tracing::{debug, error, warn};
use url::Url;

use super::{error::FetchError, jwks::KeySet};

/// Deadline for one fetch: connect, TLS, request and the whole body.
pub(crate) const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Largest JWKS document accepted, in bytes (real ones are a few KiB).
pub(crate) const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

type HttpsClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// Fetches one JWKS URL.
pub(crate) struct JwksClient {
    url: Url,
    /// `None` only if rustls could not be set up, which the ring provider's
    /// defaults rule out; every fetch then fails instead of the process panicking.
    client: Option<HttpsClient>,
    timeout: Duration,
    max_bytes: usize,
}

impl JwksClient {
    pub(crate) fn new(url: Url) -> Self {
        if !allowed(&url) {
            warn!(%url, "The JWKS URL is not https and not loopback; tokens will be refused.");
        }
        Self { url, client: https_client(), timeout: FETCH_TIMEOUT, max_bytes: MAX_DOCUMENT_BYTES }
    }

    #[cfg(test)]
    fn with_limits(mut self, timeout: Duration, max_bytes: usize) -> Self {
        self.timeout = timeout;
        self.max_bytes = max_bytes;
        self
    }

    /// Fetches and parses the key set.
    pub(crate) async fn fetch(&self) -> Result<KeySet, FetchError> {
        let result = match tokio::time::timeout(self.timeout, self.exchange()).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout(self.timeout)),
        };
        match &result {
            Ok(keys) => debug!(url = %self.url, keys = keys.len(), "JWKS fetched."),
            Err(error) => warn!(url = %self.url, %error, "JWKS fetch failed."),
        }
        result
    }

    async fn exchange(&self) -> Result<KeySet, FetchError> {
        if !allowed(&self.url) {
            return Err(FetchError::InsecureUrl);
        }
        let Some(client) = &self.client else {
            return Err(FetchError::Request);
        };
        let uri: Uri = self.url.as_str().parse().map_err(|error| {
            warn!(url = %self.url, %error, "The JWKS URL is not a valid request target.");
            FetchError::Request
        })?;
        let request = Request::get(uri)
            .header(header::ACCEPT, "application/jwk-set+json, application/json")
            .header(header::USER_AGENT, concat!("junction/", env!("CARGO_PKG_VERSION")))
            .body(Empty::new())
            .map_err(|_| FetchError::Request)?;
        let response = client.request(request).await.map_err(|error| {
            debug!(url = %self.url, error = %error_chain(&error), "JWKS request failed.");
            FetchError::Request
        })?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        let declared = response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.max_bytes as u64) {
            return Err(FetchError::TooLarge(self.max_bytes));
        }
        let body = Limited::new(response.into_body(), self.max_bytes).collect().await.map_err(|error| {
            if error.downcast_ref::<LengthLimitError>().is_some() {
                FetchError::TooLarge(self.max_bytes)
            } else {
                debug!(url = %self.url, %error, "Reading the JWKS body failed.");
                FetchError::Request
            }
        })?;
        KeySet::parse(&body.to_bytes())
    }
}

/// `https`, or `http` to a loopback host (test servers).
fn allowed(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
            None => false,
        },
        _ => false,
    }
}

fn https_client() -> Option<HttpsClient> {
    let roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    // An explicit provider, so the library works whatever the process installed.
    let tls = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| error!(error = %e, "Setting up TLS for JWKS fetches failed."))
        .ok()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().build();
    Some(
        Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(1)
            .build(connector),
    )
}

/// An error and its sources on one line, for the debug log.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpListener,
    };

    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_allowed() {
        let yes = [
            "https://idp.example.com/jwks",
            "http://127.0.0.1:8/j",
            "http://[::1]:8/j",
            "http://localhost/j",
            "http://127.9.9.9/j",
        ];
        let no = [
            "http://idp.example.com/jwks",
            "http://10.0.0.1/j",
            "http://localhost.example.com/j",
            "ftp://127.0.0.1/j",
            "file:///etc/jwks",
        ];
        for url in yes {
            assert!(allowed(&url.parse().unwrap()), "{url}");
        }
        for url in no {
            assert!(!allowed(&url.parse().unwrap()), "{url}");
        }
    }

    #[tokio::test]
    async fn plain_http_to_other_hosts_is_refused_without_a_request() {
        // Nothing listens on a documentation address; a request would hang or fail otherwise.
        let client = JwksClient::new("http://192.0.2.1/jwks".parse().unwrap());
        assert_eq!(client.fetch().await.err(), Some(FetchError::InsecureUrl));
    }

    /// A server that answers each connection with `response` after `delay`.
    async fn serve_raw(response: Vec<u8>, delay: Duration) -> Url {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap()).parse().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let response = response.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _read = stream.read(&mut buf).await;
                    tokio::time::sleep(delay).await;
                    let _written = stream.write_all(&response).await;
                });
            }
        });
        url
    }

    fn http_response(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
        let mut response = format!("HTTP/1.1 {status}\r\n{headers}connection: close\r\n\r\n").into_bytes();
        response.extend_from_slice(body);
        response
    }

    #[tokio::test]
    async fn a_slow_server_times_out() {
        let body = br#"{"keys": []}"#;
        let url =
            serve_raw(http_response("200 OK", "content-length: 12\r\n", body), Duration::from_secs(30)).await;
        let client = JwksClient::new(url).with_limits(Duration::from_millis(200), MAX_DOCUMENT_BYTES);
        assert_eq!(client.fetch().await.err(), Some(FetchError::Timeout(Duration::from_millis(200))));
    }

    #[tokio::test]
    async fn documents_over_the_cap_are_refused() {
        let big = format!(r#"{{"keys": [], "padding": "{}"}}"#, "x".repeat(2048));
        // Once with a declared length, once streamed without one.
        let declared = http_response("200 OK", &format!("content-length: {}\r\n", big.len()), big.as_bytes());
        let streamed = http_response("200 OK", "", big.as_bytes());
        for response in [declared, streamed] {
            let url = serve_raw(response, Duration::ZERO).await;
            let client = JwksClient::new(url).with_limits(FETCH_TIMEOUT, 1024);
            assert_eq!(client.fetch().await.err(), Some(FetchError::TooLarge(1024)));
        }
        // The same document under a larger cap is fine.
        let url = serve_raw(http_response("200 OK", "", big.as_bytes()), Duration::ZERO).await;
        assert_eq!(JwksClient::new(url).with_limits(FETCH_TIMEOUT, 4096).fetch().await.unwrap().len(), 0);
    }

    #[tokio::test]
    async fn non_success_statuses_and_junk_are_reported() {
        let url =
            serve_raw(http_response("503 Service Unavailable", "content-length: 0\r\n", b""), Duration::ZERO)
                .await;
        assert_eq!(JwksClient::new(url).fetch().await.err(), Some(FetchError::Status(503)));
        let url = serve_raw(
            http_response("302 Found", "location: /elsewhere\r\ncontent-length: 0\r\n", b""),
            Duration::ZERO,
        )
        .await;
        assert_eq!(JwksClient::new(url).fetch().await.err(), Some(FetchError::Status(302)));
        let url =
            serve_raw(http_response("200 OK", "content-length: 6\r\n", b"<html>"), Duration::ZERO).await;
        assert_eq!(JwksClient::new(url).fetch().await.err(), Some(FetchError::NotAKeySet));
        let url = serve_raw(b"not http at all\r\n\r\n".to_vec(), Duration::ZERO).await;
        assert_eq!(JwksClient::new(url).fetch().await.err(), Some(FetchError::Request));
    }
}
