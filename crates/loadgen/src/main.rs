//! `junction-load`: a small closed-loop load generator for the benchmarks.
//! N workers each keep one keep-alive connection busy for a fixed time and
//! record every latency; the report gives requests/s and percentiles.
//!
//! ```text
//! junction-load get URL [--concurrency 64] [--seconds 10]
//! junction-load stripe URL --secret whsec_... [--concurrency 64] [--seconds 10] [--body-bytes 1024]
//! ```
#![forbid(unsafe_code)]

mod report;

use std::{
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::Context;
use bytes::Bytes;
use clap::{Parser, Subcommand};
use http::{Method, Request, header};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use junction_signature::{Scheme, testing};

use crate::report::Report;

/// Closed-loop HTTP load for Junction's benchmarks.
#[derive(Debug, Parser)]
struct Args {
    #[command(subcommand)]
    mode: Mode,
    /// Concurrent workers (one connection each).
    #[arg(long, default_value_t = 64, global = true)]
    concurrency: usize,
    /// How long to run.
    #[arg(long, default_value_t = 10.0, global = true)]
    seconds: f64,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// `GET URL` in a loop.
    Get {
        /// Target URL.
        url: String,
    },
    /// Stripe-signed webhooks with unique event ids, `POST URL`.
    Stripe {
        /// Target URL (e.g. http://127.0.0.1:8080/webhooks/stripe).
        url: String,
        /// The source's signing secret.
        #[arg(long)]
        secret: String,
        /// Body size in bytes.
        #[arg(long, default_value_t = 1024)]
        body_bytes: usize,
    },
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn stripe_request(url: &str, secret: &str, n: u64, body_bytes: usize) -> Request<Full<Bytes>> {
    let head = format!(r#"{{"id":"evt_load_{n:020}","type":"charge.succeeded","data":""#);
    let pad = body_bytes.saturating_sub(head.len() + 3);
    let body = format!("{head}{}\"}}", "x".repeat(pad)).into_bytes();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let headers = testing::sign(&Scheme::Stripe, secret, &body, url, now, "");
    let mut request =
        Request::builder().method(Method::POST).uri(url).header(header::CONTENT_TYPE, "application/json");
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    request.body(Full::new(Bytes::from(body))).expect("a valid request")
}

async fn worker(client: HttpClient, mode: Arc<Mode>, id: u64, until: Instant) -> Report {
    let mut report = Report::default();
    let mut n = id << 40;
    while Instant::now() < until {
        n += 1;
        let request = match mode.as_ref() {
            Mode::Get { url } => {
                Request::get(url.as_str()).body(Full::new(Bytes::new())).expect("a valid request")
            }
            Mode::Stripe { url, secret, body_bytes } => stripe_request(url, secret, n, *body_bytes),
        };
        let started = Instant::now();
        match client.request(request).await {
            Ok(response) => {
                let status = response.status();
                // Read the whole answer so the connection is reused.
                let ok = response.into_body().collect().await.is_ok() && status.is_success();
                report.record(started.elapsed(), ok);
            }
            Err(_) => report.record(started.elapsed(), false),
        }
    }
    report
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(args.concurrency)
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector);
    let mode = Arc::new(args.mode);
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(args.seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for id in 0..args.concurrency {
        tasks.spawn(worker(client.clone(), mode.clone(), id as u64, until));
    }
    let mut total = Report::default();
    while let Some(report) = tasks.join_next().await {
        total.merge(report.context("a load worker failed")?);
    }
    println!("{}", total.summary(started.elapsed()));
    Ok(())
}
