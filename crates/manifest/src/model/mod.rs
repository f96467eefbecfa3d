//! The typed manifest: one module per top-level section of `junction.toml`.
//!
//! Each type derives `Serialize` and `JsonSchema` (for `junction schema` and the
//! management API) and decodes itself through [`crate::decode::Table`].

mod admin;
mod dependency;
mod outbound;
mod rate_limit;
mod server;
mod source;
mod storage;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

pub use self::{
    admin::{Admin, Jwt},
    dependency::{Auth, Breaker, Criticality, Dependency, Fallback, Queue, Redact, Retry, RetryOn, Sla},
    outbound::Outbound,
    rate_limit::RateLimit,
    server::Server,
    source::{HmacAlgorithm, HmacEncoding, HmacSpec, Scheme, Source},
    storage::{Storage, StorageUrl},
};
use crate::{
    decode::{Cx, Table},
    value::Name,
};

/// The whole of `junction.toml`: every key Junction reads.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The HTTP listener.
    #[serde(default)]
    pub server: Server,
    /// Where records, queues and the audit log are kept.
    #[serde(default)]
    pub storage: Storage,
    /// The `/v1` management API: credentials and limits.
    #[serde(default)]
    pub admin: Admin,
    /// Third-party APIs the application calls through `/proxy/{name}/...`.
    #[serde(default)]
    pub dependencies: BTreeMap<Name, Dependency>,
    /// Providers that post webhooks to `/webhooks/{name}`.
    #[serde(default)]
    pub sources: BTreeMap<Name, Source>,
    /// Webhooks the application sends to its own customers.
    #[serde(default)]
    pub outbound: Outbound,
}

impl Manifest {
    /// Decodes the document's top-level table.
    pub(crate) fn decode_document(mut t: Table<'_, '_>, cx: &mut Cx<'_>) -> Self {
        let manifest = Manifest {
            server: t.section("server", cx),
            storage: t.section("storage", cx),
            admin: t.section("admin", cx),
            dependencies: t.named("dependencies", cx),
            sources: t.named("sources", cx),
            outbound: t.section("outbound", cx),
        };
        t.finish(cx);
        manifest
    }
}
