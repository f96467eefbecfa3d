//! Records: append (with deduplication and jobs), reads, paging, retention
//! and the per-record delivery status.

use std::collections::HashMap;

use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{
    PostgresStore,
    rows::{self, attempt_columns, job_columns, record_columns},
};
use crate::{
    Appended, Attempt, Job, JobId, NewRecord, Page, PageRequest, QueueDepth, Record, RecordFilter, RecordId,
    RecordKind, RecordStatus, Result, Retention, StoreError, SweepReport, model::headers_to_json,
};

/// The WHERE clause picking the records a sweep deletes ($1: created before).
macro_rules! doomed {
    () => {
        " WHERE status IN ('delivered', 'dead', 'stored') AND created_at < $1"
    };
}

/// How often an append retries when its duplicate vanished (swept) between
/// the conflicting insert and the lookup.
const DEDUPE_TRIES: usize = 3;

impl PostgresStore {
    /// [`crate::Store::append_many`]: one transaction for the lot.
    pub(super) async fn append_records(&self, records: Vec<NewRecord>) -> Result<Vec<Appended>> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now().millis();
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::with_capacity(records.len());
        let mut wakes = false;
        for record in &records {
            let appended = insert_record(&mut tx, now, record).await?;
            wakes |= !record.jobs.is_empty() && !appended.duplicate;
            out.push(appended);
        }
        if wakes {
            notify(&mut tx).await?;
        }
        tx.commit().await?;
        if wakes {
            self.wake_local();
        }
        Ok(out)
    }

    /// [`crate::Store::record`].
    pub(super) async fn load_record(&self, id: RecordId) -> Result<Option<Record>> {
        let row = sqlx::query(concat!("SELECT ", record_columns!(), " FROM records WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::record).transpose()
    }

    /// The records with these ids, by id (missing ones left out).
    pub(super) async fn load_records(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Record>> {
        let found = sqlx::query(concat!("SELECT ", record_columns!(), " FROM records WHERE id = ANY($1)"))
            .bind(ids)
            .fetch_all(&self.pool)
            .await?;
        found.iter().map(|row| rows::record(row).map(|r| (r.id.0, r))).collect()
    }

    /// [`crate::Store::records`].
    pub(super) async fn list_records(
        &self,
        filter: &RecordFilter,
        page: PageRequest,
    ) -> Result<Page<Record>> {
        let limit = page.size();
        if filter.matches_nothing() {
            return Ok(Page { items: Vec::new(), next: None });
        }
        let mut query =
            QueryBuilder::<Postgres>::new(concat!("SELECT ", record_columns!(), " FROM records WHERE TRUE"));
        if let Some(kind) = filter.kind {
            query.push(" AND kind = ").push_bind(kind.as_str());
        }
        if let Some(topic) = &filter.topic {
            query.push(" AND topic = ").push_bind(topic.as_str());
        }
        if let Some(status) = filter.status {
            query.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(since) = filter.since {
            query.push(" AND created_at >= ").push_bind(since.millis());
        }
        if let Some(until) = filter.until {
            query.push(" AND created_at < ").push_bind(until.millis());
        }
        for (field, value) in &filter.meta {
            // `->` takes the name as a plain key, never a path. The `json`
            // type (not `jsonb`) keeps a number's text as stored, so
            // `#>> '{}'` gives strings unquoted and numbers and booleans as
            // their JSON text, as on SQLite. On a non-object `->` gives NULL.
            query.push(" AND EXISTS (SELECT 1 FROM (SELECT meta::json -> ").push_bind(field.as_str());
            query.push(" AS v) AS field WHERE json_typeof(field.v) IN ('string', 'number', 'boolean')");
            query.push(" AND field.v #>> '{}' = ").push_bind(value.as_str()).push(")");
        }
        if let Some(after) = page.after {
            query.push(" AND id < ").push_bind(after.0);
        }
        // `limit` is at most 1000 (`PageRequest::size`), so the cast cannot truncate.
        query.push(" ORDER BY id DESC LIMIT ").push_bind(limit as i64 + 1);
        let found = query.build().fetch_all(&self.pool).await?;
        let items = found.iter().map(rows::record).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_fetched(items, limit, |item| item.id))
    }

    /// [`crate::Store::jobs`].
    pub(super) async fn list_jobs(&self, record: RecordId) -> Result<Vec<Job>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs WHERE record_id = $1 ORDER BY created_at, id"
        ))
        .bind(record.0)
        .fetch_all(&self.pool)
        .await?;
        found.iter().map(rows::job).collect()
    }

    /// [`crate::Store::attempts`].
    pub(super) async fn list_attempts(&self, job: JobId) -> Result<Vec<Attempt>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            attempt_columns!(),
            " FROM attempts WHERE job_id = $1 ORDER BY id"
        ))
        .bind(job.0)
        .fetch_all(&self.pool)
        .await?;
        found.iter().map(rows::attempt).collect()
    }

    /// [`crate::Store::sweep`].
    pub(super) async fn sweep_old(&self, retention: &Retention) -> Result<SweepReport> {
        let now = self.now().millis();
        let mut tx = self.pool.begin().await?;
        // Every transaction here locks jobs before their record (a finish or
        // redrive updates jobs, then the record's status); so does this one,
        // then checks again, under the locks, which records are still done.
        let candidates: Vec<Uuid> = sqlx::query_scalar(concat!("SELECT id FROM records", doomed!()))
            .bind(retention.records_before.millis())
            .fetch_all(&mut *tx)
            .await?;
        let mut doomed: Vec<Uuid> = Vec::new();
        if !candidates.is_empty() {
            sqlx::query("SELECT id FROM jobs WHERE record_id = ANY($1) ORDER BY id FOR UPDATE")
                .bind(&candidates)
                .execute(&mut *tx)
                .await?;
            doomed = sqlx::query_scalar(concat!(
                "SELECT id FROM records",
                doomed!(),
                " AND id = ANY($2) FOR UPDATE"
            ))
            .bind(retention.records_before.millis())
            .bind(&candidates)
            .fetch_all(&mut *tx)
            .await?;
        }
        let mut report = SweepReport::default();
        if !doomed.is_empty() {
            report.attempts = sqlx::query(
                "DELETE FROM attempts WHERE job_id IN (SELECT id FROM jobs WHERE record_id = ANY($1))",
            )
            .bind(&doomed)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            report.jobs = sqlx::query("DELETE FROM jobs WHERE record_id = ANY($1)")
                .bind(&doomed)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            report.records = sqlx::query("DELETE FROM records WHERE id = ANY($1)")
                .bind(&doomed)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        report.audit_entries = super::audit::sweep(&mut tx, retention.audit_before).await?;
        report.idempotency_keys = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(report)
    }

    /// [`crate::Store::queue_depths`].
    pub(super) async fn depths(&self) -> Result<Vec<QueueDepth>> {
        let found: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT kind, topic, \
                    count(*) FILTER (WHERE state = 'ready' AND lease_owner IS NULL), \
                    count(*) FILTER (WHERE state = 'ready' AND lease_owner IS NOT NULL), \
                    count(*) FILTER (WHERE state = 'dead') \
             FROM jobs GROUP BY kind, topic ORDER BY kind, topic",
        )
        .fetch_all(&self.pool)
        .await?;
        found
            .into_iter()
            .map(|(kind, topic, ready, leased, dead)| {
                Ok(QueueDepth {
                    kind: RecordKind::parse(&kind)?,
                    topic,
                    ready: rows::to_u64(ready, "ready count")?,
                    leased: rows::to_u64(leased, "leased count")?,
                    dead: rows::to_u64(dead, "dead count")?,
                })
            })
            .collect()
    }
}

/// Sets a record's status from its jobs' states, in the caller's transaction.
pub(super) async fn recompute_status(conn: &mut PgConnection, record: Uuid) -> Result<()> {
    sqlx::query(
        "UPDATE records SET status = CASE \
             WHEN NOT EXISTS (SELECT 1 FROM jobs WHERE record_id = $1) THEN 'stored' \
             WHEN EXISTS (SELECT 1 FROM jobs WHERE record_id = $1 AND state = 'ready') THEN 'pending' \
             WHEN EXISTS (SELECT 1 FROM jobs WHERE record_id = $1 AND state = 'dead') THEN 'dead' \
             ELSE 'delivered' END \
         WHERE id = $1",
    )
    .bind(record)
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts one record and its jobs inside the caller's transaction, or finds
/// the record it duplicates.
async fn insert_record(conn: &mut PgConnection, now: i64, record: &NewRecord) -> Result<Appended> {
    let status = if record.jobs.is_empty() { RecordStatus::Stored } else { RecordStatus::Pending };
    let headers = headers_to_json(&record.headers);
    let meta = record.meta.to_string();
    let mut tries = 0;
    let id = loop {
        let id = RecordId::generate();
        let inserted: Option<Uuid> = sqlx::query_scalar(
            "INSERT INTO records (id, kind, topic, dedupe_key, created_at, headers, body, meta, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (kind, topic, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING RETURNING id",
        )
        .bind(id.0)
        .bind(record.kind.as_str())
        .bind(&record.topic)
        .bind(&record.dedupe_key)
        .bind(now)
        .bind(&headers)
        .bind(record.body.as_ref())
        .bind(&meta)
        .bind(status.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        if inserted.is_some() {
            break id;
        }
        let existing: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM records WHERE kind = $1 AND topic = $2 AND dedupe_key = $3")
                .bind(record.kind.as_str())
                .bind(&record.topic)
                .bind(&record.dedupe_key)
                .fetch_optional(&mut *conn)
                .await?;
        if let Some(existing) = existing {
            return Ok(Appended { id: RecordId(existing), duplicate: true });
        }
        tries += 1;
        if tries >= DEDUPE_TRIES {
            return Err(StoreError::Corrupt("a duplicate record conflicted but could not be found".into()));
        }
    };
    if !record.jobs.is_empty() {
        let ids: Vec<Uuid> = record.jobs.iter().map(|_| JobId::generate().0).collect();
        let targets: Vec<&str> = record.jobs.iter().map(|j| j.target.as_str()).collect();
        let due: Vec<i64> = record.jobs.iter().map(|j| j.due_at.map_or(now, |t| t.millis())).collect();
        sqlx::query(
            "INSERT INTO jobs (id, record_id, kind, topic, target, state, attempts, due_at, lease_owner, \
                               created_at, updated_at, last_error) \
             SELECT j.id, $1, $2, $3, j.target, 'ready', 0, j.due_at, NULL, $4, $4, NULL \
             FROM UNNEST($5::uuid[], $6::text[], $7::bigint[]) WITH ORDINALITY AS j(id, target, due_at, n) \
             ORDER BY j.n",
        )
        .bind(id.0)
        .bind(record.kind.as_str())
        .bind(&record.topic)
        .bind(now)
        .bind(&ids)
        .bind(&targets)
        .bind(&due)
        .execute(&mut *conn)
        .await?;
    }
    Ok(Appended { id, duplicate: false })
}

/// Tells every listening node that work may be due, when the caller's
/// transaction commits.
pub(super) async fn notify(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, '')").bind(super::CHANNEL).execute(conn).await?;
    Ok(())
}
