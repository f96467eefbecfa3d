//! Routes and the middleware every request goes through.

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request},
    middleware,
    response::{IntoResponse, Response},
    routing::{any, get, post},
};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;

use super::edge;
use crate::{admin, egress, health, ingress, problem::Problem, state::AppState};

pub(crate) fn build(state: AppState) -> Router {
    let routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/proxy/{dependency}", any(egress::forward))
        .route("/proxy/{dependency}/{*path}", any(egress::forward))
        .route("/webhooks/{source}", post(ingress::receive))
        .merge(admin::routes(state.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    with_stack(routes, state)
}

/// `routes` behind the middleware every request goes through.
fn with_stack(routes: Router<AppState>, state: AppState) -> Router {
    routes
        // Our own limit wraps every body; axum's extractor limit would answer in plain text.
        .layer(DefaultBodyLimit::disable())
        .layer(ServiceBuilder::new().layer(middleware::from_fn_with_state(state.clone(), edge::edge)).layer(
            CatchPanicLayer::custom(|_| {
                tracing::error!("A request handler panicked.");
                Problem::internal().into_response()
            }),
        ))
        .with_state(state)
}

async fn not_found(request: Request) -> Response {
    Problem::not_found(request.uri().path()).into_response()
}

async fn method_not_allowed(request: Request) -> Response {
    Problem::method_not_allowed(request.method(), request.uri().path()).into_response()
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, routing::get};
    use junction_store::conformance::Scratch;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_500_counted_and_with_its_request_id() {
        let scratch = Scratch::new("panic");
        let text = format!("[storage]\nurl = \"sqlite://{}/junction.db\"\n", scratch.path().display());
        let manifest =
            junction_manifest::parse("t.toml", &text, &junction_manifest::MapEnv::default()).unwrap();
        let gateway = crate::Gateway::new(manifest).await.unwrap();
        let state = gateway.state().clone();
        async fn boom() -> &'static str {
            panic!("boom")
        }
        let routes = Router::new().route("/boom", get(boom));
        let app = with_stack(routes, state.clone());

        let request =
            http::Request::get("/boom").header("x-request-id", "req-1").body(Body::empty()).unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 500);
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        assert_eq!(response.headers()["x-request-id"], "req-1", "the caller's id comes back");

        let response = app.oneshot(http::Request::get("/boom").body(Body::empty()).unwrap()).await.unwrap();
        let id = response.headers()["x-request-id"].to_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "a request without an id gets a UUID: {id}");

        let metrics = state.metrics().encode();
        assert!(
            metrics.contains(r#"http_requests_total{method="GET",route="/boom",status="500"} 2"#),
            "{metrics}"
        );
        assert!(metrics.contains("http_requests_in_flight 0"), "{metrics}");
    }
}
