//! The retention sweeper: applies `[storage] retention` and `audit_retention`
//! every minute, so the store does not grow without bound.

use std::{sync::Arc, time::Duration};

use junction_store::{Clock, Retention, Store, SystemClock};
use tokio_util::sync::CancellationToken;

/// How often the sweeper runs.
const EVERY: Duration = Duration::from_secs(60);

/// Sweeps until `stop` is cancelled, once at start and then every minute.
pub async fn sweep_periodically(
    store: Arc<dyn Store>,
    keep_records: Duration,
    keep_audit: Duration,
    stop: CancellationToken,
) {
    loop {
        let now = SystemClock.now();
        let retention =
            Retention { records_before: now.minus(keep_records), audit_before: now.minus(keep_audit) };
        match store.sweep(&retention).await {
            Ok(report) if report.records + report.audit_entries + report.idempotency_keys > 0 => {
                tracing::info!(
                    records = report.records,
                    audit_entries = report.audit_entries,
                    jobs = report.jobs,
                    attempts = report.attempts,
                    idempotency_keys = report.idempotency_keys,
                    "Retention sweep deleted old data."
                )
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "Retention sweep failed; will try again."),
        }
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            () = stop.cancelled() => return,
        }
    }
}
