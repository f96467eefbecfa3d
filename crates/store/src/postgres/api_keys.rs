//! Management API keys, shared by every node on the database: a key created
//! or revoked on one node is seen by the others' next read.

use super::{
    PostgresStore,
    rows::{self, api_key_columns},
};
use crate::{ApiKey, NewApiKey, Result, StoreError};

impl PostgresStore {
    /// [`crate::Store::api_key_create`].
    pub(super) async fn create_api_key(&self, key: &NewApiKey) -> Result<ApiKey> {
        let now = self.now();
        // Waits for a concurrent insert of the same id or hash to settle,
        // then inserts nothing if it committed.
        let inserted = sqlx::query(
            "INSERT INTO api_keys (id, scope, hash, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&key.id)
        .bind(&key.scope)
        .bind(&key.hash)
        .bind(now.millis())
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 0 {
            let id_taken: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM api_keys WHERE id = $1)")
                .bind(&key.id)
                .fetch_one(&self.pool)
                .await?;
            return Err(StoreError::api_key_conflict(&key.id, id_taken));
        }
        Ok(key.stored_at(now))
    }

    /// [`crate::Store::api_keys`].
    pub(super) async fn list_api_keys(&self) -> Result<Vec<ApiKey>> {
        // Ties are ordered by id bytewise ("C"), as SQLite orders them.
        let found = sqlx::query(concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys ORDER BY created_at, id COLLATE \"C\""
        ))
        .fetch_all(&self.pool)
        .await?;
        found.iter().map(rows::api_key).collect()
    }

    /// [`crate::Store::api_key_revoke`].
    pub(super) async fn revoke_api_key(&self, id: &str) -> Result<bool> {
        let revoked = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(self.now().millis())
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(revoked == 1)
    }
}
