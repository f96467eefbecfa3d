//! `GET /v1/audit`: the audit log, newest first, filtered by time range,
//! kind, dependency or source, status and caller.

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use junction_store::{AuditEntry, AuditFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paging::{self, ApiQuery};
use crate::{
    audit::{AuditDetail, AuditKind},
    problem::Problem,
    state::AppState,
};

/// Filters and cursor of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// Only entries at or after this RFC 3339 time.
    #[param(format = DateTime)]
    since: Option<String>,
    /// Only entries before this RFC 3339 time.
    #[param(format = DateTime)]
    until: Option<String>,
    /// Only entries of this kind.
    #[param(value_type = Option<AuditKind>)]
    kind: Option<String>,
    /// Only calls to this dependency.
    #[param(max_length = 200)]
    dependency: Option<String>,
    /// Only refused webhooks of this source.
    #[param(max_length = 200)]
    source: Option<String>,
    /// Only entries with this HTTP status.
    #[param(value_type = Option<u16>, minimum = 100, maximum = 599)]
    status: Option<String>,
    /// Only entries of this caller: a credential id for management actions, a client address for calls.
    #[param(max_length = 200)]
    caller: Option<String>,
    /// The `next` cursor of the previous page.
    #[param(format = Uuid)]
    after: Option<String>,
    /// Page size.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

/// One audited action.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditEntryView {
    /// The entry's id.
    id: String,
    /// When it happened, in milliseconds since the Unix epoch.
    at_ms: i64,
    kind: AuditKind,
    /// The dependency, source, or `admin` for management actions.
    topic: String,
    /// The dependency, for proxied calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    dependency: Option<String>,
    /// The source, for refused webhooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    /// Who: the credential id (never the credential) or the client address.
    caller: String,
    /// HTTP method.
    method: String,
    /// Path and query.
    path: String,
    /// The status answered, if one was.
    status: Option<u16>,
    /// How it ended, e.g. `success`, `server_error`, `queued`, `bad_signature`.
    outcome: String,
    /// Attempts made (proxied calls).
    attempts: u32,
    /// How long it took.
    latency_ms: f64,
    /// The request's `x-request-id`.
    request_id: Option<String>,
    /// The idempotency key the request carried or was given.
    idempotency_key: Option<String>,
    /// The request body after `redact`, when `audit_bodies` is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_body: Option<String>,
}

/// A page of audit entries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditPage {
    data: Vec<AuditEntryView>,
    /// Pass as `after` for the next page; null on the last.
    next: Option<String>,
}

/// Lists audit entries.
#[utoipa::path(
    get, path = "/v1/audit", operation_id = "listAuditEntries", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "A page of audit entries", body = AuditPage)),
    security(("bearer" = ["admin"]))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Response, Problem> {
    let page = paging::page(q.after.as_deref(), q.limit.as_deref(), 100)?;
    let mut kind = match q.kind.as_deref() {
        None => None,
        Some(kind) => Some(
            AuditKind::parse(kind)
                .ok_or_else(|| paging::invalid_query("`kind` must be proxy, management or webhook"))?,
        ),
    };
    let dependency = paging::text("dependency", q.dependency.as_deref())?;
    let source = paging::text("source", q.source.as_deref())?;
    let topic = match (dependency, source) {
        // Filters combine with AND: no entry is both a proxied call and a refused webhook.
        (Some(_), Some(_)) => return Ok(Json(AuditPage { data: Vec::new(), next: None }).into_response()),
        (Some(topic), None) | (None, Some(topic)) => {
            let implied = if dependency.is_some() { AuditKind::Proxy } else { AuditKind::Webhook };
            if kind.is_some_and(|k| k != implied) {
                return Ok(Json(AuditPage { data: Vec::new(), next: None }).into_response());
            }
            kind = Some(implied);
            Some(topic.to_owned())
        }
        (None, None) => None,
    };
    let status = match q.status.as_deref() {
        None => None,
        Some(status) => match status.parse::<u16>() {
            Ok(code @ 100..=599) => Some(code),
            _ => return Err(paging::invalid_query("`status` must be an HTTP status from 100 to 599")),
        },
    };
    let filter = AuditFilter {
        kind: kind.map(|k| k.as_str().to_owned()),
        topic,
        status,
        caller: paging::text("caller", q.caller.as_deref())?.map(str::to_owned),
        since: paging::time("since", q.since.as_deref())?,
        until: paging::time("until", q.until.as_deref())?,
    };
    let found = state.store().audit(&filter, page).await.map_err(|e| super::store_failed(&e))?;
    let data = found.items.into_iter().map(view).collect();
    Ok(Json(AuditPage { data, next: found.next.map(|id| id.to_string()) }).into_response())
}

fn view(entry: AuditEntry) -> AuditEntryView {
    // A detail that does not parse (it never should) still shows the columns.
    let detail: AuditDetail = serde_json::from_str(&entry.detail).unwrap_or_default();
    let kind = AuditKind::parse(&entry.kind).unwrap_or(AuditKind::Proxy);
    AuditEntryView {
        id: entry.id.to_string(),
        at_ms: entry.at.millis(),
        dependency: (kind == AuditKind::Proxy).then(|| entry.topic.clone()),
        source: (kind == AuditKind::Webhook).then(|| entry.topic.clone()),
        kind,
        topic: entry.topic,
        caller: entry.caller,
        method: detail.method,
        path: detail.path,
        status: entry.status,
        outcome: detail.outcome,
        attempts: detail.attempts,
        latency_ms: detail.latency_ms,
        request_id: detail.request_id,
        idempotency_key: detail.idempotency_key,
        request_body: entry.body.filter(|b| !b.is_empty()).map(|b| String::from_utf8_lossy(&b).into_owned()),
    }
}
