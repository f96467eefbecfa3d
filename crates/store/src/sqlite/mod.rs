//! The SQLite backend: one file, WAL, every acknowledged commit fsync'd, one
//! writer thread with group commit ([`writer`]), and a small pool of read
//! connections.

mod api_keys;
mod audit;
mod checkpointer;
mod idempotency;
mod migrate;
mod queue;
mod readers;
mod records;
mod rows;
mod writer;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::Notify;

use self::{
    checkpointer::{Checkpointer, WalRestart},
    queue::Settle,
    readers::Readers,
    writer::{Sync, Writer},
};
use crate::{
    ApiKey, Appended, Attempt, AttemptReport, AuditEntry, AuditFilter, Claimed, Clock, IdempotencyBegin, Job,
    JobId, Lease, NewApiKey, NewAuditEntry, NewRecord, Page, PageRequest, QueueDepth, Record, RecordFilter,
    RecordId, Result, Retention, Store, StoredResponse, SweepReport, Timestamp, audit::AuditIds,
};

/// Tuning of the SQLite backend.
#[derive(Debug, Clone, Copy)]
pub struct SqliteOptions {
    /// Most operations committed together (group commit). 1 commits each
    /// operation on its own, one fsync each (the benchmark's baseline).
    pub max_batch: usize,
    /// Whether a caller is answered only once its commit is on disk (true),
    /// or once committed (survives a process crash, not a power loss).
    pub full_sync: bool,
    /// With `full_sync`: fsync the WAL on a second thread while the writer
    /// runs the next batch (true), or inside each commit
    /// (`synchronous=FULL`; the benchmark's baseline).
    pub overlap_sync: bool,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self { max_batch: 1024, full_sync: true, overlap_sync: true }
    }
}

/// How long a connection waits for a lock another connection holds.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The embedded store, in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: Writer,
    readers: Arc<Readers>,
    clock: Arc<dyn Clock>,
    wakeups: Arc<Notify>,
    path: PathBuf,
    audit_ids: Arc<AuditIds>,
    _checkpointer: Arc<Checkpointer>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Self> {
        Self::open_with(path, clock, SqliteOptions::default())
    }

    /// [`SqliteStore::open`] with explicit tuning.
    pub fn open_with(path: &Path, clock: Arc<dyn Clock>, options: SqliteOptions) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let (synchronous, sync) = match (options.full_sync, options.overlap_sync) {
            (true, true) => {
                // Where SQLite puts the log: next to the database, symlinks resolved.
                let real = path.canonicalize().unwrap_or_else(|_| path.to_owned());
                ("NORMAL", Sync::Overlapped { wal: wal_path(&real) })
            }
            (true, false) => ("FULL", Sync::InCommit),
            (false, _) => ("NORMAL", Sync::InCommit),
        };
        conn.pragma_update(None, "synchronous", synchronous)?;
        // Savepoint sub-journals in memory, not in temp files.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.pragma_update(None, "cache_size", -65_536)?;
        // Checkpoints run on their own thread (see `checkpointer`).
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        migrate::migrate(&mut conn)?;
        let restart = WalRestart::default();
        let checkpointer = Arc::new(Checkpointer::spawn(path.to_owned(), restart.clone())?);
        let wakeups = Arc::new(Notify::new());
        let writer = Writer::spawn(conn, options.max_batch, wakeups.clone(), sync, restart)?;
        let readers = Arc::new(Readers::new(path.to_owned()));
        Ok(Self {
            writer,
            readers,
            clock,
            wakeups,
            path: path.to_owned(),
            audit_ids: Arc::default(),
            _checkpointer: checkpointer,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

/// SQLite's write-ahead log of the database at `path`.
fn wal_path(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

#[async_trait]
impl Store for SqliteStore {
    async fn append_many(&self, batch: Vec<NewRecord>) -> Result<Vec<Appended>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now();
        let wakes = batch.iter().any(|r| !r.jobs.is_empty());
        let encoded: Vec<_> = batch.into_iter().map(records::EncodedRecord::new).collect();
        self.writer
            .write(wakes, move |conn| encoded.iter().map(|e| records::append(conn, now, e)).collect())
            .await
    }

    async fn append_audit(&self, entries: Vec<NewAuditEntry>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let entries: Vec<_> = entries
            .into_iter()
            .map(|entry| audit::IdentifiedEntry { id: self.audit_ids.next(now), entry })
            .collect();
        self.writer.write(false, move |conn| audit::append(conn, &entries)).await
    }

    async fn audit(&self, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>> {
        let filter = filter.clone();
        self.readers.read(move |conn| audit::list(conn, &filter, page)).await
    }

    async fn claim(&self, owner: &str, limit: usize, lease: Duration) -> Result<Vec<Claimed>> {
        let now = self.now();
        let owner = owner.to_owned();
        self.writer.write(false, move |conn| queue::claim(conn, now, &owner, limit, lease)).await
    }

    async fn extend(&self, lease: &Lease, lease_for: Duration) -> Result<bool> {
        let (now, lease) = (self.now(), lease.clone());
        self.writer.write(false, move |conn| queue::extend(conn, now, &lease, lease_for)).await
    }

    async fn complete(&self, lease: &Lease, report: AttemptReport) -> Result<bool> {
        self.settle(lease, report, Settle::Delivered).await
    }

    async fn retry(&self, lease: &Lease, report: AttemptReport, at: Timestamp) -> Result<bool> {
        self.settle(lease, report, Settle::RetryAt(at)).await
    }

    async fn dead_letter(&self, lease: &Lease, report: AttemptReport) -> Result<bool> {
        self.settle(lease, report, Settle::Dead).await
    }

    async fn release(&self, lease: &Lease) -> Result<bool> {
        let (now, lease) = (self.now(), lease.clone());
        self.writer.write(true, move |conn| queue::release(conn, now, &lease)).await
    }

    async fn redrive(&self, record: RecordId) -> Result<usize> {
        let now = self.now();
        self.writer.write(true, move |conn| queue::redrive(conn, now, record)).await
    }

    async fn record(&self, id: RecordId) -> Result<Option<Record>> {
        self.readers.read(move |conn| records::record(conn, id)).await
    }

    async fn records(&self, filter: &RecordFilter, page: PageRequest) -> Result<Page<Record>> {
        let filter = filter.clone();
        self.readers.read(move |conn| records::records(conn, &filter, page)).await
    }

    async fn jobs(&self, record: RecordId) -> Result<Vec<Job>> {
        self.readers.read(move |conn| records::jobs(conn, record)).await
    }

    async fn attempts(&self, job: JobId) -> Result<Vec<Attempt>> {
        self.readers.read(move |conn| records::attempts(conn, job)).await
    }

    async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        ttl: Duration,
    ) -> Result<IdempotencyBegin> {
        let now = self.now();
        let (scope, key, fingerprint) = (scope.to_owned(), key.to_owned(), fingerprint.to_owned());
        self.writer
            .write(false, move |conn| idempotency::begin(conn, now, &scope, &key, &fingerprint, ttl))
            .await
    }

    async fn idempotency_complete(&self, scope: &str, key: &str, response: &StoredResponse) -> Result<()> {
        let (scope, key, response) = (scope.to_owned(), key.to_owned(), response.clone());
        self.writer.write(false, move |conn| idempotency::complete(conn, &scope, &key, &response)).await
    }

    async fn idempotency_abandon(&self, scope: &str, key: &str) -> Result<()> {
        let (scope, key) = (scope.to_owned(), key.to_owned());
        self.writer.write(false, move |conn| idempotency::abandon(conn, &scope, &key)).await
    }

    async fn sweep(&self, retention: &Retention) -> Result<SweepReport> {
        let (now, retention) = (self.now(), *retention);
        self.writer.write(false, move |conn| records::sweep(conn, now, &retention)).await
    }

    async fn api_key_create(&self, key: &NewApiKey) -> Result<ApiKey> {
        let (now, key) = (self.now(), key.clone());
        self.writer.write(false, move |conn| api_keys::create(conn, now, &key)).await
    }

    async fn api_keys(&self) -> Result<Vec<ApiKey>> {
        self.readers.read(api_keys::list).await
    }

    async fn api_key_revoke(&self, id: &str) -> Result<bool> {
        let (now, id) = (self.now(), id.to_owned());
        self.writer.write(false, move |conn| api_keys::revoke(conn, now, &id)).await
    }

    async fn queue_depths(&self) -> Result<Vec<QueueDepth>> {
        self.readers.read(records::queue_depths).await
    }

    async fn ping(&self) -> Result<()> {
        self.readers.read(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?)).await
    }

    fn wakeups(&self) -> Arc<Notify> {
        self.wakeups.clone()
    }
}

impl SqliteStore {
    async fn settle(&self, lease: &Lease, report: AttemptReport, how: Settle) -> Result<bool> {
        let (now, lease) = (self.now(), lease.clone());
        self.writer.write(false, move |conn| queue::settle(conn, now, &lease, &report, how)).await
    }
}

/// Opens read connections; used by [`Readers`].
fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}
