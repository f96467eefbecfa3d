//! Idempotency keys: key → request fingerprint → stored answer, with expiry.

use std::time::Duration;

use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, params};

use crate::{
    IdempotencyBegin, Result, StoredResponse, Timestamp,
    model::{headers_from_json, headers_to_json},
};

pub(crate) fn begin(
    conn: &Connection,
    now: Timestamp,
    scope: &str,
    key: &str,
    fingerprint: &str,
    ttl: Duration,
) -> Result<IdempotencyBegin> {
    let stale = now.0 - i64::try_from(crate::IDEMPOTENCY_STARTED_TIMEOUT.as_millis()).unwrap_or(i64::MAX);
    conn.prepare_cached(
        "DELETE FROM idempotency_keys WHERE scope = ?1 AND key = ?2
         AND (expires_at <= ?3 OR (state = 'started' AND created_at <= ?4))",
    )?
    .execute(params![scope, key, now.0, stale])?;
    type Row = (String, String, Option<u16>, Option<String>, Option<Vec<u8>>);
    let existing: Option<Row> = conn
        .prepare_cached(
            "SELECT fingerprint, state, status, headers, body FROM idempotency_keys WHERE scope = ?1 AND key = ?2",
        )?
        .query_row(params![scope, key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .optional()?;
    let Some((stored_fingerprint, state, status, headers, body)) = existing else {
        conn.prepare_cached(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, state, created_at, expires_at)
             VALUES (?1, ?2, ?3, 'started', ?4, ?5)",
        )?
        .execute(params![scope, key, fingerprint, now.0, now.plus(ttl).0])?;
        return Ok(IdempotencyBegin::Started);
    };
    // A key in flight is busy whatever the request; only a finished one is compared.
    if state != "completed" {
        return Ok(IdempotencyBegin::InProgress);
    }
    if stored_fingerprint != fingerprint {
        return Ok(IdempotencyBegin::Mismatch);
    }
    Ok(IdempotencyBegin::Completed(StoredResponse {
        status: status.unwrap_or(200),
        headers: headers.as_deref().map(headers_from_json).transpose()?.unwrap_or_default(),
        body: Bytes::from(body.unwrap_or_default()),
    }))
}

pub(crate) fn complete(conn: &Connection, scope: &str, key: &str, response: &StoredResponse) -> Result<()> {
    conn.prepare_cached(
        "UPDATE idempotency_keys SET state = 'completed', status = ?3, headers = ?4, body = ?5
         WHERE scope = ?1 AND key = ?2",
    )?
    .execute(params![
        scope,
        key,
        response.status,
        headers_to_json(&response.headers),
        response.body.as_ref()
    ])?;
    Ok(())
}

pub(crate) fn abandon(conn: &Connection, scope: &str, key: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM idempotency_keys WHERE scope = ?1 AND key = ?2 AND state = 'started'")?
        .execute(params![scope, key])?;
    Ok(())
}
