//! The audit log: one entry per proxied call (who, when, which dependency,
//! method, path, status, attempts, latency, idempotency key; the request
//! body only with `audit_bodies`, after `redact`), per change made through
//! the management API (which credential, never its secret), and per
//! refused inbound webhook.
//!
//! Entries are written off the request path: the handler hands an entry to a
//! bounded queue and a background task appends them to the store in batches,
//! one transaction per batch. A full queue drops entries and counts them
//! (`junction_audit_dropped_total`) rather than slow every call; entries in
//! the queue when the process is killed are lost. Audit is a record of
//! calls, not a delivery guarantee.

mod redact;

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use junction_store::{NewAuditEntry, Store};
use prometheus_client::{metrics::counter::Counter, registry::Registry};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub(crate) use self::redact::redact_json;

/// Entries waiting to be written, at most.
const QUEUE: usize = 65_536;

/// What an audit entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AuditKind {
    /// A call proxied to a dependency (`topic` is the dependency).
    Proxy,
    /// A change made through the `/v1` management API (`topic` is `admin`).
    Management,
    /// An inbound webhook that was refused (`topic` is the source).
    Webhook,
}

impl AuditKind {
    const ALL: [AuditKind; 3] = [AuditKind::Proxy, AuditKind::Management, AuditKind::Webhook];

    /// The stored (and query) form.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AuditKind::Proxy => "proxy",
            AuditKind::Management => "management",
            AuditKind::Webhook => "webhook",
        }
    }

    /// The kind named `name`, if any.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// One audited action: who, what, when, outcome.
#[derive(Debug, Clone)]
pub(crate) struct AuditEntry {
    pub(crate) kind: AuditKind,
    /// The dependency, source or `admin`; the store's topic of the entry.
    pub(crate) topic: String,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) status: Option<u16>,
    pub(crate) outcome: &'static str,
    pub(crate) attempts: u32,
    pub(crate) latency_ms: f64,
    pub(crate) caller: String,
    pub(crate) request_id: Option<String>,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) body: Option<Bytes>,
}

/// Where handlers send audit entries.
#[derive(Debug, Clone)]
pub(crate) struct AuditLog {
    queue: mpsc::Sender<AuditEntry>,
    dropped: Counter,
}

impl AuditLog {
    /// The log and the receiving end its writer drains.
    pub(crate) fn new(registry: &mut Registry) -> (Self, mpsc::Receiver<AuditEntry>) {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let dropped = Counter::default();
        registry.register(
            "audit_dropped",
            "Audit entries dropped because the audit queue was full",
            dropped.clone(),
        );
        (Self { queue, dropped }, receiver)
    }

    /// Queues an entry without waiting.
    pub(crate) fn record(&self, entry: AuditEntry) {
        if self.queue.try_send(entry).is_err() {
            self.dropped.inc();
        }
    }
}

/// Entries written in one store transaction, at most.
///
/// Bigger batches cost less CPU per entry but hurt the proxy's tail latency
/// on small machines: measured on 2 cores at half of peak load, batches of
/// up to 512 entries (50 ms) added about 2.7–3.1 ms to the p99 and 8,192
/// (250 ms) about 7 ms, against about 1.5–2 ms for 128 (10 ms) and under
/// 1 ms with no audit writes at all (`docs/performance.md`).
const BATCH: usize = 128;
/// How long a batch waits to fill once it has its first entry. Each commit
/// rewrites the tail pages of the table and its indexes, so under load a
/// commit per entry or two costs more than the entries; audit entries are
/// not acknowledged to anyone, so they can wait this long.
const LINGER: Duration = Duration::from_millis(10);
/// Batches being written at once: one commits while the next fills.
const IN_FLIGHT: usize = 2;

/// Appends queued entries to the store until `stop`, then drains what is left.
///
/// Entries are taken in batches of up to [`BATCH`] (waiting at most
/// [`LINGER`] for a batch to fill) and each batch is one
/// [`Store::append_audit`]: one transaction for many entries, rather than a
/// transaction (and a task) per entry, which cost more than the proxied
/// call it recorded.
pub(crate) async fn write(
    store: Arc<dyn Store>,
    mut entries: mpsc::Receiver<AuditEntry>,
    stop: CancellationToken,
) {
    let mut inflight = tokio::task::JoinSet::new();
    let mut stopping = false;
    loop {
        let mut batch = Vec::with_capacity(BATCH);
        let taken = if stopping {
            entries.recv_many(&mut batch, BATCH).await
        } else {
            tokio::select! {
                taken = entries.recv_many(&mut batch, BATCH) => taken,
                () = stop.cancelled() => {
                    entries.close();
                    stopping = true;
                    continue;
                }
            }
        };
        if taken == 0 {
            break;
        }
        let deadline = tokio::time::Instant::now() + LINGER;
        while !stopping && batch.len() < BATCH {
            let room = BATCH - batch.len();
            tokio::select! {
                taken = entries.recv_many(&mut batch, room) => if taken == 0 { break },
                () = tokio::time::sleep_until(deadline) => break,
                () = stop.cancelled() => break,
            }
        }
        while inflight.len() >= IN_FLIGHT {
            inflight.join_next().await;
        }
        let store = store.clone();
        inflight.spawn(async move {
            let count = batch.len();
            let entries = batch.into_iter().map(stored_form).collect();
            if let Err(error) = store.append_audit(entries).await {
                tracing::warn!(%error, count, "Cannot write audit entries.");
            }
        });
    }
    let drain = async { while inflight.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(10), drain).await.is_err() {
        tracing::warn!("Audit entries were still being written at shutdown.");
    }
}

/// The row an entry is stored as: what the audit log is filtered by in
/// columns, the rest as one JSON object ([`AuditDetail`]).
fn stored_form(entry: AuditEntry) -> NewAuditEntry {
    let detail = AuditDetail {
        method: entry.method,
        path: entry.path,
        outcome: entry.outcome.to_owned(),
        attempts: entry.attempts,
        latency_ms: entry.latency_ms,
        request_id: entry.request_id,
        idempotency_key: entry.idempotency_key,
    };
    NewAuditEntry {
        kind: entry.kind.as_str().to_owned(),
        topic: entry.topic,
        status: entry.status,
        caller: entry.caller,
        detail: serde_json::to_string(&detail).unwrap_or_else(|_| "{}".to_owned()),
        body: entry.body,
    }
}

/// The fields of an entry stored as JSON, not as columns of their own.
/// Missing fields read as empty, so entries written by older versions load.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct AuditDetail {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) outcome: String,
    pub(crate) attempts: u32,
    pub(crate) latency_ms: f64,
    pub(crate) request_id: Option<String>,
    pub(crate) idempotency_key: Option<String>,
}
