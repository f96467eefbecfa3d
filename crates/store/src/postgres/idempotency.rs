//! Idempotency keys: the first request with a key handles it, concurrent ones
//! are told it is in progress, later ones get the stored answer replayed.

use std::time::Duration;

use bytes::Bytes;
use sqlx::{PgConnection, Row};

use super::{PostgresStore, rows};
use crate::{
    IdempotencyBegin, Result, StoreError, StoredResponse,
    model::{headers_from_json, headers_to_json},
};

/// How often a begin retries when the conflicting key vanished (abandoned or
/// expired) between its insert and its lookup.
const BEGIN_TRIES: usize = 3;

impl PostgresStore {
    /// [`crate::Store::idempotency_begin`].
    pub(super) async fn begin_key(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        ttl: Duration,
    ) -> Result<IdempotencyBegin> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 \
             AND (expires_at <= $3 OR (state = 'started' AND created_at <= $4))",
        )
        .bind(scope)
        .bind(key)
        .bind(now.millis())
        .bind(
            now.millis() - i64::try_from(crate::IDEMPOTENCY_STARTED_TIMEOUT.as_millis()).unwrap_or(i64::MAX),
        )
        .execute(&mut *tx)
        .await?;
        for _ in 0..BEGIN_TRIES {
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (scope, key, fingerprint, state, created_at, expires_at) \
                 VALUES ($1, $2, $3, 'started', $4, $5) ON CONFLICT (scope, key) DO NOTHING",
            )
            .bind(scope)
            .bind(key)
            .bind(fingerprint)
            .bind(now.millis())
            .bind(now.plus(ttl).millis())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                tx.commit().await?;
                return Ok(IdempotencyBegin::Started);
            }
            if let Some(found) = existing(&mut tx, scope, key, fingerprint).await? {
                tx.commit().await?;
                return Ok(found);
            }
        }
        // Someone keeps starting and dropping this key: report it busy.
        tx.commit().await?;
        Ok(IdempotencyBegin::InProgress)
    }

    /// [`crate::Store::idempotency_complete`].
    pub(super) async fn complete_key(&self, scope: &str, key: &str, response: &StoredResponse) -> Result<()> {
        sqlx::query(
            "UPDATE idempotency_keys SET state = 'completed', status = $3, headers = $4, body = $5 \
             WHERE scope = $1 AND key = $2",
        )
        .bind(scope)
        .bind(key)
        .bind(i32::from(response.status))
        .bind(headers_to_json(&response.headers))
        .bind(response.body.as_ref())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// [`crate::Store::idempotency_abandon`].
    pub(super) async fn abandon_key(&self, scope: &str, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND state = 'started'")
            .bind(scope)
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// What an existing key says to a new request with `fingerprint`; `None` if
/// the key is gone.
async fn existing(
    conn: &mut PgConnection,
    scope: &str,
    key: &str,
    fingerprint: &str,
) -> Result<Option<IdempotencyBegin>> {
    let Some(row) = sqlx::query(
        "SELECT fingerprint, state, status, headers, body FROM idempotency_keys \
         WHERE scope = $1 AND key = $2 FOR UPDATE",
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(conn)
    .await?
    else {
        return Ok(None);
    };
    // A key in flight is busy whatever the request; only a finished one is compared.
    let state: &str = row.try_get("state")?;
    if state != "started" && row.try_get::<&str, _>("fingerprint")? != fingerprint {
        return Ok(Some(IdempotencyBegin::Mismatch));
    }
    Ok(Some(match state {
        "started" => IdempotencyBegin::InProgress,
        "completed" => {
            let status: Option<i32> = row.try_get("status")?;
            let status = status
                .ok_or_else(|| StoreError::Corrupt("completed idempotency key without status".into()))?;
            let headers: Option<&str> = row.try_get("headers")?;
            let body: Option<Vec<u8>> = row.try_get("body")?;
            IdempotencyBegin::Completed(StoredResponse {
                status: rows::to_u16(status, "idempotency status")?,
                headers: headers.map(headers_from_json).transpose()?.unwrap_or_default(),
                body: Bytes::from(body.unwrap_or_default()),
            })
        }
        other => return Err(StoreError::Corrupt(format!("unknown idempotency key state {other:?}"))),
    }))
}
