//! Both backends' migrations stay in step, and a database from an older
//! Junction is brought up to date with its data kept.

use std::{path::Path, sync::Arc};

use bytes::Bytes;
use junction_store::{NewApiKey, NewRecord, RecordKind, Store, postgres::PostgresStore, sqlite::SqliteStore};

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

fn audit_entry() -> NewRecord {
    NewRecord {
        kind: RecordKind::Audit,
        topic: "stripe".into(),
        dedupe_key: None,
        headers: vec![],
        body: Bytes::new(),
        meta: serde_json::json!({ "status": 200 }),
        jobs: vec![],
    }
}

/// Appends a record, then checks it survived an upgrade and API keys work.
async fn check_upgraded(store: &dyn Store, record: junction_store::RecordId) {
    assert!(store.record(record).await.unwrap().is_some(), "data kept across the upgrade");
    let key = NewApiKey { id: "k1".into(), scope: "admin".into(), hash: "h1".into() };
    store.api_key_create(&key).await.unwrap();
    assert_eq!(store.api_keys().await.unwrap().len(), 1);
}

#[tokio::test]
async fn sqlite_upgrades_a_version_1_database() {
    let scratch = temp_path("upgrade");
    let path = scratch.path().join("junction.db");
    let clock = Arc::new(manual_clock());
    let record = SqliteStore::open(&path, clock.clone()).unwrap().append(audit_entry()).await.unwrap().id;
    // Back to the schema of version 1, as an older Junction left it.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("DROP TABLE api_keys; PRAGMA user_version = 1;").unwrap();
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
    let record = store.append(audit_entry()).await.unwrap().id;
    drop(store);
    // Back to the schema of version 1, as an older Junction left it.
    let pool = sqlx::PgPool::connect(&database_url()).await.unwrap();
    let downgrade = format!(
        "DROP TABLE \"{schema}\".api_keys; DELETE FROM \"{schema}\"._sqlx_migrations WHERE version >= 2"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(downgrade)).execute(&pool).await.unwrap();
    pool.close().await;

    let store = PostgresStore::connect_in_schema(&database_url(), &schema, clock).await.unwrap();
    check_upgraded(&store, record).await;
}
