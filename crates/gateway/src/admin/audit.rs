//! `GET /v1/audit`: the audit log, newest first, filtered by time range,
//! kind, dependency or source, status and caller.

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use junction_store::{Record, RecordFilter, RecordKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::paging::{self, ApiQuery};
use crate::{audit::AuditKind, problem::Problem, state::AppState};

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
    let mut meta = Vec::new();
    if let Some(kind) = q.kind.as_deref() {
        let kind = AuditKind::parse(kind)
            .ok_or_else(|| paging::invalid_query("`kind` must be proxy, management or webhook"))?;
        meta.push(("kind".to_owned(), kind.as_str().to_owned()));
    }
    let dependency = paging::text("dependency", q.dependency.as_deref())?;
    let source = paging::text("source", q.source.as_deref())?;
    let topic = match (dependency, source) {
        // Filters combine with AND: no entry is both a proxied call and a refused webhook.
        (Some(_), Some(_)) => return Ok(Json(AuditPage { data: Vec::new(), next: None }).into_response()),
        (Some(dependency), None) => {
            meta.push(("kind".to_owned(), AuditKind::Proxy.as_str().to_owned()));
            Some(dependency.to_owned())
        }
        (None, Some(source)) => {
            meta.push(("kind".to_owned(), AuditKind::Webhook.as_str().to_owned()));
            Some(source.to_owned())
        }
        (None, None) => None,
    };
    if let Some(status) = q.status.as_deref() {
        match status.parse::<u16>() {
            Ok(code @ 100..=599) => meta.push(("status".to_owned(), code.to_string())),
            _ => return Err(paging::invalid_query("`status` must be an HTTP status from 100 to 599")),
        }
    }
    if let Some(caller) = paging::text("caller", q.caller.as_deref())? {
        meta.push(("caller".to_owned(), caller.to_owned()));
    }
    let filter = RecordFilter {
        kind: Some(RecordKind::Audit),
        topic,
        since: paging::time("since", q.since.as_deref())?,
        until: paging::time("until", q.until.as_deref())?,
        meta,
        ..Default::default()
    };
    let (data, next) = paging::fetch(&state, &filter, page, view).await?;
    Ok(Json(AuditPage { data, next }).into_response())
}

fn view(record: &Record) -> AuditEntryView {
    let meta = &record.meta;
    let text = |key: &str| meta.get(key).and_then(Value::as_str).map(str::to_owned);
    // Entries written before `kind` existed were all proxied calls.
    let kind =
        meta.get("kind").and_then(Value::as_str).and_then(AuditKind::parse).unwrap_or(AuditKind::Proxy);
    AuditEntryView {
        id: record.id.to_string(),
        at_ms: record.created_at.millis(),
        dependency: (kind == AuditKind::Proxy).then(|| record.topic.clone()),
        source: (kind == AuditKind::Webhook).then(|| record.topic.clone()),
        kind,
        topic: record.topic.clone(),
        caller: text("caller").unwrap_or_default(),
        method: text("method").unwrap_or_default(),
        path: text("path").unwrap_or_default(),
        status: meta.get("status").and_then(Value::as_u64).and_then(|s| u16::try_from(s).ok()),
        outcome: text("outcome").unwrap_or_default(),
        attempts: meta
            .get("attempts")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        latency_ms: meta.get("latency_ms").and_then(Value::as_f64).unwrap_or(0.0),
        request_id: text("request_id"),
        idempotency_key: text("idempotency_key"),
        request_body: (!record.body.is_empty()).then(|| String::from_utf8_lossy(&record.body).into_owned()),
    }
}
