//! A local internal service that receives Junction's forwards and records them.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{Router, extract::Request, http::HeaderMap, routing::any};

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Everything received so far.
#[derive(Clone, Default)]
pub struct Inbox(Arc<Mutex<Vec<Received>>>);

impl Inbox {
    pub fn all(&self) -> Vec<Received> {
        self.0.lock().unwrap().clone()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// The `junction-event-id` of every forward, in arrival order.
    pub fn event_ids(&self) -> Vec<String> {
        self.all()
            .iter()
            .filter_map(|r| {
                r.headers.get("junction-event-id").and_then(|v| v.to_str().ok()).map(str::to_owned)
            })
            .collect()
    }
}

/// Starts a receiver on a free port (or `port`), answering 200 to everything.
pub async fn start(port: u16) -> (SocketAddr, Inbox) {
    let inbox = Inbox::default();
    let sink = inbox.clone();
    let app = Router::new().fallback(any(move |request: Request| {
        let sink = sink.clone();
        async move {
            let path = request.uri().path().to_owned();
            let headers = request.headers().clone();
            let body = axum::body::to_bytes(request.into_body(), 1 << 20).await.unwrap_or_default().to_vec();
            sink.0.lock().unwrap().push(Received { path, headers, body });
            "ok"
        }
    }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, inbox)
}
