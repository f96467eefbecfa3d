//! The middleware in front of every `/v1` route: authenticate, count the
//! request against its credential's rate limit, check the route's scope,
//! run POSTs under their `Idempotency-Key`, and audit what changes state.

use std::{net::SocketAddr, time::Instant};

use axum::{
    extract::{ConnectInfo, MatchedPath, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, Method, StatusCode, header};
use junction_identity::Scope;

use super::{
    caller::{Caller, Unauthenticated},
    idempotency,
};
use crate::{
    audit::{AuditEntry, AuditKind},
    problem::Problem,
    state::AppState,
};

/// The audit topic of management actions.
pub(crate) const AUDIT_TOPIC: &str = "admin";

/// Runs a `/v1` request through authentication, rate limit, scope and idempotency.
pub(crate) async fn gate(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let admin = state.admin();
    let identity = admin.authenticator.authenticate(request.headers()).await;
    // Before a credential is known, the client's address is what is limited.
    let decision = match &identity {
        Ok(caller) => admin.limits.check(&caller.id),
        Err(_) => admin.limits.check(&format!("ip:{}", peer.ip())),
    };
    let mut response = if !decision.allowed {
        Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too Many Requests",
            format!(
                "This credential used its quota of management requests; retry in {} s.",
                decision.reset_secs
            ),
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from(decision.reset_secs))
        .into_response()
    } else {
        match identity {
            Err(why) => unauthorized(why),
            Ok(caller) => {
                let needed = required_scope(&request);
                if caller.scope.allows(needed) {
                    let audited = mutating(request.method()).then(|| Pending::new(&request, &caller));
                    let response = idempotency::guard(&state, &caller, request, next).await;
                    if let Some(pending) = audited {
                        pending.finish(&state, response.status(), started);
                    }
                    response
                } else {
                    forbidden(&caller, needed)
                }
            }
        }
    };
    admin.limits.annotate(response.headers_mut(), decision);
    response
}

/// The scope a route needs: reads need `read`, changes `write`, and the
/// audit log (which shows who did what) `admin`.
fn required_scope(request: &Request) -> Scope {
    let path =
        request.extensions().get::<MatchedPath>().map_or_else(|| request.uri().path(), MatchedPath::as_str);
    if path.starts_with("/v1/audit") {
        Scope::Admin
    } else if matches!(*request.method(), Method::GET | Method::HEAD) {
        Scope::Read
    } else {
        Scope::Write
    }
}

fn mutating(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn unauthorized(why: Unauthenticated) -> Response {
    let detail = match why {
        Unauthenticated::Missing => {
            "Send `Authorization: Bearer <credential>`: a key from `[admin] api_keys`, a key made by \
             `junction keys create`, or a token from the `[admin] jwt` identity provider."
                .to_owned()
        }
        Unauthenticated::Invalid(reason) => reason,
        Unauthenticated::KeysUnavailable => {
            return Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "identity-provider-unavailable",
                "Identity Provider Unavailable",
                "The token cannot be checked now: the identity provider's keys (JWKS) cannot be fetched. Retry shortly.",
            )
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("5"))
            .into_response();
        }
    };
    Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized", detail)
        .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
        .into_response()
}

fn forbidden(caller: &Caller, needed: Scope) -> Response {
    Problem::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "Forbidden",
        format!("This route needs the `{needed}` scope; credential `{}` has `{}`.", caller.id, caller.scope),
    )
    .into_response()
}

/// A management action whose outcome is audited once it is known.
struct Pending {
    method: String,
    path: String,
    caller: String,
    request_id: Option<String>,
    idempotency_key: Option<String>,
}

impl Pending {
    fn new(request: &Request, caller: &Caller) -> Self {
        let text = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Self {
            method: request.method().to_string(),
            path: request.uri().path_and_query().map_or_else(String::new, |p| p.to_string()),
            caller: caller.id.clone(),
            request_id: crate::server::request_id(request.headers()),
            idempotency_key: text(idempotency::KEY.as_str()),
        }
    }

    fn finish(self, state: &AppState, status: StatusCode, started: Instant) {
        let outcome = match status.as_u16() {
            200..=399 => "success",
            400..=499 => "client_error",
            _ => "server_error",
        };
        state.audit().record(AuditEntry {
            kind: AuditKind::Management,
            topic: AUDIT_TOPIC.to_owned(),
            method: self.method,
            path: self.path,
            status: Some(status.as_u16()),
            outcome,
            attempts: 0,
            latency_ms: started.elapsed().as_secs_f64() * 1000.0,
            caller: self.caller,
            request_id: self.request_id,
            idempotency_key: self.idempotency_key,
            body: None,
        });
    }
}
