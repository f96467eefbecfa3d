//! The `/v1` management API. Today: inbound events (inspect, replay) and
//! queued calls (list, inspect, retry), behind bearer keys from `[admin] api_keys`.

mod audit;
mod auth;
mod deliveries;
mod events;

use axum::{
    Router, middleware,
    routing::{get, post},
};
use http::StatusCode;
use junction_store::{Attempt, Record, RecordId, RecordKind};
use serde_json::{Value, json};

use crate::{problem::Problem, state::AppState};

/// The `/v1` routes, each behind [`auth::require_key`].
pub(crate) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/audit", get(audit::list))
        .route("/v1/deliveries", get(deliveries::list))
        .route("/v1/deliveries/{id}", get(deliveries::get))
        .route("/v1/deliveries/{id}/retry", post(deliveries::retry))
        .route("/v1/events/{id}", get(events::get))
        .route("/v1/events/{id}/replay", post(events::replay))
        .route_layer(middleware::from_fn_with_state(state, auth::require_key))
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
        Err(error) => {
            tracing::error!(%error, "Cannot read a record from the store.");
            Err(Problem::internal())
        }
    }
}

/// A job's attempt log as the API shows it.
pub(crate) fn attempt_log(attempts: &[Attempt]) -> Value {
    attempts
        .iter()
        .map(|a| {
            json!({
                "number": a.number,
                "started_at_ms": a.report.started_at.millis(),
                "duration_ms": a.report.duration_ms,
                "status": a.report.status,
                "error": a.report.error,
                "response_excerpt": a.report.response_excerpt,
            })
        })
        .collect()
}
