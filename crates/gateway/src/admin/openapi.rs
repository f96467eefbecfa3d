//! The OpenAPI 3.1 document of `/v1`, generated from the handlers' and
//! views' annotations and served publicly at `GET /openapi.json`.
//!
//! What every route shares — bearer security, the 400/401/403/429/500
//! problems, the draft-10 rate-limit headers, `Idempotency-Key` and its
//! 409/422 on POSTs — is added here once, by [`Common`], so no route can
//! forget it.

use std::sync::OnceLock;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use utoipa::{
    Modify, OpenApi,
    openapi::{
        self, ContentBuilder, HttpMethod, Object, ObjectBuilder, RefOr, Required, ResponseBuilder, Type,
        header::HeaderBuilder,
        path::{Operation, ParameterBuilder, ParameterIn},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use super::{audit, deliveries, dependencies, events};
use crate::problem::{PROBLEM_JSON, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Junction management API",
        version = "1",
        description = "See and steer a Junction gateway: dependencies and their live state, queued \
                       calls, inbound webhooks, the audit log. `/v1` is stable: changes are additive; \
                       deprecations are announced with `Deprecation` and `Sunset` headers. \
                       Authenticate with `Authorization: Bearer <credential>`; scopes are read ⊂ write ⊂ admin."
    ),
    paths(
        dependencies::list,
        dependencies::queues,
        deliveries::list,
        deliveries::get,
        deliveries::retry,
        events::list,
        events::get,
        events::replay,
        audit::list,
    ),
    components(schemas(Problem)),
    modifiers(&Common),
    tags(
        (name = "dependencies", description = "Third-party APIs called through `/proxy`, and the backlog"),
        (name = "deliveries", description = "Calls queued with `fallback = \"queue\"`"),
        (name = "events", description = "Inbound webhooks and their forwards"),
        (name = "audit", description = "Who did what, when (needs the `admin` scope)"),
    )
)]
struct ApiDoc;

/// The document, rendered once.
pub(crate) fn json() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serialises"))
}

/// `GET /openapi.json`.
pub(crate) async fn document() -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], json()).into_response()
}

/// Adds what every operation shares.
struct Common;

impl Modify for Common {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A key from `[admin] api_keys` (every scope), a key from `junction keys create` \
                         (its scope), or a JWT from the `[admin] jwt` identity provider (scopes from its \
                         `scope` claim).",
                    ))
                    .build(),
            ),
        );
        for item in doc.paths.paths.values_mut() {
            for (method, operation) in operations(item) {
                add_common(method, operation);
            }
        }
    }
}

fn operations(item: &mut openapi::PathItem) -> impl Iterator<Item = (HttpMethod, &mut Operation)> {
    [
        (HttpMethod::Get, item.get.as_mut()),
        (HttpMethod::Post, item.post.as_mut()),
        (HttpMethod::Put, item.put.as_mut()),
        (HttpMethod::Patch, item.patch.as_mut()),
        (HttpMethod::Delete, item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|o| (method, o)))
}

fn add_common(method: HttpMethod, operation: &mut Operation) {
    let mut problems = vec![
        ("400", "The query or a header is malformed"),
        ("401", "No credential, or one that is unknown, revoked, expired or not for this audience"),
        ("403", "The credential lacks the scope this route needs"),
        ("429", "The credential used its quota; see `Retry-After`"),
        ("500", "Junction could not complete the request; nothing was changed or it is safe to retry"),
        ("503", "The identity provider's keys cannot be fetched to check a JWT; see `Retry-After`"),
    ];
    if method == HttpMethod::Post {
        problems.push(("409", "A request with this `Idempotency-Key` is still being handled"));
        problems.push(("422", "This `Idempotency-Key` was used with a different request"));
        operation.parameters.get_or_insert_with(Vec::new).push(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Makes the POST safe to repeat for 24 hours: the same key and request replay the \
                     first answer (with `Idempotent-Replayed: true`).",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(255))
                        .pattern(Some("^[!-~]+$")),
                ))
                .build(),
        );
    }
    for (status, description) in problems {
        let response = ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(openapi::Ref::from_schema_name("Problem"))))
                    .build(),
            )
            .build();
        operation.responses.responses.entry(status.to_owned()).or_insert(RefOr::T(response));
    }
    // Every answer carries the rate-limit headers.
    for response in operation.responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            for (name, description) in [
                (
                    "RateLimit-Policy",
                    "The quota: `\"default\";q=<requests>;w=<window seconds>` (IETF draft-10)",
                ),
                (
                    "RateLimit",
                    "What is left: `\"default\";r=<remaining>;t=<seconds to reset>` (IETF draft-10)",
                ),
            ] {
                let header = HeaderBuilder::new()
                    .schema(Object::with_type(Type::String))
                    .description(Some(description));
                response.headers.insert(name.to_owned(), header.build());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn is_openapi_3_1_with_every_route_and_the_shared_parts() {
        let doc: Value = serde_json::from_str(json()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        for path in [
            "/v1/dependencies",
            "/v1/queues",
            "/v1/deliveries",
            "/v1/deliveries/{id}",
            "/v1/deliveries/{id}/retry",
            "/v1/events",
            "/v1/events/{id}",
            "/v1/events/{id}/replay",
            "/v1/audit",
        ] {
            let item = &doc["paths"][path];
            assert!(item.is_object(), "{path} is documented");
            for (method, op) in item.as_object().unwrap() {
                for status in ["401", "403", "429", "500"] {
                    let r = &op["responses"][status];
                    assert!(r["content"][PROBLEM_JSON].is_object(), "{method} {path} documents {status}");
                }
                assert!(op["responses"]["200"].is_object() || op["responses"]["202"].is_object());
                if method == "post" {
                    assert!(op["responses"]["422"].is_object() && op["responses"]["409"].is_object());
                }
            }
        }
        assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
        assert!(doc["components"]["schemas"]["Problem"].is_object());
    }
}
