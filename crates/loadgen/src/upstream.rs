//! `junction-load upstream`: a tiny, fast local upstream for the proxying
//! benchmark. `GET` or `POST /anything` answers 200 with a fixed 64-byte JSON
//! body, over keep-alive HTTP/1.1 (HTTP/2 prior knowledge is also accepted).
//! Anything else gets an empty 404 or 405. It serves until it is killed.

use std::{convert::Infallible, time::Duration};

use anyhow::Context;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto,
};
use tokio::net::TcpListener;

/// The answer to `/anything`: exactly 64 bytes of JSON.
const BODY: &[u8; 64] = br#"{"ok":true,"service":"junction-load upstream","padding":"xxxxx"}"#;

async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut status = match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::POST, "/anything") => StatusCode::OK,
        (_, "/anything") => StatusCode::METHOD_NOT_ALLOWED,
        _ => StatusCode::NOT_FOUND,
    };
    // Read the whole request body before answering, so the connection can
    // be reused.
    if request.into_body().collect().await.is_err() {
        status = StatusCode::BAD_REQUEST;
    }
    let body = if status == StatusCode::OK { Bytes::from_static(BODY) } else { Bytes::new() };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    if status == StatusCode::OK {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    }
    Ok(response)
}

/// Listens on `127.0.0.1:port` (`0` picks a free port), prints
/// `listening on 127.0.0.1:PORT`, and serves until the process is killed.
pub(crate) async fn serve(port: u16) -> anyhow::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    let local = listener.local_addr().context("the listener has no address")?;
    // `println!` flushes at the newline, so a parent reading a pipe sees it now.
    println!("listening on {local}");
    let builder = auto::Builder::new(TokioExecutor::new());
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Usually EMFILE: wait a little instead of spinning.
                eprintln!("accept failed: {error}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if let Err(error) = stream.set_nodelay(true) {
            eprintln!("cannot set TCP_NODELAY: {error}");
        }
        let builder = builder.clone();
        tokio::spawn(async move {
            // A client closing its connection mid-request is routine under load.
            let served =
                builder.serve_connection(TokioIo::new(stream), hyper::service::service_fn(handle)).await;
            drop(served);
        });
    }
}
