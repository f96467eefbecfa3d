//! WAL checkpoints off the writer thread.
//!
//! By default SQLite checkpoints inside the commit that crosses 1000 WAL
//! pages, on the writer thread, where it stalls every queued operation. The
//! writer instead runs with `wal_autocheckpoint=0`, and this thread copies
//! WAL frames into the database file concurrently (`PASSIVE`).
//!
//! Copying is not enough to keep the WAL bounded: SQLite starts writing at
//! the head of the log again only when a write transaction begins after
//! every frame was copied, which never happens while batches arrive faster
//! than a checkpoint takes. When the WAL has grown past a bound, this thread
//! asks the writer ([`WalRestart`]) to run a `RESTART` checkpoint itself
//! between two batches, waiting at most [`READERS_WAIT`] for readers still
//! on old frames. A `RESTART` from this thread held the write lock while it
//! waited for them (up to the 10 s busy timeout), so one slow read stalled
//! every write. The restart itself still pauses the writer: 11–18 ms under
//! load, mostly the fsync of the database file.

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::Duration,
};

use rusqlite::Connection;

use super::BUSY_TIMEOUT;
use crate::Result;

/// How often the WAL is checkpointed.
const EVERY: Duration = Duration::from_millis(250);
/// How long the writer waits for readers before a WAL restart gives up for now.
const READERS_WAIT: Duration = Duration::from_millis(20);
/// WAL frames (pages) past which the writer restarts the WAL: 64 MiB of 4 KiB pages.
const MAX_WAL_FRAMES: i64 = 16_384;

/// Stops the checkpoint thread when the last store handle is dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    stop: Arc<AtomicBool>,
}

/// The checkpoint thread's request that the writer restart the WAL.
#[derive(Debug, Clone, Default)]
pub(crate) struct WalRestart(Arc<AtomicBool>);

impl WalRestart {
    fn request(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// On the writer thread, between batches: restarts the WAL if asked to.
    ///
    /// A restart waits for readers still reading old frames; the writer
    /// waits for them only briefly and otherwise tries again at the next
    /// request (the frames are copied either way).
    pub(crate) fn run_if_requested(&self, writer: &Connection) {
        if !self.0.swap(false, Ordering::Relaxed) {
            return;
        }
        let restarted = writer.busy_timeout(READERS_WAIT).and_then(|()| checkpoint_mode(writer, "RESTART"));
        // Back to the usual wait for every other statement, whatever happened.
        let restored = writer.busy_timeout(BUSY_TIMEOUT);
        if let Err(error) = restarted.map(drop).and(restored) {
            tracing::debug!(%error, "The WAL could not restart yet; will try again.");
        }
    }
}

impl Checkpointer {
    pub(crate) fn spawn(path: PathBuf, restart: WalRestart) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let conn = Connection::open(&path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        thread::Builder::new().name("sqlite-checkpt".into()).spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                thread::sleep(EVERY);
                match checkpoint_mode(&conn, "PASSIVE") {
                    Ok((_, wal_frames, _)) if wal_frames > MAX_WAL_FRAMES => restart.request(),
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "A WAL checkpoint failed; will try again."),
                }
            }
            // A last full checkpoint leaves a small WAL behind for the next start.
            checkpoint_mode(&conn, "TRUNCATE").ok();
        })?;
        Ok(Self { stop })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Runs a checkpoint; returns (busy, frames in the WAL, frames checkpointed).
fn checkpoint_mode(conn: &Connection, mode: &str) -> rusqlite::Result<(i64, i64, i64)> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
    })
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::conformance::Scratch;

    /// A WAL database in `scratch` with a table and 50 committed rows.
    fn wal_db(scratch: &Scratch) -> Connection {
        let conn = Connection::open(scratch.path().join("t.db")).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.busy_timeout(BUSY_TIMEOUT).unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY, pad BLOB)").unwrap();
        write_rows(&conn, 50);
        conn
    }

    fn write_rows(conn: &Connection, n: usize) {
        for _ in 0..n {
            conn.execute("INSERT INTO t (pad) VALUES (zeroblob(3000))", []).unwrap();
        }
    }

    /// The WAL file's size: it never shrinks, so a write that leaves it
    /// unchanged was written at the head of the log (after a restart).
    fn wal_size(scratch: &Scratch) -> u64 {
        std::fs::metadata(scratch.path().join("t.db-wal")).unwrap().len()
    }

    /// Whether one more write appends to the log rather than starting it over.
    fn write_appends(scratch: &Scratch, conn: &Connection) -> bool {
        let before = wal_size(scratch);
        write_rows(conn, 1);
        wal_size(scratch) > before
    }

    #[test]
    fn a_requested_restart_starts_the_log_over() {
        let scratch = Scratch::new("wal-restart");
        let writer = wal_db(&scratch);
        let restart = WalRestart::default();
        restart.run_if_requested(&writer);
        assert!(write_appends(&scratch, &writer), "no restart without a request");

        restart.request();
        restart.run_if_requested(&writer);
        assert!(!write_appends(&scratch, &writer), "the next write starts at the head of the log");
        let rows: i64 = writer.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 52, "every row survives the restart");
    }

    #[test]
    fn a_reader_on_old_frames_delays_the_restart_not_the_writer() {
        let scratch = Scratch::new("wal-restart-reader");
        let writer = wal_db(&scratch);
        let reader = Connection::open(scratch.path().join("t.db")).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let _: i64 = reader.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        let restart = WalRestart::default();
        restart.request();
        let started = Instant::now();
        restart.run_if_requested(&writer);
        assert!(started.elapsed() < Duration::from_secs(2), "the writer waited {:?}", started.elapsed());
        assert!(write_appends(&scratch, &writer), "the log cannot restart under the reader");

        reader.execute_batch("COMMIT").unwrap();
        restart.request();
        restart.run_if_requested(&writer);
        assert!(!write_appends(&scratch, &writer), "restarted once the reader left");
        // The writer waits its usual time for a lock again, not the restart's short wait.
        let blocker = Connection::open(scratch.path().join("t.db")).unwrap();
        blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
        let released = thread::spawn(move || {
            thread::sleep(Duration::from_millis(300));
            blocker.execute_batch("COMMIT").unwrap();
        });
        write_rows(&writer, 1);
        released.join().unwrap();
    }
}
