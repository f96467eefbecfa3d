//! The Junction server: the HTTP surface (proxy, webhooks, management API,
//! health and metrics) built from a checked [`Manifest`].
//!
//! `main` only parses the command line; everything here can be started
//! in-process by tests:
//!
//! ```no_run
//! # async fn run(manifest: junction_manifest::Manifest) -> std::io::Result<()> {
//! let server = junction_gateway::Gateway::new(manifest).await.map_err(std::io::Error::other)?.bind().await?;
//! println!("listening on {}", server.local_addr()?);
//! server.serve(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod admin;
mod audit;
pub mod delivery;
mod egress;
mod health;
pub mod ingress;
pub mod problem;
pub mod server;
mod state;
pub mod telemetry;
mod upstream;

use std::sync::Arc;

use junction_manifest::{Manifest, StorageUrl};
use junction_store::{Store, StoreError, SystemClock, postgres::PostgresStore, sqlite::SqliteStore};

use crate::{egress::Egress, telemetry::Metrics};
pub use crate::{
    egress::EgressError,
    server::{Server, Stopped},
    state::AppState,
};

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Egress clients could not be built.
    #[error(transparent)]
    Egress(#[from] EgressError),
    /// A webhook source could not be set up.
    #[error(transparent)]
    Ingress(#[from] ingress::IngressError),
    /// The store could not be opened.
    #[error("cannot open the store ({url}): {source}")]
    Store {
        /// The storage URL, password masked.
        url: String,
        /// Why.
        source: StoreError,
    },
}

/// A gateway assembled from a manifest, not yet listening.
#[derive(Debug)]
pub struct Gateway {
    state: AppState,
    deliverers: delivery::Deliverers,
    audit: tokio::sync::mpsc::Receiver<audit::AuditEntry>,
}

impl Gateway {
    /// Opens the store and builds every component the manifest asks for.
    pub async fn new(manifest: Manifest) -> Result<Self, StartError> {
        let mut metrics = Metrics::new();
        let delivery = telemetry::delivery::DeliveryMetrics::register(metrics.registry_mut());
        let ingress = telemetry::ingress::IngressMetrics::register(metrics.registry_mut());
        let queue = telemetry::queue::QueueMetrics::register(metrics.registry_mut());
        let egress_metrics = telemetry::egress::EgressMetrics::register(
            metrics.registry_mut(),
            manifest.dependencies.keys().map(|name| name.as_str()),
        );
        let (audit_log, audit_entries) = audit::AuditLog::new(metrics.registry_mut());
        let egress = Egress::new(&manifest)?;
        let sources = ingress::Sources::new(&manifest)?;
        let forwarder = ingress::Forwarder::new(&manifest)
            .map_err(|reason| ingress::IngressError { source_name: "*".into(), reason })?;
        let store = open_store(&manifest.storage.url).await?;
        let mut deliverers = delivery::Deliverers::default();
        if manifest.sources.values().any(|s| !s.forward.is_empty()) {
            deliverers = deliverers.with(junction_store::RecordKind::Event, forwarder);
        }
        if manifest.dependencies.values().any(|d| d.fallback == junction_manifest::Fallback::Queue) {
            let queued = egress::QueuedCalls::new(egress.clone(), &manifest).map_err(EgressError::Client)?;
            deliverers = deliverers.with(junction_store::RecordKind::Call, queued);
        }
        let admin = admin::Admin::new(&manifest, store.clone());
        let state = AppState::new(state::Parts {
            manifest,
            metrics,
            egress,
            store,
            delivery,
            sources,
            ingress,
            queue,
            egress_metrics,
            audit: audit_log,
            admin,
        });
        Ok(Self { state, deliverers, audit: audit_entries })
    }

    /// Delivers the store's records of `kind` with `deliver` (workers start
    /// only when some kind has a deliverer).
    pub fn deliver(mut self, kind: junction_store::RecordKind, deliver: Arc<dyn delivery::Deliver>) -> Self {
        self.deliverers = self.deliverers.with(kind, deliver);
        self
    }

    /// The shared state (store, manifest, metrics), for features wired in-process.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Binds `server.listen`.
    pub async fn bind(self) -> std::io::Result<Server> {
        Server::bind(self.state, self.deliverers, self.audit).await
    }
}

/// Opens the backend the storage URL names, creating and migrating it as needed.
pub async fn open_store(url: &StorageUrl) -> Result<Arc<dyn Store>, StartError> {
    let failed = |source| StartError::Store { url: url.to_string(), source };
    Ok(match url {
        StorageUrl::Sqlite(path) => Arc::new(SqliteStore::open(path, Arc::new(SystemClock)).map_err(failed)?),
        StorageUrl::Postgres(secret) => {
            Arc::new(PostgresStore::connect(secret.expose(), Arc::new(SystemClock)).await.map_err(failed)?)
        }
    })
}
