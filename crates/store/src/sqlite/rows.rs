//! Mapping SQLite rows to model values.

use bytes::Bytes;
use rusqlite::Row;
use uuid::Uuid;

use crate::{
    ApiKey, Attempt, AttemptReport, Job, JobId, JobState, Record, RecordId, RecordKind, RecordStatus, Result,
    StoreError, Timestamp, model::headers_from_json,
};

/// Columns of `records`, in the order [`record`] reads them.
pub(crate) const RECORD_COLUMNS: &str =
    "id, kind, topic, dedupe_key, created_at, headers, body, meta, status";

/// Columns of `jobs`, in the order [`job`] reads them.
pub(crate) const JOB_COLUMNS: &str =
    "id, record_id, target, state, lease_owner, attempts, due_at, created_at, last_error";

/// Columns of `api_keys`, in the order [`api_key`] reads them.
pub(crate) const API_KEY_COLUMNS: &str = "id, scope, hash, created_at, revoked_at";

fn uuid(text: &str) -> Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| StoreError::Corrupt(format!("id {text:?}: {e}")))
}

pub(crate) fn record(row: &Row<'_>) -> Result<Record> {
    let meta: String = row.get(7)?;
    Ok(Record {
        id: RecordId(uuid(&row.get::<_, String>(0)?)?),
        kind: RecordKind::parse(&row.get::<_, String>(1)?)?,
        topic: row.get(2)?,
        dedupe_key: row.get(3)?,
        created_at: Timestamp(row.get(4)?),
        headers: headers_from_json(&row.get::<_, String>(5)?)?,
        body: Bytes::from(row.get::<_, Vec<u8>>(6)?),
        meta: serde_json::from_str(&meta).map_err(|e| StoreError::Corrupt(format!("meta: {e}")))?,
        status: RecordStatus::parse(&row.get::<_, String>(8)?)?,
    })
}

pub(crate) fn job(row: &Row<'_>) -> Result<Job> {
    let owner: Option<String> = row.get(4)?;
    Ok(Job {
        id: JobId(uuid(&row.get::<_, String>(0)?)?),
        record_id: RecordId(uuid(&row.get::<_, String>(1)?)?),
        target: row.get(2)?,
        state: JobState::parse(&row.get::<_, String>(3)?, owner.is_some())?,
        attempts: u32::try_from(row.get::<_, i64>(5)?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        due_at: Timestamp(row.get(6)?),
        created_at: Timestamp(row.get(7)?),
        last_error: row.get(8)?,
    })
}

pub(crate) fn attempt(row: &Row<'_>) -> Result<Attempt> {
    let corrupt = |e: std::num::TryFromIntError| StoreError::Corrupt(e.to_string());
    Ok(Attempt {
        job: JobId(uuid(&row.get::<_, String>(0)?)?),
        number: u32::try_from(row.get::<_, i64>(1)?).map_err(corrupt)?,
        report: AttemptReport {
            started_at: Timestamp(row.get(2)?),
            duration_ms: u64::try_from(row.get::<_, i64>(3)?).map_err(corrupt)?,
            status: row.get::<_, Option<i64>>(4)?.map(u16::try_from).transpose().map_err(corrupt)?,
            error: row.get(5)?,
            response_excerpt: row.get(6)?,
        },
    })
}

pub(crate) fn api_key(row: &Row<'_>) -> Result<ApiKey> {
    Ok(ApiKey {
        id: row.get(0)?,
        scope: row.get(1)?,
        hash: row.get(2)?,
        created_at: Timestamp(row.get(3)?),
        revoked_at: row.get::<_, Option<i64>>(4)?.map(Timestamp),
    })
}

/// Milliseconds as stored (`i64`), saturating.
pub(crate) fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
