//! The HTTP server: the router, its middleware stack, and graceful shutdown.

mod body_limit;
mod edge;
mod router;

use std::{future::Future, io, net::SocketAddr, time::Duration};

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub(crate) use self::{body_limit::read_body, edge::request_id};
use crate::{
    delivery::{Deliverers, WorkerConfig, Workers, retention},
    state::AppState,
};

/// A gateway bound to its port, ready to serve.
#[derive(Debug)]
pub struct Server {
    state: AppState,
    listener: TcpListener,
    deliverers: Deliverers,
    audit: tokio::sync::mpsc::Receiver<crate::audit::AuditEntry>,
}

/// How a server stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Every in-flight request finished before the drain deadline.
    Drained,
    /// The drain deadline passed with requests still in flight; they were cut off.
    DeadlinePassed,
}

impl Server {
    pub(crate) async fn bind(
        state: AppState,
        deliverers: Deliverers,
        audit: tokio::sync::mpsc::Receiver<crate::audit::AuditEntry>,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(state.manifest().server.listen).await?;
        Ok(Self { state, listener, deliverers, audit })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then stops accepting, fails
    /// readiness, and waits up to `server.drain_timeout` for in-flight
    /// requests and deliveries; unfinished deliveries give their leases back.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> io::Result<Stopped> {
        let Self { state, listener, deliverers, audit } = self;
        let drain = state.manifest().server.drain_timeout.get();
        let workers = (!deliverers.is_empty()).then(|| {
            let config =
                WorkerConfig { lease: state.manifest().storage.lease.get(), ..WorkerConfig::default() };
            Workers::start(state.store().clone(), deliverers, config, state.delivery_metrics().clone())
        });
        let app = router::build(state.clone());
        let token = CancellationToken::new();
        let signalled = token.clone();
        let draining = state.clone();
        tokio::spawn(async move {
            shutdown.await;
            draining.start_draining();
            tracing::info!(drain_timeout = ?drain, "Shutting down; draining in-flight requests.");
            signalled.cancel();
        });
        let server = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(token.clone().cancelled_owned());
        let storage = &state.manifest().storage;
        let sweeper = tokio::spawn(retention::sweep_periodically(
            state.store().clone(),
            storage.retention.get(),
            storage.audit_retention.get(),
            token.clone(),
        ));
        // The audit writer stops after the HTTP requests have drained, so their entries are kept.
        let audit_stop = CancellationToken::new();
        let audit_writer =
            tokio::spawn(crate::audit::write(state.store().clone(), audit, audit_stop.clone()));
        let gauges = tokio::spawn(
            state.queue_metrics().clone().refresh_periodically(state.store().clone(), token.clone()),
        );
        // Workers stop claiming when shutdown starts and drain alongside the HTTP requests.
        let workers_stopped = {
            let token = token.clone();
            async move {
                token.cancelled().await;
                if let Some(workers) = workers {
                    workers.shutdown(drain).await;
                }
            }
        };
        let http_stopped = async {
            let stopped = tokio::select! {
                result = server => result.map(|()| Stopped::Drained),
                () = deadline(&token, drain) => {
                    tracing::warn!("Drain deadline passed; cutting off the requests still in flight.");
                    Ok(Stopped::DeadlinePassed)
                }
            };
            // Also when serving failed: the workers must stop too.
            token.cancel();
            stopped
        };
        let (stopped, ()) = tokio::join!(http_stopped, workers_stopped);
        sweeper.await.ok();
        gauges.await.ok();
        audit_stop.cancel();
        audit_writer.await.ok();
        let stopped = stopped?;
        Ok(stopped)
    }
}

async fn deadline(token: &CancellationToken, drain: Duration) {
    token.cancelled().await;
    tokio::time::sleep(drain).await;
}
