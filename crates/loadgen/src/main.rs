//! `junction-load`: a small closed-loop load generator for the benchmarks.
//! N workers each keep one keep-alive connection busy for a fixed time and
//! record every latency; the report gives requests/s and percentiles.
//! With `--rate R` the workers instead send R requests/s in total, on a fixed
//! schedule, so latency can be measured at a chosen load.
//!
//! ```text
//! junction-load get URL [--bearer TOKEN] [--concurrency 64] [--seconds 10] [--rate 0]
//! junction-load stripe URL --secret whsec_... [--concurrency 64] [--seconds 10] [--rate 0] [--body-bytes 1024]
//! junction-load upstream [--port 0]
//! ```
#![forbid(unsafe_code)]

mod report;
mod upstream;

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
    /// Requests per second in total, spread evenly over the workers; 0 runs
    /// the closed loop, as fast as the target answers.
    #[arg(long, default_value_t = 0.0, global = true)]
    rate: f64,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// `GET URL` in a loop.
    Get {
        /// Target URL.
        url: String,
        /// Sent as `Authorization: Bearer TOKEN` (for the management API).
        #[arg(long, value_name = "TOKEN")]
        bearer: Option<String>,
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
    /// Serve `GET`/`POST /anything` with a small fixed answer on
    /// 127.0.0.1:PORT until killed: the upstream of the proxying benchmark.
    Upstream {
        /// Port to listen on; 0 picks a free one (printed on start).
        #[arg(long, default_value_t = 0)]
        port: u16,
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

/// When a worker sends: as soon as its previous answer is in (closed loop),
/// or on a fixed schedule.
#[derive(Debug, Clone, Copy)]
enum Pace {
    Closed,
    /// Send at `next`, then every `every` after it.
    Scheduled {
        next: Instant,
        every: Duration,
    },
}

async fn worker(client: HttpClient, mode: Arc<Mode>, id: u64, mut pace: Pace, until: Instant) -> Report {
    let mut report = Report::default();
    let mut n = id << 40;
    loop {
        // Where this request's latency counts from, when not from its send.
        let mut waited_since = None;
        match &mut pace {
            Pace::Closed => {
                if Instant::now() >= until {
                    break;
                }
            }
            Pace::Scheduled { next, every } => {
                let scheduled = *next;
                if scheduled >= until {
                    break;
                }
                *next += *every;
                // Latency counts from the scheduled send time whenever the
                // worker was still busy with the previous request at that time
                // (an answer was late, so this request waited: the correction
                // for coordinated omission, as in wrk2). When the worker was
                // idle and sleeps until its slot, latency counts from the
                // actual send, so the timer's own lateness (tokio timers tick
                // in whole milliseconds) is not charged to the target.
                if Instant::now() < scheduled {
                    tokio::time::sleep_until(scheduled.into()).await;
                } else {
                    waited_since = Some(scheduled);
                }
            }
        }
        n += 1;
        let request = match mode.as_ref() {
            Mode::Get { url, bearer } => {
                let mut request = Request::get(url.as_str());
                if let Some(token) = bearer {
                    request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
                }
                request.body(Full::new(Bytes::new())).expect("a valid request")
            }
            Mode::Stripe { url, secret, body_bytes } => stripe_request(url, secret, n, *body_bytes),
            Mode::Upstream { .. } => unreachable!("the upstream mode sends no load"),
        };
        let started = waited_since.unwrap_or_else(Instant::now);
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
    if let Mode::Upstream { port } = args.mode {
        return upstream::serve(port).await;
    }
    anyhow::ensure!(args.rate.is_finite() && args.rate >= 0.0, "--rate must be 0 or more");
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");
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
    // With a rate, each worker sends every `concurrency / rate` seconds, the
    // workers' schedules staggered evenly across one such interval.
    let every = if args.rate > 0.0 {
        Some(
            Duration::try_from_secs_f64(args.concurrency as f64 / args.rate)
                .context("--rate is too small for --concurrency")?,
        )
    } else {
        None
    };
    for id in 0..args.concurrency {
        let pace = match every {
            None => Pace::Closed,
            Some(every) => {
                Pace::Scheduled { next: started + every.mul_f64(id as f64 / args.concurrency as f64), every }
            }
        };
        tasks.spawn(worker(client.clone(), mode.clone(), id as u64, pace, until));
    }
    let mut total = Report::default();
    while let Some(report) = tasks.join_next().await {
        total.merge(report.context("a load worker failed")?);
    }
    println!("{}", total.summary(started.elapsed()));
    Ok(())
}
