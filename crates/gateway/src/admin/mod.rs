//! The `/v1` management API: how operators and the application see and
//! steer Junction. Every route sits behind [`gate::gate`] (bearer
//! credentials with scopes, per-credential rate limits with draft-10
//! headers, `Idempotency-Key` on POSTs, audit of changes); the OpenAPI 3.1
//! document of it all is generated from these handlers ([`openapi`]).

mod audit;
mod caller;
mod deliveries;
mod dependencies;
mod events;
mod gate;
mod idempotency;
mod openapi;
mod paging;
mod rate_limit;
mod stored_keys;

use std::sync::Arc;

use axum::{
    Router, middleware,
    routing::{get, post},
};
use http::StatusCode;
use junction_manifest::Manifest;
use junction_store::{Attempt, Record, RecordId, RecordKind, Store};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{problem::Problem, state::AppState};

/// What the management API keeps between requests.
#[derive(Debug)]
pub(crate) struct Admin {
    authenticator: caller::Authenticator,
    limits: rate_limit::RateLimits,
}

impl Admin {
    pub(crate) fn new(manifest: &Manifest, store: Arc<dyn Store>) -> Self {
        let limit = &manifest.admin.rate_limit;
        Self {
            authenticator: caller::Authenticator::new(&manifest.admin, store),
            limits: rate_limit::RateLimits::new(limit.requests, limit.per.get()),
        }
    }
}

/// The `/v1` routes, each behind [`gate::gate`], and the public `/openapi.json`.
pub(crate) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/audit", get(audit::list))
        .route("/v1/dependencies", get(dependencies::list))
        .route("/v1/deliveries", get(deliveries::list))
        .route("/v1/deliveries/{id}", get(deliveries::get))
        .route("/v1/deliveries/{id}/retry", post(deliveries::retry))
        .route("/v1/queues", get(dependencies::queues))
        .route("/v1/events", get(events::list))
        .route("/v1/events/{id}", get(events::get))
        .route("/v1/events/{id}/replay", post(events::replay))
        .route_layer(middleware::from_fn_with_state(state, gate::gate))
        .route("/openapi.json", get(openapi::document))
}

/// The record `id` of `kind`, or a 404 problem (`slug`, `title`, `what`
/// name the kind to the caller) — also for ids that are not ids at all.
pub(crate) async fn find_record(
    state: &AppState,
    id: &str,
    kind: RecordKind,
    (slug, title, what): (&str, &'static str, &str),
) -> Result<Record, Problem> {
    let not_found = || {
        let shown: String = id.chars().take(64).collect();
        Problem::new(StatusCode::NOT_FOUND, slug, title, format!("No {what} has the id `{shown}`."))
    };
    let id: RecordId = id.parse().map_err(|_| not_found())?;
    match state.store().record(id).await {
        Ok(Some(record)) if record.kind == kind => Ok(record),
        Ok(_) => Err(not_found()),
        Err(error) => Err(store_failed(&error)),
    }
}

/// Logs a store failure and gives the caller a 500 problem without its details.
pub(crate) fn store_failed(error: &junction_store::StoreError) -> Problem {
    tracing::error!(%error, "The store failed a management request.");
    Problem::internal()
}

/// One delivery attempt, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AttemptView {
    /// 1 for the first attempt.
    number: u32,
    /// When it started, in milliseconds since the Unix epoch.
    started_at_ms: i64,
    /// How long it took.
    duration_ms: u64,
    /// The HTTP status answered, if an answer came.
    status: Option<u16>,
    /// Why it failed, if it did.
    error: Option<String>,
    /// The start of the answer's body.
    response_excerpt: Option<String>,
}

/// A job's attempt log as the API shows it.
pub(crate) fn attempt_log(attempts: &[Attempt]) -> Vec<AttemptView> {
    attempts
        .iter()
        .map(|a| AttemptView {
            number: a.number,
            started_at_ms: a.report.started_at.millis(),
            duration_ms: a.report.duration_ms,
            status: a.report.status,
            error: a.report.error.clone(),
            response_excerpt: a.report.response_excerpt.clone(),
        })
        .collect()
}
