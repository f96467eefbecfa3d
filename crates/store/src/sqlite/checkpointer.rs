//! WAL checkpoints off the writer thread.
//!
//! By default SQLite checkpoints inside the commit that crosses 1000 WAL
//! pages, on the writer thread, where it stalls every queued operation. The
//! writer instead runs with `wal_autocheckpoint=0`, and this thread copies
//! WAL frames into the database file concurrently (`PASSIVE`), forcing a
//! `RESTART` only when the WAL grows past a bound, so it cannot grow forever.

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

use crate::Result;

/// How often the WAL is checkpointed.
const EVERY: Duration = Duration::from_millis(250);
/// WAL frames (pages) past which a blocking `RESTART` checkpoint is forced: 64 MiB of 4 KiB pages.
const MAX_WAL_FRAMES: i64 = 16_384;

/// Stops the checkpoint thread when the last store handle is dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    stop: Arc<AtomicBool>,
}

impl Checkpointer {
    pub(crate) fn spawn(path: PathBuf) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let conn = Connection::open(&path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        thread::Builder::new().name("junction-sqlite-checkpoint".into()).spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                thread::sleep(EVERY);
                if let Err(error) = checkpoint(&conn) {
                    tracing::warn!(%error, "A WAL checkpoint failed; will try again.");
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

fn checkpoint(conn: &Connection) -> rusqlite::Result<()> {
    let (_, wal_frames, _) = checkpoint_mode(conn, "PASSIVE")?;
    if wal_frames > MAX_WAL_FRAMES {
        checkpoint_mode(conn, "RESTART")?;
    }
    Ok(())
}

/// Runs a checkpoint; returns (busy, frames in the WAL, frames checkpointed).
fn checkpoint_mode(conn: &Connection, mode: &str) -> rusqlite::Result<(i64, i64, i64)> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
    })
}
