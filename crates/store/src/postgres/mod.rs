//! The PostgreSQL backend: one database shared by several Junction nodes.
//!
//! Jobs are claimed with `FOR UPDATE SKIP LOCKED`, so nodes never hand the
//! same job to two workers; the attempt counter fences leases. Every time
//! comes from the injected [`Clock`], never from the database's `now()`.
//! Appends and redrives `NOTIFY junction_jobs`, which a background listener
//! turns into [`Store::wakeups`] on every node.

mod api_keys;
mod audit;
mod idempotency;
mod listener;
mod queue;
mod records;
mod rows;
#[cfg(test)]
mod tests;

use std::{fmt, str::FromStr, sync::Arc, time::Duration};

use async_trait::async_trait;
use sqlx::{
    AssertSqlSafe, Connection, Executor, PgConnection, PgPool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tokio::{sync::Notify, task::JoinHandle};

use crate::{
    ApiKey, Appended, Attempt, AttemptReport, AuditEntry, AuditFilter, Claimed, Clock, IdempotencyBegin, Job,
    JobId, Lease, NewApiKey, NewAuditEntry, NewRecord, Page, PageRequest, QueueDepth, Record, RecordFilter,
    RecordId, Result, Retention, Store, StoreError, StoredResponse, SweepReport, Timestamp, audit::AuditIds,
};

/// The schema, embedded at build time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// The channel appends and redrives notify, and every node listens on.
const CHANNEL: &str = "junction_jobs";

/// Connections in the pool.
const MAX_CONNECTIONS: u32 = 16;

/// How long to wait for a pooled connection before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The PostgreSQL store. Dropping it stops its notification listener.
pub struct PostgresStore {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    listener: JoinHandle<()>,
    audit_ids: AuditIds,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Deliberately no connection options: they may hold a password.
        f.debug_struct("PostgresStore").field("clock", &self.clock).finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` and brings its schema up to date.
    /// Errors never include `url`.
    pub async fn connect(url: &str, clock: Arc<dyn Clock>) -> Result<Self> {
        Self::open(url, None, clock).await
    }

    /// Like [`connect`](Self::connect), but keeps every table (and the
    /// migrations table) in `schema`, created if missing. Tests use it to run
    /// in parallel on one database. `schema` must match `[a-z0-9_]+`.
    pub async fn connect_in_schema(url: &str, schema: &str, clock: Arc<dyn Clock>) -> Result<Self> {
        validate_schema(schema)?;
        Self::open(url, Some(schema), clock).await
    }

    async fn open(url: &str, schema: Option<&str>, clock: Arc<dyn Clock>) -> Result<Self> {
        // Parse errors describe the faulty part, never echo the URL.
        let options = PgConnectOptions::from_str(url)?;
        let mut pool_options =
            PgPoolOptions::new().max_connections(MAX_CONNECTIONS).acquire_timeout(ACQUIRE_TIMEOUT);
        if let Some(schema) = schema {
            let set = format!("SET search_path TO \"{schema}\"");
            pool_options = pool_options.after_connect(move |conn, _meta| {
                let set = set.clone();
                Box::pin(async move {
                    conn.execute(AssertSqlSafe(set)).await?;
                    Ok(())
                })
            });
        }
        // One direct connection first: a pool reports only "timed out", this
        // says why (refused, unknown host, authentication failed...).
        PgConnection::connect_with(&options).await?.close().await?;
        let pool = pool_options.connect_with(options.clone()).await?;
        if let Some(schema) = schema {
            let created =
                pool.execute(AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))).await;
            // Two nodes creating it at once: one loses the race, harmlessly.
            if let Err(e) = created
                && !matches!(e.as_database_error().and_then(|d| d.code()).as_deref(), Some("42P06" | "23505"))
            {
                return Err(e.into());
            }
        }
        MIGRATOR.run(&pool).await?;
        let wake = Arc::new(Notify::new());
        let listener = listener::spawn(options, Arc::clone(&wake));
        Ok(Self { pool, clock, wake, listener, audit_ids: AuditIds::default() })
    }

    /// Now, from the injected clock (never the database's `now()`).
    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Wakes this node's workers (the listener wakes them for other nodes' work).
    fn wake_local(&self) {
        self.wake.notify_waiters();
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// Accepts only `[a-z0-9_]+` (at most 63 bytes, PostgreSQL's identifier limit),
/// so the name can be spliced into SQL safely.
fn validate_schema(schema: &str) -> Result<()> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Postgres(sqlx::Error::Configuration(
            format!("invalid schema name {schema:?}: use [a-z0-9_]+, at most 63 characters").into(),
        )))
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn append_many(&self, records: Vec<NewRecord>) -> Result<Vec<Appended>> {
        self.append_records(records).await
    }

    async fn append_audit(&self, entries: Vec<NewAuditEntry>) -> Result<()> {
        self.append_audit_entries(entries).await
    }

    async fn audit(&self, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>> {
        self.list_audit(filter, page).await
    }

    async fn claim(&self, owner: &str, limit: usize, lease: Duration) -> Result<Vec<Claimed>> {
        self.claim_jobs(owner, limit, lease).await
    }

    async fn extend(&self, lease: &Lease, lease_for: Duration) -> Result<bool> {
        self.extend_lease(lease, lease_for).await
    }

    async fn complete(&self, lease: &Lease, report: AttemptReport) -> Result<bool> {
        self.finish(lease, &report, queue::Outcome::Delivered).await
    }

    async fn retry(&self, lease: &Lease, report: AttemptReport, at: Timestamp) -> Result<bool> {
        self.finish(lease, &report, queue::Outcome::Retry(at)).await
    }

    async fn dead_letter(&self, lease: &Lease, report: AttemptReport) -> Result<bool> {
        self.finish(lease, &report, queue::Outcome::Dead).await
    }

    async fn release(&self, lease: &Lease) -> Result<bool> {
        self.release_lease(lease).await
    }

    async fn redrive(&self, record: RecordId) -> Result<usize> {
        self.redrive_record(record).await
    }

    async fn record(&self, id: RecordId) -> Result<Option<Record>> {
        self.load_record(id).await
    }

    async fn records(&self, filter: &RecordFilter, page: PageRequest) -> Result<Page<Record>> {
        self.list_records(filter, page).await
    }

    async fn jobs(&self, record: RecordId) -> Result<Vec<Job>> {
        self.list_jobs(record).await
    }

    async fn attempts(&self, job: JobId) -> Result<Vec<Attempt>> {
        self.list_attempts(job).await
    }

    async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        ttl: Duration,
    ) -> Result<IdempotencyBegin> {
        self.begin_key(scope, key, fingerprint, ttl).await
    }

    async fn idempotency_complete(&self, scope: &str, key: &str, response: &StoredResponse) -> Result<()> {
        self.complete_key(scope, key, response).await
    }

    async fn idempotency_abandon(&self, scope: &str, key: &str) -> Result<()> {
        self.abandon_key(scope, key).await
    }

    async fn sweep(&self, retention: &Retention) -> Result<SweepReport> {
        self.sweep_old(retention).await
    }

    async fn api_key_create(&self, key: &NewApiKey) -> Result<ApiKey> {
        self.create_api_key(key).await
    }

    async fn api_keys(&self) -> Result<Vec<ApiKey>> {
        self.list_api_keys().await
    }

    async fn api_key_revoke(&self, id: &str) -> Result<bool> {
        self.revoke_api_key(id).await
    }

    async fn queue_depths(&self) -> Result<Vec<QueueDepth>> {
        self.depths().await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn wakeups(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }
}
