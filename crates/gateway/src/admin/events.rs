//! `GET /v1/events/{id}` and `POST /v1/events/{id}/replay`.

use axum::{
    Json,
    extract::{Path, State},
    response::{IntoResponse, Response},
};
use http::StatusCode;
use junction_store::{Record, RecordKind};
use serde_json::json;

use crate::{problem::Problem, state::AppState};

/// An event with its forwards and their attempts.
pub(crate) async fn get(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let record = match find(&state, &id).await {
        Ok(record) => record,
        Err(problem) => return problem.into_response(),
    };
    let store = state.store();
    let mut forwards = Vec::new();
    let jobs = match store.jobs(record.id).await {
        Ok(jobs) => jobs,
        Err(error) => return store_failed(&error),
    };
    for job in jobs {
        let attempts = match store.attempts(job.id).await {
            Ok(attempts) => attempts,
            Err(error) => return store_failed(&error),
        };
        let attempts = super::attempt_log(&attempts);
        forwards.push(json!({
            "id": job.id,
            "target": job.target,
            "state": job.state,
            "attempts": job.attempts,
            "next_attempt_at_ms": job.due_at.millis(),
            "last_error": job.last_error,
            "attempt_log": attempts,
        }));
    }
    Json(json!({
        "id": record.id,
        "source": record.topic,
        "status": record.status,
        "received_at_ms": record.created_at.millis(),
        "delivery_id": record.dedupe_key,
        "headers": record.headers,
        "body": String::from_utf8_lossy(&record.body),
        "forwards": forwards,
    }))
    .into_response()
}

/// Re-drives every forward of the event now.
pub(crate) async fn replay(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let record = match find(&state, &id).await {
        Ok(record) => record,
        Err(problem) => return problem.into_response(),
    };
    match state.store().redrive(record.id).await {
        Ok(jobs) => (StatusCode::ACCEPTED, Json(json!({ "id": record.id, "replayed_forwards": jobs })))
            .into_response(),
        Err(error) => store_failed(&error),
    }
}

async fn find(state: &AppState, id: &str) -> Result<Record, Problem> {
    super::find_record(state, id, RecordKind::Event, ("event-not-found", "Event Not Found", "event")).await
}

fn store_failed(error: &junction_store::StoreError) -> Response {
    tracing::error!(%error, "Cannot read from the store.");
    Problem::internal().into_response()
}
