//! Opening each backend for tests: a temp SQLite file, or a PostgreSQL schema
//! of its own (so tests run in parallel in one database).

use std::sync::Arc;

use junction_store::{
    Clock, ManualClock, Store, SystemClock,
    conformance::{START, Scratch},
    postgres::PostgresStore,
    sqlite::SqliteStore,
};

/// `DATABASE_URL`; a missing one fails the test, because CI must run every backend.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").expect(
        "DATABASE_URL must point at a PostgreSQL server (e.g. postgres://postgres@127.0.0.1:5432/test); \
         the PostgreSQL tests do not skip",
    )
}

/// A fresh temp directory for a test, removed when the returned guard drops.
pub fn temp_path(tag: &str) -> Scratch {
    Scratch::new(&format!("store-{tag}"))
}

/// A store of the named backend ("sqlite:PATH" or "postgres:SCHEMA") on the system clock.
pub async fn open(spec: &str) -> Arc<dyn Store> {
    open_with_clock(spec, Arc::new(SystemClock)).await
}

pub async fn open_with_clock(spec: &str, clock: Arc<dyn Clock>) -> Arc<dyn Store> {
    match spec.split_once(':') {
        Some(("sqlite", path)) => Arc::new(SqliteStore::open(path.as_ref(), clock).unwrap()),
        Some(("postgres", schema)) => {
            Arc::new(PostgresStore::connect_in_schema(&database_url(), schema, clock).await.unwrap())
        }
        _ => panic!("unknown backend spec {spec:?}"),
    }
}

/// Drops and recreates nothing: gives a PostgreSQL schema name that starts empty.
pub async fn fresh_schema(name: &str) -> String {
    let schema = format!("junction_test_{name}");
    let pool = sqlx::PgPool::connect(&database_url()).await.expect("PostgreSQL reachable at DATABASE_URL");
    let drop = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
    sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&pool).await.unwrap();
    pool.close().await;
    schema
}

/// A manual clock at the suite's start time.
pub fn manual_clock() -> ManualClock {
    ManualClock::new(START)
}
