//! The audit table: appending entries, listing them, retention.

use bytes::Bytes;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row, postgres::PgRow};
use uuid::Uuid;

use super::PostgresStore;
use crate::{
    AuditEntry, AuditFilter, NewAuditEntry, Page, PageRequest, RecordId, Result, Timestamp,
    audit::{first_id_at, stored_status, time_of},
};

impl PostgresStore {
    /// [`crate::Store::append_audit`]: one statement for the lot, the
    /// columns sent as arrays.
    pub(super) async fn append_audit_entries(&self, entries: Vec<NewAuditEntry>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let n = entries.len();
        let (mut ids, mut kinds, mut topics, mut statuses, mut callers, mut details, mut bodies) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for entry in entries {
            ids.push(self.audit_ids.next(now).0);
            kinds.push(entry.kind);
            topics.push(entry.topic);
            statuses.push(entry.status.map(i32::from));
            callers.push(entry.caller);
            details.push(entry.detail);
            bodies.push(entry.body.map(|b| b.to_vec()));
        }
        sqlx::query(
            "INSERT INTO audit (id, kind, topic, status, caller, detail, body) \
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::int4[], $5::text[], $6::text[], $7::bytea[])",
        )
        .bind(ids)
        .bind(kinds)
        .bind(topics)
        .bind(statuses)
        .bind(callers)
        .bind(details)
        .bind(bodies)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// [`crate::Store::audit`].
    pub(super) async fn list_audit(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>> {
        let limit = page.size();
        if filter.matches_nothing() {
            return Ok(Page { items: Vec::new(), next: None });
        }
        let mut query = QueryBuilder::<Postgres>::new(
            "SELECT id, kind, topic, status, caller, detail, body FROM audit WHERE TRUE",
        );
        if let Some(kind) = &filter.kind {
            query.push(" AND kind = ").push_bind(kind.as_str());
        }
        if let Some(topic) = &filter.topic {
            query.push(" AND topic = ").push_bind(topic.as_str());
        }
        if let Some(status) = filter.status {
            query.push(" AND status = ").push_bind(i32::from(status));
        }
        if let Some(caller) = &filter.caller {
            query.push(" AND caller = ").push_bind(caller.as_str());
        }
        if let Some(since) = filter.since {
            query.push(" AND id >= ").push_bind(first_id_at(since).0);
        }
        if let Some(until) = filter.until {
            query.push(" AND id < ").push_bind(first_id_at(until).0);
        }
        if let Some(after) = page.after {
            query.push(" AND id < ").push_bind(after.0);
        }
        query.push(" ORDER BY id DESC LIMIT ").push_bind(i64::try_from(limit + 1).unwrap_or(i64::MAX));
        let rows = query.build().fetch_all(&self.pool).await?;
        let items = rows.iter().map(entry).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_fetched(items, limit, |item| item.id))
    }
}

/// Deletes the entries appended before `before`; returns how many.
pub(super) async fn sweep(conn: &mut PgConnection, before: Timestamp) -> Result<u64> {
    let done =
        sqlx::query("DELETE FROM audit WHERE id < $1").bind(first_id_at(before).0).execute(conn).await?;
    Ok(done.rows_affected())
}

fn entry(row: &PgRow) -> Result<AuditEntry> {
    let id = RecordId(row.try_get::<Uuid, _>(0)?);
    let status: Option<i32> = row.try_get(3)?;
    Ok(AuditEntry {
        id,
        at: time_of(id),
        kind: row.try_get(1)?,
        topic: row.try_get(2)?,
        status: stored_status(status.map(i64::from))?,
        caller: row.try_get(4)?,
        detail: row.try_get(5)?,
        body: row.try_get::<Option<Vec<u8>>, _>(6)?.map(Bytes::from),
    })
}
