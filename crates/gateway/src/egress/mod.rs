//! Egress: `/proxy/{dependency}/...` calls forwarded to the dependency's
//! `base_url`, with its credentials and timeout.

mod credentials;
mod forward;
mod headers;
mod policies;
mod queued;
mod target;

use std::{collections::HashMap, sync::Arc};

use junction_manifest::Manifest;

pub(crate) use self::forward::forward;
pub(crate) use self::queued::QueuedCalls;
use crate::upstream::UpstreamClient;

/// Why egress could not be set up from the manifest.
#[derive(Debug, thiserror::Error)]
pub enum EgressError {
    /// A dependency's `ca_file` could not be used.
    #[error("dependency `{dependency}`: cannot use ca_file {path}: {reason}")]
    CaFile {
        /// The dependency name.
        dependency: String,
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The outbound HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// One pooled HTTP client (they differ by trusted CAs) and one set of
/// policies per dependency.
#[derive(Debug)]
pub(crate) struct Egress {
    routes: HashMap<String, Route>,
}

/// How calls to one dependency are made.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) client: UpstreamClient,
    pub(crate) policies: policies::Policies,
    /// The `Host` of `base_url`, made once rather than by the client on every call.
    pub(crate) host: Option<http::HeaderValue>,
}

impl Egress {
    pub(crate) fn new(manifest: &Manifest) -> Result<Arc<Self>, EgressError> {
        let shared = UpstreamClient::new(None).map_err(EgressError::Client)?;
        let mut routes = HashMap::new();
        for (name, dep) in &manifest.dependencies {
            let client = match &dep.ca_file {
                None => shared.clone(),
                Some(path) => UpstreamClient::new(Some(path)).map_err(|reason| EgressError::CaFile {
                    dependency: name.to_string(),
                    path: path.display().to_string(),
                    reason,
                })?,
            };
            let route =
                Route { client, policies: policies::Policies::new(dep), host: target::host(&dep.base_url) };
            routes.insert(name.to_string(), route);
        }
        Ok(Arc::new(Self { routes }))
    }

    pub(crate) fn get(&self, dependency: &str) -> Option<&Route> {
        self.routes.get(dependency)
    }

    /// Each dependency's breaker state, for metrics.
    pub(crate) fn breaker_states(&self) -> impl Iterator<Item = (&str, junction_policy::BreakerState)> {
        self.routes.iter().map(|(name, route)| (name.as_str(), route.policies.breaker.state()))
    }
}
