//! A small pool of read-only connections, used on the blocking thread pool.
//! With WAL, readers see the last commit and never block the writer.

use std::{path::PathBuf, sync::Mutex};

use rusqlite::Connection;

use super::open_reader;
use crate::{Result, StoreError};

/// Idle connections kept for reuse; more are opened under load and dropped after.
const KEEP_IDLE: usize = 4;

#[derive(Debug)]
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self { path, idle: Mutex::new(Vec::new()) }
    }

    /// Runs `f` on a read connection off the async threads.
    pub(crate) async fn read<R, F>(self: &std::sync::Arc<Self>, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let conn = match this.idle.lock().map_err(|_| StoreError::WriterGone)?.pop() {
                Some(conn) => conn,
                None => open_reader(&this.path)?,
            };
            let result = f(&conn);
            let mut idle = this.idle.lock().map_err(|_| StoreError::WriterGone)?;
            if idle.len() < KEEP_IDLE {
                idle.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))?
    }
}
