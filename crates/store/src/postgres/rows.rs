//! Decoding rows into the model, and the column lists the queries select.
//!
//! Out-of-range numbers and unknown enum values are [`StoreError::Corrupt`],
//! never a panic.

use bytes::Bytes;
use sqlx::{Row, postgres::PgRow};

use crate::{
    ApiKey, Attempt, AttemptReport, Job, JobId, JobState, Record, RecordId, RecordKind, RecordStatus, Result,
    StoreError, Timestamp, model::headers_from_json,
};

/// The columns [`record`] reads, in a form `concat!` accepts.
macro_rules! record_columns {
    () => {
        "id, kind, topic, dedupe_key, created_at, headers, body, meta, status"
    };
}
pub(super) use record_columns;

/// The columns [`job`] reads, in a form `concat!` accepts.
macro_rules! job_columns {
    () => {
        "id, record_id, target, state, attempts, due_at, created_at, last_error, lease_owner"
    };
}
pub(super) use job_columns;

/// The columns [`attempt`] reads, in a form `concat!` accepts.
macro_rules! attempt_columns {
    () => {
        "job_id, number, started_at, duration_ms, status, error, response_excerpt"
    };
}
pub(super) use attempt_columns;

/// The columns [`api_key`] reads, in a form `concat!` accepts.
macro_rules! api_key_columns {
    () => {
        "id, scope, hash, created_at, revoked_at"
    };
}
pub(super) use api_key_columns;

/// A `records` row selected with [`record_columns!`].
pub(super) fn record(row: &PgRow) -> Result<Record> {
    let meta: String = row.try_get("meta")?;
    Ok(Record {
        id: RecordId(row.try_get("id")?),
        kind: RecordKind::parse(row.try_get("kind")?)?,
        topic: row.try_get("topic")?,
        dedupe_key: row.try_get("dedupe_key")?,
        created_at: Timestamp(row.try_get("created_at")?),
        headers: headers_from_json(row.try_get("headers")?)?,
        body: Bytes::from(row.try_get::<Vec<u8>, _>("body")?),
        meta: serde_json::from_str(&meta).map_err(|e| StoreError::Corrupt(format!("record meta: {e}")))?,
        status: RecordStatus::parse(row.try_get("status")?)?,
    })
}

/// A `jobs` row selected with [`job_columns!`].
pub(super) fn job(row: &PgRow) -> Result<Job> {
    let lease_owner: Option<String> = row.try_get("lease_owner")?;
    Ok(Job {
        id: JobId(row.try_get("id")?),
        record_id: RecordId(row.try_get("record_id")?),
        target: row.try_get("target")?,
        state: JobState::parse(row.try_get("state")?, lease_owner.is_some())?,
        attempts: to_u32(row.try_get::<i32, _>("attempts")?, "job attempts")?,
        due_at: Timestamp(row.try_get("due_at")?),
        created_at: Timestamp(row.try_get("created_at")?),
        last_error: row.try_get("last_error")?,
    })
}

/// An `attempts` row selected with [`attempt_columns!`].
pub(super) fn attempt(row: &PgRow) -> Result<Attempt> {
    let duration: i64 = row.try_get("duration_ms")?;
    let status: Option<i32> = row.try_get("status")?;
    Ok(Attempt {
        job: JobId(row.try_get("job_id")?),
        number: to_u32(row.try_get::<i32, _>("number")?, "attempt number")?,
        report: AttemptReport {
            started_at: Timestamp(row.try_get("started_at")?),
            duration_ms: u64::try_from(duration).map_err(|_| corrupt("attempt duration", duration))?,
            status: status.map(|s| to_u16(s, "attempt status")).transpose()?,
            error: row.try_get("error")?,
            response_excerpt: row.try_get("response_excerpt")?,
        },
    })
}

/// An `api_keys` row selected with [`api_key_columns!`].
pub(super) fn api_key(row: &PgRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: row.try_get("id")?,
        scope: row.try_get("scope")?,
        hash: row.try_get("hash")?,
        created_at: Timestamp(row.try_get("created_at")?),
        revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(Timestamp),
    })
}

/// A stored non-negative INTEGER as a `u32`.
pub(super) fn to_u32(value: i32, what: &str) -> Result<u32> {
    u32::try_from(value).map_err(|_| corrupt(what, value))
}

/// A stored INTEGER HTTP status as a `u16`.
pub(super) fn to_u16(value: i32, what: &str) -> Result<u16> {
    u16::try_from(value).map_err(|_| corrupt(what, value))
}

/// A stored count (BIGINT) as a `u64`.
pub(super) fn to_u64(value: i64, what: &str) -> Result<u64> {
    u64::try_from(value).map_err(|_| corrupt(what, value))
}

fn corrupt(what: &str, value: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what} out of range: {value}"))
}
