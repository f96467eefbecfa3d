//! RFC 9457 problem details: the one shape of every error Junction answers.
//!
//! Handlers return [`Problem`]; nothing else builds error bodies, so a secret
//! can only reach a client if a handler puts it in `detail` — and none does.

use axum::{
    Json,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

/// Media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answer: a stable `type`, a `title`, the `status` and a `detail`
/// a person can act on.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Stable URI naming the kind of problem; clients switch on this.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// What happened in this case, and what to do about it.
    pub detail: String,
    /// Extra headers, such as `Retry-After`.
    #[serde(skip)]
    #[schema(ignore)]
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl Problem {
    /// A problem of kind `slug` (appended to the base type URI).
    pub fn new(status: StatusCode, slug: &str, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("https://junction.dev/problems/{slug}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            headers: Vec::new(),
        }
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// No route matches the request.
    pub fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not Found",
            format!("No route matches `{}`. See /openapi.json for the API.", truncate(path, 200)),
        )
    }

    /// The route exists but not for this method.
    pub fn method_not_allowed(method: &http::Method, path: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method Not Allowed",
            format!("`{}` does not accept {method}.", truncate(path, 200)),
        )
    }

    /// The request body is larger than `server.max_body`. The rest of the
    /// body is not read, so the connection cannot carry another request: it
    /// is closed, and `Connection: close` tells the client not to reuse it
    /// (a pooled client would otherwise send its next request into it).
    pub fn payload_too_large(limit: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload Too Large",
            format!("The request body is larger than the limit of {limit} bytes (`server.max_body`)."),
        )
        .with_header(header::CONNECTION, HeaderValue::from_static("close"))
    }

    /// Something failed inside Junction; details are in the log under the request id.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal Server Error",
            "Junction failed to handle the request; the log has details under this request's x-request-id.",
        )
    }
}

/// Cuts client-supplied text echoed in a problem, so a hostile path cannot
/// make error bodies arbitrarily large.
fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

impl IntoResponse for Problem {
    fn into_response(mut self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = std::mem::take(&mut self.headers);
        let mut response = (status, Json(self)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        for (name, value) in headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_rfc9457_members() {
        let p = Problem::not_found("/nope");
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["type"], "https://junction.dev/problems/not-found");
        assert_eq!(v["status"], 404);
        assert_eq!(v["title"], "Not Found");
        assert!(v["detail"].as_str().unwrap().contains("/nope"));
    }

    #[test]
    fn truncates_echoed_input() {
        let long = "a".repeat(10_000);
        assert!(Problem::not_found(&long).detail.len() < 300);
        assert_eq!(truncate("ééé", 3), "é…");
    }
}
