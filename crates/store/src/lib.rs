//! Junction's durable store: records (inbound events, queued calls, outbound
//! messages) committed atomically with their delivery jobs, a work queue with
//! leases, attempt logs, idempotency keys, the audit log, retention, and the
//! hashed management API keys every node on the same storage shares.
//!
//! Records are listed newest first, a page at a time, filtered by
//! [`RecordFilter`]: kind, topic, status, a time window, and top-level
//! fields of their `meta` object. Audit entries live apart from records
//! ([`audit`]), in a table made cheap to append to, and are listed the same
//! way with an [`AuditFilter`].
//!
//! One [`Store`] trait, two backends: [`sqlite::SqliteStore`] (embedded, the
//! default) and [`postgres::PostgresStore`] (shared by several nodes). The
//! [`conformance`] suite runs the same tests against both.
#![forbid(unsafe_code)]

pub mod audit;
mod clock;
pub mod conformance;
mod error;
mod model;
pub mod postgres;
pub mod sqlite;

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use tokio::sync::Notify;

pub use crate::{
    audit::{AuditEntry, AuditFilter, NewAuditEntry},
    clock::{Clock, ManualClock, SystemClock, Timestamp},
    error::StoreError,
    model::*,
};

/// A started idempotency key neither completed nor abandoned within this
/// long is free again: its holder is taken to have crashed.
pub const IDEMPOTENCY_STARTED_TIMEOUT: Duration = Duration::from_secs(60);

/// Result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The durable record store and delivery queue.
///
/// Every method that returns `Ok` has committed its change durably (an fsync'd
/// commit); callers may acknowledge to their clients afterwards.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Commits a record and its delivery jobs in one transaction. With a
    /// `dedupe_key`, a second record with the same kind, topic and key is not
    /// stored: the first one's id is returned with `duplicate = true`.
    /// A batch of one [`Store::append_many`].
    async fn append(&self, record: NewRecord) -> Result<Appended> {
        let appended = self.append_many(vec![record]).await?.pop();
        appended.ok_or_else(|| StoreError::Corrupt("an append of one record answered nothing".into()))
    }

    /// Commits several records (and their jobs) in one transaction: all of
    /// them or, on an error, none. Each is deduplicated as by [`Store::append`],
    /// also against the ones before it in `records`; the answers come in
    /// order. For writers of many small records, where one transaction per
    /// record would cost more than the records.
    async fn append_many(&self, records: Vec<NewRecord>) -> Result<Vec<Appended>>;

    /// Commits audit entries in one transaction, all or none, each with a
    /// new id carrying the store clock's time; ids increase in the order given.
    async fn append_audit(&self, entries: Vec<NewAuditEntry>) -> Result<()>;

    /// Audit entries matching `filter`, newest first, a page at a time.
    async fn audit(&self, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>>;

    /// Leases up to `limit` due jobs (ready, or whose lease expired) for
    /// `lease`, to `owner`. Each claim counts as an attempt. Jobs come with
    /// their records, oldest due first.
    async fn claim(&self, owner: &str, limit: usize, lease: Duration) -> Result<Vec<Claimed>>;

    /// Pushes a held lease's expiry to now + `lease`. `false` if the lease was lost.
    async fn extend(&self, lease: &Lease, lease_for: Duration) -> Result<bool>;

    /// Marks the job delivered and logs the attempt. `false` if the lease was
    /// lost (another worker may have the job now); nothing is changed then.
    async fn complete(&self, lease: &Lease, report: AttemptReport) -> Result<bool>;

    /// Logs a failed attempt and makes the job due again at `at`.
    async fn retry(&self, lease: &Lease, report: AttemptReport, at: Timestamp) -> Result<bool>;

    /// Logs a failed attempt and moves the job to the dead-letter state.
    async fn dead_letter(&self, lease: &Lease, report: AttemptReport) -> Result<bool>;

    /// Gives a job back unattempted (graceful shutdown): due now, the claim not counted.
    async fn release(&self, lease: &Lease) -> Result<bool>;

    /// Makes every job of a record due now again, whatever its state, with
    /// its attempt counter reset (replay). Returns how many jobs were reset.
    async fn redrive(&self, record: RecordId) -> Result<usize>;

    /// One record, with its delivery status.
    async fn record(&self, id: RecordId) -> Result<Option<Record>>;

    /// Records matching `filter`, newest first, a page at a time.
    async fn records(&self, filter: &RecordFilter, page: PageRequest) -> Result<Page<Record>>;

    /// The delivery jobs of a record.
    async fn jobs(&self, record: RecordId) -> Result<Vec<Job>>;

    /// The attempts of a job, oldest first.
    async fn attempts(&self, job: JobId) -> Result<Vec<Attempt>>;

    /// Starts (or finds) the idempotent handling of `key` in `scope`. A
    /// completed key is kept for `ttl`; a started one that is neither
    /// completed nor abandoned within [`IDEMPOTENCY_STARTED_TIMEOUT`] may be
    /// started again.
    async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        ttl: Duration,
    ) -> Result<IdempotencyBegin>;

    /// Stores the answer of a started key, for replays until it expires.
    async fn idempotency_complete(&self, scope: &str, key: &str, response: &StoredResponse) -> Result<()>;

    /// Forgets a started key whose handling failed, so a retry may start again.
    async fn idempotency_abandon(&self, scope: &str, key: &str) -> Result<()>;

    /// Deletes finished records (every job delivered or dead) created before
    /// `records_before` with their jobs and attempts, audit entries appended
    /// before `audit_before`, and expired idempotency keys.
    async fn sweep(&self, retention: &Retention) -> Result<SweepReport>;

    /// Stores a management API key, created now. A key whose id or hash is
    /// already stored (revoked keys included) is refused with
    /// [`StoreError::Conflict`].
    async fn api_key_create(&self, key: &NewApiKey) -> Result<ApiKey>;

    /// Every API key, revoked ones included, oldest first (ties by id).
    async fn api_keys(&self) -> Result<Vec<ApiKey>>;

    /// Revokes a key now. `true` if an active key was revoked; `false` if the
    /// id is unknown or the key was already revoked.
    async fn api_key_revoke(&self, id: &str) -> Result<bool>;

    /// Job counts by topic and state, for metrics and the status page.
    async fn queue_depths(&self) -> Result<Vec<QueueDepth>>;

    /// Checks the store answers (for readiness).
    async fn ping(&self) -> Result<()>;

    /// Notified when new work may be due (an append or redrive, on any node
    /// the backend can hear from). Workers still poll, as a fallback.
    fn wakeups(&self) -> Arc<Notify>;
}
