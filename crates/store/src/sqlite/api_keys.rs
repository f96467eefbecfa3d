//! Management API keys: created and revoked on the writer thread, listed
//! from the read pool.

use rusqlite::{Connection, params};

use super::rows::{self, API_KEY_COLUMNS};
use crate::{ApiKey, NewApiKey, Result, StoreError, Timestamp};

pub(crate) fn create(conn: &Connection, now: Timestamp, key: &NewApiKey) -> Result<ApiKey> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO api_keys (id, scope, hash, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![key.id, key.scope, key.hash, now.0])?;
    if inserted == 0 {
        let id_taken = conn.prepare_cached("SELECT 1 FROM api_keys WHERE id = ?1")?.exists([&key.id])?;
        return Err(StoreError::api_key_conflict(&key.id, id_taken));
    }
    Ok(key.stored_at(now))
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<ApiKey>> {
    let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(rows::api_key(row)?);
    }
    Ok(out)
}

pub(crate) fn revoke(conn: &Connection, now: Timestamp, id: &str) -> Result<bool> {
    let revoked = conn
        .prepare_cached("UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL")?
        .execute(params![now.0, id])?;
    Ok(revoked == 1)
}
