//! `junction serve`: run the gateway until SIGINT or SIGTERM.

use std::process::ExitCode;

use anyhow::Context;
use junction_gateway::{Gateway, Stopped};

use crate::{args::ServeArgs, check::load_or_report, logging};

pub(crate) fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let Some(manifest) = load_or_report(&args.config) else { return Ok(ExitCode::FAILURE) };
    logging::init(args.log_format, &args.log_level)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("junction")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listen = manifest.server.listen;
        let storage = manifest.storage.url.to_string();
        let server = Gateway::new(manifest)
            .await?
            .bind()
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = server.local_addr()?;
        tracing::info!(%addr, %storage, "Junction is listening.");
        match server.serve(shutdown_signal()).await? {
            Stopped::Drained => tracing::info!("Stopped; every in-flight request finished."),
            Stopped::DeadlinePassed => {
                tracing::warn!("Stopped; some requests were cut off at the drain deadline.")
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Completes on the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Received SIGINT."),
        () = term => tracing::info!("Received SIGTERM."),
    }
}
