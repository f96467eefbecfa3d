//! Forwarding a committed event to each internal target, from the store.
//!
//! The forward carries the provider's body and headers, `Junction-Event-Id`,
//! and Standard Webhooks headers (`webhook-id` = the event id) signed with
//! the source's `forward_secret`, so services can check it came from Junction
//! with any Standard Webhooks library.

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use axum::body::Body;
use http::{HeaderName, HeaderValue, Method, Request};
use junction_manifest::{HumanDuration, Manifest, Secret};
use junction_store::{AttemptReport, Claimed, Clock, SystemClock};

use crate::{
    delivery::{Attempted, Deliver, Verdict},
    upstream::UpstreamClient,
};

/// How much of a target's answer is kept in the attempt log.
const EXCERPT_BYTES: usize = 512;

/// Headers of the provider's own Standard Webhooks signature: Junction's replace them.
fn replaced_by_ours(name: &str) -> bool {
    name.starts_with("webhook-") || name.starts_with("svix-") || name.starts_with("junction-")
}

#[derive(Debug)]
struct Route {
    secret: Option<Secret>,
    schedule: Vec<HumanDuration>,
    timeout: Duration,
}

/// Delivers `event` records to their forward targets.
#[derive(Debug)]
pub struct Forwarder {
    client: UpstreamClient,
    routes: HashMap<String, Route>,
}

impl Forwarder {
    /// A forwarder for every source of the manifest.
    pub fn new(manifest: &Manifest) -> Result<Arc<Self>, String> {
        let client = UpstreamClient::new(None)?;
        let routes = manifest
            .sources
            .iter()
            .map(|(name, s)| {
                let route = Route {
                    secret: s.forward_secret.clone(),
                    schedule: s.retry_schedule.clone(),
                    timeout: s.forward_timeout.get(),
                };
                (name.to_string(), route)
            })
            .collect();
        Ok(Arc::new(Self { client, routes }))
    }

    fn request(
        &self,
        claimed: &Claimed,
        route: Option<&Route>,
        now_secs: i64,
    ) -> Result<Request<Body>, String> {
        let record = &claimed.record;
        let id = record.id.to_string();
        let mut request = Request::builder().method(Method::POST).uri(&claimed.job.target);
        for (name, value) in &record.headers {
            if !replaced_by_ours(name) {
                request = request.header(name.as_str(), value.as_str());
            }
        }
        request = request
            .header("junction-event-id", &id)
            .header("junction-source", &record.topic)
            .header("webhook-id", &id)
            .header("webhook-timestamp", now_secs.to_string());
        if let Some(secret) = route.and_then(|r| r.secret.as_ref()) {
            let signature = junction_signature::sign_v1(secret.expose(), &id, now_secs, &record.body)
                .map_err(|e| format!("cannot sign the forward: {e}"))?;
            let mut value = HeaderValue::from_str(&signature).map_err(|e| e.to_string())?;
            value.set_sensitive(true);
            request = request.header(HeaderName::from_static("webhook-signature"), value);
        }
        request.body(Body::from(record.body.clone())).map_err(|e| format!("cannot build the forward: {e}"))
    }
}

#[async_trait]
impl Deliver for Forwarder {
    async fn deliver(&self, claimed: &Claimed) -> Attempted {
        let route = self.routes.get(&claimed.record.topic);
        let started_at = SystemClock.now();
        let started = std::time::Instant::now();
        let timeout = route.map_or(Duration::from_secs(15), |r| r.timeout);
        let outcome = match self.request(claimed, route, started_at.millis() / 1000) {
            Err(error) => Err(error),
            Ok(request) => match tokio::time::timeout(timeout, self.client.inner().request(request)).await {
                Err(_) => Err(format!("no answer within {}ms", timeout.as_millis())),
                Ok(Err(error)) => Err(format!("cannot reach the target: {error}")),
                Ok(Ok(response)) => {
                    let status = response.status();
                    let excerpt = crate::upstream::excerpt(response.into_body(), EXCERPT_BYTES).await;
                    Ok((status.as_u16(), excerpt))
                }
            },
        };
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (status, excerpt, error) = match outcome {
            Ok((status, excerpt)) if (200..300).contains(&status) => (Some(status), excerpt, None),
            Ok((status, excerpt)) => (Some(status), excerpt, Some(format!("the target answered {status}"))),
            Err(error) => (None, None, Some(error)),
        };
        let verdict =
            if error.is_none() { Verdict::Delivered } else { next_attempt(route, claimed.lease.attempt) };
        Attempted {
            report: AttemptReport { started_at, duration_ms, status, error, response_excerpt: excerpt },
            verdict,
        }
    }
}

/// The schedule's delay for the attempt after `attempt` (1-based), or dead-letter
/// when the schedule is used up.
fn next_attempt(route: Option<&Route>, attempt: u32) -> Verdict {
    let schedule = route.map(|r| r.schedule.as_slice()).unwrap_or_default();
    match schedule.get(usize::try_from(attempt).unwrap_or(usize::MAX)) {
        Some(delay) => Verdict::RetryAt(SystemClock.now().plus(delay.get())),
        None => Verdict::DeadLetter,
    }
}
