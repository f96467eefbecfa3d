//! What can go wrong in the store.

/// A store failure. Messages never include record bodies or connection
/// strings (which may hold passwords).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The SQLite backend failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The PostgreSQL backend failed.
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    /// The transaction holding this operation could not be committed.
    #[error("the store could not commit: {0}")]
    Commit(String),
    /// A schema migration failed.
    #[error("migration: {0}")]
    Migration(String),
    /// The store's writer has stopped (the process is shutting down or it crashed).
    #[error("the store's writer has stopped")]
    WriterGone,
    /// A value that must be unique is already stored (such as an API key's id or hash).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Stored data could not be decoded (corruption or a newer schema).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The storage file or directory could not be used.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// A new API key collides with a stored one, on its id or else its hash.
    /// The hash is not echoed: it is not the key, but it has no business in
    /// messages and logs either.
    pub(crate) fn api_key_conflict(id: &str, id_taken: bool) -> Self {
        StoreError::Conflict(if id_taken {
            format!("an API key with id {id:?} already exists")
        } else {
            "an API key with the same hash already exists".to_owned()
        })
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migration(e.to_string())
    }
}
