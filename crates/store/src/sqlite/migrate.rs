//! Schema migrations for SQLite, embedded in the binary and tracked with
//! `PRAGMA user_version` (one transaction per migration).

use rusqlite::Connection;

use crate::{Result, StoreError};

/// Every migration, in order; the number is the `user_version` it leads to.
pub(crate) const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../../migrations/sqlite/0002_api_keys.sql")),
    (3, include_str!("../../migrations/sqlite/0003_audit.sql")),
];

/// Brings the schema up to date. Refuses a database from a newer Junction.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let latest = MIGRATIONS.last().map_or(0, |(n, _)| *n);
    if current > latest {
        return Err(StoreError::Migration(format!(
            "the database is at schema version {current}, newer than this Junction knows ({latest}); upgrade Junction"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(n, _)| *n > current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql).map_err(|e| StoreError::Migration(format!("migration {version}: {e}")))?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "Applied a storage migration.");
    }
    Ok(())
}
