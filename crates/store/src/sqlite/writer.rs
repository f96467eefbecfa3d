//! The single writer thread and its group commit.
//!
//! SQLite allows one writer at a time, and with `synchronous=FULL` every
//! commit costs an fsync. So every write goes through one thread that takes
//! all the operations waiting in its queue, runs them in one transaction
//! (one failing operation does not undo the others: see [`run_batch`]),
//! commits them together with one fsync, and only then answers each caller.
//! Durability stays per-operation; the fsync is shared.

use std::{sync::Arc, thread};

use rusqlite::Connection;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::{Result, StoreError};

/// How a batch's commit went, shared by every operation in it.
type CommitOutcome = std::result::Result<(), Arc<rusqlite::Error>>;

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
    pub(crate) fn spawn(conn: Connection, max_batch: usize, wakeups: Arc<Notify>) -> Result<Self> {
        let (queue, rx) = mpsc::channel::<Op>(8192);
        thread::Builder::new()
            .name("junction-sqlite-writer".into())
            .spawn(move || run(conn, rx, max_batch.max(1), &wakeups))?;
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
            Arc::new(e)
        })
    };
    begin()?;
    if !batch.iter_mut().all(|op| op.run(conn, false)) {
        conn.execute_batch("ROLLBACK").map_err(Arc::new)?;
        begin()?;
        for op in batch.iter_mut() {
            op.run(conn, true);
        }
    }
    let commit = conn.execute_batch("COMMIT").map_err(Arc::new);
    if let Err(e) = &commit {
        tracing::error!(error = %e, "A store commit failed; its operations were not saved.");
        conn.execute_batch("ROLLBACK").ok();
    }
    commit
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Op>, max_batch: usize, wakeups: &Notify) {
    let mut batch = Vec::with_capacity(max_batch);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let wakes = batch.iter().any(|op| op.wakes());
        let commit = run_batch(&conn, &mut batch);
        for op in batch.drain(..) {
            op.answer(commit.clone());
        }
        if commit.is_ok() && wakes {
            wakeups.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> (Writer, Arc<Notify>) {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)").unwrap();
        let wakeups = Arc::new(Notify::new());
        (Writer::spawn(conn, 64, wakeups.clone()).unwrap(), wakeups)
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
}
