//! The single writer thread and its group commit.
//!
//! SQLite allows one writer at a time, and with `synchronous=FULL` every
//! commit costs an fsync. So every write goes through one thread that takes
//! all the operations waiting in its queue, runs each inside its own
//! savepoint (one failing operation does not undo the others), commits them
//! together with one fsync, and only then answers each caller. Durability
//! stays per-operation; the fsync is shared.

use std::{sync::Arc, thread};

use rusqlite::Connection;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::{Result, StoreError};

/// How a batch's commit went, shared by every operation in it.
type CommitOutcome = std::result::Result<(), Arc<rusqlite::Error>>;
/// Runs after the commit, to answer the caller.
type Completion = Box<dyn FnOnce(CommitOutcome) + Send>;
/// Runs inside the batch's transaction (`None` when the transaction could
/// not even begin: the operation is skipped and answered with the error).
type Run = Box<dyn FnOnce(Option<&Connection>) -> Completion + Send>;

struct Op {
    run: Run,
    /// Whether this operation may make jobs due (workers are woken after commit).
    wakes: bool,
}

/// Handle on the writer thread. Dropping every handle stops the thread.
#[derive(Debug, Clone)]
pub(crate) struct Writer {
    queue: mpsc::Sender<Op>,
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Op")
    }
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
    /// committed to disk. An error from `f` undoes only `f`'s changes.
    pub(crate) async fn write<R, F>(&self, wakes: bool, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let run: Run = Box::new(move |conn| {
            let result = conn.map(|conn| in_savepoint(conn, f));
            Box::new(move |commit: CommitOutcome| {
                let outcome = match (commit, result) {
                    (Ok(()), Some(result)) => result,
                    (Err(e), _) => Err(StoreError::Commit(e.to_string())),
                    (Ok(()), None) => Err(StoreError::WriterGone),
                };
                // The caller may have gone away (its request was cancelled); the write stands.
                reply.send(outcome).ok();
            })
        });
        self.queue.send(Op { run, wakes }).await.map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}

fn in_savepoint<R>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
    // Cached statements: this runs for every operation, on the one writer thread.
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
        let wakes = batch.iter().any(|op| op.wakes);
        let commit = match conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => {
                let completions: Vec<Completion> = batch.drain(..).map(|op| (op.run)(Some(&conn))).collect();
                let commit = conn.execute_batch("COMMIT").map_err(Arc::new);
                if let Err(e) = &commit {
                    tracing::error!(error = %e, "A store commit failed; its operations were not saved.");
                    conn.execute_batch("ROLLBACK").ok();
                }
                for complete in completions {
                    complete(commit.clone());
                }
                commit
            }
            Err(e) => {
                tracing::error!(error = %e, "Cannot begin a store transaction; failing the batch.");
                let e = Err(Arc::new(e));
                for op in batch.drain(..) {
                    (op.run)(None)(e.clone());
                }
                e
            }
        };
        if commit.is_ok() && wakes {
            wakeups.notify_waiters();
        }
    }
}
