//! `GET /v1/audit[?dependency=&after=&limit=]`: the audit log, newest first.

use axum::{
    Json,
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use http::StatusCode;
use junction_store::{PageRequest, RecordFilter, RecordId, RecordKind};
use serde::Deserialize;
use serde_json::json;

use crate::{problem::Problem, state::AppState};

/// Query of the audit log.
#[derive(Debug, Deserialize)]
pub(crate) struct AuditQuery {
    dependency: Option<String>,
    after: Option<String>,
    limit: Option<String>,
}

pub(crate) async fn list(State(state): State<AppState>, Query(q): Query<AuditQuery>) -> Response {
    let bad = |detail: &str| {
        Problem::new(StatusCode::BAD_REQUEST, "invalid-query", "Invalid Query", detail.to_owned())
            .into_response()
    };
    let after = match q.after.as_deref().map(str::parse::<RecordId>) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return bad("`after` must be an entry id (the `next` of a previous page)"),
    };
    let limit = match q.limit.as_deref().map(str::parse::<usize>) {
        None => 100,
        Some(Ok(n)) => n.clamp(1, 1000),
        Some(Err(_)) => return bad("`limit` must be a number from 1 to 1000"),
    };
    let filter =
        RecordFilter { kind: Some(RecordKind::Audit), topic: q.dependency, ..Default::default() };
    match state.store().records(&filter, PageRequest { after, limit }).await {
        Ok(page) => {
            let data: Vec<_> = page
                .items
                .iter()
                .map(|r| {
                    let mut entry = r.meta.clone();
                    entry["id"] = json!(r.id);
                    entry["at_ms"] = json!(r.created_at.millis());
                    if !r.body.is_empty() {
                        entry["request_body"] = json!(String::from_utf8_lossy(&r.body));
                    }
                    entry
                })
                .collect();
            Json(json!({ "data": data, "next": page.next })).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "Cannot read the audit log.");
            Problem::internal().into_response()
        }
    }
}
