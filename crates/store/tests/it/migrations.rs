//! Both backends' migrations stay in step, and a database from an older
//! Junction is brought up to date with its data kept.

use std::{path::Path, sync::Arc};

use bytes::Bytes;
use junction_store::{
    AuditFilter, NewApiKey, NewRecord, PageRequest, RecordKind, Store, postgres::PostgresStore,
    sqlite::SqliteStore,
};

use crate::backends::{database_url, fresh_schema, manual_clock, temp_path};

fn numbers(dir: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dir);
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().split('_').next().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn sqlite_and_postgres_have_the_same_migrations() {
    assert_eq!(numbers("sqlite"), numbers("postgres"));
    assert!(!numbers("sqlite").is_empty());
}

fn event() -> NewRecord {
    NewRecord {
        kind: RecordKind::Event,
        topic: "stripe".into(),
        dedupe_key: None,
        headers: vec![],
        body: Bytes::new(),
        meta: serde_json::json!({ "source": "stripe" }),
        jobs: vec![],
    }
}

/// An audit entry as Junction stored it before schema version 3: a record
/// of kind `audit` with its fields in `meta`.
const LEGACY_AUDIT_ID: &str = "019b7a60-0000-7000-8000-000000000001";
const LEGACY_AUDIT_META: &str = r#"{"kind":"proxy","topic":"stripe","method":"POST","path":"/v1/charges","status":502,"outcome":"server_error","attempts":3,"latency_ms":12.5,"caller":"10.0.0.7","request_id":null,"idempotency_key":"k1"}"#;

/// Appends a record, then checks it survived an upgrade, API keys work,
/// and the legacy audit entry moved to the audit table intact.
async fn check_upgraded(store: &dyn Store, record: junction_store::RecordId) {
    assert!(store.record(record).await.unwrap().is_some(), "data kept across the upgrade");
    let key = NewApiKey { id: "k1".into(), scope: "admin".into(), hash: "h1".into() };
    store.api_key_create(&key).await.unwrap();
    assert_eq!(store.api_keys().await.unwrap().len(), 1);

    let legacy: junction_store::RecordId = LEGACY_AUDIT_ID.parse().unwrap();
    assert!(store.record(legacy).await.unwrap().is_none(), "audit entries left the records table");
    let page = PageRequest { after: None, limit: 10 };
    let audit = store.audit(&AuditFilter::default(), page).await.unwrap().items;
    assert_eq!(audit.len(), 1);
    let entry = &audit[0];
    assert_eq!(entry.id, legacy);
    assert_eq!((&entry.kind[..], &entry.topic[..], entry.status), ("proxy", "stripe", Some(502)));
    assert_eq!(entry.caller, "10.0.0.7");
    assert_eq!(entry.body.as_deref(), Some(&b"{\"amount\":100}"[..]));
    let detail: serde_json::Value = serde_json::from_str(&entry.detail).unwrap();
    assert_eq!(
        detail,
        serde_json::json!({
            "topic": "stripe", "method": "POST", "path": "/v1/charges", "outcome": "server_error",
            "attempts": 3, "latency_ms": 12.5, "request_id": null, "idempotency_key": "k1"
        })
    );
    let by_status = AuditFilter { status: Some(502), caller: Some("10.0.0.7".into()), ..Default::default() };
    assert_eq!(store.audit(&by_status, page).await.unwrap().items.len(), 1);
}

#[tokio::test]
async fn sqlite_upgrades_a_version_1_database() {
    let scratch = temp_path("upgrade");
    let path = scratch.path().join("junction.db");
    let clock = Arc::new(manual_clock());
    let record = SqliteStore::open(&path, clock.clone()).unwrap().append(event()).await.unwrap().id;
    // Back to the schema of version 1, as an older Junction left it, with an audit entry of its time.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("DROP TABLE api_keys; DROP TABLE audit; PRAGMA user_version = 1;").unwrap();
    conn.execute(
        "INSERT INTO records (id, kind, topic, dedupe_key, created_at, headers, body, meta, status)
         VALUES (?1, 'audit', 'stripe', NULL, 1767225600000, '[]', ?2, ?3, 'stored')",
        rusqlite::params![LEGACY_AUDIT_ID, &b"{\"amount\":100}"[..], LEGACY_AUDIT_META],
    )
    .unwrap();
    drop(conn);

    let store = SqliteStore::open(&path, clock).unwrap();
    check_upgraded(&store, record).await;
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: u32 = conn.query_row("PRAGMA user_version", [], |row| row.get(0)).unwrap();
    assert_eq!(usize::try_from(version).unwrap(), numbers("sqlite").len(), "at the latest version");
}

#[tokio::test]
async fn postgres_upgrades_a_version_1_schema() {
    let schema = fresh_schema("upgrade").await;
    let clock = Arc::new(manual_clock());
    let store = PostgresStore::connect_in_schema(&database_url(), &schema, clock.clone()).await.unwrap();
    let record = store.append(event()).await.unwrap().id;
    drop(store);
    // Back to the schema of version 1, as an older Junction left it, with an audit entry of its time.
    let pool = sqlx::PgPool::connect(&database_url()).await.unwrap();
    let downgrade = format!(
        "DROP TABLE \"{schema}\".api_keys; DROP TABLE \"{schema}\".audit; \
         DELETE FROM \"{schema}\"._sqlx_migrations WHERE version >= 2"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(downgrade)).execute(&pool).await.unwrap();
    let legacy = format!(
        "INSERT INTO \"{schema}\".records (id, kind, topic, dedupe_key, created_at, headers, body, meta, status) \
         VALUES ($1, 'audit', 'stripe', NULL, 1767225600000, '[]', $2, $3, 'stored')"
    );
    sqlx::query(sqlx::AssertSqlSafe(legacy))
        .bind(uuid::Uuid::parse_str(LEGACY_AUDIT_ID).unwrap())
        .bind(&b"{\"amount\":100}"[..])
        .bind(LEGACY_AUDIT_META)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let store = PostgresStore::connect_in_schema(&database_url(), &schema, clock).await.unwrap();
    check_upgraded(&store, record).await;
}
