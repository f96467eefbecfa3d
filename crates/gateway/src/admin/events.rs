//! `GET /v1/events[?source=&status=]`, `GET /v1/events/{id}` and
//! `POST /v1/events/{id}/replay`: inbound webhooks and their forwards.

use std::collections::BTreeMap;

use axum::{
    Json,
    extract::{Path, State},
    response::{IntoResponse, Response},
};
use http::StatusCode;
use junction_store::{JobState, Record, RecordFilter, RecordKind, RecordStatus};
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
    /// Only events from this source.
    #[param(max_length = 200)]
    source: Option<String>,
    /// Only events whose forwards stand here.
    #[param(value_type = Option<EventStatus>)]
    status: Option<String>,
    /// Only events received at or after this RFC 3339 time.
    #[param(format = DateTime)]
    since: Option<String>,
    /// The `next` cursor of the previous page.
    #[param(format = Uuid)]
    after: Option<String>,
    /// Page size.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

/// Where an event's forwards stand, over all of them.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum EventStatus {
    /// A forward is still to be delivered.
    Pending,
    /// Every forward was delivered.
    Delivered,
    /// No forward is pending and at least one was dead-lettered.
    Dead,
    /// The source has no forward targets.
    Stored,
}

impl From<RecordStatus> for EventStatus {
    fn from(status: RecordStatus) -> Self {
        match status {
            RecordStatus::Pending => Self::Pending,
            RecordStatus::Delivered => Self::Delivered,
            RecordStatus::Dead => Self::Dead,
            RecordStatus::Stored => Self::Stored,
        }
    }
}

/// An inbound webhook.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Event {
    /// The id answered to the provider; `Junction-Event-Id` and `webhook-id` on every forward.
    id: String,
    /// The source it came in on.
    source: String,
    status: EventStatus,
    /// When it was received, in milliseconds since the Unix epoch.
    received_at_ms: i64,
    /// The provider's delivery id (or a body hash), used to drop duplicates.
    delivery_id: Option<String>,
}

/// An inbound webhook with its content and forwards.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EventDetail {
    #[serde(flatten)]
    event: Event,
    /// The provider's headers as received.
    headers: BTreeMap<String, String>,
    /// The body as received (lossily decoded as UTF-8).
    body: String,
    /// One per forward target.
    forwards: Vec<Forward>,
}

/// Where a forward stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ForwardState {
    /// Waiting until it is due.
    Ready,
    /// Being attempted now.
    Leased,
    /// Delivered.
    Delivered,
    /// Given up on.
    Dead,
}

/// One forward of an event and its attempts.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Forward {
    /// The forward's id.
    id: String,
    /// Where it goes.
    target: String,
    state: ForwardState,
    /// Attempts made so far.
    attempts: u32,
    /// When the next attempt is due, in milliseconds since the Unix epoch.
    next_attempt_at_ms: i64,
    /// The last failure.
    last_error: Option<String>,
    /// Every attempt, oldest first.
    attempt_log: Vec<AttemptView>,
}

/// A page of events, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EventPage {
    data: Vec<Event>,
    /// Pass as `after` for the next page; null on the last.
    next: Option<String>,
}

/// The answer to a replay.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Replayed {
    id: String,
    /// How many forwards were queued again.
    replayed_forwards: usize,
}

/// Lists inbound webhooks.
#[utoipa::path(
    get, path = "/v1/events", operation_id = "listEvents", tag = "events", params(ListQuery),
    responses((status = 200, description = "A page of events", body = EventPage)),
    security(("bearer" = ["read"]))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Response, Problem> {
    let status = match q.status.as_deref() {
        None => None,
        Some("pending") => Some(RecordStatus::Pending),
        Some("delivered") => Some(RecordStatus::Delivered),
        Some("dead") => Some(RecordStatus::Dead),
        Some("stored") => Some(RecordStatus::Stored),
        Some(other) => {
            let shown: String = other.chars().take(32).collect();
            return Err(paging::invalid_query(format!(
                "`status` must be pending, delivered, dead or stored, not `{shown}`"
            )));
        }
    };
    let page = paging::page(q.after.as_deref(), q.limit.as_deref(), 50)?;
    let filter = RecordFilter {
        kind: Some(RecordKind::Event),
        topic: paging::text("source", q.source.as_deref())?.map(str::to_owned),
        status,
        since: paging::time("since", q.since.as_deref())?,
        ..Default::default()
    };
    let (data, next) = paging::fetch(&state, &filter, page, summary).await?;
    Ok(Json(EventPage { data, next }).into_response())
}

/// An event with its forwards and their attempts.
#[utoipa::path(
    get, path = "/v1/events/{id}", operation_id = "getEvent", tag = "events",
    params(("id" = String, Path, description = "The event's id")),
    responses(
        (status = 200, description = "The event, its content and forwards", body = EventDetail),
        (status = 404, description = "No such event", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["read"]))
)]
pub(crate) async fn get(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, Problem> {
    let record = find(&state, &id).await?;
    let store = state.store();
    let mut forwards = Vec::new();
    for job in store.jobs(record.id).await.map_err(|e| store_failed(&e))? {
        let attempts = store.attempts(job.id).await.map_err(|e| store_failed(&e))?;
        forwards.push(Forward {
            id: job.id.to_string(),
            target: job.target,
            state: match job.state {
                JobState::Ready => ForwardState::Ready,
                JobState::Leased => ForwardState::Leased,
                JobState::Delivered => ForwardState::Delivered,
                JobState::Dead => ForwardState::Dead,
            },
            attempts: job.attempts,
            next_attempt_at_ms: job.due_at.millis(),
            last_error: job.last_error,
            attempt_log: super::attempt_log(&attempts),
        });
    }
    Ok(Json(EventDetail {
        event: summary(&record),
        headers: record.headers.iter().cloned().collect(),
        body: String::from_utf8_lossy(&record.body).into_owned(),
        forwards,
    })
    .into_response())
}

/// Re-drives every forward of the event now.
#[utoipa::path(
    post, path = "/v1/events/{id}/replay", operation_id = "replayEvent", tag = "events",
    params(("id" = String, Path, description = "The event's id")),
    responses(
        (status = 202, description = "Its forwards are queued again", body = Replayed),
        (status = 404, description = "No such event", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["write"]))
)]
pub(crate) async fn replay(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let record = find(&state, &id).await?;
    let replayed_forwards = state.store().redrive(record.id).await.map_err(|e| store_failed(&e))?;
    Ok((StatusCode::ACCEPTED, Json(Replayed { id: record.id.to_string(), replayed_forwards }))
        .into_response())
}

fn summary(record: &Record) -> Event {
    Event {
        id: record.id.to_string(),
        source: record.topic.clone(),
        status: record.status.into(),
        received_at_ms: record.created_at.millis(),
        delivery_id: record.dedupe_key.clone(),
    }
}

async fn find(state: &AppState, id: &str) -> Result<Record, Problem> {
    super::find_record(state, id, RecordKind::Event, ("event-not-found", "Event Not Found", "event")).await
}
