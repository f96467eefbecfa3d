//! `GET /v1/deliveries[?status=]`, `GET /v1/deliveries/{id}`,
//! `POST /v1/deliveries/{id}/retry`: calls queued with `fallback = "queue"`.

use axum::{
    Json,
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use http::StatusCode;
use junction_store::{PageRequest, Record, RecordFilter, RecordId, RecordKind, RecordStatus};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{problem::Problem, state::AppState};

/// Query of the list.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    status: Option<String>,
    dependency: Option<String>,
    after: Option<String>,
    limit: Option<String>,
}

pub(crate) async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> Response {
    let status = match q.status.as_deref() {
        None => None,
        Some("queued" | "pending") => Some(RecordStatus::Pending),
        Some("delivered") => Some(RecordStatus::Delivered),
        Some("dead") => Some(RecordStatus::Dead),
        Some(other) => {
            let shown: String = other.chars().take(32).collect();
            return bad_request(format!("`status` must be queued, delivered or dead, not `{shown}`"));
        }
    };
    let after = match q.after.as_deref().map(str::parse::<RecordId>) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            return bad_request("`after` must be a delivery id (the `next` of a previous page)".into());
        }
    };
    let filter = RecordFilter { kind: Some(RecordKind::Call), topic: q.dependency, status, ..Default::default() };
    let limit = match q.limit.as_deref().map(str::parse::<usize>) {
        None => 50,
        Some(Ok(n)) => n.clamp(1, 1000),
        Some(Err(_)) => return bad_request("`limit` must be a number from 1 to 1000".into()),
    };
    let page = PageRequest { after, limit };
    match state.store().records(&filter, page).await {
        Ok(page) => Json(json!({
            "data": page.items.iter().map(summary).collect::<Vec<_>>(),
            "next": page.next,
        }))
        .into_response(),
        Err(error) => {
            tracing::error!(%error, "Cannot list deliveries.");
            Problem::internal().into_response()
        }
    }
}

pub(crate) async fn get(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let record = match find(&state, &id).await {
        Ok(record) => record,
        Err(problem) => return problem.into_response(),
    };
    let mut out = summary(&record);
    let store = state.store();
    let job = match store.jobs(record.id).await {
        Ok(jobs) => jobs.into_iter().next(),
        Err(error) => {
            tracing::error!(%error, "Cannot read a delivery's job.");
            return Problem::internal().into_response();
        }
    };
    if let Some(job) = job {
        let attempts = match store.attempts(job.id).await {
            Ok(attempts) => attempts,
            Err(error) => {
                tracing::error!(%error, "Cannot read a delivery's attempts.");
                return Problem::internal().into_response();
            }
        };
        out["attempts"] = json!(job.attempts);
        out["next_attempt_at_ms"] = json!(job.due_at.millis());
        out["last_error"] = json!(job.last_error);
        out["attempt_log"] = super::attempt_log(&attempts);
    }
    Json(out).into_response()
}

pub(crate) async fn retry(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let record = match find(&state, &id).await {
        Ok(record) => record,
        Err(problem) => return problem.into_response(),
    };
    match state.store().redrive(record.id).await {
        Ok(_) => (StatusCode::ACCEPTED, Json(json!({ "id": record.id, "status": "queued" }))).into_response(),
        Err(error) => {
            tracing::error!(%error, "Cannot re-drive a delivery.");
            Problem::internal().into_response()
        }
    }
}

fn summary(record: &Record) -> Value {
    let status = match record.status {
        RecordStatus::Pending | RecordStatus::Stored => "queued",
        RecordStatus::Delivered => "delivered",
        RecordStatus::Dead => "dead",
    };
    json!({
        "id": record.id,
        "dependency": record.topic,
        "status": status,
        "queued_at_ms": record.created_at.millis(),
        "method": record.meta.get("method"),
        "path": record.meta.get("path"),
        "idempotency_key": record.meta.get("idempotency_key"),
    })
}

async fn find(state: &AppState, id: &str) -> Result<Record, Problem> {
    super::find_record(
        state,
        id,
        RecordKind::Call,
        ("delivery-not-found", "Delivery Not Found", "queued call"),
    )
    .await
}

fn bad_request(detail: String) -> Response {
    Problem::new(StatusCode::BAD_REQUEST, "invalid-query", "Invalid Query", detail).into_response()
}
