//! Appending records with their jobs, reading them back, and retention.

use rusqlite::{Connection, params, params_from_iter, types::Value};

use super::rows::{self, JOB_COLUMNS, RECORD_COLUMNS};
use crate::{
    Appended, Attempt, Job, JobId, NewRecord, Page, PageRequest, QueueDepth, Record, RecordFilter, RecordId,
    RecordKind, Result, Retention, SweepReport, Timestamp, model::headers_to_json,
};

/// A record with its columns already encoded, so the writer thread (the
/// serial part) only executes statements.
pub(crate) struct EncodedRecord {
    id: RecordId,
    record: NewRecord,
    id_text: String,
    headers: String,
    meta: String,
    job_ids: Vec<String>,
}

impl EncodedRecord {
    pub(crate) fn new(record: NewRecord) -> Self {
        let id = RecordId::generate();
        Self {
            id,
            id_text: id.to_string(),
            headers: headers_to_json(&record.headers),
            meta: record.meta.to_string(),
            job_ids: record.jobs.iter().map(|_| JobId::generate().to_string()).collect(),
            record,
        }
    }
}

pub(crate) fn append(conn: &Connection, now: Timestamp, encoded: &EncodedRecord) -> Result<Appended> {
    let record = &encoded.record;
    let id = encoded.id;
    let status = if record.jobs.is_empty() { "stored" } else { "pending" };
    // The insert itself finds a duplicate through the dedupe index; a
    // lookup first would search that index twice for every new record.
    let inserted = conn
        .prepare_cached(
            "INSERT INTO records (id, kind, topic, dedupe_key, created_at, headers, body, meta, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (kind, topic, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING",
        )?
        .execute(params![
            encoded.id_text,
            record.kind.as_str(),
            record.topic,
            record.dedupe_key,
            now.0,
            encoded.headers,
            record.body.as_ref(),
            encoded.meta,
            status,
        ])?;
    if inserted == 0 {
        let existing: String = conn
            .prepare_cached("SELECT id FROM records WHERE kind = ?1 AND topic = ?2 AND dedupe_key = ?3")?
            .query_row(params![record.kind.as_str(), record.topic, record.dedupe_key], |row| row.get(0))?;
        let id = existing.parse().map_err(|e| crate::StoreError::Corrupt(format!("record id: {e}")))?;
        return Ok(Appended { id: RecordId(id), duplicate: true });
    }
    let mut insert_job = conn.prepare_cached(
        "INSERT INTO jobs (id, record_id, kind, topic, target, state, attempts, due_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'ready', 0, ?6, ?7, ?7)",
    )?;
    for (job, job_id) in record.jobs.iter().zip(&encoded.job_ids) {
        insert_job.execute(params![
            job_id,
            encoded.id_text,
            record.kind.as_str(),
            record.topic,
            job.target,
            job.due_at.unwrap_or(now).0,
            now.0,
        ])?;
    }
    Ok(Appended { id, duplicate: false })
}

/// Recomputes a record's status from its jobs, after any job changed.
pub(crate) fn refresh_status(conn: &Connection, record: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE records SET status = CASE
            WHEN NOT EXISTS (SELECT 1 FROM jobs WHERE record_id = ?1) THEN 'stored'
            WHEN EXISTS (SELECT 1 FROM jobs WHERE record_id = ?1 AND state = 'ready') THEN 'pending'
            WHEN EXISTS (SELECT 1 FROM jobs WHERE record_id = ?1 AND state = 'dead') THEN 'dead'
            ELSE 'delivered' END
         WHERE id = ?1",
    )?
    .execute([record])?;
    Ok(())
}

pub(crate) fn record(conn: &Connection, id: RecordId) -> Result<Option<Record>> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM records WHERE id = ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([id.to_string()])?;
    rows.next()?.map(rows::record).transpose()
}

/// A [`RecordFilter::meta`] condition; binds the field name, then the value.
///
/// `json_each` finds the field by comparing names, so no name (quotes, dots,
/// SQL) is ever parsed as a JSON path. A string compares as its value; a
/// number or boolean as its JSON text, which `->` returns verbatim through
/// the element's `fullkey` (which SQLite quotes and escapes itself). On an
/// array `meta`, `key` is an integer index and never equals the bound text.
const META_FIELD_EQUALS: &str = " AND EXISTS (SELECT 1 FROM json_each(records.meta) AS field \
     WHERE field.key = ? AND field.type IN ('text', 'integer', 'real', 'true', 'false') \
     AND CASE field.type WHEN 'text' THEN field.value ELSE records.meta -> field.fullkey END = ?)";

pub(crate) fn records(conn: &Connection, filter: &RecordFilter, page: PageRequest) -> Result<Page<Record>> {
    let limit = page.size();
    if filter.matches_nothing() {
        return Ok(Page { items: Vec::new(), next: None });
    }
    let mut sql = format!("SELECT {RECORD_COLUMNS} FROM records WHERE 1 = 1");
    let mut args: Vec<Value> = Vec::new();
    if let Some(kind) = filter.kind {
        sql.push_str(" AND kind = ?");
        args.push(kind.as_str().to_owned().into());
    }
    if let Some(topic) = &filter.topic {
        sql.push_str(" AND topic = ?");
        args.push(topic.clone().into());
    }
    if let Some(status) = filter.status {
        sql.push_str(" AND status = ?");
        args.push(status.as_str().to_owned().into());
    }
    if let Some(since) = filter.since {
        sql.push_str(" AND created_at >= ?");
        args.push(since.0.into());
    }
    if let Some(until) = filter.until {
        sql.push_str(" AND created_at < ?");
        args.push(until.0.into());
    }
    for (field, value) in &filter.meta {
        sql.push_str(META_FIELD_EQUALS);
        args.push(field.clone().into());
        args.push(value.clone().into());
    }
    if let Some(after) = page.after {
        sql.push_str(" AND id < ?");
        args.push(after.to_string().into());
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    args.push(i64::try_from(limit + 1).unwrap_or(i64::MAX).into());
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let mut items = Vec::with_capacity(limit + 1);
    while let Some(row) = rows.next()? {
        items.push(rows::record(row)?);
    }
    Ok(Page::from_fetched(items, limit, |item| item.id))
}

pub(crate) fn jobs(conn: &Connection, record: RecordId) -> Result<Vec<Job>> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE record_id = ?1 ORDER BY created_at, id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([record.to_string()])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(rows::job(row)?);
    }
    Ok(out)
}

pub(crate) fn attempts(conn: &Connection, job: JobId) -> Result<Vec<Attempt>> {
    let mut stmt = conn.prepare_cached(
        "SELECT job_id, number, started_at, duration_ms, status, error, response_excerpt
         FROM attempts WHERE job_id = ?1 ORDER BY id",
    )?;
    let mut rows = stmt.query([job.to_string()])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(rows::attempt(row)?);
    }
    Ok(out)
}

pub(crate) fn sweep(conn: &Connection, now: Timestamp, retention: &Retention) -> Result<SweepReport> {
    conn.execute_batch("CREATE TEMP TABLE IF NOT EXISTS doomed (id TEXT PRIMARY KEY); DELETE FROM doomed;")?;
    conn.execute(
        "INSERT INTO doomed (id) SELECT id FROM records
         WHERE status IN ('delivered', 'dead', 'stored') AND created_at < ?1",
        [retention.records_before.0],
    )?;
    let attempts = conn.execute(
        "DELETE FROM attempts WHERE job_id IN (SELECT id FROM jobs WHERE record_id IN (SELECT id FROM doomed))",
        [],
    )?;
    let jobs = conn.execute("DELETE FROM jobs WHERE record_id IN (SELECT id FROM doomed)", [])?;
    let records = conn.execute("DELETE FROM records WHERE id IN (SELECT id FROM doomed)", [])?;
    conn.execute_batch("DELETE FROM doomed")?;
    let keys = conn.execute("DELETE FROM idempotency_keys WHERE expires_at <= ?1", [now.0])?;
    let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    let audit_entries = super::audit::sweep(conn, retention.audit_before)?;
    Ok(SweepReport {
        records: n(records),
        audit_entries,
        jobs: n(jobs),
        attempts: n(attempts),
        idempotency_keys: n(keys),
    })
}

pub(crate) fn queue_depths(conn: &Connection) -> Result<Vec<QueueDepth>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, topic,
                SUM(state = 'ready' AND lease_owner IS NULL),
                SUM(state = 'ready' AND lease_owner IS NOT NULL),
                SUM(state = 'dead')
         FROM jobs GROUP BY kind, topic ORDER BY kind, topic",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let count = |i: usize| -> Result<u64> { Ok(u64::try_from(row.get::<_, i64>(i)?).unwrap_or(0)) };
        out.push(QueueDepth {
            kind: RecordKind::parse(&row.get::<_, String>(0)?)?,
            topic: row.get(1)?,
            ready: count(2)?,
            leased: count(3)?,
            dead: count(4)?,
        });
    }
    Ok(out)
}
