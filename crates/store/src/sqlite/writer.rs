//! The single writer thread and its group commit.
//!
//! SQLite allows one writer at a time, and a durable commit costs an fsync.
//! So every write goes through one thread that takes all the operations
//! waiting in its queue, runs them in one transaction (one failing operation
//! does not undo the others: see [`run_batch`]), commits them together, and
//! answers each caller only once the commit is on disk. Durability stays
//! per-operation; the fsync is shared.
//!
//! With [`Sync::Overlapped`] the fsync is not part of the commit: the
//! connection runs with `synchronous=NORMAL` (SQLite's WAL stays consistent
//! but a commit is not yet durable) and a second thread fsyncs the WAL file
//! after each commit, answering that batch's callers only then, while the
//! writer already runs the next batch. An fsync of the WAL file makes every
//! frame written to it before the call durable, and recovery replays the WAL
//! up to its last complete commit, so a caller is answered only when its
//! commit would survive a power loss, as with `synchronous=FULL`.

use std::{
    fs::File,
    io,
    path::{Path, PathBuf},
    sync::{Arc, mpsc as std_mpsc},
    thread,
};

use rusqlite::Connection;
use tokio::sync::{Notify, mpsc, oneshot};

use super::checkpointer::WalRestart;
use crate::{Result, StoreError};

/// How a batch's commit went (the error's text), shared by every operation in it.
type CommitOutcome = std::result::Result<(), Arc<str>>;

/// When a commit reaches the disk.
#[derive(Debug, Clone)]
pub(crate) enum Sync {
    /// Within the commit, as the connection's `synchronous` setting says.
    InCommit,
    /// After the commit, by an fsync of this WAL file on a second thread
    /// (the connection must run with `synchronous=NORMAL`).
    Overlapped {
        /// The database's `-wal` file.
        wal: PathBuf,
    },
}

/// One caller's operation waiting in (or running in) a batch.
trait Operation: Send {
    /// Runs the operation in the batch's open transaction and keeps its
    /// result; `isolated` wraps it in a savepoint of its own. `false` when
    /// it failed.
    fn run(&mut self, conn: &Connection, isolated: bool) -> bool;
    /// Answers the caller once the batch's commit is known.
    fn answer(self: Box<Self>, commit: CommitOutcome);
    /// Whether this operation may make jobs due (workers are woken after commit).
    fn wakes(&self) -> bool;
}

/// An [`Operation`] from [`Writer::write`].
struct Pending<R, F> {
    f: F,
    wakes: bool,
    result: Option<Result<R>>,
    reply: oneshot::Sender<Result<R>>,
}

impl<R, F> Operation for Pending<R, F>
where
    R: Send + 'static,
    F: Fn(&Connection) -> Result<R> + Send + 'static,
{
    fn run(&mut self, conn: &Connection, isolated: bool) -> bool {
        let result = if isolated { in_savepoint(conn, &self.f) } else { (self.f)(conn) };
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn answer(self: Box<Self>, commit: CommitOutcome) {
        let outcome = match (commit, self.result) {
            (Ok(()), Some(result)) => result,
            (Err(e), _) => Err(StoreError::Commit(e.to_string())),
            (Ok(()), None) => Err(StoreError::WriterGone),
        };
        // The caller may have gone away (its request was cancelled); the write stands.
        self.reply.send(outcome).ok();
    }

    fn wakes(&self) -> bool {
        self.wakes
    }
}

type Op = Box<dyn Operation>;

/// Handle on the writer thread. Dropping every handle stops the thread.
#[derive(Debug, Clone)]
pub(crate) struct Writer {
    queue: mpsc::Sender<Op>,
}

impl Writer {
    /// Starts the writer on `conn`. `max_batch` caps operations per commit
    /// (1 disables group commit, for the benchmark's baseline).
    pub(crate) fn spawn(
        conn: Connection,
        max_batch: usize,
        wakeups: Arc<Notify>,
        sync: Sync,
        restart: WalRestart,
    ) -> Result<Self> {
        let (queue, rx) = mpsc::channel::<Op>(8192);
        let syncer = match sync {
            Sync::InCommit => None,
            Sync::Overlapped { wal } => {
                let (to_syncer, committed) = std_mpsc::channel::<Committed>();
                let wakeups = wakeups.clone();
                thread::Builder::new()
                    .name("sqlite-fsync".into())
                    .spawn(move || sync_loop(&wal, &committed, &wakeups))?;
                Some(to_syncer)
            }
        };
        thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, rx, max_batch.max(1), &wakeups, syncer.as_ref(), &restart))?;
        Ok(Self { queue })
    }

    /// Runs `f` in the next batch and returns its result once the batch is
    /// committed to disk. An error from `f` undoes only `f`'s changes. `f`
    /// may run twice (see [`run`]); it must only touch the database.
    pub(crate) async fn write<R, F>(&self, wakes: bool, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: Fn(&Connection) -> Result<R> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let op: Op = Box::new(Pending { f, wakes, result: None, reply });
        self.queue.send(op).await.map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}

fn in_savepoint<R>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
    // Cached statements: this runs for every operation of a failed batch, on the one writer thread.
    conn.prepare_cached("SAVEPOINT op")?.execute([])?;
    match f(conn) {
        Ok(r) => {
            conn.prepare_cached("RELEASE op")?.execute([])?;
            Ok(r)
        }
        Err(e) => {
            conn.execute_batch("ROLLBACK TO op; RELEASE op")?;
            Err(e)
        }
    }
}

/// Runs every operation of a batch in one transaction.
///
/// Optimistically first, with no savepoints: a savepoint copies every page
/// an operation touches into the sub-journal, which cost the writer about a
/// tenth of its time. Operations almost never fail; when one does, the
/// transaction is rolled back and the batch is run again with each
/// operation in its own savepoint, so the failure undoes only its own
/// changes. The transaction could not begin: the error.
fn run_batch(conn: &Connection, batch: &mut [Op]) -> CommitOutcome {
    let begin = || {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| {
            tracing::error!(error = %e, "Cannot begin a store transaction; failing the batch.");
            Arc::<str>::from(e.to_string())
        })
    };
    begin()?;
    if !batch.iter_mut().all(|op| op.run(conn, false)) {
        conn.execute_batch("ROLLBACK").map_err(|e| Arc::<str>::from(e.to_string()))?;
        begin()?;
        for op in batch.iter_mut() {
            op.run(conn, true);
        }
    }
    let commit = conn.execute_batch("COMMIT").map_err(|e| Arc::<str>::from(e.to_string()));
    if let Err(e) = &commit {
        tracing::error!(error = %e, "A store commit failed; its operations were not saved.");
        conn.execute_batch("ROLLBACK").ok();
    }
    commit
}

/// A committed batch waiting for its fsync.
struct Committed {
    ops: Vec<Op>,
    wakes: bool,
}

fn run(
    conn: Connection,
    mut rx: mpsc::Receiver<Op>,
    max_batch: usize,
    wakeups: &Notify,
    syncer: Option<&std_mpsc::Sender<Committed>>,
    restart: &WalRestart,
) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = Vec::with_capacity(max_batch.min(64));
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let wakes = batch.iter().any(|op| op.wakes());
        let commit = run_batch(&conn, &mut batch);
        match syncer {
            Some(syncer) if commit.is_ok() => {
                if let Err(std_mpsc::SendError(unsynced)) = syncer.send(Committed { ops: batch, wakes }) {
                    answer(unsynced.ops, &Err("the fsync thread is gone".into()), false, wakeups);
                }
            }
            _ => answer(batch, &commit, wakes, wakeups),
        }
        restart.run_if_requested(&conn);
    }
}

/// Answers every operation of a batch, and wakes the delivery workers when
/// the batch may have made jobs due.
fn answer(ops: Vec<Op>, outcome: &CommitOutcome, wakes: bool, wakeups: &Notify) {
    for op in ops {
        op.answer(outcome.clone());
    }
    if outcome.is_ok() && wakes {
        wakeups.notify_waiters();
    }
}

/// The fsync thread of [`Sync::Overlapped`]: each fsync covers every batch
/// committed before it starts, so batches that queue up meanwhile share one.
fn sync_loop(wal: &Path, committed: &std_mpsc::Receiver<Committed>, wakeups: &Notify) {
    let mut file = None;
    while let Ok(first) = committed.recv() {
        let mut done = vec![first];
        done.extend(committed.try_iter());
        let outcome = sync_wal(wal, &mut file).map_err(|e| {
            tracing::error!(error = %e, "Cannot fsync the store's write-ahead log; failing the batch.");
            Arc::<str>::from(format!("cannot fsync the write-ahead log: {e}"))
        });
        let wakes = done.iter().any(|c| c.wakes);
        answer(done.into_iter().flat_map(|c| c.ops).collect(), &outcome, wakes, wakeups);
    }
}

fn sync_wal(wal: &Path, file: &mut Option<File>) -> io::Result<()> {
    if file.is_none() {
        let opened = File::open(wal)?;
        // The log's own directory entry must be durable too; once is enough.
        let dir = wal.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        File::open(dir)?.sync_all()?;
        *file = Some(opened);
    }
    file.as_ref().map_or(Ok(()), File::sync_data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::Scratch;

    /// A writer on an in-memory database, syncing inside its commits.
    fn writer() -> (Writer, Arc<Notify>) {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)").unwrap();
        let wakeups = Arc::new(Notify::new());
        (Writer::spawn(conn, 64, wakeups.clone(), Sync::InCommit, WalRestart::default()).unwrap(), wakeups)
    }

    /// A writer in overlapped mode on a WAL database in `dir`; `wal` is the
    /// file its fsync thread syncs.
    fn overlapped(dir: &Path, wal: PathBuf) -> Writer {
        let conn = Connection::open(dir.join("t.db")).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)").unwrap();
        Writer::spawn(conn, 64, Arc::new(Notify::new()), Sync::Overlapped { wal }, WalRestart::default())
            .unwrap()
    }

    fn count(conn: &Connection) -> Result<i64> {
        Ok(conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?)
    }

    /// Operations failing half-way in a batch undo only their own changes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_operation_undoes_only_itself() {
        let (writer, _) = writer();
        let tasks: Vec<_> = (0..300_i64)
            .map(|n| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    writer
                        .write(false, move |conn| {
                            conn.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
                            if n % 7 == 0 {
                                // A second statement failing after the first took effect.
                                conn.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
                            }
                            Ok(n)
                        })
                        .await
                })
            })
            .collect();
        for (n, task) in (0_i64..).zip(tasks) {
            let result = task.await.unwrap();
            if n % 7 == 0 {
                assert!(result.is_err(), "operation {n} failed");
            } else {
                assert_eq!(result.unwrap(), n);
            }
        }
        let stored = writer.write(false, count).await.unwrap();
        assert_eq!(stored, 300 - 43, "every other operation committed once, none of the failed ones");
        let failed_rows: i64 = writer
            .write(false, |conn| {
                Ok(conn.query_row("SELECT count(*) FROM t WHERE n % 7 = 0", [], |r| r.get(0))?)
            })
            .await
            .unwrap();
        assert_eq!(failed_rows, 0);
    }

    /// An operation that may make jobs due wakes the workers once committed.
    #[tokio::test]
    async fn wakes_after_commit() {
        let (writer, wakeups) = writer();
        let notified = wakeups.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        writer.write(true, |conn| Ok(conn.execute("INSERT INTO t (n) VALUES (1)", [])?)).await.unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), notified).await.expect("woken");
        assert_eq!(writer.write(false, count).await.unwrap(), 1);
    }

    /// Callers are answered after the WAL's fsync, and every write is there.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answers_after_the_fsync() {
        let scratch = Scratch::new("writer-synced");
        let writer = overlapped(scratch.path(), scratch.path().join("t.db-wal"));
        let tasks: Vec<_> = (0..200_i64)
            .map(|n| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    writer
                        .write(false, move |conn| Ok(conn.execute("INSERT INTO t (n) VALUES (?1)", [n])?))
                        .await
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), 1);
        }
        assert_eq!(writer.write(false, count).await.unwrap(), 200);
    }

    /// A commit whose fsync fails is not acknowledged: its callers get the error.
    #[tokio::test]
    async fn a_failed_fsync_fails_the_callers() {
        let scratch = Scratch::new("writer-unsynced");
        let writer = overlapped(scratch.path(), scratch.path().join("missing").join("t.db-wal"));
        let result = writer.write(false, |conn| Ok(conn.execute("INSERT INTO t (n) VALUES (1)", [])?)).await;
        match result {
            Err(StoreError::Commit(message)) => assert!(message.contains("fsync"), "{message}"),
            other => panic!("expected a commit error, got {other:?}"),
        }
    }
}
