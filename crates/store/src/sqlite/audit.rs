//! The audit table: appending entries, listing them, retention.

use bytes::Bytes;
use rusqlite::{
    Connection, Row, params_from_iter,
    types::{ToSqlOutput, Value, ValueRef},
};
use uuid::Uuid;

use crate::{
    AuditEntry, AuditFilter, NewAuditEntry, Page, PageRequest, RecordId, Result, StoreError, Timestamp,
    audit::{first_id_at, stored_status, time_of},
};

/// An entry with its id, ready for the writer thread.
pub(crate) struct IdentifiedEntry {
    pub(crate) id: RecordId,
    pub(crate) entry: NewAuditEntry,
}

/// Rows per multi-row `INSERT`: one statement for many rows spares each row
/// a statement's start and end (its statement journal), a third of an
/// insert's cost when the rows are small.
const ROWS_PER_INSERT: usize = 16;

pub(crate) fn append(conn: &Connection, entries: &[IdentifiedEntry]) -> Result<()> {
    const COLUMNS: &str = "INSERT INTO audit (id, kind, topic, status, caller, detail, body) VALUES ";
    const ROW: &str = "(?, ?, ?, ?, ?, ?, ?)";
    let mut chunks = entries.chunks_exact(ROWS_PER_INSERT);
    if chunks.len() > 0 {
        let rows = vec![ROW; ROWS_PER_INSERT].join(", ");
        let mut insert = conn.prepare_cached(&format!("{COLUMNS}{rows}"))?;
        for chunk in chunks.by_ref() {
            insert.execute(params_from_iter(chunk.iter().flat_map(columns)))?;
        }
    }
    let mut insert = conn.prepare_cached(&format!("{COLUMNS}{ROW}"))?;
    for entry in chunks.remainder() {
        insert.execute(params_from_iter(columns(entry)))?;
    }
    Ok(())
}

/// An entry's values, in the order of the insert's columns, borrowed.
fn columns(IdentifiedEntry { id, entry }: &IdentifiedEntry) -> [ToSqlOutput<'_>; 7] {
    fn text(s: &str) -> ToSqlOutput<'_> {
        ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
    }
    [
        ToSqlOutput::Borrowed(ValueRef::Blob(id.0.as_bytes())),
        text(&entry.kind),
        text(&entry.topic),
        ToSqlOutput::Borrowed(entry.status.map_or(ValueRef::Null, |s| ValueRef::Integer(i64::from(s)))),
        text(&entry.caller),
        text(&entry.detail),
        ToSqlOutput::Borrowed(entry.body.as_deref().map_or(ValueRef::Null, ValueRef::Blob)),
    ]
}

pub(crate) fn list(conn: &Connection, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>> {
    let limit = page.size();
    if filter.matches_nothing() {
        return Ok(Page { items: Vec::new(), next: None });
    }
    let mut sql = String::from("SELECT id, kind, topic, status, caller, detail, body FROM audit WHERE 1 = 1");
    let mut args: Vec<Value> = Vec::new();
    let mut condition = |clause: &str, value: Value| {
        sql.push_str(clause);
        args.push(value);
    };
    if let Some(kind) = &filter.kind {
        condition(" AND kind = ?", kind.clone().into());
    }
    if let Some(topic) = &filter.topic {
        condition(" AND topic = ?", topic.clone().into());
    }
    if let Some(status) = filter.status {
        condition(" AND status = ?", i64::from(status).into());
    }
    if let Some(caller) = &filter.caller {
        condition(" AND caller = ?", caller.clone().into());
    }
    if let Some(since) = filter.since {
        condition(" AND id >= ?", id_value(first_id_at(since)));
    }
    if let Some(until) = filter.until {
        condition(" AND id < ?", id_value(first_id_at(until)));
    }
    if let Some(after) = page.after {
        condition(" AND id < ?", id_value(after));
    }
    condition(" ORDER BY id DESC LIMIT ?", i64::try_from(limit + 1).unwrap_or(i64::MAX).into());
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let mut items = Vec::with_capacity(limit + 1);
    while let Some(row) = rows.next()? {
        items.push(entry(row)?);
    }
    Ok(Page::from_fetched(items, limit, |item| item.id))
}

/// Deletes the entries appended before `before`; returns how many.
pub(crate) fn sweep(conn: &Connection, before: Timestamp) -> Result<u64> {
    let deleted = conn.execute("DELETE FROM audit WHERE id < ?1", [id_value(first_id_at(before))])?;
    Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
}

fn id_value(id: RecordId) -> Value {
    Value::Blob(id.0.as_bytes().to_vec())
}

fn entry(row: &Row<'_>) -> Result<AuditEntry> {
    let bytes: Vec<u8> = row.get(0)?;
    let id = Uuid::from_slice(&bytes).map_err(|e| StoreError::Corrupt(format!("audit id: {e}")))?;
    let status: Option<i64> = row.get(3)?;
    Ok(AuditEntry {
        id: RecordId(id),
        at: time_of(RecordId(id)),
        kind: row.get(1)?,
        topic: row.get(2)?,
        status: stored_status(status)?,
        caller: row.get(4)?,
        detail: row.get(5)?,
        body: row.get::<_, Option<Vec<u8>>>(6)?.map(Bytes::from),
    })
}
