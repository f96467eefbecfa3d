//! The Junction server: the HTTP surface (proxy, webhooks, management API,
//! health and metrics) built from a checked [`Manifest`].
//!
//! `main` only parses the command line; everything here can be started
//! in-process by tests:
//!
//! ```no_run
//! # async fn run(manifest: junction_manifest::Manifest) -> std::io::Result<()> {
//! let server = junction_gateway::Gateway::new(manifest)?.bind().await?;
//! println!("listening on {}", server.local_addr()?);
//! server.serve(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod egress;
mod health;
pub mod problem;
pub mod server;
mod state;
pub mod telemetry;

use junction_manifest::Manifest;

use crate::{egress::Egress, telemetry::Metrics};
pub use crate::{
    egress::EgressError,
    server::{Server, Stopped},
    state::AppState,
};

/// A gateway assembled from a manifest, not yet listening.
#[derive(Debug)]
pub struct Gateway {
    state: AppState,
}

impl Gateway {
    /// Builds every component the manifest asks for.
    pub fn new(manifest: Manifest) -> Result<Self, EgressError> {
        let metrics = Metrics::new();
        let egress = Egress::new(&manifest)?;
        Ok(Self { state: AppState::new(manifest, metrics, egress) })
    }

    /// Binds `server.listen`.
    pub async fn bind(self) -> std::io::Result<Server> {
        Server::bind(self.state).await
    }
}

impl From<EgressError> for std::io::Error {
    fn from(e: EgressError) -> Self {
        std::io::Error::other(e)
    }
}
