//! The pooled HTTP client Junction calls out with (dependencies, forward
//! targets, customer endpoints): HTTP/1.1 and HTTP/2 (ALPN) over rustls.

use std::{path::Path, sync::Arc, time::Duration};

use axum::body::Body;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::{TokioExecutor, TokioTimer},
};
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::{CertificateDer, pem::PemObject};

/// A keep-alive pool of connections to upstreams.
#[derive(Debug, Clone)]
pub(crate) struct UpstreamClient(Client<HttpsConnector<HttpConnector>, Body>);

impl UpstreamClient {
    /// A client trusting the webpki roots, plus the certificates in `ca_file`.
    pub(crate) fn new(ca_file: Option<&Path>) -> Result<Self, String> {
        let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        if let Some(path) = ca_file {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| e.to_string())?
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())?;
            if certs.is_empty() {
                return Err("it holds no PEM certificate".into());
            }
            for cert in certs {
                roots.add(cert).map_err(|e| e.to_string())?;
            }
        }
        // An explicit provider, so the library works whatever the process installed.
        let tls = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(256)
            .build(connector);
        Ok(Self(client))
    }

    pub(crate) fn inner(&self) -> &Client<HttpsConnector<HttpConnector>, Body> {
        &self.0
    }
}

/// The start of an answer's body as text, for attempt logs; reads no more than `max` bytes.
pub(crate) async fn excerpt(mut body: hyper::body::Incoming, max: usize) -> Option<String> {
    use http_body_util::BodyExt;
    let mut kept = Vec::new();
    while kept.len() < max {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    kept.extend_from_slice(&data[..data.len().min(max - kept.len())]);
                }
            }
            _ => break,
        }
    }
    (!kept.is_empty()).then(|| String::from_utf8_lossy(&kept).into_owned())
}
