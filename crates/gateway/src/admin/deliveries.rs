//! `GET /v1/deliveries[?status=&dependency=]`, `GET /v1/deliveries/{id}`,
//! `POST /v1/deliveries/{id}/retry`: calls queued with `fallback = "queue"`.

use axum::{
    Json,
    extract::{Path, State},
    response::{IntoResponse, Response},
};
use http::StatusCode;
use junction_store::{Record, RecordFilter, RecordKind, RecordStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    AttemptView,
    paging::{self, ApiQuery},
    store_failed,
};
use crate::{problem::Problem, state::AppState};

/// Filters and cursor of the list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only deliveries in this state.
    #[param(value_type = Option<DeliveryStatus>)]
    status: Option<String>,
    /// Only calls to this dependency.
    #[param(max_length = 200)]
    dependency: Option<String>,
    /// The `next` cursor of the previous page.
    #[param(format = Uuid)]
    after: Option<String>,
    /// Page size.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

/// Where a queued call stands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DeliveryStatus {
    /// Waiting for (another) attempt.
    Queued,
    /// The dependency answered.
    Delivered,
    /// Given up on: `max_age` or `max_attempts` reached.
    Dead,
}

/// A queued call.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Delivery {
    /// Its id (also in the `Location` of the 202 that queued it).
    id: String,
    /// The dependency it goes to.
    dependency: String,
    status: DeliveryStatus,
    /// When it was queued, in milliseconds since the Unix epoch.
    queued_at_ms: i64,
    /// The HTTP method of the call.
    method: Option<String>,
    /// Path and query below the dependency's `base_url`.
    path: Option<String>,
    /// The key sent on every attempt.
    idempotency_key: Option<String>,
}

/// A queued call with its attempts.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeliveryDetail {
    #[serde(flatten)]
    delivery: Delivery,
    /// Attempts made so far.
    attempts: u32,
    /// When the next attempt is due, in milliseconds since the Unix epoch.
    next_attempt_at_ms: i64,
    /// The last failure.
    last_error: Option<String>,
    /// Every attempt, oldest first.
    attempt_log: Vec<AttemptView>,
}

/// A page of queued calls, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeliveryPage {
    data: Vec<Delivery>,
    /// Pass as `after` for the next page; null on the last.
    next: Option<String>,
}

/// The answer to a retry.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Retried {
    id: String,
    status: DeliveryStatus,
}

/// Lists queued calls.
#[utoipa::path(
    get, path = "/v1/deliveries", operation_id = "listDeliveries", tag = "deliveries", params(ListQuery),
    responses((status = 200, description = "A page of queued calls", body = DeliveryPage)),
    security(("bearer" = ["read"]))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Response, Problem> {
    let status = match q.status.as_deref() {
        None => None,
        Some("queued" | "pending") => Some(RecordStatus::Pending),
        Some("delivered") => Some(RecordStatus::Delivered),
        Some("dead") => Some(RecordStatus::Dead),
        Some(other) => {
            let shown: String = other.chars().take(32).collect();
            return Err(paging::invalid_query(format!(
                "`status` must be queued, delivered or dead, not `{shown}`"
            )));
        }
    };
    let page = paging::page(q.after.as_deref(), q.limit.as_deref(), 50)?;
    let topic = paging::text("dependency", q.dependency.as_deref())?.map(str::to_owned);
    let filter = RecordFilter { kind: Some(RecordKind::Call), topic, status, ..Default::default() };
    let (data, next) = paging::fetch(&state, &filter, page, summary).await?;
    Ok(Json(DeliveryPage { data, next }).into_response())
}

/// One queued call with its attempt log.
#[utoipa::path(
    get, path = "/v1/deliveries/{id}", operation_id = "getDelivery", tag = "deliveries",
    params(("id" = String, Path, description = "The delivery's id")),
    responses(
        (status = 200, description = "The call and its attempts", body = DeliveryDetail),
        (status = 404, description = "No such delivery", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["read"]))
)]
pub(crate) async fn get(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, Problem> {
    let record = find(&state, &id).await?;
    let store = state.store();
    let job = store.jobs(record.id).await.map_err(|e| store_failed(&e))?.into_iter().next();
    let (attempts, next_attempt_at_ms, last_error, attempt_log) = match job {
        Some(job) => {
            let log = store.attempts(job.id).await.map_err(|e| store_failed(&e))?;
            (job.attempts, job.due_at.millis(), job.last_error, super::attempt_log(&log))
        }
        None => (0, record.created_at.millis(), None, Vec::new()),
    };
    Ok(Json(DeliveryDetail {
        delivery: summary(&record),
        attempts,
        next_attempt_at_ms,
        last_error,
        attempt_log,
    })
    .into_response())
}

/// Queues a call again now, also a dead one.
#[utoipa::path(
    post, path = "/v1/deliveries/{id}/retry", operation_id = "retryDelivery", tag = "deliveries",
    params(("id" = String, Path, description = "The delivery's id")),
    responses(
        (status = 202, description = "Queued again", body = Retried),
        (status = 404, description = "No such delivery", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["write"]))
)]
pub(crate) async fn retry(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let record = find(&state, &id).await?;
    state.store().redrive(record.id).await.map_err(|e| store_failed(&e))?;
    Ok((StatusCode::ACCEPTED, Json(Retried { id: record.id.to_string(), status: DeliveryStatus::Queued }))
        .into_response())
}

fn summary(record: &Record) -> Delivery {
    let status = match record.status {
        RecordStatus::Pending | RecordStatus::Stored => DeliveryStatus::Queued,
        RecordStatus::Delivered => DeliveryStatus::Delivered,
        RecordStatus::Dead => DeliveryStatus::Dead,
    };
    let text = |key: &str| record.meta.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    Delivery {
        id: record.id.to_string(),
        dependency: record.topic.clone(),
        status,
        queued_at_ms: record.created_at.millis(),
        method: text("method"),
        path: text("path"),
        idempotency_key: text("idempotency_key"),
    }
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
