//! The delivery queue: claiming jobs under leases, and what a lease holder
//! may do with them. A lease is valid while its job is still `ready`, held
//! by its owner, at its attempt number (the fencing token); otherwise every
//! operation changes nothing and answers `false`.

use std::time::Duration;

use sqlx::{Row, postgres::PgRow};
use uuid::Uuid;

use super::{
    PostgresStore,
    records::{notify, recompute_status},
    rows::{self, job_columns},
};
use crate::{AttemptReport, Claimed, Lease, RecordId, Result, StoreError, Timestamp};

/// How a lease holder finishes a job.
#[derive(Debug, Clone, Copy)]
pub(super) enum Outcome {
    /// Delivered.
    Delivered,
    /// Failed; due again at this time.
    Retry(Timestamp),
    /// Failed for good.
    Dead,
}

/// The WHERE clause that checks a lease ($1 job, $2 owner, $3 attempt).
macro_rules! lease_valid {
    () => {
        " WHERE id = $1 AND state = 'ready' AND lease_owner = $2 AND attempts = $3"
    };
}

/// A lease's attempt number as stored; `None` if no row can hold it.
fn attempt_number(lease: &Lease) -> Option<i32> {
    i32::try_from(lease.attempt).ok()
}

impl PostgresStore {
    /// [`crate::Store::claim`].
    pub(super) async fn claim_jobs(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Claimed>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let now = self.now();
        let expires_at = now.plus(lease);
        // A token per claim: a lease from before a redrive never matches a new claim.
        let owner = &crate::model::claim_token(owner);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let claimed = sqlx::query(concat!(
            "WITH picked AS ( \
                 SELECT id AS picked_id, due_at AS was_due FROM jobs \
                 WHERE state = 'ready' AND due_at <= $1 \
                 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
             UPDATE jobs SET lease_owner = $3, due_at = $4, attempts = jobs.attempts + 1, updated_at = $1 \
             FROM picked WHERE jobs.id = picked.picked_id \
             RETURNING picked.was_due, ",
            job_columns!()
        ))
        .bind(now.millis())
        .bind(limit)
        .bind(owner)
        .bind(expires_at.millis())
        .fetch_all(&self.pool)
        .await?;
        let mut jobs = claimed
            .iter()
            .map(|row: &PgRow| Ok((row.try_get::<i64, _>("was_due")?, rows::job(row)?)))
            .collect::<Result<Vec<_>>>()?;
        jobs.sort_by_key(|(was_due, job)| (*was_due, job.id));
        let record_ids: Vec<Uuid> = jobs.iter().map(|(_, job)| job.record_id.0).collect();
        let records = self.load_records(&record_ids).await?;
        jobs.into_iter()
            .map(|(_, job)| {
                // A record goes only with its jobs, once none is ready, so a
                // claimed job's record is there.
                let record = records
                    .get(&job.record_id.0)
                    .cloned()
                    .ok_or_else(|| StoreError::Corrupt(format!("job {} has no record", job.id)))?;
                Ok(Claimed {
                    lease: Lease { job: job.id, owner: owner.to_owned(), attempt: job.attempts, expires_at },
                    job,
                    record,
                })
            })
            .collect()
    }

    /// [`crate::Store::extend`].
    pub(super) async fn extend_lease(&self, lease: &Lease, lease_for: Duration) -> Result<bool> {
        let Some(attempt) = attempt_number(lease) else { return Ok(false) };
        let now = self.now();
        let done = sqlx::query(concat!("UPDATE jobs SET due_at = $4, updated_at = $5", lease_valid!()))
            .bind(lease.job.0)
            .bind(&lease.owner)
            .bind(attempt)
            .bind(now.plus(lease_for).millis())
            .bind(now.millis())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// [`crate::Store::complete`], [`crate::Store::retry`] and
    /// [`crate::Store::dead_letter`]: ends the lease, logs the attempt and
    /// updates the record's status, in one transaction.
    pub(super) async fn finish(
        &self,
        lease: &Lease,
        report: &AttemptReport,
        outcome: Outcome,
    ) -> Result<bool> {
        let Some(attempt) = attempt_number(lease) else { return Ok(false) };
        let now = self.now().millis();
        let mut tx = self.pool.begin().await?;
        let update = match outcome {
            Outcome::Delivered => sqlx::query(concat!(
                "UPDATE jobs SET state = 'delivered', lease_owner = NULL, last_error = NULL, updated_at = $4",
                lease_valid!(),
                " RETURNING record_id"
            ))
            .bind(lease.job.0)
            .bind(&lease.owner)
            .bind(attempt)
            .bind(now),
            Outcome::Retry(at) => sqlx::query(concat!(
                "UPDATE jobs SET lease_owner = NULL, due_at = $5, last_error = $6, updated_at = $4",
                lease_valid!(),
                " RETURNING record_id"
            ))
            .bind(lease.job.0)
            .bind(&lease.owner)
            .bind(attempt)
            .bind(now)
            .bind(at.millis())
            .bind(&report.error),
            Outcome::Dead => sqlx::query(concat!(
                "UPDATE jobs SET state = 'dead', lease_owner = NULL, last_error = $5, updated_at = $4",
                lease_valid!(),
                " RETURNING record_id"
            ))
            .bind(lease.job.0)
            .bind(&lease.owner)
            .bind(attempt)
            .bind(now)
            .bind(&report.error),
        };
        let Some(row) = update.fetch_optional(&mut *tx).await? else {
            tx.rollback().await?;
            return Ok(false);
        };
        let record: Uuid = row.try_get("record_id")?;
        sqlx::query(
            "INSERT INTO attempts (job_id, number, started_at, duration_ms, status, error, response_excerpt) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(lease.job.0)
        .bind(attempt)
        .bind(report.started_at.millis())
        .bind(i64::try_from(report.duration_ms).unwrap_or(i64::MAX))
        .bind(report.status.map(i32::from))
        .bind(&report.error)
        .bind(&report.response_excerpt)
        .execute(&mut *tx)
        .await?;
        recompute_status(&mut tx, record).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// [`crate::Store::release`].
    pub(super) async fn release_lease(&self, lease: &Lease) -> Result<bool> {
        let Some(attempt) = attempt_number(lease) else { return Ok(false) };
        let now = self.now().millis();
        let done = sqlx::query(concat!(
            "UPDATE jobs SET lease_owner = NULL, due_at = $4, attempts = attempts - 1, updated_at = $4",
            lease_valid!()
        ))
        .bind(lease.job.0)
        .bind(&lease.owner)
        .bind(attempt)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// [`crate::Store::redrive`].
    pub(super) async fn redrive_record(&self, record: RecordId) -> Result<usize> {
        let now = self.now().millis();
        // Jobs first, then the record (in recompute_status): the order in
        // which every transaction here locks them.
        let mut tx = self.pool.begin().await?;
        let reset = sqlx::query(
            "UPDATE jobs SET state = 'ready', lease_owner = NULL, due_at = $2, attempts = 0, last_error = NULL, \
                             updated_at = $2 \
             WHERE record_id = $1",
        )
        .bind(record.0)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        recompute_status(&mut tx, record.0).await?;
        if reset > 0 {
            notify(&mut tx).await?;
        }
        tx.commit().await?;
        if reset > 0 {
            self.wake_local();
        }
        Ok(usize::try_from(reset).unwrap_or(usize::MAX))
    }
}
