//! The work queue: claiming due jobs under a lease, and settling them.

use std::time::Duration;

use rusqlite::{Connection, params};

use super::{
    records::{self, refresh_status},
    rows::{self, JOB_COLUMNS, millis},
};
use crate::{AttemptReport, Claimed, JobState, Lease, RecordId, Result, StoreError, Timestamp};

pub(crate) fn claim(
    conn: &Connection,
    now: Timestamp,
    owner: &str,
    limit: usize,
    lease: Duration,
) -> Result<Vec<Claimed>> {
    let expires_at = now.plus(lease);
    // A token per claim: after a redrive resets the attempt counter, a lease from
    // before can never match a new claim, even by the same worker.
    let owner = &crate::model::claim_token(owner);
    let ids: Vec<String> = {
        let mut due = conn.prepare_cached(
            "SELECT id FROM jobs WHERE state = 'ready' AND due_at <= ?1 ORDER BY due_at LIMIT ?2",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        due.query_map(params![now.0, limit], |row| row.get(0))?.collect::<rusqlite::Result<_>>()?
    };
    let mut take = conn.prepare_cached(
        "UPDATE jobs SET lease_owner = ?2, due_at = ?3, attempts = attempts + 1, updated_at = ?4 WHERE id = ?1",
    )?;
    let read_job = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1");
    let mut read_job = conn.prepare_cached(&read_job)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        take.execute(params![id, owner, expires_at.0, now.0])?;
        let job = read_job.query_row([&id], |row| Ok(rows::job(row)))??;
        let record = records::record(conn, job.record_id)?
            .ok_or_else(|| StoreError::Corrupt(format!("job {id} has no record")))?;
        let lease = Lease { job: job.id, owner: owner.to_owned(), attempt: job.attempts, expires_at };
        debug_assert_eq!(job.state, JobState::Leased);
        out.push(Claimed { lease, job, record });
    }
    Ok(out)
}

/// The record of a job still held under `lease`, or `None` if the lease was lost.
fn held(conn: &Connection, lease: &Lease) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT record_id FROM jobs WHERE id = ?1 AND state = 'ready' AND lease_owner = ?2 AND attempts = ?3",
    )?;
    let mut rows = stmt.query(params![lease.job.to_string(), lease.owner, lease.attempt])?;
    Ok(rows.next()?.map(|row| row.get(0)).transpose()?)
}

fn log_attempt(conn: &Connection, lease: &Lease, report: &AttemptReport) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO attempts (job_id, number, started_at, duration_ms, status, error, response_excerpt)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        lease.job.to_string(),
        lease.attempt,
        report.started_at.0,
        i64::try_from(report.duration_ms).unwrap_or(i64::MAX),
        report.status,
        report.error,
        report.response_excerpt,
    ])?;
    Ok(())
}

pub(crate) fn extend(conn: &Connection, now: Timestamp, lease: &Lease, lease_for: Duration) -> Result<bool> {
    if held(conn, lease)?.is_none() {
        return Ok(false);
    }
    conn.prepare_cached("UPDATE jobs SET due_at = ?2, updated_at = ?3 WHERE id = ?1")?.execute(params![
        lease.job.to_string(),
        now.0 + millis(lease_for),
        now.0
    ])?;
    Ok(true)
}

/// How a held job is settled after an attempt.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Settle {
    Delivered,
    RetryAt(Timestamp),
    Dead,
}

pub(crate) fn settle(
    conn: &Connection,
    now: Timestamp,
    lease: &Lease,
    report: &AttemptReport,
    how: Settle,
) -> Result<bool> {
    let Some(record) = held(conn, lease)? else { return Ok(false) };
    let job = lease.job.to_string();
    match how {
        Settle::Delivered => conn
            .prepare_cached(
                "UPDATE jobs SET state = 'delivered', lease_owner = NULL, last_error = NULL, updated_at = ?2
                 WHERE id = ?1",
            )?
            .execute(params![job, now.0])?,
        Settle::RetryAt(at) => conn
            .prepare_cached(
                "UPDATE jobs SET lease_owner = NULL, due_at = ?2, last_error = ?3, updated_at = ?4 WHERE id = ?1",
            )?
            .execute(params![job, at.0, report.error, now.0])?,
        Settle::Dead => conn
            .prepare_cached(
                "UPDATE jobs SET state = 'dead', lease_owner = NULL, last_error = ?2, updated_at = ?3 WHERE id = ?1",
            )?
            .execute(params![job, report.error, now.0])?,
    };
    log_attempt(conn, lease, report)?;
    refresh_status(conn, &record)?;
    Ok(true)
}

pub(crate) fn release(conn: &Connection, now: Timestamp, lease: &Lease) -> Result<bool> {
    if held(conn, lease)?.is_none() {
        return Ok(false);
    }
    conn.prepare_cached(
        "UPDATE jobs SET lease_owner = NULL, due_at = ?2, attempts = attempts - 1, updated_at = ?2 WHERE id = ?1",
    )?
    .execute(params![lease.job.to_string(), now.0])?;
    Ok(true)
}

pub(crate) fn redrive(conn: &Connection, now: Timestamp, record: RecordId) -> Result<usize> {
    let id = record.to_string();
    let reset = conn
        .prepare_cached(
            "UPDATE jobs SET state = 'ready', lease_owner = NULL, due_at = ?2, attempts = 0, last_error = NULL,
                    updated_at = ?2
             WHERE record_id = ?1",
        )?
        .execute(params![id, now.0])?;
    refresh_status(conn, &id)?;
    Ok(reset)
}
