//! The background task that hears other nodes' `NOTIFY junction_jobs` and
//! wakes this node's workers. It reconnects on its own after errors; workers
//! poll anyway, so a lost notification only delays work a little.

use std::{convert::Infallible, sync::Arc, time::Duration};

use sqlx::{
    Connection, PgConnection,
    postgres::{PgConnectOptions, PgListener, PgPoolOptions},
};
use tokio::{sync::Notify, task::JoinHandle};

use super::CHANNEL;

/// The first wait before reconnecting after an error; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(200);

/// The longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Starts listening; the task runs until aborted.
pub(super) fn spawn(options: PgConnectOptions, wake: Arc<Notify>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut backoff = MIN_BACKOFF;
        loop {
            // Errors are sqlx's, which never carry the connection options.
            let Err(e) = listen(&options, &wake, &mut backoff).await;
            let retry_in_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX);
            tracing::warn!(error = %e, retry_in_ms, "postgres job listener failed; reconnecting");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    })
}

/// Connects, subscribes, and wakes waiters on every notification until an error.
async fn listen(
    options: &PgConnectOptions,
    wake: &Notify,
    backoff: &mut Duration,
) -> Result<Infallible, sqlx::Error> {
    // A direct connection first, for an error that says why (a pool only times out).
    PgConnection::connect_with(options).await?.close().await?;
    // A pool of one connection, kept forever: PgListener reconnects through it.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_with(options.clone())
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.ignore_pool_close_event(true);
    listener.listen(CHANNEL).await?;
    *backoff = MIN_BACKOFF;
    loop {
        // Work may have arrived while we were not listening, so wake workers
        // when (re)connected as well as on each notification.
        wake.notify_waiters();
        if listener.try_recv().await?.is_none() {
            tracing::debug!("postgres job listener reconnected");
        }
    }
}
